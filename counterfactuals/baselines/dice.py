"""DiCE (``dice-ml``) as a comparison baseline, on a Levers constraint set.

DiCE searches business frames through a model with ``predict_proba``. This adapter

- translates the constraint set into DiCE's options (:func:`dice_options`): the numeric
  features are DiCE's ``continuous_features``; ``features_to_vary`` lists the features a
  lever may move for this client (mutable, movable, not derived); ``permitted_range`` gives
  each of them the client's reachable interval or categories from
  :meth:`ConstraintSet.bounds_for` (bounds, direction, max change and transitions folded in);
- runs DiCE's ``random``, ``genetic`` or ``kdtree`` method for one client at a time
  (:class:`DiceBaseline`), with a per-client time limit that DiCE itself lacks, and returns
  the counterfactuals as codes (the constraint set's arrays) for the benchmark to verify.

DiCE cannot express rules, ``max_changes``, step grids, derived features, one-hot groups
or change groups; :attr:`DiceOptions.unsupported` names those a constraint set uses, and the
benchmark counts their violations with :meth:`ConstraintSet.check`.

DiCE is an optional extra (``pip install 'levers[dice]'``), imported only when a
:class:`DiceBaseline` is built.
"""

from __future__ import annotations

import contextlib
import io
import math
import random
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from constraints import ConstraintSet
from counterfactuals._model import ModelAdapter, adapt
from counterfactuals._space import FeatureSpace
from counterfactuals._target import BoundTarget, Target
from counterfactuals.errors import CounterfactualError

__all__ = [
    "DICE_METHODS",
    "DiceBaseline",
    "DiceMethod",
    "DiceOptions",
    "DiceOutcome",
    "dice_counterfactuals",
    "dice_options",
]

FloatArray = NDArray[np.float64]
DiceMethod = Literal["random", "genetic", "kdtree"]
DICE_METHODS: tuple[DiceMethod, ...] = ("random", "genetic", "kdtree")
_CODED = ("binary", "categorical", "ordinal")
_OUTCOME = "__dice_outcome__"
_INSTALL = "Hint: pip install 'levers[dice]'."


class _TimeUp(Exception):
    """Raised from inside DiCE (through the model) when a client's time limit is reached."""


# ----------------------------------------------------------------------------- translation
@dataclass(frozen=True, slots=True, kw_only=True)
class DiceOptions:
    """DiCE's options for one client, translated from a constraint set.

    Parameters
    ----------
    continuous_features
        The numeric features (continuous and integer); the others are DiCE categories.
    features_to_vary
        The features a lever may move for this client (mutable, movable, not derived).
    permitted_range
        For each feature to vary: ``[low, high]`` (numeric) or the reachable category labels.
    unsupported
        The kinds of constraints of the set that DiCE cannot express.
    """

    continuous_features: tuple[str, ...]
    features_to_vary: tuple[str, ...]
    permitted_range: Mapping[str, list[Any]]
    unsupported: tuple[str, ...]


def _labels(constraints: ConstraintSet) -> tuple[tuple[str, ...] | None, ...]:
    """Per feature: the DiCE label of each code (coded features), or None (numeric)."""
    sizes = [
        (2 if s.kind == "binary" else len(s.categories)) if s.kind in _CODED else 0
        for s in constraints.features
    ]
    rows = max(max(sizes), 1)
    grid = np.zeros((rows, constraints.n_features))
    for j, size in enumerate(sizes):
        if size:
            grid[:, j] = np.minimum(np.arange(rows), size - 1)
    frame = constraints.to_frame(grid)
    return tuple(
        tuple(str(v) for v in frame[s.name].iloc[:size]) if size else None
        for s, size in zip(constraints.features, sizes, strict=True)
    )


def _unsupported(constraints: ConstraintSet) -> tuple[str, ...]:
    kinds = {
        "rule": bool(constraints.rules),
        "max_changes": constraints.max_changes is not None,
        "step": any(s.kind == "continuous" and s.step for s in constraints.features),
        "derived": bool(constraints.derived),
        "one_hot": bool(constraints.one_hot),
        "change_group": bool(constraints.change_groups),
    }
    return tuple(k for k, used in kinds.items() if used)


