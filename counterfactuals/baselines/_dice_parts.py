"""DiCE adapter internals: constraint translation, the frame codec, the model wrapper."""

from __future__ import annotations

import contextlib
import io
import math
import random
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from constraints import ConstraintSet
from counterfactuals import BoundTarget, CounterfactualError, ModelAdapter

FloatArray = NDArray[np.float64]
DiceMethod = Literal["random", "genetic", "kdtree"]
DICE_METHODS: tuple[DiceMethod, ...] = ("random", "genetic", "kdtree")
_CODED = ("binary", "categorical", "ordinal")
_INSTALL = "Hint: pip install 'levers[dice]'."


class TimeUp(Exception):
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


def support_of(data: FloatArray | None, d: int) -> tuple[FloatArray, FloatArray, list[set[int]]]:
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
    support = support_of(array, constraints.n_features)
    return translate(constraints, constraints.to_array(client), support, _labels(constraints))


def translate(
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


def precisions(constraints: ConstraintSet, data: FloatArray) -> dict[str, int]:
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


# ----------------------------------------------------------------------------- frames
@dataclass(frozen=True, slots=True)
class Codec:
    """Codes <-> DiCE frames (numeric columns as numbers, categories as label strings)."""

    names: tuple[str, ...]
    integer: tuple[bool, ...]
    labels: tuple[tuple[str, ...] | None, ...]
    lookup: tuple[Mapping[str, int] | None, ...]

    @classmethod
    def of(cls, constraints: ConstraintSet) -> Codec:
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


class DiceModel:
    """What DiCE calls: ``predict_proba`` on its frames, through our codes; time-limited.

    DiCE sees a binary problem: column 1 is ``0.5 + slack`` (clipped to [0, 1]) where
    ``slack >= 0`` means the target is reached, so DiCE's "class 1 at probability 0.5"
    is exactly the target (for a binary flip it is the model's own probability).
    """

    def __init__(self, adapter: ModelAdapter, codec: Codec) -> None:
        self.adapter = adapter
        self.codec = codec
        self.target: BoundTarget | None = None
        self.deadline: float | None = None

    def predict_proba(self, frame: pd.DataFrame) -> FloatArray:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise TimeUp
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
def seeded_and_quiet(seed: int) -> Iterator[None]:
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


def import_dice() -> Any:
    try:
        import dice_ml
    except ImportError as exc:
        raise CounterfactualError(
            f"DiceBaseline: needs the dice-ml package. Got it missing. {_INSTALL}"
        ) from exc
    return dice_ml
