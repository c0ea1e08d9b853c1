"""Map a KerasTuner search space to the unit cube and to GP features, vectorised.

Two representations of a candidate configuration:

* **raw** ``u ∈ [0, 1]^p``: one coordinate per tunable hyperparameter, the
  space candidates are drawn in (Sobol points, perturbations, polish);
* **features** ``x``: what the GP sees. A numeric hyperparameter (float,
  int, ordered choice) is one column, its position in ``[0, 1]`` along its
  own scale (log-scale ones in log space) after snapping to its grid (ints,
  steps, ordered values). An unordered choice with ``k > 2`` values is ``k``
  one-hot columns (one ``0/1`` column for ``k = 2``, booleans included), so
  no false order is implied.

A conditional hyperparameter whose condition fails is *inactive*: its
columns hold :data:`INACTIVE`, a constant outside ``[0, 1]``, rather than a
pretend default (the imputation studied by Lévesque et al., "Bayesian
Optimization for Conditional Hyperparameter Spaces", IJCNN 2017). Inactive
hyperparameters are left out of decoded values, as KerasTuner expects.

The space comes in as ``keras_tuner.HyperParameters.get_config()["space"]``
(plain dicts), so this module never imports KerasTuner or TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

INACTIVE = -0.5
"""Feature value of every column of an inactive hyperparameter."""


@dataclass
class _Dim:
    """One tunable hyperparameter (fixed ones are kept apart)."""

    name: str
    raw: int  # index into u
    col: int  # first feature column
    width: int  # number of feature columns
    conditions: list[tuple[str, list[Any]]]
    categories: list[Any] | None = None  # unordered choice / boolean
    ordered: list[Any] | None = None  # ordered choice values
    low: float = 0.0
    high: float = 1.0
    sampling: str = "linear"
    step: float | None = None
    is_int: bool = False
    grid_size: int | None = None  # None: continuous

    # --- numeric scale -------------------------------------------------
    def to_unit(self, values: np.ndarray | Sequence[Any]) -> np.ndarray:
        """Values → positions in [0, 1] along this dimension's scale."""
        if self.ordered is not None:
            k = len(self.ordered)
            idx = np.array([self.ordered.index(x) for x in np.ravel(values)], dtype=float)
            return idx / (k - 1) if k > 1 else np.full(idx.shape, 0.5)
        v = np.asarray(values, dtype=float)
        lo, hi = self.low, self.high
        if hi == lo:
            return np.full(v.shape, 0.5)
        if self.sampling == "log":
            return np.log(v / lo) / math.log(hi / lo)
        if self.sampling == "reverse_log":
            return 1.0 - np.log((hi + lo - v) / lo) / math.log(hi / lo)
        return (v - lo) / (hi - lo)

    def _from_unit(self, u: np.ndarray) -> np.ndarray:
        lo, hi = self.low, self.high
        if self.sampling == "log":
            return lo * (hi / lo) ** u
        if self.sampling == "reverse_log":
            return hi + lo - lo * (hi / lo) ** (1.0 - u)
        return lo + u * (hi - lo)

    def grid_index(self, u: np.ndarray) -> np.ndarray:
        """Index of the nearest grid value (ordered choices, steps, ints without step)."""
        if self.ordered is not None:
            return np.rint(u * (len(self.ordered) - 1)).astype(int)
        v = self._from_unit(u)
        lo = self.low
        if self.step is None:  # integers, step 1
            idx = np.rint(v - lo)
        elif self.sampling == "log":
            idx = np.rint(np.log(v / lo) / math.log(self.step))
        elif self.sampling == "reverse_log":
            idx = np.rint(np.log((self.high + lo - v) / lo) / math.log(self.step))
        else:
            idx = np.rint((v - lo) / self.step)
        assert self.grid_size is not None  # only gridded dimensions are indexed
        return np.clip(idx, 0, self.grid_size - 1).astype(int)

    def grid_value(self, idx: int) -> Any:
        """The ``idx``-th grid value, computed as KerasTuner computes it (same floats)."""
        if self.ordered is not None:
            return self.ordered[idx]
        lo = self.low
        if self.step is None:
            value: float = lo + idx
        elif self.sampling == "log":
            value = lo * math.pow(self.step, idx)
        elif self.sampling == "reverse_log":
            value = self.high + lo - lo * math.pow(self.step, idx)
        else:
            value = lo + idx * self.step
        return int(round(value)) if self.is_int else float(value)

    def snap(self, u: np.ndarray) -> np.ndarray:
        """Raw coordinates → canonical raw coordinates of the values they decode to."""
        if self.categories is not None:
            k = len(self.categories)
            return (self.category_index(u) + 0.5) / k
        if self.grid_size is None:
            return np.clip(u, 0.0, 1.0)
        idx, inverse = np.unique(self.grid_index(np.clip(u, 0.0, 1.0)), return_inverse=True)
        units = self.to_unit([self.grid_value(int(i)) for i in idx])
        return units[inverse].reshape(u.shape)

    def category_index(self, u: np.ndarray) -> np.ndarray:
        """Raw coordinate → category index (``k`` equal bins)."""
        k = len(self.categories or [None])
        return np.minimum((np.clip(u, 0.0, 1.0) * k).astype(int), k - 1)

    def decode(self, u: float) -> Any:
        """One raw coordinate → a plain-Python value (:meth:`decode_column` of one)."""
        values, index = self.decode_column(np.array([u], dtype=float))
        return values[int(index[0])]

    def decode_column(self, u: np.ndarray) -> tuple[list[Any], np.ndarray]:
        """Raw coordinates ``(m,)`` → their distinct values and each one's index among them.

        A column of ``m`` points takes few values (categories, grid points),
        each decoded once; a continuous one takes ``m``.
        """
        if self.categories is not None:
            return list(self.categories), self.category_index(u)
        if self.grid_size is not None:
            idx, inverse = np.unique(self.grid_index(u), return_inverse=True)
            return [self.grid_value(int(i)) for i in idx], inverse.reshape(-1)
        values = np.clip(self._from_unit(np.asarray(u, dtype=float)), self.low, self.high)
        if self.is_int:
            return [int(round(float(v))) for v in values], np.arange(len(values))
        return [float(v) for v in values], np.arange(len(values))

    def canonical_units(self) -> list[float]:
        """Canonical raw coordinates of every value of a finite dimension."""
        if self.categories is not None:
            k = len(self.categories)
            return [(i + 0.5) / k for i in range(k)]
        n = self.grid_size or 0
        return [float(u) for u in self.to_unit([self.grid_value(i) for i in range(n)])]


