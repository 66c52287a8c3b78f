"""Hostile client tables and client ids of issue 19, through every entry point that reads them.

Client tables (``{d}/clients/``, written by ``_corpus_trust.py``) go through ``levers advise``,
``levers app`` (its pre-flight checks: only inputs it must refuse, since a passing check would
start the server), ``levers train``, ``levers constraints check --data`` / ``draft``, ``levers
campaign run`` and the Python API (``read_clients``, ``read_table``). Size limits are checked
before the file is read whole: those cases also bound the worker's peak memory growth.
Client ids and client values go through ``levers advise`` and ``Advisor.advise`` / ``client``.
"""

from __future__ import annotations

import json
from typing import Any

from tests.hostile._case import CHECK, DEMO_YAML, DESCRIBE, ESC, Case, _api, _case, _train

C = "{d}/clients/"
BASE = ("--bundle", "{d}/bundles/base")
EARLY_MIB = 64.0  # peak memory a refusal by size may add (reading the file whole takes far more)


def _advise(client: str, data: str, *extra: str) -> tuple[str, ...]:
    return ("advise", client, *BASE, "--data", data, *extra)


def _app(data: str, *extra: str) -> tuple[str, ...]:
    return ("app", *BASE, "--data", data, *extra)


def _campaign(data: str, name: str) -> tuple[str, ...]:
    return ("campaign", "run", *BASE, "--data", data, "--out", f"{{d}}/out/camp_{name}")


def _exports() -> list[Case]:
    """The demo clients as other systems export them: every reader accepts them."""
    cases: list[Case] = []
    for f in (
        "bom.csv",
        "semicolon.csv",
        "tab.csv",
        "semicolon_decimal_comma.csv",
        "latin1_note.csv",
        "extra_columns.csv",
        "extra_columns.parquet",
        "clients.parquet",
    ):
        cases.append(
            _case(
                f"advise:clients/{f}",
                "client-files",
                "ok",
                _advise("C0000003", C + f),
                contains=("C0000003",),
            )
        )
        cases.append(
            _case(
                f"check-data:clients/{f}",
                "client-files",
                "ok",
                (*CHECK, str(DEMO_YAML), "--data", C + f),
            )
        )
        cases.append(
            _api(f"read_clients:clients/{f}", "client-files", "ok", ("read_clients", C + f))
        )
    for f in ("bom.csv", "semicolon.csv", "latin1_note.csv", "tab.csv"):
        cases.append(
            _case(
                f"draft:clients/{f}",
                "client-files",
                "ok",
                ("constraints", "draft", C + f, "--target", "take_life_insurance"),
            )
        )
    for f in ("bom.csv", "semicolon_decimal_comma.csv"):
        cases.append(
            _case(
                f"train:clients/{f}",
                "client-files",
                "ok",
                _train(C + f, str(DEMO_YAML), f"{{d}}/out/t_export_{f}"),
                contains=("Saved the bundle",),
            )
        )
    return cases


_BROKEN = (
    ("text_income.csv", "monthly_income"),
    ("text_age.csv", "age"),
    ("negative_income.csv", "monthly_income"),
    ("nan_income.csv", "monthly_income"),
    ("inf_income.csv", "monthly_income"),
    ("inf_income.parquet", "monthly_income"),
    ("huge_income.csv", "monthly_income"),
    ("huge_age.csv", "age"),
    ("unknown_region.csv", "region"),
    ("no_age.csv", "age"),
    ("duplicate_age.csv", "age"),
)


