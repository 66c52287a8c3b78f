"""What every method of one data set x model is measured on: clients, reference, truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.study._metrics import perturb_codes, perturbation_steps, reference_codes

if TYPE_CHECKING:
    from advisor.models import PropensityModel
    from constraints import ConstraintSet

__all__ = ["N_PERTURBED", "ModelContext", "build_context", "true_effects"]

FloatArray = NDArray[np.float64]

N_PERTURBED = 3
"""Perturbed copies of each client in the stability test (each compared with the client)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelContext:
    """One trained model and the clients every method explains.

    ``clients`` are held-out clients in business values (index: their ids, as text);
    ``codes`` their (n, d) codes; ``reference`` the reference data (a seeded sample of the
    training clients) given to every explainer; ``reference_client`` the median/mode client
    of the training clients (codes); ``perturbed[i]`` the (N_PERTURBED, d) perturbed codes of
    client i (empty when no feature of the data set moves by ``EPSILON``); ``truth`` the
    (n, d) true effects on the demo portfolio, else None.
    """

    dataset: str
    model_name: str
    model: PropensityModel = field(repr=False)
    constraints: ConstraintSet = field(repr=False)
    reference: pd.DataFrame = field(repr=False)
    clients: pd.DataFrame = field(repr=False)
    codes: FloatArray = field(repr=False)
    reference_client: FloatArray = field(repr=False)
    perturbed: tuple[FloatArray, ...] = field(repr=False)
    truth: FloatArray | None = field(repr=False)

    @property
    def features(self) -> tuple[str, ...]:
        """The features, in the constraint file's order."""
        return tuple(self.constraints.feature_names)

    @property
    def roles(self) -> tuple[str, ...]:
        """Each feature's role (immutable, context, actionable)."""
        return tuple(self.constraints.feature(name).role for name in self.features)

    def client_ids(self) -> list[str]:
        """Return the clients' ids, as text."""
        return [str(label) for label in self.clients.index]

    def business(self, codes: FloatArray) -> pd.DataFrame:
        """Return (m, d) codes as clients in business values."""
        return self.model.space.to_frame(np.atleast_2d(codes))

    def score(self, codes: FloatArray) -> FloatArray:
        """Return the model's calibrated score of (m, d) codes."""
        return np.asarray(self.model.score_codes(np.atleast_2d(codes)), dtype=np.float64)


def _perturbation_scales(constraints: ConstraintSet, reference: FloatArray) -> FloatArray:
    """Return each number feature's standard deviation in the reference; 0 for others."""
    scales = np.zeros(reference.shape[1])
    for j, name in enumerate(constraints.feature_names):
        spec = constraints.feature(name)
        if spec.kind in ("continuous", "integer"):
            column = reference[:, j]
            scales[j] = float(np.nanstd(column)) if np.isfinite(column).any() else 0.0
    return scales


def build_context(
    *,
    dataset: str,
    model_name: str,
    result: Any,
    clients: pd.DataFrame,
    training: pd.DataFrame,
    sample_size: int,
    seed: int,
    truth: FloatArray | None = None,
) -> ModelContext:
    """Gather what the methods need from a :class:`~advisor.models.TrainingResult`."""
    model, constraints = result.model, result.constraints
    kinds = [constraints.feature(name).kind for name in constraints.feature_names]
    training_codes = model.space.to_codes(training)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(training), min(sample_size, len(training)), replace=False))
    codes = model.space.to_codes(clients)
    scales = _perturbation_scales(constraints, training_codes)
    whole = np.array([constraints.feature(n).kind == "integer" for n in constraints.feature_names])
    lower = np.array([constraints.feature(n).lower for n in constraints.feature_names])
    upper = np.array([constraints.feature(n).upper for n in constraints.feature_names])
    lower = np.maximum(lower, np.nanmin(training_codes, axis=0))
    upper = np.minimum(upper, np.nanmax(training_codes, axis=0))
    perturbed: tuple[FloatArray, ...] = ()
    if perturbation_steps(scales, whole=whole).any():  # else nothing moves: not measured
        perturbed = tuple(
            np.stack(
                [
                    perturb_codes(
                        codes[i], scales, (lower, upper), np.random.default_rng([seed, i, p]),
                        whole=whole,
                    )
                    for p in range(N_PERTURBED)
                ]
            )
            for i in range(len(codes))
        )  # fmt: skip
    return ModelContext(
        dataset=dataset,
        model_name=model_name,
        model=model,
        constraints=constraints,
        reference=training.iloc[rows][list(constraints.feature_names)].reset_index(drop=True),
        clients=clients,
        codes=codes,
        reference_client=reference_codes(training_codes, kinds),
        perturbed=perturbed,
        truth=truth,
    )


def true_effects(
    clients: pd.DataFrame,
    reference: pd.Series,
    features: tuple[str, ...],
    *,
    product: str,
    seed: int,
) -> FloatArray:
    """Return each client's true effect of each feature through the demo SCM, (n, d).

    The effect of feature j is ``p(client) - p(do(feature j = its reference value))``, the
    true 12-month take-up probability ``true_propensity`` before and after the intervention
    (descendants recomputed with the client's own noise): positive when the client's value
    raises the probability above what the reference value would give. Features the SCM does
    not intervene on have no effect of their own: a protected attribute (no causal effect in
    the demo) and a derived count (``n_products``, moved through its holdings): 0. A
    reference value the SCM does not allow for a client (a tenure beyond age - 18, or an age
    below tenure + 18) is moved to the nearest value it allows for that client.
    """
    from advisor.datasets import intervene, true_propensity
    from advisor.errors import DatasetError

    effects = np.zeros((len(clients), len(features)))
    before = true_propensity(clients, product, seed=seed)
    for j, name in enumerate(features):
        value = _feasible(clients, name, reference[name])
        try:
            after = true_propensity(
                intervene(clients, {name: value}, seed=seed), product, seed=seed
            )
        except DatasetError as exc:
            if "protected" in str(exc) or "derived" in str(exc):
                continue
            raise
        effects[:, j] = before - after
    return effects


def _feasible(clients: pd.DataFrame, name: str, value: Any) -> Any:
    """Return the reference value of ``name`` per client, within the SCM's tenure <= age - 18."""
    if name == "tenure_years" and "age" in clients:
        return np.minimum(float(value), clients["age"].to_numpy(dtype=np.float64) - 18.0)
    if name == "age" and "tenure_years" in clients:
        return np.maximum(float(value), clients["tenure_years"].to_numpy(dtype=np.float64) + 18.0)
    return value
