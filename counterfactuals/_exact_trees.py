"""The model's margin as a mixed-integer expression: design columns, pruned trees, linear.

Trees follow OCEAN (Parmentier & Vidal, 2021): per numeric design column, one binary
``mu[e] = [x >= e]`` per distinct split edge (monotone in e); per tree, continuous leaf
variables summing to 1, with every leaf left of a split ``<= 1 - mu`` and every leaf right
of it ``<= mu``. Before that, each tree is pruned against the client's feasible box: a split
whose outcome the reachable values (and the path above it) decide is replaced by the branch
taken, so splits on frozen features vanish and a tree left with one leaf is a constant.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from counterfactuals._exact_domain import Domain, right_edges
from counterfactuals._exact_vars import FeatureVars
from counterfactuals._milp import Lin, MilpBuilder
from counterfactuals._model import LinearFunction, TreeEnsemble
from counterfactuals._space import FeatureSpace
from counterfactuals.errors import CounterfactualError

__all__ = ["Column", "TreeStats", "design_columns", "linear_margin", "tree_margin"]

Reduced: TypeAlias = "float | tuple[int, float, Reduced, Reduced]"


@dataclass(slots=True, kw_only=True)
class Column:
    """One design column: what values it can take, its value, and split indicators."""

    domain: Domain
    value: Lin
    feature: FeatureVars
    category: int = -1  # one-hot column of a categorical feature: its code

    @property
    def missing(self) -> bool:
        """The column's feature is missing for the client (a fixed placeholder)."""
        return self.feature.missing

    def indicator(self, b: MilpBuilder, edge: float) -> Lin:
        """0/1 expression of ``[value >= edge]`` (the split is known to be undecided)."""
        fv = self.feature
        if self.category >= 0:  # one-hot: 1 iff the code is chosen; here 0 < edge <= 1
            return self.value
        if fv.kind == "coded":
            return Lin({z: 1.0 for k, z in zip(fv.codes, fv.z, strict=True) if k >= edge})
        e = self.domain.first_at_least(edge)
        mu = fv.edges.get(e)
        if mu is None:
            p = self.domain.last_below(e)
            low, high = self.domain.low, self.domain.high
            mu = b.add_binary()
            b.add_row(self.value - Lin.var(mu, e - low), low, math.inf)
            b.add_row(self.value - Lin.var(mu, high - p), -math.inf, p)
            # unchanged means the client's side, without big-M slack (tolerances cannot
            # move a value that stays across an edge next to it)
            if e <= fv.c:
                b.add_row(Lin.var(mu) + fv.dec, 1.0, math.inf)
            else:
                b.add_row(Lin.var(mu) - fv.inc, -math.inf, 0.0)
            fv.edges[e] = mu
        return Lin.var(mu)


def design_columns(space: FeatureSpace, features: list[FeatureVars]) -> list[Column]:
    """Return the design matrix's columns (categorical features one-hot) over the features."""
    out: list[Column] = []
    for j, name in enumerate(space.names):
        fv = features[j]
        cols = space.design_columns(name)
        if space.kinds[j] != "categorical":
            out.append(Column(domain=fv.domain, value=fv.value, feature=fv))
            continue
        for k in range(cols.stop - cols.start):
            if fv.kind == "coded" and k in fv.codes:
                z = fv.z[fv.codes.index(k)]
                out.append(
                    Column(
                        domain=Domain(points=(0.0, 1.0)), value=Lin.var(z), feature=fv, category=k
                    )
                )
            else:
                on = float(round(fv.c) == k)
                out.append(
                    Column(
                        domain=Domain(points=(on,)), value=Lin.constant(on), feature=fv, category=k
                    )
                )
    return out


def add_monotone_rows(b: MilpBuilder, features: list[FeatureVars]) -> None:
    """``mu[e2] <= mu[e1]`` for consecutive edges e1 < e2 of each numeric feature."""
    for fv in features:
        edges = sorted(fv.edges)
        for e1, e2 in itertools.pairwise(edges):
            b.add_row(Lin({fv.edges[e2]: 1.0, fv.edges[e1]: -1.0}), -math.inf, 0.0)


