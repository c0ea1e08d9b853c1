"""A running search made visible, and stoppable: a line per trial, current files, a live status.

:class:`SearchWatch` is called after every finished trial (the tuner's
``after_trial`` hook, :class:`kt_ext.tuners.TrialRecorder`). Each time it

* brings ``trials.csv``, the best-N table and ``summary.json`` (with
  ``status: running``) up to date, so a running or interrupted run can always
  be inspected (``scripts/status.py``);
* logs one line: the trial, its score, the best so far, its epochs and
  seconds, the hyperparameters that differ from the best trial's, and how
  many trials are done with an estimate of the time left (``report.verbose``
  0 drops it; 2 adds KerasTuner's own per-trial tables);
* in a terminal, advances a live status bar (rich) over the trials, or over
  the epochs for strategies whose schedule fixes them (halving, Hyperband),
  with the best score and the time left. Log lines are printed above the bar;
  when stdout is not a terminal (a log file, CI) there is no bar.

Stopping is a normal event: :func:`stop_on_signals` turns SIGINT and SIGTERM
into :class:`Stopped` (a ``KeyboardInterrupt``, which KerasTuner does not
swallow as a trial failure), the search writes its files with ``status:
interrupted`` and the script prints one line with the command that resumes
it, exiting with ``128 + signal`` (130, 143).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from kt_ext.config.strategies import Plan
from kt_ext.objectives import Objective, Selection
from kt_ext.outputs import files, results, writers
from kt_ext.outputs.status import OPEN as _OPEN
from kt_ext.outputs.status import RUN_FINISHED, RUN_INTERRUPTED, RUN_RUNNING

log = logging.getLogger(__name__)


class Stopped(KeyboardInterrupt):
    """The run was asked to stop (SIGINT, SIGTERM).

    Attributes:
        exit_code: ``128 + signal``: 130 for SIGINT, 143 for SIGTERM.
    """

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + int(signum)


_signal: list[int] = []  # the signal received, once one was
_deferring: list[bool] = []  # non-empty while training: stop at the next check instead


def stop_on_signals() -> None:
    """On SIGINT and SIGTERM, stop: at once, or at the next :func:`check_stop` while deferred.

    A handler that raises at once can land inside a destructor or weak-reference
    callback, where Python prints and ignores the exception; so while trials
    train (:func:`deferred_stop`) it only records the signal, and the search
    raises at its next check: after each training or validation batch (a Keras
    callback, :class:`kt_ext.run.build.StopCheck`), after each trial, and on
    each poll of a parallel chief.
    """

    def handler(signum: int, frame: Any) -> None:
        first = not _signal
        _signal[:] = [signum]
        if first and not _deferring:  # a second signal finds the run already stopping
            raise Stopped(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)


def check_stop() -> None:
    """Raise :class:`Stopped` if a stop signal arrived.

    Raises:
        Stopped: With the signal received.
    """
    if _signal:
        raise Stopped(_signal[0])


@contextlib.contextmanager
def deferred_stop() -> Iterator[None]:
    """While inside, a stop signal waits for the next :func:`check_stop`."""
    _deferring.append(True)
    try:
        check_stop()
        yield
    finally:
        _deferring.pop()


class SearchWatch:
    """Follows one search; see the module docstring.

    Args:
        run_dir: The run directory.
        oracle: The tuner's oracle (its trials are read after each one ends).
        names: The space's hyperparameter names (``trials.csv`` columns).
        objective: The objective's name.
        direction: ``"min"`` or ``"max"``.
        top_n: Rows of the best-N table.
        plan: What the strategy will spend (the estimate of the time left).
        verbose: ``report.verbose``.
        stream: Where the live bar goes (stdout).
        objectives: Every objective of a multi-objective search (its lines
            show them; its files mark the front).
        selection: ``search.select`` (``best_hyperparameters.yaml``).
    """

    def __init__(
        self,
        run_dir: Path,
        oracle: Any,
        names: Sequence[str],
        objective: str,
        direction: str,
        top_n: int,
        plan: Plan,
        verbose: int = 1,
        stream: TextIO | None = None,
        objectives: Sequence[Objective] = (),
        selection: Selection | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.objectives = tuple(objectives)
        self.selection = selection
        self.oracle = oracle
        self.names = list(names)
        self.objective = objective
        self.direction = direction
        self.top_n = top_n
        self.plan = plan
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self.start = time.time()
        self._bar: Any = None
        self._task: Any = None
        self._handlers: list[tuple[logging.StreamHandler, Any]] = []
        self._seen: set[str] = set()

    # ------------------------------------------------------------------ events
    def begin(self) -> None:
        """Record the run as running; start the live bar in a terminal."""
        rows = self.rows()
        self._seen = {r.trial_id for r in rows if r.status not in _OPEN}
        writers.write_summary(self.run_dir, self.summary(RUN_RUNNING, rows))
        if self.verbose >= 1 and self.stream.isatty():
            self._start_bar(rows)

    def trial_ended(self, trial: Any = None) -> None:
        """After a trial ends: :meth:`poll` (``trial`` is the tuner hook's argument)."""
        self.poll()

    def poll(self) -> None:
        """For the trials that ended since the last call: the files, a line each, the bar.

        Called after each trial in the process that runs them, and on every poll
        of the chief's server in a parallel search (workers run the trials);
        then stops the search if a stop signal arrived (:func:`check_stop`).
        """
        try:
            self._poll()
        finally:
            check_stop()

    def _poll(self) -> None:
        rows = self.rows()
        ended = [r for r in rows if r.status not in _OPEN and r.trial_id not in self._seen]
        if not ended:
            return
        self.write(rows, RUN_RUNNING)
        for row in ended:
            self._seen.add(row.trial_id)
            if self.verbose >= 1:
                log.info("%s", self.line(row, rows))
            if self._bar is not None:
                self._advance(row, rows)

    def end(self, status: str) -> dict[str, Any]:
        """Stop the bar; with ``status`` interrupted, write the files saying so.

        Returns:
            The ``status`` entry of ``summary.json``.
        """
        self._stop_bar()
        if status == RUN_INTERRUPTED:
            self.write(self.rows(), status)
        return {"status": status}

    # ------------------------------------------------------------------ files
    def rows(self) -> list[results.TrialRow]:
        """Every trial of the oracle, as ``trials.csv`` rows."""
        return results.oracle_rows(self.oracle)

    def write(self, rows: list[results.TrialRow], status: str) -> None:
        """``trials.csv``, the best-N table and a ``summary.json`` with ``status``."""
        writers.write_trial_outputs(
            rows,
            self.run_dir,
            self.names,
            self.objective,
            self.direction,
            self.top_n,
            quiet=True,
            objectives=self.objectives,
            selection=self.selection,
        )
        writers.write_summary(self.run_dir, self.summary(status, rows))

    def summary(self, status: str, rows: Sequence[results.TrialRow]) -> dict[str, Any]:
        """What ``summary.json`` says while the search runs or after it was interrupted."""
        best = results.best_rows(rows, self.direction, 1)
        return {
            "status": status,
            "objective": self.objective,
            "direction": self.direction,
            "best_score": best[0].score if best else None,
            "best_trial_id": best[0].trial_id if best else None,
            "best_values": best[0].config if best else None,
            **writers.summary_counts(rows),
            "running": sum(r.status == "RUNNING" for r in rows),
            "planned_trials": self.plan.trials,
            "planned_epochs": self.plan.epochs,
            "seconds": round(time.time() - self.start, 2),
            "updated": time.time(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }

    # ------------------------------------------------------------------ lines
    def line(self, row: results.TrialRow, rows: Sequence[results.TrialRow]) -> str:
        """``trial 3 COMPLETED val_loss 0.4123 | best 0.4001 (trial 1) | 12 epochs 4.1 s | ...``."""
        text, best = self._lead(rows)
        score = "-" if row.score is None else f"{row.score:.4g}"
        parts = [f"trial {row.trial_id} {row.status} {self.objective} {score}"]
        for o in self.objectives[1:]:  # several objectives: the others too
            value = row.metrics.get(o.name)
            parts[0] += f" {o.name} {'-' if value is None else f'{value:.4g}'}"
        if text:
            parts.append(text)
        parts.append(f"{row.epochs or 0:g} epochs {row.seconds or 0:.1f} s")
        reference = best.config if best is not None and best.trial_id != row.trial_id else {}
        changed = {k: v for k, v in row.config.items() if reference.get(k, object()) != v}
        if changed:
            parts.append(" ".join(f"{k}={results.format_value(v)}" for k, v in changed.items()))
        done = sum(r.status not in _OPEN for r in rows)
        parts.append(self._progress(done, rows))
        return " | ".join(parts)

    def _lead(self, rows: Sequence[results.TrialRow]) -> tuple[str, results.TrialRow | None]:
        """What leads the search so far, as text, and that trial's row.

        ``best 0.4001 (trial 1)``; with several objectives the size of the front
        and ``search.select``'s choice: ``front 3, selected trial 1``.
        """
        if len(self.objectives) > 1 and self.selection is not None:
            chosen = results.selected_row(rows, self.objectives, self.selection)
            front = len(results.pareto_rows(rows, self.objectives))
            text = f"front {front}" + (f", selected trial {chosen.trial_id}" if chosen else "")
            return (text if front else ""), chosen
        best = results.best_rows(rows, self.direction, 1)
        if not best:
            return "", None
        return f"best {best[0].score:.4g} (trial {best[0].trial_id})", best[0]

    def _progress(self, done: int, rows: Sequence[results.TrialRow]) -> str:
        """``4/8 trials, about 15 s left`` (by epochs when the schedule fixes them)."""
        elapsed = time.time() - self.start
        new = [r for r in rows if r.trial_id in self._seen]
        text = f"{done}/{self.plan.trials} trials" if self.plan.trials else f"{done} trials"
        if self.plan.epochs:
            spent = sum(r.epochs or 0 for r in rows)
            rate = sum(r.epochs or 0 for r in new) / elapsed if elapsed > 0 else 0
            left = (self.plan.epochs - spent) / rate if rate > 0 else None
            text += f", {spent:g}/{self.plan.epochs:g} epochs"
        elif self.plan.trials:
            left = elapsed / len(new) * (self.plan.trials - done) if new else None
        else:
            left = None
        if left is not None:
            text += f", about {_duration(max(left, 0.0))} left"
        return text

    # ------------------------------------------------------------------ live bar
    def _start_bar(self, rows: Sequence[results.TrialRow]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        by_epochs = bool(self.plan.epochs)
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[best]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=Console(file=self.stream),
            transient=True,
        )
        total = self.plan.epochs if by_epochs else self.plan.trials
        done = sum(r.epochs or 0 for r in rows) if by_epochs else len(self._seen)
        self._task = self._bar.add_task(
            "epochs" if by_epochs else "trials", total=total, completed=done, best=""
        )
        self._bar.start()  # in a terminal rich puts a proxy in sys.stdout that prints above it
        # log lines go above the bar: point stdout handlers at that proxy
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is self.stream:
                self._handlers.append((handler, handler.stream))
                handler.setStream(sys.stdout)

    def _advance(self, row: results.TrialRow, rows: Sequence[results.TrialRow]) -> None:
        text, _ = self._lead(rows)
        step = (row.epochs or 0) if self.plan.epochs else 1
        self._bar.update(self._task, advance=step, best=text)

    def _stop_bar(self) -> None:
        if self._bar is None:
            return
        for handler, stream in self._handlers:
            handler.setStream(stream)
        self._handlers = []
        self._bar.stop()
        self._bar = None


def _duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``2.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def resume_command(run_dir: Path, overrides: Sequence[str], script: str) -> str:
    """The command that resumes the run in ``run_dir`` with the same settings."""
    import shlex

    kept = [o for o in overrides if not o.lstrip("+~").startswith("hydra.run.dir")]
    return shlex.join(["python", script, *kept, f"hydra.run.dir={run_dir}"])


def stopped_line(error: BaseException, run_dir: Path, command: str) -> str:
    """The one line a stopped run prints: what stopped it, what finished, how to resume.

    A stop after the last trial (while the best model and the report are
    written) says so: the command then only writes what is missing.
    """
    import json

    name = signal.Signals(getattr(error, "exit_code", 130) - 128).name
    try:
        summary = json.loads((Path(run_dir) / files.SUMMARY).read_text())
        done = f"{summary['completed']} completed and {summary['failed']} failed trial(s) kept"
        if summary.get("status") == RUN_FINISHED:
            return (
                f"kt-ext: stopped by {name} while writing the report: every trial finished "
                f"({done}); write the report with: {command}"
            )
    except (OSError, ValueError, KeyError):
        done = "no trial finished"
    return f"kt-ext: stopped by {name}: {done}; resume with: {command}"


__all__ = [
    "SearchWatch",
    "Stopped",
    "check_stop",
    "deferred_stop",
    "resume_command",
    "stop_on_signals",
    "stopped_line",
]