def _support(data: FloatArray | None, d: int) -> tuple[FloatArray, FloatArray, list[set[int]]]:
    """Return the data minimum, maximum and observed codes per column (empty without data)."""
    if data is None or not len(data):
        return np.full(d, np.inf), np.full(d, -np.inf), [set() for _ in range(d)]
    observed = [set(np.unique(data[:, j]).astype(int).tolist()) for j in range(d)]
    return data.min(axis=0), data.max(axis=0), observed


def _permitted(
    j: int, current: float, bounds: Any, support: tuple[FloatArray, FloatArray, list[set[int]]]
) -> tuple[float, float] | list[int] | None:
    """Return the reachable interval or codes of feature ``j`` (None when it cannot move)."""
    low, high, observed = support
    allowed = bounds.allowed[j]
    if allowed is not None or bounds.features[j].kind in _CODED:
        if allowed is None:
            allowed = range(math.ceil(bounds.lower[j]), math.floor(bounds.upper[j]) + 1)
        codes = {int(c) for c in allowed}
        if observed[j]:  # DiCE refuses categories absent from its data
            codes &= observed[j]
        codes.add(int(current))
        return sorted(codes) if len(codes) > 1 else None
    lo, hi = float(bounds.lower[j]), float(bounds.upper[j])
    lo = lo if math.isfinite(lo) else float(low[j])
    hi = hi if math.isfinite(hi) else float(high[j])
    lo, hi = min(lo, current), max(hi, current)
    if bounds.features[j].kind == "integer":
        lo, hi = float(math.ceil(lo)), float(math.floor(hi))
    return (lo, hi) if hi > lo else None


def dice_options(constraints: ConstraintSet, client: Any, *, data: Any = None) -> DiceOptions:
    """Translate a constraint set into DiCE's options for one client.

    Parameters
    ----------
    constraints
        The constraint set.
    client
        One client: business values (a row) or codes.
    data
        DiCE's data (business values or codes), optional: numeric features without a finite
        bound get the data's range (without data, such features are not varied), and
        categories DiCE's data never shows are left out (DiCE refuses them).

    Returns
    -------
    DiceOptions
        Labels of categories are the business values as strings (``str(value)``).
    """
    array = None if data is None else constraints.to_array(data)
    support = _support(array, constraints.n_features)
    return _translate(constraints, constraints.to_array(client), support, _labels(constraints))


def _translate(
    constraints: ConstraintSet,
    codes: FloatArray,
    support: tuple[FloatArray, FloatArray, list[set[int]]],
    labels: tuple[tuple[str, ...] | None, ...],
) -> DiceOptions:
    if len(codes) != 1:
        raise CounterfactualError(f"client: must be one row. Got {len(codes)} rows.")
    bounds = constraints.bounds_for(codes)
    derived = {d.feature for d in constraints.derived}
    mutable = constraints.mutable
    vary: list[str] = []
    ranges: dict[str, list[Any]] = {}
    for j, spec in enumerate(constraints.features):
        if not (mutable[j] and bounds.movable[j]) or spec.name in derived:
            continue
        reach = _permitted(j, float(codes[0, j]), bounds, support)
        if reach is None:
            continue
        names = labels[j]
        if names is not None and isinstance(reach, list):
            ranges[spec.name] = [names[k] for k in reach]
        elif spec.kind == "integer":
            ranges[spec.name] = [int(reach[0]), int(reach[1])]
        else:
            ranges[spec.name] = [float(reach[0]), float(reach[1])]
        vary.append(spec.name)
    return DiceOptions(
        continuous_features=tuple(
            s.name for s in constraints.features if s.kind in ("continuous", "integer")
        ),
        features_to_vary=tuple(vary),
        permitted_range=ranges,
        unsupported=_unsupported(constraints),
    )


