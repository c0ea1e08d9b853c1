"""Several objectives: what a search trades off, its Pareto front and the trial it hands on.

Pure Python and NumPy (no TensorFlow), shared by the config layer, the
oracles and the outputs:

* :class:`Objective`: a metric and its direction; :data:`COSTS`, the
  Keras-aware costs kt-ext measures per trial (``params``, ``latency_ms``,
  ``train_seconds``), each the one owner of its name and meaning;
* :mod:`._front`: non-dominated ranks, crowding distance, hypervolume and
  the random Chebyshev scalarisation of ParEGO, on objectives turned into
  costs (:func:`as_costs`);
* :class:`Selection`: which trial ``best_config.yaml``, ``best_model.keras``
  and ``scripts/train.py`` use (``search.select``).
"""

from kt_ext.objectives._front import (
    chebyshev,
    crowding_distance,
    hypervolume,
    normalise,
    pareto_ranks,
    random_weights,
    spread_order,
)
from kt_ext.objectives._spec import (
    COSTS,
    LATENCY_MS,
    PARAMS,
    TRAIN_SECONDS,
    Objective,
    Selection,
    as_costs,
    trial_vector,
)

__all__ = [
    "COSTS",
    "LATENCY_MS",
    "PARAMS",
    "TRAIN_SECONDS",
    "Objective",
    "Selection",
    "as_costs",
    "chebyshev",
    "crowding_distance",
    "hypervolume",
    "normalise",
    "pareto_ranks",
    "random_weights",
    "spread_order",
    "trial_vector",
]
