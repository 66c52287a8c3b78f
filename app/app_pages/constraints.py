"""Constraints page: the constraint file in force, as a readable table, and whether it holds."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import render_model, service
from app.state import language
from app.texts import text

lang = language()
advisor = service.advisor()
bundle = service.bundle()
constraints = advisor.constraints
status = service.constraint_status()
sha = (bundle.card.constraint_file.sha256 or "-")[:12]

st.title(text("constraints.title", lang))
st.caption(text("constraints.caption", lang, name=constraints.name, sha=sha))

if status is None:
    st.warning(text("constraints.no_text", lang))
elif status.ok:
    st.success(text("constraints.valid", lang, n=len(bundle.card.features)))
else:
    st.error(text("constraints.invalid", lang, n=status.n_errors))
    st.dataframe(status.to_frame().query("severity == 'error'"), hide_index=True, width="stretch")
if status is not None and status.n_errors < len(status.problems):
    with st.expander(text("constraints.warnings", lang)):
        st.dataframe(status.to_frame().query("severity == 'warning'"), hide_index=True)

roles = [spec.role for spec in constraints.features]
kpis = st.columns(4)
kpis[0].metric(text("constraints.features", lang), len(roles))
kpis[1].metric(text("constraints.actionable", lang), roles.count("actionable"))
kpis[2].metric(text("constraints.immutable", lang), roles.count("immutable"))
kpis[3].metric(text("constraints.max_changes", lang), constraints.max_changes or "-")

if constraints.product_rules:
    st.subheader(text("constraints.products", lang))
    st.caption(text("constraints.products_caption", lang))
    rows = [
        {
            text("constraints.product", lang): advisor.product_label(rule.product, lang)
            if rule.product in advisor.products
            else rule.product,
            text("constraints.not_levers", lang): ", ".join(
                constraints.feature(name).label.get(lang) for name in rule.not_levers
            ),
        }
        for rule in constraints.product_rules
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

st.subheader(text("constraints.table", lang))
st.dataframe(
    render_model.constraints_table(constraints.describe(), constraints.features, lang),
    hide_index=True,
    width="stretch",
    height=35 * (len(roles) + 1) + 3,
)

if bundle.constraint_text:
    with st.expander(text("constraints.file", lang)):
        st.code(bundle.constraint_text, language="yaml")
