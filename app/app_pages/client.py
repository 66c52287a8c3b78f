"""Client page: who the client is, which product to work on, the levers and the evidence."""

from __future__ import annotations

import streamlit as st

from app import components, service
from app.state import language
from app.texts import text

lang = language()
source = service.source()
advisor = source.advisor
features = advisor.constraints.features
units = {spec.name: spec.unit for spec in features}
labels = {spec.name: spec.label.get(lang) or spec.name for spec in features}

st.title(text("client.title", lang))
components.source_caption(source, lang)

client_id = components.client_picker(source, lang)
if client_id is None:
    st.stop()

profile, products = st.columns([2, 3], gap="large")
with profile:
    components.profile_card(client_id, service.client_row(client_id), features, lang)
with products:
    product = components.product_choice(client_id, lang)
if product is None:
    st.stop()
advice = service.advice(client_id, product)
direction = advice.direction  # "raise", or "lower" for a risk score
with products:
    if advisor.is_recommender:
        components.product_summary(advice, lang, direction)
    else:
        components.propensity_gauge(advice, lang, direction)

components.lever_section(advice, lang, units, direction)
service.record_shown(client_id, product, advice, lang)  # once per client, product, language
st.divider()
components.why_score_panel(client_id, product, lang)
st.divider()
components.what_if_editor(client_id, product, lang)
st.divider()
components.evidence_section(client_id, product, advice, lang, labels)
