"""HalvingSchedule: rung budgets, Hyperband's bracket counts and the totals it prints."""

import pytest

from kt_ext.oracles.schedule import HalvingSchedule


def test_hyperband_brackets_match_li_et_al():
    s = HalvingSchedule(min_budget=1, max_budget=27, reduction_factor=3, brackets=None)
    assert s.s_max == 3
    assert s.budgets == (1.0, 3.0, 9.0, 27.0)
    assert [(b.rungs, b.configs) for b in s.bracket_list] == [
        ((0, 1, 2, 3), (27, 9, 3, 1)),
        ((1, 2, 3), (12, 4, 1)),
        ((2, 3), (6, 2)),
        ((3,), (4,)),
    ]
    assert s.configs == 27 + 12 + 6 + 4
    assert s.trials == 40 + 17 + 8 + 4
    # promoted trials continue: bracket 0 costs 27*1 + 9*2 + 3*6 + 1*18
    assert s.epochs == 81 + (36 + 24 + 18) + (54 + 36) + 108


def test_plain_successive_halving_is_the_first_bracket_and_the_top_rung_is_max():
    s = HalvingSchedule(min_budget=1, max_budget=30, reduction_factor=3)
    assert s.budgets == (1.0, 3.0, 9.0, 30.0)
    assert len(s.bracket_list) == 1 and s.bracket_list[0].configs == (27, 9, 3, 1)
    assert s.epochs == 27 + 9 * 2 + 3 * 6 + 21
    assert s.bracket_list[0].planned(2) == 3 and s.bracket_list[0].planned(7) == 0


def test_iterations_repeat_and_one_rung_is_one_trial_each():
    s = HalvingSchedule(min_budget=2, max_budget=2, reduction_factor=3, iterations=5)
    assert s.budgets == (2.0,) and s.configs == s.trials == 5 and s.epochs == 10


def test_data_budget_rungs_are_fractions_trained_from_scratch():
    s = HalvingSchedule(
        min_budget=1 / 9, max_budget=1.0, reduction_factor=3, budget="data", epochs_per_rung=4
    )
    assert s.budgets == pytest.approx((1 / 9, 1 / 3, 1.0))
    assert s.bracket_list[0].configs == (9, 3, 1)
    assert s.epochs == pytest.approx(4 * (9 / 9 + 3 / 3 + 1))
    assert "data fraction" in s.describe()


def test_describe_lists_each_bracket_and_the_totals():
    text = HalvingSchedule(min_budget=1, max_budget=9, reduction_factor=3, brackets=2).describe()
    assert "bracket 0: 9×1 -> 3×3 -> 1×9" in text
    assert "bracket 1: 5×3 -> 1×9" in text  # ceil(3/2 · 3) = 5
    # 9·1 + 3·(3-1) + 1·(9-3) = 21, and 5·3 + 1·(9-3) = 21
    assert "14 configurations, at most 19 trials, at most 42 epochs" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reduction_factor": 1}, "reduction_factor"),
        ({"reduction_factor": 2.5}, "reduction_factor"),
        ({"brackets": 5}, "brackets"),
        ({"brackets": 0}, "brackets"),
        ({"iterations": 0}, "iterations"),
        ({"min_budget": 30}, "0 < min <= max"),
        ({"budget": "steps"}, "budget"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    args = {"min_budget": 1, "max_budget": 27, "reduction_factor": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        HalvingSchedule(**args)
