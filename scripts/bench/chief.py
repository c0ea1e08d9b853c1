"""How far one chief scales: suggestions per second it serves to 8, 32 and 128 workers.

The chief is kt-ext's :class:`kt_ext.run.parallel.OracleServer` on loopback,
as ``parallel.workers`` or ``parallel.role=chief`` run it, serving random
search (KerasTuner's oracle, as ``strategy=random``) or GP-UCB
(``strategy=bayes``). The workers are KerasTuner's own worker-side clients,
one per thread, spread over a few processes; their objective is trivial (the
sum of the values), so the chief is the only thing that takes time: every
trial is three requests (create, report, end) plus the oracle's proposal.

Reported per oracle and worker count: trials per second over the whole run
(``--trials`` of them), the median and 95th percentile of a worker's wait
for a new trial, and two checks: trials handed out twice (duplicates: from
``workers/assignments.csv``) and trials never completed (lost). From the
throughput ``S`` follows the estimate the issue asked for: with trials of
``T`` seconds, ``N`` workers ask for ``N / T`` trials per second, so one
chief becomes the bottleneck near ``N = S · T`` workers.

Usage::

    python scripts/bench/chief.py                      # 8, 32, 128 workers; random and bayes
    python scripts/bench/chief.py --workers 8 --oracles random --trials 200

On a machine with few cores the worker processes compete with the chief for
the CPU, so the figures are a lower bound of what a chief alone serves.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import ROOT, Report, command_line

sys.path.insert(0, str(ROOT))

TRIAL_SECONDS = 60.0  # the trial length the estimate is given for


def _oracle(name: str, trials: int, project: Path):
    import keras_tuner

    from kt_ext.oracles import GPUCBOracle

    hp = keras_tuner.HyperParameters()
    for i in range(4):
        hp.Float(f"x{i}", 0.0, 1.0)
    kwargs = {
        "objective": keras_tuner.Objective("loss", "min"),
        "max_trials": trials,
        "hyperparameters": hp,
        "seed": 1,
    }
    oracle = (
        GPUCBOracle(**kwargs)
        if name == "bayes"
        else keras_tuner.oracles.RandomSearchOracle(**kwargs)
    )
    oracle.verbose = 0
    oracle._set_project_dir(str(project), "kt")
    return oracle


def _worker_process(port: int, first: int, threads: int, waits) -> None:
    """``threads`` workers, each a KerasTuner client running trials until the chief stops."""
    from keras_tuner.src.distribute import oracle_client
    from keras_tuner.src.engine.trial import TrialStatus

    lock = threading.Lock()
    mine: list[float] = []

    def work(tuner_id: str) -> None:
        with lock:  # KerasTuner's client reads its address and id from the environment
            os.environ.update(
                KERASTUNER_ORACLE_IP="127.0.0.1",
                KERASTUNER_ORACLE_PORT=str(port),
                KERASTUNER_TUNER_ID=tuner_id,
            )
            client = oracle_client.OracleClient(_Dummy())
        while True:
            start = time.perf_counter()
            trial = client.create_trial(tuner_id)
            if trial.status == TrialStatus.STOPPED:
                return
            if trial.status == TrialStatus.IDLE:
                time.sleep(0.05)
                continue
            with lock:
                mine.append(time.perf_counter() - start)
            loss = sum(trial.hyperparameters.values.values())
            client.update_trial(trial.trial_id, {"loss": loss})
            trial.status = TrialStatus.COMPLETED
            client.end_trial(trial)

    pool = [threading.Thread(target=work, args=(f"worker{first + i}",)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    waits.extend(mine)


class _Dummy:
    """What KerasTuner's client wraps (only for attributes it never reads here)."""


def run_one(oracle_name: str, workers: int, trials: int) -> dict:
    """Serve ``trials`` trials to ``workers`` workers; throughput, waits, duplicates, losses."""
    from keras_tuner.src.engine.trial import TrialStatus

    from kt_ext.outputs.status import last_owners
    from kt_ext.run.parallel import OracleServer

    with tempfile.TemporaryDirectory() as d:
        run_dir = Path(d)
        oracle = _oracle(oracle_name, trials, run_dir)
        server = OracleServer(oracle, run_dir / "kt", grace_seconds=600)
        port = server.start()
        processes = min(4, workers)
        per = [workers // processes + (i < workers % processes) for i in range(processes)]
        ctx = multiprocessing.get_context("spawn")  # no fork beside the server's threads
        manager = ctx.Manager()
        waits = manager.list()
        start = time.perf_counter()
        procs, first = [], 0
        for n in per:
            p = ctx.Process(target=_worker_process, args=(port, first, n, waits))
            p.start()
            procs.append(p)
            first += n
        serving = threading.Thread(target=server.serve)
        serving.start()
        for p in procs:
            p.join()
        serving.join()
        seconds = time.perf_counter() - start
        server.stop()
        assigned = (run_dir / "workers" / "assignments.csv").read_text().splitlines()[1:]
        ids = [line.split(",")[0] for line in assigned]
        completed = sum(t.status == TrialStatus.COMPLETED for t in oracle.trials.values())
        waited = sorted(waits)
        owners = last_owners(run_dir)
    return {
        "oracle": oracle_name,
        "workers": workers,
        "trials": trials,
        "seconds": seconds,
        "per_second": completed / seconds,
        "wait_median": statistics.median(waited),
        "wait_p95": waited[int(0.95 * (len(waited) - 1))],
        "duplicates": len(ids) - len(set(ids)),
        "lost": trials - completed,
        "workers_used": len(set(owners.values())),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every (oracle, workers) cell and write ``chief.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", nargs="+", type=int, default=[8, 32, 128])
    parser.add_argument("--oracles", nargs="+", default=["random", "bayes"])
    parser.add_argument("--trials", type=int, default=0, help="0: 1000 random, 300 bayes")
    args = parser.parse_args(argv)
    rows = []
    for name in args.oracles:
        for workers in args.workers:
            trials = args.trials or (1000 if name == "random" else 300)
            row = run_one(name, workers, trials)
            print(row, file=sys.stderr, flush=True)
            rows.append(row)
    report = Report("chief")
    report.table(
        ["oracle", "workers", "trials", "trials/s", "wait median ms", "wait p95 ms",
         "duplicates", "lost", "workers used", f"bottleneck at {TRIAL_SECONDS:g} s trials"],
        [
            [r["oracle"], r["workers"], r["trials"], f"{r['per_second']:.0f}",
             f"{1000 * r['wait_median']:.1f}", f"{1000 * r['wait_p95']:.1f}",
             r["duplicates"], r["lost"], r["workers_used"],
             f"~{r['per_second'] * TRIAL_SECONDS:,.0f} workers"]
            for r in rows
        ],
    )  # fmt: skip
    report.write(command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
