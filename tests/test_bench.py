"""scripts/bench/: the figures the benchmarks compute beyond raw results, and their markdown."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts" / "bench"))
_env = dict(os.environ)
import _common  # noqa: E402
import _functions  # noqa: E402
import _stats  # noqa: E402
import _trend  # noqa: E402
import _warp  # noqa: E402
import halving as bench_halving  # noqa: E402
import oracles as bench_oracles  # noqa: E402
import real as bench_real  # noqa: E402
import strategies as bench_strategies  # noqa: E402
import surrogate as bench_surrogate  # noqa: E402

_H6_ARGMIN = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)

# bench_oracles pins BLAS to one thread for its own runs; later tests' subprocesses should not be.
os.environ.clear()
os.environ.update(_env)


def test_a_method_better_on_every_seed_by_the_same_amount_has_a_point_interval() -> None:
    reference = np.array([0.90, 0.95, 0.97, 0.99])
    r = _stats.paired(reference + 0.01, reference, sign=1.0)
    assert r["diff"] == pytest.approx(0.01)
    assert r["low"] == pytest.approx(0.01) and r["high"] == pytest.approx(0.01)
    assert (r["wins"], r["losses"], r["ties"]) == (4, 0, 0)


def test_smaller_is_better_flips_the_sign_and_the_counts() -> None:
    values, reference = [1.0, 2.0, 3.0, 5.0], [2.0, 2.0, 2.0, 2.0]
    up = _stats.paired(values, reference, sign=1.0)
    down = _stats.paired(values, reference, sign=-1.0)
    assert up["diff"] == pytest.approx(0.5) and down["diff"] == pytest.approx(-0.5)
    assert (up["wins"], up["losses"], up["ties"]) == (2, 1, 1)
    assert (down["wins"], down["losses"], down["ties"]) == (1, 2, 1)


def test_the_interval_of_a_noisy_tie_contains_zero_and_the_difference() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=20)
    values = reference + rng.normal(scale=0.5, size=20)
    r = _stats.paired(values, reference, sign=1.0)
    assert r["low"] <= r["diff"] <= r["high"]
    assert r["low"] < 0 < r["high"]
    assert r["wins"] + r["losses"] + r["ties"] == 20


def test_inert_coordinates_at_the_edge_are_counted_and_uniform_sampling_gives_about_2pct() -> None:
    problem = bench_oracles.PROBLEMS["hartmann6_12d"]
    assert len(problem.inert) == 6
    at_bounds = [{f"x{i}": (0.0 if i % 2 else 1.0) for i in range(12)}]
    assert bench_oracles.edge_count(problem, at_bounds) == [6, 6]
    inside = [{f"x{i}": 0.5 for i in range(12)}]
    assert bench_oracles.edge_count(problem, inside) == [0, 6]
    rng = np.random.default_rng(0)
    uniform = [{f"x{i}": float(v) for i, v in enumerate(row)} for row in rng.random((2000, 12))]
    at_edge, total = bench_oracles.edge_count(problem, uniform)
    assert total == 12_000
    assert 0.015 < at_edge / total < 0.025


_H6_MINIMISER = dict(zip(("x0", "x1", "x2", "x3", "x4", "x5"), _H6_ARGMIN, strict=True))


@pytest.mark.parametrize(
    ("name", "minimiser"),
    [
        ("hartmann6_12d", _H6_MINIMISER),
        ("hartmann6_20d", _H6_MINIMISER),
        ("branin_8d", {"x1": np.pi, "x2": 2.275}),
    ],
)
def test_an_embedded_function_keeps_its_optimum_whatever_the_ignored_coordinates(
    name: str, minimiser: dict
) -> None:
    problem = bench_oracles.PROBLEMS[name]
    rng = np.random.default_rng(1)
    dims = {d.name: d for d in problem.dims}
    for _ in range(5):
        values = {
            n: dims[n].low + rng.random() * (dims[n].high - dims[n].low) for n in problem.inert
        }
        assert problem.fn({**values, **minimiser}) == pytest.approx(problem.optimum, abs=1e-5)
    assert set(problem.inert) | set(minimiser) == set(dims)


def test_float_hyperparameters_at_a_bound_are_counted_on_their_own_scale(tmp_path: Path) -> None:
    space = [
        {
            "class_name": "Float",
            "config": {"name": "lr", "min_value": 1e-4, "max_value": 1e-1, "sampling": "log"},
        },
        {
            "class_name": "Float",
            "config": {"name": "drop", "min_value": 0.0, "max_value": 0.5, "sampling": "linear"},
        },
        {"class_name": "Int", "config": {"name": "units", "min_value": 8, "max_value": 64}},
        {
            "class_name": "Float",
            "config": {
                "name": "momentum",
                "min_value": 0.0,
                "max_value": 0.99,
                "sampling": "linear",
            },
        },
    ]
    trials = {
        "00": {"lr": 1e-1, "drop": 0.5, "units": 8},  # before trial 5: not counted
        "04": {"lr": 1e-1, "drop": 0.25, "units": 8},  # lr at its upper bound
        "05": {"lr": 2e-4, "drop": 0.0, "units": 64, "momentum": 0.5},  # 2e-4 is 10% up in log
    }
    for trial_id, values in trials.items():
        folder = tmp_path / "kt" / f"trial_{trial_id}"
        folder.mkdir(parents=True)
        trial = {"trial_id": trial_id, "hyperparameters": {"space": space, "values": values}}
        (folder / "trial.json").write_text(json.dumps(trial))
    # floats: lr, drop (04); lr, drop, momentum (05). At a bound: lr (04), drop (05).
    assert bench_strategies.edge_count(tmp_path) == (2, 5)
    assert bench_strategies.edge_count(tmp_path, first=0) == (4, 7)


def test_a_report_replaces_only_its_generated_block(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(_common, "HERE", tmp_path)
    (tmp_path / "demo.md").write_text(
        f"# demo\n\nNotes kept by hand.\n\n{_common.BEGIN}\nold table\n{_common.END}\n\n"
        "## History\n\n- an earlier run\n"
    )
    report = _common.Report("demo")
    report.table(["method", "regret"], [["a", "0.1"]])
    report.write("python demo.py --seeds 2")
    text = (tmp_path / "demo.md").read_text()
    assert "old table" not in text and "| a | 0.1 |" in text
    assert text.startswith("# demo\n\nNotes kept by hand.") and text.endswith("- an earlier run\n")
    assert "Command: `python demo.py --seeds 2`" in text
    report.write("python demo.py --seeds 3")  # a second write replaces the block again
    assert (tmp_path / "demo.md").read_text().count(_common.BEGIN) == 1


def test_a_cache_keeps_every_result_and_the_last_of_a_key(tmp_path: Path) -> None:
    cache = _common.Cache(tmp_path / "r.jsonl", ("method", "seed"))
    cache.add({"method": "a", "seed": 0, "v": 1})
    cache.add({"method": "a", "seed": 0, "v": 2})
    again = _common.Cache(tmp_path / "r.jsonl", ("method", "seed"))
    assert ("a", 0) in again and again[("a", 0)]["v"] == 2
    assert ("a", 0) not in _common.Cache(tmp_path / "r.jsonl", ("method", "seed"), fresh=True)


def test_mean_ranks_share_ties_and_follow_the_direction() -> None:
    scores = {"t1": {"a": 0.1, "b": 0.2, "c": 0.2}, "t2": {"a": 0.3, "b": 0.1, "c": 0.2}}
    ranks = _stats.mean_ranks(scores, sign=-1.0)  # losses: smaller is better
    assert ranks == {"a": (1 + 3) / 2, "b": (2.5 + 1) / 2, "c": (2.5 + 2) / 2}
    assert _stats.mean_ranks(scores, sign=1.0)["a"] == (3 + 1) / 2


def test_the_bi_objective_problems_reach_their_known_fronts_and_hypervolume_is_counted_by_epochs():
    import math

    import pareto as bench_pareto

    for f1 in (0.0, 0.25, 1.0):
        x = {"x0": f1, **{f"x{i}": 0.0 for i in range(1, 5)}}
        assert bench_pareto.evaluate("zdt1", x) == pytest.approx((f1, 1 - math.sqrt(f1)))
        assert bench_pareto.evaluate("zdt2", x) == pytest.approx((f1, 1 - f1**2))
        mixed = {"x0": f1, "x1": 0.0, "x2": 0.0, "x3": 0, "x4": "a"}
        assert bench_pareto.evaluate("zdt1_mixed", mixed) == pytest.approx((f1, 1 - math.sqrt(f1)))
        d = {"x0": f1, **{f"x{i}": 0.5 for i in range(1, 6)}}
        a, b = bench_pareto.evaluate("dtlz2", d)
        assert a**2 + b**2 == pytest.approx(1.0)  # DTLZ2's front: the unit quarter circle
    run = {"hv": [1.0, 2.0, 3.0], "epochs": [9.0, 9.0, 9.0]}
    assert bench_pareto._hv_at_epochs(run, 18) == 2.0
    assert bench_pareto._hv_at_epochs(run, 8) == 0.0


def test_the_real_report_pairs_a_variant_with_bayes_and_lists_every_run_by_seed(
    capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    losses = {"random": 1.0, "bayes": 0.9, "bayes_warp": 0.8}  # the variant best on every seed
    rows = {
        (task, s, k): {
            "best_val_loss": loss + 0.01 * k,
            "curve": [loss + 0.01 * k] * 20,
            "test_accuracy": 0.5,
            "seconds": 1.0,
            "failed": 0,
        }
        for task in bench_real.TASKS
        for s, loss in losses.items()
        for k in range(3)
    }
    del rows[("cancer-mlp", "random", 2)]  # a run not done yet: the task has no random row
    report = bench_real.report(rows, ["random", "bayes", "bayes_warp"], range(3), 20, tmp_path)
    out = "\n".join(report.lines)
    assert "| bayes_warp | 0.8100 |" in out
    assert "+0.1000 [+0.1000, +0.1000] 3/0/0" in out  # ahead of bayes on all 3 seeds
    assert "With bayes_warp in place of bayes: random 2.00, bayes_warp 1.00" in out
    assert "| cancer-mlp | 2 | - | 0.9200 | 0.8200 |" in out
    assert "| mnist1d-mlp | +0.2000 [+0.2000, +0.2000] 3/0/0 |" in out  # the variant against random
    assert "| cancer-mlp | - |" in out  # random not complete there
    assert out.count("| mnist1d-mlp | ") == 1 + 3  # against the peers, then each seed
    assert "Unordered choices" not in out  # no run directory at hand: no such table
    assert out.startswith("3 seeds, 20 trials")
    # A later replicate (seeds 1-2 here) reports its own seeds only.
    later = "\n".join(bench_real.report(rows, ["bayes"], range(1, 3), 20, tmp_path).lines)
    assert later.startswith("2 seeds (1-2), 20 trials")
    assert "| cancer-mlp | 2 | 0.9200 |" in later and "| cancer-mlp | 0 |" not in later
    capsys.readouterr()


def test_seed_words_name_a_replicates_seeds() -> None:
    assert _common.seed_words(range(10)) == "10 seeds"
    assert _common.seed_words(range(10, 20)) == "10 seeds (10-19)"
    assert _common.seed_words([0, 2]) == "2 seeds (0, 2)"
    assert _common.seed_words([]) == "0 seeds"  # no method could run: tables, not a crash


def test_the_oracle_tables_pair_every_method_with_gpucb_on_test_functions_too() -> None:
    def row(method: str, problem: str, seed: int, regret: float) -> dict:
        return {
            "method": method,
            "problem": problem,
            "seed": seed,
            "regret": [regret] * 25,
            "seconds": [0.01] * 25,
            "duplicates": 0,
        }

    # skopt is behind on seeds 10-12 and ahead on seed 13, by 0.5 each time
    rows = [
        row(m, "branin_noise1", k, 1.0 + (0.5 if m == "skopt" else 0.0) * (-1 if k == 13 else 1))
        for m in ("gpucb", "skopt")
        for k in range(10, 14)
    ]
    text = bench_oracles.tables(rows, (25,), 25)
    assert "after 25 evaluations, 4 seeds (10-13) (lower is better)" in text
    assert "| branin_noise1 (test function) | -0.5000 [-0.5000, +0.5000] 1/3/0 |" in text
    assert "over the 1 test function tasks: gpucb 1.00, skopt 2.00" in text


def test_the_real_pool_reads_back_the_per_seed_tables_of_two_replicates(
    capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    def block(name: str, seeds: range, bayes: float) -> str:
        rows = {
            (task, s, k): {
                "best_val_loss": (bayes if s == "bayes" else 1.0) + 0.001 * k,
                "curve": [1.0] * 20,
                "test_accuracy": 0.5,
                "seconds": 1.0,
                "failed": 0,
            }
            for task in bench_real.TASKS
            for s in bench_real.STRATEGIES
            for k in seeds
        }
        begin, end = bench_real.markers(name)
        lines = bench_real.report(rows, list(bench_real.STRATEGIES), seeds, 20, tmp_path).lines
        return "\n".join([begin, *lines, end])

    # bayes is better than every peer on seeds 0-2 and worse on seeds 3-4
    text = "\n".join(["# real", block("", range(3), 0.5), block("rep", range(3, 5), 1.5)])
    rows, seeds = bench_real.pooled_rows(text, ["main", "rep"])
    assert seeds == range(5) and rows[("digits-cnn", "tpe", 4)] == {"best_val_loss": 1.004}
    out = bench_real.pooled_report(bench_real.Report("real"), rows, seeds, ["main", "rep"])
    joined = "\n".join(out.lines)
    assert joined.startswith("5 seeds, pooled from the per-seed tables of the blocks main, rep")
    assert "| digits-cnn | bayes | 0.5020 | - |" in joined
    assert "| tpe | 12 | 8 | 0 |" in joined  # 3 of 5 seeds won on each of 4 tasks
    with pytest.raises(SystemExit, match="repeats a run"):
        bench_real.pooled_rows(text, ["main", "main"])
    with pytest.raises(SystemExit, match="no block 'other'"):
        bench_real.pooled_rows(text, ["main", "other"])
    assert bench_real.pools_into_its_source("", ["main", "rep"])  # the main block: a source
    assert bench_real.pools_into_its_source("rep", ["main", "rep"])
    assert not bench_real.pools_into_its_source("pooled", ["main", "rep"])
    gap = "\n".join(["# real", block("", range(2), 0.5), block("rep", range(3, 5), 1.5)])
    with pytest.raises(SystemExit, match="leave a gap"):
        bench_real.pooled_rows(gap, ["main", "rep"])
    capsys.readouterr()


def test_the_real_blocks_command_names_the_tasks_it_reports_not_those_its_call_ran() -> None:
    argv = ["--first-seed", "10", "--tasks", "mnist1d-cnn1d", "--jobs", "2", "--block", "r"]
    every = list(bench_real.TASKS)
    assert bench_real.reported_arguments(argv, every) == [
        "--first-seed", "10", "--jobs", "2", "--block", "r"
    ]  # fmt: skip
    some = ["mnist1d-mlp", "mnist1d-cnn1d"]
    assert bench_real.reported_arguments(["--tasks=cancer-mlp", "--seeds", "3"], some) == [
        "--seeds", "3", "--tasks", *some
    ]  # fmt: skip


def test_a_halving_replicate_reports_its_own_seeds_in_its_own_block(tmp_path, monkeypatch):
    monkeypatch.setattr(_common, "HERE", tmp_path)
    (tmp_path / "halving.md").write_text("# halving\n")
    cache = _common.Cache(tmp_path / "real-val_loss-mnist1d-cnn1d.jsonl", ("method", "seed"))
    for method, seed, full, best in [
        ("halving", 10, 180, 0.10),
        ("halving", 11, 180, 0.14),
        ("random20", 10, 540, 0.09),
        ("random20", 11, 540, 0.12),
    ]:  # every run is cached: the call below runs nothing
        curve = [[1, 0.9], [full, best]]
        cache.add(
            {
                "method": method,
                "seed": seed,
                "curve": curve,
                "epoch_curve": curve,
                "direction": "min",
            }
        )
    argv = ["real", "--task", "mnist1d-cnn1d", "--objective", "val_loss", "--out", str(tmp_path)]
    argv += ["--methods", "halving", "random20", "--first-seed", "10", "--seeds", "12"]
    assert bench_halving.main([*argv, "--block", "replicate"]) == 0
    text = (tmp_path / "halving.md").read_text()
    assert "<!-- results (replicate)" in text and "over 2 seeds (10-11)" in text
    assert "Random search's median after 20 full trainings (540 epochs): 0.1050" in text
    # halving after 180 epochs against random20 after 540, seed by seed: 0 won, 2 lost
    assert "| halving | -0.0150 [" in text and "] 0/2/0 |" in text
    assert "seeds (0-" not in text and "over 10 seeds" not in text
    # each seed's pair, so a later replicate can be pooled with this one
    assert "| 10 | 0.1000 | 0.0900 |" in text and "| 11 | 0.1400 | 0.1200 |" in text


def _run_dir(path: Path, trials: list[tuple[str, str, str, float | None]]) -> Path:
    """A run directory with a space (an ordered and an unordered choice, a boolean) and trials."""
    space = [
        {"class_name": "Choice", "config": {"name": "opt", "values": ["a", "b", "c"]}},
        {"class_name": "Choice", "config": {"name": "size", "values": [1, 2], "ordered": True}},
        {"class_name": "Boolean", "config": {"name": "bn"}},
    ]
    (path / "kt").mkdir(parents=True)
    (path / "kt" / "oracle.json").write_text(json.dumps({"hyperparameters": {"space": space}}))
    lines = ["trial_id,status,opt,size,bn,val_loss"]
    for i, (opt, size, bn, loss) in enumerate(trials):
        status = "FAILED" if loss is None else "COMPLETED"
        lines.append(f"{i:02d},{status},{opt},{size},{bn},{'' if loss is None else loss}")
    (path / "trials.csv").write_text("\n".join(lines) + "\n")
    return path


def test_kept_choices_counts_later_trials_agreeing_with_the_best_so_far(tmp_path: Path) -> None:
    run = _run_dir(
        tmp_path / "run",
        [
            ("a", "1", "True", 1.0),
            ("b", "2", "False", 0.5),  # the best from here on
            ("b", "1", "True", None),  # failed: never the best, still counted once past `after`
            ("b", "1", "False", 0.7),  # keeps opt and bn (size is ordered: not counted)
            ("c", "2", "True", 0.9),  # keeps neither
        ],
    )
    assert bench_real.unordered_choices(run) == ["opt", "bn"]
    assert bench_real.kept_choices(run, after=2) == pytest.approx((1 + 2 + 0) / 6)
    assert bench_real.kept_choices(run, after=4) == 0.0
    assert bench_real.kept_choices(run, after=5) is None  # no trial after the first five
    assert bench_real.kept_choices(tmp_path / "elsewhere") is None  # not at hand


_SPACE = [
    {"class_name": "Float", "config": {"name": "lr", "default": 0.001, "conditions": [],
     "min_value": 1e-4, "max_value": 0.1, "step": None, "sampling": "log"}},
    {"class_name": "Boolean", "config": {"name": "bn", "default": False, "conditions": []}},
]  # fmt: skip


def _kt_run(path: Path, trials: list[tuple[float, bool, str, float | None]]) -> None:
    """A run directory as real.py leaves it: KerasTuner's saved space and trial files."""
    (path / "kt").mkdir(parents=True)
    space = {"hyperparameters": {"space": _SPACE}}
    (path / "kt" / "oracle.json").write_text(json.dumps(space))
    for i, (lr, bn, status, score) in enumerate(trials):
        (path / "kt" / f"trial_{i:02d}").mkdir()
        trial = {"hyperparameters": {"values": {"lr": lr, "bn": bn}}, "status": status}
        (path / "kt" / f"trial_{i:02d}" / "trial.json").write_text(
            json.dumps(trial | {"score": score})
        )


