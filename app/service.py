"""The one cached service the pages share: the advisor built from a model bundle.

Everything here asks the advisor and caches its answers; pages only render them. The cache
keys hold the bundle settings read from the environment (``LEVERS_DEMO_*``), so a test or a
second app on other settings never sees another bundle's answers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from advisor.campaigns import Campaign
from advisor.datasets import read_client_data
from advisor.errors import AdvisorError
from advisor.evidence import Evidence
from advisor.levers import Advice, Advisor, load_demo_advisor
from advisor.models import (
    ConstraintStatus,
    DemoBundleSettings,
    ModelBundle,
    held_out_clients,
    load_bundle,
    permutation_importance,
    validate_constraint_text,
)

_LOADING = "Loading the advisor (first run only) · Chargement du conseiller (premier lancement)"


def settings() -> DemoBundleSettings:
    """The demo bundle the app opens on (``LEVERS_DEMO_BUNDLE``, ``_CLIENTS``, ``_SEED``)."""
    return DemoBundleSettings.from_env()


@st.cache_resource(show_spinner=_LOADING)
def _demo(settings: DemoBundleSettings) -> tuple[Advisor, ModelBundle]:
    return load_demo_advisor(settings)


def advisor() -> Advisor:
    """The advisor over the demo bundle, with the demo portfolio as reference clients."""
    return _demo(settings())[0]


def bundle() -> ModelBundle:
    """The model bundle the advisor was built from."""
    return _demo(settings())[1]


def current_portfolio() -> pd.DataFrame:
    """The portfolio the advisor works on (its reference clients, the bundle's training data)."""
    reference = advisor().reference
    if reference is None:
        raise AdvisorError("the advisor has no reference portfolio. Got None.")
    return reference


def client_row(client_id: str) -> pd.Series:
    """One reference client, in business values."""
    row = current_portfolio().loc[client_id]
    if not isinstance(row, pd.Series):
        raise AdvisorError(f"client_id: must name one client. Got {client_id!r} more than once.")
    return row


def client_ids() -> list[str]:
    """The reference clients' ids, in portfolio order."""
    reference = advisor().reference
    return [] if reference is None else [str(i) for i in reference.index]


@st.cache_resource(max_entries=256, show_spinner=False)
def _advice(settings: DemoBundleSettings, client_id: str, product: str | None) -> Advice:
    return _demo(settings)[0].advise(client_id, product=product)


def _resolved(settings: DemoBundleSettings, client_id: str, product: str | None) -> Advice:
    first = _advice(settings, client_id, None)  # the advisor's own pick
    if product is None or product == first.product:
        return first
    return _advice(settings, client_id, product)


def advice(client_id: str, product: str | None = None) -> Advice:
    """The advice for a reference client and product (None: the advisor's pick), cached."""
    return _resolved(settings(), client_id, product)


@st.cache_resource(max_entries=256, show_spinner=False)
def _evidence(
    settings: DemoBundleSettings, client_id: str, product: str | None, rank: int | None
) -> Evidence | str:
    found = _resolved(settings, client_id, product)
    lever = None if rank is None else found.levers[rank - 1]
    try:
        return _demo(settings)[0].evidence(found, lever)
    except AdvisorError as exc:  # shown on the page, kept in the cache (not recomputed)
        return str(exc)


def evidence(client_id: str, product: str | None, rank: int | None) -> Evidence | str:
    """Similar and influential clients for a lever (``rank``), or the client today.

    A string is the advisor's error message when the evidence cannot be computed.
    """
    return _evidence(settings(), client_id, product, rank)


@dataclass(frozen=True, slots=True, kw_only=True)
class Importance:
    """Permutation importance of one model on its held-out clients, or why it is missing."""

    table: pd.DataFrame | None
    baseline: float
    n_rows: int
    n_repeats: int
    error: str | None


@st.cache_resource(max_entries=32, show_spinner=False)
def _importance(settings: DemoBundleSettings, name: str, n_repeats: int) -> Importance:
    found, models = _demo(settings)
    if found.reference is None:
        return Importance(table=None, baseline=0.0, n_rows=0, n_repeats=0, error="no reference")
    try:
        held = held_out_clients(models, found.reference, name)
    except AdvisorError as exc:
        return Importance(table=None, baseline=0.0, n_rows=0, n_repeats=0, error=str(exc))
    table = permutation_importance(models.models[name], held.clients, held.y, n_repeats=n_repeats)
    return Importance(
        table=table,
        baseline=float(table.attrs["baseline"]),
        n_rows=len(held.y),
        n_repeats=n_repeats,
        error=None,
    )


def importance(name: str, n_repeats: int = 5) -> Importance:
    """Permutation importance of the bundle's model ``name`` (computed once per model)."""
    return _importance(settings(), name, n_repeats)


@st.cache_resource(max_entries=4, show_spinner=False)
def _constraint_status(settings: DemoBundleSettings) -> ConstraintStatus | None:
    found, models = _demo(settings)
    if models.constraint_text is None:
        return None
    return validate_constraint_text(
        models.constraint_text, found.reference, features=models.card.features
    )


def constraint_status() -> ConstraintStatus | None:
    """The bundle's constraint file re-validated against the portfolio (None: no file)."""
    return _constraint_status(settings())


def what_if(client_id: str, changes: dict[str, Any], product: str) -> Any:
    """Re-score the client after ``changes`` (fast: not cached)."""
    return advisor().what_if(client_id, changes, product=product)


# ---------------------------------------------------------------- campaign page
CAMPAIGN_BUNDLE = "LEVERS_CAMPAIGN_BUNDLE"
CAMPAIGN_DATA = "LEVERS_CAMPAIGN_DATA"


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignSource:
    """The bundle, its advisor and the clients the Campaign page works on.

    ``data`` is the client file (``None``: the demo portfolio); the clients are also the
    reference data the goal and the constraint file's bounds come from.
    """

    bundle: ModelBundle
    advisor: Advisor
    clients: pd.DataFrame
    data: str | None


def campaign_paths() -> tuple[str, str] | None:
    """The bundle and client file of ``LEVERS_CAMPAIGN_BUNDLE``/``_DATA`` (None: the demo)."""
    found = {name: os.environ.get(name, "").strip() for name in (CAMPAIGN_BUNDLE, CAMPAIGN_DATA)}
    if not any(found.values()):
        return None
    missing = [name for name, value in found.items() if not value]
    if missing:
        given = next(name for name, value in found.items() if value)
        raise AdvisorError(
            f"{missing[0]}: must be set with {given} (a bundle folder and its client file). "
            "Got it unset. Hint: set both, or neither for the demo."
        )
    return found[CAMPAIGN_BUNDLE], found[CAMPAIGN_DATA]


@st.cache_resource(max_entries=4, show_spinner=_LOADING)
def _campaign_source(
    paths: tuple[str, str] | None, settings: DemoBundleSettings | None
) -> CampaignSource:
    if paths is None:
        found, models = _demo(settings or DemoBundleSettings.from_env())
        if found.reference is None:
            raise AdvisorError("the advisor has no reference portfolio. Got None.")
        return CampaignSource(bundle=models, advisor=found, clients=found.reference, data=None)
    models = load_bundle(Path(paths[0]))
    clients = read_client_data(paths[1])
    found = Advisor.from_bundle(models, clients)
    return CampaignSource(bundle=models, advisor=found, clients=clients, data=paths[1])


def _source_key() -> tuple[tuple[str, str] | None, DemoBundleSettings | None]:
    paths = campaign_paths()
    return paths, (settings() if paths is None else None)


def campaign_source() -> CampaignSource:
    """The demo (default) or the bundle and clients named by the two environment variables."""
    return _campaign_source(*_source_key())


@st.cache_resource(max_entries=16, show_spinner=False)
def _campaign(
    paths: tuple[str, str] | None,
    settings: DemoBundleSettings | None,
    product: str,
    engine: str,
) -> Campaign:
    source = _campaign_source(paths, settings)
    return Campaign.from_bundle(source.bundle, source.clients, product=product, engine=engine)


def campaign(product: str, engine: str) -> Campaign:
    """The campaign for ``product`` on the page's bundle, searched by ``engine`` (cached)."""
    return _campaign(*_source_key(), product, engine)
