"""The contract every kt-ext oracle passes, as a reusable test class.

Subclass :class:`OracleContract` in ``test_<oracle>.py`` and implement
:meth:`OracleContract.make_oracle`; pytest then runs every ``test_*`` method
below against that oracle. The tests drive ``create_trial`` /
``update_trial`` / ``end_trial`` with fake scores (no models, no TensorFlow
work), as a tuner would, locally and over KerasTuner's own gRPC chief/worker
protocol on 127.0.0.1.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras_tuner
import pytest
from keras_tuner.engine.trial import Trial, TrialStatus

METRIC = "loss"


def mixed_space() -> keras_tuner.HyperParameters:
    """A small space with every kind of entry, a condition and a fixed value."""
    hp = keras_tuner.HyperParameters()
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Int("units", 8, 64, step=8)
    hp.Choice("opt", ["adam", "sgd", "rmsprop"])
    with hp.conditional_scope("opt", ["sgd"]):
        hp.Float("momentum", 0.5, 0.99)
    hp.Boolean("bn")
    hp.Fixed("eps", 1e-7)
    return hp


def finite_space() -> keras_tuner.HyperParameters:
    """Nine configurations: 3 ints × 3 unordered choices."""
    hp = keras_tuner.HyperParameters()
    hp.Int("k", 1, 3)
    hp.Choice("c", ["a", "b", "c"])
    return hp


def tiny_space() -> keras_tuner.HyperParameters:
    """Four configurations: 2 booleans (and a fixed value)."""
    hp = keras_tuner.HyperParameters()
    hp.Boolean("a")
    hp.Boolean("b")
    hp.Fixed("f", 3)
    return hp


def fake_loss(values: dict[str, Any]) -> float:
    """A deterministic loss of any values (smaller near lr=1e-2, units=40, opt=adam)."""
    loss = 0.0
    if "lr" in values:
        loss += (math.log10(values["lr"]) + 2) ** 2
    if "units" in values:
        loss += ((values["units"] - 40) / 30) ** 2
    loss += {"adam": 0.0, "sgd": 0.5, "rmsprop": 0.3, "a": 0.1, "b": 0.0, "c": 0.2}.get(
        values.get("opt", values.get("c")), 0.0
    )
    loss += 0.1 * values.get("k", 0) + 0.05 * values.get("bn", False) + 0.07 * values.get("a", 0)
    return loss


def run_trial(oracle: Any, tuner_id: str = "tuner0", loss: float | None = None) -> Trial:
    """Create one trial, report a score (``fake_loss`` unless given) and complete it."""
    trial = oracle.create_trial(tuner_id)
    if trial.status != TrialStatus.RUNNING:
        return trial
    value = fake_loss(trial.hyperparameters.values) if loss is None else loss
    oracle.update_trial(trial.trial_id, {METRIC: value})
    trial.status = TrialStatus.COMPLETED
    oracle.end_trial(trial)
    return trial


def search(oracle: Any, n: int) -> list[Trial]:
    """Run up to ``n`` trials; stop at the first non-RUNNING one."""
    trials = []
    for _ in range(n):
        trial = run_trial(oracle)
        if trial.status == TrialStatus.STOPPED:
            break
        trials.append(trial)
    return trials


def run_workers(
    oracle: keras_tuner.Oracle,
    make_local: Callable[[], keras_tuner.Oracle],
    work: Callable[[Any, str], None],
    n: int,
    monkeypatch: pytest.MonkeyPatch,
) -> list[BaseException]:
    """Serve ``oracle`` with :class:`kt_ext.run.parallel.OracleServer` on 127.0.0.1; ``n`` workers.

    Each worker is a thread calling ``work(client, tuner_id)`` with its own
    ``OracleClient`` (built, as KerasTuner does, around a local oracle from
    ``make_local``). Returns the exceptions the workers raised.
    """
    from keras_tuner.src.distribute import oracle_client

    from kt_ext.run.parallel import OracleServer

    server = OracleServer(oracle, Path(oracle._project_dir))
    port = server.start()
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    clients = []
    for i in range(n):
        monkeypatch.setenv("KERASTUNER_TUNER_ID", f"worker{i}")
        clients.append(oracle_client.OracleClient(make_local()))
    errors: list[BaseException] = []

    def guarded(client: Any, tuner_id: str) -> None:
        try:
            work(client, tuner_id)
        except BaseException as e:  # noqa: BLE001 - reported to the caller
            errors.append(e)

    threads = [
        threading.Thread(target=guarded, args=(c, f"worker{i}")) for i, c in enumerate(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    server.stop()
    errors.extend(RuntimeError("a worker did not finish") for t in threads if t.is_alive())
    return errors


def best_loss(oracle: Any, loss: Callable[[dict[str, Any]], float], n: int) -> float:
    """Run ``n`` trials of ``oracle`` reporting ``loss(values)``; the lowest loss."""
    best = math.inf
    for _ in range(n):
        trial = oracle.create_trial("t")
        value = loss(trial.hyperparameters.values)
        best = min(best, value)
        oracle.update_trial(trial.trial_id, {METRIC: value})
        trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)
    return best


def with_project(oracle: Any, directory: Path, project: str) -> Any:
    """``oracle``, silent, with its project directory set."""
    oracle.verbose = 0
    oracle._set_project_dir(str(directory), project)
    return oracle


def random_search(
    space: keras_tuner.HyperParameters, max_trials: int, seed: int, directory: Path, project: str
) -> keras_tuner.Oracle:
    """KerasTuner's random search minimising ``METRIC`` (the "beats random" baseline)."""
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective(METRIC, "min"),
        max_trials=max_trials,
        hyperparameters=space,
        seed=seed,
    )
    return with_project(oracle, directory, project)


