"""Small models of each family the engines serve, built directly (no AutoML, no advisor models).

Each is fitted, seeded and single-threaded on the feature space's design matrix
(:meth:`FeatureSpace.to_design`) for life-insurance take-up among non-holders of the 3,000-client
demo portfolio: a scikit-learn logistic regression (linear), an XGBoost classifier (trees) and a
small torch MLP (torch). ``generate`` receives the estimator itself; :attr:`Fitted.score` is the
estimator's own probability, computed without :mod:`counterfactuals`' adapters, so that tests
judge the engines' answers with the model rather than with the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
import xgboost
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from constraints import ConstraintSet
from counterfactuals import FeatureSpace, ModelAdapter

FAMILIES = ("logistic", "xgboost", "mlp")
FloatArray = NDArray[np.float64]


def black_box(
    space: FeatureSpace,
    proba: Callable[[FloatArray], FloatArray],
    family: str,
    outputs: tuple[Any, ...] = (0, 1),
) -> ModelAdapter:
    """A hand-made model on codes, seen as a black box (no structure): ``proba`` serves both
    the fast path and the business frames (read back to codes)."""
    return ModelAdapter(
        space=space,
        outputs=outputs,
        proba_codes=proba,
        proba_frame=lambda frame: proba(space.to_codes(frame)),
        family=family,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Fitted:
    """A fitted model as the tests use it.

    ``model`` is what :func:`counterfactuals.generate` receives; ``score`` maps business frames
    to the positive class's probability through the model's own preprocessing (the design
    matrix it was trained on).
    """

    family: str
    model: Any
    score: Callable[[pd.DataFrame], FloatArray]


def _design(space: FeatureSpace, frame: pd.DataFrame) -> FloatArray:
    return space.to_design(space.to_codes(frame[list(space.names)]))


def _mlp(design: FloatArray, y: NDArray[np.int64], seed: int) -> torch.nn.Sequential:
    """A 16-unit MLP, one logit out; its first (frozen) layer standardises the design."""
    mean, std = design.mean(axis=0), design.std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    d = design.shape[1]
    standardise = torch.nn.Linear(d, d)
    generator = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(
        standardise, torch.nn.Linear(d, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)
    )
    with torch.no_grad():
        for weights in net.parameters():
            weights.copy_(0.3 * torch.randn(weights.shape, generator=generator))
        standardise.weight.copy_(torch.diag(torch.as_tensor(1.0 / scale, dtype=torch.float32)))
        standardise.bias.copy_(torch.as_tensor(-mean / scale, dtype=torch.float32))
    standardise.requires_grad_(False)
    x = torch.as_tensor(design, dtype=torch.float32)
    target = torch.as_tensor(y, dtype=torch.float32)
    trainable = [p for p in net.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(trainable, lr=0.02)
    for _ in range(200):
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x)[:, 0], target)
        torch.autograd.backward(loss)
        optimiser.step()
    return net.eval()


def fit_family(
    family: str, clients: pd.DataFrame, constraints: ConstraintSet, label: str, seed: int = 0
) -> Fitted:
    """Fit one small model of ``family`` on ``clients`` (business values) for ``label``."""
    space = FeatureSpace.from_constraints(constraints)
    design = _design(space, clients)
    y = clients[label].to_numpy(dtype=np.int64)
    if family == "logistic":
        linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        linear.fit(design, y)
        return Fitted(
            family=family,
            model=linear,
            score=lambda frame: linear.predict_proba(_design(space, frame))[:, 1],
        )
    if family == "xgboost":
        trees = xgboost.XGBClassifier(
            n_estimators=40, max_depth=3, learning_rate=0.3, n_jobs=1, random_state=seed
        )
        trees.fit(design, y)
        return Fitted(
            family=family,
            model=trees,
            score=lambda frame: np.asarray(
                trees.predict_proba(_design(space, frame))[:, 1], dtype=np.float64
            ),
        )
    if family == "mlp":
        net = _mlp(design, y, seed)

        def score(frame: pd.DataFrame) -> FloatArray:
            with torch.no_grad():
                logits = net(torch.as_tensor(_design(space, frame), dtype=torch.float32))
            return np.asarray(torch.sigmoid(logits[:, 0]).double().numpy(), dtype=np.float64)

        return Fitted(family=family, model=net, score=score)
    raise ValueError(f"family: must be one of {', '.join(FAMILIES)}. Got {family!r}.")


@pytest.fixture(scope="session")
def life_clients(model_clients: pd.DataFrame) -> pd.DataFrame:
    """The 3,000-client portfolio's non-holders of life insurance (the models' population)."""
    return model_clients.loc[~model_clients["has_life_insurance"]]


@pytest.fixture(scope="session")
def fitted(life_clients: pd.DataFrame, model_constraints: ConstraintSet) -> dict[str, Fitted]:
    """One small model per family: life-insurance take-up among non-holders."""
    return {
        family: fit_family(family, life_clients, model_constraints, "take_life_insurance")
        for family in FAMILIES
    }
