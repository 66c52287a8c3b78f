"""Inputs of issue 19 (trust): client tables, size limits, other data sets' bundles, audit stores.

Written beside issue 14's corpus by :func:`_write_trust_inputs`:

- ``clients/``: the demo clients as other systems export them (UTF-8 BOM, ``;`` and tab
  separators, latin-1 text, extra columns), broken ones (text or negative amounts, NaN / inf /
  1e308 in one client), 1 million columns of nothing, 200,001 rows (one above the interactive
  limit) as CSV and Parquet, and 2 GB files that are sparse (refused by their size, never read);
- ``yaml/big_50mb.yaml``: a 50 MB constraint file (a real one, not sparse);
- ``bundles/``: truncated files, a model file that is a symlink out of the folder, a 50 MB
  constraint file inside a bundle, and bundles trained on another data set (same column names
  but other categories; another column);
- ``audit/``: a real audit store with three records, a tampered copy, files that are not stores;
- ``campaigns/``: ``campaign.json`` files that are empty, not JSON, 11 MB, or a symlink.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pandas as pd

from tests.hostile._case import DEMO_YAML, TARGET
from tests.hostile._corpus_bundles import _card, _save_card, _variant
from tests.hostile._corpus_files import _write

SPARSE_BYTES = 2_000_000_001  # one byte above the 2 GB data file limit
INTERACTIVE_ROWS = 200_001  # one row above advisor.datasets.INTERACTIVE_MAX_ROWS


def _one_bad_cell(frame: pd.DataFrame, column: str, value: object) -> pd.DataFrame:
    """Return ``frame`` with ``value`` in ``column`` for client C0000001 (row 2 of the file)."""
    out = frame.copy()
    out[column] = out[column].astype(object)
    cells = out[column].tolist()
    cells[int((out["client_id"] == "C0000001").to_numpy().argmax())] = value
    out[column] = pd.Series(cells, index=out.index, dtype=object)
    return out


def _write_client_tables(d: Path, frame: pd.DataFrame) -> None:
    c = d / "clients"
    c.mkdir(exist_ok=True)
    text = frame.to_csv(index=False)
    _write(c / "bom.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))
    _write(c / "semicolon.csv", frame.to_csv(index=False, sep=";"))
    _write(c / "tab.csv", frame.to_csv(index=False, sep="\t"))
    _write(c / "semicolon_decimal_comma.csv", frame.to_csv(index=False, sep=";", decimal=","))
    noted = frame.assign(note="café crème")
    _write(c / "latin1_note.csv", noted.to_csv(index=False).encode("latin-1"))
    _write(c / "extra_columns.csv", frame.assign(extra_a=1, extra_b="x").to_csv(index=False))
    frame.assign(extra_a=1, extra_b="x").to_parquet(c / "extra_columns.parquet", index=False)
    frame.to_parquet(c / "clients.parquet", index=False)
    frame.iloc[:0].to_parquet(c / "header_only.parquet", index=False)
    _write(c / "empty.parquet", b"")
    for name, column, value in (
        ("text_income", "monthly_income", "lots"),
        ("text_age", "age", "forty"),
        ("negative_income", "monthly_income", -5000.0),
        ("negative_savings", "savings_balance", -1e6),
        ("nan_income", "monthly_income", float("nan")),
        ("inf_income", "monthly_income", float("inf")),
        ("huge_income", "monthly_income", 1e308),
        ("huge_age", "age", 1e308),
        ("unknown_region", "region", "atlantis"),
    ):
        _write(c / f"{name}.csv", _one_bad_cell(frame, column, value).to_csv(index=False))
    bad = _one_bad_cell(frame, "monthly_income", float("inf"))
    bad["monthly_income"] = bad["monthly_income"].astype(float)
    bad.to_parquet(c / "inf_income.parquet", index=False)
    _write(c / "no_age.csv", frame.drop(columns=["age"]).to_csv(index=False))
    duplicated = frame.to_csv(index=False).replace("take_home_loan", "age", 1)
    _write(c / "duplicate_age.csv", duplicated)
    with (c / "million_columns.csv").open("w", encoding="ascii") as fh:
        fh.write(",".join(f"c{i}" for i in range(1_000_000)) + "\n")
        fh.write("," * 999_999 + "\n")
    _write(c / "million_commas.csv", ("," * 999_999 + "\n") * 2)
    wide = pd.DataFrame({f"c{i}": [0] for i in range(2_001)})
    wide.to_parquet(c / "columns_2001.parquet", index=False)
    rows = pd.DataFrame({"client_id": [f"R{i:07d}" for i in range(INTERACTIVE_ROWS)], "x": 1})
    rows.to_csv(c / "rows_200001.csv", index=False)
    rows.to_parquet(c / "rows_200001.parquet", index=False)
    for name in ("sparse_2gb.csv", "sparse_2gb.parquet"):
        with (c / name).open("wb") as fh:
            fh.truncate(SPARSE_BYTES)


def _write_other_bundles(d: Path, frame: pd.DataFrame) -> None:
    """Bundles trained on another data set with the demo's column names."""
    from advisor.models import save_bundle, train

    demo = DEMO_YAML.read_text(encoding="utf-8")
    regions = {"capital": "r_capital", "north": "r_n", "east": "r_e", "south": "r_s", "west": "r_w"}
    other = frame.assign(region=frame["region"].map(regions))
    categories = "categories: [capital, north, east, south, west]"
    renamed = "categories: [r_capital, r_n, r_e, r_s, r_w]"
    _write(d / "yaml" / "other_regions.yaml", demo.replace(categories, renamed, 1))
    _write(d / "yaml" / "other_columns.yaml", demo.replace("monthly_income", "household_income"))
    inputs = (
        ("other_categories", other, "other_regions.yaml"),
        ("other_columns", frame.rename(columns={"monthly_income": "household_income"}),
         "other_columns.yaml"),
    )  # fmt: skip
    for name, data, yaml in inputs:
        result = train(
            data,
            TARGET,
            d / "yaml" / yaml,
            families=("logistic",),
            n_trials=1,
            budget_s=None,
            n_folds=3,
            seed=0,
        )
        save_bundle(result, d / "bundles" / name)


