"""Global constraints as rows: rules, one-hot groups, change counting, no-good cuts.

A rule must hold when one of its features changed and its condition holds. With ``t`` a
feature's change indicator, ``g`` a binary forced to 1 whenever the condition holds (when
``g = 0`` every alternative of the condition has a false clause) and ``s_A`` a 0/1 indicator
per alternative A of the requirement (``s_A = 1`` forces A's clauses), each rule adds
``sum_A s_A >= t + g - 1`` per named feature. Clauses on features that cannot move are
evaluated once on the client and simplify the rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from constraints import CompiledClause, CompiledConstraints, CompiledRule, tolerance
from counterfactuals._exact_vars import FeatureVars
from counterfactuals._milp import Lin, MilpBuilder

__all__ = ["ClauseEncoder", "add_no_good", "add_one_hot", "unit_changes"]

Indicator = Lin | bool  # a 0/1 expression, or a constant truth value


def _sum(items: Iterable[Lin]) -> Lin:
    return Lin.total(items)


class ClauseEncoder:
    """Turn clauses into 0/1 indicators (1 forces the clause, or its negation)."""

    def __init__(self, b: MilpBuilder, features: list[FeatureVars]) -> None:
        self.b = b
        self.f = features

    # ------------------------------------------------------------------ clauses
    def indicator(self, clause: CompiledClause, positive: bool) -> Indicator:
        """Return a 0/1 expression whose value 1 forces the clause (or its negation)."""
        if clause.kind == "linear":
            return self._linear(clause, positive)
        fv = self.f[int(clause.idx[0])]
        if clause.kind == "member":
            lookup = clause.lookup
            if fv.kind != "coded":
                code = min(max(round(fv.c), 0), len(lookup) - 1)
                return bool(lookup[code]) == positive
            inside = [
                z for k, z in zip(fv.codes, fv.z, strict=True) if lookup[min(k, len(lookup) - 1)]
            ]
            if len(inside) in (0, len(fv.z)):
                return (len(inside) > 0) == positive
            expr = Lin(dict.fromkeys(inside, 1.0))
            return expr if positive else 1.0 - expr
        expr = {"changes": fv.change, "stays": fv.change, "increases": fv.inc}.get(
            clause.kind, fv.dec
        )
        truth_if_one = clause.kind != "stays"
        if expr.is_constant:  # the feature cannot change: changes/increases/decreases are false
            return (not truth_if_one) == positive
        return expr if truth_if_one == positive else 1.0 - expr

    def _linear(self, clause: CompiledClause, positive: bool) -> Indicator:
        bound, op = float(clause.bound), clause.op
        expr = _sum(
            self.f[int(j)].value * float(a) for j, a in zip(clause.idx, clause.coef, strict=True)
        )
        lo, hi = self.b.bounds_of(expr)
        tol = float(tolerance(bound))
        le_always, ge_always = hi <= bound + tol, lo >= bound - tol
        le_never, ge_never = lo > bound + tol, hi < bound - tol
        always = {"<=": le_always, ">=": ge_always}.get(op, le_always and ge_always)
        never = {"<=": le_never, ">=": ge_never}.get(op, le_never or ge_never)
        if always or never:
            return always == positive
        if positive:
            continuous = any(self.b.integer[k] == 0 for k in expr.terms)
            tight = 1e-7 * (1.0 + abs(bound)) if continuous and op != "==" else 0.0
            v = self.b.add_binary()
            if op in ("<=", "=="):
                self.b.add_row(expr + Lin.var(v, hi - bound + tight), -math.inf, hi)
            if op in (">=", "=="):
                self.b.add_row(expr - Lin.var(v, bound + tight - lo), lo, math.inf)
            return Lin.var(v)
        eps = 1e-6 * (1.0 + abs(bound))
        parts: list[Lin] = []
        if op in ("<=", "=="):  # false when above the bound
            v = self.b.add_binary()
            self.b.add_row(expr - Lin.var(v, bound + eps - lo), lo, math.inf)
            parts.append(Lin.var(v))
        if op in (">=", "=="):  # false when below it
            v = self.b.add_binary()
            self.b.add_row(expr + Lin.var(v, hi - bound + eps), -math.inf, hi)
            parts.append(Lin.var(v))
        out = _sum(parts)
        if len(parts) > 1:
            self.b.add_row(out, -math.inf, 1.0)
        return out

    # ------------------------------------------------------------------ rules
    def _condition(self, alternatives: tuple[tuple[CompiledClause, ...], ...]) -> Indicator:
        """Return a binary forced to 1 whenever the condition holds (True: always holds)."""
        if not alternatives:
            return True
        g: int | None = None
        for alternative in alternatives:
            negations: list[Lin] = []
            dead = False
            for clause in alternative:
                ind = self.indicator(clause, positive=False)
                if ind is True:  # the clause is always false: so is the alternative
                    dead = True
                    break
                if isinstance(ind, Lin):
                    negations.append(ind)
            if dead:
                continue
            if not negations:
                return True
            g = self.b.add_binary() if g is None else g
            self.b.add_row(_sum(negations) + Lin.var(g), 1.0, math.inf)
        return False if g is None else Lin.var(g)

    def _requirement(
        self, alternatives: tuple[tuple[CompiledClause, ...], ...]
    ) -> list[Lin] | bool:
        """Return 0/1 indicators, one per alternative that may hold (True: always holds)."""
        if not alternatives:
            return True
        options: list[Lin] = []
        for alternative in alternatives:
            forced: list[Lin] = []
            dead = False
            for clause in alternative:
                ind = self.indicator(clause, positive=True)
                if ind is False:
                    dead = True
                    break
                if isinstance(ind, Lin):
                    forced.append(ind)
            if dead:
                continue
            if not forced:
                return True
            if len(forced) == 1:
                options.append(forced[0])
                continue
            s = self.b.add_binary()
            for ind in forced:
                self.b.add_row(Lin.var(s) - ind, -math.inf, 0.0)
            options.append(Lin.var(s))
        return options

    def add_rule(self, rule: CompiledRule) -> None:
        """Add one rule's rows (nothing when it can never apply)."""
        triggers = [self.f[int(j)].change for j in rule.idx]
        triggers = [t for t in triggers if not t.is_constant]
        if not triggers:
            return
        g = self._condition(rule.condition)
        if g is False:
            return
        options = self._requirement(rule.requirement)
        if options is True:
            return
        need = _sum(options) if isinstance(options, list) else Lin.constant(0.0)
        cond = g if isinstance(g, Lin) else Lin.constant(1.0)
        for t in triggers:
            self.b.add_row(need - t - cond, -1.0, math.inf)


