"""The fairness report's types and its flag rule (pure functions of per-group figures)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import CampaignError
from advisor.levers import check_language, percent_text

__all__ = [
    "FAIRNESS_COLUMNS",
    "AttributeGap",
    "FairnessReport",
    "GroupStats",
    "attribute_gap",
    "fairness_notes",
    "flag_groups",
]

FAIRNESS_COLUMNS = (
    "attribute",
    "group",
    "n_segment",
    "n_searched",
    "n_advised",
    "coverage",
    "mean_cost",
    "median_cost",
    "mean_uplift",
    "flagged",
)
"""The columns of :meth:`FairnessReport.to_frame`, in order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupStats:
    """One group of one attribute: counts, coverage, cost and uplift of the cheapest levers.

    ``coverage`` is advised / searched (``None`` when no client was searched); the cost and
    uplift figures are over the advised clients' cheapest levers (``None`` without any).
    """

    attribute: str
    group: str
    n_segment: int
    n_searched: int
    n_advised: int
    coverage: float | None
    mean_cost: float | None
    median_cost: float | None
    mean_uplift: float | None
    flagged: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeGap:
    """The gaps between the compared groups of one attribute.

    ``grouping`` says how groups were formed (``values``, ``age bands`` or ``quartiles``).
    Coverage is compared across groups with at least ``min_group_size`` searched clients
    (``n_compared_coverage``), cost across groups with at least ``min_group_size`` advised
    clients (``n_compared_cost``). ``coverage_gap`` is max - min coverage (points of share),
    ``coverage_ratio`` min / max coverage, ``cost_ratio`` max / min mean cost; each is
    ``None`` with fewer than two compared groups (``cost_ratio`` is ``inf`` when the cheapest
    group's mean cost is 0 and another's is not).
    """

    attribute: str
    grouping: str
    n_groups: int
    n_compared_coverage: int
    n_compared_cost: int
    coverage_gap: float | None
    coverage_ratio: float | None
    cost_ratio: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FairnessReport:
    """The fairness of recourse of a campaign (see :func:`fairness_report`).

    ``groups`` holds every group of every attribute (in the attributes' order, groups in the
    constraint file's category order or band order); ``gaps`` one entry per attribute;
    ``flags`` one English sentence per flagged comparison; ``notes`` what was compared and
    how (which attributes, which age feature, the minimum group size), in English;
    :meth:`flag_texts` and :meth:`note_texts` say them in English or French.
    ``attributes`` the attributes compared (age included only when named), as the notes
    name them; ``attributes_asked``: they were given (not the constraint file's protected
    ones).
    """

    product: str
    tolerance: float
    min_group_size: int
    age_feature: str | None
    age_bands: tuple[float, ...]
    groups: tuple[GroupStats, ...]
    gaps: Mapping[str, AttributeGap]
    flags: tuple[str, ...]
    notes: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    attributes_asked: bool = False

    def flag_texts(self, language: str = "en") -> tuple[str, ...]:
        """Return the flags in ``language``: ``en`` :attr:`flags`, ``fr`` said from the groups."""
        if check_language(language) == "en":
            return self.flags
        sentences: list[str] = []
        for attribute in dict.fromkeys(g.attribute for g in self.groups):
            stats = [g for g in self.groups if g.attribute == attribute]
            sentences += flag_groups(stats, self.tolerance, self.min_group_size, language)[1]
        return tuple(sentences)

    def note_texts(self, language: str = "en") -> tuple[str, ...]:
        """Return the notes in ``language``: ``en`` :attr:`notes`, ``fr`` said from the report."""
        if check_language(language) == "en":
            return self.notes
        return fairness_notes(
            self.attributes or tuple(self.gaps),
            self.attributes_asked,
            tolerance=self.tolerance,
            min_group_size=self.min_group_size,
            age_feature=self.age_feature,
            age_bands=self.age_bands,
            language=language,
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per group, columns :data:`FAIRNESS_COLUMNS` (missing figures are NaN)."""
        rows = [asdict(g) for g in self.groups]
        frame = pd.DataFrame(rows, columns=list(FAIRNESS_COLUMNS))
        for name in ("coverage", "mean_cost", "median_cost", "mean_uplift"):
            frame[name] = pd.to_numeric(frame[name]).astype(np.float64)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain data (JSON-serialisable; ``inf`` written as a string)."""
        return {
            "product": self.product,
            "tolerance": self.tolerance,
            "min_group_size": self.min_group_size,
            "age_feature": self.age_feature,
            "age_bands": list(self.age_bands),
            "groups": [asdict(g) for g in self.groups],
            "gaps": {name: _gap_dict(gap) for name, gap in self.gaps.items()},
            "flags": list(self.flags),
            "notes": list(self.notes),
            "attributes": list(self.attributes),
            "attributes_asked": self.attributes_asked,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FairnessReport:
        """Rebuild a report from :meth:`to_dict`; malformed data gets a CampaignError."""
        try:
            return cls(
                product=str(data["product"]),
                tolerance=float(data["tolerance"]),
                min_group_size=int(data["min_group_size"]),
                age_feature=data["age_feature"],
                age_bands=tuple(float(b) for b in data["age_bands"]),
                groups=tuple(GroupStats(**g) for g in data["groups"]),
                gaps={
                    name: AttributeGap(**(gap | {"cost_ratio": _unjson(gap["cost_ratio"])}))
                    for name, gap in data["gaps"].items()
                },
                flags=tuple(str(f) for f in data["flags"]),
                notes=tuple(str(n) for n in data.get("notes", ())),
                attributes=tuple(str(a) for a in data.get("attributes", ())),
                attributes_asked=bool(data.get("attributes_asked", False)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CampaignError(
                f"fairness report: must be the data of FairnessReport.to_dict(). Got an error: "
                f"{exc!r}."
            ) from exc


def _gap_dict(gap: AttributeGap) -> dict[str, Any]:
    data = asdict(gap)
    if data["cost_ratio"] is not None and math.isinf(data["cost_ratio"]):
        data["cost_ratio"] = "inf"
    return data


def _unjson(value: Any) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- the flag rule
def _say(value: float, digits: int, language: str) -> str:
    """Say a figure with ``digits`` decimals, the French way (``1,50``) in French."""
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u202f").replace(".", ",") if language == "fr" else text


def _g(value: float) -> str:
    """Say a parameter in French as ``:g`` says it in English (``0,25``)."""
    return f"{value:g}".replace(".", ",")


def _share(value: float, digits: int, language: str) -> str:
    if language == "fr":
        return percent_text(value, "fr") if digits else f"{round(100 * value)}\u202f%"
    return f"{value:.{digits}%}"


def _cost_sentence(s: GroupStats, low: GroupStats, tolerance: float, language: str) -> str:
    cost, low_cost, limit = s.mean_cost or 0.0, low.mean_cost or 0.0, 1.0 + tolerance
    if language == "fr":
        ratio = "infiniment plus que" if low_cost == 0 else f"{_say(cost / low_cost, 2, 'fr')} fois"
        return (
            f"{s.attribute} : le groupe « {s.group} » supporte un coût moyen de levier de "
            f"{_say(cost, 2, 'fr')}, {ratio} celui du groupe « {low.group} » "
            f"({_say(low_cost, 2, 'fr')}) ; au-delà de la tolérance de {_say(limit, 2, 'fr')} "
            f"fois (ratio de coût > 1 + tolérance {_g(tolerance)})."
        )
    ratio = "infinitely many times" if low_cost == 0 else f"{cost / low_cost:.2f}x"
    return (
        f"{s.attribute}: group '{s.group}' bears a mean lever cost of {cost:.2f}, "
        f"{ratio} that of group '{low.group}' ({low_cost:.2f}); above the "
        f"tolerance of {limit:.2f}x (cost ratio > 1 + tolerance {tolerance:g})."
    )


def _coverage_sentence(s: GroupStats, high: GroupStats, tolerance: float, language: str) -> str:
    share, best, limit = s.coverage or 0.0, high.coverage or 0.0, 1.0 + tolerance
    if language == "fr":
        return (
            f"{s.attribute} : le groupe « {s.group} » a une couverture de "
            f"{_share(share, 1, 'fr')}, sous {_share(1 / limit, 0, 'fr')} de celle du groupe "
            f"« {high.group} » ({_share(best, 1, 'fr')} ; ratio de couverture "
            f"{_say(share / best, 2, 'fr')} < 1 / (1 + tolérance {_g(tolerance)}))."
        )
    return (
        f"{s.attribute}: group '{s.group}' has a coverage of {share:.1%}, below "
        f"{1 / limit:.0%} of group '{high.group}' ({best:.1%}; coverage ratio "
        f"{share / best:.2f} < 1 / (1 + tolerance {tolerance:g}))."
    )


def flag_groups(
    stats: Sequence[GroupStats], tolerance: float, min_group_size: int, language: str = "en"
) -> tuple[frozenset[str], tuple[str, ...]]:
    """Return the flagged groups of one attribute and one sentence per flagged comparison.

    A group is flagged when, among groups large enough to compare, its mean cost is above
    ``1 + tolerance`` times the cheapest group's (both with ``min_group_size`` advised
    clients or more), or its coverage is below ``1 / (1 + tolerance)`` of the best covered
    group's (both with ``min_group_size`` searched clients or more). The sentences are in
    ``language`` (``en`` or ``fr``).
    """
    language = check_language(language)
    limit = 1.0 + tolerance
    flagged: set[str] = set()
    sentences: list[str] = []
    costed = [s for s in stats if s.n_advised >= min_group_size and s.mean_cost is not None]
    if len(costed) >= 2:
        low = min(costed, key=lambda s: s.mean_cost or 0.0)
        for s in costed:
            if (s.mean_cost or 0.0) > limit * (low.mean_cost or 0.0):
                flagged.add(s.group)
                sentences.append(_cost_sentence(s, low, tolerance, language))
    covered = [s for s in stats if s.n_searched >= min_group_size and s.coverage is not None]
    if len(covered) >= 2:
        high = max(covered, key=lambda s: s.coverage or 0.0)
        for s in covered:
            if (high.coverage or 0.0) > limit * (s.coverage or 0.0):
                flagged.add(s.group)
                sentences.append(_coverage_sentence(s, high, tolerance, language))
    return frozenset(flagged), tuple(sentences)


def fairness_notes(
    attributes: Sequence[str],
    asked: bool,
    *,
    tolerance: float,
    min_group_size: int,
    age_feature: str | None,
    age_bands: Sequence[float],
    language: str = "en",
) -> tuple[str, ...]:
    """Say what a fairness report compared and how, in ``language`` (``en`` or ``fr``)."""
    fr = check_language(language) == "fr"
    size, edges = min_group_size, ", ".join(f"{b:g}" for b in age_bands)
    which = ", ".join(attributes) if attributes else ("aucun" if fr else "none")
    if fr:
        notes = [
            f"Attributs demandés : {which}."
            if asked
            else f"Attributs protégés du fichier de contraintes : {which}.",
            "Pas de tranches d'âge (aucune variable numérique nommée « age » ; passez age_feature)."
            if age_feature is None
            else f"Tranches d'âge de la variable « {age_feature} », bornes "
            f"{' ; '.join(_g(b) for b in age_bands)} (borne "
            "inférieure incluse).",
            f"Les groupes de moins de {size} clients cherchés ne sont pas comparés sur la "
            f"couverture, ceux de moins de {size} clients conseillés pas sur le coût : ils sont "
            "rapportés, jamais signalés. Les autres attributs protégés numériques sont coupés à "
            "leurs quartiles.",
            f"Un groupe est signalé quand son coût moyen dépasse {_say(1 + tolerance, 2, 'fr')} "
            f"fois celui d'un autre groupe, ou sa couverture est sous "
            f"{_share(1 / (1 + tolerance), 0, 'fr')} de celle d'un autre groupe (tolérance "
            f"{_g(tolerance)}).",
        ]
        return tuple(notes)
    notes = [
        f"Attributes asked for: {which}."
        if asked
        else f"Protected attributes of the constraint file: {which}.",
        "No age bands (no numeric feature named 'age'; pass age_feature)."
        if age_feature is None
        else f"Age bands from the feature '{age_feature}', edges {edges} (lower edge included).",
        f"Groups with fewer than {size} searched clients are not compared on coverage, with "
        f"fewer than {size} advised clients not compared on cost: they are reported, never "
        "flagged. Other numeric protected attributes are split at their quartiles.",
        f"A group is flagged when its mean cost is above {1 + tolerance:.2f}x another group's, "
        f"or its coverage below {1 / (1 + tolerance):.0%} of another group's (tolerance "
        f"{tolerance:g}).",
    ]
    return tuple(notes)


def attribute_gap(
    attribute: str, grouping: str, stats: Sequence[GroupStats], min_group_size: int
) -> AttributeGap:
    """Return the gaps between the groups of one attribute large enough to compare."""
    covered = [s.coverage for s in stats if s.n_searched >= min_group_size]
    shares = [c for c in covered if c is not None]
    costs = [
        s.mean_cost for s in stats if s.n_advised >= min_group_size and s.mean_cost is not None
    ]
    cost_ratio = None
    if len(costs) >= 2:
        cost_ratio = (
            max(costs) / min(costs) if min(costs) > 0 else (1.0 if max(costs) == 0 else math.inf)
        )
    return AttributeGap(
        attribute=attribute,
        grouping=grouping,
        n_groups=len(stats),
        n_compared_coverage=len(shares),
        n_compared_cost=len(costs),
        coverage_gap=max(shares) - min(shares) if len(shares) >= 2 else None,
        coverage_ratio=(
            (min(shares) / max(shares) if max(shares) > 0 else 1.0) if len(shares) >= 2 else None
        ),
        cost_ratio=cost_ratio,
    )
