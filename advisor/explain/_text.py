"""An explanation said in a short paragraph of business words (ELI5-style), in EN or FR.

"The score (62 %) is mostly driven by Age (45), Savings (0 €) and Mobile app (no). Age is
context: it describes the client's situation, not something to change. Of what can change,
Mobile app (no) matters most (it lowers the score)." plus, when the surrogate fits the model
poorly or its ranking did not settle, a plain-words warning.
"""

from __future__ import annotations

from advisor.errors import AdvisorError
from advisor.explain._types import Explanation, FeatureWeight
from advisor.levers import check_language

__all__ = ["explanation_text"]

_WORDS = {
    "en": {
        "driven": "The score ({score}) is mostly driven by {items}.",
        "nothing": "The score ({score}) is explained by no single feature.",
        "and": "and",
        "context_one": "{names} is context: it describes the client's situation, not "
        "something to change.",
        "context_many": "{names} are context: they describe the client's situation, not "
        "something to change.",
        "lever": "Of what can change, {item} matters most ({effect}).",
        "no_lever": "Nothing the client can change weighs on this score.",
        "raises": "it raises the score",
        "lowers": "it lowers the score",
        "none": "it does not move the score",
        "poor": "Careful: this explanation matches the model poorly around this client "
        "(fit {r2}); take it as a rough guide only.",
        "unstable": "The order of the features may change with another sample.",
    },
    "fr": {
        "driven": "Le score ({score}) s'explique surtout par {items}.",
        "nothing": "Le score ({score}) ne s'explique par aucune caractéristique en particulier.",
        "and": "et",
        "context_one": "{names} relève du contexte : cela décrit la situation du client, "
        "pas quelque chose à changer.",
        "context_many": "{names} relèvent du contexte : cela décrit la situation du client, "
        "pas quelque chose à changer.",
        "lever": "Parmi ce qui peut changer, {item} compte le plus ({effect}).",
        "no_lever": "Rien de ce que le client peut changer ne pèse sur ce score.",
        "raises": "cela augmente le score",
        "lowers": "cela baisse le score",
        "none": "cela ne change pas le score",
        "poor": "Attention : cette explication reproduit mal le modèle autour de ce client "
        "(ajustement {r2}) ; ne la lisez que comme une indication.",
        "unstable": "L'ordre des caractéristiques peut changer avec un autre échantillon.",
    },
}


def _join(items: list[str], word: str) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _item(entry: FeatureWeight, language: str) -> str:
    return f"{entry.label[language]} ({entry.shown[language]})"


def _percent(score: float, language: str) -> str:
    text = f"{score * 100:.0f}"
    return f"{text}\u202f%" if language == "fr" else f"{text} %"


def explanation_text(explanation: Explanation, language: str = "en", k: int = 3) -> str:
    """Return a short paragraph saying ``explanation`` in business words.

    Parameters
    ----------
    explanation
        Any method's :class:`Explanation`.
    language
        ``en`` or ``fr``.
    k
        How many features the first sentence names (the largest absolute weights).

    Returns
    -------
    str
        The drivers of the score with their values; which of them are context, named once;
        the feature a lever may move that weighs most and which way; a plain-words warning
        when the surrogate's fidelity is poor or its ranking did not settle.
    """
    if not isinstance(explanation, Explanation):
        raise AdvisorError(
            f"explanation: must be an Explanation (an explainer's explain(client)). Got "
            f"{type(explanation).__name__}."
        )
    lang = check_language(language)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise AdvisorError(f"k: must be a whole number >= 1. Got {k!r}.")
    words = _WORDS[lang]
    score = _percent(explanation.score, lang)
    top = [w for w in explanation.weights[:k] if w.weight != 0.0]
    if not top:
        sentences = [words["nothing"].format(score=score)]
    else:
        items = _join([_item(w, lang) for w in top], words["and"])
        sentences = [words["driven"].format(score=score, items=items)]
    context = [w.label[lang] for w in top if w.role == "context"]
    if context:
        key = "context_one" if len(context) == 1 else "context_many"
        sentences.append(words[key].format(names=_join(context, words["and"])))
    levers = [w for w in explanation.weights if w.role == "actionable" and w.weight != 0.0]
    if levers:
        sentences.append(
            words["lever"].format(item=_item(levers[0], lang), effect=words[levers[0].direction])
        )
    else:
        sentences.append(words["no_lever"])
    fidelity, stability = explanation.fidelity, explanation.stability
    if fidelity is not None and fidelity.poor:
        sentences.append(words["poor"].format(r2=_percent(max(fidelity.r2, 0.0), lang)))
    if stability is not None and not stability.converged:
        sentences.append(words["unstable"])
    return " ".join(sentences)