def add_one_hot(b: MilpBuilder, cp: CompiledConstraints, features: list[FeatureVars]) -> None:
    """Binaries of a group sum to 1 when one of them changed."""
    for group in cp.groups:
        members = [features[int(j)] for j in group]
        changes = [fv.change for fv in members if not fv.change.is_constant]
        if not changes:
            continue
        total = _sum(fv.value for fv in members)
        if abs(sum(fv.c for fv in members) - 1.0) <= 1e-9:
            b.add_row(total, 1.0, 1.0)
            continue
        touched = b.add_binary()
        for ch in changes:
            b.add_row(Lin.var(touched) - ch, 0.0, math.inf)
        size = float(len(members))
        b.add_row(total + Lin.var(touched, size), -math.inf, 1.0 + size)
        b.add_row(total - Lin.var(touched, size), 1.0 - size, math.inf)


def unit_changes(b: MilpBuilder, cp: CompiledConstraints, features: list[FeatureVars]) -> list[Lin]:
    """One 0/1 expression per change unit (a feature, or a group counted once)."""
    units: list[Lin] = []
    unit_of = np.asarray(cp.unit_of)
    for u in range(cp.n_units):
        changes = [features[int(j)].change for j in np.flatnonzero(unit_of == u)]
        changes = [ch for ch in changes if not ch.is_constant]
        if len(changes) == 1:
            units.append(changes[0])
        elif changes:
            any_change = b.add_binary()
            for ch in changes:
                b.add_row(Lin.var(any_change) - ch, 0.0, math.inf)
            b.add_row(Lin.var(any_change) - _sum(changes), -math.inf, 0.0)
            units.append(Lin.var(any_change))
    return units


def add_no_good(
    b: MilpBuilder, features: list[FeatureVars], changed: frozenset[int], *, supersets: bool
) -> None:
    """Diversity cut: forbid the set of changed features ``changed`` from now on.

    With ``supersets``, forbid its supersets too (they only add changes to a lever already
    found): at least one feature of ``changed`` stays unchanged.
    """
    if supersets:
        parts = [1.0 - features[j].change for j in sorted(changed)]
    else:
        parts = [
            (1.0 - fv.change) if fv.j in changed else fv.change for fv in features if fv.movable
        ]
    if parts:
        b.add_row(Lin.total(parts), 1.0, math.inf)