def key(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True)


class OracleContract:
    """Behaviour every kt-ext oracle must have; see the module docstring."""

    def make_oracle(
        self, hyperparameters: keras_tuner.HyperParameters, max_trials: int, seed: int
    ) -> keras_tuner.Oracle:
        """A fresh oracle minimising ``METRIC`` (to be implemented by subclasses)."""
        raise NotImplementedError

    @pytest.fixture
    def new(self, tmp_path: Path) -> Callable[..., keras_tuner.Oracle]:
        """``new(space, max_trials, seed, project)``: an oracle with a project directory."""

        def _new(
            space: Callable[[], keras_tuner.HyperParameters] = mixed_space,
            max_trials: int = 12,
            seed: int = 7,
            project: str = "p",
        ) -> keras_tuner.Oracle:
            oracle = self.make_oracle(space(), max_trials, seed)
            oracle.verbose = 0
            oracle._set_project_dir(str(tmp_path), project)
            return oracle

        return _new

    def test_create_update_end_cycle(self, new: Callable) -> None:
        oracle = new()
        trials = search(oracle, 12)
        assert len(trials) == 12
        assert all(oracle.trials[t.trial_id].status == TrialStatus.COMPLETED for t in trials)
        scores = [oracle.trials[t.trial_id].score for t in trials]
        assert scores == [fake_loss(t.hyperparameters.values) for t in trials]
        assert oracle.get_best_trials(1)[0].score == min(scores)

    def test_stops_at_max_trials(self, new: Callable) -> None:
        oracle = new(max_trials=5)
        assert len(search(oracle, 5)) == 5
        assert oracle.create_trial("tuner0").status == TrialStatus.STOPPED

    def test_stops_when_the_space_is_exhausted(self, new: Callable) -> None:
        oracle = new(tiny_space, max_trials=10)
        trials = search(oracle, 10)
        assert len(trials) == 4
        assert len({key(t.hyperparameters.values) for t in trials}) == 4
        assert oracle.create_trial("tuner0").status == TrialStatus.STOPPED

    def test_never_proposes_a_configuration_twice(self, new: Callable) -> None:
        oracle = new(finite_space, max_trials=9)
        trials = search(oracle, 9)
        assert len({key(t.hyperparameters.values) for t in trials}) == len(trials) == 9

    def test_values_are_plain_python_and_respect_conditions(self, new: Callable) -> None:
        oracle = new(max_trials=15)
        for trial in search(oracle, 15):
            values = trial.hyperparameters.values
            assert all(type(v) in (bool, int, float, str) for v in values.values()), values
            assert ("momentum" in values) == (values["opt"] == "sgd")
            assert values["eps"] == 1e-7 and values["units"] % 8 == 0
            assert 1e-4 <= values["lr"] <= 1e-1

    def test_same_seed_same_sequence(self, new: Callable) -> None:
        first = [key(t.hyperparameters.values) for t in search(new(project="a"), 10)]
        again = [key(t.hyperparameters.values) for t in search(new(project="b"), 10)]
        other = [key(t.hyperparameters.values) for t in search(new(seed=8, project="c"), 10)]
        assert first == again and first != other

    def test_seed_zero_is_a_seed(self, new: Callable) -> None:
        first = [key(t.hyperparameters.values) for t in search(new(seed=0, project="a"), 4)]
        again = [key(t.hyperparameters.values) for t in search(new(seed=0, project="b"), 4)]
        assert first == again

    def test_state_is_json_and_a_reloaded_oracle_continues_identically(self, new: Callable) -> None:
        oracle = new(project="run")
        search(oracle, 7)
        running = oracle.create_trial("tuner0")  # in flight when the process "dies"
        json.dumps(oracle.get_state())  # plain JSON, no numpy types
        resumed = new(project="run")
        resumed.reload()
        assert resumed._retry_queue == [running.trial_id]  # re-run, not lost
        run_trial(resumed)  # the retried trial
        run_trial(oracle, loss=fake_loss(running.hyperparameters.values))
        # from here on both must propose the same values
        for _ in range(3):
            a, b = run_trial(oracle), run_trial(resumed)
            assert key(a.hyperparameters.values) == key(b.hyperparameters.values)

    def test_failed_and_non_finite_trials_do_not_break_the_search(self, new: Callable) -> None:
        oracle = new(max_trials=14)
        search(oracle, 5)
        failed = oracle.create_trial("tuner0")
        failed.status = TrialStatus.FAILED
        failed.message = "boom"
        oracle.end_trial(failed)
        run_trial(oracle, loss=math.inf)
        run_trial(oracle, loss=1e30)  # a diverged trial with a huge loss
        trials = search(oracle, 6)
        assert len(trials) == 6
        seen = [key(t.hyperparameters.values) for t in oracle.trials.values()]
        assert len(set(seen)) == len(seen)  # the failed configuration was not retried
        best = oracle.get_best_trials(1)[0]
        assert best.status == TrialStatus.COMPLETED and math.isfinite(best.score)

    @pytest.mark.parametrize("direction", ["min", "max"])
    def test_a_non_finite_score_is_never_the_best(self, new: Callable, direction: str) -> None:
        oracle = new(max_trials=14)
        oracle.objective = keras_tuner.Objective(METRIC, direction)
        search(oracle, 3)
        for score in (-math.inf, math.inf, math.nan):
            run_trial(oracle, loss=score)
        best = oracle.get_best_trials(3)
        assert all(math.isfinite(t.score) for t in best), [t.score for t in best]
        scores = [t.score for t in best]
        assert scores == sorted(scores, reverse=direction == "max")

    def test_initial_points_come_first_once_each_and_survive_a_reload(self, new: Callable) -> None:
        from kt_ext.tuners import evaluate_first, repair_reloaded

        points = [
            {"lr": 0.001, "units": 32, "opt": "adam", "bn": False, "eps": 1e-7},
            {"lr": 0.01, "units": 16, "opt": "sgd", "momentum": 0.9, "bn": True, "eps": 1e-7},
        ]
        oracle = new(max_trials=6, project="init")
        evaluate_first(oracle, points)

        def config(trial: Trial) -> dict[str, Any]:  # without successive halving's keys
            return {k: v for k, v in trial.hyperparameters.values.items() if "/" not in k}

        first = run_trial(oracle)
        assert config(first) == points[0]
        resumed = new(max_trials=6, project="init")  # killed after the first point
        resumed.reload()
        repair_reloaded(resumed)  # as kt-ext's tuners do on resume
        evaluate_first(resumed, points)
        trials = [first, *search(resumed, 5)]
        assert [config(t) for t in trials[:2]] == points
        fresh = [  # new configurations (a promotion continues an earlier one)
            key(config(t))
            for t in trials
            if not t.hyperparameters.values.get("tuner/initial_epoch")
        ]
        assert len(set(fresh)) == len(fresh)  # each point once

    def test_parallel_workers_over_grpc(
        self, new: Callable, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        oracle = new(finite_space, max_trials=9)
        done: list[dict] = []

        def work(client: Any, tuner_id: str) -> None:
            while True:
                trial = client.create_trial(tuner_id)
                if trial.status == TrialStatus.STOPPED:
                    return
                if trial.status == TrialStatus.IDLE:  # others still run: wait for the end
                    time.sleep(0.05)
                    continue
                client.update_trial(
                    trial.trial_id, {METRIC: fake_loss(trial.hyperparameters.values)}
                )
                trial.status = TrialStatus.COMPLETED
                client.end_trial(trial)
                done.append(dict(trial.hyperparameters.values))

        errors = run_workers(
            oracle, lambda: self.make_oracle(finite_space(), 9, 7), work, 3, monkeypatch
        )
        assert not errors, errors
        assert len(done) == 9 and len({key(v) for v in done}) == 9
        assert all(t.status == TrialStatus.COMPLETED for t in oracle.trials.values())


# ------------------------------------------------------------ several objectives
BI_OBJECTIVES = [("f1", "min"), ("f2", "min")]
ZDT_REFERENCE = (1.1, 11.0)


def zdt1_space(dims: int = 5) -> keras_tuner.HyperParameters:
    """ZDT1's box ``[0, 1]^dims``."""
    hp = keras_tuner.HyperParameters()
    for i in range(dims):
        hp.Float(f"x{i}", 0.0, 1.0)
    return hp


def zdt1(values: dict[str, Any]) -> tuple[float, float]:
    """ZDT1 (Zitzler, Deb and Thiele, 2000): a convex front at ``x1 .. = 0``."""
    x = [values[f"x{i}"] for i in range(len(values))]
    g = 1 + 9 * sum(x[1:]) / (len(x) - 1)
    return x[0], g * (1 - math.sqrt(x[0] / g))


def dtlz2(values: dict[str, Any]) -> tuple[float, float]:
    """DTLZ2 with two objectives (Deb et al., 2002): a quarter circle at ``x1 .. = 0.5``."""
    x = [values[f"x{i}"] for i in range(len(values))]
    g = sum((v - 0.5) ** 2 for v in x[1:])
    return (1 + g) * math.cos(x[0] * math.pi / 2), (1 + g) * math.sin(x[0] * math.pi / 2)


def bi_objective_search(
    oracle: Any, n: int, problem: Callable[[dict[str, Any]], tuple[float, float]] = zdt1
) -> list[tuple[float, float]]:
    """Run ``n`` trials of ``problem`` (ZDT1) reporting both objectives; their ``(f1, f2)``."""
    out = []
    for _ in range(n):
        trial = oracle.create_trial("tuner0")
        if trial.status != TrialStatus.RUNNING:
            break
        f1, f2 = problem(trial.hyperparameters.values)
        oracle.update_trial(trial.trial_id, {"f1": f1, "f2": f2})
        trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)
        out.append((f1, f2))
    return out


