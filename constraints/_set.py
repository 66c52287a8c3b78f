"""ConstraintSet: the compiled, vectorised constraints every engine uses."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from constraints._bind import FeatureSupport
from constraints._bounds import ClientBounds, client_bounds
from constraints._check import CheckResult, changed_mask, check_arrays
from constraints._compile import compile_arrays
from constraints._compiled import CompiledConstraints, FloatArray
from constraints._encode import decode_frame, encode_pair, encode_values
from constraints._messages import MessageContext, format_value
from constraints._project import Projection, project_arrays
from constraints._sample import sample_arrays
from constraints._tolerance import difference
from constraints._types import (
    ChangeGroup,
    DerivedFeature,
    FeatureSpec,
    OneHotGroup,
    ProductRule,
    Rule,
)
from constraints.errors import ConstraintError, FileProblem

__all__ = ["GOALS", "ConstraintSet"]

GOALS = ("raise", "lower")
"""Goal directions: ``raise`` a propensity, ``lower`` a risk score."""


def _describe_range(spec: FeatureSpec) -> str:
    if spec.kind == "binary":
        return ", ".join(map(str, spec.categories)) if spec.categories else "no, yes"
    if spec.kind in ("categorical", "ordinal"):
        low = 0 if not math.isfinite(spec.lower) else int(spec.lower)
        high = len(spec.categories) - 1 if not math.isfinite(spec.upper) else int(spec.upper)
        shown = [str(c) for c in spec.categories[low : high + 1]]
        return (" < " if spec.kind == "ordinal" else " | ").join(shown)
    lo, hi = math.isfinite(spec.lower), math.isfinite(spec.upper)
    if lo and hi:
        return f"{format_value(spec, spec.lower)} to {format_value(spec, spec.upper)}"
    if lo:
        return f">= {format_value(spec, spec.lower)}"
    if hi:
        return f"<= {format_value(spec, spec.upper)}"
    return "any"


_VERBS = {"en": ("increase", "reduce"), "fr": ("augmenter", "réduire")}
"""Default lever verbs for a numeric change (up, down) per language."""


def _before_text(spec: FeatureSpec, before: Any, code: float, language: str) -> str:
    """Say the value before a change; an imputed one reads ``unknown (2,400 assumed)``."""
    text = format_value(spec, code, unit=False, language=language)
    if spec.missing == "impute" and pd.api.types.is_scalar(before) and pd.isna(before):
        return f"inconnu ({text} supposé)" if language == "fr" else f"unknown ({text} assumed)"
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstraintSet:
    """Features and rules, compiled to numpy, in one fixed feature order.

    Build one with :func:`constraints.load_constraints` (from a YAML file, optionally bound
    to data). Methods take a ``client`` (one row) and ``candidates`` (rows): DataFrames or
    Series in business values, or float arrays in :attr:`feature_names` order where
    categories are codes (see :meth:`to_array`).
    """

    name: str
    features: tuple[FeatureSpec, ...]
    rules: tuple[Rule, ...] = ()
    derived: tuple[DerivedFeature, ...] = ()
    one_hot: tuple[OneHotGroup, ...] = ()
    change_groups: tuple[ChangeGroup, ...] = ()
    max_changes: int | None = None
    goal: Literal["raise", "lower"] = "raise"
    id_column: str | None = None
    product_rules: tuple[ProductRule, ...] = ()
    allowed_context: frozenset[str] = frozenset()
    support: tuple[FeatureSupport | None, ...] = ()
    notes: tuple[FileProblem, ...] = ()
    _compiled: CompiledConstraints = field(init=False, repr=False, compare=False)
    _context: MessageContext = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [f.name for f in self.features]
        if not names:
            raise ConstraintError(
                "ConstraintSet.features: must hold at least one feature. Got none."
            )
        if len(set(names)) != len(names):
            raise ConstraintError(f"ConstraintSet.features: names must be unique. Got {names}.")
        if self.support and len(self.support) != len(names):
            raise ConstraintError("ConstraintSet.support: must hold one entry per feature.")
        unknown = sorted(self.allowed_context - set(names))
        if unknown:
            raise ConstraintError(f"allowed_context: must name features. Got {unknown}.")
        if self.max_changes is not None and self.max_changes < 1:
            raise ConstraintError(f"max_changes: must be >= 1. Got {self.max_changes}.")
        if self.goal not in GOALS:
            raise ConstraintError(f"goal: must be raise or lower. Got {self.goal!r}.")
        if self.id_column is not None and (
            not isinstance(self.id_column, str) or not self.id_column.strip()
        ):
            raise ConstraintError(
                f"id_column: must be a column name or None. Got {self.id_column!r}."
            )
        if self.id_column in names:
            raise ConstraintError(
                f"id_column: must not be a feature. Got {self.id_column!r}, a feature. Hint: "
                "client ids identify clients; remove the id column from the features."
            )
        self._check_product_rules(names)
        compiled = compile_arrays(
            self.features,
            self.rules,
            self.derived,
            self.one_hot,
            self.max_changes,
            self.allowed_context,
            self.change_groups,
        )
        context = MessageContext(
            features=self.features,
            rules=self.rules,
            derived=self.derived,
            groups=self.one_hot,
            max_changes=self.max_changes,
            change_groups=self.change_groups,
        )
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(self, "_context", context)

    def _check_product_rules(self, names: list[str]) -> None:
        products = [r.product for r in self.product_rules if isinstance(r, ProductRule)]
        if len(products) != len(self.product_rules):
            raise ConstraintError("ConstraintSet.product_rules: must hold ProductRule entries.")
        if len(set(products)) != len(products):
            raise ConstraintError(
                f"ConstraintSet.product_rules: one rule per product. Got {products}."
            )
        for rule in self.product_rules:
            unknown = [n for n in rule.not_levers if n not in names]
            if unknown:
                raise ConstraintError(
                    f"products.{rule.product}.not_levers: must name features. Got {unknown}."
                )

    # ----------------------------------------------------------------- description
    @property
    def feature_names(self) -> tuple[str, ...]:
        """Feature names, in the order of every array."""
        return tuple(f.name for f in self.features)

    @property
    def n_features(self) -> int:
        """Number of features."""
        return len(self.features)

    @property
    def compiled(self) -> CompiledConstraints:
        """The set compiled to read-only arrays, in :attr:`feature_names` order (for engines).

        Examples
        --------
        >>> from constraints import parse_constraints
        >>> cs = parse_constraints('''
        ... name: tiny
        ... features:
        ...   age: {kind: integer, role: immutable}
        ...   transfer: {kind: continuous, role: actionable, direction: increase, step: 50}
        ... ''')
        >>> cs.compiled.mutable.tolist(), cs.compiled.direction.tolist(), cs.compiled.n_units
        ([False, True], [0.0, 1.0], 2)
        """
        return self._compiled

    @property
    def scales(self) -> FloatArray:
        """Median absolute deviation of each feature (1 for categories), for distances."""
        return self._compiled.scale.copy()

    @property
    def mutable(self) -> np.ndarray:
        """Whether a lever may set each feature (actionable, or context allowed in this run)."""
        return self._compiled.mutable.copy()

    def feature(self, name: str) -> FeatureSpec:
        """Return the feature called ``name``."""
        for spec in self.features:
            if spec.name == name:
                return spec
        raise ConstraintError(
            f"feature: must be one of {', '.join(self.feature_names)}. Got {name!r}."
        )

    def lever_text(self, feature: str, before: Any, after: Any, language: str = "en") -> str:
        """Say a change in business words, with the file's lever template when it has one.

        ``before`` and ``after`` are business values (a category label, an amount).

        ``{change}`` is the amount of the change, always positive; ``lever_increase`` /
        ``lever_decrease`` templates, when the file has them, say a change up / down. Without
        a template a numeric change reads ``Label: increase from 100 to 1,250 EUR`` (``reduce``
        for a change down; French ``augmenter`` / ``réduire``).

        Examples
        --------
        >>> from constraints import parse_constraints
        >>> cs = parse_constraints('''
        ... name: tiny
        ... features:
        ...   transfer:
        ...     kind: continuous
        ...     role: actionable
        ...     unit: EUR
        ...     label: {en: Monthly savings, fr: Épargne mensuelle}
        ...     lever: {en: "Save {after} EUR a month (today {before} EUR)",
        ...             fr: "Épargner {after} EUR par mois (aujourd'hui {before} EUR)"}
        ...   plan: {kind: categorical, role: actionable, categories: [basic, plus]}
        ... ''')
        >>> cs.lever_text("transfer", 100, 1250.0, "fr")
        "Épargner 1\u202f250 EUR par mois (aujourd'hui 100 EUR)"
        >>> cs.lever_text("plan", "basic", "plus")
        'Plan: basic -> plus'
        """
        spec = self.feature(feature)
        old, new = encode_pair(spec, before, after)
        label = spec.label.get(language)
        numeric = spec.kind not in ("binary", "categorical", "ordinal")
        values = {
            "before": _before_text(spec, before, old, language),
            "after": format_value(spec, new, unit=False, language=language),
            "change": format_value(spec, abs(new - old), unit=False, language=language)
            if numeric
            else format_value(spec, new, unit=False, language=language),
            "label": label,
            "unit": spec.unit,
        }
        template = (
            spec.lever_increase
            if new > old and spec.lever_increase is not None
            else spec.lever_decrease
            if new < old and spec.lever_decrease is not None
            else spec.lever
        )
        if template is not None:
            return template.get(language).format(**values)
        unit = f" {spec.unit}" if spec.unit else ""
        if not numeric or not (new > old or new < old):
            return f"{label}: {values['before']} -> {values['after']}{unit}"
        verb = _VERBS[language][0 if new > old else 1]
        word = "de" if language == "fr" else "from"
        to = "à" if language == "fr" else "to"
        colon = " :" if language == "fr" else ":"
        return f"{label}{colon} {verb} {word} {values['before']} {to} {values['after']}{unit}"

    def format_value(self, feature: str, code: float, language: str = "en") -> str:
        """Say one value of ``feature`` as advisors read it: its category, or amount and unit.

        ``code`` is the numeric value (a category's position for categorical features);
        numbers follow ``language`` (``1,250`` / ``1\u202f250``).
        """
        return format_value(self.feature(feature), float(code), language=language)

    def allowing(self, *names: str) -> ConstraintSet:
        """Return a copy where the given context features may change in this run."""
        for name in names:
            if self.feature(name).role != "context":
                raise ConstraintError(
                    f"allowing: only context features can be allowed. Got {name!r}, which is "
                    f"{self.feature(name).role}."
                )
        return replace(self, allowed_context=self.allowed_context | frozenset(names))

    def freezing(self, *names: str) -> ConstraintSet:
        """Return a copy where the given features may not change in this run.

        Used when a feature is the goal rather than a lever (opening the very product the
        levers aim at). Immutable features stay immutable; others become frozen context.

        Examples
        --------
        >>> from constraints import parse_constraints
        >>> cs = parse_constraints('''
        ... name: tiny
        ... features:
        ...   savings: {kind: binary, role: actionable}
        ...   app: {kind: binary, role: actionable}
        ... ''')
        >>> cs.freezing("savings").mutable.tolist()
        [False, True]
        """
        for name in names:
            self.feature(name)  # raises on unknown names
        frozen = frozenset(names)
        features = tuple(
            replace(spec, role="context")
            if spec.name in frozen and spec.role != "immutable"
            else spec
            for spec in self.features
        )
        return replace(self, features=features, allowed_context=self.allowed_context - frozen)

    def not_levers_for(self, product: str) -> tuple[str, ...]:
        """Return the features the file says are not levers for ``product`` (often none).

        Examples
        --------
        >>> from constraints import parse_constraints
        >>> cs = parse_constraints('''
        ... name: tiny
        ... features:
        ...   card: {kind: binary, role: actionable}
        ...   app: {kind: binary, role: actionable}
        ... products:
        ...   securities: {not_levers: [card]}
        ... ''')
        >>> cs.not_levers_for("securities"), cs.not_levers_for("savings")
        (('card',), ())
        """
        if not isinstance(product, str):
            raise ConstraintError(f"product: must be a product name (text). Got {product!r}.")
        for rule in self.product_rules:
            if rule.product == product:
                return rule.not_levers
        return ()

    def for_product(self, product: str) -> ConstraintSet:
        """Return the set levers aiming at ``product`` use: its ``not_levers`` frozen.

        The file's ``products:`` section names features that are not levers for one
        product; they keep the client's value (as :meth:`freezing` does) in that product's
        searches. A product without rules gets this set unchanged. Checking ``product``
        against the products that exist is the caller's job (the advisor does it).

        Examples
        --------
        >>> from constraints import parse_constraints
        >>> cs = parse_constraints('''
        ... name: tiny
        ... features:
        ...   card: {kind: binary, role: actionable}
        ...   app: {kind: binary, role: actionable}
        ... products:
        ...   securities: {not_levers: [card]}
        ... ''')
        >>> cs.for_product("securities").mutable.tolist()
        [False, True]
        >>> cs.for_product("savings") is cs
        True
        """
        names = self.not_levers_for(product)
        return self.freezing(*names) if names else self

    def rederive(self, client: Any, candidates: Any) -> FloatArray:
        """Return the candidates with derived features recomputed from their sources' changes.

        Examples
        --------
        >>> from constraints import parse_constraints
        >>> cs = parse_constraints('''
        ... name: tiny
        ... features:
        ...   savings: {kind: binary, role: actionable}
        ...   card: {kind: binary, role: actionable}
        ...   n_products: {kind: integer, role: context}
        ... derived:
        ...   n_products: savings + card
        ... ''')
        >>> cs.rederive([0, 0, 3], [[1, 1, 3]]).tolist()
        [[1.0, 1.0, 5.0]]
        """
        x = self.to_array(candidates)
        return self._compiled.rederive(self._client(client, len(x)), x)

    def describe(self) -> pd.DataFrame:
        """One row per feature: kind, role, direction, range, step, max change, missing, label.

        ``missing`` is ``forbid``, ``keep`` or ``impute: <value>`` (the value a missing one
        is replaced by, in business words).
        """
        derived = {d.feature for d in self.derived}
        rows = []
        for spec in self.features:
            role = "derived" if spec.name in derived else spec.role
            rows.append(
                {
                    "feature": spec.name,
                    "kind": spec.kind,
                    "role": role + (" (protected)" if spec.protected else ""),
                    "direction": spec.direction,
                    "range": _describe_range(spec),
                    "step": format_value(spec, spec.step)
                    if spec.kind == "continuous" and spec.step
                    else "",
                    "max_change": format_value(spec, spec.max_change)
                    if math.isfinite(spec.max_change)
                    else (
                        f"{spec.max_change_percent:g}%"
                        if math.isfinite(spec.max_change_percent)
                        else ""
                    ),
                    "missing": spec.missing
                    if spec.missing != "impute"
                    else f"impute: {format_value(spec, spec.imputed)}",
                    "label": spec.label.en,
                }
            )
        return pd.DataFrame(rows)

    # ----------------------------------------------------------------- conversion
    def to_array(self, values: Any) -> FloatArray:
        """Return an (n, d) float array from a DataFrame, Series, dict or array.

        Categories become codes (their position in the file's list); binary features 0/1.

        Examples
        --------
        >>> from constraints import parse_constraints
        >>> cs = parse_constraints('''
        ... name: tiny
        ... features:
        ...   age: {kind: integer, role: immutable}
        ...   plan: {kind: categorical, role: actionable, categories: [basic, plus]}
        ... ''')
        >>> cs.to_array({"age": 40, "plan": "plus"})
        array([[40.,  1.]])
        """
        return encode_values(self.features, values)

    def to_frame(self, values: Any) -> pd.DataFrame:
        """Return business values (labels, amounts) for arrays in this set's order."""
        return decode_frame(self.features, self.to_array(values))

    def _client(self, client: Any, n: int | None = None) -> FloatArray:
        array = self.to_array(client)
        if len(array) != 1 and (n is None or len(array) != n):
            expected = "one row" if n is None else f"one row or {n} rows (one per candidate)"
            raise ConstraintError(f"client: must be {expected}. Got {len(array)} rows.")
        nan = np.isnan(array) & ~self._compiled.keeps_missing
        if nan.any():
            bad = [self.feature_names[j] for j in np.flatnonzero(nan.any(axis=0))]
            raise ConstraintError(
                f"client: values must not be missing. Got NaN in {bad}. Hint: write "
                "missing: keep (or missing: {impute: median}) for them in the constraint file."
            )
        return array

    # ----------------------------------------------------------------- the five operations
    def check(self, client: Any, candidates: Any) -> CheckResult:
        """Check candidates against every rule; ``result.ok`` marks feasible ones.

        Examples
        --------
        >>> from constraints import parse_constraints
        >>> cs = parse_constraints('''
        ... name: tiny
        ... features:
        ...   age: {kind: integer, role: immutable}
        ...   transfer: {kind: continuous, role: actionable, min: 0, max: 1000, step: 50}
        ... ''')
        >>> result = cs.check([40, 100], [[40, 250], [41, 1025]])
        >>> result.ok.tolist()
        [True, False]
        >>> [v.rule for v in result.violations(1)]
        ['immutable', 'max', 'step']
        """
        x = self.to_array(candidates)
        return check_arrays(self._compiled, self._context, self._client(client, len(x)), x)

    def bounds_for(self, client: Any) -> ClientBounds:
        """Feasible interval (numeric) or category set (coded) of each feature for one client."""
        return client_bounds(self._compiled, self.features, self._client(client))

    def project(self, client: Any, candidates: Any) -> Projection:
        """Move each candidate to a nearby feasible point (every row then passes ``check``).

        Frozen features are reset, values clipped and snapped to steps, the largest changes
        kept within ``max_changes``, derived features recomputed, and changes that break a
        rule undone. ``changed`` is False where nothing of the lever is left.
        """
        x = self.to_array(candidates)
        return project_arrays(self._compiled, self._context, self._client(client, len(x)), x)

    def sample(self, client: Any, n: int, seed: int | np.random.Generator = 0) -> FloatArray:
        """Draw up to ``n`` feasible candidates, each changing 1..max_changes features.

        Fewer rows (possibly none) come back only when the client has fewer feasible levers;
        :meth:`bounds_for` says why features cannot move.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ConstraintError(f"n: must be a whole number >= 0. Got {n!r}.")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        support = tuple((s.low, s.high) if s is not None else None for s in self.support) or (
            (None,) * self.n_features
        )
        return sample_arrays(
            self._compiled, self._context, self._client(client), int(n), rng, support
        )

    def feature_costs(self, client: Any, candidates: Any) -> FloatArray:
        """Cost of each feature's change, (n, d): per change + per unit + percentile shift."""
        x = self.to_array(candidates)
        c = self._client(client, len(x))
        cp = self._compiled
        delta, changed = changed_mask(c, x)
        size = np.fmax(np.abs(delta), 0.0)  # a missing side is no unit moved (fmax: NaN -> 0)
        costs = changed * cp.cost_per_change + size * cp.cost_per_unit
        for j in np.flatnonzero(cp.cost_percentile_shift > 0):
            support = self.support[j] if self.support else None
            if support is None:
                continue
            q = np.asarray(support.quantiles)
            grid = np.linspace(0.0, 1.0, len(q))
            shift = np.abs(difference(np.interp(c[:, j], q, grid), np.interp(x[:, j], q, grid)))
            costs[:, j] += cp.cost_percentile_shift[j] * shift
        costs[:, cp.derived_mask] = 0.0
        return costs

    def cost(self, client: Any, candidates: Any) -> FloatArray:
        """Total cost of each candidate's changes, (n,)."""
        total: FloatArray = self.feature_costs(client, candidates).sum(axis=1)
        return total
