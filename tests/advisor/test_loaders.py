"""Tests of the real-data loaders (bank marketing, German credit, Caravan).

Real-file tests read ``../shared/data`` (override with ``LEVERS_SHARED_DATA``) and skip when a
file is absent; error tests write their own small files under ``tmp_path``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from advisor.datasets._caravan_columns import CARAVAN_COLUMNS
from advisor.datasets._loaders import load_bank_marketing, load_caravan, load_german_credit
from advisor.datasets._types import Dataset
from advisor.errors import DatasetError, DatasetFileNotFoundError
from tests.conftest import shared_data_dir

SHARED_DATA = shared_data_dir()

BANK_FULL_COLUMNS = [
    "age", "job", "marital", "education", "default", "balance", "housing", "loan", "contact",
    "day", "month", "duration", "campaign", "pdays", "previous", "poutcome", "y",
]  # fmt: skip
# Made-up rows in the bank-full layout (not taken from the data set).
BANK_ROWS = [
    ["35", '"services"', '"single"', '"secondary"', '"no"', "1200", '"yes"', '"no"',
     '"cellular"', "12", '"jun"', "180", "2", "-1", "0", '"unknown"', '"no"'],
    ["51", '"retired"', '"married"', '"primary"', '"no"', "-40", '"no"', '"no"',
     '"telephone"', "3", '"nov"', "95", "1", "120", "2", '"failure"', '"yes"'],
    ["29", '"student"', '"single"', '"tertiary"', '"no"', "310", '"no"', '"yes"',
     '"unknown"', "28", '"may"', "60", "4", "-1", "0", '"unknown"', '"no"'],
]  # fmt: skip
# Made-up lines in the german.data layout.
GERMAN_LINES = [
    "A12 24 A32 A40 2500 A61 A73 2 A93 A101 2 A121 35 A143 A152 1 A173 1 A191 A201 2",
    "A14 12 A34 A43 1300 A65 A75 4 A92 A103 4 A123 58 A141 A151 2 A172 2 A192 A202 1",
    "A11 36 A30 A49 9000 A63 A72 1 A94 A102 1 A124 41 A142 A153 1 A174 1 A192 A201 1",
]


# --- helpers -------------------------------------------------------------------------------


def shared_file(*parts: str) -> Path:
    """Return a shared data file, or skip the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"shared data file {path} is absent (set LEVERS_SHARED_DATA)")
    return path


@functools.cache
def _cached(loader: Callable[[Path], Dataset], path: Path) -> Dataset:
    return loader(path)


def load_shared(loader: Callable[[Path], Dataset], *parts: str) -> Dataset:
    """Load a shared file once per test session."""
    return _cached(loader, shared_file(*parts))


def write_bank(path: Path, header: list[str], rows: list[list[str]], sep: str = ";") -> Path:
    lines = [sep.join(f'"{name}"' for name in header)] + [sep.join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def starts(path: Path, rest: str) -> str:
    """Pattern pinning the start of a message: the escaped path, then ``rest`` (a regex)."""
    return "^" + re.escape(str(path)) + rest


# --- bank marketing on the real files -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "n_rows", "n_yes", "n_columns", "dataset_name"),
    [
        ("bank-full.csv", 45211, 5289, 16, "bank-marketing"),
        ("bank.csv", 4521, 521, 16, "bank-marketing"),
        ("bank-additional-full.csv", 41188, 4640, 20, "bank-marketing-additional"),
        ("bank-additional.csv", 4119, 451, 20, "bank-marketing-additional"),
    ],
)
def test_bank_marketing_counts_match_the_readme(
    name: str, n_rows: int, n_yes: int, n_columns: int, dataset_name: str
) -> None:
    dataset = load_shared(load_bank_marketing, "bank-marketing", name)
    assert dataset.frame.shape == (n_rows, n_columns)
    assert int((dataset.frame["y"] == "yes").sum()) == n_yes
    assert dataset.info.name == dataset_name
    assert dataset.info.targets == ("y",)
    assert (dataset.info.positive_label, dataset.info.desired_label) == ("yes", "yes")


def test_bank_marketing_drops_duration_unless_asked() -> None:
    path = shared_file("bank-marketing", "bank.csv")
    assert "duration" not in load_shared(load_bank_marketing, "bank-marketing", "bank.csv").frame
    kept = load_bank_marketing(path, drop_duration=False)
    assert list(kept.frame.columns) == BANK_FULL_COLUMNS
    assert kept.frame["duration"].dtype == "int64"
    assert "leaks the target" in kept.info.columns["duration"].meaning