# ----------------------------------------------------------------------------- frames
@dataclass(frozen=True, slots=True)
class _Codec:
    """Codes <-> DiCE frames (numeric columns as numbers, categories as label strings)."""

    names: tuple[str, ...]
    integer: tuple[bool, ...]
    labels: tuple[tuple[str, ...] | None, ...]
    lookup: tuple[Mapping[str, int] | None, ...]

    @classmethod
    def of(cls, constraints: ConstraintSet) -> _Codec:
        labels = _labels(constraints)
        return cls(
            names=constraints.feature_names,
            integer=tuple(s.kind == "integer" for s in constraints.features),
            labels=labels,
            lookup=tuple(
                None if names is None else {n: k for k, n in enumerate(names)} for names in labels
            ),
        )

    def frame(self, codes: FloatArray) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for j, name in enumerate(self.names):
            names = self.labels[j]
            if names is not None:
                columns[name] = np.asarray(names, dtype=object)[codes[:, j].astype(np.intp)]
            else:
                columns[name] = codes[:, j].astype(np.int64 if self.integer[j] else np.float64)
        return pd.DataFrame(columns, columns=list(self.names))

    def codes(self, frame: pd.DataFrame) -> FloatArray:
        out = np.empty((len(frame), len(self.names)))
        for j, name in enumerate(self.names):
            lookup = self.lookup[j]
            column = frame[name]
            if lookup is None:
                out[:, j] = pd.to_numeric(column).to_numpy(dtype=np.float64)
            else:
                out[:, j] = column.astype(str).map(lookup).to_numpy(dtype=np.float64)
        if np.isnan(out).any():
            bad = [self.names[j] for j in np.flatnonzero(np.isnan(out).any(axis=0))]
            raise CounterfactualError(f"DiCE frame: values must be known labels. Got {bad}.")
        return out


class _DiceModel:
    """What DiCE calls: ``predict_proba`` on its frames, through our codes; time-limited.

    DiCE sees a binary problem: column 1 is ``0.5 + slack`` (clipped to [0, 1]) where
    ``slack >= 0`` means the target is reached, so DiCE's "class 1 at probability 0.5"
    is exactly the target (for a binary flip it is the model's own probability).
    """

    def __init__(self, adapter: ModelAdapter, codec: _Codec) -> None:
        self.adapter = adapter
        self.codec = codec
        self.target: BoundTarget | None = None
        self.deadline: float | None = None

    def predict_proba(self, frame: pd.DataFrame) -> FloatArray:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _TimeUp
        codes = self.codec.codes(frame)
        proba = np.asarray(self.adapter.proba_codes(codes), dtype=np.float64)
        if self.target is None:
            return proba
        held = self.adapter.held(codes) if self.adapter.held is not None else None
        reached = np.clip(0.5 + self.target.slack(proba, held, self.adapter.values), 0.0, 1.0)
        return np.column_stack([1.0 - reached, reached])

    def predict(self, frame: pd.DataFrame) -> NDArray[np.intp]:
        return np.asarray(np.argmax(self.predict_proba(frame), axis=1), dtype=np.intp)


@contextlib.contextmanager
def _seeded_and_quiet(seed: int) -> Iterator[None]:
    """Seed the global RNGs DiCE draws from, silence its prints; restore both after."""
    numpy_state = np.random.get_state()  # noqa: NPY002 - DiCE uses the legacy global RNG
    python_state = random.getstate()
    np.random.seed(seed)  # noqa: NPY002
    random.seed(seed)
    sink = io.StringIO()
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(python_state)


def _import_dice() -> Any:
    try:
        import dice_ml
    except ImportError as exc:
        raise CounterfactualError(
            f"DiceBaseline: needs the dice-ml package. Got it missing. {_INSTALL}"
        ) from exc
    return dice_ml


@dataclass(frozen=True, slots=True)
class _State:
    """What a DiceBaseline builds once: DiCE's explainer, the model wrapper, codec, support."""

    explainer: Any
    model: _DiceModel
    codec: _Codec
    support: tuple[FloatArray, FloatArray, list[set[int]]]