def _broken() -> list[Case]:
    """One bad cell (client C0000001), a missing or repeated column: refused, naming the column."""
    cases: list[Case] = []
    err = "error"
    for i, (f, feature) in enumerate(_BROKEN):
        m = (feature,)
        cases.append(
            _case(
                f"advise:clients/{f} (its client)",
                "client-values",
                err,
                _advise("C0000001", C + f),
                mentions=m,
            )
        )
        if i < 4:  # the whole file is checked: another client meets the same refusal
            cases.append(
                _case(
                    f"advise:clients/{f} (another client)",
                    "client-values",
                    err,
                    _advise("C0000003", C + f),
                    mentions=m,
                )
            )
        cases.append(_case(f"app:clients/{f}", "client-values", err, _app(C + f), mentions=m))
        cases.append(
            _case(
                f"check-data:clients/{f}",
                "client-values",
                err,
                (*CHECK, str(DEMO_YAML), "--data", C + f),
                mentions=m,
            )
        )
        cases.append(
            _case(
                f"campaign-run:clients/{f}",
                "client-values",
                err,
                _campaign(C + f, f),
                mentions=m,
                absent=(f"out/camp_{f}",),
            )
        )
        if i < 4:  # a draft is a starting point: it warns about the column, or refuses
            cases.append(
                _case(f"draft:clients/{f}", "client-values", "any", ("constraints", "draft", C + f))
            )
    for f, feature in _BROKEN[:6]:
        cases.append(
            _case(
                f"train:clients/{f}",
                "client-values",
                err,
                _train(C + f, str(DEMO_YAML), f"{{d}}/out/t_{f}"),
                mentions=(feature,),
                absent=(f"out/t_{f}",),
            )
        )
    # a negative balance where the file sets no lower bound is a value like any other
    cases.append(
        _case(
            "check-data:clients/negative_savings.csv",
            "client-values",
            "any",
            (*CHECK, str(DEMO_YAML), "--data", C + "negative_savings.csv"),
            mentions=("savings_balance",),
        )
    )
    return cases


def _limits() -> list[Case]:
    """Files above a documented limit: refused with the limit named, before being read whole."""
    cases: list[Case] = []
    err = "error"
    wide = {
        "million_columns.csv": ("max_columns", "2,000"),
        "million_commas.csv": ("max_columns", "2,000"),
        "columns_2001.parquet": ("max_columns", "2,000"),
        "sparse_2gb.csv": ("max_bytes", "2,000,000,000"),
        "sparse_2gb.parquet": ("max_bytes", "2,000,000,000"),
    }
    for f, limit in wide.items():
        m = (f, limit)
        early = {"max_peak_mib": EARLY_MIB}
        for name, argv in (
            ("describe", (*DESCRIBE, C + f)),
            ("check-data", (*CHECK, str(DEMO_YAML), "--data", C + f)),
            ("draft", ("constraints", "draft", C + f)),
        ):
            cases.append(
                _case(f"{name}:clients/{f}", "size-limits", err, argv, mentions=m, **early)
            )
        cases.append(
            _api(
                f"read_clients:clients/{f}",
                "size-limits",
                err,
                ("read_clients", C + f),
                mentions=m,
                **early,
            )
        )
        cases.append(
            _case(f"advise:clients/{f}", "size-limits", err, _advise("C0000003", C + f), mentions=m)
        )
        cases.append(_case(f"app:clients/{f}", "size-limits", err, _app(C + f), mentions=m))
        cases.append(
            _case(
                f"train:clients/{f}",
                "size-limits",
                err,
                _train(C + f, str(DEMO_YAML), f"{{d}}/out/t_{f}"),
                mentions=m,
                absent=(f"out/t_{f}",),
            )
        )
        cases.append(
            _case(
                f"campaign-run:clients/{f}",
                "size-limits",
                err,
                _campaign(C + f, f),
                mentions=m,
                absent=(f"out/camp_{f}",),
            )
        )
    for f in ("rows_200001.csv", "rows_200001.parquet"):
        rows: tuple[str | tuple[str, ...], ...] = (f, "200,000")
        cases.append(
            _case(
                f"advise:clients/{f}", "size-limits", err, _advise("R0000003", C + f), mentions=rows
            )
        )
        cases.append(_case(f"app:clients/{f}", "size-limits", err, _app(C + f), mentions=rows))
        cases.append(
            _api(
                f"read_clients_interactive:clients/{f}",
                "size-limits",
                err,
                ("read_clients_interactive", C + f),
                mentions=rows,
                max_peak_mib=EARLY_MIB,
            )
        )
        cases.append(
            _case(
                f"describe:clients/{f}",
                "size-limits",
                "ok",
                (*DESCRIBE, C + f),
                contains=("200,001",),
            )
        )
    for f, problem in (("header_only.parquet", "rows"), ("empty.parquet", "Parquet")):
        cases.append(
            _case(
                f"advise:clients/{f}",
                "csv-shape",
                err,
                _advise("C0000003", C + f),
                mentions=(f, problem),
            )
        )
        cases.append(_case(f"app:clients/{f}", "csv-shape", err, _app(C + f), mentions=(f,)))
    for f in ("empty.csv", "header_only.csv", "latin1.csv", "utf16.csv", "duplicate_columns.csv"):
        cases.append(
            _case(f"app:csv/{f}", "csv-shape", err, _app("{d}/csv/" + f), mentions=((f, "region"),))
        )
        cases.append(
            _case(
                f"advise:csv/{f}",
                "csv-shape",
                err,
                _advise("C0000003", "{d}/csv/" + f),
                mentions=((f, "region"),),
            )
        )
    return cases