def test_bank_full_dtypes_and_categories() -> None:
    frame = load_shared(load_bank_marketing, "bank-marketing", "bank-full.csv").frame
    for name in ("age", "balance", "day", "campaign", "pdays", "previous"):
        assert frame[name].dtype == "int64", name
    for name in ("job", "marital", "education", "default", "housing", "loan", "contact"):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
    assert list(frame["y"].cat.categories) == ["no", "yes"]
    assert list(frame["education"].cat.categories) == [
        "primary",
        "secondary",
        "tertiary",
        "unknown",
    ]
    assert not frame["education"].cat.ordered
    assert int((frame["education"] == "unknown").sum()) > 0
    assert list(frame["month"].cat.categories)[:3] == ["jan", "feb", "mar"]
    assert frame["pdays"].min() == -1
    assert not frame.isna().any(axis=None)


def test_bank_additional_dtypes_and_categories() -> None:
    frame = load_shared(load_bank_marketing, "bank-marketing", "bank-additional-full.csv").frame
    for name in ("emp.var.rate", "cons.price.idx", "cons.conf.idx", "euribor3m", "nr.employed"):
        assert frame[name].dtype == "float64", name
    assert "balance" not in frame
    assert list(frame["day_of_week"].cat.categories) == ["mon", "tue", "wed", "thu", "fri"]
    assert list(frame["default"].cat.categories) == ["no", "unknown", "yes"]
    assert frame["pdays"].max() == 999
    assert not frame.isna().any(axis=None)


def test_bank_marketing_folder_means_bank_full() -> None:
    shared_file("bank-marketing", "bank-full.csv")
    dataset = load_bank_marketing(SHARED_DATA / "bank-marketing")
    assert len(dataset.frame) == 45211
    assert "File: bank-full.csv" in dataset.info.source


def test_bank_marketing_roles() -> None:
    columns = load_shared(load_bank_marketing, "bank-marketing", "bank.csv").info.columns
    assert {n: columns[n].role for n in ("age", "marital", "balance", "campaign", "y")} == {
        "age": "immutable",
        "marital": "immutable",
        "balance": "context",
        "campaign": "context",
        "y": "target",
    }
    assert columns["balance"].unit == "EUR"


# --- German credit on the real file ---------------------------------------------------------


def test_german_credit_counts_and_target() -> None:
    dataset = load_shared(load_german_credit, "german-credit", "german.data")
    assert dataset.frame.shape == (1000, 21)
    assert int((dataset.frame["credit_risk"] == "bad").sum()) == 300
    assert list(dataset.frame["credit_risk"].cat.categories) == ["good", "bad"]
    assert (dataset.info.positive_label, dataset.info.desired_label) == ("bad", "good")


def test_german_credit_decodes_the_first_line() -> None:
    # german.data line 1: A11 6 A34 A43 1169 A65 A75 4 A93 A101 4 A121 67 A143 A152 2 A173 1
    # A192 A201 1
    first = load_shared(load_german_credit, "german-credit", "german.data").frame.iloc[0]
    assert first.to_dict() == {
        "checking_status": "< 0 DM",
        "duration": 6,
        "credit_history": "critical account / other credits elsewhere",
        "purpose": "radio/television",
        "credit_amount": 1169,
        "savings": "unknown / no savings account",
        "employment_since": ">= 7 years",
        "installment_rate": 4,
        "personal_status_sex": "male: single",
        "other_debtors": "none",
        "residence_since": 4,
        "property": "real estate",
        "age": 67,
        "other_installment_plans": "none",
        "housing": "own",
        "existing_credits": 2,
        "job": "skilled employee / official",
        "num_dependents": 1,
        "telephone": "yes, registered",
        "foreign_worker": "yes",
        "credit_risk": "good",
    }


def test_german_credit_dtypes_and_order() -> None:
    frame = load_shared(load_german_credit, "german-credit", "german.data").frame
    numbers = ["duration", "credit_amount", "installment_rate", "residence_since", "age"]
    numbers += ["existing_credits", "num_dependents"]
    assert all(frame[name].dtype == "int64" for name in numbers)
    categorical = [name for name in frame if name not in numbers]
    assert all(isinstance(frame[name].dtype, pd.CategoricalDtype) for name in categorical)
    employment = frame["employment_since"].cat
    assert employment.ordered
    assert list(employment.categories) == [
        "unemployed", "< 1 year", "1-4 years", "4-7 years", ">= 7 years",
    ]  # fmt: skip
    assert not frame["savings"].cat.ordered
    assert not frame["checking_status"].cat.ordered
    assert frame["age"].between(19, 75).all()