def test_the_surrogate_screen_pools_runs_and_ranks_what_each_model_did_not_see(tmp_path):
    rng = np.random.default_rng(0)

    def loss(lr: float, bn: bool) -> float:  # best at lr = 0.01 with batch norm
        return abs(np.log10(lr) + 2.0) + (0.0 if bn else 0.5)

    for seed in range(2):
        lrs = 10 ** rng.uniform(-4, -1, 12)
        trials = [
            (float(lr), bool(i % 2), "COMPLETED", loss(lr, bool(i % 2))) for i, lr in enumerate(lrs)
        ]
        trials.append((0.05, True, "FAILED", None))  # left out of the pool and of the run
        trials.append((0.02, False, "COMPLETED", float("nan")))  # as is a non-finite score
        _kt_run(tmp_path / "task" / f"random-s{seed}-t14", trials)
    _kt_run(tmp_path / "task" / "bayes-s0-t14", [(0.01, True, "COMPLETED", 0.1)] * 2)
    task = bench_surrogate.load_task(tmp_path / "task")
    assert task is not None and len(task.runs) == 3
    assert [len(t) for t in task.runs.values()] == [2, 12, 12]  # failed and nan trials dropped
    assert task.losses[json.dumps({"bn": True, "lr": 0.01})] == 0.1  # the repeat is pooled
    result = bench_surrogate.screen(task, ["gp", "forest"], ("random",), 10)
    assert [len(result[m]) for m in ("gp", "forest")] == [2, 2]  # one per random-search run
    for rho, top1, top5 in result["gp"] + result["forest"]:
        assert rho > 0.5 and 0.0 <= top1 <= top5  # a smooth loss both models learn
    assert bench_surrogate.load_task(tmp_path) is None  # no run directories there
    run = bench_real.run_path(tmp_path, "task", "bayes_nowarp", 3, 20)
    assert bench_real.run_strategy(run) == "bayes_nowarp"  # the name read back
    assert bench_real.run_strategy(tmp_path / "notes") is None