@dataclass(slots=True, kw_only=True)
class TreeStats:
    """Size of the tree part of the model, and bounds of the margin over the feasible box."""

    n_trees: int = 0
    n_live_trees: int = 0
    n_splits: int = 0
    n_leaves: int = 0
    lowest: float = 0.0
    highest: float = 0.0


class _Pruner:
    """Reduce each tree to the splits the feasible values leave open."""

    def __init__(self, ensemble: TreeEnsemble, columns: list[Column]) -> None:
        self.missing = [c.missing for c in columns]
        default = ensemble.missing_left
        if any(self.missing) and default is None:
            raise CounterfactualError(
                "exact engine: the trees must say where a missing value goes. Got a model "
                "without default directions. Hint: use the search engine."
            )
        self.missing_left = [] if default is None else default.tolist()
        self.feature = ensemble.feature.tolist()
        self.left = ensemble.left.tolist()
        self.right = ensemble.right.tolist()
        self.value = ensemble.value.tolist()
        self.edge = right_edges(ensemble).tolist()
        self.domains = [c.domain for c in columns]

    def reduce(self, node: int, path: dict[int, tuple[float, float]]) -> Reduced:
        """Return the subtree of ``node`` given the values the path above allows."""
        f = self.feature[node]
        if f < 0:
            return float(self.value[node])
        if self.missing[f]:  # the client's value is missing: the learnt default direction
            return self.reduce(
                self.left[node] if self.missing_left[node] else self.right[node], path
            )
        a, z = path.get(f, (-math.inf, math.inf))
        e, dom = self.edge[node], self.domains[f]
        can_right = dom.has_value(max(a, e), z)
        can_left = dom.has_value(a, min(z, e))
        if not (can_left and can_right):
            return self.reduce(self.right[node] if can_right else self.left[node], path)
        left = self.reduce(self.left[node], {**path, f: (a, min(z, e))})
        right = self.reduce(self.right[node], {**path, f: (max(a, e), z)})
        if left == right:
            return left
        return (f, e, left, right)


def _extremes(tree: Reduced) -> tuple[float, float, int]:
    """Return the smallest and largest leaf values, and the number of splits."""
    if isinstance(tree, float):
        return tree, tree, 0
    lo1, hi1, n1 = _extremes(tree[2])
    lo2, hi2, n2 = _extremes(tree[3])
    return min(lo1, lo2), max(hi1, hi2), n1 + n2 + 1


def _emit(
    b: MilpBuilder, tree: Reduced, columns: list[Column], terms: list[Lin], stats: TreeStats
) -> list[int]:
    """Add leaf variables and flow rows for a reduced tree; return its leaf variables."""
    if isinstance(tree, float):
        y = b.add_var(0.0, 1.0)
        terms.append(Lin.var(y, tree))
        stats.n_leaves += 1
        return [y]
    f, e, left, right = tree
    ys_left = _emit(b, left, columns, terms, stats)
    ys_right = _emit(b, right, columns, terms, stats)
    mu = columns[f].indicator(b, e)
    b.add_row(Lin(dict.fromkeys(ys_left, 1.0)) + mu, -math.inf, 1.0)
    b.add_row(Lin(dict.fromkeys(ys_right, 1.0)) - mu, -math.inf, 0.0)
    return ys_left + ys_right


def _features_of(tree: Reduced, columns: list[Column], found: set[int]) -> set[int]:
    if not isinstance(tree, float):
        found.add(columns[tree[0]].feature.j)
        _features_of(tree[2], columns, found)
        _features_of(tree[3], columns, found)
    return found


def _evaluate(tree: Reduced, value_of: dict[int, float]) -> float:
    """Return the leaf value a point reaches (``value_of``: the tree's columns' values)."""
    while not isinstance(tree, float):
        f, e, left, right = tree
        tree = right if value_of[f] >= e else left
    return tree


