"""Portfolio views for advisors: the demo portfolio, filters and holding summaries."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from advisor.datasets import PRODUCT_LABELS, PRODUCTS, make_demo_portfolio
from advisor.errors import AdvisorError

__all__ = [
    "ClientFilter",
    "DemoSettings",
    "filter_clients",
    "holdings_summary",
    "load_demo_portfolio",
    "portfolio_overview",
]

PROFILE_COLUMNS = (
    "client_id",
    "age",
    "region",
    "household",
    "children",
    "occupation",
    "monthly_income",
    "n_products",
)


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
        for field, var in (("n_clients", "LEVERS_DEMO_CLIENTS"), ("seed", "LEVERS_DEMO_SEED")):
            raw = env.get(var)
            if raw is None:
                continue
            try:
                values[field] = int(raw.replace("_", ""))
            except ValueError as exc:
                raise AdvisorError(f"{var}: must be a whole number. Got {raw!r}.") from exc
        return cls(**values)


def load_demo_portfolio(settings: DemoSettings | None = None) -> pd.DataFrame:
    """Return the demo portfolio for ``settings`` (defaults: 20,000 clients, seed 0)."""
    settings = settings or DemoSettings()
    return make_demo_portfolio(n_clients=settings.n_clients, seed=settings.seed)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientFilter:
    """What an advisor filters the client list on; empty fields do not filter."""

    search: str = ""
    regions: tuple[str, ...] = ()
    occupations: tuple[str, ...] = ()
    age_range: tuple[int, int] = (18, 90)

    def __post_init__(self) -> None:
        low, high = self.age_range
        if not 18 <= low <= high <= 90:
            raise AdvisorError(
                f"ClientFilter.age_range: must satisfy 18 <= low <= high <= 90. "
                f"Got {self.age_range}."
            )


def filter_clients(clients: pd.DataFrame, query: ClientFilter) -> pd.DataFrame:
    """Return the clients matching ``query`` (identifier search is case-insensitive)."""
    keep = clients["age"].between(*query.age_range)
    if query.search.strip():
        keep &= clients["client_id"].str.contains(query.search.strip(), case=False, regex=False)
    if query.regions:
        keep &= clients["region"].isin(query.regions)
    if query.occupations:
        keep &= clients["occupation"].isin(query.occupations)
    return clients.loc[keep]


def holdings_summary(clients: pd.DataFrame) -> pd.DataFrame:
    """Per product: share of clients holding it today and 12-month take-up rate.

    Returns
    -------
    pandas.DataFrame
        Columns ``product``, ``label``, ``held`` and ``taken_next_12m`` (shares in [0, 1]).
    """
    rows = [
        {
            "product": product,
            "label": PRODUCT_LABELS[product],
            "held": float(clients[f"has_{product}"].mean()) if len(clients) else 0.0,
            "taken_next_12m": float(clients[f"take_{product}"].mean()) if len(clients) else 0.0,
        }
        for product in PRODUCTS
    ]
    return pd.DataFrame(rows)


def portfolio_overview(clients: pd.DataFrame) -> dict[str, float]:
    """Headline figures of a set of clients (count, products, income, salary domiciled)."""
    if clients.empty:
        return {"clients": 0, "products_per_client": 0.0, "median_income": 0.0, "salary_share": 0.0}
    return {
        "clients": len(clients),
        "products_per_client": float(clients["n_products"].mean()),
        "median_income": float(clients["monthly_income"].median()),
        "salary_share": float(clients["salary_domiciled"].mean()),
    }
