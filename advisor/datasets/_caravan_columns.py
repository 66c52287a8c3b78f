"""Column meanings of the Caravan (CoIL 2000) data, from the owner's ``TicDataDescr.txt``.

Attributes 1-43 are zip-code sociodemographics (every client in one postcode has the same
values); attributes 44-64 are contribution bands and 65-85 numbers of policies per product.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from advisor.datasets._types import ColumnInfo, ColumnKind

__all__ = ["CARAVAN_COLUMNS"]

_L3 = "band 0-9: 0 = 0 %, 1 = 1-10 %, 2 = 11-23 %, ..., 8 = 89-99 %, 9 = 100 %"
_L4 = "band 0-9: 0 = f 0, 1 = f 1-49, 2 = f 50-99, ..., 8 = f 10,000-19,999, 9 = f 20,000 or more"
_AREA = "zip-code area"

# (name, description from TicDataDescr.txt, kind, value note)
_SOCIODEMOGRAPHICS: tuple[tuple[str, str, ColumnKind, str], ...] = (
    (
        "MOSTYPE",
        "Customer subtype",
        "categorical",
        "code 1-41, list L0 (e.g. 1 = High Income, expensive child; 41 = Mixed rurals)",
    ),
    ("MAANTHUI", "Number of houses", "integer", "1-10"),
    ("MGEMOMV", "Average household size", "integer", "1-6"),
    (
        "MGEMLEEF",
        "Average age",
        "ordinal",
        "band 1-6 of list L1: 1 = 20-30 years, ..., 6 = 70-80 years",
    ),
    (
        "MOSHOOFD",
        "Customer main type",
        "categorical",
        "code 1-10, list L2 (e.g. 1 = Successful hedonists; 10 = Farmers)",
    ),
    ("MGODRK", "Roman catholic", "ordinal", _L3),
    ("MGODPR", "Protestant", "ordinal", _L3),
    ("MGODOV", "Other religion", "ordinal", _L3),
    ("MGODGE", "No religion", "ordinal", _L3),
    ("MRELGE", "Married", "ordinal", _L3),
    ("MRELSA", "Living together", "ordinal", _L3),
    ("MRELOV", "Other relation", "ordinal", _L3),
    ("MFALLEEN", "Singles", "ordinal", _L3),
    ("MFGEKIND", "Household without children", "ordinal", _L3),
    ("MFWEKIND", "Household with children", "ordinal", _L3),
    ("MOPLHOOG", "High level education", "ordinal", _L3),
    ("MOPLMIDD", "Medium level education", "ordinal", _L3),
    ("MOPLLAAG", "Lower level education", "ordinal", _L3),
    ("MBERHOOG", "High status", "ordinal", _L3),
    ("MBERZELF", "Entrepreneur", "ordinal", _L3),
    ("MBERBOER", "Farmer", "ordinal", _L3),
    ("MBERMIDD", "Middle management", "ordinal", _L3),
    ("MBERARBG", "Skilled labourers", "ordinal", _L3),
    ("MBERARBO", "Unskilled labourers", "ordinal", _L3),
    ("MSKA", "Social class A", "ordinal", _L3),
    ("MSKB1", "Social class B1", "ordinal", _L3),
    ("MSKB2", "Social class B2", "ordinal", _L3),
    ("MSKC", "Social class C", "ordinal", _L3),
    ("MSKD", "Social class D", "ordinal", _L3),
    ("MHHUUR", "Rented house", "ordinal", _L3),
    ("MHKOOP", "Home owners", "ordinal", _L3),
    ("MAUT1", "1 car", "ordinal", _L3),
    ("MAUT2", "2 cars", "ordinal", _L3),
    ("MAUT0", "No car", "ordinal", _L3),
    ("MZFONDS", "National Health Service", "ordinal", _L3),
    ("MZPART", "Private health insurance", "ordinal", _L3),
    ("MINKM30", "Income < 30.000", "ordinal", _L3),
    ("MINK3045", "Income 30-45.000", "ordinal", _L3),
    ("MINK4575", "Income 45-75.000", "ordinal", _L3),
    ("MINK7512", "Income 75-122.000", "ordinal", _L3),
    ("MINK123M", "Income >123.000", "ordinal", _L3),
    ("MINKGEM", "Average income", "ordinal", "band 0-9"),
    ("MKOOPKLA", "Purchasing power class", "ordinal", "class 1-8"),
)

# (contribution column, number column, product) for attributes 44-64 and 65-85.
_PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("PWAPART", "AWAPART", "private third party insurance"),
    ("PWABEDR", "AWABEDR", "third party insurance (firms)"),
    ("PWALAND", "AWALAND", "third party insurance (agriculture)"),
    ("PPERSAUT", "APERSAUT", "car policies"),
    ("PBESAUT", "ABESAUT", "delivery van policies"),
    ("PMOTSCO", "AMOTSCO", "motorcycle/scooter policies"),
    ("PVRAAUT", "AVRAAUT", "lorry policies"),
    ("PAANHANG", "AAANHANG", "trailer policies"),
    ("PTRACTOR", "ATRACTOR", "tractor policies"),
    ("PWERKT", "AWERKT", "agricultural machines policies"),
    ("PBROM", "ABROM", "moped policies"),
    ("PLEVEN", "ALEVEN", "life insurances"),
    ("PPERSONG", "APERSONG", "private accident insurance policies"),
    ("PGEZONG", "AGEZONG", "family accidents insurance policies"),
    ("PWAOREG", "AWAOREG", "disability insurance policies"),
    ("PBRAND", "ABRAND", "fire policies"),
    ("PZEILPL", "AZEILPL", "surfboard policies"),
    ("PPLEZIER", "APLEZIER", "boat policies"),
    ("PFIETS", "AFIETS", "bicycle policies"),
    ("PINBOED", "AINBOED", "property insurance policies"),
    ("PBYSTAND", "ABYSTAND", "social security insurance policies"),
)


def _build_columns() -> Mapping[str, ColumnInfo]:
    """Return the 85 feature descriptions and the target, in file order."""
    columns: dict[str, ColumnInfo] = {}
    for name, description, kind, values in _SOCIODEMOGRAPHICS:
        meaning = f"{description} in the client's {_AREA} ({values})."
        columns[name] = ColumnInfo(meaning=meaning, kind=kind, role="immutable")
    for contribution, _, product in _PRODUCTS:
        meaning = f"Contribution (premium level) for {product}, in guilders ({_L4})."
        columns[contribution] = ColumnInfo(meaning=meaning, kind="ordinal", role="holding")
    for _, number, product in _PRODUCTS:
        meaning = f"Number of {product} held by the client."
        columns[number] = ColumnInfo(
            meaning=meaning, kind="integer", role="holding", unit="policies"
        )
    columns["Purchase"] = ColumnInfo(
        meaning="Whether the client owns a caravan (mobile home) policy.",
        kind="binary",
        role="target",
    )
    return MappingProxyType(columns)


CARAVAN_COLUMNS: Mapping[str, ColumnInfo] = _build_columns()
