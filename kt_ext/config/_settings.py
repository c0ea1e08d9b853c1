"""The validated settings of a run: plain, frozen Python values (no ``DictConfig``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kt_ext.objectives import Objective, Selection
from kt_ext.oracles.schedule import HalvingSchedule
from kt_ext.space import SearchSpace


@dataclass(frozen=True)
class SearchSettings:
    """``search.*``: how long and by what the search is judged."""

    max_trials: int
    epochs: int
    objective: str
    direction: str
    early_stopping_patience: int
    executions_per_trial: int
    max_retries_per_trial: int
    max_consecutive_failed_trials: int
    allow_resume_changes: bool = False  # resume a run dir with other settings (config.resume)
    objectives: tuple[Objective, ...] = ()  # every objective; the first is objective/direction
    select: Selection | None = None  # the trial handed on (None: the best by the objective)

    @property
    def all_objectives(self) -> tuple[Objective, ...]:
        """Every objective (one, built from ``objective``/``direction``, unless several)."""
        return self.objectives or (Objective(self.objective, self.direction),)

    @property
    def multi(self) -> bool:
        """Whether the search has several objectives (a Pareto front, not one best)."""
        return len(self.all_objectives) > 1

    @property
    def selection(self) -> Selection:
        """The trial a search hands on: ``select``, else the best by the first objective."""
        return self.select or Selection(self.objective)


@dataclass(frozen=True)
class DataSettings:
    """``data.*``: the loader (a ``_target_`` mapping) and how its arrays are split."""

    loader: dict[str, Any]
    subset: float
    val_fraction: float
    test_fraction: float
    standardize: bool


# Where the chief/worker protocol's credentials come from: the environment only (a config
# file may come from someone else; the command line is recorded in the run directory).
TOKEN_ENV = "KT_EXT_TOKEN"  # the shared token (chief and workers)
CERT_ENV = "KT_EXT_TLS_CERT"  # PEM file: the chief's certificate (workers: the one they trust)
KEY_ENV = "KT_EXT_TLS_KEY"  # PEM file: the chief's private key (chief only)
LAUNCHERS = ("local", "submitit", "ray")  # kt_ext.run.launchers.make_launcher builds each
SLURM_CLUSTERS = ("slurm", "local")  # submitit's executors: Slurm, or local processes


@dataclass(frozen=True)
class SlurmSettings:
    """``parallel.slurm.*``: the Slurm jobs of ``parallel.launcher=submitit``."""

    cluster: str = "slurm"
    partition: str | None = None
    gpus_per_worker: int = 0
    cpus_per_worker: int = 1
    mem_gb: float | None = None
    time_min: int = 60


@dataclass(frozen=True)
class RaySettings:
    """``parallel.ray.*``: the Ray tasks of ``parallel.launcher=ray``."""

    address: str | None = None
    gpus_per_worker: float = 0.0
    cpus_per_worker: float = 1.0


@dataclass(frozen=True)
class ParallelSettings:
    """``parallel.*``: KerasTuner's chief/worker engine (see :mod:`kt_ext.run.parallel`)."""

    workers: int = 0
    role: str | None = None
    address: str = "127.0.0.1"
    port: int = 0
    run_dir: str | None = None
    worker_id: str | None = None
    grace_seconds: float = 60.0
    heartbeat_seconds: float = 5.0
    gpu_per_worker: bool = False
    recycle_after_trials: int = 0  # a worker leaves after this many trials (0: never)
    recycle_above_mib: float = 0.0  # ... or once its resident memory exceeds this (0: never)
    insecure: bool = False  # listen beyond loopback without TLS and a token (command line only)
    launcher: str = "local"  # where workers run: one of LAUNCHERS
    slurm: SlurmSettings = field(default_factory=SlurmSettings)
    ray: RaySettings = field(default_factory=RaySettings)

    @property
    def chief(self) -> bool:
        """Whether this process serves the oracle."""
        return self.role == "chief" or (self.role is None and self.workers > 0)


@dataclass(frozen=True)
class RunSettings:
    """Everything a run needs, validated, as plain Python values."""

    seed: int
    space: SearchSpace
    builder: dict[str, Any]
    strategy: dict[str, Any]
    search: SearchSettings
    data: DataSettings
    metrics: tuple[str, ...]
    shuffle_buffer: int
    verbose: int
    steps_per_execution: int | None  # batches per tf.function call; None: the model's own
    top_n: int
    report_verbose: int = 1  # 0: the summary only, 1: a line per trial, 2: KerasTuner's tables too
    distribute: dict[str, Any] = field(default_factory=dict)  # the tf.distribute node
    schedule: HalvingSchedule | None = None  # successive halving's rungs, if the strategy has them
    allow_modules: tuple[str, ...] = ()  # extra modules _target_ may name (safety.allow_modules)
    parallel: ParallelSettings = field(default_factory=ParallelSettings)
    values: dict[str, Any] = field(default_factory=dict)  # model.values resolved (train.py)
    trial_id: str | None = None  # the tuned trial a best_config.yaml retrains (its seed)
    preview: bool = False  # describe the search and exit (scripts/tune.py preview=true)
    initial_points: tuple[dict[str, Any], ...] = ()  # model.initial, resolved: evaluated first

    @property
    def keras_tuner_verbose(self) -> int:
        """KerasTuner's own per-trial tables: shown only at ``report.verbose: 2``."""
        return 1 if self.report_verbose >= 2 else 0

    @property
    def rungs(self) -> int:
        """Rungs of the strategy's successive-halving schedule (0 for other strategies)."""
        return 0 if self.schedule is None else len(self.schedule.budgets)
