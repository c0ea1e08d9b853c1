"""Where trials fail: the probability that a configuration trains without failing.

Failed trials (a loss that diverged to NaN, a model that ran out of memory or
could not be built) carry no score, so the objective's GP cannot learn from
them; left alone, a GP keeps proposing the region where learning rates
diverge. :class:`FeasibilityModel` is a second GP, fitted by least-squares
classification (Rasmussen & Williams, 2006, §6.5) on labels ``+1``
(completed) and ``-1`` (failed) around their mean, with the same Matérn-5/2
kernel and its own length scales; its posterior becomes a probability
through a probit link::

    p(x) = Φ(κ · (μ(x) + ȳ) / sqrt(1 + κ² σ²(x))),   κ = 2

where ``ȳ`` is the mean label: far from any trial ``p`` leans to the
observed success rate (tempered by the prior's uncertainty there), on a
failed trial ``p ≈ Φ(-2) ≈ 0.02`` and on a completed one ``p ≈ 0.98``. The
acquisition is then weighted by ``p`` (:attr:`kt_ext.gp.Acquisition.weigh`),
as constrained Bayesian optimisation
weighs expected improvement by the probability of feasibility (Gardner et
al., 2014; Gelbart et al., 2014).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from kt_ext.gp._gp import GaussianProcess, fit_params

KAPPA = 2.0  # probit slope: how sure one observed failure or success makes the model


class FeasibilityModel:
    """``P(success)`` from completed and failed trials (see the module docstring).

    Args:
        x: Features of every trial with an outcome, ``(n, D)``.
        succeeded: Whether each completed (``True``) or failed (``False``), ``(n,)``.
        rng: Source of the fit's random restart.
    """

    def __init__(self, x: np.ndarray, succeeded: np.ndarray, rng: np.random.Generator) -> None:
        labels = np.where(np.asarray(succeeded, dtype=bool), 1.0, -1.0)
        self.mean_label = float(labels.mean())
        y = labels - self.mean_label
        params = fit_params(np.asarray(x, dtype=float), y, rng, restarts=1)
        self.gp = GaussianProcess(x, y, params)

    def probability(self, xs: np.ndarray) -> np.ndarray:
        """``p(x)`` at query features ``(m, D)``; shape ``(m,)``, in ``(0, 1)``."""
        mean, std = self.gp.predict(xs)
        return ndtr(KAPPA * (mean + self.mean_label) / np.sqrt(1.0 + (KAPPA * std) ** 2))
