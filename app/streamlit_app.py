"""Levers' Streamlit entry point: page configuration and navigation."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run app/streamlit_app.py` puts app/ on sys.path, not the repository root.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

st.set_page_config(page_title="Levers", page_icon=":material/tune:", layout="wide")

pages = [
    st.Page("app_pages/portfolio.py", title="Portfolio", icon=":material/groups:", default=True),
]
st.navigation(pages).run()
