"""Structural equations of the demo portfolio (one function per node, topological order).

Every node declares its parents; an equation reading anything else fails, so the published
causal graph is, by construction, the graph the data are generated from. Categorical nodes
hold integer codes (see ``CATEGORIES``); binary nodes hold booleans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from advisor.datasets._demo_schema import CATEGORIES, PRODUCTS
from advisor.datasets._noise import ClientNoise, choose, poisson

__all__ = [
    "CAPITAL",
    "COUPLE",
    "LATENT",
    "NODES",
    "OCCUPATION_CODE",
    "Node",
    "ParentValues",
    "bump",
    "expit",
    "log_ratio",
]

Array = NDArray[np.generic]
FloatArray = NDArray[np.float64]

LATENT = frozenset({"engagement"})
OCCUPATION_CODE = {name: code for code, name in enumerate(CATEGORIES["occupation"])}
CAPITAL = CATEGORIES["region"].index("capital")
COUPLE = CATEGORIES["household"].index("couple")


class ParentValues(Mapping[str, FloatArray]):
    """Read-only view of the values a node may read: its declared parents only."""

    __slots__ = ("_node", "_values")

    def __init__(self, node: Node, values: Mapping[str, Array]) -> None:
        self._node = node
        self._values = values

    def __getitem__(self, key: str) -> FloatArray:
        if key not in self._node.parents:
            raise KeyError(f"{self._node.name}: {key!r} is not a declared parent")
        return np.asarray(self._values[key], dtype=np.float64)

    def __iter__(self) -> Iterator[str]:
        return iter(self._node.parents)

    def __len__(self) -> int:
        return len(self._node.parents)


Equation = Callable[[ParentValues, ClientNoise], Array]


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the SCM: its parents and its structural equation."""

    name: str
    parents: tuple[str, ...]
    equation: Equation

    def compute(self, values: Mapping[str, Array], noise: ClientNoise) -> Array:
        """Evaluate the equation on the current values of the parents."""
        return self.equation(ParentValues(self, values), noise)


NODES: list[Node] = []


def _node(name: str, *parents: str) -> Callable[[Equation], Equation]:
    def register(equation: Equation) -> Equation:
        NODES.append(Node(name, parents, equation))
        return equation

    return register


def expit(x: FloatArray) -> FloatArray:
    """Return the logistic function of ``x`` (typed wrapper of scipy's ``expit``)."""
    return np.asarray(special.expit(x), dtype=np.float64)


def _round(x: FloatArray, step: float) -> FloatArray:
    return np.round(x / step) * step


def bump(x: FloatArray, centre: float, width: float) -> FloatArray:
    return np.exp(-(((x - centre) / width) ** 2))


def log_ratio(x: FloatArray, reference: float) -> FloatArray:
    return np.log(np.maximum(x, 1.0) / reference)


# --- roots and context ----------------------------------------------------------------------
@_node("age")
def _age(v: ParentValues, e: ClientNoise) -> Array:
    # Kumaraswamy(1.9, 3.0) on [18, 91): mode near 47, thin tail to 90.
    x = (1.0 - (1.0 - e.uniform("age")) ** (1 / 3.0)) ** (1 / 1.9)
    return np.clip(np.floor(18 + 73 * x), 18, 90).astype(np.int64)


@_node("sex")
def _sex(v: ParentValues, e: ClientNoise) -> Array:
    return (e.uniform("sex") >= 0.51).astype(np.int64)


@_node("region")
def _region(v: ParentValues, e: ClientNoise) -> Array:
    weights = np.broadcast_to(np.array([0.19, 0.20, 0.17, 0.24, 0.20]), (len(e), 5))
    return choose(e.uniform("region"), np.asarray(weights, dtype=np.float64))


@_node("engagement")
def _engagement(v: ParentValues, e: ClientNoise) -> Array:
    return e.normal("engagement")


