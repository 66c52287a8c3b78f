"""A small mixed-integer model builder over HiGHS (``highspy``).

HiGHS runs on one thread (``threads``), silently (its licence banner and log would land on
stdout, where ``levers advise --json`` writes its answer).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy import sparse

__all__ = ["Lin", "MilpBuilder", "MilpResult"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Lin:
    """An affine expression ``const + sum(coef * var)`` over variable indices."""

    terms: Mapping[int, float]
    const: float = 0.0

    @staticmethod
    def var(index: int, coef: float = 1.0) -> Lin:
        """Return ``coef * var``."""
        return Lin({index: coef})

    @staticmethod
    def constant(value: float) -> Lin:
        """Return a constant expression."""
        return Lin({}, float(value))

    @staticmethod
    def total(items: Iterable[Lin]) -> Lin:
        """Return the sum of expressions."""
        terms: dict[int, float] = {}
        const = 0.0
        for item in items:
            const += item.const
            for k, v in item.terms.items():
                terms[k] = terms.get(k, 0.0) + v
        return Lin(terms, const)

    def __add__(self, other: Lin | float) -> Lin:
        if not isinstance(other, Lin):
            return Lin(self.terms, self.const + float(other))
        return Lin.total((self, other))

    def __radd__(self, other: float) -> Lin:
        return self + other

    def __sub__(self, other: Lin | float) -> Lin:
        return self + (other * -1.0 if isinstance(other, Lin) else -float(other))

    def __rsub__(self, other: float) -> Lin:
        return self * -1.0 + other

    def __mul__(self, factor: float) -> Lin:
        f = float(factor)
        return Lin({k: v * f for k, v in self.terms.items()}, self.const * f)

    __rmul__ = __mul__

    @property
    def is_constant(self) -> bool:
        """Whether no variable has a non-zero coefficient."""
        return not any(self.terms.values())

    def value(self, x: FloatArray) -> float:
        """Evaluate at a solution vector."""
        return self.const + sum(v * float(x[k]) for k, v in self.terms.items())


@dataclass(frozen=True, slots=True, kw_only=True)
class MilpResult:
    """Outcome of one solve.

    ``status`` is optimal, feasible (stopped early), infeasible, timeout (stopped with no
    solution) or error; ``x`` is the solution when there is one. ``warm``: what became of a
    starting point: ``none`` (none given), ``given`` (HiGHS had it; with presolve on it does
    not say whether it kept it), ``used`` (its first incumbent) or ``rejected``.
    """

    status: str
    x: FloatArray | None
    objective: float
    gap: float | None
    elapsed_s: float
    message: str
    warm: str = "none"


class MilpBuilder:
    """Variables with bounds and integrality, and rows ``lo <= expr <= hi``."""

    def __init__(self) -> None:
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.integer: list[int] = []
        self._rows: list[tuple[NDArray[np.intp], FloatArray]] = []
        self.row_lo: list[float] = []
        self.row_hi: list[float] = []

    @property
    def n_vars(self) -> int:
        """Number of variables."""
        return len(self.lb)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self._rows)

    def add_var(self, lo: float, hi: float, *, integer: bool = False) -> int:
        """Add a variable in [lo, hi]; return its index."""
        self.lb.append(float(lo))
        self.ub.append(float(hi))
        self.integer.append(1 if integer else 0)
        return len(self.lb) - 1

    def add_binary(self) -> int:
        """Add a 0/1 variable."""
        return self.add_var(0.0, 1.0, integer=True)

    def add_row(self, expr: Lin, lo: float = -math.inf, hi: float = math.inf) -> int:
        """Add ``lo <= expr <= hi``; return the row index (constant rows are checked only)."""
        keys = [k for k, v in expr.terms.items() if v != 0.0]
        idx = np.asarray(keys, dtype=np.intp)
        val = np.asarray([expr.terms[k] for k in keys], dtype=np.float64)
        return self.add_raw(idx, val, lo - expr.const, hi - expr.const)

    def add_raw(self, idx: NDArray[np.intp], val: FloatArray, lo: float, hi: float) -> int:
        """Add ``lo <= val @ x[idx] <= hi`` from arrays."""
        self._rows.append((idx, val))
        self.row_lo.append(float(lo))
        self.row_hi.append(float(hi))
        return len(self._rows) - 1

    def set_row_bounds(self, row: int, lo: float, hi: float) -> None:
        """Change the bounds of a row (e.g. relax it with infinities)."""
        self.row_lo[row], self.row_hi[row] = float(lo), float(hi)

    def bounds_of(self, expr: Lin) -> tuple[float, float]:
        """Smallest and largest value of ``expr`` over the variables' bounds."""
        lo = hi = expr.const
        for k, v in expr.terms.items():
            a, b = self.lb[k] * v, self.ub[k] * v
            lo += min(a, b)
            hi += max(a, b)
        return lo, hi

    def _matrix(self) -> sparse.csr_matrix:
        n = self.n_vars
        if not self._rows:
            return sparse.csr_matrix((0, n))
        lengths = np.fromiter((len(i) for i, _ in self._rows), dtype=np.intp)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.concatenate([i for i, _ in self._rows]).astype(np.int32)
        data = np.concatenate([v for _, v in self._rows])
        return sparse.csr_matrix((data, indices, indptr), shape=(len(self._rows), n))

    def solve(
        self,
        objective: Lin,
        *,
        time_limit: float,
        mip_rel_gap: float,
        presolve: bool = True,
        warm: tuple[NDArray[np.int32], FloatArray] | None = None,
    ) -> MilpResult:
        """Minimise ``objective`` with HiGHS; never raises on solver outcomes.

        ``warm``: (variable indices, values) of a known solution, possibly partial, that
        HiGHS completes and starts from (it ignores one that breaks a row). HiGHS may end in
        "Solve error" (its own tolerance check after presolve); the solve is then repeated
        with presolve toggled.
        """
        start = time.perf_counter()
        if not self.n_vars:  # nothing can move: HiGHS needs one variable to say infeasible
            self.add_var(0.0, 0.0)
        c = np.zeros(self.n_vars)
        for k, v in objective.terms.items():
            c[k] += v
        lp = self._lp(c)
        result: _Outcome = ("error", None, 0, None, "", "none")
        for attempt in (presolve, not presolve):
            left = float(time_limit) - (time.perf_counter() - start)
            result = _run_highs(lp, max(left, 1e-3), mip_rel_gap, attempt, warm)
            if result[0] != "error":
                break
        status, x, value, gap, message, warm_fate = result
        return MilpResult(
            status=status,
            x=x,
            objective=value + objective.const if x is not None else math.inf,
            gap=gap,
            elapsed_s=time.perf_counter() - start,
            message=message,
            warm=warm_fate,
        )

    def _lp(self, c: FloatArray) -> highspy.HighsLp:
        """Return the program as HiGHS's model (row-wise matrix)."""
        matrix = self._matrix()
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_vars
        lp.num_row_ = self.n_rows
        lp.col_cost_ = c
        lp.col_lower_ = np.asarray(self.lb, dtype=np.float64)
        lp.col_upper_ = np.asarray(self.ub, dtype=np.float64)
        lp.row_lower_ = np.asarray(self.row_lo, dtype=np.float64)
        lp.row_upper_ = np.asarray(self.row_hi, dtype=np.float64)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = self.n_vars
        lp.a_matrix_.num_row_ = self.n_rows
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(np.float64)
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[i] for i in self.integer]
        return lp


