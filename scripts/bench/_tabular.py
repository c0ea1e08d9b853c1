"""Real tuning tasks that run in milliseconds: scikit-learn models on scikit-learn's bundled tables.

The kind of task the 2020 black-box optimisation challenge (Bayesmark) used:
a classical model, a small table, the cross-validated error (or log loss)
of a configuration as the objective. They have what test functions lack and
real tuning has: plateaus (a tree that stops splitting scores the same
whatever its other settings), integers with few values, log-scale ranges
whose good region is small, and conditional entries (an SVM's ``gamma`` only
for kernels that use it). An evaluation takes 5-200 ms, so ten seeds of
every peer run in minutes.

Each task is a :class:`_functions.Problem` whose ``optimum`` is 0 (an error
or a loss), so its "regret" is the error itself. The folds are fixed
(stratified, shuffled with seed 0) and the models seeded, so a configuration
always scores the same. The data sets ship with scikit-learn: nothing is
downloaded. ``ROLES`` splits the tasks into those a change may be chosen on
and those held out to confirm it.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from _functions import Dim, Problem

_FOLDS = 3


@functools.cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets
    from sklearn.preprocessing import StandardScaler

    loader = {
        "breast": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
        "digits": datasets.load_digits,
        "iris": datasets.load_iris,
    }[name]
    x, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(x), y


def _cv_loss(model: Any, data: str, metric: str) -> float:
    """The mean over the fixed folds of the error rate or the log loss of ``model`` on ``data``."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    x, y = _data(data)
    folds = StratifiedKFold(_FOLDS, shuffle=True, random_state=0)
    scoring = "accuracy" if metric == "error" else "neg_log_loss"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = float(np.mean(cross_val_score(model, x, y, cv=folds, scoring=scoring)))
    return 1.0 - score if metric == "error" else -score


def _svm(data: str, metric: str) -> Callable[[dict[str, Any]], float]:
    def fn(v: dict[str, Any]) -> float:
        from sklearn.svm import SVC

        probability = metric == "nll"  # Platt scaling draws its folds: seeded, or the task is noisy
        model = SVC(
            C=v["C"], gamma=v["gamma"], tol=v["tol"], probability=probability, random_state=0
        )
        return _cv_loss(model, data, metric)

    return fn


def _svm_kernels(data: str, metric: str) -> Callable[[dict[str, Any]], float]:
    def fn(v: dict[str, Any]) -> float:
        from sklearn.svm import SVC

        kernel = v["kernel"]
        extra = {} if kernel == "linear" else {"gamma": v["gamma"]}
        if kernel == "poly":
            extra |= {"degree": v["degree"], "coef0": v["coef0"]}
        model = SVC(C=v["C"], kernel=kernel, random_state=0, **extra)
        return _cv_loss(model, data, metric)

    return fn


def _tree(data: str, metric: str, forest: bool) -> Callable[[dict[str, Any]], float]:
    def fn(v: dict[str, Any]) -> float:
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.tree import DecisionTreeClassifier

        kwargs = {k: v[k] for k in _TREE_KEYS}
        if forest:
            model = RandomForestClassifier(n_estimators=10, random_state=0, **kwargs)
        else:
            model = DecisionTreeClassifier(random_state=0, **kwargs)
        return _cv_loss(model, data, metric)

    return fn


def _knn(data: str, metric: str) -> Callable[[dict[str, Any]], float]:
    def fn(v: dict[str, Any]) -> float:
        from sklearn.neighbors import KNeighborsClassifier

        model = KNeighborsClassifier(n_neighbors=v["n_neighbors"], p=v["p"], algorithm="brute")
        return _cv_loss(model, data, metric)

    return fn


def _ada(data: str, metric: str) -> Callable[[dict[str, Any]], float]:
    def fn(v: dict[str, Any]) -> float:
        from sklearn.ensemble import AdaBoostClassifier

        model = AdaBoostClassifier(
            n_estimators=v["n_estimators"], learning_rate=v["learning_rate"], random_state=0
        )
        return _cv_loss(model, data, metric)

    return fn


