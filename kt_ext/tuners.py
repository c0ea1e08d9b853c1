"""KerasTuner tuners used by the `strategy/` configs.

Each class is KerasTuner's own tuner plus :class:`TrialRecorder`, which

* seeds every trial from ``(seed, trial_id)`` right before its model is built
  (after KerasTuner's ``clear_session``), so weights and data order are
  reproducible per trial whatever ran before it;
* reports two extra metrics to the oracle per trial: ``EPOCHS_RUN`` (epochs
  actually trained, early stopping included) and ``SECONDS`` (wall time of
  the whole trial), added to the returned ``History`` objects;
* writes TensorBoard logs when given a :class:`kt_ext.board.TrialBoard`
  (``tuner.board``): it points each :class:`kt_ext.curves.CurveLogger`
  callback at the trial's directory (replaying the parent trial's earlier
  epochs for a continued configuration) and, once the oracle has the trial's
  final record, writes its HParams session and the search-level scalars;
* fails a trial, with its reason and without retries, when a loss or the
  objective turns NaN or infinite (training stops at that batch through
  ``keras.callbacks.TerminateOnNaN``), when its model cannot be built (a
  deterministic error), or when it runs out of memory (the message says what
  to try); the reason is also written to ``trial_<id>/failure.txt``, which is
  how it reaches the chief in parallel tuning;
* on resume, never re-runs a trial that had already finished and never
  loses one that had just started (:func:`repair_reloaded`), and resumes a
  project whatever tuner id wrote it;
* evaluates the space's initial points (``model.initial``) first, whatever
  the oracle (:func:`evaluate_first`);
* keeps ``seed=0`` a seed for KerasTuner's own oracles (they replace a falsy
  seed by a random one);
* as a parallel worker (:mod:`kt_ext.parallel`), tells the chief every
  ``heartbeat_seconds`` that its trial is alive, and backs off briefly when
  the oracle has nothing to run yet;
* reports the process's resident memory at the end of each trial (``RSS_MIB``)
  and, as a worker with ``recycle_after_trials`` or ``recycle_above_mib`` set,
  raises :class:`Recycle` between trials once either limit is reached, so the
  process can exit and be replaced by a fresh one (bounding its RAM).

State files are written atomically (:mod:`kt_ext.state`).

:class:`GridSearch` also turns continuous floats into ``float_points`` grid
values, since a grid over a continuum is otherwise undefined.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import keras
import keras_tuner
from keras_tuner.src.distribute import utils as dist_utils
from keras_tuner.src.engine.trial import TrialStatus

from kt_ext import state
from kt_ext.board import TrialBoard
from kt_ext.curves import CurveLogger
from kt_ext.gp import SpaceEncoder
from kt_ext.memory import rss_mib
from kt_ext.oracles import (
    GPUCBOracle,
    HalvingOracle,
    OptunaOracle,
    SeededOracle,
    ZoomOracle,
    oracle_parameters,
)
from kt_ext.oracles import _halving as halving
from kt_ext.oracles._checks import first_untried
from kt_ext.results import (
    EPOCHS_RUN,
    FAILURE_FILE,
    RSS_MIB,
    SECONDS,
    failure_reason,
    trial_rows,
    write_text,
)
from kt_ext.space import BATCH_SIZE, grid_values

state.install()

_IDLE_WAIT = 0.2  # seconds a worker waits after the oracle had nothing to run
_FINISHED = (TrialStatus.COMPLETED, TrialStatus.FAILED)


class Recycle(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a worker's tuner between trials once its recycling limit is reached."""