def test_ranking_scores_a_prediction_of_minus_the_loss() -> None:
    losses = np.array([0.3, 0.1, 0.2, 0.4, 0.5, 0.6])
    perfect = bench_surrogate.ranking(-losses, losses, best=0.05)
    assert perfect == pytest.approx((1.0, 0.05, 0.3 - 0.05))
    backwards = bench_surrogate.ranking(losses, losses, best=0.05)
    assert backwards[0] == pytest.approx(-1.0) and backwards[1] == pytest.approx(0.55)


def test_a_benchmark_run_stopped_part_way_is_resumed_not_taken_as_done(tmp_path, monkeypatch):
    fake = tmp_path / "tune.py"  # stands in for scripts/tune.py: finishes the run it is given
    fake.write_text(
        "import json, pathlib, sys\n"
        "d = pathlib.Path(sys.argv[-1].split('=', 1)[1])\n"
        "d.mkdir(parents=True, exist_ok=True)\n"
        "(d / 'summary.json').write_text(json.dumps({'status': 'finished', 'best_score': 0.5}))\n"
    )
    monkeypatch.setattr(_common, "TUNE", fake)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "summary.json").write_text(json.dumps({"status": "interrupted", "best_score": None}))
    assert _common.tune(["seed=0"], run_dir)["best_score"] == 0.5  # resumed to the end
    (run_dir / "summary.json").write_text(json.dumps({"status": "finished", "best_score": 0.25}))
    assert _common.tune(["seed=0"], run_dir)["best_score"] == 0.25  # finished: not run again


