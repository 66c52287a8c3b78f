"""Screen pieces the client page is made of: each draws one part from the advisor's answers.

They only lay out what the advisor returned (through :mod:`app.service`) with the pure
helpers of :mod:`app.render`; no business rule lives here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from advisor.explain import explanation_text
from advisor.levers import Status
from app import render, render_model, service
from app.state import remember_client, remembered_client
from app.texts import Language, text
from app.widget_scales import WidgetScale, widget_scale

MAX_OPTIONS = 2_000  # clients listed in the selector at most (the search narrows them)
MAX_LEVERS = 3  # lever cards per row (one lever keeps a card's width)
PROFILE_HEIGHT = 460  # px: the profile tables scroll beyond (about 12 rows)


# ---------------------------------------------------------------- the source
def open_source(lang: Language) -> service.Source:
    """The app's bundle and clients; an error opening them is shown and stops the page."""
    try:
        return service.source()
    except ValueError as exc:  # AdvisorError and the other packages' errors are ValueErrors
        first, *rest = str(exc).splitlines() or [""]
        st.error(f"{text('source.error', lang)} {first}")
        if rest:  # a constraint file lists every problem, one per line
            st.code("\n".join(rest), language=None)
        st.stop()
        raise  # st.stop() ends the run; never reached


def source_caption(source: service.Source, lang: Language) -> None:
    """What the page shows: the demo portfolio, or the bundle, the data and its clients."""
    if source.is_demo:
        st.caption(text("demo.caption", lang))
        return
    ids = (
        text("source.ids.rows", lang)
        if source.id_column is None
        else text("source.ids.column", lang, column=source.id_column)
    )
    st.caption(
        text(
            "source.caption",
            lang,
            bundle=source.bundle.path.name,
            data=source.data,
            n=render.number(len(source.clients), lang),
            ids=ids,
        )
    )


# ---------------------------------------------------------------- client and profile
def _search_label(source: service.Source, lang: Language) -> tuple[str, str]:
    """The search box's label and help: which ids it searches, with an example."""
    example = str(source.clients.index[0]) if len(source.clients) else ""
    if source.is_demo or source.id_column is not None:
        column = source.id_column or "client_id"
        return (
            text("client.search.column", lang, column=column),
            text("client.search.help", lang, example=example),
        )
    n = render.number(len(source.clients), lang)
    return text("client.search.rows", lang, n=n), text("client.search.rows.help", lang, n=n)


def matching_ids(ids: Sequence[str], query: str) -> list[str]:
    """The ids containing ``query`` (case-insensitive), an exact match first."""
    if not query:
        return list(ids)
    wanted = query.upper()
    found = [i for i in ids if wanted in i.upper()]
    exact = [i for i in found if i.upper() == wanted]
    return exact + [i for i in found if i.upper() != wanted]


def client_picker(source: service.Source, lang: Language) -> str | None:
    """Search box and client selector; returns the chosen client id (None: no match)."""
    search, choose = st.columns([1, 2])
    label, help_text = _search_label(source, lang)
    query = search.text_input(label, key="client_search", help=help_text).strip()
    matches = matching_ids([str(i) for i in source.clients.index], query)
    if not matches:
        choose.warning(text("client.none", lang, query=query))
        return None
    options = matches[:MAX_OPTIONS]
    last = remembered_client()
    exact = bool(query) and options[0].upper() == query.upper()
    if exact and st.session_state.get("client") not in (None, options[0]):
        st.session_state["client"] = options[0]  # the id typed in full wins over the last one
    client_id = choose.selectbox(
        text("client.select", lang),
        options,
        index=options.index(last) if last in options and not exact else 0,
        key="client",
        help=text("client.matches", lang, n=len(matches)),
    )
    remember_client(client_id)
    return str(client_id)


def profile_card(
    client_id: str, client: pd.Series, features: Sequence[Any], lang: Language
) -> None:
    """The client's situation and habits, labels in the chosen language."""
    situation, habits = render.profile_tables(client, features, lang, service.advisor().constraints)
    with st.container(border=True, key="profile"):
        st.subheader(f"{text('profile.title', lang)} · {client_id}")
        first, second = st.tabs([text("profile.who", lang), text("profile.levers", lang)])
        for tab, table in ((first, situation), (second, habits)):
            height = min(35 * len(table) + 38, PROFILE_HEIGHT)
            tab.dataframe(table, hide_index=True, width="stretch", height=height)