def zdt1_hypervolumes(
    make: Callable[..., Any], tmp_path: Path, n: int, seeds: range
) -> tuple[list[float], list[Any]]:
    """ZDT1 hypervolume after ``n`` trials of ``make(**oracle_args)`` per seed; the oracles."""
    import numpy as np

    from kt_ext.objectives import hypervolume

    volumes, oracles = [], []
    for seed in seeds:
        oracle = make(
            objective=keras_tuner.Objective("f1", "min"),
            objectives=BI_OBJECTIVES,
            max_trials=n,
            hyperparameters=zdt1_space(),
            seed=seed,
        )
        oracle._set_project_dir(str(tmp_path), f"{type(oracle).__name__}{seed}")
        points = np.array(bi_objective_search(oracle, n))
        volumes.append(hypervolume(points, np.array(ZDT_REFERENCE)))
        oracles.append(oracle)
    return volumes, oracles


def random_hypervolumes(tmp_path: Path, n: int, seeds: range) -> list[float]:
    """Hypervolume of KerasTuner's random search on ZDT1 (seeded per trial by hash), per seed."""
    import numpy as np

    from kt_ext.objectives import hypervolume
    from kt_ext.tuners import trial_seed

    out = []
    for seed in seeds:
        oracle = keras_tuner.oracles.RandomSearchOracle(
            objective=keras_tuner.Objective("f1", "min"),
            max_trials=n,
            hyperparameters=zdt1_space(),
            seed=trial_seed(seed, "random") or 1,
        )
        oracle._set_project_dir(str(tmp_path), f"random{seed}")
        points = np.array(bi_objective_search(oracle, n))
        out.append(hypervolume(points, np.array(ZDT_REFERENCE)))
    return out
