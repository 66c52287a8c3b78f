"""Portfolio views for advisors: filters and summaries of any client table.

Nothing here assumes a data set's columns: filters name the constraint file's features,
rates name the bundle's targets, holdings come from a recommender's product catalogue.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from advisor.datasets import make_demo_portfolio
from advisor.errors import AdvisorError
from advisor.levers import Advisor
from constraints import FeatureSpec

__all__ = [
    "ClientFilter",
    "DemoSettings",
    "filter_clients",
    "holdings_summary",
    "load_demo_portfolio",
    "observed_rate",
    "yes_mask",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoSettings:
    """Size and seed of the demo portfolio the app serves.

    Parameters
    ----------
    n_clients
        Number of clients (environment variable ``LEVERS_DEMO_CLIENTS``).
    seed
        Seed of the structural causal model (``LEVERS_DEMO_SEED``).
    """

    n_clients: int = 20_000
    seed: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DemoSettings:
        """Read the settings from the environment, with clear errors for bad values."""
        env = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for field_name, var in (("n_clients", "LEVERS_DEMO_CLIENTS"), ("seed", "LEVERS_DEMO_SEED")):
            raw = env.get(var)
            if raw is None:
                continue
            try:
                values[field_name] = int(raw.replace("_", ""))
            except ValueError as exc:
                raise AdvisorError(f"{var}: must be a whole number. Got {raw!r}.") from exc
        return cls(**values)


def load_demo_portfolio(settings: DemoSettings | None = None) -> pd.DataFrame:
    """Return the demo portfolio for ``settings`` (defaults: 20,000 clients, seed 0)."""
    settings = settings or DemoSettings()
    return make_demo_portfolio(n_clients=settings.n_clients, seed=settings.seed)


def _checked_range(name: str, bounds: Any) -> tuple[float, float]:
    where = f"ClientFilter.ranges[{name!r}]"
    if not isinstance(bounds, Sequence) or isinstance(bounds, str) or len(bounds) != 2:
        raise AdvisorError(f"{where}: must be a (low, high) pair. Got {bounds!r}.")
    low, high = bounds
    for value in (low, high):
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise AdvisorError(f"{where}: bounds must be numbers. Got {value!r}.")
        if not math.isfinite(float(value)):
            raise AdvisorError(f"{where}: bounds must be finite. Got {value!r}.")
    if float(low) > float(high):
        raise AdvisorError(f"{where}: low must not exceed high. Got ({low}, {high}).")
    return float(low), float(high)


def _checked_names(where: str, mapping: Any) -> Mapping[str, Any]:
    if not isinstance(mapping, Mapping):
        raise AdvisorError(f"{where}: must map feature names to values. Got {mapping!r}.")
    for name in mapping:
        if not isinstance(name, str) or not name:
            raise AdvisorError(f"{where}: feature names must be non-empty strings. Got {name!r}.")
    return mapping


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientFilter:
    """What an advisor filters the client list on; empty fields do not filter.

    Parameters
    ----------
    search
        Part of a client id (the client table's index), case-insensitive.
    choices
        Feature -> the values kept (an empty tuple keeps every client).
    ranges
        Feature -> ``(low, high)``, both included. A client whose value is missing leaves
        the selection once its feature is filtered.
    """

    search: str = ""
    choices: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.search, str):
            raise AdvisorError(f"ClientFilter.search: must be a string. Got {self.search!r}.")
        choices = _checked_names("ClientFilter.choices", self.choices)
        for name, kept in choices.items():
            if isinstance(kept, str) or not isinstance(kept, Sequence | set | frozenset):
                raise AdvisorError(
                    f"ClientFilter.choices[{name!r}]: must be a list of values. Got {kept!r}."
                )
        ranges = _checked_names("ClientFilter.ranges", self.ranges)
        object.__setattr__(
            self, "choices", MappingProxyType({n: tuple(v) for n, v in choices.items()})
        )
        object.__setattr__(
            self,
            "ranges",
            MappingProxyType({n: _checked_range(n, b) for n, b in ranges.items()}),
        )

    @property
    def features(self) -> tuple[str, ...]:
        """The features the filter looks at."""
        return tuple(dict.fromkeys([*self.choices, *self.ranges]))


def filter_clients(clients: pd.DataFrame, query: ClientFilter) -> pd.DataFrame:
    """Return the clients matching ``query``, in their order.

    Raises
    ------
    AdvisorError
        ``clients`` is not a DataFrame, ``query`` not a :class:`ClientFilter`, or the filter
        names a feature that is not a column of the clients.

    Examples
    --------
    >>> clients = pd.DataFrame({"job": ["a", "b", "a"], "age": [30, 50, 70]}, index=[*"123"])
    >>> query = ClientFilter(choices={"job": ("a",)}, ranges={"age": (40, 90)})
    >>> filter_clients(clients, query).index.tolist()
    ['3']
    """
    if not isinstance(clients, pd.DataFrame):
        raise AdvisorError(f"clients: must be a DataFrame. Got {type(clients).__name__}.")
    if not isinstance(query, ClientFilter):
        raise AdvisorError(f"query: must be a ClientFilter. Got {type(query).__name__}.")
    absent = [name for name in query.features if name not in clients.columns]
    if absent:
        raise AdvisorError(
            f"ClientFilter: every feature must be a column of the clients. Got {absent[0]!r}. "
            "Hint: filter on the constraint file's features present in the data."
        )
    keep = np.ones(len(clients), dtype=bool)
    search = query.search.strip()
    if search:
        ids = pd.Series(clients.index.astype(str), index=clients.index)
        keep &= ids.str.contains(search, case=False, regex=False).to_numpy(dtype=bool)
    for name, kept in query.choices.items():
        if kept:
            keep &= clients[name].isin(list(kept)).to_numpy(dtype=bool, na_value=False)
    for name, (low, high) in query.ranges.items():
        values = pd.to_numeric(clients[name], errors="coerce")
        keep &= values.between(low, high).to_numpy(dtype=bool, na_value=False)
    return clients.loc[keep]


def observed_rate(clients: pd.DataFrame, column: str, positive: Any) -> float | None:
    """Share of the clients whose ``column`` equals ``positive`` (None: no column or no client).

    Missing values count as not positive.

    Examples
    --------
    >>> observed_rate(pd.DataFrame({"y": ["yes", "no", "no", "yes"]}), "y", "yes")
    0.5
    """
    if not isinstance(clients, pd.DataFrame):
        raise AdvisorError(f"clients: must be a DataFrame. Got {type(clients).__name__}.")
    if column not in clients.columns or clients.empty:
        return None
    values = clients[column]
    hits = values.eq(positive).to_numpy(dtype=bool, na_value=False)
    if not hits.any() and isinstance(positive, str):  # the data's own spelling ("1" vs 1)
        hits = values.astype(str).eq(positive).to_numpy(dtype=bool)
    return float(hits.mean())


def yes_mask(column: pd.Series, spec: FeatureSpec) -> np.ndarray:
    """Which clients have the "yes" value of a binary feature (its second label, or True)."""
    if spec.kind != "binary":
        raise AdvisorError(f"{spec.name}: must be a binary feature. Got kind {spec.kind!r}.")
    labels = spec.categories
    if len(labels) == 2 and not isinstance(labels[1], bool | np.bool_):
        return column.eq(labels[1]).to_numpy(dtype=bool, na_value=False)
    numbers = pd.to_numeric(column.astype("object"), errors="coerce")
    return numbers.fillna(0).to_numpy(dtype=np.float64) >= 0.5


def holdings_summary(clients: pd.DataFrame, advisor: Advisor) -> pd.DataFrame:
    """Per product of a recommender: the share holding it and the share that took it.

    Parameters
    ----------
    clients
        Client rows with the catalogue's holding columns (and, when present, its targets).
    advisor
        The advisor of a product recommender (its catalogue gives the products).

    Returns
    -------
    pandas.DataFrame
        Columns ``product``, ``label_en``, ``label_fr``, ``held`` and ``taken`` (shares in
        [0, 1]; ``taken`` is NaN when the data has no target column for the product).
    """
    if not isinstance(advisor, Advisor) or not advisor.is_recommender:
        raise AdvisorError("advisor: must be a product recommender's advisor. Got a single model.")
    rows = []
    for product in advisor.products:
        info = advisor.product(product)
        held = math.nan
        if info.held is not None and info.held in clients.columns and len(clients):
            spec = advisor.constraints.feature(info.held)
            held = float(yes_mask(clients[info.held], spec).mean())
        taken = observed_rate(clients, info.target, info.positive)
        rows.append(
            {
                "product": product,
                "label_en": advisor.product_label(product, "en"),
                "label_fr": advisor.product_label(product, "fr"),
                "held": held,
                "taken": math.nan if taken is None else taken,
            }
        )
    return pd.DataFrame(rows, columns=["product", "label_en", "label_fr", "held", "taken"])
