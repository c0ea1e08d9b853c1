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