def _step_function(b: MilpBuilder, tree: Reduced, columns: list[Column]) -> Lin:
    """Return a one-feature tree as a function of it: per code, or per split interval."""
    cols: set[int] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, float):
            cols.add(node[0])
            stack.extend(node[2:])
    fv = columns[next(iter(cols))].feature
    if fv.kind == "coded":
        out: dict[int, float] = {}
        for k, z in zip(fv.codes, fv.z, strict=True):
            values = {
                c: (float(columns[c].category == k) if columns[c].category >= 0 else float(k))
                for c in cols
            }
            out[z] = _evaluate(tree, values)
        return Lin(out)
    col = next(iter(cols))
    dom = columns[col].domain
    edges: set[float] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, float):
            edges.add(dom.first_at_least(node[1]))
            stack.extend(node[2:])
    points = [dom.low, *sorted(edges)]
    leaf = [_evaluate(tree, {col: x}) for x in points]
    parts = [Lin.constant(leaf[0])]
    for i in range(1, len(points)):
        if leaf[i] != leaf[i - 1]:
            parts.append(columns[col].indicator(b, points[i]) * (leaf[i] - leaf[i - 1]))
    return Lin.total(parts)


def tree_margin(
    b: MilpBuilder, ensemble: TreeEnsemble, columns: list[Column]
) -> tuple[Lin, TreeStats]:
    """Add the pruned trees to the model; return the margin expression and statistics.

    A tree left reading a single feature becomes a step function of it (no leaf variables);
    the others get leaf variables and flow rows.
    """
    pruner = _Pruner(ensemble, columns)
    stats = TreeStats(n_trees=ensemble.n_trees)
    const = float(ensemble.base)
    lowest = highest = const
    terms: list[Lin] = []
    for root in ensemble.roots.tolist():
        tree = pruner.reduce(int(root), {})
        lo, hi, n_splits = _extremes(tree)
        lowest, highest = lowest + lo, highest + hi
        stats.n_splits += n_splits
        if isinstance(tree, float):
            const += tree
            continue
        stats.n_live_trees += 1
        if len(_features_of(tree, columns, set())) == 1:
            terms.append(_step_function(b, tree, columns))
            continue
        ys = _emit(b, tree, columns, terms, stats)
        b.add_row(Lin(dict.fromkeys(ys, 1.0)), 1.0, 1.0)
    scale = float(ensemble.scale)
    stats.lowest, stats.highest = sorted((lowest * scale, highest * scale))
    return (Lin.total(terms) + const) * scale, stats


def linear_margin(function: LinearFunction, columns: list[Column]) -> tuple[Lin, TreeStats]:
    """Return ``intercept + sum coef * column`` (and its bounds over the feasible box).

    A column missing for the client takes the model's imputed value (``missing_value``).
    """
    coef = np.asarray(function.coef, dtype=np.float64)
    fill = function.missing_value
    if fill is None and any(col.missing for col in columns):
        raise CounterfactualError(
            "exact engine: the linear model must say which value a missing entry takes. Got "
            "none. Hint: use the search engine."
        )
    values = [
        Lin.constant(float(fill[i])) if col.missing and fill is not None else col.value
        for i, col in enumerate(columns)
    ]
    margin = Lin.total(v * float(w) for v, w in zip(values, coef, strict=True) if w)
    margin = margin + float(function.intercept)
    lowest = highest = float(function.intercept)
    for i, (col, w) in enumerate(zip(columns, coef.tolist(), strict=True)):
        low, high = col.domain.low, col.domain.high
        if col.missing and fill is not None:
            low = high = float(fill[i])
        lo, hi = low * w, high * w
        lowest, highest = lowest + min(lo, hi), highest + max(lo, hi)
    return margin, TreeStats(lowest=lowest, highest=highest)
