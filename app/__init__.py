"""Levers' Streamlit front-end (imports :mod:`advisor` only)."""
