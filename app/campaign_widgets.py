"""The Campaign page's widgets: the source, the product, the segment builder, the results.

Each function draws one part of the screen with Streamlit and returns what the user chose;
the computing is the advisor's (:class:`advisor.campaigns.Campaign`), the tables and figures
come from :mod:`app.render_campaign`. A run is kept in the session (:func:`stored_run`) so
that a rerun (a language switch, a click elsewhere) never recomputes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import streamlit as st

from advisor.campaigns import CampaignResult, FairnessReport, GlobalActions, fairness_report
from advisor.errors import AdvisorError
from app import render_campaign as rc
from app import service
from app.components import scaled_range, source_caption
from app.render import feature_label, number, percent
from app.texts import Language, text
from app.widget_scales import widget_scale

RUN_KEY = "levers.campaign.run"  # the last run of this session (a CampaignRun)
ENGINES = ("search", "auto")
N_COLUMNS = 3
T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """What the segment builder chose: the clients' mask, the opt-out column, the options."""

    mask: np.ndarray
    exclude: str | None
    cap: int
    engine: str
    key: tuple[Any, ...]  # everything the run depends on (equal keys: the same run)


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignRun:
    """A finished run, as kept in the session: the result, global actions and fairness.

    ``actions`` and ``fairness`` hold the advisor's error message when they could not be
    computed (e.g. no client of the segment has a lever).
    """

    key: tuple[Any, ...]
    result: CampaignResult
    actions: GlobalActions | str
    fairness: FairnessReport | str


def open_source(lang: Language) -> service.Source:
    """The app's bundle and clients (opened by the entry point), and a caption naming them."""
    source = service.source()
    source_caption(source, lang)
    return source


def product_choice(source: service.Source, lang: Language) -> str:
    """A recommender's product to aim at (a select); a single model's target (shown)."""
    advisor = source.advisor
    if not advisor.is_recommender:
        product = advisor.products[0]
        st.markdown(
            text("campaign.product.single", lang, product=advisor.product_label(product, lang))
        )
        return product
    chosen = st.selectbox(
        text("campaign.product", lang),
        advisor.products,
        format_func=lambda p: advisor.product_label(p, lang),
        key="campaign-product",
    )
    return str(chosen)


def _choice_filter(spec: Any, source: service.Source, lang: Language) -> tuple[Any, ...]:
    options = rc.choices_of(spec, source.clients[spec.name])
    return tuple(
        st.multiselect(
            rc.filter_label(spec, lang),
            options,
            format_func=lambda v: rc.choice_label(spec, v, lang),
            placeholder=text("campaign.all", lang),
            key=f"campaign-filter-{spec.name}",
        )
    )


def _range_filter(spec: Any, source: service.Source, lang: Language) -> tuple[float, float] | None:
    bounds = rc.slider_bounds(spec, source.clients[spec.name])
    if bounds is None:  # one value in the data: nothing to filter
        return None
    scale = widget_scale(spec, bounds.step, bounds.high - bounds.low)
    if scale is not None:
        label = rc.filter_label(spec, lang)
        return scaled_range(scale, bounds, label, f"campaign-filter-{spec.name}")
    cast = int if bounds.integer else float
    low, high = cast(bounds.low), cast(bounds.high)
    picked = st.slider(
        rc.filter_label(spec, lang),
        low,
        high,
        (low, high),
        step=cast(bounds.step),
        key=f"campaign-filter-{spec.name}",
    )
    return None if tuple(picked) == (low, high) else (picked[0], picked[1])


