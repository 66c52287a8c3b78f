"""Training data: the constraint file's features, the binary target, its positive class, the split.

- :func:`prepare_training_data` checks a training table against the constraint file and
  encodes it (:class:`TrainingData`);
- :func:`training_split` is the stratified, seeded train/test split :func:`~advisor.models.train`
  uses, so evidence and diagnostics can find a bundle's training clients again;
- :func:`split_design` applies it to the design matrix (:class:`DesignSplit`).
"""

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
from sklearn.model_selection import train_test_split

from advisor.datasets import find_id_column, row_references
from advisor.errors import DatasetError, ModelError
from constraints import (
    ConstraintSet,
    bind_constraints,
    parse_constraint_file,
    read_constraint_text,
)
from counterfactuals import CounterfactualError, FeatureSpace

__all__ = [
    "ConstraintSource",
    "DesignSplit",
    "TrainingData",
    "frame_sha256",
    "infer_positive",
    "observed_classes",
    "prepare_training_data",
    "split_design",
    "training_split",
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


def frame_sha256(frame: pd.DataFrame) -> str:
    """Return the SHA-256 of a frame's values and column names (its index left out)."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes())
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    return digest.hexdigest()


def _labelled(data: pd.DataFrame, id_column: str | None, declared: str | None) -> pd.DataFrame:
    """Return ``data`` with rows named by file line and client id (binding messages)."""
    try:
        ids = find_id_column(data, id_column, declared=declared)
    except DatasetError as exc:
        raise ModelError(str(exc)) from exc
    return data.set_axis(row_references(data, ids))


def _bind(
    source: ConstraintSource, data: pd.DataFrame, id_column: str | None = None
) -> tuple[ConstraintSet, str | None]:
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
    text = read_constraint_text(path)  # read once: the text bound is the text hashed
    doc = parse_constraint_file(text, path.name)
    return bind_constraints(doc, _labelled(data, id_column, doc.id_column)), text


def prepare_training_data(
    data: pd.DataFrame,
    target: str,
    constraints: ConstraintSource,
    positive: Any = None,
    *,
    id_column: str | None = None,
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
    constraint_set, text = _bind(constraints, data, id_column)
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
        data_sha256=frame_sha256(used),
        constraint_text=text,
        constraint_sha256=None if text is None else hashlib.sha256(text.encode()).hexdigest(),
    )


def training_split(
    y: NDArray[np.int64], *, test_size: float = 0.2, seed: int = 0
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return the (train, test) row positions :func:`~advisor.models.train` uses for labels ``y``.

    The split is stratified and seeded, so evidence and diagnostics can find the exact
    training clients of a bundle's model again from the same data.

    Parameters
    ----------
    y
        0/1 labels, one per row.
    test_size
        Fraction of rows held out, strictly between 0 and 1.
    seed
        Seed of the split.

    Returns
    -------
    tuple of numpy.ndarray
        Positions of the training rows and of the test rows.
    """
    labels = np.asarray(y)
    if labels.ndim != 1 or not np.isin(labels, (0, 1)).all():
        raise ModelError("y: must be a 1-d array of 0/1 labels. Got another array.")
    if not 0.0 < test_size < 1.0:
        raise ModelError(f"test_size: must be strictly between 0 and 1. Got {test_size}.")
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), test_size=test_size, stratify=labels, random_state=seed
    )
    return np.asarray(train_idx, dtype=np.int64), np.asarray(test_idx, dtype=np.int64)


@dataclass(frozen=True, slots=True, kw_only=True)
class DesignSplit:
    """The design matrix and labels of a training table, split into training and test parts.

    ``train_rows`` / ``test_rows`` are row positions in the training table (as
    :func:`training_split` returns them); ``x_*`` the design rows, ``y_*`` their 0/1 labels.
    """

    train_rows: NDArray[np.int64]
    x_train: FloatArray
    y_train: NDArray[np.int64]
    test_rows: NDArray[np.int64]
    x_test: FloatArray
    y_test: NDArray[np.int64]


def split_design(
    prepared: TrainingData, *, n_folds: int, test_size: float, seed: int
) -> DesignSplit:
    """Split prepared data for ``n_folds``-fold cross-validation and a held-out test set.

    Raises
    ------
    ModelError
        A class has too few rows for the folds and the test set.
    """
    y = prepared.y
    n_pos = int(y.sum())
    n_min = min(n_pos, len(y) - n_pos)
    needed = int(np.ceil(n_folds / (1.0 - test_size))) + 2
    if n_min < needed:
        raise ModelError(
            f"target {prepared.target!r}: each class must have at least {needed} rows for "
            f"{n_folds}-fold cross-validation and a test set. Got {n_pos} positive and "
            f"{len(y) - n_pos} negative rows."
        )
    design = prepared.space.to_design(prepared.codes)
    train_rows, test_rows = training_split(y, test_size=test_size, seed=seed)
    return DesignSplit(
        train_rows=train_rows,
        x_train=design[train_rows],
        y_train=y[train_rows],
        test_rows=test_rows,
        x_test=design[test_rows],
        y_test=y[test_rows],
    )
