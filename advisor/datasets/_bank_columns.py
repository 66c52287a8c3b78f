"""Column tables of UCI bank marketing: order, meanings, roles and category codes."""

from __future__ import annotations

from advisor.datasets._columns_common import col, words
from advisor.datasets._types import ColumnInfo

_BANK_FULL_ORDER = words(
    "age job marital education default balance housing loan contact day month duration "
    "campaign pdays previous poutcome y"
)
_BANK_ADDITIONAL_ORDER = words(
    "age job marital education default housing loan contact month day_of_week duration "
    "campaign pdays previous poutcome emp.var.rate cons.price.idx cons.conf.idx euribor3m "
    "nr.employed y"
)
_CALL = "of the last contact in this campaign"
_NOT_CONTACTED = "Days since the last contact in a previous campaign; {} = never contacted."
_BANK_COLUMNS: dict[str, ColumnInfo] = {
    "age": col("integer", "immutable", "Age of the client.", "years"),
    "job": col("categorical", "context", "Type of job ('unknown' is a category of its own)."),
    "marital": col("categorical", "immutable", "Marital status ('divorced' includes widowed)."),
    "education": col(
        "categorical", "context", "Education level; unordered, as 'unknown' has no rank."
    ),
    "default": col("binary", "context", "Whether the client has credit in default."),
    "balance": col("integer", "context", "Average yearly balance.", "EUR"),
    "housing": col("binary", "holding", "Whether the client holds a housing loan."),
    "loan": col("binary", "holding", "Whether the client holds a personal loan."),
    "contact": col("categorical", "context", f"Channel {_CALL}."),
    "day": col("integer", "context", f"Day of the month {_CALL}."),
    "month": col("categorical", "context", f"Month {_CALL} (all 12 as categories)."),
    "day_of_week": col("categorical", "context", f"Weekday {_CALL}."),
    "duration": col(
        "integer",
        "context",
        "Length of the last call. Known only after the call, it leaks the target: dropped "
        "unless drop_duration=False, for benchmarks only.",
        "seconds",
    ),
    "campaign": col("integer", "context", "Contacts in this campaign, the last one included."),
    "pdays": col("integer", "context", _NOT_CONTACTED.format(-1), "days"),
    "previous": col("integer", "context", "Contacts with the client before this campaign."),
    "poutcome": col("categorical", "context", "Outcome of the previous campaign."),
    "emp.var.rate": col("continuous", "context", "Employment variation rate, quarterly.", "%"),
    "cons.price.idx": col("continuous", "context", "Consumer price index, monthly."),
    "cons.conf.idx": col("continuous", "context", "Consumer confidence index, monthly."),
    "euribor3m": col("continuous", "context", "Euribor 3-month rate, daily.", "%"),
    "nr.employed": col(
        "continuous", "context", "Employed people (national), quarterly.", "thousands"
    ),
    "y": col("binary", "target", "Whether the client subscribed a term deposit."),
}
_BANK_ADDITIONAL_COLUMNS = _BANK_COLUMNS | {
    "default": col("categorical", "context", "Whether the client has credit in default."),
    "housing": col("categorical", "holding", "Whether the client holds a housing loan."),
    "loan": col("categorical", "holding", "Whether the client holds a personal loan."),
    "pdays": col("integer", "context", _NOT_CONTACTED.format(999), "days"),
}
_BANK_SHARED_CODES = {
    "job": words(
        "admin. blue-collar entrepreneur housemaid management retired self-employed services "
        "student technician unemployed unknown"
    ),
    "month": words("jan feb mar apr may jun jul aug sep oct nov dec"),
    "y": words("no yes"),
}
_BANK_FULL_CODES = _BANK_SHARED_CODES | {
    "marital": words("divorced married single"),
    "education": words("primary secondary tertiary unknown"),
    **dict.fromkeys(("default", "housing", "loan"), words("no yes")),
    "contact": words("cellular telephone unknown"),
    "poutcome": words("failure other success unknown"),
}
_BANK_ADDITIONAL_CODES = _BANK_SHARED_CODES | {
    "marital": words("divorced married single unknown"),
    "education": words(
        "basic.4y basic.6y basic.9y high.school illiterate professional.course "
        "university.degree unknown"
    ),
    **dict.fromkeys(("default", "housing", "loan"), words("no unknown yes")),
    "contact": words("cellular telephone"),
    "day_of_week": words("mon tue wed thu fri"),
    "poutcome": words("failure nonexistent success"),
}
_BANK_SOURCE = (
    "UCI Bank Marketing (id 222), Portuguese bank phone campaigns 2008-2010; Moro, Cortez and "
    "Rita (2014), Decision Support Systems 62:22-31, doi:10.1016/j.dss.2014.03.001; CC BY 4.0."
)
_BANK_HINT = "pass the file itself to load bank.csv or the bank-additional files."