def segment_builder(source: service.Source, product: str, lang: Language) -> Segment:
    """Filters on the constraint file's features, the opt-out column, the cap and the engine."""
    clients = source.clients
    specs = {s.name: s for s in rc.segment_features(source.advisor.constraints.features, clients)}
    st.subheader(text("campaign.segment", lang))
    chosen = st.multiselect(
        text("campaign.filters", lang),
        list(specs),
        format_func=lambda name: rc.filter_label(specs[name], lang),
        help=text("campaign.filters.help", lang),
        placeholder=text("campaign.filters.add", lang),
        key="campaign-filters",
    )
    choices: dict[str, tuple[Any, ...]] = {}
    ranges: dict[str, tuple[float, float]] = {}
    columns = st.columns(N_COLUMNS)
    for i, name in enumerate(chosen):
        with columns[i % N_COLUMNS]:
            if rc.is_choice(specs[name]):
                choices[name] = _choice_filter(specs[name], source, lang)
            elif (picked := _range_filter(specs[name], source, lang)) is not None:
                ranges[name] = picked
    exclude, cap, engine = _run_options(source, lang)
    mask = rc.segment_of(clients, choices, ranges, cap)
    matching = int(rc.segment_of(clients, choices, ranges, max(len(clients), 1)).sum())
    _segment_caption(matching, cap, len(clients), lang)
    key = (
        source.data,
        str(source.bundle.path),
        product,
        engine,
        exclude,
        cap,
        tuple(sorted((n, v) for n, v in choices.items() if v)),
        tuple(sorted(ranges.items())),
    )
    return Segment(mask=mask, exclude=exclude, cap=cap, engine=engine, key=key)


def _run_options(source: service.Source, lang: Language) -> tuple[str | None, int, str]:
    left, middle, right = st.columns(N_COLUMNS)
    exclude = left.selectbox(
        text("campaign.exclude", lang),
        [None, *rc.boolean_columns(source.clients)],
        format_func=lambda c: "—" if c is None else c,  # one label in both languages
        help=text("campaign.exclude.help", lang),
        key="campaign-exclude",
    )
    cap = middle.number_input(
        text("campaign.cap", lang),
        min_value=1,
        max_value=rc.MAX_CAP,
        value=rc.DEFAULT_CAP,
        step=100,
        help=text(
            "campaign.cap.help",
            lang,
            default=number(rc.DEFAULT_CAP, lang),
            most=number(rc.MAX_CAP, lang),
        ),
        key="campaign-cap",
    )
    engine = right.radio(  # engine names as labels: Streamlit keeps a value by its label
        text("campaign.engine", lang),
        ENGINES,
        captions=[text(f"campaign.engine.{e}", lang) for e in ENGINES],
        key="campaign-engine",
    )
    return exclude, int(cap), str(engine)


def _segment_caption(matching: int, cap: int, total: int, lang: Language) -> None:
    if matching == 0:
        st.warning(text("campaign.empty", lang))
    elif matching > cap:
        st.caption(text("campaign.capped", lang, n=number(matching, lang), cap=number(cap, lang)))
    else:
        st.caption(
            text("campaign.matching", lang, n=number(matching, lang), total=number(total, lang))
        )


def stored_run(key: tuple[Any, ...]) -> CampaignRun | None:
    """The session's last run when it was made with exactly these choices, else None."""
    found = st.session_state.get(RUN_KEY)
    return found if isinstance(found, CampaignRun) and found.key == key else None


def run_campaign(product: str, segment: Segment, source: service.Source, lang: Language) -> None:
    """Run the campaign with a progress bar, then its global actions and fairness; keep them."""
    bar = st.progress(0.0, text=text("campaign.progress", lang, done=0, total="…"))

    def progress(done: int, total: int) -> None:
        shown = text("campaign.progress", lang, done=number(done, lang), total=number(total, lang))
        bar.progress(min(1.0, done / max(total, 1)), text=shown)

    try:
        result = service.campaign(product, segment.engine).run(
            source.clients, segment=segment.mask, exclude=segment.exclude, progress=progress
        )
    except AdvisorError as exc:  # e.g. clients the model cannot score: one line, no traceback
        bar.empty()
        st.error(str(exc))
        return
    bar.empty()
    with st.spinner(text("campaign.summarizing", lang)):
        actions: GlobalActions | str = _or_message(lambda: result.summarize(max_actions=5))
        fairness: FairnessReport | str = _or_message(lambda: fairness_report(result))
    st.session_state[RUN_KEY] = CampaignRun(
        key=segment.key, result=result, actions=actions, fairness=fairness
    )


