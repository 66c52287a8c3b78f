"""The study's data sets: the demo portfolio (causal truth known), bank marketing, German credit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import AdvisorError

__all__ = [
    "DATASETS",
    "DEMO_PRODUCT",
    "MODELS",
    "StudyData",
    "StudySizes",
    "check_sources",
    "load_dataset",
    "shared_data_dir",
    "sizes_for",
]

DATASETS: tuple[str, ...] = ("demo", "bank", "german")
"""The data sets the study knows, in the order it runs them."""

MODELS: tuple[str, ...] = ("logistic", "xgboost", "mlp")
"""The model families, each trained through the AutoML chain (advisor.models.train)."""

DEMO_PRODUCT = "life_insurance"
"""The demo's single-model target: life-insurance take-up among the clients not holding one
(the product whose true propensity the SCM gives, ``true_propensity(..., "life_insurance")``)."""

_REPO = Path(__file__).resolve().parents[2]
_FILES = {
    "bank": ("bank-marketing", "bank-full.csv"),
    "german": ("german-credit", "german.data"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class StudySizes:
    """Rows, trials and folds of one run (``quick`` or full)."""

    demo_clients: int
    bank_rows: int
    n_trials: int
    n_folds: int
    n_reference: int


def sizes_for(quick: bool) -> StudySizes:
    """Return the sizes of a quick run (minutes) or of the full benchmark."""
    if quick:
        return StudySizes(
            demo_clients=3_000, bank_rows=4_000, n_trials=1, n_folds=2, n_reference=300
        )
    return StudySizes(
        demo_clients=20_000, bank_rows=20_000, n_trials=10, n_folds=3, n_reference=1_000
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyData:
    """One data set ready to train on: clients, target, constraint file, positive class.

    ``scm_seed`` is the demo portfolio's seed (its causal truth is known), None for real data.
    """

    name: str
    frame: pd.DataFrame
    target: str
    config: Path
    positive: Any
    scm_seed: int | None = None


def shared_data_dir(data_dir: Path | None = None) -> Path:
    """Return the real data sets' folder: ``data_dir``, ``LEVERS_SHARED_DATA`` or ../shared/data."""
    if data_dir is not None:
        return Path(data_dir)
    return Path(os.environ.get("LEVERS_SHARED_DATA", _REPO.parent / "shared" / "data"))


def check_sources(datasets: tuple[str, ...], data_dir: Path | None) -> None:
    """Refuse a real data set whose file is absent, before any work."""
    folder = shared_data_dir(data_dir)
    for name in datasets:
        if name in _FILES and not folder.joinpath(*_FILES[name]).is_file():
            raise AdvisorError(
                f"datasets: {name} needs {folder.joinpath(*_FILES[name])}, which does not "
                f"exist. Hint: pass --data-dir (or set LEVERS_SHARED_DATA) to the folder of "
                f"the shared data sets, or leave {name} out."
            )


def load_dataset(
    name: str, *, sizes: StudySizes, seed: int, data_dir: Path | None = None
) -> StudyData:
    """Load ``name`` (demo, bank or german) at the run's size, seeded."""
    from advisor.datasets import make_demo_portfolio, read_clients
    from advisor.models import config_dir

    configs = config_dir()
    if name == "demo":
        portfolio = make_demo_portfolio(n_clients=sizes.demo_clients, seed=seed)
        clients = portfolio.loc[~portfolio[f"has_{DEMO_PRODUCT}"]].reset_index(drop=True)
        return StudyData(
            name=name,
            frame=clients,
            target=f"take_{DEMO_PRODUCT}",
            config=configs / "demo-portfolio.yaml",
            positive=None,
            scm_seed=seed,
        )
    folder = shared_data_dir(data_dir)
    frame = read_clients(folder.joinpath(*_FILES[name]))
    if name == "bank":
        if len(frame) > sizes.bank_rows:
            rows = np.sort(np.random.default_rng(seed).choice(len(frame), sizes.bank_rows, False))
            frame = frame.iloc[rows].reset_index(drop=True)
        return StudyData(
            name=name,
            frame=frame,
            target="y",
            config=configs / "bank-marketing.yaml",
            positive=None,
        )
    if name == "german":
        return StudyData(
            name=name,
            frame=frame,
            target="credit_risk",
            config=configs / "german-credit.yaml",
            positive="bad",
        )
    raise AdvisorError(f"datasets: must be among {', '.join(DATASETS)}. Got {name!r}.")