@_node("household", "age")
def _household(v: ParentValues, e: ClientNoise) -> Array:
    p_couple = 0.18 + 0.5 * bump(v["age"], 52, 20)
    return (e.uniform("household") < p_couple).astype(np.int64)


@_node("children", "age", "household")
def _children(v: ParentValues, e: ClientNoise) -> Array:
    lam = (0.25 + 1.35 * (v["household"] == COUPLE)) * bump(v["age"], 41, 11)
    return poisson(e.uniform("children"), lam, cap=5)


@_node("occupation", "age")
def _occupation(v: ParentValues, e: ClientNoise) -> Array:
    age = v["age"]
    working = expit((age - 22) / 2) * expit((67 - age) / 2)
    weights = np.column_stack(
        [
            6 * np.exp(-(age - 18) / 3.5),  # student
            0.50 * working,  # employee
            0.15 * working,  # civil_servant
            0.10 * working * (1 + (age > 35)),  # self_employed
            0.13 * working * expit((age - 30) / 4),  # executive
            0.07 * working,  # unemployed
            12 * expit((age - 63) / 1.5),  # retired
        ]
    )
    return choose(e.uniform("occupation"), weights)


@_node("tenure_years", "age")
def _tenure(v: ParentValues, e: ClientNoise) -> Array:
    return np.floor(e.uniform("tenure") ** 1.3 * (v["age"] - 17)).astype(np.int64)


# --- income and holdings today (history: no lever is among their causes) --------------------
@_node("monthly_income", "age", "occupation", "region")
def _income(v: ParentValues, e: ClientNoise) -> Array:
    base = np.array([650, 2100, 2400, 2900, 4800, 1050, 1900], dtype=np.float64)
    region = np.array([1.25, 0.95, 0.97, 0.98, 1.0])
    occupation = v["occupation"].astype(np.int64)
    age_factor = np.exp(0.012 * (np.minimum(v["age"], 55) - 35))
    income = base[occupation] * age_factor * region[v["region"].astype(np.int64)]
    return np.maximum(_round(income * np.exp(0.38 * e.normal("income")), 10), 300.0)


def _holding(logit: FloatArray, e: ClientNoise, product: str) -> Array:
    return e.uniform(f"has_{product}") < expit(logit)


@_node("has_savings_account", "age", "tenure_years", "monthly_income", "engagement")
def _has_savings(v: ParentValues, e: ClientNoise) -> Array:
    logit = (
        0.3
        + 0.015 * (v["age"] - 40)
        + 0.03 * v["tenure_years"]
        + 0.4 * log_ratio(v["monthly_income"], 2200)
        + 0.4 * v["engagement"]
    )
    return _holding(logit, e, "savings_account")


@_node("has_life_insurance", "age", "tenure_years", "monthly_income", "children", "engagement")
def _has_life(v: ParentValues, e: ClientNoise) -> Array:
    logit = (
        -3.4
        + 0.045 * np.minimum(v["age"] - 18, 45)
        + 0.02 * v["tenure_years"]
        + 0.9 * log_ratio(v["monthly_income"], 2200)
        + 0.3 * (v["children"] > 0)
        + 0.3 * v["engagement"]
    )
    return _holding(logit, e, "life_insurance")


@_node("has_securities_account", "monthly_income", "age", "occupation", "engagement")
def _has_securities(v: ParentValues, e: ClientNoise) -> Array:
    logit = (
        -3.6
        + 1.1 * log_ratio(v["monthly_income"], 2200)
        + 0.02 * (v["age"] - 40)
        + 0.8 * (v["occupation"] == OCCUPATION_CODE["executive"])
        + 0.3 * v["engagement"]
    )
    return _holding(logit, e, "securities_account")