# ---------------------------------------------------------------- products
def product_choice(client_id: str, lang: Language) -> str | None:
    """Ranked products not held (recommender) and the product to work on; None: all held.

    The selector opens on the advisor's pick: the best-ranked product the client is below
    the goal for and that has levers (the top recommendation when none has).
    """
    advisor = service.advisor()
    ranked = advisor.recommend(client_id)
    if ranked is None:
        return advisor.products[0]
    st.subheader(text("products.title", lang))
    if ranked.empty:
        st.info(text("products.all_held", lang))
        return None
    products = [str(p) for p in ranked["product"]]
    picked = service.advice(client_id).product  # the best-ranked product with levers
    product = st.selectbox(
        text("products.choose", lang),
        products,
        index=products.index(picked) if picked in products else 0,
        format_func=lambda p: advisor.product_label(p, lang),
        key=f"product-{client_id}",
    )
    st.plotly_chart(
        render.recommendations_figure(ranked, lang, selected=product),
        width="stretch",
        config={"displayModeBar": False},
    )
    st.caption(text("products.ranked", lang))
    return str(product)


def product_summary(advice: Any, lang: Language, direction: str = "raise") -> None:
    """The chosen product's score today, the goal levers aim at and the expected value."""
    score, goal, value = st.columns(3)
    score.metric(text("products.score", lang), render.percent(advice.score, lang))
    goal.metric(text(f"products.goal.{direction}", lang), render.percent(advice.goal, lang))
    ranked = advice.recommendations
    if ranked is not None and advice.product in set(ranked["product"]):
        row = ranked.loc[ranked["product"] == advice.product].iloc[0]
        value.metric(
            text("products.expected", lang),
            f"{render.number(float(row['expected_value']), lang, 0)} €",
            help=text(
                "products.expected.help",
                lang,
                value=render.number(float(row["value"]), lang, 0),
            ),
        )
    far_warning(advice, lang)


def far_warning(advice: Any, lang: Language, rank: int | None = None) -> None:
    """Warn in plain words when the client, or the client after lever ``rank``, is far out."""
    ood = advice.ood
    if ood is None:
        return
    warning = ood.reason_text(lang) if rank is None else ood.lever_text(rank, lang)
    if warning is None or (rank is not None and ood.client):
        return  # a far client is said once, near the score
    st.warning(warning, icon="⚠️")
    if rank is None:  # the measure and its threshold, once
        st.caption(
            text(
                "ood.help",
                lang,
                k=ood.n_neighbours,
                distance=render.number(ood.distance, lang, 1),
                threshold=render.number(ood.threshold, lang, 1),
                share=render.percent(1 - ood.quantile, lang, 0),
            )
        )


def propensity_gauge(advice: Any, lang: Language, direction: str = "raise") -> None:
    """A single model's score as a gauge, the goal (a floor, or a ceiling) as its threshold."""
    title = f"{text(f'gauge.title.{direction}', lang)} · {advice.product_label[lang]}"
    st.plotly_chart(
        render.gauge_figure(advice.score, advice.goal, title, direction),
        width="stretch",
        config={"displayModeBar": False},
    )
    st.caption(
        text(
            f"gauge.goal.{direction}",
            lang,
            score=render.percent(advice.score, lang),
            goal=render.percent(advice.goal, lang),
        ),
        help=text(f"gauge.goal.{direction}.help", lang),
    )
    far_warning(advice, lang)


