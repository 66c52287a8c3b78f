"""Next-best product: one calibrated propensity model per product, held products excluded."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.errors import ModelError
from advisor.models._automl import MAX_BUDGET_S, TrainingResult, train
from advisor.models._card import ModelName
from advisor.models._propensity import PropensityModel
from advisor.models._study import TrialProgress
from constraints import (
    AnyOf,
    ConstraintError,
    ConstraintSet,
    InstanceOf,
    Number,
    OneOf,
    ParamSpec,
    Whole,
    check_params,
    load_constraints,
    read_constraint_text,
)
from counterfactuals import CounterfactualError, FeatureSpace, ModelAdapter

__all__ = [
    "RECOMMEND_PARAMS",
    "TRAIN_RECOMMENDER_PARAMS",
    "Product",
    "ProductCatalog",
    "ProductRecommender",
    "RecommenderTraining",
    "load_product_catalog",
    "train_recommender",
]

FloatArray = NDArray[np.float64]
RECOMMEND_PARAMS: ParamSpec = {
    "top": Whole(1),
    "by": OneOf(("expected_value", "propensity")),
}
"""The rules of :meth:`ProductRecommender.recommend`'s options."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ProductLabel(_Strict):
    """A product's name for advisors, in English and French."""

    en: str = Field(min_length=1)
    fr: str = Field(min_length=1)


class Product(_Strict):
    """One product of the catalogue.

    ``target`` is the training label (the client took the product), ``held`` the binary
    feature saying the client already holds it, ``value`` the expected value of one sale
    (e.g. yearly margin, in the catalogue's currency).
    """

    label: ProductLabel
    target: str = Field(min_length=1)
    held: str = Field(min_length=1)
    value: float = Field(gt=0)


class ProductCatalog(_Strict):
    """The products a recommender ranks, with their value (from a YAML configuration)."""

    name: str = Field(min_length=1)
    currency: str = "EUR"
    products: dict[ModelName, Product] = Field(min_length=1)

    def check_against(self, constraints: ConstraintSet, data: pd.DataFrame | None = None) -> None:
        """Check every product's columns: ``held`` is a binary feature, ``target`` in the data."""
        problems = []
        for name, product in self.products.items():
            if product.held not in constraints.feature_names:
                problems.append(
                    f"products.{name}.held: must be a binary feature of the constraint file. "
                    f"Got {product.held!r}."
                )
            elif constraints.feature(product.held).kind != "binary":
                problems.append(
                    f"products.{name}.held: must be a binary feature. Got kind "
                    f"{constraints.feature(product.held).kind}."
                )
            if data is not None and product.target not in data.columns:
                problems.append(
                    f"products.{name}.target: must be a column of the data. Got {product.target!r}."
                )
        if problems:
            raise ModelError(
                f"{self.name}: the product catalogue does not fit: " + " ".join(problems)
            )


_MAX_DEPTH = 32  # a catalogue is a few levels deep; deeper nesting is refused unparsed


