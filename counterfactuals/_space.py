"""The feature space models, engines and the app share: order, kinds and encoding.

A constraint file defines the model's features. Every component sees them in the same order
and the same encoding, in three layers:

- *business values*: a client frame (labels, amounts), what callers pass and get back;
- *codes*: the constraint set's numeric array (categories as their position in the file's
  list, binary features as 0/1), what engines search over;
- *design matrix*: what a model is fitted on: codes, with each categorical feature expanded to
  one indicator column per category (ordinal features stay one column: their rank).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from constraints import ConstraintError, ConstraintSet, FeatureSpec
from counterfactuals.errors import CounterfactualError

__all__ = ["FeatureSpace"]

FloatArray = NDArray[np.float64]
_KINDS = ("continuous", "integer", "binary", "categorical", "ordinal")
_MAX_VALUE = 1e15  # the constraint language's limit on numbers in data (docs/security.md)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureSpace:
    """Feature order, kinds and categories, and the conversions between the three layers.

    Parameters
    ----------
    names
        Feature names, in the model's order.
    kinds
        One of continuous, integer, binary, categorical, ordinal per feature.
    categories
        Per feature: the categories (categorical), the order (ordinal), the (false, true)
        labels of a binary feature when it has some, otherwise empty.
    missing
        Per feature: what a missing value means (``forbid``, ``keep`` or ``impute``, as in
        the constraint file); empty: every feature forbids them. A kept missing value is NaN
        in the codes and in every design column of the feature (models handle it).
    imputed
        Per feature: the code replacing a missing value of an ``impute`` feature (recorded
        when the file was bound to the training data), NaN for the others; empty: none.

    Examples
    --------
    >>> space = FeatureSpace(
    ...     names=("age", "plan"), kinds=("integer", "categorical"), categories=((), ("a", "b"))
    ... )
    >>> space.design_names
    ('age', 'plan=a', 'plan=b')
    >>> space.to_design(space.to_codes({"age": 40, "plan": "b"}))
    array([[40.,  0.,  1.]])
    """

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    categories: tuple[tuple[str | int | bool, ...], ...]
    missing: tuple[str, ...] = ()
    imputed: tuple[float, ...] = field(default=(), compare=False)
    _imputed_key: tuple[float | None, ...] = field(init=False, repr=False)  # NaN-free, compared
    _encoder: ConstraintSet = field(init=False, repr=False, compare=False)
    _columns: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
    design_names: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.names)
        if n == 0:
            raise CounterfactualError("FeatureSpace.names: must list at least one feature.")
        if len(self.kinds) != n or len(self.categories) != n:
            raise CounterfactualError(
                f"FeatureSpace: names, kinds and categories must have one entry per feature. "
                f"Got {n}, {len(self.kinds)} and {len(self.categories)}."
            )
        if len(set(self.names)) != n:
            dup = sorted({x for x in self.names if self.names.count(x) > 1})
            raise CounterfactualError(f"FeatureSpace.names: must be unique. Got {dup} twice.")
        missing = self.missing or ("forbid",) * n
        imputed = tuple(float(v) for v in self.imputed) or (float("nan"),) * n
        if len(missing) != n or len(imputed) != n:
            raise CounterfactualError(
                f"FeatureSpace: missing and imputed must have one entry per feature (or none). "
                f"Got {len(missing)} and {len(imputed)} for {n} features."
            )
        object.__setattr__(self, "missing", tuple(missing))
        object.__setattr__(self, "imputed", imputed)
        object.__setattr__(self, "_imputed_key", tuple(None if v != v else v for v in imputed))
        specs = []
        for j, (name, kind, cats) in enumerate(
            zip(self.names, self.kinds, self.categories, strict=True)
        ):
            if kind not in _KINDS:
                raise CounterfactualError(
                    f"FeatureSpace.kinds.{name}: must be one of {', '.join(_KINDS)}. Got {kind!r}."
                )
            try:
                specs.append(
                    FeatureSpec(
                        name=name,
                        kind=kind,  # type: ignore[arg-type]
                        role="context",
                        categories=tuple(cats),
                        missing=missing[j],  # type: ignore[arg-type]
                        imputed=imputed[j],
                    )
                )
            except ConstraintError as exc:
                raise CounterfactualError(f"FeatureSpace: {exc}") from exc
        columns: list[tuple[int, int]] = []
        design: list[str] = []
        for spec in specs:
            width = len(spec.categories) if spec.kind == "categorical" else 1
            columns.append((len(design), width))
            if spec.kind == "categorical":
                design.extend(f"{spec.name}={c}" for c in spec.categories)
            else:
                design.append(spec.name)
        # business values <-> codes: the constraint package's conversion, built once
        object.__setattr__(
            self, "_encoder", ConstraintSet(name="feature space", features=tuple(specs))
        )
        object.__setattr__(self, "_columns", tuple(columns))
        object.__setattr__(self, "design_names", tuple(design))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_constraints(cls, constraints: ConstraintSet) -> FeatureSpace:
        """Return the feature space of a constraint set (its features, in its order)."""
        if not isinstance(constraints, ConstraintSet):
            raise CounterfactualError(
                f"constraints: must be a ConstraintSet (see constraints.load_constraints). "
                f"Got {type(constraints).__name__}."
            )
        return cls(
            names=constraints.feature_names,
            kinds=tuple(f.kind for f in constraints.features),
            categories=tuple(f.categories for f in constraints.features),
            missing=tuple(f.missing for f in constraints.features),
            imputed=tuple(f.imputed for f in constraints.features),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable description (see :meth:`from_dict`).

        A feature that does not forbid missing values says so (``missing``), with its
        ``imputed`` code when it imputes them.
        """
        out = []
        for j, (n, k, c) in enumerate(zip(self.names, self.kinds, self.categories, strict=True)):
            item: dict[str, Any] = {"name": n, "kind": k, "categories": list(c)}
            if self.missing[j] != "forbid":
                item["missing"] = self.missing[j]
            if self.missing[j] == "impute" and not np.isnan(self.imputed[j]):
                item["imputed"] = self.imputed[j]
            out.append(item)
        return {"features": out}

    @property
    def keeps_missing(self) -> NDArray[np.bool_]:
        """(d,) features whose missing values stay missing (``missing: keep``)."""
        return np.array([m == "keep" for m in self.missing], dtype=bool)

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> FeatureSpace:
        """Rebuild a feature space from :meth:`to_dict`'s output, with clear errors."""
        features = payload.get("features") if isinstance(payload, Mapping) else None
        if not isinstance(features, list) or not features:
            raise CounterfactualError(
                "feature space: must hold a non-empty 'features' list. Got "
                f"{type(features).__name__}."
            )
        names, kinds, cats, missing, imputed = [], [], [], [], []
        for i, item in enumerate(features):
            ok = isinstance(item, Mapping) and {"name", "kind", "categories"} <= set(item)
            if not ok or not isinstance(item["categories"], list):
                raise CounterfactualError(
                    f"feature space.features[{i}]: must have name, kind and a categories list. "
                    f"Got {item!r}."
                )
            names.append(str(item["name"]))
            kinds.append(str(item["kind"]))
            cats.append(tuple(item["categories"]))
            missing.append(str(item.get("missing", "forbid")))
            value = item.get("imputed", float("nan"))
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise CounterfactualError(
                    f"feature space.features[{i}].imputed: must be a number. Got {value!r}."
                )
            imputed.append(float(value))
        return cls(
            names=tuple(names),
            kinds=tuple(kinds),
            categories=tuple(cats),
            missing=tuple(missing),
            imputed=tuple(imputed),
        )

    # ------------------------------------------------------------------ sizes
    @property
    def n_features(self) -> int:
        """Number of features (columns of the codes array)."""
        return len(self.names)

    @property
    def n_design(self) -> int:
        """Number of columns of the design matrix."""
        return len(self.design_names)

    def design_columns(self, feature: str) -> slice:
        """Return the design-matrix columns of one feature."""
        if feature not in self.names:
            raise CounterfactualError(
                f"feature: must be one of the model's features. Got {feature!r}."
            )
        start, width = self._columns[self.names.index(feature)]
        return slice(start, start + width)

    # ------------------------------------------------------------------ conversions
    def to_codes(self, clients: pd.DataFrame | pd.Series | Mapping[str, Any] | Any) -> FloatArray:
        """Return the (n, d) codes of clients given in business values.

        Columns that are not features are ignored; a missing feature column, an unknown
        category or a missing value a feature forbids raises an error naming the column. A
        kept missing value is NaN; an imputed one takes its recorded code.
        """
        try:
            codes = self._encoder.to_array(clients)
        except ConstraintError as exc:
            raise CounterfactualError(str(exc)) from exc
        nan = np.isnan(codes) & ~self.keeps_missing
        if nan.any():
            bad = [self.names[j] for j in np.flatnonzero(nan.any(axis=0))]
            raise CounterfactualError(
                f"clients: values must not be missing. Got missing values in {bad}."
            )
        huge = ~np.isnan(codes) & ~(np.abs(codes) <= _MAX_VALUE)
        if huge.any():
            j = int(np.flatnonzero(huge.any(axis=0))[0])
            raise CounterfactualError(
                f"clients.{self.names[j]}: values must be finite numbers, at most 1e15 in "
                f"size. Got {float(codes[huge[:, j], j][0])!r}. Hint: correct the value (a text "
                "such as 'inf', or a number such as 1e309, is read as infinity)."
            )
        return codes

    def to_frame(self, codes: FloatArray) -> pd.DataFrame:
        """Return business values (labels, amounts) for an (n, d) codes array."""
        array = self.check_codes(codes)
        return self._encoder.to_frame(array)

    def to_design(self, codes: FloatArray) -> FloatArray:
        """Return the design matrix of an (n, d) codes array (categoricals one-hot).

        A missing categorical value is NaN in each of its indicator columns.
        """
        array = self.check_codes(codes)
        out = np.zeros((len(array), self.n_design), dtype=np.float64)
        for j, (start, width) in enumerate(self._columns):
            if self.kinds[j] != "categorical":
                out[:, start] = array[:, j]
                continue
            missing = np.isnan(array[:, j])
            known = np.where(missing, 0.0, array[:, j])
            code = np.rint(known).astype(np.int64)
            bad = (code < 0) | (code >= width) | (code != known)
            if bad.any():
                raise CounterfactualError(
                    f"codes.{self.names[j]}: must be a category code in 0..{width - 1}. "
                    f"Got {array[bad, j][0]!r}."
                )
            out[np.arange(len(array)), start + code] = 1.0
            out[missing, start : start + width] = np.nan
        return out

    def design_from_frame(self, clients: pd.DataFrame) -> FloatArray:
        """Return the design matrix of clients given in business values."""
        return self.to_design(self.to_codes(clients))

    def check_codes(self, codes: FloatArray | Sequence[Sequence[float]]) -> FloatArray:
        """Return ``codes`` as a finite (n, d) float array, or raise naming what is wrong."""
        try:
            array = np.asarray(codes, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise CounterfactualError(
                f"codes: must be a numeric array with {self.n_features} columns. Got "
                f"{type(codes).__name__}."
            ) from exc
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] != self.n_features:
            raise CounterfactualError(
                f"codes: must have {self.n_features} columns, one per feature "
                f"({', '.join(self.names[:5])}{', ...' if self.n_features > 5 else ''}). "
                f"Got shape {array.shape}."
            )
        bad = ~np.isfinite(array) & ~(np.isnan(array) & self.keeps_missing)
        if bad.any():
            j = int(np.flatnonzero(bad.any(axis=0))[0])
            raise CounterfactualError(
                f"codes.{self.names[j]}: values must be finite (NaN only where a feature keeps "
                f"missing values). Got {float(array[bad[:, j], j][0])!r}."
            )
        return array
