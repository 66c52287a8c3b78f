"""Every line ``levers campaign run`` and ``show`` print, in English and French.

The same mechanism as the advisor's wording (:mod:`advisor.levers`): one text per language
(``{"en": ..., "fr": ...}``), the language checked by :func:`advisor.levers.check_language`.
Placeholders (``{n}``) take values already formatted for the language (:func:`number`,
:func:`share`); values from the data (segment, column names, labels) go in as they are.
"""

from __future__ import annotations

import math

from advisor.levers import Language, check_language, percent_text

__all__ = ["WORDS", "count", "french_number", "number", "say", "share"]

WORDS: dict[str, dict[str, str]] = {
    # progress and spinners
    "loading": {
        "en": "Loading the bundle and the clients...",
        "fr": "Chargement du bundle et des clients...",
    },
    "searching": {"en": "Searching levers", "fr": "Recherche des leviers"},
    "rate": {"en": "{rate} clients/s, ETA {left}", "fr": "{rate} clients/s, reste {left}"},
    "status_actions": {
        "en": "Global actions, verified client by client...",
        "fr": "Actions globales, vérifiées client par client...",
    },
    "status_fairness": {"en": "Fairness of recourse...", "fr": "Équité des recours..."},
    "status_truth": {
        "en": "True effect through the demo's causal model...",
        "fr": "Effet réel selon le modèle causal de la démo...",
    },
    "warning": {"en": "warning: ", "fr": "avertissement : "},
    "flag": {"en": "flag: ", "fr": "alerte : "},
    "wrote": {
        "en": "Wrote {parquet}, {csv} and {json} ({n} clients).",
        "fr": "Écrit : {parquet}, {csv} et {json} ({n} clients).",
    },
    "interrupted": {"en": "interrupted; nothing written", "fr": "interrompu ; rien n'est écrit"},
    "interrupted_kept": {
        "en": "interrupted; {n} finished partition{s} kept in {where}: run the same command "
        "with --resume to finish",
        "fr": "interrompu ; {n} partition{s} terminée{s} conservée{s} dans {where} : relancez "
        "la même commande avec --resume pour terminer",
    },
    # where it runs
    "local_cluster": {
        "en": "local Dask cluster, {n} worker{s}",
        "fr": "cluster Dask local, {n} processus de calcul",
    },
    "scheduler": {"en": "Dask scheduler {address}", "fr": "ordonnanceur Dask {address}"},
    "in_process": {"en": "in-process", "fr": "dans le processus"},
    # the summary table
    "summary": {"en": "Campaign summary", "fr": "Résumé de la campagne"},
    "figure": {"en": "figure", "fr": "indicateur"},
    "value": {"en": "value", "fr": "valeur"},
    "product": {"en": "product", "fr": "produit"},
    "segment": {"en": "segment", "fr": "segment"},
    "all_clients": {"en": "all clients", "fr": "tous les clients"},
    "first_clients": {"en": " (first {n} clients)", "fr": " ({n} premiers clients)"},
    "n_segment": {"en": "clients in the segment", "fr": "clients du segment"},
    "n_excluded": {"en": "excluded (never targeted)", "fr": "exclus (jamais ciblés)"},
    "column": {"en": " (column {name})", "fr": " (colonne {name})"},
    "n_reached": {"en": "already reached", "fr": "objectif déjà atteint"},
    "n_searched": {"en": "searched", "fr": "cherchés"},
    "n_advised": {"en": "advised (with a lever)", "fr": "conseillés (avec un levier)"},
    "coverage_row": {
        "en": "coverage (advised / searched)",
        "fr": "couverture (conseillés / cherchés)",
    },
    "no_lever_row": {
        "en": "no lever: proved / not found",
        "fr": "sans levier : prouvé / non trouvé",
    },
    "extra_sales_row": {"en": "expected extra sales", "fr": "ventes supplémentaires attendues"},
    "value_row": {"en": "expected value", "fr": "valeur attendue"},
    "no_value": {"en": "n/a (no value per sale)", "fr": "n/d (pas de valeur par vente)"},
    "cost_row": {
        "en": "lever cost: 25 % / median / 75 %",
        "fr": "coût des leviers : 25 % / médiane / 75 %",
    },
    "no_lever": {"en": "no lever", "fr": "aucun levier"},
    "goal_row": {"en": "goal (score to reach)", "fr": "objectif (score à atteindre)"},
    "time_row": {"en": "time", "fr": "durée"},
    "time": {"en": "{s} s ({rate} clients/s)", "fr": "{s} s ({rate} clients/s)"},
    "engines_row": {"en": "engines used", "fr": "moteurs utilisés"},
    "no_engine": {"en": "none (nobody searched)", "fr": "aucun (aucun client cherché)"},
    "engine_row": {"en": "engine asked, seed", "fr": "moteur demandé, graine"},
    "ran_on_row": {"en": "ran on", "fr": "lieu d'exécution"},
    "written_row": {"en": "written at (UTC)", "fr": "écrite le (UTC)"},
    "unknown": {"en": "unknown", "fr": "inconnu"},
    # global actions
    "actions_title": {
        "en": "Global actions: {n} cover {covered} of the {with_lever} clients with a lever "
        "({candidates} candidates verified client by client; selected by {method}).",
        "fr": "Actions globales : {n} couvrent {covered} des {with_lever} clients ayant un "
        "levier ({candidates} candidates vérifiées client par client ; choisies par {method}).",
    },
    "action_figures": {
        "en": "  [{clients}, {share}; mean cost {cost}, {ratio}x their own cheapest; "
        "+{sales} expected sales]",
        "fr": "  [{clients}, {share} ; coût moyen {cost}, {ratio} fois leur levier le moins "
        "cher ; +{sales} ventes attendues]",
    },
    "one_client": {"en": "{n} client", "fr": "{n} client"},
    "clients": {"en": "{n} clients", "fr": "{n} clients"},
    "no_action": {
        "en": "No global action (no client has a lever).",
        "fr": "Aucune action globale (aucun client n'a de levier).",
    },
    "curve": {
        "en": "Coverage-cost curve (best k actions)",
        "fr": "Courbe couverture-coût (les k meilleures actions)",
    },
    "covered": {"en": "covered", "fr": "couverts"},
    "coverage": {"en": "coverage", "fr": "couverture"},
    "mean_cost": {"en": "mean cost", "fr": "coût moyen"},
    "cost_ratio": {"en": "cost ratio", "fr": "ratio de coût"},
    "extra_sales": {"en": "extra sales", "fr": "ventes en plus"},
    # fairness
    "fairness": {
        "en": "Fairness of recourse (tolerance {tolerance})",
        "fr": "Équité des recours (tolérance {tolerance})",
    },
    "attribute": {"en": "attribute", "fr": "attribut"},
    "group": {"en": "group", "fr": "groupe"},
    "searched": {"en": "searched", "fr": "cherchés"},
    "advised": {"en": "advised", "fr": "conseillés"},
    "median_cost": {"en": "median cost", "fr": "coût médian"},
    "flag_column": {"en": "flag", "fr": "alerte"},
    "flagged": {"en": "flagged", "fr": "signalé"},
    # true effect
    "truth": {
        "en": "True effect (demo SCM, seed {seed})",
        "fr": "Effet réel (SCM de la démo, graine {seed})",
    },
    "applied": {"en": "applied", "fr": "appliqué"},
    "truth_clients": {"en": "clients", "fr": "clients"},
    "expected_sales": {"en": "expected extra sales", "fr": "ventes attendues"},
    "true_sales": {"en": "true extra sales", "fr": "ventes réelles"},
    "true_ratio": {"en": "true / expected", "fr": "réel / attendu"},
    "cheapest_levers": {
        "en": "each client's cheapest lever",
        "fr": "le levier le moins cher de chaque client",
    },
    "global_actions": {"en": "the global actions", "fr": "les actions globales"},
}
"""The campaign's texts: one ``{"en": ..., "fr": ...}`` per key."""


