"""Campaign page: a segment of clients, their cheapest levers, a few global actions, fairness."""

from __future__ import annotations

import streamlit as st

from app import campaign_widgets as widgets
from app.state import language
from app.texts import text

lang = language()
st.title(text("campaign.title", lang))
source = widgets.open_source(lang)

product = widgets.product_choice(source, lang)
segment = widgets.segment_builder(source, product, lang)
run = st.button(
    text("campaign.run", lang),
    type="primary",
    disabled=not segment.mask.any(),
    key="campaign-run",
)
if run:
    widgets.run_campaign(product, segment, source, lang)

shown = widgets.stored_run(segment.key)
if shown is None:
    st.info(text("campaign.hint", lang))
    st.stop()
widgets.results(shown, source, lang)
