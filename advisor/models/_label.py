"""The product label set at training: the model's target in words, in English and French."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.errors import ModelError

__all__ = ["MAX_LABEL_CHARS", "check_product_label"]

MAX_LABEL_CHARS = 200
"""Longest product label, per language (characters)."""


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ModelError(f"{where}: must be a non-empty text. Got {value!r}.")
    text = " ".join(value.split())
    if len(text) > MAX_LABEL_CHARS or not text.isprintable():
        raise ModelError(
            f"{where}: must be printable text of at most {MAX_LABEL_CHARS} characters. Got "
            f"{len(text):,} characters."
        )
    return text


def check_product_label(label: str | Mapping[str, str] | None) -> dict[str, str] | None:
    """Return the label as ``{"en": ..., "fr": ...}`` (a text alone serves both languages).

    Examples
    --------
    >>> check_product_label({"en": "Card default", "fr": "Défaut carte"})
    {'en': 'Card default', 'fr': 'Défaut carte'}
    >>> check_product_label("Credit risk")
    {'en': 'Credit risk', 'fr': 'Credit risk'}
    """
    if label is None:
        return None
    if isinstance(label, str):
        text = _text(label, "label")
        return {"en": text, "fr": text}
    if not isinstance(label, Mapping) or not set(label) <= {"en", "fr"} or "en" not in label:
        raise ModelError(
            "label: must be a text or a mapping {'en': ..., 'fr': ...} ('fr' optional). Got "
            f"{label!r}."
        )
    english = _text(label["en"], "label.en")
    french = _text(label["fr"], "label.fr") if label.get("fr") is not None else english
    return {"en": english, "fr": french}
