"""kt-ext: declarative, config-driven hyperparameter tuning for Keras on KerasTuner and Hydra.

The light modules (:mod:`kt_ext.space`, :mod:`kt_ext.config`, :mod:`kt_ext.errors`)
import neither TensorFlow nor KerasTuner; :mod:`kt_ext.run`, :mod:`kt_ext.tuners`
and :mod:`kt_ext.tuners.hypermodel` do, and are imported only when a search starts.
"""

from kt_ext.errors import ConfigError
from kt_ext.space import SearchSpace, parse_space

__version__ = "0.1.0"
__all__ = ["ConfigError", "SearchSpace", "parse_space", "__version__"]
