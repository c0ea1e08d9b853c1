"""Grid search over every combination: KerasTuner's, with continuous floats discretised.

A grid over a continuum is otherwise undefined, so each float without a step
becomes ``float_points`` ordered choices (log-spaced for log entries).
"""

from __future__ import annotations

from typing import Any

import keras_tuner

from kt_ext.space import grid_values
from kt_ext.tuners._recorder import TrialRecorder


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
