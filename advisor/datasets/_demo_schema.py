"""Columns of the demo portfolio: order, kinds, domains and meanings."""

from __future__ import annotations

from dataclasses import dataclass

from advisor.datasets._types import ColumnInfo, ColumnKind, ColumnRole

__all__ = ["CATEGORIES", "COLUMNS", "PRODUCTS", "PRODUCT_LABELS", "DemoColumn"]

PRODUCTS: tuple[str, ...] = (
    "savings_account",
    "life_insurance",
    "securities_account",
    "home_loan",
    "consumer_loan",
    "premium_card",
    "home_insurance",
    "protection_insurance",
)

PRODUCT_LABELS: dict[str, str] = {
    "savings_account": "savings account",
    "life_insurance": "life insurance",
    "securities_account": "securities account",
    "home_loan": "home loan",
    "consumer_loan": "consumer loan",
    "premium_card": "premium card",
    "home_insurance": "home insurance",
    "protection_insurance": "protection insurance",
}

CATEGORIES: dict[str, tuple[str, ...]] = {
    "sex": ("female", "male"),
    "region": ("capital", "north", "east", "south", "west"),
    "household": ("single", "couple"),
    "occupation": (
        "student",
        "employee",
        "civil_servant",
        "self_employed",
        "executive",
        "unemployed",
        "retired",
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoColumn:
    """One observed column of the demo portfolio and its physical domain."""

    kind: ColumnKind
    role: ColumnRole
    meaning: str
    unit: str = ""
    low: float = float("-inf")
    high: float = float("inf")

    def info(self) -> ColumnInfo:
        """Return the public description of this column."""
        return ColumnInfo(meaning=self.meaning, kind=self.kind, role=self.role, unit=self.unit)


def _holding(product: str) -> DemoColumn:
    return DemoColumn(
        kind="binary",
        role="holding",
        meaning=f"Holds a {PRODUCT_LABELS[product]} today.",
    )


def _label(product: str) -> DemoColumn:
    return DemoColumn(
        kind="binary",
        role="target",
        meaning=(
            f"Takes a {PRODUCT_LABELS[product]} in the next 12 months "
            "(always false when already held)."
        ),
    )


_FEATURES: dict[str, DemoColumn] = {
    "client_id": DemoColumn(kind="identifier", role="identifier", meaning="Client identifier."),
    "age": DemoColumn(
        kind="integer", role="immutable", meaning="Age.", unit="years", low=18, high=90
    ),
    "sex": DemoColumn(
        kind="categorical",
        role="immutable",
        meaning="Sex (protected; no causal effect in the demo SCM).",
    ),
    "region": DemoColumn(kind="categorical", role="context", meaning="Region of residence."),
    "household": DemoColumn(
        kind="categorical", role="context", meaning="Lives alone or as a couple."
    ),
    "children": DemoColumn(
        kind="integer", role="context", meaning="Dependent children.", low=0, high=10
    ),
    "occupation": DemoColumn(kind="categorical", role="context", meaning="Occupation."),
    "tenure_years": DemoColumn(
        kind="integer", role="context", meaning="Years as a client.", unit="years", low=0, high=72
    ),
    "monthly_income": DemoColumn(
        kind="continuous", role="context", meaning="Net monthly income.", unit="EUR", low=1
    ),
    "salary_domiciled": DemoColumn(
        kind="binary", role="actionable", meaning="Salary or pension paid into the bank account."
    ),
    "mobile_app": DemoColumn(
        kind="binary", role="actionable", meaning="Enrolled in the mobile banking app."
    ),
    "digital_logins_per_month": DemoColumn(
        kind="integer", role="context", meaning="Logins to digital banking per month.", low=0
    ),
    "monthly_savings_transfer": DemoColumn(
        kind="continuous",
        role="actionable",
        meaning="Automatic monthly transfer to savings (0 when none).",
        unit="EUR/month",
        low=0,
    ),
    "current_balance": DemoColumn(
        kind="continuous",
        role="context",
        meaning="Average balance of the current account.",
        unit="EUR",
        low=0,
    ),
    "card_spend_monthly": DemoColumn(
        kind="continuous", role="context", meaning="Card spending per month.", unit="EUR", low=0
    ),
    "savings_balance": DemoColumn(
        kind="continuous", role="context", meaning="Balance of savings accounts.", unit="EUR", low=0
    ),
}

_AFTER_HOLDINGS: dict[str, DemoColumn] = {
    "debt_ratio": DemoColumn(
        kind="continuous",
        role="context",
        meaning="Monthly debt repayments over net monthly income.",
        low=0,
        high=1,
    ),
    "overdraft_days_per_month": DemoColumn(
        kind="integer",
        role="actionable",
        meaning="Days per month with an overdrawn current account.",
        unit="days",
        low=0,
        high=31,
    ),
    "advisor_meetings_per_year": DemoColumn(
        kind="integer",
        role="actionable",
        meaning="Meetings with the client advisor per year.",
        low=0,
        high=52,
    ),
    "n_products": DemoColumn(
        kind="integer", role="context", meaning="Number of products held.", low=0, high=8
    ),
}

COLUMNS: dict[str, DemoColumn] = {
    **_FEATURES,
    **{f"has_{p}": _holding(p) for p in PRODUCTS},
    **_AFTER_HOLDINGS,
    **{f"take_{p}": _label(p) for p in PRODUCTS},
}