@dataclass
class SpaceEncoder:
    """Encoder of one search space; see the module docstring.

    Args:
        space: ``HyperParameters.get_config()["space"]``: a list of
            ``{"class_name": ..., "config": {...}}`` dicts, parents before
            children (KerasTuner's declaration order).
    """

    space: Sequence[Mapping[str, Any]]
    dims: list[_Dim] = field(init=False)
    fixed: list[tuple[str, Any, list[tuple[str, list[Any]]]]] = field(init=False)
    n_raw: int = field(init=False)
    n_features: int = field(init=False)
    parents: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.dims, self.fixed = [], []
        col = 0
        for entry in self.space:
            kind, c = entry["class_name"], entry["config"]
            conditions = [
                (cond["config"]["name"], list(cond["config"]["values"]))
                for cond in c.get("conditions", [])
            ]
            dim = _make_dim(kind, c, len(self.dims), col, conditions)
            if dim is None:
                value = c["value"] if kind == "Fixed" else c["values"][0]
                self.fixed.append((c["name"], value, conditions))
                continue
            self.dims.append(dim)
            col += dim.width
        self.n_raw, self.n_features = len(self.dims), col
        self.parents = {p for d in self.dims for p, _ in d.conditions}

    @property
    def names(self) -> list[str]:
        """Names of the tunable hyperparameters, in raw-coordinate order."""
        return [d.name for d in self.dims]

    @property
    def feature_names(self) -> list[str]:
        """Name of each GP feature column: the hyperparameter (``name=value`` if one-hot)."""
        out: list[str] = []
        for d in self.dims:
            if d.width == 1:
                out.append(d.name)
            else:
                out.extend(f"{d.name}={c}" for c in d.categories or ())
        return out

    @property
    def numeric(self) -> np.ndarray:
        """Boolean mask ``(p,)`` of raw coordinates that are numeric (one feature column each)."""
        return np.array([d.categories is None for d in self.dims], dtype=bool)

    @property
    def numeric_columns(self) -> np.ndarray:
        """Feature column of each numeric raw coordinate, in raw order."""
        return np.array([d.col for d in self.dims if d.categories is None], dtype=int)

    def _active(self, u: np.ndarray) -> np.ndarray:
        """Activity mask ``(m, p)`` of raw points ``(m, p)``, conditions evaluated in order."""
        m = len(u)
        active = np.ones((m, self.n_raw), dtype=bool)
        decoded: dict[str, tuple[list[Any], np.ndarray]] = {}
        is_active: dict[str, np.ndarray] = {}
        for d in self.dims:
            mask = np.ones(m, dtype=bool)
            for parent, values in d.conditions:
                if parent not in decoded:  # parent fixed or unknown
                    mask &= _fixed_condition(self.fixed, parent, values)
                    continue
                distinct, index = decoded[parent]
                holds = np.array([v in values for v in distinct], dtype=bool)
                mask &= is_active[parent] & holds[index]
            active[:, d.raw] = mask
            is_active[d.name] = mask
            if d.name in self.parents:
                decoded[d.name] = d.decode_column(u[:, d.raw])
        return active

    def snap(self, u: np.ndarray) -> np.ndarray:
        """Raw points ``(m, p)`` → canonical raw points (grid and category centres)."""
        out = np.array(u, dtype=float, copy=True)
        for d in self.dims:
            out[:, d.raw] = d.snap(out[:, d.raw])
        return out

    def features(self, u: np.ndarray, active: np.ndarray | None = None) -> np.ndarray:
        """GP features ``(m, D)`` of raw points ``(m, p)`` (snap first for exact values).

        Numeric columns are the raw coordinates themselves (so gradients in
        ``u`` equal gradients in ``x`` there); categories become one-hot.
        """
        u = np.atleast_2d(np.asarray(u, dtype=float))
        if active is None:
            active = self._active(u)
        x = np.empty((len(u), self.n_features))
        for d in self.dims:
            block = x[:, d.col : d.col + d.width]
            if d.categories is None:
                block[:, 0] = np.clip(u[:, d.raw], 0.0, 1.0)
            elif d.width == 1:
                block[:, 0] = d.category_index(u[:, d.raw])
            else:
                block[:] = np.eye(d.width)[d.category_index(u[:, d.raw])]
            block[~active[:, d.raw]] = INACTIVE
        return x

    def active(self, u: np.ndarray) -> np.ndarray:
        """Public form of the activity mask ``(m, p)``."""
        return self._active(np.atleast_2d(np.asarray(u, dtype=float)))

    def decode(self, u: np.ndarray) -> dict[str, Any]:
        """One raw point ``(p,)`` → values of the active hyperparameters (plain Python types)."""
        u = np.asarray(u, dtype=float)
        active = self._active(u[None, :])[0]
        values: dict[str, Any] = {}
        for d in self.dims:
            if active[d.raw]:
                values[d.name] = d.decode(float(u[d.raw]))
        for name, value, conditions in self.fixed:
            if all(p in values and values[p] in vals for p, vals in conditions):
                values[name] = value
        return values

    def encode(self, values: Mapping[str, Any]) -> np.ndarray:
        """Values of one trial → canonical raw point ``(p,)``; absent names stay at 0.5."""
        u = np.full(self.n_raw, 0.5)
        for d in self.dims:
            if d.name not in values:
                continue
            v = values[d.name]
            if d.categories is not None:
                if v in d.categories:
                    u[d.raw] = (d.categories.index(v) + 0.5) / len(d.categories)
            elif d.ordered is not None:
                if v in d.ordered:
                    u[d.raw] = float(d.to_unit([v])[0])
            else:
                u[d.raw] = float(np.clip(d.to_unit(np.array([float(v)]))[0], 0.0, 1.0))
        return u

    def enumerate(self, limit: int) -> np.ndarray | None:
        """Canonical raw points of every configuration of a finite space.

        Args:
            limit: Give up above this many configurations.

        Returns:
            ``(N, p)`` with one row per distinct configuration (inactive
            coordinates at 0.5), or ``None`` if the space is continuous or
            larger than ``limit``.
        """
        if any(d.categories is None and d.grid_size is None for d in self.dims):
            return None
        sizes = [
            len(d.canonical_units()) if d.grid_size is None or d.grid_size <= limit else None
            for d in self.dims
        ]
        if any(s is None for s in sizes):
            return None
        rows: list[list[float]] = [[]]
        for d in self.dims:
            grown: list[list[float]] = []
            units = d.canonical_units()
            for row in rows:
                prefix = np.array(row + [0.5] * (self.n_raw - len(row)))
                if self._active(prefix[None, :])[0, d.raw]:
                    grown.extend(row + [x] for x in units)
                else:
                    grown.append(row + [0.5])
                if len(grown) > limit:
                    return None
            rows = grown
        return np.array(rows, dtype=float).reshape(len(rows), self.n_raw)


