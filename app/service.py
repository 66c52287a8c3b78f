"""The one cached service the pages share: it builds what the advisor pages display."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from advisor.portfolio import DemoSettings, load_demo_portfolio


@st.cache_resource(show_spinner="Generating the demo portfolio (first run only)...")
def demo_portfolio(settings: DemoSettings) -> pd.DataFrame:
    """Return the demo portfolio, built once per process and settings."""
    return load_demo_portfolio(settings)


def current_portfolio() -> pd.DataFrame:
    """Return the portfolio for the settings in the environment."""
    return demo_portfolio(DemoSettings.from_env())