@_node("has_home_loan", "age", "household", "children", "monthly_income", "region", "engagement")
def _has_home_loan(v: ParentValues, e: ClientNoise) -> Array:
    logit = (
        -1.2
        - 1.5 * (1 - bump(v["age"], 42, 14))
        + 0.9 * (v["household"] == COUPLE)
        + 0.3 * np.minimum(v["children"], 3)
        + 0.9 * log_ratio(v["monthly_income"], 2200)
        - 0.35 * (v["region"] == CAPITAL)
        + 0.3 * v["engagement"]
    )
    return _holding(logit, e, "home_loan")


@_node("has_consumer_loan", "monthly_income", "age", "has_home_loan", "engagement")
def _has_consumer_loan(v: ParentValues, e: ClientNoise) -> Array:
    logit = (
        -2.3
        - 0.4 * log_ratio(v["monthly_income"], 2200)
        - 0.02 * (v["age"] - 40)
        + 0.3 * v["has_home_loan"]
        - 0.3 * v["engagement"]
    )
    return _holding(logit, e, "consumer_loan")


@_node("has_premium_card", "monthly_income", "occupation", "engagement")
def _has_premium(v: ParentValues, e: ClientNoise) -> Array:
    logit = (
        -3.4
        + 1.6 * log_ratio(v["monthly_income"], 2200)
        + 0.4 * (v["occupation"] == OCCUPATION_CODE["executive"])
        + 0.4 * v["engagement"]
    )
    return _holding(logit, e, "premium_card")


@_node("has_home_insurance", "has_home_loan", "household", "age")
def _has_home_insurance(v: ParentValues, e: ClientNoise) -> Array:
    logit = (
        -2.4 + 2.8 * v["has_home_loan"] + 0.6 * (v["household"] == COUPLE) + 0.02 * (v["age"] - 40)
    )
    return _holding(logit, e, "home_insurance")


@_node("has_protection_insurance", "children", "has_home_loan", "age", "engagement")
def _has_protection(v: ParentValues, e: ClientNoise) -> Array:
    logit = (
        -3.0
        + 0.35 * np.minimum(v["children"], 3)
        + 1.1 * v["has_home_loan"]
        + 0.01 * (v["age"] - 40)
        + 0.2 * v["engagement"]
    )
    return _holding(logit, e, "protection_insurance")


@_node("n_products", *(f"has_{p}" for p in PRODUCTS))
def _n_products(v: ParentValues, e: ClientNoise) -> Array:
    return sum((v[f"has_{p}"] for p in PRODUCTS), start=np.zeros(len(e))).astype(np.int64)


@_node("savings_balance", "has_savings_account", "monthly_income", "age", "engagement")
def _savings(v: ParentValues, e: ClientNoise) -> Array:
    level = v["monthly_income"] * (0.8 + 0.12 * (v["age"] - 18))
    stock = level * np.exp(0.9 * e.normal("savings") + 0.2 * v["engagement"])
    return _round(v["has_savings_account"] * stock, 10)


@_node("debt_ratio", "has_home_loan", "has_consumer_loan")
def _debt_ratio(v: ParentValues, e: ClientNoise) -> Array:
    home = v["has_home_loan"] * 0.27 * np.exp(0.25 * e.normal("debt_home"))
    consumer = v["has_consumer_loan"] * 0.09 * np.exp(0.4 * e.normal("debt_consumer"))
    other = (e.uniform("debt_other") < 0.25) * 0.04 * np.exp(0.6 * e.normal("debt_other_size"))
    return np.clip(_round(home + consumer + other, 0.01), 0.0, 0.9)


# --- behaviour: the levers and what follows from them within the year --------------------------
@_node("salary_domiciled", "tenure_years", "occupation", "has_home_loan", "engagement")
def _salary(v: ParentValues, e: ClientNoise) -> Array:
    occ = v["occupation"]
    no_salary = (occ == OCCUPATION_CODE["student"]) | (occ == OCCUPATION_CODE["unemployed"])
    logit = (
        0.0
        + 0.07 * np.minimum(v["tenure_years"], 20)
        + 1.2 * v["has_home_loan"]
        + 0.6 * v["engagement"]
        - 1.8 * no_salary
        - 0.3 * (occ == OCCUPATION_CODE["self_employed"])
    )
    return e.uniform("salary") < expit(logit)


