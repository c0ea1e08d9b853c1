"""kt_ext.outputs.board: HParams domains, experiment and sessions, search scalars, read back with
TensorBoard's own readers."""

import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import api_pb2, metadata
from tensorboard.plugins.hparams import summary_v2 as hp

from kt_ext.outputs import board, hparams
from kt_ext.outputs.results import TrialRow
from kt_ext.space import parse_space

SPACE = parse_space(
    {
        "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
        "dropout": {"type": "float", "low": 0.0, "high": 0.4, "step": 0.1},
        "decay": {"type": "float", "low": 1e-6, "high": 1e-3, "log": True, "step": 10},
        "units": {"type": "int", "low": 32, "high": 128, "step": 32},
        "layers": {"type": "int", "low": 1, "high": 3},
        "width": {"type": "int", "low": 8, "high": 64, "log": True, "step": 2},
        "optimizer": {"type": "choice", "values": ["adam", "sgd"]},
        "batch_size": {"type": "choice", "values": [32, 64]},
        "momentum": {"type": "float", "low": 0.5, "high": 0.9, "when": {"optimizer": "sgd"}},
        "batch_norm": {"type": "bool"},
        "epsilon": 1e-7,
    }
)


def plugin_content(run_dir, tag):
    """The HParams plugin content of ``tag`` in one run directory (TensorBoard's reader)."""
    acc = event_accumulator.EventAccumulator(str(run_dir))
    acc.Reload()
    return acc.SummaryMetadata(tag).plugin_data.content


def experiment_of(run_dir):
    return metadata.parse_experiment_plugin_data(plugin_content(run_dir, metadata.EXPERIMENT_TAG))


def infos_by_name(experiment):
    return {info.name: info for info in experiment.hparam_infos}


def test_domains_follow_the_sampler():
    domains = {p.name: hparams.hparam_domain(p) for p in SPACE}
    assert (domains["lr"].min_value, domains["lr"].max_value) == (1e-4, 1e-1)
    assert isinstance(domains["lr"], hp.RealInterval)
    assert domains["dropout"].values == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert domains["decay"].values == pytest.approx([1e-6, 1e-5, 1e-4, 1e-3])  # multiplicative
    assert domains["units"].values == [32.0, 64.0, 96.0, 128.0]
    assert isinstance(domains["layers"], hp.IntInterval) and domains["layers"].max_value == 3
    assert domains["width"].values == [8.0, 16.0, 32.0, 64.0]
    assert domains["optimizer"].values == ["adam", "sgd"]
    assert domains["batch_size"].values == [32.0, 64.0]
    assert domains["batch_norm"].values == [False, True]
    assert domains["epsilon"].values == [1e-7]


def test_experiment_config_lists_every_hyperparameter_and_metric(tmp_path):
    tb = board.TrialBoard(tmp_path, SPACE, ["accuracy"], max_epochs=5)
    assert tb.write_experiment(rungs=3)
    assert not tb.write_experiment(rungs=3)  # a resumed run keeps the first config
    experiment = experiment_of(tmp_path)
    infos = infos_by_name(experiment)
    assert set(infos) == {*SPACE.names, "trial_status", "config"}
    assert infos["lr"].domain_interval.min_value == 1e-4
    assert infos["lr"].description == "float, log scale"
    assert "active when optimizer in ['sgd']" in infos["momentum"].description
    assert list(infos["units"].domain_discrete.values[i].number_value for i in range(4)) == [
        32.0,
        64.0,
        96.0,
        128.0,
    ]
    assert infos["batch_norm"].type == api_pb2.DATA_TYPE_BOOL
    statuses = [v.string_value for v in infos["trial_status"].domain_discrete.values]
    assert statuses == sorted(  # TensorBoard sorts discrete domains
        [
            "completed",
            "early_stopped",
            "stopped_rung_0",
            "stopped_rung_1",
            "stopped_rung_2",
            "failed",
            "invalid",
        ]
    )
    metrics = {(m.name.group, m.name.tag) for m in experiment.metric_infos}
    assert metrics == {
        ("", "loss"),
        ("", "accuracy"),
        ("", "val_loss"),
        ("", "val_accuracy"),
        ("validation", "epoch_loss"),
        ("validation", "epoch_accuracy"),
        ("", "epochs_run"),
        ("", "seconds"),
        ("", "rung"),
    }