def say(key: str, language: str, /, **values: object) -> str:
    """Return the text ``key`` in ``language`` with its placeholders filled in."""
    return WORDS[key][check_language(language)].format(**values)


def french_number(text: str) -> str:
    """Turn a number written the English way into the French way: ``1,234.5`` -> ``1 234,5``.

    The thousands separator becomes a narrow no-break space, as in the constraint file's
    French formats and :func:`advisor.levers.percent_text`.

    Examples
    --------
    >>> french_number("1,234.50") == "1\u202f234,50"
    True
    """
    return text.replace(",", "\u202f").replace(".", ",")


def _localized(text: str, language: Language) -> str:
    return french_number(text) if language == "fr" else text


def count(n: int, language: str) -> str:
    """Say a count with thousands separators (``1,234`` / ``1 234``)."""
    return _localized(f"{n:,}", check_language(language))


def number(value: float | str | None, language: str, digits: int = 2) -> str:
    """Say a figure read back from JSON (``None`` for NaN: empty, ``"inf"`` as it is)."""
    lang = check_language(language)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return _localized(f"{value:,.{digits}f}", lang)
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def share(value: float | str | None, language: str) -> str:
    """Say a share as a percentage (``12.5%``; French ``12,5 %`` as ``advise --lang fr``)."""
    lang = check_language(language)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return percent_text(value, "fr") if lang == "fr" else f"{value:.1%}"
    return number(value, lang)
