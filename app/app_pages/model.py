"""Model page: the model card, the leaderboard, global importance and calibration."""

from __future__ import annotations

import statistics

import streamlit as st

from app import render, render_model, service
from app.state import language
from app.texts import text

lang = language()
advisor = service.advisor()
bundle = service.bundle()
card = bundle.card
names = list(card.models)
product_labels = {
    name: advisor.product_label(name, lang) if name in advisor.products else name for name in names
}
if not advisor.is_recommender:  # the card names the one model "propensity"
    product_labels = {name: advisor.product_label(advisor.products[0], lang) for name in names}
feature_labels = {s.name: s.label.get(lang) or s.name for s in advisor.constraints.features}

st.title(text("model.title", lang))
st.caption(
    text(
        "model.caption",
        lang,
        path=bundle.path.name,
        kind=card.kind,
        created=card.created_at,
        seed=card.seed,
    )
)

kpis = st.columns(4)
kpis[0].metric(text("model.models", lang), len(names))
kpis[1].metric(text("model.features", lang), len(card.features))
aucs = [m.test.auc for m in card.models.values()]
kpis[2].metric(text("model.auc", lang), f"{statistics.median(aucs):.3f}" if aucs else "-")
kpis[3].metric(
    text("model.train_rows", lang),
    render.number(max(m.n_rows for m in card.models.values()), lang),
)

st.subheader(text("model.card", lang))
st.dataframe(
    render_model.model_card_table(card.models, product_labels, lang),
    hide_index=True,
    width="stretch",
    column_config={
        c: st.column_config.NumberColumn(format="%.3f")
        for c in (
            "cv AUC",
            "test AUC",
            "average precision",
            "Brier",
            text("col.positive_rate", lang),
        )
    },
)

name = names[0]
if len(names) > 1:
    name = st.selectbox(
        text("model.choose", lang), names, format_func=product_labels.__getitem__, key="model"
    )
entry = card.models[name]

board, calibration = st.columns(2, gap="large")
with board:
    st.subheader(text("model.leaderboard", lang))
    trials = render_model.leaderboard_table(bundle.leaderboards[name])
    st.dataframe(trials, hide_index=True, height=min(35 * len(trials) + 38, 340))
with calibration:
    st.subheader(text("model.calibration", lang))
    st.plotly_chart(render_model.calibration_figure(entry.test.to_dict(), lang), width="stretch")

st.subheader(text("model.importance.side", lang))
found = service.importance(name)
if found.table is None:
    st.info(text("model.importance.unavailable", lang, error=found.error))
else:
    permutation, shap = st.columns(2, gap="large")
    with permutation:
        st.markdown(f"**{text('model.permutation', lang)}**")
        st.caption(
            text(
                "model.importance.caption",
                lang,
                baseline=render.number(found.baseline, lang, 3),
                n=found.n_repeats,
                rows=found.n_rows,
            )
        )
        figure = render_model.importance_figure(found.table, feature_labels, lang)
        st.plotly_chart(figure, width="stretch")
    if found.shap is not None:
        with shap:
            st.markdown(f"**{text('model.shap', lang)}**")
            st.caption(
                text(
                    "model.shap.caption",
                    lang,
                    method=render_model.METHOD_NAMES.get(
                        str(found.shap_method), str(found.shap_method)
                    ),
                    n=found.shap.attrs.get("n_clients", service.SHAP_CLIENTS),
                )
            )
            st.plotly_chart(
                render_model.shap_figure(found.shap, feature_labels, lang), width="stretch"
            )
    if found.roles is not None:
        st.markdown(f"**{text('model.roles', lang)}**")
        st.caption(text("model.roles.caption", lang))
        st.dataframe(render_model.roles_table(found.roles, lang), hide_index=True)

with st.expander(text("model.libraries", lang)):
    st.json({"libraries": card.libraries, "params": entry.params, "family": entry.family})