@_node("mobile_app", "age", "engagement")
def _mobile(v: ParentValues, e: ClientNoise) -> Array:
    return e.uniform("mobile") < expit(1.6 - 0.055 * (v["age"] - 40) + 0.7 * v["engagement"])


@_node("digital_logins_per_month", "mobile_app", "has_securities_account", "engagement")
def _logins(v: ParentValues, e: ClientNoise) -> Array:
    lam = 1.2 + v["mobile_app"] * (5 + 9 * expit(v["engagement"] + 0.5))
    lam = lam + 3 * v["has_securities_account"]
    return poisson(e.uniform("logins"), lam, cap=60)


@_node(
    "monthly_savings_transfer",
    "monthly_income",
    "salary_domiciled",
    "has_savings_account",
    "engagement",
)
def _transfer(v: ParentValues, e: ClientNoise) -> Array:
    income = v["monthly_income"]
    logit = (
        -1.9
        + log_ratio(income, 2200)
        + 0.7 * v["salary_domiciled"]
        + 1.4 * v["has_savings_account"]
        + 0.6 * v["engagement"]
    )
    amount = np.clip(
        _round(income * 0.05 * np.exp(0.45 * e.normal("transfer")), 10), 10, income / 2
    )
    return np.where(e.uniform("has_transfer") < expit(logit), _round(amount, 10), 0.0)


@_node("advisor_meetings_per_year", "monthly_income", "n_products", "age", "engagement")
def _meetings(v: ParentValues, e: ClientNoise) -> Array:
    lam = np.exp(
        -0.5
        + 0.3 * log_ratio(v["monthly_income"], 2200)
        + 0.12 * v["n_products"]
        + 0.012 * (v["age"] - 40)
        + 0.35 * v["engagement"]
    )
    return poisson(e.uniform("meetings"), lam, cap=12)


@_node("current_balance", "monthly_income", "salary_domiciled")
def _current(v: ParentValues, e: ClientNoise) -> Array:
    level = v["monthly_income"] * (0.35 + 0.45 * v["salary_domiciled"])
    return _round(level * np.exp(0.55 * e.normal("current")), 10)


@_node("card_spend_monthly", "monthly_income", "salary_domiciled", "mobile_app", "has_premium_card")
def _card(v: ParentValues, e: ClientNoise) -> Array:
    share = (
        0.16 + 0.14 * v["salary_domiciled"] + 0.05 * v["mobile_app"] + 0.1 * v["has_premium_card"]
    )
    return _round(v["monthly_income"] * share * np.exp(0.3 * e.normal("card")), 10)


@_node(
    "overdraft_days_per_month",
    "monthly_income",
    "debt_ratio",
    "savings_balance",
    "current_balance",
    "salary_domiciled",
    "monthly_savings_transfer",
    "engagement",
)
def _overdraft(v: ParentValues, e: ClientNoise) -> Array:
    income = v["monthly_income"]
    logit = (
        -0.8
        - 1.2 * log_ratio(income, 2200)
        + 3.0 * v["debt_ratio"]
        - 0.6 * np.log1p(v["savings_balance"] / 5000)
        - 0.4 * np.log1p(v["current_balance"] / 1000)
        - 0.3 * v["salary_domiciled"]
        + 3.0 * v["monthly_savings_transfer"] / np.maximum(income, 1.0)
        - 0.5 * v["engagement"]
    )
    days = np.round(2 + 6 * np.exp(0.7 * e.normal("overdraft_days")) * (1 + 2 * v["debt_ratio"]))
    uses = e.uniform("overdraft") < expit(logit)
    return np.where(uses, np.clip(days, 1, 30), 0).astype(np.int64)