def test_german_credit_roles_and_folder() -> None:
    shared_file("german-credit", "german.data")
    dataset = load_german_credit(SHARED_DATA / "german-credit")
    columns = dataset.info.columns
    for name in ("personal_status_sex", "age", "foreign_worker"):
        assert columns[name].role == "immutable"
        assert "protected" in columns[name].meaning
    assert columns["credit_amount"].role == "actionable"
    assert columns["credit_risk"].role == "target"


# --- Caravan on the real files --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "n_rows", "n_yes"),
    [("Caravan.csv", 5822, 348), ("caravan_eval_coil2000.csv", 4000, 238)],
)
def test_caravan_counts_and_dtypes(name: str, n_rows: int, n_yes: int) -> None:
    dataset = load_shared(load_caravan, "caravan", name)
    frame = dataset.frame
    assert frame.shape == (n_rows, 86)
    assert int((frame["Purchase"] == "Yes").sum()) == n_yes
    assert list(frame["Purchase"].cat.categories) == ["No", "Yes"]
    assert (frame.drop(columns="Purchase").dtypes == "int64").all()
    assert (dataset.info.positive_label, dataset.info.desired_label) == ("Yes", "Yes")


def test_caravan_roles_and_folder() -> None:
    shared_file("caravan", "Caravan.csv")
    dataset = load_caravan(SHARED_DATA / "caravan")
    roles = [info.role for info in dataset.info.columns.values()]
    assert roles == ["immutable"] * 43 + ["holding"] * 42 + ["target"]
    assert dataset.info.columns["MOSTYPE"].meaning.startswith("Customer subtype")
    assert "File: Caravan.csv" in dataset.info.source


# --- every data set: descriptions -----------------------------------------------------------


@pytest.mark.parametrize(
    ("loader", "parts"),
    [
        (load_bank_marketing, ("bank-marketing", "bank.csv")),
        (load_bank_marketing, ("bank-marketing", "bank-additional.csv")),
        (load_german_credit, ("german-credit", "german.data")),
        (load_caravan, ("caravan", "caravan_eval_coil2000.csv")),
    ],
)
def test_every_column_is_described_in_frame_order(
    loader: Callable[[Path], Dataset], parts: tuple[str, ...]
) -> None:
    dataset = load_shared(loader, *parts)
    assert list(dataset.info.columns) == list(dataset.frame.columns)
    assert all(info.meaning.strip() for info in dataset.info.columns.values())
    (target,) = dataset.info.targets
    assert dataset.info.columns[target].role == "target"
    assert len(dataset.info.to_frame()) == dataset.frame.shape[1]


# --- errors, on files written here ---------------------------------------------------------


def test_tiny_bank_file_loads(tmp_path: Path) -> None:
    frame = load_bank_marketing(write_bank(tmp_path / "b.csv", BANK_FULL_COLUMNS, BANK_ROWS)).frame
    assert frame["balance"].tolist() == [1200, -40, 310]
    assert frame["y"].tolist() == ["no", "yes", "no"]


@pytest.mark.parametrize(
    ("loader", "expected"),
    [
        (load_bank_marketing, "bank-full.csv"),
        (load_german_credit, "german.data"),
        (load_caravan, "Caravan.csv"),
    ],
)
def test_missing_file_and_folder(
    tmp_path: Path, loader: Callable[[Path], Dataset], expected: str
) -> None:
    missing = tmp_path / "nowhere" / expected
    pattern = rf": must be an existing file or a folder holding {re.escape(expected)}\. Got no such"
    with pytest.raises(DatasetFileNotFoundError, match=starts(missing, pattern)):
        loader(missing)
    pattern = (
        rf": must be a folder holding {re.escape(expected)}\. Got a folder without it\. Hint: "
    )
    with pytest.raises(DatasetFileNotFoundError, match=starts(tmp_path, pattern)) as caught:
        loader(tmp_path)
    assert isinstance(caught.value, FileNotFoundError)
    assert isinstance(caught.value, ValueError)


