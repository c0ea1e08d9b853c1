import math

import pytest

from kt_ext.errors import ConfigError
from kt_ext.space import grid_values, parse_space

SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "units": {"type": "int", "low": 32, "high": 512, "step": 32},
    "optimizer": {"type": "choice", "values": ["adam", "sgd", "rmsprop"]},
    "batch_norm": {"type": "bool"},
    "momentum": {"type": "float", "low": 0.5, "high": 0.99, "when": {"optimizer": "sgd"}},
    "epsilon": 1e-7,
}


def test_parse_orders_parents_before_children():
    space = parse_space({"momentum": SPACE["momentum"], "optimizer": SPACE["optimizer"]})
    assert space.names == ["optimizer", "momentum"]


def test_parse_kinds_and_fields():
    space = parse_space(SPACE)
    assert {p.name: p.kind for p in space} == {
        "lr": "float",
        "units": "int",
        "optimizer": "choice",
        "batch_norm": "bool",
        "momentum": "float",
        "epsilon": "fixed",
    }
    assert space["lr"].log is True
    assert space["units"].step == 32
    assert space["momentum"].when[0].parent == "optimizer"
    assert space["momentum"].when[0].values == ("sgd",)
    assert space["epsilon"].values == (1e-7,)


def test_declare_gives_keras_tuner_space_with_conditions():
    space = parse_space(SPACE)
    hp = space.to_hyperparameters()
    by_name = {h.name: h for h in hp.space}
    assert type(by_name["lr"]).__name__ == "Float" and by_name["lr"].sampling == "log"
    assert type(by_name["units"]).__name__ == "Int" and by_name["units"].step == 32
    assert type(by_name["optimizer"]).__name__ == "Choice"
    assert type(by_name["batch_norm"]).__name__ == "Boolean"
    assert type(by_name["epsilon"]).__name__ == "Fixed"
    assert by_name["momentum"].conditions[0].name == "optimizer"
    # Default optimizer is adam, so momentum is inactive and absent from the values.
    values = space.declare(hp)
    assert "momentum" not in values and values["optimizer"] == "adam"
    # A trial whose optimizer is sgd gets momentum (KerasTuner fills the default 0.5).
    import keras_tuner

    trial_hp = keras_tuner.HyperParameters()
    trial_hp.values["optimizer"] = "sgd"
    assert space.declare(trial_hp)["momentum"] == 0.5


def test_nested_conditions_need_every_parent():
    space = parse_space(
        {
            "optimizer": {"type": "choice", "values": ["adam", "sgd"]},
            "nesterov": {"type": "bool", "when": {"optimizer": "sgd"}},
            "momentum": {
                "type": "float",
                "low": 0.1,
                "high": 0.9,
                "when": {"optimizer": "sgd", "nesterov": True},
            },
        }
    )
    import keras_tuner

    def active(**values):
        hp = keras_tuner.HyperParameters()
        hp.values.update(values)
        return space.declare(hp)

    assert "momentum" in active(optimizer="sgd", nesterov=True)
    assert "momentum" not in active(optimizer="sgd", nesterov=False)
    assert "momentum" not in active(optimizer="adam", nesterov=True)


def test_grid_values_linear_and_log():
    assert grid_values(0.0, 1.0, 3, log=False) == [0.0, 0.5, 1.0]
    pts = grid_values(1e-4, 1e-2, 3, log=True)
    assert pts == pytest.approx([1e-4, 1e-3, 1e-2])
    assert all(math.isfinite(p) for p in pts)