def trial_seed(seed: int | None, trial_id: str) -> int:
    """A 31-bit seed derived from the run seed and a trial id (stable across processes)."""
    digest = hashlib.sha256(f"{seed}:{trial_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def non_finite(logs: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """Which of ``names`` in ``logs`` is NaN or infinite, as ``"loss = nan"``; ``None`` if none."""
    for name in names:
        value = logs.get(name)
        if value is not None and not math.isfinite(float(value)):
            return f"{name} = {float(value)}"
    return None


class TrialRecorder:
    """Mixin for ``keras_tuner.Tuner`` subclasses; see the module docstring."""

    def __init__(
        self,
        *args: Any,
        seed: int | None = None,
        initial_points: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        self.run_seed = seed
        self.board: TrialBoard | None = None
        self.heartbeat_seconds = 5.0
        self.recycle_after_trials = 0  # workers: leave the search after this many trials
        self.recycle_above_mib = 0.0  # workers: leave once resident memory exceeds this
        self.trials_run = 0
        self._current_trial_id: str | None = None
        self._curve_loggers: list[CurveLogger] = []
        self._trial_started = 0.0
        self._created_trial = True
        self._heartbeat: threading.Event | None = None
        oracle_cls = getattr(self, "ORACLE", None)
        if seed == 0 and not (oracle_cls and issubclass(oracle_cls, SeededOracle)):
            seed = trial_seed(0, "oracle") or 1  # KerasTuner's oracles turn 0 into a random seed
        _share_project(kwargs.get("directory"), kwargs.get("project_name"))
        super().__init__(*args, seed=seed, **kwargs)
        if not self._is_worker():
            repair_reloaded(self.oracle)
            if initial_points:
                evaluate_first(self.oracle, initial_points)

    @property
    def objective_names(self) -> tuple[str, ...]:
        """The losses and objective whose non-finite values fail a trial."""
        return ("loss", "val_loss", self.oracle.objective.name)

    def _configure_tensorboard_dir(
        self, callbacks: list[Any], trial: keras_tuner.engine.trial.Trial, execution: int = 0
    ) -> None:
        """Point each :class:`CurveLogger` at this trial execution's directory."""
        super()._configure_tensorboard_dir(callbacks, trial, execution)
        if self.board is None:
            return
        values = trial.hyperparameters.values
        parent = values.get(halving.PARENT)
        start = int(values.get(halving.INITIAL_EPOCH, 0) or 0)
        if execution == 0:
            self.board.clear_curves(trial.trial_id)
        for cb in callbacks:
            if isinstance(cb, CurveLogger):
                replay = self.board.replay(parent, before=start) if parent and start > 0 else {}
                cb.configure(self.board.curve_dir(trial.trial_id, execution), replay)
                self._curve_loggers.append(cb)

    def pre_create_trial(self) -> None:
        """Back off briefly after an IDLE answer; as a worker, recycle once over a limit.

        Raises:
            Recycle: This worker ran ``recycle_after_trials`` trials, or its
                resident memory exceeds ``recycle_above_mib``.
        """
        if self._is_worker() and self.trials_run:
            if 0 < self.recycle_after_trials <= self.trials_run:
                raise Recycle(f"ran {self.trials_run} trial(s)")
            if self.recycle_above_mib > 0 and (rss := rss_mib()) > self.recycle_above_mib:
                raise Recycle(f"holds {rss:.0f} MiB after {self.trials_run} trial(s)")
        if not self._created_trial:
            time.sleep(_IDLE_WAIT)
        self._created_trial = False
        super().pre_create_trial()

    def on_trial_begin(self, trial: keras_tuner.engine.trial.Trial) -> None:
        """Note the trial's start time; as a parallel worker, start its heartbeat."""
        self._created_trial = True
        self._trial_started = time.time()
        self.trials_run += 1
        Path(self.get_trial_dir(trial.trial_id), FAILURE_FILE).unlink(missing_ok=True)
        if self._is_worker():
            self._heartbeat = threading.Event()
            threading.Thread(
                target=self._beat, args=(trial.trial_id, self._heartbeat), daemon=True
            ).start()
        super().on_trial_begin(trial)

    def _beat(self, trial_id: str, done: threading.Event) -> None:
        """Ask the chief for the trial every ``heartbeat_seconds`` (it counts as a sign of life)."""
        while not done.wait(self.heartbeat_seconds):
            try:
                self.oracle.get_trial(trial_id)
            except Exception:  # noqa: BLE001 - a missed beat is not fatal; the chief decides
                pass

    def on_trial_end(self, trial: keras_tuner.engine.trial.Trial) -> None:
        """End the trial, close its curves, log its session and search scalars."""
        if self._heartbeat is not None:
            self._heartbeat.set()
            self._heartbeat = None
        if trial.message and trial.status != TrialStatus.COMPLETED:
            reason = failure_reason(trial.message)
            write_text(Path(self.get_trial_dir(trial.trial_id), FAILURE_FILE), reason + "\n")
        super().on_trial_end(trial)
        for cb in self._curve_loggers:
            cb.close()
        self._curve_loggers = []
        if self.board is not None:
            self._log_trial(trial.trial_id)

    def _log_trial(self, trial_id: str) -> None:
        """The trial's HParams session and search-level scalars, from the oracle's record."""
        trial = self.oracle.get_trial(trial_id)
        values = trial.hyperparameters.values
        planned = None
        if halving.EPOCHS in values:
            planned = int(values[halving.EPOCHS]) - int(values.get(halving.INITIAL_EPOCH, 0))
        rung_rows = getattr(self.oracle, "rung_rows", None)
        rung_row = None
        if rung_rows is not None:
            rung_row = next((r for r in rung_rows() if r["trial_id"] == trial_id), None)
        best = self.oracle.get_best_trials(1)
        proposal = (getattr(self.oracle, "proposals", None) or {}).get(trial_id)
        features: list[str] = []
        if proposal:
            features = SpaceEncoder(self.oracle.hyperparameters.get_config()["space"]).feature_names
        self.board.trial_ended(
            trial_rows([trial])[0],
            self._trial_started,
            planned_epochs=planned,
            halving=rung_row,
            best=best[0].score if best else None,
            proposal=proposal,
            features=features,
        )

    def on_search_end(self) -> None:
        """Close the search-level TensorBoard writer."""
        super().on_search_end()
        if self.board is not None:
            self.board.close()

    def run_trial(self, trial: keras_tuner.engine.trial.Trial, *args: Any, **kwargs: Any) -> Any:
        """Run the trial and add ``EPOCHS_RUN``, ``SECONDS`` and ``RSS_MIB`` to its histories.

        Raises:
            keras_tuner.errors.FailedTrialError: A loss or the objective became
                NaN or infinite, or the trial ran out of memory.
        """
        self._current_trial_id = trial.trial_id
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), keras.callbacks.TerminateOnNaN()]
        start = time.perf_counter()
        try:
            results = super().run_trial(trial, *args, **kwargs)
        except Exception as e:
            if type(e).__name__ == "ResourceExhaustedError" or isinstance(e, MemoryError):
                batch = trial.hyperparameters.values.get(BATCH_SIZE)
                raise keras_tuner.errors.FailedTrialError(
                    f"out of memory with {BATCH_SIZE}={batch}: try a smaller "
                    f"model.space.{BATCH_SIZE} or a smaller model ({type(e).__name__})"
                ) from e
            raise
        elapsed = time.perf_counter() - start
        for history in results if isinstance(results, list) else [results]:
            bad = first_non_finite(history, self.objective_names)
            if bad is not None:
                raise keras_tuner.errors.FailedTrialError(
                    f"non-finite {bad}; training stopped (try a lower learning rate)"
                )
            # Extra per-epoch series travel with the histories to the oracle, which
            # keeps each metric at the trial's best epoch (constant series here).
            n = len(getattr(history, "epoch", []))
            if n:
                history.history[EPOCHS_RUN] = [float(n)] * n
                history.history[SECONDS] = [elapsed] * n
                history.history[RSS_MIB] = [rss_mib()] * n
        return results

    def _build_hypermodel(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        if self._current_trial_id is not None:
            keras.utils.set_random_seed(trial_seed(self.run_seed, self._current_trial_id))
        try:
            return super()._build_hypermodel(hp)
        except (keras_tuner.errors.FatalError, keras_tuner.errors.FailedTrialError):
            raise
        except Exception as e:  # the same values fail the same way: no retry
            raise keras_tuner.errors.FailedTrialError(
                f"building the model failed: {type(e).__name__}: {e}"
            ) from e


def first_non_finite(history: Any, names: tuple[str, ...]) -> str | None:
    """The first NaN or infinite value of ``names`` in a Keras ``History``.

    A plain metrics dict counts as one epoch. Returns it as
    ``"loss = nan at epoch 3"``, or ``None`` if every value is finite.
    """
    if isinstance(history, dict):
        epochs = [history]
    else:
        series = getattr(history, "history", {})
        n = len(getattr(history, "epoch", []))
        epochs = [{k: v[i] for k, v in series.items() if i < len(v)} for i in range(n)]
    for epoch, logs in enumerate(epochs):
        bad = non_finite(logs, names)
        if bad is not None:
            return f"{bad} at epoch {epoch + 1}"
    return None


def _share_project(directory: str | None, project: str | None) -> None:
    """Let this process resume a project another tuner id wrote.

    KerasTuner reloads a project only if ``<tuner_id>.json`` exists, so a
    run started in one process and resumed in parallel mode (or the other
    way round) would otherwise start over and overwrite the trials. The file
    holds no state of its own (``{}``).
    """
    if (
        directory is None
        or project is None
        or dist_utils.has_chief_oracle()
        and not (dist_utils.is_chief_oracle())
    ):
        return
    project_dir = Path(directory, project)
    tuner_file = project_dir / f"{os.environ.get('KERASTUNER_TUNER_ID', 'tuner0')}.json"
    if (project_dir / "oracle.json").exists() and not tuner_file.exists():
        write_text(tuner_file, "{}")


# KerasTuner oracles whose own bookkeeping breaks on trials they did not generate.
NO_INITIAL_POINTS = (keras_tuner.oracles.GridSearchOracle, keras_tuner.oracles.HyperbandOracle)


def evaluate_first(oracle: keras_tuner.Oracle, points: list[dict[str, Any]]) -> None:
    """Make ``oracle`` propose ``points`` (``model.initial``) before anything else.

    kt-ext's oracles take them as ``initial_points`` (successive halving as its
    first new configurations); KerasTuner's get a ``populate_space`` that
    returns the first untried point while there is one.
    """
    if hasattr(oracle, "initial_points"):
        oracle.initial_points = [dict(p) for p in points]
        return
    if isinstance(oracle, NO_INITIAL_POINTS):
        raise ValueError(
            f"The value of `initial_points` is {points!r}, but {type(oracle).__name__} "
            "enumerates its own trials, so it cannot evaluate other points first."
        )
    inner = oracle.populate_space

    def populate_space(trial_id: str) -> dict[str, Any]:
        start = first_untried(points, oracle._duplicate)
        if start is not None:
            return {"status": TrialStatus.RUNNING, "values": start}
        return inner(trial_id)

    oracle.populate_space = populate_space


def repair_reloaded(oracle: keras_tuner.Oracle) -> None:
    """Fix the retry queue of a reloaded oracle so that no trial runs twice or never.

    * A trial that had finished is dropped from it: KerasTuner's ``end_trial``
      saves the oracle while the finished trial is still among the running
      ones, so a process killed right after would run it again.
    * A trial left RUNNING that the saved state does not know as running is
      added: ``create_trial`` writes the trial's file before the oracle's, so
      a process killed in between would count the trial and never run it.

    And a trial whose file says it finished while the saved state missed its
    end (``end_trial`` also writes the trial before the oracle) is recorded as
    ended once, in ``end_order`` and ``run_times``, as if the save had happened.
    """
    queue = [
        t for t in getattr(oracle, "_retry_queue", []) if oracle.trials[t].status not in _FINISHED
    ]
    running = {t.trial_id for t in oracle.ongoing_trials.values()}
    for trial_id in sorted(oracle.trials):
        trial = oracle.trials[trial_id]
        if (
            trial.status == TrialStatus.RUNNING
            and trial_id not in queue
            and trial_id not in running
        ):
            queue.insert(0, trial_id)  # the queue is popped from its end: earlier trials first
    oracle._retry_queue = queue
    ended = set(oracle.end_order)
    for trial_id in sorted(oracle.trials):
        if oracle.trials[trial_id].status in _FINISHED and trial_id not in ended:
            oracle.end_order.append(trial_id)
            oracle._run_times[trial_id] = max(1, oracle._run_times[trial_id])


class RandomSearch(TrialRecorder, keras_tuner.RandomSearch):
    """KerasTuner's random search, with per-trial seeds and recording."""


class BayesianOptimization(TrialRecorder, keras_tuner.BayesianOptimization):
    """KerasTuner's GP Bayesian optimisation, with per-trial seeds and recording."""


class _OracleTuner(keras_tuner.Tuner):
    """A ``keras_tuner.Tuner`` driven by a new instance of the oracle class ``ORACLE``.

    Keyword arguments named like the oracle's parameters (``objective``,
    ``max_trials``, ``beta``, ``seed``, ``hyperparameters``, ...) go to the
    oracle, so its signature stays the one place their defaults live; the
    rest (``directory``, ``project_name``, ...) go to ``keras_tuner.Tuner``.

    Args:
        hypermodel: As for ``keras_tuner.Tuner``.
        **kwargs: Oracle and tuner arguments, see above.
    """

    ORACLE: type[SeededOracle]

    def __init__(self, hypermodel: Any = None, **kwargs: Any) -> None:
        names = oracle_parameters(self.ORACLE)
        oracle_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
        super().__init__(oracle=self.ORACLE(**oracle_kwargs), hypermodel=hypermodel, **kwargs)


class GPUCB(TrialRecorder, _OracleTuner):
    """kt-ext's GP-UCB Bayesian optimisation, with per-trial seeds and recording."""

    ORACLE = GPUCBOracle


class Optuna(TrialRecorder, _OracleTuner):
    """Optuna's TPE or CMA-ES sampler through ask/tell, with per-trial seeds and recording."""

    ORACLE = OptunaOracle


class Zoom(TrialRecorder, _OracleTuner):
    """Coarse-to-fine stages with a random, GP or TPE inner strategy, with recording."""

    ORACLE = ZoomOracle


class _HalvingTuner(_OracleTuner):
    """A ``keras_tuner.Tuner`` driven by :class:`kt_ext.oracles.HalvingOracle`.

    Each trial trains its configuration from ``tuner/initial_epoch`` to
    ``tuner/epochs``. A promoted trial (``tuner/initial_epoch`` > 0) starts
    from its parent trial's ``continue.keras``: the whole model, optimizer
    state included, saved at the epoch the parent stopped, so training goes
    on exactly where it left off. Every epoch's logs go to the oracle
    (``update_trial(..., step=epoch)``); when the oracle answers ``STOPPED``
    the trial saves ``continue.keras`` and stops. Under the data budget,
    ``tuner/fraction`` of the training data is used and every trial starts
    from scratch.

    Keras ``EarlyStopping`` callbacks are dropped: the schedule decides when
    trials stop. Oracle arguments are split off as in :class:`GPUCB`.

    Args:
        hypermodel: As for ``keras_tuner.Tuner``; its ``fit`` must accept a
            ``train_fraction`` keyword (as :class:`kt_ext.hypermodel.SpaceHyperModel`'s does).
        **kwargs: Oracle and tuner arguments.
    """

    CHECKPOINT = "continue.keras"
    ORACLE = HalvingOracle

    def __init__(self, hypermodel: Any = None, **kwargs: Any) -> None:
        executions = kwargs.get("executions_per_trial", 1)
        if executions != 1:
            raise ValueError(
                f"The value of `executions_per_trial` is {executions!r}, but must be 1 with "
                "successive halving (a trial continues one model)."
            )
        self._trial_start = 0.0
        self._loading = False
        super().__init__(hypermodel=hypermodel, **kwargs)

    def search(self, *args: Any, **kwargs: Any) -> None:
        """As ``keras_tuner.Tuner.search``; epochs come from the schedule, not ``epochs=``."""
        epochs = kwargs.get("epochs")
        try:
            max_epochs = self.oracle.max_epochs
        except AttributeError:  # a worker's oracle client does not forward it
            max_epochs = None
        if epochs is not None and max_epochs is not None and epochs != max_epochs:
            warnings.warn(
                f"search(epochs={epochs}) is not used: successive halving trains each trial "
                f"up to its rung's budget, at most max_epochs={max_epochs}.",
                stacklevel=2,
            )
        super().search(*args, **kwargs)

    def run_trial(self, trial: keras_tuner.engine.trial.Trial, *args: Any, **kwargs: Any) -> Any:
        values = trial.hyperparameters.values
        kwargs["epochs"] = int(values[halving.EPOCHS])
        kwargs["initial_epoch"] = int(values[halving.INITIAL_EPOCH])
        if halving.FRACTION in values:
            kwargs["train_fraction"] = float(values[halving.FRACTION])
        kwargs["callbacks"] = [
            cb
            for cb in kwargs.get("callbacks", [])
            if not isinstance(cb, keras.callbacks.EarlyStopping)
        ]
        self._trial_start = time.perf_counter()
        return super().run_trial(trial, *args, **kwargs)

    def _run_and_update_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            # Results reach the oracle per epoch, so KerasTuner skips its final report and warns.
            warnings.filterwarnings("ignore", message="The use case of calling")
            return super()._run_and_update_trial(trial, *args, **kwargs)

    def load_model(self, trial: keras_tuner.engine.trial.Trial) -> keras.Model:
        """The trial's best-epoch model, built fresh (no parent checkpoint) before loading."""
        self._loading = True
        try:
            return super().load_model(trial)
        finally:
            self._loading = False

    def _build_hypermodel(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        parent = hp.values.get(halving.PARENT)
        if self._loading or not parent or int(hp.values.get(halving.INITIAL_EPOCH, 0)) == 0:
            return super()._build_hypermodel(hp)
        path = os.path.join(self.get_trial_dir(parent), self.CHECKPOINT)
        with keras_tuner.engine.tuner.maybe_distribute(self.distribution_strategy):
            return keras.saving.load_model(path, safe_mode=True)

    def on_epoch_end(
        self,
        trial: keras_tuner.engine.trial.Trial,
        model: keras.Model,
        epoch: int,
        logs: dict[str, Any] | None = None,
    ) -> None:
        values = trial.hyperparameters.values
        metrics = {k: float(v) for k, v in (logs or {}).items()}
        if non_finite(metrics, ("loss", "val_loss", self.oracle.objective.name)):
            model.stop_training = True  # run_trial fails the trial; the oracle never sees it
            return
        metrics[EPOCHS_RUN] = float(epoch + 1 - int(values[halving.INITIAL_EPOCH]))
        metrics[SECONDS] = time.perf_counter() - self._trial_start
        metrics[RSS_MIB] = rss_mib()
        answer = self.oracle.update_trial(trial.trial_id, metrics, step=epoch)
        stop = answer.status == keras_tuner.engine.trial.TrialStatus.STOPPED
        last = epoch + 1 >= int(values[halving.EPOCHS])
        if (stop or last) and halving.FRACTION not in values:
            state.save_model(
                model, os.path.join(self.get_trial_dir(trial.trial_id), self.CHECKPOINT)
            )
        if stop:
            model.stop_training = True


class Halving(TrialRecorder, _HalvingTuner):
    """kt-ext's successive halving / Hyperband / BOHB, with per-trial seeds and recording."""


class Hyperband(TrialRecorder, keras_tuner.Hyperband):
    """KerasTuner's Hyperband, with per-trial seeds and recording."""


class GridSearch(TrialRecorder, keras_tuner.GridSearch):
    """KerasTuner's grid search; floats without a step become ``float_points`` values.

    Args:
        float_points: Grid points per continuous float (log-spaced for log
            sampling), bounds included. Must be >= 2 (the YAML sets it).
        hyperparameters: The search space; required to discretise floats.
        **kwargs: Passed to ``keras_tuner.GridSearch``.
    """

    def __init__(
        self,
        *args: Any,
        float_points: int,
        hyperparameters: keras_tuner.HyperParameters | None = None,
        **kwargs: Any,
    ) -> None:
        if float_points < 2:
            raise ValueError(f"The value of `float_points` is {float_points}, but must be >= 2.")
        if hyperparameters is not None:
            hyperparameters = discretise_floats(hyperparameters, float_points)
        super().__init__(*args, hyperparameters=hyperparameters, **kwargs)


def discretise_floats(hp: keras_tuner.HyperParameters, points: int) -> keras_tuner.HyperParameters:
    """A copy of ``hp`` with each float lacking a step turned into ``points`` ordered choices."""
    config = hp.get_config()
    for entry in config["space"]:
        c = entry["config"]
        if entry["class_name"] != "Float" or c.get("step") is not None:
            continue
        values = grid_values(c["min_value"], c["max_value"], points, log=c["sampling"] == "log")
        default = c.get("default")
        default = values[0] if default is None else min(values, key=lambda v: abs(v - default))
        entry["class_name"] = "Choice"
        entry["config"] = {
            "name": c["name"],
            "values": values,
            "ordered": True,
            "default": default,
            "conditions": c["conditions"],
        }
        if c["name"] in config["values"]:
            config["values"][c["name"]] = default
    return keras_tuner.HyperParameters.from_config(config)
