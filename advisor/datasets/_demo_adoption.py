"""Adoption mechanisms: who takes each product in the next 12 months.

For a client who does not hold product ``p``, the probability of taking it is
``expit(INTERCEPTS[p] + logit_p(parents))``; the label is drawn from that probability with the
client's own noise. A client who already holds ``p`` never "takes" it again (probability 0).
The intercepts set the portfolio-level take-up rates (see ``docs/demo-portfolio.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from advisor.datasets._demo_equations import (
    CAPITAL,
    COUPLE,
    OCCUPATION_CODE,
    FloatArray,
    Node,
    ParentValues,
    bump,
    expit,
    log_ratio,
)
from advisor.datasets._demo_schema import PRODUCTS
from advisor.datasets._noise import ClientNoise

__all__ = ["ADOPTION", "INTERCEPTS", "Adoption", "label_nodes"]

Logit = Callable[[ParentValues], FloatArray]

# Tuned once by root-finding (seed 0, 200,000 clients) so that the portfolio-level take-up
# rates are 4-6 %: savings 6, life 6, securities 4, home loan 4, consumer loan 6, premium card 5,
# home insurance 4, protection 5 (percent of all clients).
INTERCEPTS: dict[str, float] = {
    "savings_account": -2.81,
    "life_insurance": -4.62,
    "securities_account": -4.95,
    "home_loan": -4.67,
    "consumer_loan": -3.72,
    "premium_card": -5.15,
    "home_insurance": -4.03,
    "protection_insurance": -4.54,
}


@dataclass(frozen=True, slots=True)
class Adoption:
    """Take-up mechanism of one product: parents and logit (without intercept)."""

    product: str
    parents: tuple[str, ...]
    logit: Logit

    @property
    def node(self) -> Node:
        """The label node ``take_<product>`` (parents include the current holding)."""
        return Node(f"take_{self.product}", (*self.parents, f"has_{self.product}"), self._draw)

    def probability(self, values: ParentValues) -> FloatArray:
        """Return the true probability of taking the product in the next 12 months."""
        p = expit(INTERCEPTS[self.product] + self.logit(values))
        return np.where(values[f"has_{self.product}"] > 0, 0.0, p)

    def _draw(self, values: ParentValues, noise: ClientNoise) -> NDArray[np.bool_]:
        return noise.uniform(f"take_{self.product}") < self.probability(values)


ADOPTION: dict[str, Adoption] = {}


def _adoption(product: str, *parents: str) -> Callable[[Logit], Logit]:
    def register(logit: Logit) -> Logit:
        ADOPTION[product] = Adoption(product, parents, logit)
        return logit

    return register


def _as_float(x: object) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def label_nodes() -> list[Node]:
    """Return the label nodes in product order."""
    return [ADOPTION[p].node for p in PRODUCTS]


@_adoption(
    "savings_account",
    "monthly_savings_transfer",
    "salary_domiciled",
    "mobile_app",
    "advisor_meetings_per_year",
    "monthly_income",
    "age",
    "engagement",
)
def _savings(v: ParentValues) -> FloatArray:
    transfer = v["monthly_savings_transfer"]
    return _as_float(
        1.0 * (transfer > 0)
        + 0.003 * np.minimum(transfer, 500)
        + 0.9 * v["salary_domiciled"]
        + 0.4 * v["mobile_app"]
        + 0.15 * v["advisor_meetings_per_year"]
        + 0.5 * log_ratio(v["monthly_income"], 2200)
        - 0.015 * (v["age"] - 40)
        + 0.5 * v["engagement"]
    )


@_adoption(
    "life_insurance",
    "savings_balance",
    "monthly_savings_transfer",
    "advisor_meetings_per_year",
    "children",
    "salary_domiciled",
    "age",
    "engagement",
)
def _life(v: ParentValues) -> FloatArray:
    return _as_float(
        0.7 * np.log1p(v["savings_balance"] / 10_000)
        + 0.002 * np.minimum(v["monthly_savings_transfer"], 600)
        + 0.18 * v["advisor_meetings_per_year"]
        + 0.4 * (v["children"] > 0)
        + 0.5 * v["salary_domiciled"]
        + 1.0 * bump(v["age"], 50, 15)
        + 0.4 * v["engagement"]
    )


@_adoption(
    "securities_account",
    "savings_balance",
    "monthly_income",
    "digital_logins_per_month",
    "mobile_app",
    "advisor_meetings_per_year",
    "occupation",
    "engagement",
)
def _securities(v: ParentValues) -> FloatArray:
    return _as_float(
        0.8 * np.log1p(v["savings_balance"] / 10_000)
        + 0.7 * log_ratio(v["monthly_income"], 2200)
        + 0.03 * v["digital_logins_per_month"]
        + 0.4 * v["mobile_app"]
        + 0.12 * v["advisor_meetings_per_year"]
        + 0.5 * (v["occupation"] == OCCUPATION_CODE["executive"])
        + 0.4 * v["engagement"]
    )


@_adoption(
    "home_loan",
    "age",
    "household",
    "children",
    "monthly_income",
    "salary_domiciled",
    "debt_ratio",
    "savings_balance",
    "overdraft_days_per_month",
    "advisor_meetings_per_year",
    "region",
)
def _home_loan(v: ParentValues) -> FloatArray:
    return _as_float(
        1.6 * bump(v["age"], 35, 9)
        + 0.6 * (v["household"] == COUPLE)
        + 0.25 * np.minimum(v["children"], 3)
        + 0.8 * log_ratio(v["monthly_income"], 2200)
        + 1.0 * v["salary_domiciled"]
        - 4.0 * v["debt_ratio"]
        + 0.35 * np.log1p(v["savings_balance"] / 20_000)
        - 0.06 * v["overdraft_days_per_month"]
        + 0.1 * v["advisor_meetings_per_year"]
        - 0.4 * (v["region"] == CAPITAL)
    )


@_adoption(
    "consumer_loan",
    "overdraft_days_per_month",
    "card_spend_monthly",
    "debt_ratio",
    "mobile_app",
    "age",
    "salary_domiciled",
    "digital_logins_per_month",
)
def _consumer_loan(v: ParentValues) -> FloatArray:
    return _as_float(
        0.07 * v["overdraft_days_per_month"]
        + 0.4 * log_ratio(v["card_spend_monthly"], 400)
        - 2.5 * v["debt_ratio"]
        + 0.5 * v["mobile_app"]
        - 0.02 * (v["age"] - 40)
        + 0.4 * v["salary_domiciled"]
        + 0.03 * v["digital_logins_per_month"]
    )


@_adoption(
    "premium_card",
    "monthly_income",
    "card_spend_monthly",
    "salary_domiciled",
    "digital_logins_per_month",
    "mobile_app",
    "engagement",
)
def _premium_card(v: ParentValues) -> FloatArray:
    return _as_float(
        1.0 * log_ratio(v["monthly_income"], 2200)
        + 0.8 * log_ratio(v["card_spend_monthly"], 400)
        + 0.8 * v["salary_domiciled"]
        + 0.03 * v["digital_logins_per_month"]
        + 0.4 * v["mobile_app"]
        + 0.3 * v["engagement"]
    )


@_adoption(
    "home_insurance",
    "has_home_loan",
    "household",
    "salary_domiciled",
    "advisor_meetings_per_year",
    "age",
)
def _home_insurance(v: ParentValues) -> FloatArray:
    return _as_float(
        2.2 * v["has_home_loan"]
        + 0.5 * (v["household"] == COUPLE)
        + 0.3 * v["salary_domiciled"]
        + 0.12 * v["advisor_meetings_per_year"]
        + 0.01 * (v["age"] - 40)
    )


@_adoption(
    "protection_insurance",
    "children",
    "has_home_loan",
    "advisor_meetings_per_year",
    "salary_domiciled",
    "age",
    "engagement",
)
def _protection(v: ParentValues) -> FloatArray:
    return _as_float(
        0.45 * np.minimum(v["children"], 3)
        + 1.0 * v["has_home_loan"]
        + 0.2 * v["advisor_meetings_per_year"]
        + 0.5 * v["salary_domiciled"]
        + 0.8 * bump(v["age"], 42, 12)
        + 0.3 * v["engagement"]
    )