# ----------------------------------------------------------------------------- the baseline
@dataclass(frozen=True, slots=True, kw_only=True)
class DiceOutcome:
    """DiCE's answer for one client: counterfactual codes (possibly none) and its time."""

    codes: FloatArray
    elapsed_s: float
    message: str = ""
    timed_out: bool = False

    @property
    def found(self) -> bool:
        """Whether DiCE returned at least one counterfactual."""
        return len(self.codes) > 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DiceBaseline:
    """DiCE set up once on a model and its data, then run client by client.

    Parameters
    ----------
    constraints
        The constraint set (its features are the model's features, in order).
    model
        The model: anything :func:`counterfactuals.adapt` accepts (a ``PropensityModel``,
        a :class:`ModelAdapter`...). DiCE calls it on codes, the fast path our engines use
        too; its frames are converted to codes before each call.
    data
        DiCE's data: training clients (business values or codes). ``kdtree`` searches it,
        and the genetic method starts from it.
    method
        ``random``, ``genetic`` or ``kdtree``.
    time_limit_s
        Per-client limit; DiCE has none, so the model raises once it is passed and the
        client counts as not found (``timed_out``). ``None`` lets DiCE run to its end
        (the genetic method then loops forever when no starting point reaches the target).
    params
        Further keyword arguments of DiCE's ``generate_counterfactuals`` (e.g.
        ``sample_size``, ``maxiterations``, ``posthoc_sparsity_param``).
    """

    constraints: ConstraintSet
    model: Any
    data: Any
    method: DiceMethod = "random"
    time_limit_s: float | None = 30.0
    params: Mapping[str, Any] = field(default_factory=dict)
    _state: _State = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.method not in DICE_METHODS:
            raise CounterfactualError(
                f"method: must be one of {', '.join(DICE_METHODS)}. Got {self.method!r}."
            )
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise CounterfactualError(f"time_limit_s: must be > 0. Got {self.time_limit_s!r}.")
        dice_ml = _import_dice()
        codec = _Codec.of(self.constraints)
        data = self.constraints.to_array(self.data)
        model = _DiceModel(
            adapt(self.model, FeatureSpace.from_constraints(self.constraints)), codec
        )
        frame = codec.frame(data)
        frame[_OUTCOME] = np.argmax(model.adapter.proba_codes(data), axis=1).astype(np.int64)
        continuous = [
            s.name for s in self.constraints.features if s.kind in ("continuous", "integer")
        ]
        with _seeded_and_quiet(0):
            explainer = dice_ml.Dice(
                dice_ml.Data(
                    dataframe=frame,
                    continuous_features=continuous,
                    outcome_name=_OUTCOME,
                    continuous_features_precision=_precisions(self.constraints, data),
                ),
                dice_ml.Model(model=model, backend="sklearn"),
                method=self.method,
            )
        support = _support(data, self.constraints.n_features)
        object.__setattr__(self, "_state", _State(explainer, model, codec, support))

    def generate(
        self, client: Any, target: Target | str | float = "flip", *, n: int = 5, seed: int = 0
    ) -> DiceOutcome:
        """Ask DiCE for ``n`` counterfactuals of one client.

        Parameters
        ----------
        client
            One client (business values or codes).
        target
            The goal, as for :func:`counterfactuals.generate`: a :class:`Target`, ``"flip"``
            or a probability to reach.
        n
            Counterfactuals requested (DiCE's ``total_CFs``).
        seed
            Seeds DiCE's random draws (the global RNGs, restored afterwards).

        Returns
        -------
        DiceOutcome
            Counterfactual codes as DiCE returned them (post-hoc sparsity applied), not
            verified: the caller re-scores and checks them. Failures are an empty outcome
            with the message.
        """
        state = self._state
        start = time.perf_counter()
        codes = self.constraints.to_array(client)
        options = _translate(self.constraints, codes, state.support, state.codec.labels)
        d = self.constraints.n_features
        if not options.features_to_vary:
            return _none(start, d, "no feature may move for this client")
        model = state.model
        model.target = _bind(target, model.adapter, codes)
        model.deadline = None if self.time_limit_s is None else start + self.time_limit_s
        kwargs: dict[str, Any] = {
            "total_CFs": n,
            "desired_class": 1,
            "features_to_vary": list(options.features_to_vary),
            "permitted_range": dict(options.permitted_range),
            **({"random_seed": seed} if self.method == "random" else {}),
            **self.params,
        }
        try:
            with _seeded_and_quiet(seed):
                answer = state.explainer.generate_counterfactuals(
                    state.codec.frame(codes), **kwargs
                )
        except _TimeUp:
            return _none(start, d, f"time limit of {self.time_limit_s:g} s reached", True)
        except Exception as exc:  # DiCE's own failures (e.g. none found) are an answer
            return _none(start, d, f"{type(exc).__name__}: {exc}")
        finally:
            model.deadline = None
            model.target = None
        fixed = [name not in options.features_to_vary for name in self.constraints.feature_names]
        return _outcome(answer, state.codec, start, np.where(fixed, codes[0], np.nan))