def row(trial_id, status, score, epochs, **values):
    metrics = {} if score is None else {"val_accuracy": score, "loss": 0.5}
    return TrialRow(trial_id, status, values, score, epochs, 1.25, metrics=metrics, rss_mib=900.0)


def session_of(run_dir):
    start = metadata.parse_session_start_info_plugin_data(
        plugin_content(run_dir, metadata.SESSION_START_INFO_TAG)
    )
    end = metadata.parse_session_end_info_plugin_data(
        plugin_content(run_dir, metadata.SESSION_END_INFO_TAG)
    )
    return start, end


def scalars(run_dir):
    return board.read_scalars(run_dir)


@pytest.mark.parametrize(
    ("trial", "planned", "halving", "status", "code"),
    [
        (row("0", "COMPLETED", 0.9, 5, lr=0.01, optimizer="adam"), None, None, "completed", 1),
        (row("1", "COMPLETED", 0.8, 3, lr=0.02, optimizer="adam"), None, None, "early_stopped", 1),
        (
            row("2", "FAILED", None, None, lr=0.5, optimizer="sgd", momentum=0.7),
            None,
            None,
            "failed",
            2,
        ),
        (
            row("3", "COMPLETED", 0.7, 1, lr=0.03, optimizer="adam", **{"tuner/epochs": 9}),
            9,
            {"rung": 0, "config": "3"},
            "stopped_rung_0",
            1,
        ),
    ],
    ids=["completed", "early_stopped", "failed", "halving_stopped"],
)
def test_every_trial_gets_a_session_with_its_status(
    tmp_path, trial, planned, halving, status, code
):
    tb = board.TrialBoard(tmp_path, SPACE, ["accuracy"], max_epochs=5, job="0_strategy=bayes")
    label = tb.trial_ended(trial, 100.0, planned_epochs=planned, halving=halving, best=0.9)
    tb.close()
    assert label == status
    start, end = session_of(tmp_path / trial.trial_id)
    assert start.group_name == f"0_strategy=bayes/{trial.trial_id}"
    assert start.start_time_secs == 100.0
    values = {k: v for k, v in start.hparams.items()}
    assert values["trial_status"].string_value == status
    assert values["lr"].number_value == trial.values["lr"]
    assert values["job"].string_value == "0_strategy=bayes"
    assert "tuner/epochs" not in values
    assert ("momentum" in values) == ("momentum" in trial.values)  # inactive ones are absent
    assert end.status == code  # 1 success, 2 failure
    finals = scalars(tmp_path / trial.trial_id)
    assert finals["seconds"][0][1] == 1.25
    if trial.score is not None:
        assert finals["val_accuracy"][0][1] == pytest.approx(trial.score)
    else:
        assert "val_accuracy" not in finals
    if halving:
        assert values["config"].string_value == "3" and finals["rung"][0][1] == 0.0
    search = scalars(tmp_path / "search")
    step = int(trial.trial_id)
    assert search["search/best_so_far"] == [(step, pytest.approx(0.9))]
    assert search["search/failed"] == [(step, float(status == "failed"))]
    assert search["search/rss_mib"] == [(step, 900.0)]


def test_search_scalars_include_the_gp_proposal(tmp_path):
    tb = board.TrialBoard(tmp_path, SPACE, ["accuracy"], max_epochs=5)
    proposal = {
        "mean": 0.91,
        "std": 0.05,
        "acquisition": 1.0,
        "beta": 2.0,
        "lengthscales": [0.3, 2.0],
        "warp_lambda": -1.5,
    }
    for i, score in enumerate([0.5, 0.8, 0.7]):
        tb.trial_ended(
            row(str(i), "COMPLETED", score, 5, lr=0.01),
            0.0,
            best=max([0.5, 0.8, 0.7][: i + 1]),
            proposal=proposal if i == 2 else None,
            features=["lr", "optimizer=adam"],
        )
    tb.close()
    search = scalars(tmp_path / "search")
    assert search["search/objective"] == [
        (0, 0.5),
        (1, pytest.approx(0.8)),
        (2, pytest.approx(0.7)),
    ]
    assert [v for _, v in search["search/best_so_far"]] == pytest.approx([0.5, 0.8, 0.8])
    assert search["gp/mean"] == [(2, pytest.approx(0.91))]
    assert search["gp/lengthscale/optimizer=adam"] == [(2, 2.0)]
    assert search["gp/warp_lambda"] == [(2, -1.5)]
    assert "gp/mean" not in scalars(tmp_path / "0")


