"""A search space's model: entries (:class:`Param`), conditions and the KerasTuner declaration.

See :mod:`kt_ext.space` for the YAML form; parsing is in :mod:`kt_ext.space._parse`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from kt_ext.errors import ConfigError

Scalar = Union[bool, int, float, str]  # noqa: UP007 - a runtime alias, valid on Python 3.9

# The entry every space must declare: the batch size each trial trains with.
BATCH_SIZE = "batch_size"


@dataclass(frozen=True)
class Condition:
    """The entry is active only when hyperparameter ``parent`` takes one of ``values``."""

    parent: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class Param:
    """One validated search-space entry.

    Attributes:
        name: Hyperparameter name.
        kind: One of ``float``, ``int``, ``choice``, ``bool``, ``fixed``.
        low: Lower bound (``float``/``int``).
        high: Upper bound, inclusive (``float``/``int``).
        log: Sample uniformly in log space (``float``/``int``).
        step: Grid step; with ``log`` a multiplicative factor > 1.
        values: Candidate values (``choice``) or ``(value,)`` for ``fixed``.
        ordered: Whether ``choice`` values are ordered (numeric choices only).
        default: Value of the first trial; ``None`` lets KerasTuner pick.
        when: Conditions that must all hold for the entry to be active.
    """

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    values: tuple[Scalar, ...] = ()
    ordered: bool | None = None
    default: Scalar | None = None
    when: tuple[Condition, ...] = field(default_factory=tuple)

    @property
    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` of a ``float`` or ``int`` entry, which parsing always sets.

        Raises:
            TypeError: The entry is not numeric.
        """
        if self.low is None or self.high is None:
            raise TypeError(f"entry {self.name!r} ({self.kind}) has no bounds")
        return self.low, self.high

    def domain(self) -> tuple[Scalar, ...] | None:
        """The finite set of values the entry can take, or ``None`` if continuous."""
        if self.kind in ("choice", "fixed"):
            return self.values
        if self.kind == "bool":
            return (False, True)
        if self.kind == "int" and not self.log:
            low, high = self.bounds
            step = 1 if self.step is None else int(self.step)
            return tuple(range(int(low), int(high) + 1, step))
        return None

    def check(self, value: Any, key: str = "model.values") -> Scalar:
        """``value`` if it lies in this entry's domain (ints given as floats are accepted).

        Raises:
            ConfigError: It does not.
        """
        where = f"{key}.{self.name}"
        domain = self.domain()
        if self.kind in ("choice", "fixed", "bool"):
            choices = domain or ()
            if value not in choices or (self.kind == "bool") != isinstance(value, bool):
                raise ConfigError(where, value, f"must be one of {list(choices)}")
            return next(v for v in choices if v == value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(where, value, "must be a number")
        low, high = self.bounds
        if not low <= value <= high:
            raise ConfigError(where, value, f"must lie in [{low}, {high}]")
        if self.kind == "int":
            if value != int(value):
                raise ConfigError(where, value, "must be an integer")
            if domain is not None and int(value) not in domain:
                raise ConfigError(
                    where, value, f"must be on the grid {self.low}..{self.high} step {self.step}"
                )
            return int(value)
        return float(value)

    def declare(self, hp: Any) -> Scalar | None:
        """Register this entry on ``hp`` (a ``keras_tuner.HyperParameters``).

        Returns:
            The entry's value in the current trial, or ``None`` when inactive.
        """
        with _scopes(hp, self.when):
            if self.kind == "float":
                return hp.Float(
                    self.name,
                    min_value=self.bounds[0],
                    max_value=self.bounds[1],
                    step=self.step,
                    sampling="log" if self.log else "linear",
                    default=self.default,
                )
            if self.kind == "int":
                return hp.Int(
                    self.name,
                    min_value=int(self.bounds[0]),
                    max_value=int(self.bounds[1]),
                    step=None if self.step is None else int(self.step),
                    sampling="log" if self.log else "linear",
                    default=self.default,
                )
            if self.kind == "choice":
                return hp.Choice(
                    self.name, list(self.values), ordered=self.ordered, default=self.default
                )
            if self.kind == "bool":
                return hp.Boolean(self.name, default=bool(self.default))
            return hp.Fixed(self.name, self.values[0])


@contextlib.contextmanager
def _scopes(hp: Any, when: Sequence[Condition]) -> Iterator[None]:
    """Open one nested KerasTuner conditional scope per condition."""
    with contextlib.ExitStack() as stack:
        for cond in when:
            stack.enter_context(hp.conditional_scope(cond.parent, list(cond.values)))
        yield


@dataclass(frozen=True)
class SearchSpace:
    """A validated search space, entries ordered so that parents precede children."""

    params: tuple[Param, ...]

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params)

    def __getitem__(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        """Entry names, parents first."""
        return [p.name for p in self.params]

    def declare(self, hp: Any) -> dict[str, Scalar]:
        """Register every entry on ``hp`` and return the active values of this trial."""
        values: dict[str, Scalar] = {}
        for p in self.params:
            v = p.declare(hp)
            if v is not None:
                values[p.name] = v
        return values

    def default(self, name: str) -> Scalar:
        """The default value of entry ``name``, as KerasTuner sets it.

        Its ``default`` if given, else the lower bound (numbers), the first
        value (choices, fixed) or ``False`` (bools).
        """
        p = self[name]
        if p.default is not None:
            return p.default
        if p.kind == "float":
            return float(p.bounds[0])
        if p.kind == "int":
            return int(p.bounds[0])
        if p.kind == "bool":
            return False
        return p.values[0]

    def resolve(self, given: Mapping[str, Any], key: str = "model.values") -> dict[str, Scalar]:
        """The active values of one configuration: ``given`` where set, defaults elsewhere.

        Args:
            given: Values by name; ``None`` means the entry's default.
            key: Config path of ``given``, for error messages.

        Returns:
            Active values only (an entry whose ``when`` fails is left out).

        Raises:
            ConfigError: A name the space does not declare, a value outside its
                entry's domain, or a value for an entry that is inactive.
        """
        # Entries set to null only exist so that `model.values.x=...` needs no `+`.
        unknown = sorted(k for k in set(given) - set(self.names) if given[k] is not None)
        if unknown:
            raise ConfigError(f"{key}.{unknown[0]}", given[unknown[0]], "not in model.space")
        values: dict[str, Scalar] = {}
        for p in self.params:
            value = given.get(p.name)
            active = all(values.get(c.parent) in c.values for c in p.when)
            if not active:
                if value is not None:
                    cond = "; ".join(f"{c.parent} in {list(c.values)}" for c in p.when)
                    raise ConfigError(f"{key}.{p.name}", value, f"inactive unless {cond}")
                continue
            values[p.name] = self.default(p.name) if value is None else p.check(value, key)
        return values

    def to_hyperparameters(self) -> Any:
        """A fresh ``keras_tuner.HyperParameters`` holding this space (imports KerasTuner)."""
        import keras_tuner

        hp = keras_tuner.HyperParameters()
        self.declare(hp)
        return hp


def check_batch_size(space: SearchSpace, key: str = "model.space") -> None:
    """The space has a :data:`BATCH_SIZE` entry, and every value it can draw is an integer >= 1.

    Raises:
        ConfigError: Naming the entry's key.
    """
    if BATCH_SIZE not in space.names:
        raise ConfigError(
            f"{key}.{BATCH_SIZE}", None, "required: the batch size every trial trains with"
        )
    entry, where = space[BATCH_SIZE], f"{key}.{BATCH_SIZE}"
    if entry.kind in ("int", "float"):
        if entry.kind == "float" or entry.bounds[0] < 1:
            raise ConfigError(f"{where}.low", entry.low, "batch sizes must be integers >= 1")
        return
    for value in entry.domain() or ():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}.values", value, "batch sizes must be integers >= 1")


def smallest_batch_size(space: SearchSpace) -> int:
    """The smallest batch size the space can draw (its :data:`BATCH_SIZE` entry checked)."""
    entry = space[BATCH_SIZE]
    if entry.kind == "int":
        return int(entry.bounds[0])
    return min(int(v) for v in entry.domain() or ())