def _fixed_condition(
    fixed: list[tuple[str, Any, list[tuple[str, list[Any]]]]], parent: str, values: list[Any]
) -> bool:
    """Whether a condition on a fixed (or unknown) parent holds."""
    for name, value, _ in fixed:
        if name == parent:
            return value in values
    return False


def _make_dim(
    kind: str, c: Mapping[str, Any], raw: int, col: int, conditions: list[tuple[str, list[Any]]]
) -> _Dim | None:
    """A :class:`_Dim` for one space entry, or ``None`` for a fixed value."""
    name = c["name"]
    if kind == "Fixed":
        return None
    if kind == "Boolean":
        return _Dim(name, raw, col, 1, conditions, categories=[False, True])
    if kind == "Choice":
        values = list(c["values"])
        if len(values) == 1:
            return None
        if c.get("ordered"):
            return _Dim(name, raw, col, 1, conditions, ordered=values, grid_size=len(values))
        return _Dim(
            name, raw, col, 1 if len(values) == 2 else len(values), conditions, categories=values
        )
    if kind in ("Float", "Int"):
        lo, hi, step = c["min_value"], c["max_value"], c.get("step")
        sampling = c.get("sampling") or "linear"
        is_int = kind == "Int"
        if is_int and step == 1 and sampling == "linear":
            step = None
        dim = _Dim(
            name,
            raw,
            col,
            1,
            conditions,
            low=float(lo),
            high=float(hi),
            sampling=sampling,
            step=None if step is None else float(step),
            is_int=is_int,
        )
        if step is not None:
            if sampling == "linear":
                dim.grid_size = int((hi - lo) // step + 1)
            else:
                dim.grid_size = int(math.log(hi / lo, step) + 1e-8) + 1
        elif is_int:
            dim.grid_size = int(hi - lo) + 1
        return dim
    raise ValueError(f"Unsupported hyperparameter type {kind!r} for {name!r}.")


__all__ = ["INACTIVE", "SpaceEncoder"]