def test_a_scalarised_proposal_is_filed_apart_from_the_score(tmp_path):
    """Several objectives: the GP's mean is a ParEGO scalarisation, not the objective."""
    tb = board.TrialBoard(tmp_path, SPACE, ["accuracy"], max_epochs=5)
    proposal = {"mean": -0.2, "std": 0.1, "acquisition": 0.3, "beta": 1.0, "scalarised": True}
    tb.trial_ended(row("0", "COMPLETED", 0.5, 5, lr=0.01), 0.0, best=0.5, proposal=proposal)
    tb.close()
    search = scalars(tmp_path / "search")
    assert search["gp/scalarised_mean"] == [(0, pytest.approx(-0.2))]
    assert "gp/mean" not in search and search["gp/beta"] == [(0, 1.0)]


def test_merged_sweep_columns_take_the_hull():
    a = hparams.space_hparams(parse_space({"lr": {"type": "float", "low": 1e-4, "high": 1e-2}}))
    b = hparams.space_hparams(
        parse_space(
            {
                "lr": {"type": "float", "low": 1e-3, "high": 1e-1},
                "act": {"type": "choice", "values": ["relu"]},
            }
        )
    )
    c = hparams.space_hparams(parse_space({"act": {"type": "choice", "values": ["tanh", "relu"]}}))
    merged = {h.name: h.domain for h in hparams.merge_hparams([a, b, c])}
    assert (merged["lr"].min_value, merged["lr"].max_value) == (1e-4, 1e-1)
    assert merged["act"].values == ["relu", "tanh"]


def test_trial_status_labels():
    done = row("0", "COMPLETED", 0.9, 5)
    assert hparams.trial_status(done, 5) == "completed"
    assert hparams.trial_status(done, 9) == "early_stopped"
    assert hparams.trial_status(done, 9, rung=1) == "stopped_rung_1"
    assert hparams.trial_status(done, None) == "completed"
    assert hparams.trial_status(row("1", "INVALID", None, None), 5) == "invalid"


def test_a_trial_run_again_starts_its_curves_afresh(tmp_path):
    tb = board.TrialBoard(tmp_path, SPACE, ["accuracy"], max_epochs=5)
    for run in ("validation", "train", "execution1/validation"):
        with board.EventLog(tb.curve_dir("3") / run) as log:
            log.scalar("epoch_loss", 1.0, 0)
    with board.EventLog(tmp_path / "2" / "validation") as log:
        log.scalar("epoch_loss", 1.0, 0)
    tb.clear_curves("3")
    assert not any((tmp_path / "3").rglob("events.out.tfevents.*"))
    assert board.read_scalars(tmp_path / "2" / "validation")["epoch_loss"] == [(0, 1.0)]


def test_an_ehvi_proposal_files_each_objectives_prediction(tmp_path):
    """Several objectives with EHVI: one GP per objective, each prediction under its name."""
    tb = board.TrialBoard(tmp_path, SPACE, ["accuracy"], max_epochs=5)
    proposal = {
        "rule": "log_ehvi",
        "acquisition": -2.5,
        "cost_mean": {"val_loss": 0.4, "params": 4.2},
        "cost_std": {"val_loss": 0.05, "params": 0.3},
    }
    tb.trial_ended(row("0", "COMPLETED", 0.5, 5, lr=0.01), 0.0, best=0.5, proposal=proposal)
    tb.close()
    search = scalars(tmp_path / "search")
    assert search["gp/cost_mean/val_loss"] == [(0, pytest.approx(0.4))]
    assert search["gp/cost_std/params"] == [(0, pytest.approx(0.3))]
    assert search["gp/acquisition"] == [(0, pytest.approx(-2.5))] and "gp/mean" not in search
