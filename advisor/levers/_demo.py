"""The demo advisor the app opens on: the demo bundle (trained once) and its portfolio."""

from __future__ import annotations

from typing import Any

from advisor.datasets import make_demo_portfolio
from advisor.levers._advisor import Advisor
from advisor.models import DemoBundleSettings, ModelBundle, build_demo_bundle, load_bundle

__all__ = ["load_demo_advisor"]


def load_demo_advisor(
    settings: DemoBundleSettings | None = None, **options: Any
) -> tuple[Advisor, ModelBundle]:
    """Return the demo advisor: the demo bundle (trained once when missing) and its portfolio.

    The portfolio is regenerated from the settings' size and seed, indexed by client id;
    it is the bundle's training data, so every kind of evidence is available.
    """
    settings = settings or DemoBundleSettings.from_env()
    if not (settings.out / "model_card.json").is_file():
        build_demo_bundle(settings, overwrite=False)
    bundle = load_bundle(settings.out)
    portfolio = make_demo_portfolio(n_clients=settings.n_clients, seed=settings.seed)
    portfolio = portfolio.set_index("client_id", drop=False)
    portfolio.index.name = None
    return Advisor.from_bundle(bundle, portfolio, **options), bundle
