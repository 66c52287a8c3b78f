"""Column table of the Statlog German credit data: names, meanings, roles and codes."""

from __future__ import annotations

from advisor.datasets._columns_common import col
from advisor.datasets._types import ColumnKind, ColumnRole

# German credit: name -> (kind, role, unit, meaning, "code=label|..." of german.doc or "").
_GERMAN_TABLE: dict[str, tuple[ColumnKind, ColumnRole, str, str, str]] = {
    "checking_status": ("categorical", "actionable", "", "Status of the checking account.",
                        "A11=< 0 DM|A12=0-200 DM|A13=>= 200 DM / salary|A14=no checking account"),
    "duration": ("integer", "actionable", "months", "Duration of the credit.", ""),
    "credit_history": ("categorical", "immutable", "", "Credit history (german.doc labels, "
                       "partly wrong per Groemping 2019).",
                       "A30=no credits / all paid back duly|"
                       "A31=all credits at this bank paid back duly|"
                       "A32=existing credits paid back duly till now|"
                       "A33=delay in paying off in the past|"
                       "A34=critical account / other credits elsewhere"),
    "purpose": ("categorical", "context", "", "Purpose of the credit (the client's need).",
                "A40=car (new)|A41=car (used)|A42=furniture/equipment|A43=radio/television|"
                "A44=domestic appliances|A45=repairs|A46=education|A47=vacation|"
                "A48=retraining|A49=business|A410=others"),
    "credit_amount": ("integer", "actionable", "DM", "Credit amount.", ""),
    "savings": ("categorical", "actionable", "", "Savings account / bonds; unordered, as "
                "'unknown / no savings account' has no place among the amounts.",
                "A61=< 100 DM|A62=100-500 DM|A63=500-1000 DM|A64=>= 1000 DM|"
                "A65=unknown / no savings account"),
    "employment_since": ("ordinal", "context", "", "Present employment since.",
                         "A71=unemployed|A72=< 1 year|A73=1-4 years|A74=4-7 years|A75=>= 7 years"),
    "installment_rate": ("integer", "actionable", "", "Installment rate in % of disposable "
                         "income, coded 1-4 (a band per Groemping 2019).", ""),
    "personal_status_sex": ("categorical", "immutable", "", "Personal status and sex "
                            "(protected; german.doc labels, unreliable per Groemping 2019).",
                            "A91=male: divorced/separated|A92=female: divorced/separated/married|"
                            "A93=male: single|A94=male: married/widowed|A95=female: single"),
    "other_debtors": ("categorical", "actionable", "", "Other debtors / guarantors.",
                      "A101=none|A102=co-applicant|A103=guarantor"),
    "residence_since": ("integer", "context", "", "Present residence since, coded 1-4.", ""),
    "property": ("categorical", "context", "", "Most valuable property.",
                 "A121=real estate|A122=building society savings / life insurance|"
                 "A123=car or other|A124=unknown / no property"),
    "age": ("integer", "immutable", "years", "Age of the client (protected).", ""),
    "other_installment_plans": ("categorical", "actionable", "", "Other installment plans.",
                                "A141=bank|A142=stores|A143=none"),
    "housing": ("categorical", "context", "", "Housing.", "A151=rent|A152=own|A153=for free"),
    "existing_credits": ("integer", "actionable", "", "Existing credits at this bank.", ""),
    "job": ("ordinal", "context", "", "Job, ordered by qualification (german.doc).",
            "A171=unemployed / unskilled non-resident|A172=unskilled resident|"
            "A173=skilled employee / official|"
            "A174=management / self-employed / highly qualified"),
    "num_dependents": ("integer", "immutable", "", "People the client must provide for.", ""),
    "telephone": ("binary", "immutable", "", "Telephone; a spurious lever, never advised.",
                  "A191=none|A192=yes, registered"),
    "foreign_worker": ("binary", "immutable", "", "Foreign worker (protected).",
                       "A201=yes|A202=no"),
    "credit_risk": ("binary", "target", "", "Credit risk as the bank judged it (class 1/2).",
                    "1=good|2=bad"),
}  # fmt: skip
_GERMAN_COLUMNS = {
    name: col(kind, role, meaning, unit)
    for name, (kind, role, unit, meaning, _) in _GERMAN_TABLE.items()
}
_GERMAN_CODES = {
    name: dict(item.split("=", 1) for item in codes.split("|"))
    for name, (*_, codes) in _GERMAN_TABLE.items()
    if codes
}
_GERMAN_SOURCE = (
    "UCI Statlog (German Credit Data), Hofmann (1994), doi:10.24432/C5NC77; CC BY 4.0. Code "
    "labels from german.doc; Groemping (2019) showed several are wrong (credit history, "
    "personal status/sex)."
)