BAD = [
    ({"lr": {"type": "float", "low": 0.1, "high": 0.001}}, "model.space.lr.low", "must be < high"),
    (
        {"lr": {"type": "float", "low": 0.0, "high": 0.1, "log": True}},
        "model.space.lr.low",
        "> 0 when log",
    ),
    ({"lr": {"type": "float", "low": float("nan"), "high": 0.1}}, "model.space.lr.low", "finite"),
    ({"lr": {"type": "float", "low": 0.0, "high": float("inf")}}, "model.space.lr.high", "finite"),
    ({"u": {"type": "int", "low": 1, "high": 9, "step": 0}}, "model.space.u.step", "> 0"),
    ({"u": {"type": "int", "low": 1, "high": 9, "step": -2}}, "model.space.u.step", "> 0"),
    ({"u": {"type": "int", "low": 1.5, "high": 9}}, "model.space.u.low", "integer"),
    (
        {"lr": {"type": "float", "low": 1e-3, "high": 1.0, "log": True, "step": 0.5}},
        "model.space.lr.step",
        "factor",
    ),
    ({"o": {"type": "choice", "values": []}}, "model.space.o.values", "non-empty"),
    ({"o": {"type": "choice", "values": ["a", "a"]}}, "model.space.o.values", "unique"),
    ({"o": {"type": "choice", "values": ["a", 1]}}, "model.space.o.values", "same type"),
    (
        {"o": {"type": "choice", "values": ["a", "b"], "default": "c"}},
        "model.space.o.default",
        "one of",
    ),
    (
        {"o": {"type": "choice", "values": ["a", "b"], "ordered": True}},
        "model.space.o.ordered",
        "numeric",
    ),
    ({"o": {"type": "categorical", "values": ["a"]}}, "model.space.o.type", "must be one of"),
    ({"o": {"values": ["a"]}}, "model.space.o.type", "must be one of"),
    (
        {"lr": {"type": "float", "low": 0.1, "high": 1.0, "hihg": 2}},
        "model.space.lr.hihg",
        "unknown key",
    ),
    ({"lr": {"type": "float", "high": 1.0}}, "model.space.lr.low", "required"),
    (
        {"m": {"type": "float", "low": 0.1, "high": 0.9, "when": {"optimizer": "sgd"}}},
        "model.space.m.when.optimizer",
        "names no hyperparameter",
    ),
    (
        {
            "o": {"type": "choice", "values": ["adam"]},
            "m": {"type": "float", "low": 0.1, "high": 0.9, "when": {"o": "sgd"}},
        },
        "model.space.m.when.o",
        "is not a value",
    ),
    (
        {"a": {"type": "bool", "when": {"b": True}}, "b": {"type": "bool", "when": {"a": True}}},
        "when",
        "cycle",
    ),
    (
        {
            "lr": {"type": "float", "low": 0.1, "high": 1.0},
            "m": {"type": "bool", "when": {"lr": 0.5}},
        },
        "model.space.m.when.lr",
        "parent must be",
    ),
    ({"x": [1, 2]}, "model.space.x", "ambiguous"),
    ({"x": {"type": "fixed", "value": [1]}}, "model.space.x.value", "number, string"),
    ({"bad-name": 3}, "model.space.bad-name", "identifiers"),
    (
        {"d": {"type": "float", "low": 0.0, "high": 0.5, "default": 0.9}},
        "model.space.d.default",
        "lie in",
    ),
    ({"b": {"type": "bool", "default": "yes"}}, "model.space.b.default", "true or false"),
    ({"lr": {"type": "float", "low": "1e-4", "high": 1.0}}, "model.space.lr.low", "number"),
]


@pytest.mark.parametrize(("raw", "key", "rule"), BAD, ids=[f"{b[1]}:{b[2]}" for b in BAD])
def test_invalid_entries_name_key_and_rule(raw, key, rule):
    with pytest.raises(ConfigError) as info:
        parse_space(raw)
    message = str(info.value)
    assert key in message and rule in message
    assert "\n" not in message


def test_error_echoes_value():
    with pytest.raises(ConfigError, match=r"model\.space\.u\.step = -2: must be > 0"):
        parse_space({"u": {"type": "int", "low": 1, "high": 9, "step": -2}})


def test_resolve_fills_defaults_checks_domains_and_conditions():
    from kt_ext.errors import ConfigError

    space = parse_space(
        {
            "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True, "default": 1e-3},
            "optimizer": {"type": "choice", "values": ["adam", "sgd"]},
            "momentum": {"type": "float", "low": 0.5, "high": 0.99, "when": {"optimizer": "sgd"}},
            "units": {"type": "int", "low": 32, "high": 128, "step": 32},
            "batch_size": {"type": "choice", "values": [32, 64], "ordered": True},
            "bn": {"type": "bool"},
        }
    )
    assert space.resolve({}) == {
        "lr": 1e-3,
        "optimizer": "adam",
        "units": 32,
        "batch_size": 32,
        "bn": False,
    }
    got = space.resolve({"optimizer": "sgd", "units": 64.0, "batch_size": 64, "bn": True})
    assert got["momentum"] == 0.5 and got["units"] == 64 and isinstance(got["units"], int)
    for given, key in [
        ({"lr": 1.0}, "model.values.lr"),
        ({"units": 48}, "model.values.units"),
        ({"bn": 1}, "model.values.bn"),
        ({"momentum": 0.9}, "model.values.momentum"),
        ({"depth": 2}, "model.values.depth"),
        ({"optimizer": "rmsprop"}, "model.values.optimizer"),
    ]:
        with pytest.raises(ConfigError) as info:
            space.resolve(given)
        assert info.value.key == key