_Outcome = tuple[str, FloatArray | None, float, float | None, str, str]
_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kTimeLimit: "timeout",
    highspy.HighsModelStatus.kInterrupt: "timeout",
    highspy.HighsModelStatus.kSolutionLimit: "timeout",
}


def _run_highs(
    lp: highspy.HighsLp,
    time_limit: float,
    mip_rel_gap: float,
    presolve: bool,
    warm: tuple[NDArray[np.int32], FloatArray] | None = None,
) -> _Outcome:
    """One HiGHS run: (status, x, objective without offset, gap, message)."""
    # highspy.Highs prints HiGHS's banner on stdout when it is built, before any option can
    # be set; the bare solver class it wraps does not.
    solver = highspy._Highs()  # type: ignore[attr-defined]
    for name, value in (
        ("output_flag", False),
        ("threads", 1),
        ("time_limit", float(time_limit)),
        ("mip_rel_gap", float(mip_rel_gap)),
        ("presolve", "on" if presolve else "off"),
        ("random_seed", 0),
    ):
        solver.setOptionValue(name, value)
    solver.passModel(lp)
    fate = "none"
    if warm is not None and len(warm[0]):
        fate = "given"
        solver.setOptionValue("mip_improving_solution_save", not presolve)
        solver.setSolution(len(warm[0]), warm[0], warm[1])
    solver.run()
    if fate == "given" and not presolve:  # the first incumbent saved is the start, if kept
        saved = solver.getSavedMipSolutions()
        first = np.asarray(saved[0].col_value)[warm[0]] if saved else None  # type: ignore[index]
        kept = first is not None and np.allclose(first, warm[1], atol=1e-6)  # type: ignore[index]
        fate = "used" if kept else "rejected"
    model_status = solver.getModelStatus()
    info = solver.getInfo()
    has_point = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(solver.getSolution().col_value, dtype=np.float64) if has_point else None
    status = _STATUS.get(model_status, "error")
    if status == "timeout" and x is not None:
        status = "feasible"
    elif status == "optimal" and x is None:
        status = "error"
    gap = float(info.mip_gap) if x is not None and math.isfinite(info.mip_gap) else None
    value = float(info.objective_function_value) if x is not None else math.inf
    return status, x, value, gap, solver.modelStatusToString(model_status), fate