# ---------------------------------------------------------------- why this score
def why_score_panel(client_id: str, product: str, lang: Language) -> None:
    """The client's score explained: the features that move it most, and in words."""
    st.subheader(text("why.title", lang))
    found = service.why_score(client_id, product)
    if isinstance(found, str):
        st.info(text("why.unavailable", lang, error=found))
        return
    fidelity = found.fidelity
    if found.method == "levers_lime" and fidelity is not None:
        st.caption(
            text(
                "why.levers_lime",
                lang,
                n=render.number(float(found.parameters.get("n_samples", 0)), lang, 0),
                r2=render.number(fidelity.r2, lang, 2),
                error=render.number(100 * fidelity.heldout_error, lang, 1),
            )
        )
    elif found.method == "tree_shap":
        st.caption(text("why.tree_shap", lang))
    else:
        st.caption(text("why.other", lang, method=found.method))
    if fidelity is not None and fidelity.poor:
        st.warning(text("why.poor", lang))
    st.plotly_chart(
        render_model.why_figure(found, lang),
        width="stretch",
        config={"displayModeBar": False},
    )
    st.write(explanation_text(found, lang))


# ---------------------------------------------------------------- levers
def lever_section(
    advice: Any, lang: Language, units: dict[str, str], direction: str = "raise"
) -> None:
    """The levers as cards side by side, or the reason why there is none."""
    st.subheader(text(f"levers.title.{direction}", lang, product=advice.product_label[lang]))
    if advice.engine:
        st.caption(text("levers.caption", lang, engine=advice.engine, elapsed=advice.elapsed_s))
    if not advice.levers:
        (st.success if advice.status is Status.REACHED else st.info)(advice.reason_text(lang))
        return
    for column, lever in zip(st.columns(MAX_LEVERS), advice.levers, strict=False):
        with column:
            lever_card(lever, lang, units, advice.support, direction)
            far_warning(advice, lang, lever.rank)


def lever_card(
    lever: Any,
    lang: Language,
    units: dict[str, str],
    today: float | None = None,
    direction: str = "raise",
) -> None:
    """One lever: what to do, the score before -> after, the effort and its support."""
    with st.container(border=True, key=f"lever-{lever.rank}"):
        st.markdown(f"**{text('lever', lang, rank=lever.rank)}**")
        st.markdown("\n".join(f"- {action.describe(lang)}" for action in lever.steps))
        consequences = [a.describe(lang) for a in lever.actions if a.consequence]
        if consequences:
            st.caption(f"{text('lever.then', lang)}: {'; '.join(consequences)}")
        st.caption(
            text(
                f"lever.moves.{direction}",
                lang,
                before=render.percent(lever.score_before, lang),
                after=render.percent(lever.score_after, lang),
            )
        )
        score, cost = st.columns(2)
        score.metric(
            text("lever.score", lang),
            render.percent(lever.score_after, lang),
            delta=render.points(lever.uplift, lang),
            delta_color="inverse" if direction == "lower" else "normal",
            help=f"{render.percent(lever.score_before, lang)} → "
            f"{render.percent(lever.score_after, lang)}",
        )
        cost.metric(text("lever.cost", lang), render.number(lever.cost, lang, digits=1))
        if lever.support is not None:
            st.caption(
                f"{text('lever.support', lang)}: {render.percent(lever.support, lang, 0)}"
                + (
                    ""
                    if today is None
                    else f" ({text('lever.support.today', lang)} {render.percent(today, lang, 0)})"
                ),
                help=text(
                    "lever.support.help" + ("" if service.advisor().is_recommender else ".single"),
                    lang,
                ),
            )
        with st.expander(text("lever.changes", lang)):
            table = render.changes_table(lever.actions, lang, units, service.advisor().constraints)
            st.dataframe(table, hide_index=True, width="stretch")


# ---------------------------------------------------------------- what-if
def _widget(control: Any, key: str, lang: Language) -> Any:
    """The widget for one control; only values the constraint file allows can be picked."""
    label = control.label[lang] + (f" ({control.unit})" if control.unit else "")
    help_text = None if control.reason is None else control.reason[lang]
    fixed = not control.movable
    if _is_missing(control.value):  # shown as missing, never edited here
        st.text_input(label, value=text("missing", lang), key=key, disabled=True, help=help_text)
        return control.value
    if control.widget == "toggle":
        return st.toggle(
            label,
            value=bool(control.value),
            key=key,
            disabled=fixed or len(control.options) < 2,
            help=help_text,
        )
    if control.widget == "choice":
        return st.selectbox(
            label,
            list(control.options),
            index=0,
            format_func=lambda v: render.value_text(v, "", lang),
            key=key,
            disabled=fixed or len(control.options) < 2,
            help=help_text,
        )
    low, high = control.low, control.high
    span = high - low if low is not None and high is not None else None
    spec = service.advisor().constraints.feature(control.feature)
    scale = widget_scale(spec, control.step, span)
    if scale is not None:
        name = control.label[lang] + (f" ({scale.unit})" if scale.unit else "")
        return _scaled_number(control, name, key, fixed, help_text, scale)
    return _number(control, label, key, fixed, help_text)


