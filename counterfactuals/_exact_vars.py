"""Mixed-integer variables of each feature: its value, its change indicators, its cost.

Per feature, over the client's codes:

- fixed (frozen, or no other value allowed): constants;
- numeric movable: binaries ``inc``/``dec`` (the value moves up / down, at most one), the
  value (``step * k`` with ``k`` integer on a step grid, else continuous) tied to the client's
  value when both are 0, and to the reachable range above or below it otherwise;
- coded movable (binary, categorical, ordinal): one binary per allowed code, summing to 1;
- derived: an affine expression of its sources (``c + sum coef * (x_s - c_s)``);
- missing for the client (``missing: keep``): fixed, at a placeholder 0 that nothing reads
  (the trees follow their default direction, a linear model its imputed value; a missing
  source adds no change to a derived feature, a missing derived feature stays fixed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from constraints import ClientBounds, CompiledConstraints, CompiledDerived, ConstraintSet, tolerance
from counterfactuals._exact_domain import Domain, grid_ceil, grid_floor
from counterfactuals._milp import Lin, MilpBuilder

__all__ = ["FeatureVars", "encode_features", "feature_cost"]

FloatArray = NDArray[np.float64]
_ZERO = Lin.constant(0.0)


@dataclass(slots=True, kw_only=True)
class FeatureVars:
    """One feature in the model; ``edges`` maps a split edge to its indicator variable."""

    j: int
    kind: str  # fixed | numeric | coded | derived
    c: float
    value: Lin
    inc: Lin = _ZERO
    dec: Lin = _ZERO
    dev: Lin = _ZERO
    domain: Domain = field(default_factory=Domain)
    codes: tuple[int, ...] = ()
    z: tuple[int, ...] = ()
    step: float = 0.0
    capped: bool = False
    up: float = math.nan  # numeric: the smallest changed value above the client's
    down: float = math.nan  # and the largest below it
    edges: dict[float, int] = field(default_factory=dict)
    missing: bool = False  # missing for this client: fixed at a placeholder 0

    @property
    def change(self) -> Lin:
        """0/1 expression: the feature changed."""
        return self.inc + self.dec

    @property
    def movable(self) -> bool:
        """Whether the feature may change (derived ones follow their sources)."""
        return self.kind in ("numeric", "coded")


def _fixed(j: int, c: float) -> FeatureVars:
    if math.isnan(c):
        return FeatureVars(
            j=j,
            kind="fixed",
            c=0.0,
            value=Lin.constant(0.0),
            domain=Domain(points=(0.0,)),
            missing=True,
        )
    return FeatureVars(j=j, kind="fixed", c=c, value=Lin.constant(c), domain=Domain(points=(c,)))


def _coded(b: MilpBuilder, j: int, c: float, allowed: frozenset[int]) -> FeatureVars:
    codes = tuple(sorted(allowed | {round(c)}))
    if len(codes) == 1:
        return _fixed(j, c)
    z = tuple(b.add_binary() for _ in codes)
    b.add_row(Lin.total(Lin.var(v) for v in z), 1.0, 1.0)
    terms = list(zip(codes, z, strict=True))
    return FeatureVars(
        j=j,
        kind="coded",
        c=c,
        value=Lin({v: float(k) for k, v in terms}),
        inc=Lin({v: 1.0 for k, v in terms if k > c}),
        dec=Lin({v: 1.0 for k, v in terms if k < c}),
        dev=Lin({v: abs(k - c) for k, v in terms if k != c}),
        domain=Domain(points=tuple(float(k) for k in codes)),
        codes=codes,
        z=z,
    )


def _numeric_range(
    cs: ConstraintSet, bounds: ClientBounds, j: int, c: float
) -> tuple[float, float, bool]:
    """Return the changed value's range, and whether an infinite end was capped.

    An infinite end is capped at the data's 0.5-99.5 % range widened to the client +- 3 MAD
    (+- 100 MAD without data).
    """
    lo, hi = float(bounds.lower[j]), float(bounds.upper[j])
    if math.isfinite(lo) and math.isfinite(hi):
        return lo, hi, False
    support = cs.support[j] if cs.support else None
    scale = float(cs.scales[j])
    if support is not None:
        low, high = min(support.low, c - 3.0 * scale), max(support.high, c + 3.0 * scale)
    else:
        low, high = c - 100.0 * scale, c + 100.0 * scale
    return (lo if math.isfinite(lo) else low), (hi if math.isfinite(hi) else high), True


def _numeric_value(b: MilpBuilder, domain: Domain, c: float, moved: Lin) -> tuple[Lin, float]:
    """Return the value expression and the client's value in it.

    On a step grid the value is ``step * k`` (k integer); a client off the grid (beyond
    ``check``'s tolerance) keeps its value only while unchanged (big-M rows).
    """
    step, xmin, xmax = domain.step, domain.low, domain.high
    if step <= 0:
        return Lin.var(b.add_var(xmin, xmax)), c
    k_lo = round(grid_ceil(max(domain.lo, xmin), step) / step)
    k_hi = round(grid_floor(min(domain.hi, xmax), step) / step)
    k_c = round(c / step)
    if abs(c / step - k_c) <= tolerance(c / step):  # on the grid: c is k_c * step
        k = b.add_var(min(k_lo, k_c), max(k_hi, k_c), integer=True)
        return Lin.var(k, step), float(k_c * step)
    k = b.add_var(k_lo, k_hi, integer=True)
    value = Lin.var(b.add_var(xmin, xmax))
    big = xmax - xmin + step
    b.add_row(value - Lin.var(k, step) + moved * big, -math.inf, big)
    b.add_row(value - Lin.var(k, step) - moved * big, -big, math.inf)
    return value, c


def _numeric(b: MilpBuilder, cs: ConstraintSet, bounds: ClientBounds, j: int) -> FeatureVars:
    c = float(bounds.client[j])
    lo, hi, capped = _numeric_range(cs, bounds, j, c)
    step = float(bounds.step[j]) if bounds.step[j] > 0 else 0.0
    domain = Domain(points=(c,), lo=lo, hi=hi, step=step)
    tol = float(tolerance(c))  # check's "changed" tolerance
    least = float(cs.compiled.min_change[j])  # a smaller change is not a lever
    up = domain.first_at_least(max(float(np.nextafter(c + tol, math.inf)), c + least))
    down = domain.last_below(min(c - tol, float(np.nextafter(c - least, math.inf))))
    if not (math.isfinite(up) or math.isfinite(down)):
        return _fixed(j, c)
    xmin, xmax = domain.low, domain.high
    inc = Lin.var(b.add_binary()) if math.isfinite(up) else _ZERO
    dec = Lin.var(b.add_binary()) if math.isfinite(down) else _ZERO
    value, c_m = _numeric_value(b, domain, c, inc + dec)
    xmin, xmax = min(xmin, c_m), max(xmax, c_m)
    up_v, down_v = (up if math.isfinite(up) else c_m), (down if math.isfinite(down) else c_m)
    b.add_row(value - inc * (up_v - c_m) - dec * (xmin - c_m), c_m, math.inf)
    b.add_row(value - inc * (xmax - c_m) - dec * (down_v - c_m), -math.inf, c_m)
    if not inc.is_constant and not dec.is_constant:
        b.add_row(inc + dec, -math.inf, 1.0)
        dev = Lin.var(b.add_var(0.0, max(xmax - c_m, c_m - xmin)))
        b.add_row(dev - value, -c_m, math.inf)
        b.add_row(dev + value, c_m, math.inf)
    else:
        dev = (value - c_m) if dec.is_constant else (c_m - value)
    return FeatureVars(
        j=j,
        kind="numeric",
        c=c,
        value=value,
        inc=inc,
        dec=dec,
        dev=dev,
        domain=domain,
        step=step,
        capped=capped,
        up=up_v,
        down=down_v,
    )


def _derived_range(
    cp: CompiledConstraints, out: list[FeatureVars], item: CompiledDerived, client: FloatArray
) -> tuple[float, float]:
    """Interval arithmetic over the sources' domains, within the feature's bounds."""
    j, c = item.j, out[item.j].c
    lo = hi = c
    for s, a in zip(item.idx, item.coef, strict=True):
        low, high = out[s].domain.low - out[s].c, out[s].domain.high - out[s].c
        lo += float(a) * (low if a > 0 else high)
        hi += float(a) * (high if a > 0 else low)
    limit = float(cp.change_limit(client[None, :])[0, j])
    low_bound = max(min(float(cp.lower[j]), c), c - limit)
    high_bound = min(max(float(cp.upper[j]), c), c + limit)
    if cp.direction[j] > 0:
        low_bound = c
    elif cp.direction[j] < 0:
        high_bound = c
    return max(lo, low_bound), min(hi, high_bound)


def _derived(
    b: MilpBuilder,
    cp: CompiledConstraints,
    out: list[FeatureVars],
    item: CompiledDerived,
    client: FloatArray,
) -> None:
    """``x = c + sum coef * (x_s - c_s)``, its bounds, and up/down change indicators."""
    if out[item.j].missing:
        return  # missing for the client: it stays missing whatever its sources do
    j, c = item.j, out[item.j].c
    expr = Lin.total([out[s].value * float(a) for s, a in zip(item.idx, item.coef, strict=True)])
    expr = expr + (c - sum(float(a) * out[s].c for s, a in zip(item.idx, item.coef, strict=True)))
    if expr.is_constant:
        return
    lo, hi = _derived_range(cp, out, item, client)
    b.add_row(expr, lo, hi)
    integral = bool(cp.integral[j])
    if integral and not all(float(a).is_integer() for a in item.coef):
        k = b.add_var(math.ceil(lo), math.floor(hi), integer=True)
        b.add_row(expr - Lin.var(k), 0.0, 0.0)
    up, down = b.add_binary(), b.add_binary()
    b.add_row(expr - Lin.var(up, hi - c), -math.inf, c)
    b.add_row(expr + Lin.var(down, c - lo), c, math.inf)
    b.add_row(Lin({up: 1.0, down: 1.0}), -math.inf, 1.0)
    out[j] = FeatureVars(
        j=j,
        kind="derived",
        c=c,
        value=expr,
        inc=Lin.var(up),
        dec=Lin.var(down),
        domain=Domain(points=(c,), lo=lo, hi=hi, step=1.0 if integral else 0.0),
    )


def encode_features(b: MilpBuilder, cs: ConstraintSet, bounds: ClientBounds) -> list[FeatureVars]:
    """Add every feature's variables and linking rows; return them in feature order."""
    cp = cs.compiled
    out: list[FeatureVars] = []
    for j in range(cs.n_features):
        c = float(bounds.client[j])
        if not bounds.movable[j] or cp.derived_mask[j]:
            out.append(_fixed(j, c))
        elif cp.coded[j]:
            out.append(_coded(b, j, c, bounds.allowed[j] or frozenset({round(c)})))
        else:
            out.append(_numeric(b, cs, bounds, j))
    for item in cp.derived:
        _derived(b, cp, out, item, np.asarray(bounds.client, dtype=np.float64))
    return out


def _percentile_cost(
    b: MilpBuilder, fv: FeatureVars, weight: float, quantiles: tuple[float, ...]
) -> Lin:
    """Return ``weight * |F(x) - F(c)|``, F the data's piecewise-linear CDF.

    F is ``np.interp`` on the quantiles: exact at the distinct quantiles, linear between.
    """
    q = np.asarray(quantiles, dtype=np.float64)
    grid = np.linspace(0.0, 1.0, len(q))
    xmin, xmax, c = fv.domain.low, fv.domain.high, fv.c
    inner = q[(q > xmin) & (q < xmax)]
    points = np.unique(np.concatenate([[xmin, xmax, c], inner]))
    f = np.interp(points, q, grid)
    fc = float(np.interp(c, q, grid))
    cost = b.add_var(0.0, weight)
    pick = [b.add_binary() for _ in range(len(points) - 1)]
    b.add_row(Lin.total(Lin.var(o) for o in pick), 1.0, 1.0)
    for s, o in enumerate(pick):
        a, z = float(points[s]), float(points[s + 1])
        b.add_row(fv.value - Lin.var(o, a - xmin), xmin, math.inf)
        b.add_row(fv.value + Lin.var(o, xmax - z), -math.inf, xmax)
        slope = (f[s + 1] - f[s]) / (z - a) if z > a else 0.0
        sign = 1.0 if a >= c else -1.0
        shift = (fv.value - a) * (sign * weight * slope) + sign * weight * (f[s] - fc)
        b.add_row(Lin.var(cost) - shift - Lin.var(o, 2.0 * weight), -2.0 * weight, math.inf)
    return Lin.var(cost)


def feature_cost(b: MilpBuilder, cs: ConstraintSet, features: list[FeatureVars]) -> Lin:
    """Return the constraint file's cost of a candidate (``ConstraintSet.feature_costs``)."""
    cp = cs.compiled
    parts: list[Lin] = []
    for fv in features:
        if not fv.movable:
            continue
        j = fv.j
        parts.append(fv.change * float(cp.cost_per_change[j]))
        if cp.cost_per_unit[j] > 0:
            parts.append(fv.dev * float(cp.cost_per_unit[j]))
        support = cs.support[j] if cs.support else None
        if cp.cost_percentile_shift[j] > 0 and support is not None and fv.kind == "numeric":
            parts.append(
                _percentile_cost(b, fv, float(cp.cost_percentile_shift[j]), support.quantiles)
            )
    return Lin.total(parts)
