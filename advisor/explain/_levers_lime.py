"""Levers LIME: LIME on plausible clients, over what can change, stable by construction.

What it changes from vanilla LIME (see docs/explain.md, "LIME and Levers LIME"):

(a) Perturbations are the constraint file's feasible moves of the client
    (:meth:`constraints.ConstraintSet.sample`: 1..``max_changes`` features at a time, within
    their bounds, directions, steps, transitions and rules, numeric values drawn from the
    reference data's 0.5-99.5 % range); every one passes ``ConstraintSet.check``. In mode
    ``all`` context features move too, as the file lets them move in a "what if" run
    (``ConstraintSet.allowing``: age only grows, occupations follow their transitions,
    tenure stays within adult life). Immutable features keep the client's value: no
    plausible version of this client has another one, so they get no weight.
(b) Mode ``actionable`` moves only what a lever may move, in the directions it may: the
    weights say what the client could change; everything else is held at the client's value.
(c) Seeded sampling (one stream per round and half, from ``seed``) and a sample size chosen
    by S-LIME's convergence test: two independent halves of ``n`` perturbations each,
    ``n`` doubling from ``n_start`` to ``max_samples`` (each round adds draws to the
    last), until their top-k features by reported weight (contribution) agree (Jaccard >=
    ``target_jaccard``) and the k-th and (k+1)-th weights are settled; the explanation is
    the fit on both halves. Every fit also holds the client's own row, as LIME's first row.
(d) Fidelity: the weighted R^2 of the surrogate on its perturbations and its kernel-weighted
    mean absolute error on held-out perturbations drawn the same way.

The surrogate is a weighted ridge regression (scikit-learn ``Ridge`` with ``sample_weight``)
of the calibrated score on standardised features: numeric, yes/no (0/1) and ordinal codes
minus the reference mean, over the reference standard deviation; a categorical feature as
the indicator "in the client's category", standardised by the reference share of that
category (a feature constant in the reference data is measured per unit). Its slopes, per
raw unit of the code (per unit of the indicator for a categorical feature), are reported in
``parameters["slopes"]``. A weight is a contribution, as every other method's: how the
client's value moves the surrogate's score away from the reference data's typical client
(:func:`advisor.explain._gradients.typical_client`, the integrated-gradients baseline,
reported in ``parameters["reference"]``): ``slope_j x (x_j - ref_j)`` for a numeric, yes/no
or ordinal feature, ``slope_j x (1 if the reference is in another category else 0)`` for a
categorical one. A feature at the reference value weighs 0; ``base`` is the surrogate at the
reference, ``output`` the surrogate at the client, and ``base + sum(weights) = output``. A
value missing in the client enters the surrogate at the reference mean. Derived features
(sums the file recomputes) get no weight of their own: their effect goes to their sources.
The kernel is LIME's exponential kernel on a distance that respects kinds (numeric:
standardised difference; categorical: 0 same, 1 different), its width LIME's default
``0.75 * sqrt(d)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.errors import AdvisorError
from advisor.explain._client import client_codes, feature_weights
from advisor.explain._gradients import typical_client
from advisor.explain._lime_common import (
    SEED_RULE,
    checked_params,
    domain_check,
    fidelity_of,
    jaccard,
    lime_kernel,
    reference_codes,
    weighted_r2,
)
from advisor.explain._types import Explanation, Stability
from constraints import ConstraintSet, Number, OneOf, ParamSpec, Whole, check_params

__all__ = ["MODES", "LeversLimeExplainer"]

FloatArray = NDArray[np.float64]
MODES = ("all", "actionable")

PARAMETERS: ParamSpec = {
    "mode": OneOf(MODES),
    "top_k": Whole(1, 100),
    "target_jaccard": Number(0.0, 1.0, low_open=True),
    "n_start": Whole(20, 1_000_000),
    "max_samples": Whole(20, 1_000_000),
    "kernel_width": (Number(0.0, low_open=True), None),
    "alpha": Number(0.0, 1e6),
    "n_heldout": Whole(10, 1_000_000),
}
BLAS_THREADS = 1
"""Threads of the linear algebra (ridge fits on at most 2 x max_samples rows): one is the
fastest for these small matrices, and leaves the other cores to other work."""
SETTLED_Z = 3.0
"""The top-k boundary is settled when the k-th and (k+1)-th absolute weights are more than
this many standard errors of their difference apart (one-sided, about 99.9 %)."""
DEFAULTS: dict[str, Any] = {
    "mode": "all",
    "top_k": 5,
    "target_jaccard": 0.9,
    "n_start": 500,
    "max_samples": 8000,
    "kernel_width": None,
    "alpha": 1.0,
    "n_heldout": 1000,
}


@dataclass(frozen=True, slots=True)
class _Fit:
    """One surrogate: the features it weighs (positions), their slopes and contributions.

    ``coef`` are the ridge's coefficients on standardised features, ``delta`` the client's
    standardised values minus the reference's (so ``coef * delta`` are the contributions)
    and ``scale`` the standardisation's divisors (so ``coef / scale`` are raw-unit slopes).
    """

    features: tuple[int, ...]
    coef: FloatArray
    intercept: float
    r2: float
    stderr: FloatArray
    delta: FloatArray
    scale: FloatArray

    @property
    def contributions(self) -> FloatArray:
        """Return each feature's contribution: its slope times the client's distance."""
        contributions: FloatArray = self.coef * self.delta
        return contributions

    def settled(self, k: int) -> bool:
        """Whether the k-th and (k+1)-th contributions are apart by more than their noise.

        S-LIME's test on the boundary of the top-k: the gap between the k-th and (k+1)-th
        absolute contributions must exceed :data:`SETTLED_Z` standard errors of their
        difference (the ridge's heteroscedasticity-robust, sandwich, standard errors, times
        the client's distance to the reference). Fewer than k + 1 non-zero contributions
        (the rest are features at the reference, exactly 0) are settled. The test runs once
        per doubling, so a strict level keeps the chance of stopping early on a tie small.
        """
        order = self._order()
        if len(order) <= k:
            return True
        weights, noise = np.abs(self.contributions), self.stderr * np.abs(self.delta)
        a, b = order[k - 1], order[k]
        return bool(weights[a] - weights[b] > SETTLED_Z * float(np.hypot(noise[a], noise[b])))

    def top(self, names: tuple[str, ...], k: int) -> tuple[str, ...]:
        """Return the names of the ``k`` largest non-zero contributions, largest first."""
        return tuple(names[self.features[i]] for i in self._order()[:k])

    def _order(self) -> NDArray[np.int64]:
        """Positions of the non-zero contributions, largest absolute first."""
        weights = np.abs(self.contributions)
        order = np.argsort(-weights, kind="stable")
        return order[weights[order] > 0]


class LeversLimeExplainer:
    """Explain a score with Levers LIME (method ``"levers_lime"``).

    Parameters
    ----------
    model
        A trained :class:`advisor.models.PropensityModel`.
    constraints
        Its bound constraint set: the feasible moves, roles, labels.
    data
        Reference clients in business values: the means and standard deviations that
        standardise the surrogate's features and the distance.
    seed
        Seed of every draw: the same seed gives the same explanation, bit for bit.
    mode
        ``all`` (levers and context move) or ``actionable`` (only levers, their way).
    top_k
        Size of the ranking the convergence test compares (5).
    target_jaccard
        Top-k Jaccard the two halves must reach (0.9).
    n_start, max_samples
        First and largest size of each half (500 and 8,000): 500, 1,000, 2,000, ...
    kernel_width
        Width of the exponential kernel; None is LIME's default ``0.75 * sqrt(d)``.
    alpha
        Ridge penalty (1.0, as LIME's).
    n_heldout
        Held-out perturbations for the fidelity (1,000).
    """

    method = "levers_lime"

    def __init__(
        self, model: Any, constraints: Any, data: pd.DataFrame, *, seed: int = 0, **params: Any
    ) -> None:
        self.model, self.constraints, self.seed, self.params = checked_params(
            "LeversLimeExplainer", model, constraints, seed, params, PARAMETERS, DEFAULTS
        )
        if self.params["max_samples"] < self.params["n_start"]:
            raise AdvisorError(
                f"LeversLimeExplainer.max_samples: must be >= n_start "
                f"({self.params['n_start']}). Got {self.params['max_samples']}."
            )
        self.reference = reference_codes(self.model, data)
        try:
            self._typical = typical_client(self.model, self.reference)
        except AdvisorError as exc:
            raise AdvisorError(
                f"{str(exc).split(' to build ')[0]} to build Levers LIME's reference client. "
                "Got only missing values."
            ) from exc
        typical = self.constraints.to_frame(self._typical[None, :]).iloc[0]
        self._reference_values = {
            name: (v.item() if isinstance(v, np.generic) else v) for name, v in typical.items()
        }
        self._mean = _nan_stat(np.nanmean, self.reference)
        std = _nan_stat(np.nanstd, self.reference)
        self._std = np.where(std > 1e-12, std, 1.0)
        cs = self.constraints
        self._categorical = np.array(
            [cs.feature(n).kind == "categorical" for n in cs.feature_names]
        )
        self._free = ~np.asarray(cs.compiled.derived_mask, dtype=bool)
        self.sampler = _sampler(cs, self.params["mode"])
        width = self.params["kernel_width"]
        self.width = float(width) if width is not None else float(np.sqrt(cs.n_features) * 0.75)

    # ------------------------------------------------------------------ explain
    def explain(self, client: Any) -> Explanation:
        """Explain ``client``'s calibrated score over plausible versions of the client."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
            return self._explain(client)

    def _explain(self, client: Any) -> Explanation:
        started = time.perf_counter()
        _, codes = client_codes(self.model, client, self.constraints)
        domain_check(self.constraints, codes, self.reference)
        names = self.constraints.feature_names
        k = self.params["top_k"]
        n, round_, agreement, converged = self.params["n_start"], 0, 0.0, False
        # each half holds the client itself (as LIME's first row) and grows to n draws
        client = (codes[None, :].copy(), self.model.score_codes(codes[None, :]))
        halves = [client, client]
        while True:
            halves = [self._grow(codes, half, n, (round_, h)) for h, half in enumerate(halves)]
            if min(len(z) for z, _ in halves) < 2:  # no feasible move at all
                return self._nothing(codes, started)
            fits = [self._fit(codes, z, y) for z, y in halves]
            agreement = jaccard(fits[0].top(names, k), fits[1].top(names, k))
            (z_a, y_a), (z_b, y_b) = halves  # both start with the client's row: keep one
            z_all = np.vstack([z_a, z_b[1:]])
            final = self._fit(codes, z_all, np.concatenate([y_a, y_b[1:]]))
            if agreement >= self.params["target_jaccard"] and final.settled(k):
                converged = True
                break
            if n * 2 > self.params["max_samples"]:
                break
            n, round_ = n * 2, round_ + 1
        heldout, scores = self._draw(codes, self.params["n_heldout"], (0, 2))
        fidelity = fidelity_of(
            final.r2,
            scores,
            self._predict(final, codes, heldout),
            self._kernel(codes, heldout),
        )
        stability = Stability(
            top_k=len(final.top(names, k)),
            jaccard=float(agreement),
            n_samples=len(z_all) - 1,
            converged=converged,
        )
        return self._explanation(codes, started, final, fidelity, stability)

    def perturbations(self, client: Any, n: int, seed: int = 0) -> pd.DataFrame:
        """Return ``n`` perturbations of ``client`` drawn as ``explain`` draws them.

        In business values (one row per perturbed client); the same ``seed`` gives the same
        rows. Fewer rows come back when the client has fewer feasible moves.
        """
        checked = check_params(
            {"n": n, "seed": seed},
            {"n": Whole(1, 1_000_000), "seed": SEED_RULE},
            where="LeversLimeExplainer.perturbations",
            error=AdvisorError,
        )
        _, codes = client_codes(self.model, client, self.constraints)
        rng = np.random.default_rng(np.random.SeedSequence([checked["seed"], 0, 0]))
        z = np.asarray(self.sampler.sample(codes[None, :], checked["n"], rng), dtype=np.float64)
        return self.constraints.to_frame(z)

    # ------------------------------------------------------------------ pieces
    def _draw(
        self, codes: FloatArray, n: int, key: tuple[int, int]
    ) -> tuple[FloatArray, FloatArray]:
        """Draw ``n`` feasible perturbations from stream ``key`` and score them (one batch)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, *key]))
        z = np.asarray(self.sampler.sample(codes[None, :], n, rng), dtype=np.float64)
        scores = self.model.score_codes(z) if len(z) else np.empty(0)
        return z, np.asarray(scores, dtype=np.float64)

    def _grow(
        self, codes: FloatArray, half: tuple[FloatArray, FloatArray], n: int, key: tuple[int, int]
    ) -> tuple[FloatArray, FloatArray]:
        """Return ``half`` with new draws from stream ``key`` up to ``n`` perturbations."""
        z, y = half
        if len(z) > n:  # the client's row and n draws
            return half
        new_z, new_y = self._draw(codes, n + 1 - len(z), key)
        return np.vstack([z, new_z]), np.concatenate([y, new_y])

    def _centre_scale(self, codes: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Return the standardisation for ``codes``: reference means/shares and divisors."""
        centre, scale = self._mean.copy(), self._std.copy()
        for j in np.flatnonzero(self._categorical):
            share = float(np.mean(self.reference[:, j] == codes[j]))
            spread = np.sqrt(share * (1.0 - share))
            centre[j], scale[j] = share, (spread if spread > 1e-12 else 1.0)
        return centre, scale

    def _standardised(self, codes: FloatArray, z: FloatArray) -> FloatArray:
        """Return the surrogate's features of ``z``: standardised codes or indicators."""
        centre, scale = self._centre_scale(codes)
        x = z.copy()
        x[:, self._categorical] = z[:, self._categorical] == codes[self._categorical]
        return np.nan_to_num((x - centre) / scale)

    def _kernel(self, codes: FloatArray, z: FloatArray) -> FloatArray:
        """LIME's exponential kernel on a distance that respects kinds."""
        diff = np.where(self._categorical, z != codes, (z - codes) / self._std)
        diff = np.nan_to_num(np.where(self._free, diff, 0.0))
        return lime_kernel(np.sqrt((diff**2).sum(axis=1)), self.width)

    def _fit(self, codes: FloatArray, z: FloatArray, y: FloatArray) -> _Fit:
        """Fit the weighted ridge surrogate on the features that vary among ``z``."""
        from sklearn.linear_model import Ridge

        x = self._standardised(codes, z)
        varies = self._free & (np.ptp(x, axis=0) > 1e-12)
        features = list(np.flatnonzero(varies))
        weights = self._kernel(codes, z)
        ends = self._standardised(codes, np.vstack([codes, self._typical]))
        delta, scale = ends[0] - ends[1], self._centre_scale(codes)[1]
        if not features:  # only derived features moved: the surrogate is a constant
            mean = float(np.average(y, weights=weights))
            predicted = np.full(len(y), mean)
            coef, intercept, stderr = np.empty(0), mean, np.empty(0)
        else:
            used = x[:, features]
            ridge = Ridge(alpha=self.params["alpha"]).fit(used, y, sample_weight=weights)
            predicted = ridge.predict(used)
            coef, intercept = np.asarray(ridge.coef_, dtype=np.float64), float(ridge.intercept_)
            stderr = _sandwich(used, y - predicted, weights, self.params["alpha"])
        return _Fit(
            features=tuple(int(j) for j in features),
            coef=coef,
            intercept=intercept,
            r2=weighted_r2(y, predicted, weights),
            stderr=stderr,
            delta=delta[features],
            scale=scale[features],
        )

    def _predict(self, fit: _Fit, codes: FloatArray, z: FloatArray) -> FloatArray:
        if not len(z):
            return np.empty(0)
        x = self._standardised(codes, z)[:, fit.features]
        predicted: FloatArray = fit.intercept + x @ fit.coef
        return predicted

    def _explanation(
        self,
        codes: FloatArray,
        started: float,
        fit: _Fit | None,
        fidelity: Any,
        stability: Stability,
    ) -> Explanation:
        """Return the explanation of ``fit`` (None: nothing moves, the score alone)."""
        names = self.constraints.feature_names
        score = float(self.model.score_codes(codes[None, :])[0])
        weights: dict[str, float] = {}
        slopes: dict[str, float] = {}
        base = output = score
        if fit is not None:
            ends = self._standardised(codes, np.vstack([codes, self._typical]))[:, fit.features]
            output, base = (float(v) for v in fit.intercept + ends @ fit.coef)
            for j, weight, slope in zip(
                fit.features, fit.contributions, fit.coef / fit.scale, strict=True
            ):
                # + 0.0: a feature at the reference weighs 0.0, never -0.0
                weights[names[j]], slopes[names[j]] = float(weight) + 0.0, float(slope)
        return Explanation(
            method=self.method,
            product=self.model.target,
            score=score,
            output=output,
            base=base,
            scale="probability",
            weights=feature_weights(self.constraints, codes, weights),
            parameters={
                **self.params,
                "kernel_width_used": self.width,
                "n_samples": stability.n_samples,
                "slopes": slopes,
                "reference": dict(self._reference_values),
            },
            seed=self.seed,
            runtime_s=time.perf_counter() - started,
            fidelity=fidelity,
            stability=stability,
        )

    def _nothing(self, codes: FloatArray, started: float) -> Explanation:
        """No feature can move for this client (mode actionable, or nothing left to open)."""
        stability = Stability(top_k=0, jaccard=1.0, n_samples=0, converged=True)
        return self._explanation(codes, started, None, None, stability)


def _sandwich(
    x: FloatArray, residuals: FloatArray, weights: FloatArray, alpha: float
) -> FloatArray:
    """Heteroscedasticity-robust (HC0) standard errors of weighted ridge coefficients."""
    if not x.shape[1]:
        return np.empty(0)
    centre = np.average(x, axis=0, weights=weights)
    xc = x - centre
    bread = np.linalg.pinv(xc.T @ (weights[:, None] * xc) + alpha * np.eye(x.shape[1]))
    scaled = xc * (weights * residuals)[:, None]
    cov = bread @ (scaled.T @ scaled) @ bread
    stderr: FloatArray = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return stderr


def _nan_stat(stat: Any, reference: FloatArray) -> FloatArray:
    """Column statistic ignoring missing values (0 for a column with none present)."""
    present = ~np.isnan(reference).all(axis=0)
    out = np.zeros(reference.shape[1])
    if present.any():
        out[present] = stat(reference[:, present], axis=0)
    return out


def _sampler(constraints: ConstraintSet, mode: str) -> ConstraintSet:
    """Return the set whose feasible moves are the perturbations (context moves in mode all)."""
    if mode == "actionable":
        return constraints
    context = [
        name for name in constraints.feature_names if constraints.feature(name).role == "context"
    ]
    return constraints.allowing(*context) if context else constraints