def test_bank_file_with_commas(tmp_path: Path) -> None:
    path = write_bank(tmp_path / "b.csv", BANK_FULL_COLUMNS, BANK_ROWS, sep=",")
    with pytest.raises(DatasetError, match=starts(path, r": must be separated by ';'\. Got ','")):
        load_bank_marketing(path)


def test_german_file_with_commas(tmp_path: Path) -> None:
    path = tmp_path / "german.data"
    path.write_text("\n".join(line.replace(" ", ",") for line in GERMAN_LINES) + "\n")
    with pytest.raises(DatasetError, match=starts(path, r": must be separated by space\. Got ','")):
        load_german_credit(path)


def test_caravan_file_with_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "Caravan.csv"
    path.write_text(";".join(CARAVAN_COLUMNS) + "\n" + ";".join(["1"] * 85 + ["No"]) + "\n")
    with pytest.raises(DatasetError, match=starts(path, r": must be separated by ','\. Got ';'")):
        load_caravan(path)


def test_bank_schema_with_a_column_removed(tmp_path: Path) -> None:
    at = BANK_FULL_COLUMNS.index("balance")
    header = BANK_FULL_COLUMNS[:at] + BANK_FULL_COLUMNS[at + 1 :]
    rows = [row[:at] + row[at + 1 :] for row in BANK_ROWS]
    path = write_bank(tmp_path / "b.csv", header, rows)
    expected = re.escape(", ".join(BANK_FULL_COLUMNS))
    pattern = rf": must have the 17 columns {expected}\. Got missing 'balance'\.$"
    with pytest.raises(DatasetError, match=starts(path, pattern)):
        load_bank_marketing(path)


def test_bank_schema_with_a_renamed_column(tmp_path: Path) -> None:
    header = [name if name != "balance" else "saldo" for name in BANK_FULL_COLUMNS]
    path = write_bank(tmp_path / "b.csv", header, BANK_ROWS)
    with pytest.raises(DatasetError, match=r"Got missing 'balance'; unexpected 'saldo'\.$"):
        load_bank_marketing(path)


def test_bank_line_with_an_extra_field(tmp_path: Path) -> None:
    path = write_bank(tmp_path / "b.csv", BANK_FULL_COLUMNS, [*BANK_ROWS[:1], [*BANK_ROWS[1], "9"]])
    pattern = r", line 3: must have 17 ';'-separated fields like the first line\. Got 18\.$"
    with pytest.raises(DatasetError, match=starts(path, pattern)):
        load_bank_marketing(path)


def test_bank_quote_spanning_lines_names_the_line_it_opens(tmp_path: Path) -> None:
    # The contact of line 3 opens a quote closed on line 4: 17 fields, one value on two lines.
    rows = [BANK_ROWS[0], [*BANK_ROWS[1][:8], '"cellular'], ['"', *BANK_ROWS[1][9:]], BANK_ROWS[2]]
    path = write_bank(tmp_path / "b.csv", BANK_FULL_COLUMNS, rows)
    pattern = r", line 3: values must not span lines\. Got a quoted value holding a line break\."
    with pytest.raises(DatasetError, match=starts(path, pattern)):
        load_bank_marketing(path)


def test_a_latin1_file_names_the_line_and_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "german.data"
    text = "\n".join(GERMAN_LINES[:2]) + "\n" + GERMAN_LINES[2] + " café\n"
    path.write_bytes(text.encode("latin-1"))
    offset = len(text.encode("latin-1")) - 2
    pattern = rf", line 3: must be UTF-8 text\. Got the byte 0xE9 at byte offset {offset:,},"
    with pytest.raises(DatasetError, match=starts(path, pattern)):
        load_german_credit(path)


def test_a_file_above_two_gigabytes_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "german.data"
    with path.open("wb") as sparse:  # a sparse file: 2 GB long, no disk used
        sparse.truncate(2_000_000_001)
    pattern = r": must be at most 2,000,000,000 bytes\. Got 2,000,000,001 bytes\."
    with pytest.raises(DatasetError, match=starts(path, pattern)):
        load_german_credit(tmp_path)


def test_bank_target_outside_the_labels(tmp_path: Path) -> None:
    rows = [*BANK_ROWS[:2], [*BANK_ROWS[2][:-1], '"maybe"']]
    path = write_bank(tmp_path / "b.csv", BANK_FULL_COLUMNS, rows)
    pattern = r", column 'y', line 4: must hold one of 'no', 'yes'\. Got 'maybe' \(1 bad row\)\.$"
    with pytest.raises(DatasetError, match=starts(path, pattern)):
        load_bank_marketing(path)


