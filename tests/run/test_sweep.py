import json

import pytest
import yaml
from omegaconf import OmegaConf

from kt_ext.run.sweep import SweepSummary, sweep_rows
from tests.conftest import option_names, read_csv


def make_job(sweep, num, overrides, summary=None):
    job = sweep / str(num)
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if summary is not None:
        (job / "summary.json").write_text(json.dumps(summary))


def test_summary_rows_and_csv(tmp_path, capsys):
    make_job(
        tmp_path,
        0,
        ["strategy=random"],
        {"objective": "val_accuracy", "best_score": 0.97, "test_accuracy": 0.95, "trials": 3},
    )
    make_job(tmp_path, 1, ["strategy=bayes"])  # crashed: no summary
    for i in range(2, 11):
        make_job(tmp_path, i, [f"seed={i}"], {"objective": "val_accuracy", "best_score": 0.5})
    rows = sweep_rows(tmp_path)
    assert [r["job"] for r in rows][:3] == ["0", "1", "2"] and rows[-1]["job"] == "10"
    assert rows[0]["best_score"] == 0.97 and rows[0]["status"] == "ok"
    assert rows[1]["status"] == "failed" and rows[1]["overrides"] == "strategy=bayes"
    SweepSummary().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}}))
    text = (tmp_path / "sweep_summary.csv").read_text().splitlines()
    assert text[0].startswith("job,overrides,objective,best_score")
    assert text[1].startswith("0,strategy=random,val_accuracy,0.97,0.95")
    assert "job   1 | - - | test_accuracy - | strategy=bayes" in capsys.readouterr().out


@pytest.mark.parametrize(
    "damage",
    [
        ("summary.json", '{"objective": "val_loss", "best_sc'),  # cut short
        ("summary.json", "[0.5]"),
        (".hydra/overrides.yaml", "[strategy=random"),
        (".hydra/overrides.yaml", "strategy: random"),
    ],
)
def test_a_damaged_job_is_marked_and_the_others_are_summarised(tmp_path, capsys, damage):
    make_job(tmp_path, 0, ["strategy=random"], {"objective": "val_loss", "best_score": 0.5})
    make_job(tmp_path, 1, ["strategy=bayes"], {"objective": "val_loss", "best_score": 0.4})
    name, text = damage
    (tmp_path / "1" / name).write_text(text)
    SweepSummary().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}}))
    rows = read_csv(tmp_path / "sweep_summary.csv")
    assert [(r["job"], r["status"]) for r in rows] == [("0", "ok"), ("1", "damaged")]
    assert rows[0]["best_score"] == "0.5" and rows[0]["overrides"] == "strategy=random"
    assert "job   0 | val_loss 0.5000" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["- not\n- a job's config\n", "search: [\n"])
def test_a_job_whose_saved_config_cannot_be_read_is_left_out_of_the_experiment(tmp_path, text):
    from kt_ext.run.sweep import write_sweep_experiment

    make_job(tmp_path, 0, ["strategy=random"])
    (tmp_path / "0" / ".hydra" / "config.yaml").write_text(text)
    (tmp_path / "0" / "tensorboard").mkdir()
    assert write_sweep_experiment(tmp_path) == 0
    assert not list(tmp_path.glob("events.out.tfevents.*"))


def test_a_job_with_a_damaged_summary_still_gets_its_columns_in_the_experiment(
    tmp_path, compose_config
):
    from kt_ext.run.sweep import write_sweep_experiment

    make_job(tmp_path, 0, ["strategy=random"])
    (tmp_path / "0" / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(compose_config()))
    (tmp_path / "0" / "tensorboard").mkdir()
    (tmp_path / "0" / "summary.json").write_text('{"distribute": "mirr')  # cut short
    assert write_sweep_experiment(tmp_path) == 1
    assert list(tmp_path.glob("events.out.tfevents.*"))


@pytest.mark.slow
def test_multirun_sweep_summary(run_tune, tmp_path):
    """Every strategy in one sweep, its jobs run two at a time by Hydra's joblib launcher."""
    sweep = tmp_path / "sweep"
    strategies = option_names("strategy")
    proc = run_tune(
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"strategy={','.join(strategies)}",
        "search.max_trials=2",
        "search.epochs=2",
        "data.subset=0.3",
        f"hydra.sweep.dir={sweep}",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Joblib.Parallel(n_jobs=2" in proc.stdout + proc.stderr  # Hydra's launcher ran them
    assert "I0000" not in proc.stdout + proc.stderr  # no TensorFlow start-up log
    assert "[HYDRA]" not in proc.stdout + proc.stderr  # Hydra's lines as plain as the runs'
    assert "triggered tf.function retracing" not in proc.stdout + proc.stderr
    jobs = [
        f"{i}_data.subset=0.3,search.epochs=2,search.max_trials=2,strategy={s}"
        for i, s in enumerate(strategies)
    ]
    for job in jobs:  # the overrides name each job's directory, hence its TensorBoard runs
        assert (sweep / job / "summary.json").is_file() and (sweep / job / "trials.csv").is_file()
        assert any((sweep / job / "tensorboard").glob("*/validation/events.out.tfevents.*"))
    rows = read_csv(sweep / "sweep_summary.csv")
    assert [r["job"] for r in rows] == jobs
    assert [r["overrides"] for r in rows] == [
        f"strategy={s} search.max_trials=2 search.epochs=2 data.subset=0.3" for s in strategies
    ]
    assert all(r["status"] == "ok" and 0 < float(r["best_score"]) <= 1 for r in rows)
    assert "sweep summary" in proc.stdout
    # One HParams experiment for the whole sweep, with a column naming the job.
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.plugins.hparams import metadata

    acc = event_accumulator.EventAccumulator(str(sweep))
    acc.Reload()
    experiment = metadata.parse_experiment_plugin_data(
        acc.SummaryMetadata(metadata.EXPERIMENT_TAG).plugin_data.content
    )
    (job_info,) = [i for i in experiment.hparam_infos if i.name == "job"]
    assert sorted(v.string_value for v in job_info.domain_discrete.values) == sorted(jobs)
    assert "stopped_rung_0" in str(experiment)  # halving is in the sweep
    assert not list((sweep / jobs[0] / "tensorboard").glob("events.out.tfevents.*"))
    assert (sweep / "convergence.png").is_file()


@pytest.mark.slow
def test_a_sweep_on_hydras_submitit_launcher(run_tune, tmp_path):
    """Its local executor (the Slurm one takes the same jobs): every job ran, summary once."""
    sweep = tmp_path / "sweep"
    proc = run_tune(
        "-m",
        "hydra/launcher=submitit_local",
        "strategy=random,bayes",
        "search.max_trials=2",
        "search.epochs=1",
        f"hydra.sweep.dir={sweep}",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Submitit 'local' sweep" in proc.stdout + proc.stderr
    assert [r["status"] for r in read_csv(sweep / "sweep_summary.csv")] == ["ok", "ok"]
    assert len(list(sweep.glob("events.out.tfevents.*"))) == 1  # one experiment for the sweep
