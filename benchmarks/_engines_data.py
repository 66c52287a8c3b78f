"""Data sets and trained models of ``compare_engines.py``: one :class:`Setting` per pair.

A :class:`Case` is a data set with its target column, desired class and constraint file; a
:class:`Setting` is a model trained on it, the target the clients must reach and the clients
drawn to be explained.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.datasets import load_bank_marketing, load_german_credit, make_demo_portfolio
from advisor.models import PropensityModel, train
from constraints import ConstraintSet, load_constraints
from counterfactuals import CounterfactualError, FeatureSpace, Target, adapt

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LEVERS_SHARED_DATA", ROOT.parent / "shared" / "data"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One data set: clients, target column, desired class, constraint file."""

    name: str
    frame: pd.DataFrame
    column: str
    positive: Any
    desired: Any
    config: str
    frozen: tuple[str, ...] = ()
    quantile: float | None = None  # target: top (1 - quantile) of scores, instead of a flip


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    """A trained model on a case, the clients to explain and the target."""

    case: Case
    family: str
    model: Any  # a PropensityModel, or a foreign pipeline (``_engines_foreign.py``)
    constraints: ConstraintSet
    target: Target
    train: pd.DataFrame
    clients: pd.DataFrame
    reference: np.ndarray
    describe: str
    structured: Any = None  # what exact gets instead of ``model`` (a foreign pipeline's trees)


# ----------------------------------------------------------------------------- data sets
def load_case(name: str, quick: bool) -> Case | None:
    """The data set ``name`` (``None``, said, when its file is absent)."""
    if name == "demo":
        return _demo_case(quick)
    path = DATA / (
        "bank-marketing/bank-full.csv" if name == "bank" else "german-credit/german.data"
    )
    if not path.is_file():
        print(f"{name}: skipped ({path} is absent)")
        return None
    return _bank_case(path, quick) if name == "bank" else _german_case(path)


def _demo_case(quick: bool) -> Case:
    """Take-up of life insurance among the demo portfolio's non-holders (holding frozen)."""
    frame = make_demo_portfolio(n_clients=5_000 if quick else 20_000, seed=0)
    return Case(
        name="demo",
        frame=frame[~frame["has_life_insurance"]],
        column="take_life_insurance",
        positive=True,
        desired=True,
        config="demo-portfolio.yaml",
        frozen=("has_life_insurance",),
        quantile=0.9,
    )


def _bank_case(path: Path, quick: bool) -> Case:
    """Bank marketing: the client subscribes (``y = yes``)."""
    frame = load_bank_marketing(path).frame
    if quick:
        frame = frame.sample(n=8_000, random_state=0)
    return Case(
        name="bank",
        frame=frame,
        column="y",
        positive="yes",
        desired="yes",
        config="bank-marketing.yaml",
    )


def _german_case(path: Path) -> Case:
    """German credit: the model scores ``bad``; the clients want ``good``."""
    return Case(
        name="german",
        frame=load_german_credit(path).frame,
        column="credit_risk",
        positive="bad",
        desired="good",
        config="german-credit.yaml",
    )


def freeze(cs: ConstraintSet, names: tuple[str, ...]) -> ConstraintSet:
    """Make features immutable (the held product: the model never saw it set)."""
    features = tuple(
        replace(s, role="immutable", direction="any") if s.name in names else s for s in cs.features
    )
    return replace(cs, features=features)


# ----------------------------------------------------------------------------- settings
def prepare(case: Case, family: str, n_clients: int, seed: int, quick: bool) -> Setting:
    """Train ``family`` on ``case``, set the target, draw ``n_clients`` open test clients."""
    cs = freeze(load_constraints(ROOT / "configs" / case.config, case.frame), case.frozen)
    start = time.perf_counter()
    result = train(
        case.frame,
        case.column,
        cs,
        families=(family,),
        n_trials=1,
        budget_s=None,
        seed=0,
        positive=case.positive,
        n_folds=2 if quick else 5,
    )
    model = result.model
    test = case.frame.loc[result.test_rows]
    train_part = case.frame.drop(index=result.test_rows)
    target, describe = choose_target(case, model, train_part)
    open_ = ~reached(model, cs, target, test)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(np.flatnonzero(open_), min(n_clients, int(open_.sum())), False))
    positives = train_part[train_part[case.column] == case.desired]
    print(
        f"\n== {case.name} / {family}: test AUC {result.metrics.auc:.3f}, trained in "
        f"{time.perf_counter() - start:.0f} s; target {describe}; {len(rows)} of "
        f"{int(open_.sum()):,} open test clients"
    )
    return Setting(
        case=case,
        family=family,
        model=model,
        constraints=cs,
        target=target,
        train=train_part,
        clients=test.iloc[rows],
        reference=cs.to_array(positives),
        describe=describe,
    )


def choose_target(
    case: Case, model: PropensityModel, train_part: pd.DataFrame
) -> tuple[Target, str]:
    """The target of ``case`` and its description: a score quantile, or the class flip."""
    if case.quantile is not None:
        threshold = float(np.quantile(model.score(train_part), case.quantile))
        describe = f"probability >= {threshold:.3f} (q{case.quantile:g} of training scores)"
        return Target.probability(threshold), describe
    # the flip to the desired class, said on the model's scored (positive) class
    away = case.desired != case.positive
    describe = f"P({case.positive!r}) {'<=' if away else '>='} 0.5 (to {case.desired!r})"
    return Target.probability(0.5, at_most=away), describe


def reached(model: Any, cs: ConstraintSet, target: Target, frame: pd.DataFrame) -> np.ndarray:
    """Whether each row meets the target, as the real model scores it."""
    adapter = adapt(model, FeatureSpace.from_constraints(cs))
    proba = np.asarray(adapter.proba_frame(frame[list(cs.feature_names)]))
    out = np.zeros(len(frame), dtype=bool)
    for i in range(len(frame)):
        try:
            bound = target.bind(adapter.outputs, proba[i], ranked=adapter.ranked)
        except CounterfactualError:  # a flip to the class the model predicts already
            out[i] = target.kind == "flip"
            continue
        out[i] = bound.slack(proba[i : i + 1])[0] >= 0
    return out
