"""Parallel tuning (kt_ext.run.parallel): the oracle server in-process, then chief + workers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import keras_tuner
import pytest
from keras_tuner.src.engine.trial import TrialStatus

from kt_ext.outputs.status import trials_per_worker
from kt_ext.run.parallel import OracleServer
from kt_ext.run.workers import RECYCLED
from kt_ext.tuners import repair_reloaded
from kt_ext.tuners.memory import process_tree
from tests.conftest import ROOT, TUNE, read_csv
from tests.run.procs import listening, needs_proc, processes_with, watch_sockets

METRIC = "loss"


def oracle_for(tmp_path: Path, max_trials: int) -> keras_tuner.Oracle:
    hp = keras_tuner.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective(METRIC, "min"),
        max_trials=max_trials,
        hyperparameters=hp,
        seed=1,
    )
    oracle.verbose = 0
    oracle._set_project_dir(str(tmp_path), "kt")
    return oracle


def client(monkeypatch: pytest.MonkeyPatch, port: int, tuner_id: str, tmp_path: Path):
    from keras_tuner.src.distribute import oracle_client

    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    monkeypatch.setenv("KERASTUNER_TUNER_ID", tuner_id)
    return oracle_client.OracleClient(oracle_for(tmp_path / tuner_id, 1))


def finish(c, trial, value: float) -> None:
    c.update_trial(trial.trial_id, {METRIC: value})
    trial.status = TrialStatus.COMPLETED
    c.end_trial(trial)


def test_a_silent_trial_goes_to_another_worker_and_a_late_result_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    oracle = oracle_for(tmp_path, 3)
    server = OracleServer(oracle, tmp_path / "kt", grace_seconds=1.0)
    port = server.start()
    serving = threading.Thread(target=server.serve)
    serving.start()
    try:
        silent = client(monkeypatch, port, "silent", tmp_path)
        busy = client(monkeypatch, port, "busy", tmp_path)
        lost = silent.create_trial("silent")  # then nothing: a dead or cut-off worker
        ran = []
        while True:
            trial = busy.create_trial("busy")
            if trial.status == TrialStatus.STOPPED:
                break
            if trial.status == TrialStatus.IDLE:  # trial 0 still counts as running
                time.sleep(0.1)
                continue
            ran.append(trial.trial_id)
            finish(busy, trial, 0.5)
        answer = silent.update_trial(lost.trial_id, {METRIC: 0.0})  # it wakes up
        assert answer.status == TrialStatus.STOPPED
        lost.status = TrialStatus.COMPLETED
        silent.end_trial(lost)
    finally:
        serving.join(30)
        server.stop()
    assert not serving.is_alive()
    assert sorted(ran) == ["0", "1", "2"] and ran[-1] == lost.trial_id == "0"
    assert oracle.trials["0"].score == 0.5  # the first result stands
    assert oracle.end_order == ["1", "2", "0"]
    assert trials_per_worker(tmp_path) == {"busy": 3}
    assert assignments(tmp_path) == [
        ("0", "silent"),
        ("1", "busy"),
        ("2", "busy"),
        ("0", "busy"),
    ]


def test_a_failed_trial_keeps_the_reason_its_worker_wrote(tmp_path, monkeypatch):
    oracle = oracle_for(tmp_path, 1)
    server = OracleServer(oracle, tmp_path / "kt")
    port = server.start()
    try:
        c = client(monkeypatch, port, "w", tmp_path)
        trial = c.create_trial("w")
        (tmp_path / "kt" / f"trial_{trial.trial_id}" / "failure.txt").write_text("boom\n")
        trial.status = TrialStatus.FAILED
        c.end_trial(trial)
    finally:
        server.stop()
    assert oracle.trials[trial.trial_id].message == "boom"
    assert oracle.trials[trial.trial_id].status == TrialStatus.FAILED


def test_conditional_values_travel_without_printing(capsys):
    hp = keras_tuner.HyperParameters()
    hp.Choice("optimizer", ["adam", "sgd"])
    with hp.conditional_scope("optimizer", ["sgd"]):
        hp.Float("momentum", 0.5, 0.99)
    trial = keras_tuner.engine.trial.Trial(hp, trial_id="0")
    assert trial.to_proto().hyperparameters.space.float_space[0].conditions  # sent along
    assert capsys.readouterr().out == ""


# ----------------------------------------------------------------------------- processes

PARALLEL = [
    "search.epochs=3",
    "search.early_stopping_patience=0",
    "data.subset=0.3",
    "parallel.workers=3",
]


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, str(TUNE), *args, f"hydra.run.dir={run_dir}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return proc, run_dir


def assignments(run_dir: Path) -> list[tuple[str, str]]:
    path = run_dir / "workers" / "assignments.csv"
    if not path.exists():
        return []
    return [(r["trial_id"], r["worker"]) for r in read_csv(path)]


def status(run_dir: Path, trial_id: str) -> str | None:
    try:
        return json.loads((run_dir / "kt" / f"trial_{trial_id}" / "trial.json").read_text())[
            "status"
        ]
    except (OSError, ValueError, KeyError):
        return None


LAUNCHED = {
    "local": [],
    "submitit": ["parallel.launcher=submitit", "parallel.slurm.cluster=local"],
    "ray": ["parallel.launcher=ray"],
}
REMOTE = [name for name in LAUNCHED if name != "local"]  # launchers that start workers elsewhere


def assert_nothing_left(run_dir: Path, launcher: str) -> None:
    """No worker of the run, nor the local Ray instance it started, outlives it."""
    time.sleep(2)
    assert processes_with(str(run_dir)) == [], "a worker outlived the run"
    if launcher == "ray":
        assert processes_with("raylet") == [], "the local Ray instance outlived the run"


@pytest.mark.slow
@needs_proc
@pytest.mark.parametrize(
    "launcher",
    # The other launchers' full run is a soak test; in the default run they get the short one below.
    ["local", *(pytest.param(n, marks=pytest.mark.soak) for n in REMOTE)],
)
def test_three_workers_share_the_search_and_a_killed_workers_trial_runs_elsewhere(
    tmp_path, launcher
):
    trials = 8  # enough that every worker gets some before the search runs out
    proc, run_dir = start(tmp_path, *PARALLEL, f"search.max_trials={trials}", *LAUNCHED[launcher])
    deadline = time.monotonic() + 400
    sockets: set[str] = set()
    victim = None
    while victim is None:
        assert proc.poll() is None and time.monotonic() < deadline, "no trial of worker1 ran"
        sockets |= listening(process_tree(proc.pid))
        for trial_id, worker in assignments(run_dir):
            if worker == "worker1" and status(run_dir, trial_id) == "RUNNING":
                victim = trial_id
        time.sleep(0.05)
    (pid,) = [
        p
        for p in processes_with(f"parallel.run_dir={run_dir}")
        if p != proc.pid
        and b"parallel.worker_id=worker1" in Path(f"/proc/{p}/cmdline").read_bytes()
    ]
    os.kill(pid, signal.SIGKILL)
    sockets |= watch_sockets(proc)
    assert proc.returncode == 0, proc.stderr.read()[-3000:]
    if launcher == "local":  # the oracle server, and nothing on 0.0.0.0 or ::
        assert sockets == {"127.0.0.1"}
    done = read_csv(run_dir / "trials.csv")
    ids = [r["trial_id"] for r in done]
    assert len(ids) == len(set(ids)) == trials and all(r["status"] == "COMPLETED" for r in done)
    assigned = assignments(run_dir)
    runs = [w for t, w in assigned if t == victim]
    assert runs[0] == "worker1" and len(runs) == 2 and runs[1] != "worker1", runs
    others = [t for t, _ in assigned if t != victim]
    assert sorted(others + [victim]) == sorted(ids)  # every other trial handed out once
    assert {w for _, w in assigned} == {"worker0", "worker1", "worker2"}  # every worker used
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["worker_exit_codes"] == {"worker0": 0, "worker1": -9, "worker2": 0}
    assert sum(summary["trials_per_worker"].values()) == trials
    # every worker's trials reached TensorBoard and the report
    sessions = list((run_dir / "tensorboard").glob("*/events.out.tfevents.*"))
    assert len({p.parent.name for p in sessions}) >= trials
    assert (run_dir / "best_model.keras").exists() and (run_dir / "convergence.png").exists()
    assert_nothing_left(run_dir, launcher)


@pytest.mark.slow
@needs_proc
@pytest.mark.parametrize("launcher", REMOTE)
def test_workers_started_through_a_launcher_finish_the_search_and_leave_nothing_running(
    tmp_path, launcher
):
    trials = 3
    args = (*PARALLEL[:-1], "search.epochs=1", "parallel.workers=2", f"search.max_trials={trials}")
    proc, run_dir = start(tmp_path, *args, *LAUNCHED[launcher])
    _, err = proc.communicate(timeout=400)
    assert proc.returncode == 0, err[-3000:]
    done = read_csv(run_dir / "trials.csv")
    assert len(done) == trials and all(r["status"] == "COMPLETED" for r in done)
    assert sorted(t for t, _ in assignments(run_dir)) == sorted(r["trial_id"] for r in done)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["worker_exit_codes"] == {"worker0": 0, "worker1": 0}
    assert sum(summary["trials_per_worker"].values()) == trials
    assert_nothing_left(run_dir, launcher)


@pytest.mark.slow
@needs_proc
def test_a_chief_killed_mid_run_and_restarted_keeps_its_workers_and_reruns_nothing(tmp_path):
    """Workers started by hand (as on other hosts) outlive a SIGKILLed chief, wait for it,
    and finish the search with the restarted one: no finished trial lost or run twice."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    common = [*PARALLEL[:-1], "search.max_trials=8", "search.epochs=4", f"parallel.port={port}"]
    chief_args = (*common, "parallel.role=chief")
    chief, run_dir = start(tmp_path, *chief_args)
    workers = [
        subprocess.Popen(
            [sys.executable, str(TUNE), *common, "parallel.role=worker",
             f"parallel.run_dir={run_dir}", f"parallel.worker_id=w{i}",
             f"hydra.run.dir={tmp_path / f'w{i}'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for i in range(2)
    ]  # fmt: skip
    deadline = time.monotonic() + 300
    # Kill when 3+ trials are done and one is running (workers may sit between trials).
    while not (
        sum(status(run_dir, str(i)) == "COMPLETED" for i in range(8)) >= 3
        and any(status(run_dir, str(i)) == "RUNNING" for i in range(8))
    ):
        assert chief.poll() is None and time.monotonic() < deadline, "too slow to kill mid-run"
        time.sleep(0.05)
    chief.send_signal(signal.SIGKILL)
    chief.wait()
    done_before = {str(i) for i in range(8) if status(run_dir, str(i)) == "COMPLETED"}
    cut_off = {str(i) for i in range(8) if status(run_dir, str(i)) == "RUNNING"}
    assert len(done_before) < 8 and cut_off, "no trial was running at the kill"
    time.sleep(2.0)
    assert all(w.poll() is None for w in workers)  # they wait for their chief
    again, _ = start(tmp_path, *chief_args)
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-3000:]
    for w in workers:
        assert w.wait(timeout=120) == 0, w.stderr.read()[-2000:]
    trials = read_csv(run_dir / "trials.csv")
    assert len(trials) == 8 and all(r["status"] == "COMPLETED" for r in trials)
    oracle = json.loads((run_dir / "kt" / "oracle.json").read_text())
    assert sorted(oracle["run_times"].values()) == [1] * 8  # nothing ran twice
    handed = [t for t, _ in assignments(run_dir)]
    assert sorted(handed) == sorted(set(handed))  # each trial handed out once, across chiefs
    assert {w for _, w in assignments(run_dir)} == {"w0", "w1"}
    # the trials running at the kill were finished by the workers that had them
    assert all(t in handed for t in cut_off)


def worker_pids(proc: subprocess.Popen, timeout: float = 600) -> set[int]:
    """Pids of the worker processes of ``proc``, sampled until it exits.

    Only children started as workers count: the run and its workers also start
    short-lived helpers (``git describe`` for the code version), which a sample may catch.
    """
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        assert time.monotonic() < deadline, "the run did not finish"
        seen |= {p for p in process_tree(proc.pid) if is_worker(p, proc.pid)}
        time.sleep(0.1)
    return seen


def is_worker(pid: int, chief: int) -> bool:
    """Whether ``pid`` is a local worker started by ``chief`` (False once it is gone)."""
    try:
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, IndexError, ValueError):
        return False
    return parent == chief and b"parallel.role=worker" in args