def _bounded(low: float | None, high: float | None) -> bool:
    return low is not None and high is not None and math.isfinite(low) and math.isfinite(high)


def _scaled_number(
    control: Any, label: str, key: str, fixed: bool, help_text: str | None, scale: WidgetScale
) -> Any:
    """A number in the feature's ``format`` (a percent in points); returns the feature value.

    The client's value, untouched, comes back exactly; any other comes back as the number
    the widget shows (``40.7 %`` -> ``0.407``).
    """
    low, high = control.low, control.high
    current = scale.shown(control.value)
    lowest = None if low is None or not math.isfinite(low) else min(scale.ceil(low), current)
    highest = None if high is None or not math.isfinite(high) else max(scale.floor(high), current)
    if fixed or lowest is None or highest is None or lowest >= highest:
        shown = st.number_input(
            label,
            value=current,
            min_value=lowest,
            max_value=highest,
            step=scale.step,
            format=scale.number_format,
            key=key,
            disabled=fixed,
            help=help_text,
        )
    else:
        shown = st.slider(
            label,
            min_value=lowest,
            max_value=highest,
            value=current,
            step=scale.step,
            format=scale.slider_format,
            key=key,
            help=help_text,
        )
    return control.value if shown == current else scale.value(float(shown))


def scaled_range(
    scale: WidgetScale, bounds: Any, label: str, key: str
) -> tuple[float, float] | None:
    """A range filter in the feature's ``format`` (a percent in points); None: full range.

    ``bounds`` are the data's (``low``, ``high``, in the feature's units); the range picked
    comes back in those units, as the numbers the slider shows (``40.7 %`` -> ``0.407``).
    """
    low, high = scale.floor(bounds.low), scale.ceil(bounds.high)
    picked = st.slider(
        label + (f" ({scale.unit})" if scale.unit else ""),
        low,
        high,
        (low, high),
        step=scale.step,
        format=scale.slider_format,
        key=key,
    )
    if tuple(picked) == (low, high):
        return None
    return scale.value(picked[0]), scale.value(picked[1])


def _number(control: Any, label: str, key: str, fixed: bool, help_text: str | None) -> Any:
    cast = int if control.integer else float
    low, high = control.low, control.high
    bounded = _bounded(low, high)
    if fixed or not bounded or low >= high:
        return st.number_input(
            label,
            value=cast(control.value),
            min_value=cast(low) if low is not None and math.isfinite(low) else None,
            max_value=cast(high) if high is not None and math.isfinite(high) else None,
            step=cast(control.step) if control.step else None,
            key=key,
            disabled=fixed,
            help=help_text,
        )
    step = control.step or (high - low) / 100
    whole = control.integer or float(step).is_integer()
    return st.slider(
        label,
        min_value=cast(low),
        max_value=cast(high),
        value=cast(control.value),
        step=cast(step),
        format="%d" if control.integer else ("%.0f" if whole else None),
        key=key,
        help=help_text,
    )


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _differs(a: Any, b: Any) -> bool:
    if _is_missing(a) and _is_missing(b):
        return False
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return not math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return bool(a != b)


def what_if_editor(client_id: str, product: str, lang: Language) -> None:
    """Widgets limited to the allowed values, and the client's score re-computed live."""
    st.subheader(text("whatif.title", lang))
    st.caption(text("whatif.caption", lang))
    controls = service.advisor().controls(client_id, product=product)
    prefix = f"whatif-{client_id}-{product}-"
    editor, result = st.columns([3, 1])
    changes: dict[str, Any] = {}
    with editor:
        movable = [c for c in controls if c.movable]
        for i, column in enumerate(st.columns(3)):
            with column:
                for control in movable[i::3]:
                    value = _widget(control, prefix + control.feature, lang)
                    if _differs(value, control.value):
                        changes[control.feature] = value
        fixed = [c for c in controls if not c.movable]
        with st.expander(text("whatif.fixed", lang, n=len(fixed))):
            for i, column in enumerate(st.columns(3)):
                with column:
                    for control in fixed[i::3]:
                        _widget(control, prefix + control.feature, lang)
    with result:
        what_if_result(client_id, product, changes, prefix, lang)


