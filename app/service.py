"""The one cached service the pages share: the app's source and the advisor built on it.

The source is the demo (the default: the demo bundle and its portfolio, settings from
``LEVERS_DEMO_*``) or a bundle and its clients named by ``LEVERS_BUNDLE`` and
``LEVERS_DATA`` (both or neither; ``levers app --bundle DIR --data SOURCE`` sets them).
Everything here asks the advisor and caches its answers; pages only render them. The cache
keys hold the source read from the environment, so a test or a second app on another source
never sees another source's answers.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from advisor.audit import (
    AuditSettings,
    AuditStore,
    ReferenceSource,
    ShownEvidence,
    current_user,
    record_advice,
)
from advisor.campaigns import Campaign
from advisor.datasets import INTERACTIVE_MAX_ROWS, index_clients, read_clients
from advisor.errors import AdvisorError
from advisor.evidence import Evidence
from advisor.explain import (
    Explanation,
    global_importance,
    importance_by_role,
    local_method,
    make_explainer,
)
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

BUNDLE_VARIABLE = "LEVERS_BUNDLE"
DATA_VARIABLE = "LEVERS_DATA"
ID_VARIABLE = "LEVERS_ID_COLUMN"  # optional: the column of client ids (else detected)
ENCODING_VARIABLE = "LEVERS_ENCODING"  # optional: the CSV's encoding (else detected)
DECIMAL_VARIABLE = "LEVERS_DECIMAL"  # optional: the CSV's decimal mark (else detected)
# The clients are read with advisor.datasets.read_clients, at most INTERACTIVE_MAX_ROWS rows.


# ---------------------------------------------------------------- the source
# bundle, client source, id column, CSV encoding, CSV decimal mark (None: the demo)
Paths = tuple[str, str, str | None, str | None, str | None] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """The bundle, its advisor and the clients every page works on.

    ``data`` is the client source as given (``None``: the demo portfolio); ``clients`` are
    indexed by client id (the ``id_column``'s values, else row numbers from "1") and are
    also the reference data the goal and the constraint file's bounds come from.
    """

    bundle: ModelBundle
    advisor: Advisor
    clients: pd.DataFrame
    data: str | None
    id_column: str | None

    @property
    def is_demo(self) -> bool:
        """Whether the app serves the built-in demo portfolio."""
        return self.data is None


def source_paths() -> Paths:
    """The bundle, client source and id column of ``LEVERS_BUNDLE``/``_DATA``/``_ID_COLUMN``.

    None: the demo (neither variable set).
    """
    found = {name: os.environ.get(name, "").strip() for name in (BUNDLE_VARIABLE, DATA_VARIABLE)}
    if not any(found.values()):
        return None
    missing = [name for name, value in found.items() if not value]
    if missing:
        given = next(name for name, value in found.items() if value)
        raise AdvisorError(
            f"{missing[0]}: must be set with {given} (a bundle folder and its client data). "
            "Got it unset. Hint: set both, or neither for the demo "
            "(levers app --bundle DIR --data SOURCE sets both)."
        )
    id_column, encoding, decimal = (
        os.environ.get(name, "").strip() or None
        for name in (ID_VARIABLE, ENCODING_VARIABLE, DECIMAL_VARIABLE)
    )
    return found[BUNDLE_VARIABLE], found[DATA_VARIABLE], id_column, encoding, decimal


def settings() -> DemoBundleSettings:
    """The demo bundle the app opens on (``LEVERS_DEMO_BUNDLE``, ``_CLIENTS``, ``_SEED``)."""
    return DemoBundleSettings.from_env()


@st.cache_resource(max_entries=4, show_spinner=_LOADING)
def _source(paths: Paths, demo: DemoBundleSettings | None) -> Source:
    if paths is None:
        found, models = load_demo_advisor(demo or DemoBundleSettings.from_env())
        if found.reference is None:
            raise AdvisorError("the advisor has no reference portfolio. Got None.")
        return Source(
            bundle=models, advisor=found, clients=found.reference, data=None, id_column="client_id"
        )
    models = load_bundle(Path(paths[0]))
    clients = index_clients(
        read_clients(paths[1], max_rows=INTERACTIVE_MAX_ROWS, encoding=paths[3], decimal=paths[4]),
        paths[2],
        recorded=models.id_column,
    )
    found = Advisor.from_bundle(models, clients)
    return Source(
        bundle=models,
        advisor=found,
        clients=clients,
        data=paths[1],
        id_column=clients.attrs.get("id_column"),
    )


def _source_key() -> tuple[Paths, DemoBundleSettings | None]:
    paths = source_paths()
    return paths, (settings() if paths is None else None)


def source() -> Source:
    """The demo (default) or the bundle and clients named by the two environment variables.

    Raises the advisor's error (a ``ValueError``) when they cannot be opened.
    """
    return _source(*_source_key())


def advisor() -> Advisor:
    """The advisor over the app's bundle, with the source's clients as reference clients."""
    return source().advisor


def bundle() -> ModelBundle:
    """The model bundle the advisor was built from."""
    return source().bundle


def current_portfolio() -> pd.DataFrame:
    """The clients the app works on (the advisor's reference clients), indexed by id."""
    return source().clients


def client_row(client_id: str) -> pd.Series:
    """One client, in business values."""
    row = current_portfolio().loc[client_id]
    if not isinstance(row, pd.Series):
        raise AdvisorError(f"client_id: must name one client. Got {client_id!r} more than once.")
    return row


def client_ids() -> list[str]:
    """The clients' ids, in the data's order."""
    return [str(i) for i in current_portfolio().index]


# ---------------------------------------------------------------- advice and evidence
@st.cache_resource(max_entries=256, show_spinner=False)
def _advice(
    paths: Paths,
    demo: DemoBundleSettings | None,
    client_id: str,
    product: str | None,
) -> Advice:
    return _source(paths, demo).advisor.advise(client_id, product=product)


def _resolved(
    paths: Paths,
    demo: DemoBundleSettings | None,
    client_id: str,
    product: str | None,
) -> Advice:
    first = _advice(paths, demo, client_id, None)  # the advisor's own pick
    if product is None or product == first.product:
        return first
    return _advice(paths, demo, client_id, product)


def advice(client_id: str, product: str | None = None) -> Advice:
    """The advice for a client and product (None: the advisor's pick), cached."""
    return _resolved(*_source_key(), client_id, product)


@st.cache_resource(max_entries=256, show_spinner=False)
def _evidence(
    paths: Paths,
    demo: DemoBundleSettings | None,
    client_id: str,
    product: str | None,
    rank: int | None,
) -> Evidence | str:
    found = _resolved(paths, demo, client_id, product)
    lever = None if rank is None else found.levers[rank - 1]
    try:
        return _source(paths, demo).advisor.evidence(found, lever)
    except AdvisorError as exc:  # shown on the page, kept in the cache (not recomputed)
        return str(exc)


def evidence(client_id: str, product: str | None, rank: int | None) -> Evidence | str:
    """Similar and influential clients for a lever (``rank``), or the client today.

    A string is the advisor's error message when the evidence cannot be computed.
    """
    return _evidence(*_source_key(), client_id, product, rank)


def what_if(client_id: str, changes: dict[str, Any], product: str) -> Any:
    """Re-score the client after ``changes`` (fast: not cached)."""
    return advisor().what_if(client_id, changes, product=product)


# ---------------------------------------------------------------- model and constraints
@dataclass(frozen=True, slots=True, kw_only=True)
class Importance:
    """Global importance of one model on its held-out clients, or why it is missing.

    ``table``: permutation importance (``drop_mean``, ``drop_std``); ``shap``: mean |SHAP|
    per feature (``mean_abs_shap``, by ``shap_method``); ``roles``: each role's share of the
    total importance per method (immutable, context, actionable).
    """

    table: pd.DataFrame | None
    baseline: float
    n_rows: int
    n_repeats: int
    error: str | None
    shap: pd.DataFrame | None = None
    shap_method: str | None = None
    roles: pd.DataFrame | None = None


SHAP_CLIENTS = 100  # held-out clients whose mean |SHAP| the model page shows


@st.cache_resource(max_entries=32, show_spinner=False)
def _importance(
    paths: Paths, demo: DemoBundleSettings | None, name: str, n_repeats: int
) -> Importance:
    found = _source(paths, demo)
    try:
        held = held_out_clients(found.bundle, found.clients, name)
    except AdvisorError as exc:
        return Importance(table=None, baseline=0.0, n_rows=0, n_repeats=0, error=str(exc))
    model = found.bundle.models[name]
    labels = np.asarray(model.classes, dtype=object)[held.y]  # 0/1 back to the target's classes
    table = permutation_importance(model, held.clients, labels, n_repeats=n_repeats)
    shap = global_importance(
        model,
        found.advisor.constraints,
        held.clients,
        seed=found.advisor.seed,
        n_clients=SHAP_CLIENTS,
        methods=("mean_abs_shap",),
    )
    both = shap.assign(
        permutation=table.set_index("feature")["drop_mean"].reindex(shap["feature"]).to_numpy()
    )
    return Importance(
        table=table,
        baseline=float(table.attrs["baseline"]),
        n_rows=len(held.y),
        n_repeats=n_repeats,
        error=None,
        shap=shap.sort_values("mean_abs_shap", ascending=False, kind="stable"),
        shap_method=shap.attrs.get("shap_method"),
        roles=importance_by_role(both),
    )


def importance(name: str, n_repeats: int = 5) -> Importance:
    """Permutation importance of the bundle's model ``name`` (computed once per model)."""
    return _importance(*_source_key(), name, n_repeats)


# ---------------------------------------------------------------- why this score
@st.cache_resource(max_entries=16, show_spinner=False)
def _explainer(paths: Paths, demo: DemoBundleSettings | None, product: str) -> Any:
    found = _source(paths, demo)
    info = found.advisor.product(product)
    population = found.advisor.population(product)
    data = population.frame if population is not None else found.clients
    return make_explainer(
        local_method(info.model), info.model, info.constraints, data, seed=found.advisor.seed
    )


@st.cache_resource(max_entries=256, show_spinner=False)
def _why(
    paths: Paths, demo: DemoBundleSettings | None, client_id: str, product: str
) -> Explanation | str:
    found = _source(paths, demo)
    try:
        explainer = _explainer(paths, demo, product)
        explained: Explanation = explainer.explain(found.advisor.client(client_id))
    except AdvisorError as exc:
        return str(exc)
    return explained


def why_score(client_id: str, product: str) -> Explanation | str:
    """The client's score of ``product`` explained (TreeSHAP or Levers LIME), or why not."""
    return _why(*_source_key(), client_id, product)


@st.cache_resource(max_entries=4, show_spinner=False)
def _constraint_status(paths: Paths, demo: DemoBundleSettings | None) -> ConstraintStatus | None:
    found = _source(paths, demo)
    if found.bundle.constraint_text is None:
        return None
    return validate_constraint_text(
        found.bundle.constraint_text, found.clients, features=found.bundle.card.features
    )


def constraint_status() -> ConstraintStatus | None:
    """The bundle's constraint file re-validated against the clients (None: no file)."""
    return _constraint_status(*_source_key())


# ---------------------------------------------------------------- campaign page
@st.cache_resource(max_entries=16, show_spinner=False)
def _campaign(
    paths: Paths,
    demo: DemoBundleSettings | None,
    product: str,
    engine: str,
) -> Campaign:
    found = _source(paths, demo)
    return Campaign.from_bundle(found.bundle, found.clients, product=product, engine=engine)


def campaign(product: str, engine: str) -> Campaign:
    """The campaign for ``product`` on the app's source, searched by ``engine`` (cached)."""
    return _campaign(*_source_key(), product, engine)


# ---------------------------------------------------------------- audit trail
ADVISOR_NAME_VARIABLE = "LEVERS_ADVISOR_NAME"  # who is recorded when no user is logged in
_RECORDED_KEY = "levers.audit.recorded"  # (client, product, language) recorded this session
_NOT_RECORDED = {
    "en": "This advice could not be recorded in the audit trail:",
    "fr": "Ce conseil n'a pas pu être enregistré dans le journal d'audit :",
}


@st.cache_resource(max_entries=4, show_spinner=False)
def _audit_store(settings: AuditSettings) -> AuditStore | None:
    return settings.open()


def viewer() -> str:
    """Who the session's advice is recorded for: the logged-in user, the advisor, the OS user.

    The logged-in user is ``st.user``'s email (else name) when the app has authentication
    configured; else ``LEVERS_ADVISOR_NAME``; else the user running the app.
    """
    name: object = None
    with contextlib.suppress(Exception):  # no authentication configured: st.user says nothing
        user = st.user
        if user.get("is_logged_in"):
            name = user.get("email") or user.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    return os.environ.get(ADVISOR_NAME_VARIABLE, "").strip() or current_user()


def _reference_source() -> ReferenceSource:
    paths = source_paths()
    if paths is None:
        demo = settings()
        return ReferenceSource.demo(demo.n_clients, demo.seed)
    return ReferenceSource(source=paths[1], id_column=paths[2], encoding=paths[3], decimal=paths[4])


def record_shown(client_id: str, product: str | None, advice: Advice, lang: str) -> None:
    """Record the advice shown to this session, once per client, product and language.

    The evidence recorded is the one the evidence section shows (its chosen lever). A store
    that cannot be written shows a warning: the page and its levers stay.
    """
    recorded = st.session_state.setdefault(_RECORDED_KEY, set())
    key = (client_id, advice.product, lang)
    if key in recorded:
        return
    try:
        store = _audit_store(AuditSettings.from_env())
        if store is not None:
            default = 1 if advice.levers else 0
            rank = st.session_state.get(f"evidence-{client_id}-{product}", default) or None
            found = evidence(client_id, product, rank)
            shown = None if isinstance(found, str) else ShownEvidence(evidence=found, lever=rank)
            record_advice(
                store,
                advice,
                advisor(),
                who=viewer(),
                language=lang,
                client_id=client_id,
                evidence=shown,
                source=_reference_source(),
            )
    except (AdvisorError, OSError, sqlite3.Error) as exc:
        st.warning(f"{_NOT_RECORDED.get(lang, _NOT_RECORDED['en'])} {exc}")
        return
    recorded.add(key)