def _logistic(data: str, metric: str) -> Callable[[dict[str, Any]], float]:
    def fn(v: dict[str, Any]) -> float:
        from sklearn.linear_model import LogisticRegression

        penalty = v["penalty"]
        extra = {"l1_ratio": v["l1_ratio"]} if penalty == "elasticnet" else {}
        model = LogisticRegression(  # saga shuffles the data: seeded, or the task is noisy
            C=v["C"],
            penalty=penalty,
            solver="saga",
            tol=v["tol"],
            max_iter=200,
            random_state=0,
            **extra,
        )
        return _cv_loss(model, data, metric)

    return fn


_TREE_KEYS = (
    "max_depth",
    "min_samples_split",
    "min_samples_leaf",
    "min_weight_fraction_leaf",
    "max_features",
    "min_impurity_decrease",
)
_TREE = (
    Dim("max_depth", "int", 1, 15),
    Dim("min_samples_split", "float", 0.01, 0.99),
    Dim("min_samples_leaf", "float", 0.01, 0.49),
    Dim("min_weight_fraction_leaf", "float", 0.01, 0.49),
    Dim("max_features", "float", 0.01, 0.99),
    Dim("min_impurity_decrease", "float", 0.0, 0.5),
)
_SVM = (
    Dim("C", "float", 1.0, 1e3, log=True),
    Dim("gamma", "float", 1e-4, 1e-1, log=True),
    Dim("tol", "float", 1e-5, 1e-1, log=True),
)
_NONLINEAR = ("rbf", "poly", "sigmoid")
_SVM_KERNELS = (
    Dim("kernel", "choice", choices=("linear", *_NONLINEAR)),
    Dim("C", "float", 1e-2, 1e3, log=True),
    Dim("gamma", "float", 1e-4, 1.0, log=True, when=("kernel", _NONLINEAR)),
    Dim("degree", "int", 2, 5, when=("kernel", ("poly",))),
    Dim("coef0", "float", 0.0, 1.0, when=("kernel", ("poly",))),
)
_KNN = (Dim("n_neighbors", "int", 1, 25), Dim("p", "int", 1, 4))
_ADA = (Dim("n_estimators", "int", 10, 100), Dim("learning_rate", "float", 1e-4, 10.0, log=True))
_LOGISTIC = (
    Dim("penalty", "choice", choices=("l1", "l2", "elasticnet")),
    Dim("C", "float", 1e-3, 1e2, log=True),
    Dim("tol", "float", 1e-5, 1e-1, log=True),
    Dim("l1_ratio", "float", 0.0, 1.0, when=("penalty", ("elasticnet",))),
)

# name -> (role, dims, objective); "choose": a change may be chosen on it, "confirm": held out.
_TASKS: dict[str, tuple[str, tuple[Dim, ...], Callable[[dict[str, Any]], float]]] = {
    "svm_breast_nll": ("choose", _SVM, _svm("breast", "nll")),
    "tree_wine_error": ("choose", _TREE, _tree("wine", "error", forest=False)),
    "knn_breast_error": ("choose", _KNN, _knn("breast", "error")),
    "kernels_wine_error": ("choose", _SVM_KERNELS, _svm_kernels("wine", "error")),
    "forest_breast_error": ("confirm", _TREE, _tree("breast", "error", forest=True)),
    "ada_wine_error": ("confirm", _ADA, _ada("wine", "error")),
    "svm_digits_error": ("confirm", _SVM, _svm("digits", "error")),
    "logistic_breast_nll": ("confirm", _LOGISTIC, _logistic("breast", "nll")),
}
TASKS = {name: Problem(name, dims, fn, 0.0) for name, (_, dims, fn) in _TASKS.items()}
ROLES = {name: role for name, (role, _, _) in _TASKS.items()}
