import pytest

from kt_ext.config.cli import MAX_SWEEP_VALUES, _variants, check_overrides
from kt_ext.errors import ConfigError
from tests.conftest import ROOT

CONF = ROOT / "conf"


def error(*argv: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        check_overrides(list(argv), CONF, "config")
    return info.value


def test_good_command_lines_pass():
    check_overrides([], CONF, "config")
    check_overrides(["model=cnn", "search.epochs=3", "hydra.run.dir=/tmp/x"], CONF, "config")
    check_overrides(["-m", "strategy=random,bayes", "model=mlp,cnn"], CONF, "config")


def test_each_hydra_failure_names_its_key_and_rule():
    e = error("model=transformer")
    assert (e.key, e.value) == ("model", "transformer") and "cnn, cnn1d, mlp, mlp_lr_wd" in e.rule
    e = error("search.epoch=3")
    assert (e.key, e.value) == ("search.epoch", "3") and "did you mean search.epochs?" in e.rule
    e = error("+search.epoch=3")  # adding it does not help: kt-ext would not read it
    assert (e.key, e.value) == ("search.epoch", 3) and "did you mean search.epochs?" in e.rule
    assert "+model.space.lr.hihg=" not in error("model.space.lr.hihg=2").rule
    assert error("+search.epochs=3").rule.startswith("exists already")
    assert error("~search.nosuch").key == "search.nosuch"
    assert "override syntax" in error("search.epochs=[1").rule
    assert "--multirun" in error("strategy=random,bayes").rule
    assert "\n" not in str(error("data=nosuch"))


def test_every_job_of_a_multirun_is_validated_before_the_first_runs():
    e = error("-m", "strategy=random,bayes", "search.max_trials=5,0")
    assert (e.key, e.value) == ("search.max_trials", 0)
    assert error("+model.space.lr.hihg=2").key == "model.space.lr.hihg"


def test_every_value_of_every_sweep_is_composed():
    # the bad option is neither sweep's first value
    assert error("-m", "model=mlp,cnn", "strategy=random,bayes,nosuch").value == "nosuch"
    variants = _variants(["a=1,2,3", "b=x,y", "c=5"], multirun=True)
    assert variants == [
        ["c=5", "a=1", "b=x"],
        ["c=5", "a=2", "b=x"],
        ["c=5", "a=3", "b=x"],
        ["c=5", "a=1", "b=y"],
    ]
    many = _variants([f"a=range(0,{10 * MAX_SWEEP_VALUES})"], multirun=True)
    assert len(many) == MAX_SWEEP_VALUES


def test_what_only_hydra_can_judge_is_left_to_it():
    check_overrides(["--help"], CONF, "config")
    check_overrides(["--cfg", "job", "model=transformer"], CONF, "config")


@pytest.mark.parametrize(
    ("script", "first"), [("tune", "kt-ext tune:"), ("train", "kt-ext train:")]
)
def test_help_says_what_the_script_does_and_how_to_go_on(script, first):
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / f"{script}.py"), "--help"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(first)
    assert "strategy: bayes, bohb" in out.stdout and "--multirun" in out.stdout
    assert "search:" not in out.stdout  # not the composed config
    if script == "tune":
        assert "hydra.run.dir=<run dir>" in out.stdout and "scripts/status.py" in out.stdout
