"""The demo bundle the app opens on: the recommender trained on the built-in demo portfolio."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.datasets import make_demo_portfolio
from advisor.errors import ModelError
from advisor.models._automl import MAX_BUDGET_S
from advisor.models._bundle import save_bundle
from advisor.models._families import FAMILIES
from advisor.models._products import ProductCatalog, load_product_catalog, train_recommender
from advisor.models._study import TrialProgress
from constraints import (
    InstanceOf,
    Number,
    OneOf,
    ParamSpec,
    TupleOf,
    Whole,
    check_dataclass,
)

__all__ = [
    "DEMO_BUNDLE_PARAMS",
    "DemoBundleSettings",
    "build_demo_bundle",
    "config_dir",
    "demo_catalog",
]

_REPO = Path(__file__).resolve().parents[2]


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Folder of the shipped configuration files (``LEVERS_CONFIG_DIR`` overrides it)."""
    env = os.environ if environ is None else environ
    folder = Path(env.get("LEVERS_CONFIG_DIR", _REPO / "configs"))
    if not (folder / "demo-portfolio.yaml").is_file():
        raise ModelError(
            f"LEVERS_CONFIG_DIR: must be a folder holding demo-portfolio.yaml. Got {str(folder)!r}."
        )
    return folder


def demo_catalog() -> ProductCatalog:
    """Return the demo portfolio's product catalogue (``catalogs/demo-products.yaml``)."""
    return load_product_catalog(config_dir() / "catalogs" / "demo-products.yaml")


DEMO_BUNDLE_PARAMS: ParamSpec = {
    "out": InstanceOf((Path,), "a pathlib.Path"),
    "n_clients": Whole(1),
    "seed": Whole(0),
    "budget_s": Number(0.0, MAX_BUDGET_S, low_open=True, unit="seconds"),
    "families": TupleOf(OneOf(tuple(FAMILIES)), ", ".join(FAMILIES)),
    "n_trials": (Whole(1), None),
}
"""The rules of :class:`DemoBundleSettings`' fields."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoBundleSettings:
    """How the demo bundle is built (the defaults are what ``levers train --demo`` uses).

    Parameters
    ----------
    out
        Bundle folder (``LEVERS_DEMO_BUNDLE``, default ``models/demo`` in the repository).
    n_clients, seed
        Size and seed of the demo portfolio.
    budget_s
        Training budget for all eight products together.
    families
        Model families the study searches.
    n_trials
        Trials per product at most (keeps the demo bundle reproducible bit for bit).

    Raises
    ------
    ModelError
        A field breaks :data:`DEMO_BUNDLE_PARAMS`.
    """

    out: Path = _REPO / "models" / "demo"
    n_clients: int = 20_000
    seed: int = 0
    budget_s: float = 240.0
    families: tuple[str, ...] = ("logistic", "xgboost")
    n_trials: int | None = 12

    def __post_init__(self) -> None:
        check_dataclass(self, DEMO_BUNDLE_PARAMS, error=ModelError)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DemoBundleSettings:
        """Read ``LEVERS_DEMO_BUNDLE``, ``_CLIENTS``, ``_SEED`` and ``_TRIALS`` (per product)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if "LEVERS_DEMO_BUNDLE" in env:
            values["out"] = Path(env["LEVERS_DEMO_BUNDLE"])
        for field, var in (
            ("n_clients", "LEVERS_DEMO_CLIENTS"),
            ("seed", "LEVERS_DEMO_SEED"),
            ("n_trials", "LEVERS_DEMO_TRIALS"),
        ):
            if var in env:
                try:
                    values[field] = int(env[var].replace("_", ""))
                except ValueError as exc:
                    raise ModelError(f"{var}: must be a whole number. Got {env[var]!r}.") from exc
        return cls(**values)


def build_demo_bundle(
    settings: DemoBundleSettings | None = None,
    *,
    overwrite: bool = True,
    progress: Callable[[str, TrialProgress], None] | None = None,
) -> Path:
    """Generate the demo portfolio, train the product recommender and save the bundle."""
    settings = settings or DemoBundleSettings()
    configs = config_dir()
    data = make_demo_portfolio(n_clients=settings.n_clients, seed=settings.seed)
    training = train_recommender(
        data,
        demo_catalog(),
        configs / "demo-portfolio.yaml",
        budget_s=settings.budget_s,
        seed=settings.seed,
        families=settings.families,
        n_trials=settings.n_trials,
        progress=progress,
    )
    return save_bundle(training, settings.out, overwrite=overwrite)
