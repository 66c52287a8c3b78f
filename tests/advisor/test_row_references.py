"""Rows are named as people find them: the file's line numbers and the clients' ids.

And the id column may be named in the constraint file (``id_column:``). Oracles: the lines
and ids are known by construction (the test writes the file and knows where each row went);
scores are the bundle's model on the row pandas finds by id.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from advisor.cli import app
from advisor.datasets import index_clients, read_clients, row_references
from advisor.errors import AdvisorError, DatasetError
from advisor.levers import Advisor
from advisor.models import load_bundle, save_bundle, train
from constraints import ConstraintError, ConstraintSet, FeatureSpec, parse_constraints
from tests.conftest import REPO_ROOT

runner = CliRunner()
_GERMAN = REPO_ROOT / "configs" / "german-credit.yaml"


def _words(output: str) -> str:
    return " ".join(output.split())


# --- line numbers of a CSV's rows ----------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    blanks=st.lists(st.integers(0, 2), min_size=1, max_size=12),
    crlf=st.booleans(),
    trailing=st.booleans(),
)
def test_each_row_gets_its_line_in_the_file(
    tmp_path_factory: pytest.TempPathFactory, blanks: list[int], crlf: bool, trailing: bool
) -> None:
    end = "\r\n" if crlf else "\n"
    lines, expected = ["id,x"], []
    for k, n_blank in enumerate(blanks):
        lines += [""] * n_blank
        lines.append(f"c{k},{k}.5")
        expected.append(len(lines))  # 1-based: the line just written
    text = end.join(lines) + (end if trailing else "")
    path = tmp_path_factory.mktemp("lines") / "clients.csv"
    path.write_bytes(text.encode())
    frame = read_clients(path)
    assert frame["x"].tolist() == [k + 0.5 for k in range(len(blanks))]
    references = row_references(frame, "id")
    assert references.names == ["line", "client"]
    assert references.get_level_values("line").tolist() == expected
    assert references.get_level_values("client").tolist() == [f"c{k}" for k in range(len(blanks))]


def test_rows_filtered_or_from_parquet_are_numbered_not_given_lines(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    path = tmp_path / "c.csv"
    frame.to_csv(path, index=False)
    read = read_clients(path)
    assert row_references(read).tolist() == [2, 3, 4]
    assert row_references(read).name == "line"
    kept = read[read["x"] > 1]  # no longer the file's rows in order: no line numbers
    assert row_references(kept).tolist() == [1, 2]
    assert row_references(kept).name is None  # the caller's own labels
    frame.to_parquet(tmp_path / "c.parquet")
    numbered = row_references(read_clients(tmp_path / "c.parquet"))
    assert (numbered.name, numbered.tolist()) == ("row", [1, 2, 3])
    indexed = index_clients(pd.DataFrame({"ID": [7, 9], "x": [1, 2]}))
    assert (row_references(indexed).name, row_references(indexed).tolist()) == (
        "client",
        ["7", "9"],
    )
    with pytest.raises(DatasetError, match=r"^id_column: must be a column of the clients"):
        row_references(frame, "nope")


# --- binding messages name lines and ids ---------------------------------------------------


@pytest.fixture(scope="module")
def broken(german_data: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """German credit with ids 1001.. and three broken rows at known positions."""
    frame = german_data.copy()
    frame.insert(0, "ID", np.arange(1001, 1001 + len(frame)))
    frame["purpose"] = frame["purpose"].astype(object)
    frame.loc[[3, 7], "purpose"] = "yacht"
    frame.loc[[4, 9], "credit_amount"] = -5
    path = tmp_path_factory.mktemp("broken") / "clients.csv"
    frame.to_csv(path, index=False)
    return path


def test_constraints_check_names_file_lines_and_ids(broken: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["constraints", "check", str(_GERMAN), "--data", str(broken)])
    assert result.exit_code == 1
    out = _words(result.output)
    # row 3 (0-based) is line 5 (the header is line 1); its id is 1004
    assert "Got 'yacht' in lines 5 (client 1004), 9 (client 1008)." in out
    assert "Got -5 in lines 6 (client 1005), 11 (client 1010)." in out
    parquet = tmp_path / "clients.parquet"
    pd.read_csv(broken).drop(columns="ID").to_parquet(parquet)
    numbered = runner.invoke(app, ["constraints", "check", str(_GERMAN), "--data", str(parquet)])
    assert "Got 'yacht' in rows 4, 8." in _words(numbered.output)  # 1-based, no lines


def test_training_names_the_file_lines_and_ids(broken: Path) -> None:
    frame = read_clients(broken)
    with pytest.raises(
        ConstraintError, match=r"'yacht' in lines 5 \(client 1004\), 9 \(client 1008\)"
    ):
        train(frame, "credit_risk", _GERMAN, families="logistic", n_trials=1, positive="bad")


# --- the id column named in the constraint file --------------------------------------------


def _with_id_column(tmp_path: Path, column: str) -> Path:
    path = tmp_path / "german.yaml"
    text = _GERMAN.read_text(encoding="utf-8")
    path.write_text(text.replace("\nfeatures:", f"\nid_column: {column}\nfeatures:", 1))
    return path


def test_the_constraint_file_may_name_the_id_column(tmp_path: Path) -> None:
    cs = parse_constraints(_with_id_column(tmp_path, "dossier").read_text(encoding="utf-8"))
    assert cs.id_column == "dossier"
    problem = runner.invoke(
        app, ["constraints", "check", str(_with_id_column(tmp_path, "duration"))]
    )
    assert problem.exit_code == 1
    assert "id_column: must not be a feature. Got 'duration', listed under features." in (
        _words(problem.output)
    )
    feature = FeatureSpec(name="a", kind="binary", role="actionable")
    with pytest.raises(ConstraintError, match=r"^id_column: must not be a feature\. Got 'a'"):
        ConstraintSet(name="t", features=(feature,), id_column="a")


@pytest.fixture(scope="module")
def dossier_bundle(
    numbered_german: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, pd.DataFrame]:
    """A bundle whose constraint file names ``dossier`` (a name detection skips)."""
    folder = tmp_path_factory.mktemp("dossier")
    frame = numbered_german.rename(columns={"numero": "dossier"})
    result = train(
        frame,
        "credit_risk",
        _with_id_column(folder, "dossier"),
        families=("logistic",),
        positive="bad",
        n_trials=1,
        budget_s=None,
        n_folds=2,
    )
    return save_bundle(result, folder / "bundle"), frame


def test_a_bundle_uses_the_id_column_its_constraint_file_names(
    dossier_bundle: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    bundle, frame = dossier_bundle
    assert load_bundle(bundle).card.data.id_column == "dossier"
    assert load_bundle(bundle).id_column == "dossier"
    data = tmp_path / "clients.csv"
    frame.to_csv(data, index=False)
    result = runner.invoke(
        app, ["advise", "7", "--bundle", str(bundle), "--data", str(data), "--json"]
    )
    assert result.exit_code == 0, result.output
    model = load_bundle(bundle).model
    by_id = float(model.score(frame.loc[frame["dossier"] == 7])[0])
    by_row = float(model.score(frame.iloc[[6]])[0])
    assert by_id != pytest.approx(by_row)
    assert json.loads(result.output)["score"] == pytest.approx(by_id)


def test_a_declared_column_missing_from_the_data_is_an_error(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [1, 2]})
    with pytest.raises(
        DatasetError,
        match=r"^id column 'dossier' \(named by the constraint file's id_column\): must be a "
        r"column of the clients\. Got no such column\.",
    ):
        index_clients(frame, declared="dossier")
    assert index_clients(frame.assign(dossier=[5, 6]), declared="dossier").index.tolist() == [
        "5",
        "6",
    ]


# --- the Python API never guesses between an id and a row ---------------------------------


def test_a_number_is_not_taken_for_an_id_or_a_row(
    german_bundle: Path, german_data: pd.DataFrame
) -> None:
    bundle = load_bundle(german_bundle)
    clients = index_clients(german_data)
    advisor = Advisor.from_bundle(bundle, clients, engine="search")
    with pytest.raises(
        AdvisorError,
        match=r"^client: must be a client id as text \(the reference's index\) or a one-row "
        r"frame\. Got the number 18, which could be an id or a row number: it is not guessed\. "
        r"Hint: advisor\.client\('18'\) for the client whose id is 18 or "
        r"reference\.iloc\[\[17\]\] for row 18\.$",
    ):
        advisor.advise(18)
    assert advisor.client("18").equals(clients.iloc[[17]])
    raw = Advisor.from_bundle(bundle, clients.reset_index(drop=True), engine="search")
    with pytest.raises(
        AdvisorError, match=r"indexed by int64 labels .* advisor\.datasets\.index_clients\(frame\)"
    ):
        raw.client("18")
