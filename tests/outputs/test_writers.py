import logging

from kt_ext.outputs.writers import write_trial_outputs
from tests.outputs.test_results import ROWS, row


def test_the_logged_table_counts_the_lines_it_shows(tmp_path, caplog):
    # ROWS: 3 finite scores of 5 trials; a halving trial continuing trial 4's
    # configuration is listed once
    rows = [*ROWS, row("5", "COMPLETED", 0.96, lr=0.003, units=256)]
    with caplog.at_level(logging.INFO, logger="kt_ext.outputs.writers"):
        write_trial_outputs(rows, tmp_path, ["lr", "units"], "val_accuracy", "max", top_n=5)
    said = caplog.records[-1].getMessage()
    assert said.startswith("best 3 of 6 trials:\n"), said
    assert len(said.splitlines()) == 4