@pytest.mark.slow
@needs_proc
@pytest.mark.parametrize(
    ("limit", "trials", "restarts"),
    [
        pytest.param("parallel.recycle_after_trials=2", 5, 2, marks=pytest.mark.soak),
        ("parallel.recycle_above_mib=1", 2, 1),
    ],
)
def test_recycled_workers_are_replaced_and_no_trial_is_lost_or_repeated(
    tmp_path, limit, trials, restarts
):
    # parallel.workers stays 0: a recycling limit alone trains in one worker process.
    args = ("search.epochs=1", "data.subset=0.3", f"search.max_trials={trials}", limit)
    proc, run_dir = start(tmp_path, *args)
    pids = worker_pids(proc)
    assert proc.returncode == 0, proc.stderr.read()[-3000:]
    assert len(pids) == restarts + 1  # one fresh process per recycling
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["worker_restarts"] == {"worker0": restarts}
    # the last process ends the search, or leaves at its limit just as it ends (RECYCLED)
    assert summary["worker_exit_codes"]["worker0"] in (0, RECYCLED)
    assert summary["trials_per_worker"] == {"worker0": trials}
    got = read_csv(run_dir / "trials.csv")
    assert len(got) == trials and all(r["status"] == "COMPLETED" for r in got)
    assert all(float(r["rss_mib"]) > 100 for r in got)  # a TensorFlow process's memory
    oracle = json.loads((run_dir / "kt" / "oracle.json").read_text())
    assert sorted(oracle["run_times"].values()) == [1] * trials  # nothing ran twice
    assert sorted(t for t, _ in assignments(run_dir)) == sorted(r["trial_id"] for r in got)


