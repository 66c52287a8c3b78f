"""Business words for levers: actions from changes, and plain reasons when no lever exists.

Action texts come from the constraint file's ``lever`` templates (English and French); the
reasons turn an engine's verdict (binding constraints, best reachable score) into sentences an
advisor can repeat to a client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from advisor.levers._types import LANGUAGES, Action, Advice, check_language
from constraints import ConstraintSet
from counterfactuals import Change, CounterfactualResult

__all__ = [
    "actions_of",
    "advice_headline",
    "feature_label",
    "levers_table_header",
    "movement_reason",
    "no_lever_reason",
    "percent_text",
    "reached_reason",
]

Texts = dict[str, str]


def feature_label(constraints: ConstraintSet, feature: str) -> Texts:
    """Return the feature's label in every language (the file's label, else its name)."""
    spec = constraints.feature(feature)
    return {lang: spec.label.get(lang) or feature.replace("_", " ") for lang in LANGUAGES}


def _plain(value: Any) -> Any:
    """Return numpy scalars as Python values (``np.True_`` -> ``True``)."""
    return value.item() if isinstance(value, np.generic) else value


def actions_of(constraints: ConstraintSet, changes: Iterable[Change]) -> tuple[Action, ...]:
    """Turn a counterfactual's changes into actions; derived features come last, as consequences."""
    derived = {d.feature for d in constraints.derived}
    actions = [
        Action(
            feature=change.feature,
            label=feature_label(constraints, change.feature),
            before=_plain(change.before),
            after=_plain(change.after),
            text={
                lang: constraints.lever_text(change.feature, change.before, change.after, lang)
                for lang in LANGUAGES
            },
            consequence=change.feature in derived,
        )
        for change in changes
    ]
    return tuple(sorted(actions, key=lambda a: a.consequence))


def _percent(p: float, language: str = "en") -> str:
    text = f"{100 * p:.1f}".rstrip("0").rstrip(".")
    return (text.replace(".", ",") if language == "fr" else text) + "\u202f%"


def percent_text(p: float, language: str = "en") -> str:
    """Say a probability as a percentage for people: ``40.6 %`` (French ``40,6 %``)."""
    return _percent(p, check_language(language))


def advice_headline(advice: Advice, client: str, language: str = "en") -> str:
    """One line on where the client stands: score today and the goal (a ceiling for a risk)."""
    lang = check_language(language)
    product = advice.product_label[lang]
    score, goal = _percent(advice.score, lang), _percent(advice.goal, lang)
    if advice.direction == "lower":
        if lang == "fr":
            return (
                f"{client} : risque {product} {score} aujourd'hui, plafond {goal} (les leviers "
                "le font baisser)"
            )
        return f"{client}: risk {product} {score} today, ceiling {goal} (levers lower it)"
    if lang == "fr":
        return f"{client} : {product} {score} aujourd'hui, objectif {goal}"
    return f"{client}: {product} {score} today, goal {goal}"


_TABLE_COLUMNS = {
    "en": ("#", "actions", "score", "effort", "support"),
    "fr": ("#", "actions", "score", "effort", "soutien"),
}


def levers_table_header(advice: Advice, language: str = "en") -> tuple[str, tuple[str, ...]]:
    """Return the levers table's title and column names in ``language``."""
    lang = check_language(language)
    title = "Leviers pour" if lang == "fr" else "Levers for"
    return f"{title} {advice.product_label[lang]}", _TABLE_COLUMNS[lang]


def reached_reason(
    product: Mapping[str, str], score: float, goal: float, lower: bool = False
) -> Texts:
    """Why no lever is needed: the client already meets the goal (a ceiling when ``lower``)."""
    if lower:
        return {
            "en": f"No lever needed: the client's risk score for {product['en']} is already "
            f"{_percent(score)}, at or below the ceiling of {_percent(goal)}.",
            "fr": f"Aucun levier nécessaire : le score de risque du client pour {product['fr']} "
            f"est déjà de {_percent(score, 'fr')}, au niveau du plafond de "
            f"{_percent(goal, 'fr')} ou en dessous.",
        }
    return {
        "en": f"No lever needed: the client's score for {product['en']} is already "
        f"{_percent(score)}, at or above the goal of {_percent(goal)}.",
        "fr": f"Aucun levier nécessaire : le score du client pour {product['fr']} est déjà de "
        f"{_percent(score, 'fr')}, au niveau de l'objectif de {_percent(goal, 'fr')} ou au-dessus.",
    }


def held_reason(product: Mapping[str, str]) -> Texts:
    """Why no lever is proposed: the client already holds the product."""
    return {
        "en": f"The client already holds {product['en']}.",
        "fr": f"Le client détient déjà {product['fr']}.",
    }


