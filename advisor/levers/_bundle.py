"""Advisors from model bundles, and the demo advisor the app opens on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from advisor.datasets import make_demo_portfolio
from advisor.errors import AdvisorError
from advisor.models import DemoBundleSettings, ModelBundle, build_demo_bundle, load_bundle
from constraints import ConstraintError, parse_constraints

if TYPE_CHECKING:
    from advisor.levers._advisor import Advisor

__all__ = ["advisor_from_bundle", "load_demo_advisor"]


def advisor_from_bundle(
    cls: type[Advisor], bundle: ModelBundle, reference: pd.DataFrame | None, **options: Any
) -> Advisor:
    """Build an advisor from a bundle (see :meth:`Advisor.from_bundle`)."""
    if not isinstance(bundle, ModelBundle):
        raise AdvisorError(
            f"bundle: must be a ModelBundle (load_bundle). Got {type(bundle).__name__}."
        )
    if bundle.constraint_text is None:
        raise AdvisorError(
            f"{bundle.path}: the bundle must hold its constraint file (constraints.yaml). Got "
            "none. Hint: train with a constraint file path, not a bound set."
        )
    try:
        constraints = parse_constraints(
            bundle.constraint_text, reference, source=str(bundle.path / "constraints.yaml")
        )
    except ConstraintError as exc:
        raise AdvisorError(str(exc)) from exc
    model = bundle.recommender if bundle.recommender is not None else bundle.model
    options.setdefault("training_seed", bundle.card.seed)
    hashes = dict(bundle.card.data.sha256)
    if bundle.recommender is None:  # the card names the one model "propensity"
        hashes = {bundle.model.target: hashes.get(next(iter(bundle.card.models)), "")}
    options.setdefault("training_hashes", hashes)
    return cls(model, constraints, reference=reference, **options)


def load_demo_advisor(
    settings: DemoBundleSettings | None = None, **options: Any
) -> tuple[Advisor, ModelBundle]:
    """Return the demo advisor: the demo bundle (trained once when missing) and its portfolio.

    The portfolio is regenerated from the settings' size and seed, indexed by client id;
    it is the bundle's training data, so every kind of evidence is available.
    """
    from advisor.levers._advisor import Advisor

    settings = settings or DemoBundleSettings.from_env()
    if not (settings.out / "model_card.json").is_file():
        build_demo_bundle(settings, overwrite=False)
    bundle = load_bundle(settings.out)
    portfolio = make_demo_portfolio(n_clients=settings.n_clients, seed=settings.seed)
    portfolio = portfolio.set_index("client_id", drop=False)
    portfolio.index.name = None
    return Advisor.from_bundle(bundle, portfolio, **options), bundle