def _reset(prefix: str) -> None:
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def what_if_result(
    client_id: str, product: str, changes: dict[str, Any], prefix: str, lang: Language
) -> None:
    """The score after the edits, whether the file allows them, and the edits in words."""
    found = service.what_if(client_id, changes, product)
    st.metric(
        text("whatif.score", lang),
        render.percent(found.score_after, lang),
        delta=render.points(found.uplift, lang) if changes else None,
    )
    if not changes:
        st.caption(text("whatif.unchanged", lang))
        return
    st.markdown("\n".join(f"- {a.describe(lang)}" for a in found.actions))
    if found.feasible:
        cost = render.number(found.cost, lang, digits=1)
        st.success(f"{text('whatif.feasible', lang)} {text('lever.cost', lang)}: {cost}")
    else:
        st.warning(
            "\n".join([text("whatif.infeasible", lang), *(f"- {p}" for p in found.problems)])
        )
    st.button(text("whatif.reset", lang), on_click=_reset, args=(prefix,), key="whatif-reset")


# ---------------------------------------------------------------- evidence
def evidence_section(
    client_id: str, product: str, advice: Any, lang: Language, labels: dict[str, str]
) -> None:
    """Similar and influential clients for a lever (or the client today), as tables and charts."""
    st.subheader(text("evidence.title", lang))
    ranks = [0, *(lever.rank for lever in advice.levers)]
    chosen = st.segmented_control(
        text("evidence.for", lang),
        ranks,
        format_func=lambda r: text("lever", lang, rank=r) if r else text("evidence.today", lang),
        default=ranks[1] if len(ranks) > 1 else 0,
        required=True,
        key=f"evidence-{client_id}-{product}",
    )
    found = service.evidence(client_id, product, chosen or None)
    if isinstance(found, str):
        st.warning(f"{text('evidence.failed', lang)} {found}")
        return
    similar, influential = st.tabs(
        [text("evidence.similar", lang), text("evidence.influential", lang)]
    )
    with similar:
        similar_clients(found, lang, labels)
    with influential:
        influential_clients(found, lang, labels)


def similar_clients(found: Any, lang: Language, labels: dict[str, str]) -> None:
    single = not service.advisor().is_recommender  # an outcome aimed for, not a product taken
    if found.similar is None or found.similar.empty:
        st.info(found.note[lang] if found.note else text("evidence.none", lang))
        return
    if found.support is not None:
        share = render.percent(found.support, lang, 0)
        key = "evidence.support" + ("" if service.advisor().is_recommender else ".single")
        st.caption(text(key, lang, share=share, n=found.n_neighbourhood))
    table, chart = st.columns([3, 2])
    distance = text("col.distance", lang)
    table.dataframe(
        render.evidence_table(found.similar, labels, lang, single, service.advisor().constraints),
        hide_index=True,
        height=320,
        column_config={distance: st.column_config.NumberColumn(format="%.2f")},
    )
    chart.plotly_chart(render.distance_figure(found.similar, lang, single), width="stretch")


def influential_clients(found: Any, lang: Language, labels: dict[str, str]) -> None:
    if found.influential is None or found.influential.empty:
        st.info(found.note[lang] if found.note else text("evidence.none", lang))
        return
    if found.method:
        st.caption(text("evidence.method", lang, method=found.method))
    table, chart = st.columns([3, 2])
    influence = text("col.influence", lang)
    table.dataframe(
        render.evidence_table(
            found.influential, labels, lang, constraints=service.advisor().constraints
        ),
        hide_index=True,
        height=320,
        column_config={influence: st.column_config.NumberColumn(format="%.3g")},
    )
    chart.plotly_chart(render.influence_figure(found.influential, lang), width="stretch")