def test_bank_unknown_category_names_column_and_line(tmp_path: Path) -> None:
    rows = [BANK_ROWS[0], [BANK_ROWS[1][0], '"astronaut"', *BANK_ROWS[1][2:]], BANK_ROWS[2]]
    path = write_bank(tmp_path / "b.csv", BANK_FULL_COLUMNS, rows)
    with pytest.raises(DatasetError, match=starts(path, r", column 'job', line 3: must hold")):
        load_bank_marketing(path)


def test_bank_number_that_does_not_parse_counts_blank_lines(tmp_path: Path) -> None:
    rows = [*BANK_ROWS[:2], [BANK_ROWS[2][0], *BANK_ROWS[2][1:5], "3x0", *BANK_ROWS[2][6:]]]
    path = write_bank(tmp_path / "b.csv", BANK_FULL_COLUMNS, rows)
    path.write_text(path.read_text().replace("\n", "\n\n", 1))  # blank line 2
    pattern = r", column 'balance', line 5: must hold whole numbers\. Got '3x0' \(1 bad row\)\.$"
    with pytest.raises(DatasetError, match=starts(path, pattern)):
        load_bank_marketing(path)


def test_german_line_with_a_wrong_field_count(tmp_path: Path) -> None:
    path = tmp_path / "german.data"
    lines = [GERMAN_LINES[0], GERMAN_LINES[1].rsplit(" ", 1)[0], GERMAN_LINES[2]]
    path.write_text("\n".join(lines) + "\n")
    pattern = r", line 2: must have 21 space-separated fields\. Got 20\.$"
    with pytest.raises(DatasetError, match=starts(path, pattern)):
        load_german_credit(path)


def test_german_first_line_with_too_many_fields(tmp_path: Path) -> None:
    path = tmp_path / "german.data"
    path.write_text("\n".join([GERMAN_LINES[0] + " 7", *GERMAN_LINES[1:]]) + "\n")
    with pytest.raises(DatasetError, match=starts(path, r", line 1: must have 21 .* Got 22\.$")):
        load_german_credit(path)


def test_german_unknown_code(tmp_path: Path) -> None:
    path = tmp_path / "german.data"
    lines = [*GERMAN_LINES[:2], GERMAN_LINES[2].replace("A63", "A66")]
    path.write_text("\n".join(lines) + "\n")
    allowed = "'A61', 'A62', 'A63', 'A64', 'A65'"
    pattern = rf", column 'savings', line 3: must hold one of {allowed}\. Got 'A66' \(1 bad row\)"
    with pytest.raises(DatasetError, match=starts(path, pattern)):
        load_german_credit(path)


def test_german_class_outside_1_and_2(tmp_path: Path) -> None:
    path = tmp_path / "german.data"
    path.write_text("\n".join([GERMAN_LINES[0][:-1] + "0", *GERMAN_LINES[1:]]) + "\n")
    pattern = r", column 'credit_risk', line 1: must hold one of '1', '2'\. Got '0'"
    with pytest.raises(DatasetError, match=starts(path, pattern)):
        load_german_credit(path)


def test_tiny_german_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "german.data"
    path.write_text("\n".join(GERMAN_LINES) + "\n")
    frame = load_german_credit(path).frame
    assert frame["credit_risk"].tolist() == ["bad", "good", "good"]
    assert frame["purpose"].tolist() == ["car (new)", "radio/television", "business"]


def test_caravan_bad_target_and_bad_number(tmp_path: Path) -> None:
    path = tmp_path / "Caravan.csv"
    header = ",".join(CARAVAN_COLUMNS)
    path.write_text(f"{header}\n" + ",".join(["1"] * 85 + ["Maybe"]) + "\n")
    pattern = r", column 'Purchase', line 2: must hold one of 'No', 'Yes'\. Got 'Maybe'"
    with pytest.raises(DatasetError, match=starts(path, pattern)):
        load_caravan(path)
    path.write_text(f"{header}\n" + ",".join(["2.5"] + ["1"] * 84 + ["No"]) + "\n")
    pattern = r", column 'MOSTYPE', line 2: must hold whole numbers\. Got '2\.5'"
    with pytest.raises(DatasetError, match=starts(path, pattern)):
        load_caravan(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text("")
    with pytest.raises(DatasetError, match=starts(path, r": must start with a data line\.")):
        load_bank_marketing(path)
