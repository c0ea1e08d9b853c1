"""The base class the tuners' hook mixins declare, for the type checker only.

The hook classes (:class:`~kt_ext.tuners._worker.WorkerHooks`,
:class:`~kt_ext.tuners._board.BoardHooks`,
:class:`~kt_ext.tuners._checks.TrialChecks`) are mixed into
``keras_tuner.Tuner`` subclasses and call the tuner's own methods and
attributes (``self.oracle``, ``super().on_trial_end(...)``). To a type
checker they derive from ``keras_tuner.Tuner``, so those names resolve; at
run time they derive from ``object``, so the method resolution order of the
tuners that mix them in is what it always was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keras_tuner import Tuner as TunerMixin
else:
    TunerMixin = object

__all__ = ["TunerMixin"]
