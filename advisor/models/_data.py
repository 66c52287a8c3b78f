"""Training data: the constraint file's features, the binary target and its positive class."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.errors import ModelError
from constraints import ConstraintSet, load_constraints
from counterfactuals import CounterfactualError, FeatureSpace

__all__ = [
    "ConstraintSource",
    "TrainingData",
    "infer_positive",
    "observed_classes",
    "prepare_training_data",
]

FloatArray = NDArray[np.float64]
ConstraintSource = ConstraintSet | str | os.PathLike[str]
_POSITIVE_WORDS = ("yes", "1", "true", "y", "t", "1.0")


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingData:
    """Codes, labels and provenance of a training table."""

    constraints: ConstraintSet
    space: FeatureSpace
    codes: FloatArray
    y: NDArray[np.int64]
    index: pd.Index
    target: str
    classes: tuple[Any, Any]
    ignored_columns: tuple[str, ...]
    data_sha256: str
    constraint_text: str | None
    constraint_sha256: str | None


def _label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def observed_classes(labels: pd.Series) -> list[Any]:
    """Return the distinct non-missing values of a target column, in a stable order."""
    return sorted(pd.unique(labels.dropna().to_numpy(dtype=object)), key=str)


def infer_positive(values: Sequence[Any], target: str) -> Any:
    """Return the positive class among two observed values (yes/1/true), or explain."""
    if len(values) != 2:
        shown = ", ".join(repr(_label(v)) for v in list(values)[:6])
        raise ModelError(
            f"target {target!r}: must hold exactly two classes. Got {len(values)} ({shown}). "
            "Hint: build a binary column first (e.g. took the product: yes/no)."
        )
    for value in values:
        if value is True or str(value).strip().lower() in _POSITIVE_WORDS:
            return _label(value)
    shown = " and ".join(repr(_label(v)) for v in values)
    raise ModelError(
        f"target {target!r}: the positive class must be named when the values are not yes/no, "
        f"1/0 or true/false. Got {shown}. Hint: pass positive=<value> (--positive on the CLI)."
    )


def _hash_frame(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes())
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    return digest.hexdigest()


def _bind(source: ConstraintSource, data: pd.DataFrame) -> tuple[ConstraintSet, str | None]:
    if isinstance(source, ConstraintSet):
        return source, None
    if not isinstance(source, (str, os.PathLike)):
        raise ModelError(
            f"constraints: must be a constraint file path or a ConstraintSet. Got "
            f"{type(source).__name__}."
        )
    path = Path(source)
    if not path.is_file():
        raise ModelError(f"constraints: must be an existing constraint file. Got {str(path)!r}.")
    return load_constraints(path, data), path.read_text(encoding="utf-8")


def prepare_training_data(
    data: pd.DataFrame, target: str, constraints: ConstraintSource, positive: Any = None
) -> TrainingData:
    """Check a training table against the constraint file and encode it.

    Parameters
    ----------
    data
        Clients in business values, one row each, with the target column.
    target
        The binary target column.
    constraints
        A constraint file (bound to ``data``) or an already bound constraint set.
    positive
        The positive class; inferred from yes/1/true when omitted.

    Returns
    -------
    TrainingData
        Codes in the constraint file's feature order, 0/1 labels and provenance.
    """
    if not isinstance(data, pd.DataFrame):
        raise ModelError(f"data: must be a pandas DataFrame. Got {type(data).__name__}.")
    if not isinstance(target, str) or target not in data.columns:
        raise ModelError(
            f"target: must be a column of the data. Got {target!r}. Hint: columns are "
            f"{', '.join(map(str, data.columns[:12]))}{' ...' if data.shape[1] > 12 else ''}."
        )
    labels = data[target]
    if labels.isna().any():
        raise ModelError(
            f"target {target!r}: values must not be missing. Got {int(labels.isna().sum())} "
            "missing. Hint: drop those rows before training."
        )
    constraint_set, text = _bind(constraints, data)
    if target in constraint_set.feature_names:
        raise ModelError(
            f"constraints: the target {target!r} must not be a feature of the constraint file. "
            "Got it listed. Hint: remove it from the file's features."
        )
    observed = observed_classes(labels)
    if positive is None:
        positive = infer_positive(observed, target)
    else:
        matches = [v for v in observed if v == positive or str(v) == str(positive)]
        if not matches:
            raise ModelError(
                f"positive: must be one of the target's values "
                f"({', '.join(repr(_label(v)) for v in observed[:6])}). Got {positive!r}."
            )
        positive = _label(matches[0])
        if len(observed) != 2:
            infer_positive(observed, target)  # raises the two-class message
    negative = _label(next(v for v in observed if v != positive))
    y = np.asarray(labels.to_numpy(dtype=object) == positive, dtype=np.int64)
    space = FeatureSpace.from_constraints(constraint_set)
    try:
        codes = space.to_codes(data)
    except CounterfactualError as exc:
        raise ModelError(str(exc)) from exc
    ignored = tuple(str(c) for c in data.columns if c not in space.names and c != target)
    used = data[[*space.names, target]]
    return TrainingData(
        constraints=constraint_set,
        space=space,
        codes=codes,
        y=y,
        index=data.index,
        target=target,
        classes=(negative, positive),
        ignored_columns=ignored,
        data_sha256=_hash_frame(used),
        constraint_text=text,
        constraint_sha256=None if text is None else hashlib.sha256(text.encode()).hexdigest(),
    )
