"""What ``--help`` says for each script (Hydra's help template, not its config dump).

``conf/config.yaml`` sets ``hydra.help.template`` to ``${kt_help:${hydra.job.name}}``;
the resolver (registered with the scripts' others, :func:`kt_ext.run.sweep.register_resolvers`)
returns the text of the script being run. Hydra then fills in ``$APP_CONFIG_GROUPS`` (every
config group and its options) and ``$FLAGS_HELP`` (its own flags).
"""

from __future__ import annotations

_COMMON = """
Config groups (pick one option each, e.g. model=cnn strategy=bayes):

$APP_CONFIG_GROUPS
Most used settings (any key of conf/config.yaml: dotted.key=value):
  search.max_trials=20         trials to run
  search.epochs=30             epochs per trial (halving: the top rung)
  search.objective=val_loss    what to optimise (direction inferred: *loss -> min)
  search.objectives=[val_loss,params]   several (a Pareto front; costs: params, latency_ms,
                               train_seconds); search.select.limits={params:1e5} picks within
  seed=42                      data split, trial order, weights
  data.subset=0.3              train on a share of the data while searching
  parallel.workers=2           trials in parallel worker processes
  report.verbose=2             also KerasTuner's per-trial tables (0: the summary only)
  preview=true                 print the space and the cost, train nothing

Edit a search space on the command line: model.space.lr.high=0.01
Trust a module of your own in _target_: safety.allow_modules=[my_models]
"""

TUNE = (
    """kt-ext tune: search a Keras model's hyperparameters with the strategy the config names.

Examples:
  python scripts/tune.py                                   # mlp x random search x digits
  python scripts/tune.py model=cnn strategy=bayes search.max_trials=20
  python scripts/tune.py data=mnist1d model=cnn1d strategy=tpe search.objective=val_loss
  python scripts/tune.py -m strategy=random,bayes          # a sweep: one run per strategy
  python scripts/tune.py -m hydra/launcher=joblib hydra.launcher.n_jobs=2 strategy=random,bayes
                                                           # its jobs two at a time (or
                                                           # hydra/launcher=submitit_slurm)
  python scripts/tune.py parallel.workers=4 parallel.launcher=submitit   # 4 Slurm workers
"""
    + _COMMON
    + """
Each run writes outputs/<date>/<time>/ (trials.csv, best_config.yaml, best_model.keras,
tensorboard/, report plots). Then:
  resume (after Ctrl-C or a crash):  the same command plus hydra.run.dir=<run dir>
                                     (Ctrl-C prints that command)
  watch or inspect a run:            python scripts/status.py <run dir> [--watch] [--json]
  TensorBoard:                       python scripts/board.py <run dir>
  retrain the winner:                python scripts/train.py -cd <run dir> -cn best_config

Hydra's flags:
$FLAGS_HELP"""
)

TRAIN = (
    """kt-ext train: train one configuration of a model (the space's defaults, or model.values).

Examples:
  python scripts/train.py model=cnn model.values.lr=0.003 search.epochs=20
  python scripts/train.py -cd outputs/<date>/<time> -cn best_config   # retrain a tuned winner
"""
    + _COMMON
    + """
It writes outputs/<date>/<time>/ with model.keras, its test metrics and TensorBoard curves.

Hydra's flags:
$FLAGS_HELP"""
)

TEXTS = {"tune": TUNE, "train": TRAIN}


def help_text(job_name: str) -> str:
    """The help of the script whose Hydra job is ``job_name`` (``tune``, ``train``)."""
    return TEXTS.get(job_name, TUNE)
