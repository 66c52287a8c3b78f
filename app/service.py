"""The one cached service the pages share: the advisor built from a model bundle.

Everything here asks the advisor and caches its answers; pages only render them. The cache
keys hold the bundle settings read from the environment (``LEVERS_DEMO_*``), so a test or a
second app on other settings never sees another bundle's answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from advisor.errors import AdvisorError
from advisor.evidence import Evidence
from advisor.levers import Advice, Advisor, load_demo_advisor
from advisor.models import (
    ConstraintStatus,
    DemoBundleSettings,
    ModelBundle,
    held_out_clients,
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