def _binding_words(constraints: ConstraintSet, name: str) -> Texts:
    """Say one constraint an expert can act on (a rule, a limit of an actionable feature)."""
    kind, _, what = name.partition(":")
    if kind == "max_changes":
        n = constraints.max_changes
        return {
            "en": f"a lever may change at most {n} things at once",
            "fr": f"un levier ne peut changer que {n} éléments à la fois",
        }
    if kind == "rule":
        return {"en": f"the rule “{what}”", "fr": f"la règle « {what} »"}
    if what not in constraints.feature_names:
        return {"en": name, "fr": name}
    label = feature_label(constraints, what)
    spec = constraints.feature(what)
    way = {"increase": ("up", "qu'à la hausse"), "decrease": ("down", "qu'à la baisse")}
    up_en, up_fr = way.get(spec.direction, ("one way", "que dans un sens"))
    least = {lang: constraints.format_value(what, spec.min_change, lang) for lang in LANGUAGES}
    words = {
        "immutable": ("never changes", "ne change jamais"),
        "direction": (f"may only move {up_en}", f"ne peut évoluer {up_fr}"),
        "max_change": (
            "may only change by a limited amount",
            "ne peut varier que d'un montant limité",
        ),
        "min_change": (
            f"must change by at least {least['en']}",
            f"doit varier d'au moins {least['fr']}",
        ),
        "transition": (
            "may not switch to the needed value",
            "ne peut pas prendre la valeur requise",
        ),
    }
    en, fr = words.get(kind, ("is constrained", "est contraint"))
    return {"en": f"{label['en']} {en}", "fr": f"{label['fr']} {fr}"}


def _blocking_sentences(constraints: ConstraintSet, binding: tuple[str, ...]) -> Texts | None:
    """Say what blocks a lever: constraints an expert can act on, then, once, the context.

    A context feature (it changes with the client's life, not with advice) is named once, as
    context, never as a constraint to loosen.
    """
    context: list[str] = []
    actionable: list[str] = []
    for name in binding:
        kind, _, what = name.partition(":")
        if kind == "context" and what in constraints.feature_names:
            if what not in context:
                context.append(what)
        elif name not in actionable:
            actionable.append(name)
    if not context and not actionable:
        return None
    en: list[str] = []
    fr: list[str] = []
    if actionable:
        parts = [_binding_words(constraints, name) for name in actionable[:3]]
        en.append("What blocks it: " + "; ".join(p["en"] for p in parts) + ".")
        fr.append("Ce qui bloque : " + " ; ".join(p["fr"] for p in parts) + ".")
    if context:
        labels = [feature_label(constraints, name) for name in context[:3]]
        en.append(
            "It also depends on the client's situation (context, not an action): "
            + ", ".join(label["en"] for label in labels)
            + "."
        )
        fr.append(
            "Cela dépend aussi de la situation du client (contexte, pas une action) : "
            + ", ".join(label["fr"] for label in labels)
            + "."
        )
    return {"en": " ".join(en), "fr": " ".join(fr)}


def no_lever_reason(
    constraints: ConstraintSet, product: Mapping[str, str], result: CounterfactualResult
) -> Texts:
    """Why no lever exists, in plain words (what blocks it and how far the client gets)."""
    goal = result.target.threshold
    proved = "proved" in result.reason
    timed_out = "time limit" in result.reason
    if result.target.at_most:  # a risk score: the goal is a ceiling
        verb_en = "brings" if proved else "was found that brings"
        verb_fr = "ne ramène" if proved else "trouvé ne ramène"
        en = [
            f"No lever within the constraint file {verb_en} the risk score for {product['en']} "
            "down to the ceiling"
        ]
        fr = [
            f"Aucun levier permis par le fichier de contraintes {verb_fr} le score de risque "
            f"pour {product['fr']} sous le plafond"
        ]
    else:
        verb_en = "reaches" if proved else "was found that reaches"
        verb_fr = "n'atteint" if proved else "trouvé n'atteint"
        en = [f"No lever within the constraint file {verb_en} the goal for {product['en']}"]
        fr = [
            f"Aucun levier permis par le fichier de contraintes {verb_fr} l'objectif pour "
            f"{product['fr']}"
        ]
    en[0] += f" ({_percent(goal)})"
    fr[0] += f" ({_percent(goal, 'fr')})"
    en[0] += " in the time allowed." if timed_out else "."
    fr[0] += " dans le temps imparti." if timed_out else "."
    if result.best_score is not None:
        en.append(f"The best the client can reach is {_percent(result.best_score)}.")
        fr.append(
            f"Le mieux que le client puisse atteindre est {_percent(result.best_score, 'fr')}."
        )
    blocking = _blocking_sentences(constraints, result.binding)
    if blocking is not None:
        en.append(blocking["en"])
        fr.append(blocking["fr"])
    return {"en": " ".join(en), "fr": " ".join(fr)}


def movement_reason(role: str, reason: str) -> Texts | None:
    """Why a feature cannot move in the what-if editor, in plain words (``None`` if it can)."""
    if not reason:
        return None
    if reason.startswith("derived"):
        return {"en": "Follows from the other features.", "fr": "Découle des autres éléments."}
    if reason.startswith("missing"):
        return {
            "en": "Unknown for this client: it stays unknown (no lever sets it).",
            "fr": "Inconnu pour ce client : il le reste (aucun levier ne le fixe).",
        }
    if role == "immutable":
        return {
            "en": "Protected attribute: never changed.",
            "fr": "Attribut protégé : jamais modifié.",
        }
    if role == "context":
        return {
            "en": "Not an action: it changes with the client's life, not with advice.",
            "fr": "Pas une action : il évolue avec la vie du client, pas avec un conseil.",
        }
    return {
        "en": "No other value is allowed (limits, direction or maximum change).",
        "fr": "Aucune autre valeur permise (limites, sens ou variation maximale).",
    }