def _plain_yaml(text: str, name: str) -> Any:
    """Parse ``text`` after refusing anchors, aliases and deep nesting from its events.

    Aliases are how a few hundred bytes of YAML grow to gigabytes ("billion laughs"); the
    events are read before any object is built, so a bomb is never expanded.
    """
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1 if event.start_mark is not None else 0
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ModelError(
                    f"{name}:{line}: anchors (&name) and aliases (*name) are not allowed in a "
                    "product catalogue. Hint: write the values out in full."
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > _MAX_DEPTH:
                    raise ModelError(
                        f"{name}:{line}: must nest at most {_MAX_DEPTH} levels. Got deeper nesting."
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ModelError(f"{name}: must be valid YAML. Got {exc}.") from exc


def load_product_catalog(path: str | os.PathLike[str]) -> ProductCatalog:
    """Read a product catalogue YAML file, listing every problem with its key path.

    The file is read as a constraint file is (a regular UTF-8 file of at most 1 MB, read
    once); anchors, aliases and nesting beyond 32 levels are refused before parsing.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ModelError(f"catalog: must be a path to a YAML file. Got {type(path).__name__}.")
    file = Path(path)
    try:
        text = read_constraint_text(file)
    except ConstraintError as exc:
        raise ModelError(str(exc).replace("constraint file", "product catalogue")) from exc
    raw = _plain_yaml(text, file.name)
    try:
        return ProductCatalog.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"{file.name}: {'.'.join(map(str, err['loc'])) or '(top)'}: {err['msg']}. "
            f"Got {err.get('input')!r:.120}."
            for err in exc.errors()
        ]
        raise ModelError("\n".join(lines)) from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductRecommender:
    """Ranks the products a client does not hold by expected value (propensity x value).

    Parameters
    ----------
    catalog
        The products, their labels and values.
    models
        One calibrated propensity model per product, all over the same feature space.
    """

    catalog: ProductCatalog
    models: Mapping[str, PropensityModel]

    def __post_init__(self) -> None:
        missing = [p for p in self.catalog.products if p not in self.models]
        if missing:
            raise ModelError(f"models: must hold one model per product. Got none for {missing}.")
        spaces = {model.space for model in self.models.values()}
        if len(spaces) != 1:
            raise ModelError("models: must share one feature space. Got different features.")

    @property
    def products(self) -> tuple[str, ...]:
        """Product names, in catalogue order."""
        return tuple(self.catalog.products)

    @property
    def space(self) -> FeatureSpace:
        """The feature space shared by every product's model."""
        return next(iter(self.models.values())).space

    @property
    def values(self) -> FloatArray:
        """Value of one sale per product, in catalogue order."""
        return np.array([p.value for p in self.catalog.products.values()], dtype=np.float64)

    def _checked(self, codes: FloatArray) -> FloatArray:
        try:
            return self.space.check_codes(codes)
        except CounterfactualError as exc:
            raise ModelError(str(exc)) from exc

    def held_codes(self, codes: FloatArray) -> NDArray[np.bool_]:
        """Return an (n, P) mask: the client already holds the product."""
        columns = [self.space.names.index(p.held) for p in self.catalog.products.values()]
        return self._checked(codes)[:, columns] >= 0.5

    def propensity_codes(self, codes: FloatArray) -> FloatArray:
        """Return (n, P) propensities for codes, 0 for held products (one call per model)."""
        array = self._checked(codes)
        return self._scores(array, self.held_codes(array))

    def _scores(self, codes: FloatArray, held: NDArray[np.bool_]) -> FloatArray:
        scores = np.column_stack([self.models[p].score_codes(codes) for p in self.products])
        return np.where(held, 0.0, scores)

    def _codes(self, clients: Any) -> FloatArray:
        try:
            return self.space.to_codes(clients)
        except CounterfactualError as exc:
            raise ModelError(str(exc)) from exc

    def propensities(self, clients: pd.DataFrame) -> pd.DataFrame:
        """Return each client's propensity for every product (0 where already held)."""
        index = clients.index if isinstance(clients, pd.DataFrame) else None
        return pd.DataFrame(
            self.propensity_codes(self._codes(clients)), columns=list(self.products), index=index
        )

    def counterfactual_adapter(self) -> ModelAdapter:
        """Return how counterfactual engines see the recommender (outputs are products)."""
        return ModelAdapter(
            space=self.space,
            outputs=self.products,
            proba_codes=self.propensity_codes,
            proba_frame=lambda frame: self.propensities(frame).to_numpy(dtype=np.float64),
            structure=lambda: {
                j: self.models[p].margin_model() for j, p in enumerate(self.products)
            },
            ranked=True,
            values=self.values,
            held=self.held_codes,
            family="recommender",
        )

    def recommend(
        self,
        clients: pd.DataFrame,
        top: int = 3,
        by: Literal["expected_value", "propensity"] = "expected_value",
    ) -> pd.DataFrame:
        """Return each client's ``top`` products not held yet, best first.

        Returns
        -------
        pandas.DataFrame
            One row per (client, rank): ``client`` (the input's index label), ``rank``,
            ``product``, ``label``, ``propensity``, ``value`` and ``expected_value``.
            Clients holding every product get no row.
        """
        checked = check_params({"top": top, "by": by}, RECOMMEND_PARAMS, error=ModelError)
        top, by = checked["top"], checked["by"]
        codes = self._codes(clients)
        held = self.held_codes(codes)
        p = self._scores(codes, held)
        ev = p * self.values
        key = np.where(held, -np.inf, ev if by == "expected_value" else p)
        order = np.argsort(-key, axis=1, kind="stable")[:, :top]
        rows, ranks = np.divmod(np.arange(order.size), order.shape[1])
        cols = order.reshape(-1)
        keep = np.isfinite(key[rows, cols])
        rows, ranks, cols = rows[keep], ranks[keep], cols[keep]
        index = clients.index if isinstance(clients, pd.DataFrame) else pd.RangeIndex(len(codes))
        labels = [p.label.en for p in self.catalog.products.values()]
        return pd.DataFrame(
            {
                "client": index.to_numpy()[rows],
                "rank": ranks + 1,
                "product": np.array(self.products, dtype=object)[cols],
                "label": np.array(labels, dtype=object)[cols],
                "propensity": p[rows, cols],
                "value": self.values[cols],
                "expected_value": ev[rows, cols],
            }
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RecommenderTraining:
    """A trained recommender and the training result of each product's model."""

    recommender: ProductRecommender
    results: Mapping[str, TrainingResult]
    constraints: ConstraintSet
    constraint_text: str | None
    seed: int


TRAIN_RECOMMENDER_PARAMS: ParamSpec = {
    "catalog": InstanceOf((ProductCatalog,), "a ProductCatalog (see load_product_catalog)"),
    "budget_s": (Number(0.0, MAX_BUDGET_S, low_open=True, unit="seconds"), None),
    "seed": Whole(0),
    "progress": (AnyOf(callable, "a callable taking (product, TrialProgress)"), None),
}
"""The rules of :func:`train_recommender`'s own parameters (``options`` are :func:`train`'s)."""


def train_recommender(
    data: pd.DataFrame,
    catalog: ProductCatalog,
    constraints: ConstraintSet | str | os.PathLike[str],
    *,
    budget_s: float | None = 300.0,
    seed: int = 0,
    progress: Callable[[str, TrialProgress], None] | None = None,
    **options: Any,
) -> RecommenderTraining:
    """Train one calibrated propensity model per product, on the clients not holding it.

    Parameters
    ----------
    data
        Clients with the features, every product's ``held`` column and ``target`` label.
    catalog
        The products to recommend.
    constraints
        The constraint file (bound to ``data``) or a bound set; shared by every model.
    budget_s
        Total budget, split evenly across products.
    seed
        Seed of every product's study.
    progress
        Called with (product, trial progress) after each trial.
    **options
        Passed to :func:`train` (``families``, ``n_trials``, ``metric``, ``n_folds`` ...).

    Returns
    -------
    RecommenderTraining
        The recommender and each product's :class:`TrainingResult`.

    Raises
    ------
    ModelError
        A parameter breaks :data:`TRAIN_RECOMMENDER_PARAMS` (or ``options``
        :data:`~advisor.models.TRAIN_PARAMS`), or the catalogue does not fit the data.
    """
    checked = check_params(
        {"catalog": catalog, "budget_s": budget_s, "seed": seed, "progress": progress},
        TRAIN_RECOMMENDER_PARAMS,
        error=ModelError,
    )
    budget_s, seed = checked["budget_s"], checked["seed"]
    text: str | None = None
    if isinstance(constraints, ConstraintSet):
        constraint_set = constraints
    else:
        path = Path(constraints)
        if not path.is_file():
            raise ModelError(
                f"constraints: must be an existing constraint file. Got {str(path)!r}."
            )
        text = path.read_text(encoding="utf-8")
        constraint_set = load_constraints(path, data)
    catalog.check_against(constraint_set, data)
    share = None if budget_s is None else budget_s / len(catalog.products)
    results: dict[str, TrainingResult] = {}
    for name, product in catalog.products.items():
        held = data[product.held].astype(bool).to_numpy()
        on_trial = None if progress is None else _tagged(progress, name)
        results[name] = train(
            data.loc[~held],
            product.target,
            constraint_set,
            budget_s=share,
            seed=seed,
            progress=on_trial,
            **options,
        )
    models = {name: result.model for name, result in results.items()}
    return RecommenderTraining(
        recommender=ProductRecommender(catalog=catalog, models=models),
        results=results,
        constraints=constraint_set,
        constraint_text=text,
        seed=seed,
    )


def _tagged(
    progress: Callable[[str, TrialProgress], None], product: str
) -> Callable[[TrialProgress], None]:
    def report(event: TrialProgress) -> None:
        progress(product, event)

    return report


def text_sha256(text: str | None) -> str | None:
    """Return the SHA-256 of a text, or None."""
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()
