import csv
import io
import math
import stat

import pytest

from kt_ext.outputs.results import (
    TrialRow,
    best_rows,
    best_table,
    format_value,
    trials_csv,
    write_text,
)


def row(tid, status, score, **values):
    return TrialRow(
        trial_id=tid,
        status=status,
        values=values,
        score=score,
        epochs=3,
        seconds=1.5,
        rss_mib=812.4,
    )


ROWS = [
    row("0", "COMPLETED", 0.91, lr=0.0123456, units=64),
    row("1", "FAILED", None, lr=0.5, units=32),
    row("2", "COMPLETED", 0.97, lr=0.001, units=128, momentum=0.9),
    row("3", "COMPLETED", math.inf, lr=0.2, units=32),
    row("4", "COMPLETED", 0.95, lr=0.003, units=256),
]


def test_best_rows_skip_failed_and_non_finite():
    assert [r.trial_id for r in best_rows(ROWS, "max", 10)] == ["2", "4", "0"]
    assert [r.trial_id for r in best_rows(ROWS, "min", 2)] == ["0", "4"]


def test_best_table_format():
    lines = best_table(ROWS, "val_accuracy", "max", 2).splitlines()
    assert lines == [
        "Best-1 (val_accuracy 0.9700) | lr=0.001, units=128, momentum=0.9  [trial 2]",
        "Best-2 (val_accuracy 0.9500) | lr=0.003, units=256  [trial 4]",
    ]
    assert best_table([ROWS[1]], "val_accuracy", "max", 3) == "(no completed trial)"


def test_format_value():
    assert (
        format_value(0.0123456) == "0.01235"
        and format_value(True) == "True"
        and format_value(64) == "64"
    )


def test_trials_csv_has_every_trial_and_empty_inactive_cells():
    text = trials_csv(ROWS, ["lr", "units", "momentum"], "val_accuracy")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "trial_id",
        "status",
        "lr",
        "units",
        "momentum",
        "val_accuracy",
        "epochs",
        "seconds",
        "rss_mib",
        "message",
    ]
    assert [r["status"] for r in rows] == [
        "COMPLETED",
        "FAILED",
        "COMPLETED",
        "COMPLETED",
        "COMPLETED",
    ]
    assert rows[0]["momentum"] == "" and rows[2]["momentum"] == "0.9"
    assert rows[1]["val_accuracy"] == "" and rows[0]["seconds"] == "1.50"
    assert rows[0]["rss_mib"] == "812"


def test_extra_strategy_values_become_columns():
    rows = [row("0", "COMPLETED", 0.5, lr=0.1, **{"tuner/epochs": 3})]
    header = trials_csv(rows, ["lr"], "val_loss").splitlines()[0]
    assert header == "trial_id,status,lr,tuner/epochs,val_loss,epochs,seconds,rss_mib,message"


def test_write_text_is_atomic_and_readable(tmp_path):
    target = tmp_path / "sub" / "f.txt"
    write_text(target, "one")
    write_text(target, "two")
    assert target.read_text() == "two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]  # no temporary left behind


def test_write_text_failure_leaves_old_file(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    write_text(target, "old")

    def boom(*a):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        write_text(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_several_objectives_mark_the_front_write_pareto_csv_and_select_within_limits():
    from kt_ext.objectives import Objective, Selection
    from kt_ext.outputs.results import pareto_csv, pareto_rows, selected_row

    objectives = [Objective("val_accuracy", "max"), Objective("params", "min")]

    def mo(tid, status, score, params, **values):
        base = row(tid, status, score, **values)
        return TrialRow(**{**base.__dict__, "metrics": {"params": params}})

    rows = [
        mo("0", "COMPLETED", 0.91, 9_000.0, units=16),  # front (smallest)
        mo("1", "FAILED", None, 1_000.0, units=8),  # failed: never on the front
        mo("2", "COMPLETED", 0.97, 90_000.0, units=128),  # front (most accurate)
        mo("3", "COMPLETED", 0.90, 20_000.0, units=32),  # dominated by 0
        mo("4", "COMPLETED", 0.95, 40_000.0, units=64),  # front
    ]
    assert [r.trial_id for r in pareto_rows(rows, objectives)] == ["0", "2", "4"]
    table = list(
        csv.DictReader(io.StringIO(trials_csv(rows, ["units"], "val_accuracy", objectives)))
    )
    assert [r["pareto"] for r in table] == ["1", "0", "1", "0", "1"]
    assert table[0]["params"] == "9000.0"
    assert list(table[0])[3:6] == ["val_accuracy", "params", "pareto"]
    front = list(csv.DictReader(io.StringIO(pareto_csv(rows, ["units"], objectives))))
    assert [r["trial_id"] for r in front] == ["2", "4", "0"]  # best first objective first
    assert set(front[0]) == {"trial_id", "val_accuracy", "params", "units"}
    assert selected_row(rows, objectives, Selection("val_accuracy")).trial_id == "2"
    within = Selection("val_accuracy", {"params": 50_000})
    assert selected_row(rows, objectives, within).trial_id == "4"
    assert selected_row(rows, objectives, Selection("val_accuracy", {"params": 10})) is None
    # one objective: no extra columns, and the selection is the best trial as before
    single = trials_csv(rows, ["units"], "val_accuracy").splitlines()[0]
    assert "pareto" not in single and "params" not in single
    assert selected_row(rows, objectives[:1], Selection("val_accuracy")).trial_id == "2"


def test_oracle_rows_list_values_in_the_spaces_order_after_a_protocol_buffer_round_trip():
    from types import SimpleNamespace

    import keras_tuner
    from keras_tuner.engine.trial import Trial

    from kt_ext.outputs.results import oracle_rows

    hp = keras_tuner.HyperParameters()
    hp.Choice("optimizer", ["adam", "sgd"])
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Int("units", 32, 512)
    hp.values = {"optimizer": "sgd", "lr": 0.01, "units": 64}
    sent = keras_tuner.HyperParameters.from_proto(hp.to_proto())  # as a worker reports it
    assert list(sent.values) != ["optimizer", "lr", "units"]  # grouped by type on the way
    oracle = SimpleNamespace(hyperparameters=hp, trials={"0": Trial(sent, trial_id="0")})
    assert list(oracle_rows(oracle)[0].values) == ["optimizer", "lr", "units"]
