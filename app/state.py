"""Typed accessors to the session state the pages share (no page reads raw keys)."""

from __future__ import annotations

from typing import cast

import streamlit as st

from app.texts import LANGUAGE_NAMES, Language

LANGUAGE_KEY = "language"
LANGUAGE_LABEL = "Language · Langue"  # one label in both languages
LANGUAGE_PARAM = "lang"  # ?lang=fr in the address: a link or a reload keeps the language
CLIENT_KEY = "levers.client"  # the last client chosen (survives page switches)


def language() -> Language:
    """The language the advisor chose (English until they switch)."""
    value = st.session_state.get(LANGUAGE_KEY)
    return cast(Language, value) if value in LANGUAGE_NAMES else "en"


def language_switch() -> Language:
    """Show the English/Français switch in the sidebar and return the chosen language.

    The first run of a session takes the language from the address (``?lang=fr``); the
    choice is written back there, so reloading the page or sharing its link keeps it.
    """
    if LANGUAGE_KEY not in st.session_state:
        asked = st.query_params.get(LANGUAGE_PARAM)
        st.session_state[LANGUAGE_KEY] = asked if asked in LANGUAGE_NAMES else "en"
    st.sidebar.segmented_control(
        LANGUAGE_LABEL,
        options=list(LANGUAGE_NAMES),
        format_func=LANGUAGE_NAMES.__getitem__,
        required=True,
        key=LANGUAGE_KEY,
    )
    chosen = language()
    if st.query_params.get(LANGUAGE_PARAM) != chosen:
        st.query_params[LANGUAGE_PARAM] = chosen
    return chosen


def remembered_client() -> str | None:
    """The client chosen last on the client page, if any."""
    value = st.session_state.get(CLIENT_KEY)
    return value if isinstance(value, str) else None


def remember_client(client_id: str) -> None:
    """Keep the chosen client for the next visit of the client page."""
    st.session_state[CLIENT_KEY] = client_id