def test_a_worker_presumed_dead_keeps_its_trial_if_nobody_took_it(tmp_path, monkeypatch):
    oracle = oracle_for(tmp_path, 1)
    server = OracleServer(oracle, tmp_path / "kt", grace_seconds=0.5)
    port = server.start()
    serving = threading.Thread(target=server.serve)
    serving.start()
    try:
        slow = client(monkeypatch, port, "slow", tmp_path)
        trial = slow.create_trial("slow")
        deadline = time.monotonic() + 10
        while not oracle._retry_queue:  # silent past the grace period: re-queued
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert slow.update_trial(trial.trial_id, {METRIC: 0.25}).status == TrialStatus.RUNNING
        assert oracle._retry_queue == [] and oracle.ongoing_trials["slow"].trial_id == "0"
        trial.status = TrialStatus.COMPLETED
        slow.end_trial(trial)
        assert slow.create_trial("slow").status == TrialStatus.STOPPED
    finally:
        serving.join(30)
        server.stop()
    assert oracle.trials["0"].score == 0.25 and oracle.end_order == ["0"]
    assert trials_per_worker(tmp_path) == {"slow": 1}


def test_a_restarted_chief_gives_running_trials_back_to_their_workers(tmp_path, monkeypatch):
    """The chief dies mid-trial; restarted from its run directory on the same port, the worker
    that kept training finishes its trial and nobody else runs it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    oracle = oracle_for(tmp_path, 3)
    server = OracleServer(oracle, tmp_path / "kt", port=port)
    server.start()
    survivor = client(monkeypatch, port, "survivor", tmp_path)
    running = survivor.create_trial("survivor")
    other = client(monkeypatch, port, "other", tmp_path)
    finish(other, other.create_trial("other"), 0.3)
    server.stop()  # killed: only what is on disk survives
    restarted = oracle_for(tmp_path, 3)
    restarted.reload()
    repair_reloaded(restarted)  # as the chief's tuner does when it resumes
    server = OracleServer(restarted, tmp_path / "kt", port=port, grace_seconds=30)
    assert server.resumed == [running.trial_id]
    server.start()
    try:
        fresh = other.create_trial("other")  # a new trial, not the survivor's
        assert fresh.trial_id not in (running.trial_id, "1") and fresh.status == "RUNNING"
        finish(survivor, running, 0.1)
        finish(other, fresh, 0.2)
    finally:
        server.stop()
    assert restarted.trials[running.trial_id].score == 0.1
    assert sorted(restarted.end_order) == sorted(["0", "1", "2"])
    assert trials_per_worker(tmp_path) == {"other": 2, "survivor": 1}