def _write_broken_bundles(d: Path) -> None:
    b = d / "bundles"
    base = b / "base"
    skops = "models/propensity/logistic.skops"
    v = _variant(base, b / "truncated_model")
    data = (v / skops).read_bytes()
    _write(v / skops, data[: len(data) // 2])
    v = _variant(base, b / "truncated_model_rehashed")  # the card re-signed: the file itself fails
    _write(v / skops, data[: len(data) // 2])
    _save_card(v, _card(v))
    v = _variant(base, b / "truncated_card")
    card_bytes = (v / "model_card.json").read_bytes()
    _write(v / "model_card.json", card_bytes[: len(card_bytes) // 2])
    v = _variant(base, b / "truncated_constraints_rehashed")
    yaml_text = (v / "constraints.yaml").read_text(encoding="utf-8")
    _write(v / "constraints.yaml", yaml_text[: len(yaml_text) // 3])
    _save_card(v, _card(v))
    v = _variant(base, b / "empty_model")
    _write(v / skops, b"")
    v = _variant(base, b / "symlink_model_file")
    outside = d / "outside" / "logistic.skops"
    shutil.copy(base / skops, outside)
    (v / skops).unlink()
    os.symlink(outside, v / skops)
    v = _variant(base, b / "big_constraints_50mb")
    shutil.copy(d / "yaml" / "big_50mb.yaml", v / "constraints.yaml")
    _save_card(v, _card(v))


def _write_audit_stores(d: Path) -> None:
    from advisor.audit import AuditStore

    a = d / "audit"
    a.mkdir(exist_ok=True)
    store = AuditStore(a / "store.sqlite", hash_client_ids=False)
    for i in range(3):
        store.append({"client": f"C000000{i}", "product": TARGET, "levers": [], "n": i})
    shutil.copy(a / "store.sqlite", a / "tampered.sqlite")
    with sqlite3.connect(a / "tampered.sqlite") as conn:  # as someone with write access would
        conn.execute("DROP TRIGGER records_no_update")
        conn.execute(
            "UPDATE records SET payload = ? WHERE id = 2",
            (json.dumps({"client": "C0000009", "product": TARGET, "levers": [], "n": 1}),),
        )
    conn.close()
    shutil.copy(a / "store.sqlite", a / "deleted_record.sqlite")
    with sqlite3.connect(a / "deleted_record.sqlite") as conn:
        conn.execute("DROP TRIGGER records_no_delete")
        conn.execute("DELETE FROM records WHERE id = 2")
    conn.close()
    shutil.copy(d / "clients.csv", a / "clients_csv.sqlite")
    _write(a / "empty.sqlite", b"")
    with sqlite3.connect(a / "other_db.sqlite") as conn:
        conn.execute("CREATE TABLE clients (id TEXT)")
    conn.close()
    (a / "a_folder.sqlite").mkdir(exist_ok=True)


def _write_advised_store(d: Path) -> None:
    """``audit/advised.sqlite``: record 1 from ``bundles/base``, 2 from a bundle since moved."""
    from advisor.audit import AuditStore
    from advisor.datasets import index_clients, read_clients
    from advisor.levers import Advisor
    from advisor.models import load_bundle

    store = AuditStore(d / "audit" / "advised.sqlite", hash_client_ids=False)
    moved = d / "bundles" / "moved_away"
    shutil.copytree(d / "bundles" / "base", moved)
    for folder in (d / "bundles" / "base", moved):
        bundle = load_bundle(folder)
        clients = read_clients(str(d / "clients.csv"))
        reference = index_clients(clients, None, recorded=bundle.id_column)
        Advisor.from_bundle(bundle, reference, audit=store).advise("C0000003")
    shutil.move(moved, d / "outside" / "moved_away")


def _write_campaign_files(d: Path) -> None:
    c = d / "campaigns"
    for name, content in (
        ("empty_json", b""),
        ("not_json", b"\xff\xfe not json"),
        ("list_json", b"[]"),
        ("deep_json", b"[" * 100_000 + b"]" * 100_000),
        ("unknown_keys", json.dumps({"format": "levers-campaign", "version": 1, "x": 1}).encode()),
    ):
        _write(c / name / "campaign.json", content)
    _write(c / "big_11mb" / "campaign.json", b'{"format": "' + b"x" * 11_000_000 + b'"}')
    (c / "symlink").mkdir(parents=True, exist_ok=True)
    os.symlink(d / "outside" / "secret.txt", c / "symlink" / "campaign.json")


def _write_trust_inputs(d: Path) -> None:
    """Write the inputs of issue 19 into the corpus folder ``d`` (after issue 14's)."""
    frame = pd.read_csv(d / "clients.csv")
    _write(d / "yaml" / "big_50mb.yaml", "# " + "x" * 50_000_000 + "\n" + "version: 1\n")
    _write_client_tables(d, frame)
    _write_other_bundles(d, frame)
    _write_broken_bundles(d)
    _write_audit_stores(d)
    _write_advised_store(d)
    _write_campaign_files(d)