def _or_message(compute: Callable[[], T]) -> T | str:
    """What ``compute`` answers, or the advisor's error message (shown in place of it)."""
    try:
        return compute()
    except AdvisorError as exc:
        return str(exc)


# ---------------------------------------------------------------- results
def results(run: CampaignRun, source: service.Source, lang: Language) -> None:
    """KPIs, the download of the per-client levers, global actions, fairness, the levers."""
    result = run.result
    totals = result.totals
    st.subheader(text("campaign.results", lang))
    figures = rc.kpis(totals, lang, result.provenance.goal_direction)
    for column, (label, value, explained) in zip(st.columns(len(figures)), figures, strict=True):
        column.metric(label, value, help=explained or None)
    provenance = result.provenance
    st.caption(rc.status_line(totals, provenance.elapsed_s, provenance.engines_used, lang))
    frame = result.to_frame()
    st.download_button(
        text("campaign.download", lang),
        data=rc.levers_csv(frame),
        file_name=f"levers-{result.product}.csv",
        mime="text/csv",
        on_click="ignore",
        key="campaign-download",
    )
    actions, fairness, levers = st.tabs(
        [
            text("campaign.actions", lang),
            text("campaign.fairness", lang),
            text("campaign.levers", lang),
        ]
    )
    with actions:
        _actions_section(run.actions, lang)
    with fairness:
        labels = {s.name: feature_label(s, lang) for s in source.advisor.constraints.features}
        _fairness_section(run.fairness, labels, lang)
    with levers:
        st.dataframe(
            rc.levers_table(frame, lang),
            hide_index=True,
            column_config=_formats(lang),
            key="campaign-levers",
        )


def _actions_section(actions: GlobalActions | str, lang: Language) -> None:
    if isinstance(actions, str):
        st.warning(f"{text('campaign.actions.failed', lang)} {actions}")
        return
    if not actions.actions:
        st.info(text("campaign.actions.none", lang))
        return
    st.caption(
        text(
            "campaign.actions.caption",
            lang,
            n=number(actions.n_with_lever, lang),
            method=actions.method,
        )
    )
    st.plotly_chart(rc.curve_figure(actions.curve, lang), key="campaign-curve")
    st.dataframe(
        rc.actions_table(actions.to_frame(), lang),
        hide_index=True,
        column_config=_formats(lang)
        | {text("col.action", lang): st.column_config.TextColumn(width="large")},
        key="campaign-actions",
    )


def _fairness_section(
    fairness: FairnessReport | str, labels: dict[str, str], lang: Language
) -> None:
    if isinstance(fairness, str):
        st.warning(f"{text('campaign.fairness.failed', lang)} {fairness}")
        return
    frame = fairness.to_frame()
    if frame.empty:
        st.info(text("campaign.fairness.none", lang))
        return
    limit = 1 + fairness.tolerance
    st.caption(
        text(
            "campaign.fairness.caption",
            lang,
            limit=number(limit, lang, 2),
            share=percent(1 / limit, lang, 0),
            tolerance=number(fairness.tolerance, lang),
            n=number(fairness.min_group_size, lang),
        )
    )
    flagged = rc.flagged_lines(frame, labels, lang)
    if flagged:
        st.warning("\n".join(f"- {line}" for line in flagged))
    else:
        st.success(text("campaign.fairness.ok", lang))
    st.plotly_chart(
        rc.fairness_figure(frame, labels, fairness.min_group_size, lang), key="campaign-fairness"
    )
    st.dataframe(
        rc.fairness_table(frame, labels, lang),
        hide_index=True,
        column_config=_formats(lang),
        key="campaign-fairness-table",
    )


def _formats(lang: Language) -> dict[str, Any]:
    return {
        header: st.column_config.NumberColumn(format=shown)
        for header, shown in rc.number_formats(lang).items()
    }
