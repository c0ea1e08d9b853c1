"""Plots and tables of a finished run or sweep, as files (``scripts/report.py``).

For a run directory::

    convergence.png         best-so-far objective against trial number (and every trial's score)
    partial_dependence.png  objective landscape: one panel per hyperparameter (diagonal) and
                            pairwise contours for the ones that mattered most (the ranking of
                            :mod:`kt_ext.outputs.importance`; below its trial count, the
                            space's order), from a GP fitted to the trials (like
                            scikit-optimize's ``plot_objective``)
    curves.png              per-epoch validation curves of the top-N configurations
    best_table.txt/.csv     the best-N table

For a sweep directory (Hydra multirun): every job's report, plus ``convergence.png``
with one line per job.

Inputs are files only: KerasTuner's ``kt/trial_*/trial.json`` and ``oracle.json``,
``summary.json`` and the TensorBoard curves (read with TensorBoard's own reader, which
loads TensorFlow when it is installed), read by :mod:`kt_ext.outputs.runs`. The surrogate is
:mod:`kt_ext.gp`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kt_ext.gp import GaussianProcess, SpaceEncoder, fit_params, standardise
from kt_ext.outputs import files, results
from kt_ext.outputs.board import read_scalars
from kt_ext.outputs.figures import plt, save_figure
from kt_ext.outputs.files import CURVE_PREFIX, PROJECT, TRAIN_RUN, VALIDATION_RUN
from kt_ext.outputs.runs import RunRecord, job_dirs, load_run, load_runs, trial_number
from kt_ext.outputs.tradeoffs import write_tradeoffs

_PD_SAMPLES = 128  # points the partial dependence averages over
_PD_GRID = 40  # grid points per 1-D panel (20 per axis in pairs)
_PAIR_DIMS = 4  # hyperparameters shown in pairwise contours


def scored(record: RunRecord) -> list[results.TrialRow]:
    """Completed trials with a finite score, in trial order."""
    return [
        r
        for r in record.rows
        if r.status == "COMPLETED" and r.score is not None and math.isfinite(r.score)
    ]


def best_so_far(record: RunRecord) -> tuple[np.ndarray, np.ndarray]:
    """Trial numbers and the best score among trials up to each of them (NaN before the first)."""
    numbers = np.array([trial_number(r.trial_id) for r in record.rows], dtype=int)
    best, out = math.nan, []
    better = max if record.direction == "max" else min
    for r in record.rows:
        if r.status == "COMPLETED" and r.score is not None and math.isfinite(r.score):
            best = r.score if math.isnan(best) else better(best, r.score)
        out.append(best)
    return numbers, np.array(out, dtype=float)


# ----------------------------------------------------------------------------- plots


def plot_convergence(records: Sequence[RunRecord], path: Path, points: bool = True) -> None:
    """Best-so-far against trial number, one line per run (with each trial's score if one run)."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for record in records:
        numbers, best = best_so_far(record)
        label = record.label if len(records) > 1 else "best so far"
        ax.step(numbers, best, where="post", label=label, linewidth=2)
        if points and len(records) == 1:
            done = scored(record)
            ax.scatter(
                [trial_number(r.trial_id) for r in done],
                np.array([r.score for r in done], dtype=float),
                s=14,
                alpha=0.5,
                color="gray",
                label="trial",
            )
    objective = records[0].objective if records else "objective"
    ax.set(xlabel="trial", ylabel=objective, title=f"Convergence ({objective})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_curves(record: RunRecord, path: Path, top_n: int) -> list[str]:
    """Per-epoch curves of the objective for the top-N configurations.

    Returns:
        The trial ids plotted.
    """
    name = record.objective
    run, tag = (VALIDATION_RUN, name[4:]) if name.startswith("val_") else (TRAIN_RUN, name)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plotted = []
    for rank, row in enumerate(results.best_rows(record.rows, record.direction, top_n), start=1):
        curve_dir = record.path / files.TENSORBOARD / row.trial_id / run
        points = read_scalars(curve_dir).get(CURVE_PREFIX + tag, []) if curve_dir.is_dir() else []
        if not points:
            continue
        steps, values = zip(*points, strict=True)
        ax.plot(
            np.array(steps) + 1,
            values,
            marker="o",
            ms=3,
            label=f"Best-{rank}: trial {row.trial_id} ({row.score:.4g})",
        )
        plotted.append(row.trial_id)
    ax.set(xlabel="epoch", ylabel=name, title=f"{name} per epoch, best {top_n} configurations")
    ax.grid(alpha=0.3)
    if plotted:
        ax.legend(fontsize=8)
    save_figure(fig, path)
    return plotted


@dataclass
class Surrogate:
    """A GP fitted to a run's trials, in the objective's own units."""

    encoder: SpaceEncoder
    gp: GaussianProcess
    mean: float
    scale: float
    u_obs: np.ndarray
    y_obs: np.ndarray

    def predict(self, u: np.ndarray) -> np.ndarray:
        """Posterior mean of the objective at raw points ``(m, p)``."""
        x = self.encoder.features(self.encoder.snap(u))
        return self.gp.predict(x)[0] * self.scale + self.mean


def fit_surrogate(record: RunRecord, seed: int = 0) -> Surrogate | None:
    """A GP over the completed trials, or ``None`` with fewer than 3 or no tunable entry."""
    encoder = SpaceEncoder(record.space)
    done = scored(record)
    if len(done) < 3 or encoder.n_raw == 0:
        return None
    u = np.array([encoder.encode(r.values) for r in done])
    y = np.array([r.score for r in done], dtype=float)
    g, mean, scale = standardise(y)
    x = encoder.features(encoder.snap(u))
    params = fit_params(x, g, np.random.default_rng(seed))
    return Surrogate(encoder, GaussianProcess(x, g, params), mean, scale, u, y)


def _axis(surrogate: Surrogate, i: int, n: int) -> tuple[np.ndarray, list[Any]]:
    """Raw grid along hyperparameter ``i`` and the values it decodes to."""
    d = surrogate.encoder.dims[i]
    units = d.canonical_units() if d.categories is not None or d.ordered is not None else []
    grid = np.array(units) if units else np.linspace(0.0, 1.0, n)
    return grid, [d.decode(float(u)) for u in grid]


def partial_dependence(
    surrogate: Surrogate, dims: Sequence[int], grids: Sequence[np.ndarray], samples: np.ndarray
) -> np.ndarray:
    """Mean prediction over ``samples`` with hyperparameters ``dims`` set to grid values.

    Returns:
        An array of shape ``[len(g) for g in grids]``.
    """
    mesh = np.meshgrid(*grids, indexing="ij")
    shape = mesh[0].shape
    # Every grid point times every sample in one batch: one encoding and one
    # GP prediction instead of one per grid point.
    u = np.tile(samples, (mesh[0].size, 1))
    for d, m in zip(dims, mesh, strict=True):
        u[:, d] = np.repeat(m.ravel(), len(samples))
    return surrogate.predict(u).reshape(mesh[0].size, len(samples)).mean(axis=1).reshape(shape)


def plot_partial_dependence(
    record: RunRecord, path: Path, ranked: Sequence[str] = (), seed: int = 0
) -> bool:
    """The objective landscape (see the module docstring); ``False`` if too few trials.

    Args:
        record: The run.
        path: The PNG to write.
        ranked: Hyperparameter names, what mattered most first (empty: the space's order).
        seed: Seed of the GP fit and of the points averaged over.
    """
    surrogate = fit_surrogate(record, seed)
    if surrogate is None:
        return False
    enc = surrogate.encoder
    rng = np.random.default_rng(seed)
    samples = enc.snap(rng.random((_PD_SAMPLES, enc.n_raw)))
    order = [enc.names.index(n) for n in ranked] if ranked else list(range(enc.n_raw))
    pairs = [int(i) for i in order[: min(_PAIR_DIMS, enc.n_raw)]]
    rest = [int(i) for i in order[len(pairs) :]]
    n = len(pairs)
    cols = max(n, 4)
    extra_rows = math.ceil(len(rest) / cols)
    fig, axes = plt.subplots(
        n + extra_rows, cols, figsize=(3.0 * cols, 2.6 * (n + extra_rows)), squeeze=False
    )
    for ax in axes.ravel():
        ax.set_visible(False)
    for r, i in enumerate(pairs):
        _panel_1d(axes[r][r], surrogate, i, samples, record)
        for c, j in enumerate(pairs[:r]):
            _panel_2d(axes[r][c], surrogate, i, j, samples)
    for k, i in enumerate(rest):
        _panel_1d(axes[n + k // cols][k % cols], surrogate, i, samples, record)
    fig.suptitle(
        f"Partial dependence of {record.objective} (GP over {len(surrogate.y_obs)} trials; "
        + ("what mattered most first)" if ranked else "in the space's order)"),
        fontsize=10,
    )
    save_figure(fig, path)
    return True


def _panel_1d(ax: Any, s: Surrogate, i: int, samples: np.ndarray, record: RunRecord) -> None:
    d = s.encoder.dims[i]
    grid, values = _axis(s, i, _PD_GRID)
    pd = partial_dependence(s, [i], [grid], samples)
    ax.set_visible(True)
    observed_u = s.u_obs[:, i]
    if d.categories is not None:
        ax.plot(range(len(values)), pd, marker="o")
        ax.set_xticks(range(len(values)), [str(v) for v in values], fontsize=7)
        idx = d.category_index(observed_u)
        ax.scatter(idx, s.y_obs, s=10, color="gray", alpha=0.6)
    else:
        xs = np.array([float(v) for v in values])
        ax.plot(xs, pd)
        obs = np.array([float(d.decode(float(u))) for u in observed_u])
        ax.scatter(obs, s.y_obs, s=10, color="gray", alpha=0.6)
        if d.sampling == "log":
            ax.set_xscale("log")
    ax.set_title(d.name, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.set_ylabel(record.objective, fontsize=7)


def _panel_2d(ax: Any, s: Surrogate, i: int, j: int, samples: np.ndarray) -> None:
    di, dj = s.encoder.dims[i], s.encoder.dims[j]
    gi, _ = _axis(s, i, _PD_GRID // 2)
    gj, _ = _axis(s, j, _PD_GRID // 2)
    pd = partial_dependence(s, [j, i], [gj, gi], samples)  # rows: j (x axis), cols: i (y axis)
    ax.set_visible(True)
    ax.pcolormesh(gj, gi, pd.T, shading="nearest", cmap="viridis")
    ax.scatter(s.u_obs[:, j], s.u_obs[:, i], s=6, color="white", edgecolors="black", alpha=0.8)
    for axis, grid, d in ((ax.xaxis, gj, dj), (ax.yaxis, gi, di)):
        ticks = grid[np.linspace(0, len(grid) - 1, min(len(grid), 4)).round().astype(int)]
        axis.set_ticks(ticks, [results.format_value(d.decode(float(u))) for u in ticks])
    ax.set_xlabel(dj.name, fontsize=7)
    ax.set_ylabel(di.name, fontsize=7)
    ax.tick_params(labelsize=6)


# ----------------------------------------------------------------------------- entry points


def best_table_csv(record: RunRecord, top_n: int) -> str:
    """The best-N table as CSV: rank, trial id, objective, then every hyperparameter."""
    best = results.best_rows(record.rows, record.direction, top_n)
    names = [e["config"]["name"] for e in record.space]
    rows = [
        {"rank": k, "trial_id": r.trial_id, record.objective: r.score}
        | {n: r.config.get(n, "") for n in names}
        for k, r in enumerate(best, start=1)
    ]
    return results.dicts_csv(rows)


def report_run(run_dir: Path, top_n: int = 5) -> list[Path]:
    """Write a run's plots and best-N table; returns the files written.

    Raises:
        StateError: One of the run's files is damaged (:func:`load_run`).
    """
    return _report_record(load_run(run_dir), top_n)


def _report_record(record: RunRecord, top_n: int) -> list[Path]:
    run_dir = record.path
    written = [run_dir / files.CONVERGENCE_PNG, run_dir / files.CURVES_PNG]
    plot_convergence([record], written[0])
    plot_curves(record, written[1], top_n)
    tradeoffs, ranking = write_tradeoffs(record)
    first = list(next(iter(ranking.values()), {}))  # the panels' order: what mattered
    if plot_partial_dependence(record, run_dir / files.PARTIAL_DEPENDENCE_PNG, first):
        written.append(run_dir / files.PARTIAL_DEPENDENCE_PNG)
    table = results.best_table(record.rows, record.objective, record.direction, top_n)
    results.write_text(run_dir / files.BEST_TABLE, table + "\n")
    results.write_text(run_dir / files.BEST_TABLE_CSV, best_table_csv(record, top_n))
    written += [run_dir / files.BEST_TABLE, run_dir / files.BEST_TABLE_CSV]
    return written + tradeoffs


def report(path: Path, top_n: int = 5) -> list[Path]:
    """Report on a run or a sweep directory; returns the files written.

    Raises:
        FileNotFoundError: ``path`` is neither a run nor a sweep with runs.
    """
    path = Path(path)
    if (path / PROJECT / files.ORACLE_FILE).is_file():
        return report_run(path, top_n)
    jobs = job_dirs(path) if path.is_dir() else []
    if not jobs:
        raise FileNotFoundError(f"{path} holds no kt-ext run (no {PROJECT}/oracle.json)")
    records = load_runs(jobs)
    written = [f for record in records for f in _report_record(record, top_n)]
    plot_convergence(records, path / files.CONVERGENCE_PNG)
    return [*written, path / files.CONVERGENCE_PNG]