def _bind(target: Target | str | float, adapter: ModelAdapter, codes: FloatArray) -> BoundTarget:
    """Resolve the target for one client, as :func:`counterfactuals.generate` reads it."""
    goal = Target.flip() if target == "flip" else target
    goal = Target.probability(goal) if isinstance(goal, float) else goal
    if not isinstance(goal, Target):
        raise CounterfactualError(
            f"target: must be a Target, 'flip' or a probability. Got {target!r}."
        )
    return goal.bind(adapter.outputs, adapter.proba_codes(codes)[0], ranked=adapter.ranked)


def _precisions(constraints: ConstraintSet, data: FloatArray) -> dict[str, int]:
    """Return the decimals of each continuous feature: its step's, else the data's (max 6).

    DiCE rounds every continuous column of its answers to these decimals (fixed ones too);
    left to itself it infers them from the modes, e.g. 1 decimal for a debt ratio of 0.42.
    """
    out = {}
    for j, s in enumerate(constraints.features):
        if s.kind != "continuous":
            continue
        values = np.array([s.step]) if s.step else data[:, j]
        out[s.name] = next((k for k in range(7) if np.allclose(np.round(values, k), values)), 6)
    return out


def _none(start: float, d: int, message: str, timed_out: bool = False) -> DiceOutcome:
    return DiceOutcome(
        codes=np.empty((0, d)),
        elapsed_s=time.perf_counter() - start,
        message=message,
        timed_out=timed_out,
    )


def _outcome(answer: Any, codec: _Codec, start: float, fixed: FloatArray) -> DiceOutcome:
    """Read DiCE's answer; ``fixed`` holds the values of the features DiCE may not vary.

    Those are written back exactly: DiCE keeps them in principle, but its frames go through
    float32 and its rounding, which moves a 2,970.37 income by a few cents.
    """
    example = answer.cf_examples_list[0]
    frame = example.final_cfs_df_sparse
    if frame is None or not len(frame):
        frame = example.final_cfs_df
    if frame is None or not len(frame):
        return _none(start, len(codec.names), "DiCE found no counterfactual")
    codes = codec.codes(frame.reset_index(drop=True))
    codes = np.where(np.isnan(fixed), codes, fixed)
    _, first = np.unique(codes, axis=0, return_index=True)
    return DiceOutcome(codes=codes[np.sort(first)], elapsed_s=time.perf_counter() - start)


def dice_counterfactuals(
    model: Any,
    data: Any,
    client: Any,
    constraints: ConstraintSet,
    *,
    target: Target | str | float = "flip",
    method: DiceMethod = "random",
    n: int = 5,
    seed: int = 0,
    time_limit_s: float | None = 30.0,
) -> tuple[FloatArray, float]:
    """Run DiCE once for one client; return ``(codes (m, d), elapsed_s)``.

    A shortcut over :class:`DiceBaseline` (which sets DiCE up once for many clients); see it
    for the parameters. ``m`` is 0 when DiCE finds nothing, fails or runs out of time.
    """
    baseline = DiceBaseline(
        constraints=constraints, model=model, data=data, method=method, time_limit_s=time_limit_s
    )
    out = baseline.generate(client, target, n=n, seed=seed)
    return out.codes, out.elapsed_s