def _gp_data(n: int = 20, dim: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A steep low end in the first input, a slope in the second, the third inert."""
    rng = np.random.default_rng(0)
    x = rng.random((n, dim))
    x[:3, 2] = 1.0  # some inputs exactly on a bound
    y = np.exp(-6.0 * x[:, 0]) + 0.5 * x[:, 1]
    return x, (y - y.mean()) / y.std()


@pytest.mark.parametrize("ablation", ["trend", "warp"])
def test_the_ablation_gps_gradients_match_finite_differences(ablation: str) -> None:
    """Both objectives, and the warped GP's mean and σ in its inputs (used by the polish)."""
    import scipy.optimize

    from kt_ext.gp import GPParams, squared_differences

    x, y = _gp_data()
    rng = np.random.default_rng(1)
    if ablation == "trend":
        c = x - x.mean(axis=0)
        args = (squared_differences(x, x), c @ c.T, y)
        objective, theta = _trend._neg_log_posterior, np.array([0.1, -0.3, 0.2, 0.4, -5.0, -1.0])
    else:
        args = (x, y)
        objective = _warp.neg_log_posterior
        theta = np.concatenate([[0.1, -0.3, 0.2, 0.4, -5.0], rng.normal(0.0, 0.3, 6)])
    value, gradient = objective(theta, *args)
    numeric = scipy.optimize.approx_fprime(theta, lambda t: objective(t, *args)[0], 1e-6)
    assert np.allclose(gradient, numeric, rtol=1e-4, atol=1e-4 * np.abs(gradient).max())
    if ablation == "warp":
        a, b = np.array([0.5, 2.0, 1.0]), np.array([1.5, 0.6, 1.0])
        gp = _warp.WarpedGP(x, y, GPParams(1.0, np.ones(3), 1e-3), a, b)
        xs = rng.uniform(0.05, 0.95, (4, 3))
        _, _, d_mean, d_std = gp.predict_with_gradient(xs)
        step = np.eye(3) * 1e-6
        for i in range(4):
            for d in range(3):
                up, down = gp.predict(xs[i : i + 1] + step[d]), gp.predict(xs[i : i + 1] - step[d])
                slopes = [(u - v)[0] / 2e-6 for u, v in zip(up, down, strict=True)]
                assert slopes == pytest.approx([d_mean[i, d], d_std[i, d]], rel=1e-4, abs=1e-6)


def test_the_identity_warp_and_a_vanishing_trend_are_the_shipped_gp() -> None:
    from kt_ext.gp import GaussianProcess, GPParams

    x, y = _gp_data()
    params = GPParams(0.8, np.array([0.3, 0.7, 2.0]), 1e-4)
    xs = np.random.default_rng(2).random((5, 3))
    shipped = GaussianProcess(x, y, params).predict(xs)
    warped = _warp.WarpedGP(x, y, params, np.ones(3), np.ones(3)).predict(xs)
    trend = _trend.TrendGP(x, y, params, 0.0).predict(xs)
    for mean, std in (warped, trend):
        assert np.allclose(mean, shipped[0], atol=1e-4) and np.allclose(std, shipped[1], atol=1e-4)
    # Fitted on data with a slope, the joint fit gives the trend a real share.
    params_fit, s = _trend.fit_joint(x, y, params)
    assert s > np.exp(_trend.LOG_S_PRIOR[0]) and params_fit.amplitude > 0


def test_every_scikit_learn_task_gives_one_value_per_configuration_whatever_numpys_state() -> None:
    def middle(d: _functions.Dim) -> object:
        if d.kind == "choice":
            return d.choices[0]
        mid = float(np.sqrt(d.low * d.high)) if d.log else (d.low + d.high) / 2
        return round(mid) if d.kind == "int" else mid

    for name, task in bench_oracles.TASKS.items():
        values = bench_oracles.active_values(task.dims, {d.name: middle(d) for d in task.dims})
        scores = []
        for state in (0, 1):
            np.random.seed(state)  # what an unseeded estimator would draw from
            scores.append(task.fn(values))
        assert scores[0] == scores[1], name


def test_the_final_ablation_tapers_beta_over_the_last_fifth_of_the_budget() -> None:
    tapered = [bench_oracles.final_beta(2.0, t, 20) for t in range(20)]
    assert tapered[:17] == [2.0] * 17  # 4 trials left at trial 16: the window's start
    assert tapered[17:] == pytest.approx([1.5, 1.0, 0.5])
    assert bench_oracles.final_beta(1.0, 2, 3) == 1.0  # no window to taper in under 5 trials