_IDS = {
    "passwd": "../../etc/passwd",
    "10 kB": "C" * 10_000,
    "script": "<script>alert(1)</script>",
    "nul": "C000\x000001",
    "sql": "C0000001' OR '1'='1",
    "shell": "C0000001; rm -rf ~",
    "cyrillic C": "\u04210000001",
    "percent": "%2e%2e%2fetc%2fpasswd",
    "format": "{0.__class__}",
    "newline": "C0000001\nC0000002",
    "escape": "C" + ESC + "]0;pwned\x07",
    "spaces": "   ",
}


def _ids() -> list[Case]:
    """Unknown and injected client ids: refused naming the client, never echoed raw or whole."""
    cases: list[Case] = []
    raw = (ESC, "\x07", "\x00", "C" * 100)
    for label, client in _IDS.items():
        cases.append(
            _case(
                f"advise:client id {label}",
                "client-ids",
                "error",
                _advise(client, "{d}/clients.csv"),
                mentions=("client",),
                excludes=raw,
            )
        )
        for call in ("advise", "client"):
            cases.append(
                _api(
                    f"Advisor.{call}:client id {label}",
                    "client-ids",
                    "error",
                    (call, client),
                    mentions=("client",),
                    excludes=("C" * 100,),
                )
            )
    for number in ("0", "1e308", "nan", "99999999999999999999"):
        cases.append(
            _case(
                f"advise:client id {number}",
                "client-ids",
                "error",
                _advise(number, "{d}/clients.csv"),
                mentions=("client",),
            )
        )
    cases.append(
        _case(
            "advise:client JSON missing features",
            "client-ids",
            "error",
            _advise('{"age": 40}', "{d}/clients.csv"),
            mentions=("client",),
        )
    )
    return cases


_VALUES = (
    ("NaN income", {"monthly_income": float("nan")}, "monthly_income"),
    ("inf income", {"monthly_income": float("inf")}, "monthly_income"),
    ("-inf income", {"monthly_income": float("-inf")}, "monthly_income"),
    ("1e308 income", {"monthly_income": 1e308}, "monthly_income"),
    ("1e20 age", {"age": 1e20}, "age"),
    ("text income", {"monthly_income": "lots"}, "monthly_income"),
    ("list income", {"monthly_income": [1, 2]}, "monthly_income"),
    ("null income", {"monthly_income": None}, "monthly_income"),
    ("unknown region", {"region": "atlantis"}, "region"),
    ("number region", {"region": 3}, "region"),
    ("missing age", {"__drop__": ["age"]}, "age"),
    ("missing income and region", {"__drop__": ["monthly_income", "region"]}, "monthly_income"),
)


def _values() -> list[Case]:
    """Advisor.advise on a client given by value: inside or outside the domain."""
    cases: list[Case] = []
    for label, changes, feature in _VALUES:
        text = json.dumps(changes)
        cases.append(
            _api(
                f"Advisor.advise:client {label}",
                "client-values",
                "error",
                ("advise_dict", text),
                mentions=(feature,),
            )
        )
    in_or_out: tuple[tuple[str, dict[str, Any]], ...] = (
        ("negative income", {"monthly_income": -5000.0}),
        ("age -1", {"age": -1}),
        ("age as text", {"age": "40"}),
        ("binary as text", {"salary_domiciled": "yes"}),
        ("extra column", {"zzz": 1, "note": "[/bold]"}),
        ("as given", {}),
    )
    for label, changes in in_or_out:
        cases.append(
            _api(
                f"Advisor.advise:client {label}",
                "client-values",
                "any",
                ("advise_dict", json.dumps(changes)),
            )
        )
    for value in ("0", "11", "-1", "true", "2.5", "NaN", '"3"', "1e30", "null", str(10**30)):
        cases.append(
            _api(
                f"Advisor.advise:n_levers={value}",
                "unbounded",
                "error",
                ("advise_n_levers", value),
                mentions=("n_levers",),
            )
        )
    for product in ("nope", "../../etc/passwd", "", "[/bold]"):
        cases.append(
            _api(
                f"Advisor.advise:product={product!r}",
                "client-values",
                "error",
                ("advise_product", product),
                mentions=("product",),
            )
        )
    return cases


def _client_cases() -> list[Case]:
    return [*_exports(), *_broken(), *_limits(), *_ids(), *_values()]
