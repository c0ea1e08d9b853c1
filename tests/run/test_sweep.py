import json

import yaml
from omegaconf import OmegaConf

from kt_ext.run.sweep import SweepSummary, sweep_rows


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
