"""Levers' Streamlit entry point: page configuration, language switch, source and navigation.

The app serves the demo portfolio, or the bundle and client data named by ``LEVERS_BUNDLE``
and ``LEVERS_DATA`` (``levers app --bundle DIR --data SOURCE`` sets both): see app/service.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run app/streamlit_app.py` puts app/ on sys.path, not the repository root.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from app.components import open_source  # noqa: E402  (needs the root on sys.path)
from app.state import language_switch  # noqa: E402
from app.texts import text  # noqa: E402

st.set_page_config(page_title="Levers", page_icon=":material/tune:", layout="wide")

lang = language_switch()
open_source(lang)  # an error opening the bundle or the data stops here, on every page
pages = [
    st.Page(
        "app_pages/client.py",
        title=text("nav.client", lang),
        icon=":material/person:",
        default=True,
    ),
    st.Page("app_pages/portfolio.py", title=text("nav.portfolio", lang), icon=":material/groups:"),
    st.Page("app_pages/model.py", title=text("nav.model", lang), icon=":material/model_training:"),
    st.Page(
        "app_pages/constraints.py", title=text("nav.constraints", lang), icon=":material/rule:"
    ),
    st.Page("app_pages/campaign.py", title=text("nav.campaign", lang), icon=":material/campaign:"),
]
st.navigation(pages).run()
