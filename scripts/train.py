"""Train one configuration from the Hydra configs in ``conf/``, or retrain a tuned winner.

    python scripts/train.py model=cnn model.values.lr=0.003 model.values.optimizer=sgd
    python scripts/train.py -cd outputs/2026-11-23/10-00-00 -cn best_config   # the winner

Values not given take their space entry's default. The run writes TensorBoard
curves while it trains, ``model.keras`` (best epoch) and ``summary.json`` into
Hydra's run directory, and ends with the validation and test metrics. A bad
config exits with status 2 and one line naming the key.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from kt_ext.config import discard_run_dir, resume, validate_or_exit
from kt_ext.config.cli import check_command_line
from kt_ext.errors import ConfigError, fail
from kt_ext.native_log import import_tensorflow
from kt_ext.run.sweep import register_resolvers

register_resolvers()
CONF = str(Path(__file__).resolve().parents[1] / "conf")


def plain_console() -> None:
    """Give the console the repository config's log format, whichever config was composed.

    A ``best_config.yaml`` carries no ``hydra`` node (a config from elsewhere
    may not set one: :mod:`kt_ext.config.safety`), so retraining a winner
    composes Hydra's default logging, whose console lines carry time and
    source. The format is read from ``conf/config.yaml``, its owner; the
    run's log file keeps Hydra's.
    """
    node = OmegaConf.load(Path(CONF) / "config.yaml")
    console = logging.Formatter(node.hydra.job_logging.formatters.console.format)
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:  # not a FileHandler, a subclass
            handler.setFormatter(console)


@hydra.main(version_base="1.3", config_path=CONF, config_name="config")
def main(cfg: DictConfig) -> float:
    """Train ``model.values`` and return the best objective value."""
    plain_console()
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    settings = validate_or_exit(cfg, run_dir)
    import_tensorflow()  # without TensorFlow's C++ start-up log
    from kt_ext.run import RunError
    from kt_ext.run.train import train_one

    try:
        objective = train_one(settings, run_dir).objective
        resume.release_hydra_files()  # trained: Hydra's files describe this command
        return objective
    except ConfigError as e:
        discard_run_dir(run_dir)
        fail(e, 2)
    except RunError as e:
        fail(e, 1)


if __name__ == "__main__":
    check_command_line(sys.argv[1:], CONF, "config")  # Hydra's errors, in one line
    main()
