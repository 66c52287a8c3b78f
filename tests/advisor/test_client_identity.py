"""Client identity is never guessed: id columns named, recorded in the bundle, or detected.

The oracle for "the right client" is the bundle's own model scored on the row whose id was
asked (found with pandas, not through ``index_clients``), and checked to differ from the
score of the row with that number.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.datasets import find_id_column, index_clients
from advisor.errors import DatasetError, ModelError
from advisor.models import load_bundle, train
from tests.conftest import REPO_ROOT

runner = CliRunner()
_GERMAN = REPO_ROOT / "configs" / "german-credit.yaml"


def _words(output: str) -> str:
    return " ".join(output.split())


@pytest.mark.parametrize(
    ("name", "detected"),
    [
        ("ID", True),
        ("Id", True),
        ("Loan_ID", True),
        ("CustomerId", True),
        ("ClientID", True),
        ("SK_ID_CURR", True),
        ("customer_ref", True),
        ("ref", True),
        ("client-id", True),
        ("paid", False),
        ("Idea", False),
        ("valid", False),
        ("reference_rate", False),
        ("refund", False),
    ],
)
def test_id_like_names(name: str, detected: bool) -> None:
    frame = pd.DataFrame({"age": [40, 51, 33], name: [30, 10, 20]})
    assert find_id_column(frame) == (name if detected else None)


def test_two_id_like_columns_are_an_error_naming_both_and_the_option() -> None:
    frame = pd.DataFrame({"ID": [3, 1, 2], "customer_ref": ["a", "b", "c"], "age": [1, 2, 3]})
    with pytest.raises(
        DatasetError,
        match=r"^id_column: the clients must have at most one id-like column of unique ids, or "
        r"the id column must be named\. Got 2 \('ID', 'customer_ref'\); which one identifies "
        r"the clients is not guessed\. Hint: name it with --id-column \(id_column= in "
        r"Python, or id_column: in the constraint file\), e\.g\. 'ID'\.$",
    ):
        index_clients(frame)
    assert index_clients(frame, "customer_ref").index.tolist() == ["a", "b", "c"]
    assert index_clients(frame, recorded="ID").index.tolist() == ["3", "1", "2"]


def test_a_recorded_column_is_used_unless_another_is_named() -> None:
    frame = pd.DataFrame({"numero": [9, 8, 7], "ID": [1, 2, 3]})
    assert index_clients(frame, recorded="numero").index.tolist() == ["9", "8", "7"]
    assert index_clients(frame, "ID", recorded="numero").index.tolist() == ["1", "2", "3"]
    assert find_id_column(frame, recorded="numero") == "numero"
    with pytest.raises(
        DatasetError,
        match=r"^id column 'numero' \(recorded in the model bundle at training\): must be a "
        r"column of the clients\. Got no such column\. Hint: name this data's id column with "
        r"--id-column \(id_column= in Python\)\.$",
    ):
        index_clients(frame.drop(columns="numero"), recorded="numero")
    with pytest.raises(DatasetError, match=r"^recorded: must be a column name or None\. Got 3"):
        index_clients(frame, recorded=3)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def numbered(numbered_german: pd.DataFrame) -> pd.DataFrame:
    return numbered_german


@pytest.fixture(scope="module")
def recorded_bundle(recorded_german_bundle: Path) -> Path:
    return recorded_german_bundle


def test_training_records_the_id_column_in_the_card(
    recorded_bundle: Path, german_bundle: Path, numbered: pd.DataFrame
) -> None:
    assert load_bundle(recorded_bundle).card.data.id_column == "numero"
    assert load_bundle(german_bundle).card.data.id_column is None  # no id column
    ambiguous = numbered.assign(ID=numbered["numero"], customer_ref=numbered["numero"])
    with pytest.raises(ModelError, match=r"^id_column: .*Got 2 \('ID', 'customer_ref'\)"):
        train(ambiguous, "credit_risk", _GERMAN, families="logistic", n_trials=1, positive="bad")
    with pytest.raises(ModelError, match=r"^id_column: must name a column of the clients"):
        train(numbered, "credit_risk", _GERMAN, n_trials=1, positive="bad", id_column="nope")


def test_a_card_without_the_field_reads_none(recorded_bundle: Path, tmp_path: Path) -> None:
    import hashlib
    import shutil

    old = tmp_path / "old"
    shutil.copytree(recorded_bundle, old)
    card = json.loads((old / "model_card.json").read_text(encoding="utf-8"))
    del card["data"]["id_column"]
    payload = json.dumps(card, indent=2) + "\n"
    (old / "model_card.json").write_text(payload, encoding="utf-8")
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    (old / "model_card.sha256").write_text(f"{digest}  model_card.json\n", encoding="ascii")
    loaded = load_bundle(old)
    assert loaded.integrity.card_verified
    assert loaded.card.data.id_column is None


def _score(bundle: Path, row: pd.DataFrame) -> float:
    return float(load_bundle(bundle).model.score(row)[0])


def test_advise_looks_a_client_up_by_id_not_by_row(
    german_bundle: Path, numbered: pd.DataFrame, tmp_path: Path
) -> None:
    data = tmp_path / "clients.csv"
    numbered.rename(columns={"numero": "ID"}).to_csv(data, index=False)
    args = ["--bundle", str(german_bundle), "--data", str(data), "--json"]
    result = runner.invoke(app, ["advise", "7", *args])
    assert result.exit_code == 0, result.output
    by_id = _score(german_bundle, numbered.loc[numbered["numero"] == 7])
    by_row = _score(german_bundle, numbered.iloc[[6]])
    assert by_id != pytest.approx(by_row)  # the two readings give different answers
    assert json.loads(result.output)["score"] == pytest.approx(by_id)


def test_a_row_number_that_is_not_an_id_is_an_error_that_says_so(
    german_bundle: Path, numbered: pd.DataFrame, tmp_path: Path
) -> None:
    data = tmp_path / "clients.csv"
    numbered.assign(ID=numbered["numero"] + 1).to_csv(data, index=False)  # ids 2..1001
    args = ["--bundle", str(german_bundle), "--data", str(data), "--id-column", "ID"]
    result = runner.invoke(app, ["advise", "1", *args])
    assert result.exit_code == 2
    assert _words(result.output).startswith(
        "error: client: 1 is not a client id of column 'ID'; row numbers are not used when "
        "the data has an id column. Got no client with id '1'. Hint: give a value of 'ID'"
    )


def test_advise_refuses_two_id_like_columns_and_names_the_option(
    german_bundle: Path, numbered: pd.DataFrame, tmp_path: Path
) -> None:
    data = tmp_path / "clients.csv"
    numbered.assign(ID=numbered["numero"], customer_ref=numbered["numero"] * 10).to_csv(
        data, index=False
    )
    args = ["--bundle", str(german_bundle), "--data", str(data), "--json"]
    refused = runner.invoke(app, ["advise", "7", *args])
    assert refused.exit_code == 2
    assert "Got 2 ('ID', 'customer_ref')" in _words(refused.output)
    assert "Hint: name it with --id-column" in _words(refused.output)
    chosen = runner.invoke(app, ["advise", "70", *args, "--id-column", "customer_ref"])
    assert chosen.exit_code == 0, chosen.output
    expected = _score(german_bundle, numbered.loc[numbered["numero"] == 7])
    assert json.loads(chosen.output)["score"] == pytest.approx(expected)


def test_advise_and_app_use_the_bundle_s_recorded_column(
    recorded_bundle: Path, numbered: pd.DataFrame, tmp_path: Path
) -> None:
    data = tmp_path / "clients.csv"
    numbered.to_csv(data, index=False)
    args = ["--bundle", str(recorded_bundle), "--data", str(data), "--json"]
    result = runner.invoke(app, ["advise", "7", *args])
    assert result.exit_code == 0, result.output
    expected = _score(recorded_bundle, numbered.loc[numbered["numero"] == 7])
    assert json.loads(result.output)["score"] == pytest.approx(expected)
    by_row = runner.invoke(app, ["advise", "7", *args, "--id-column", "numero"])
    assert json.loads(by_row.output)["score"] == pytest.approx(expected)
    missing = tmp_path / "without.csv"
    numbered.drop(columns="numero").to_csv(missing, index=False)
    for command in (
        ["advise", "7", "--bundle", str(recorded_bundle), "--data", str(missing)],
        ["app", "--bundle", str(recorded_bundle), "--data", str(missing)],
    ):
        refused = runner.invoke(app, command)
        assert refused.exit_code == 2, refused.output
        assert _words(refused.output).startswith(
            "error: id column 'numero' (recorded in the model bundle at training): must be a "
            "column of the clients. Got no such column."
        )
    rows = runner.invoke(
        app,
        [
            *("advise", "7", "--bundle", str(recorded_bundle), "--data", str(missing)),
            *("--json", "--id-column", "credit_amount"),
        ],
    )
    assert rows.exit_code == 2  # credit amounts repeat: not ids, and said so
    assert "must hold one id per client" in _words(rows.output)


def test_campaign_run_uses_the_bundle_s_recorded_column(
    recorded_bundle: Path, numbered: pd.DataFrame, tmp_path: Path
) -> None:
    data, out = tmp_path / "clients.csv", tmp_path / "out"
    numbered.to_csv(data, index=False)
    args = ["campaign", "run", "--bundle", str(recorded_bundle), "--data", str(data)]
    result = runner.invoke(app, [*args, "--limit", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    levers = pd.read_csv(out / "levers.csv").drop_duplicates("client")
    assert levers["client"].tolist() == numbered["numero"].head(2).tolist()
    expected = load_bundle(recorded_bundle).model.score(numbered.head(2))
    np.testing.assert_allclose(levers["score"], expected)
    missing = tmp_path / "without.csv"
    numbered.drop(columns="numero").to_csv(missing, index=False)
    refused = runner.invoke(
        app, ["campaign", "run", "--bundle", str(recorded_bundle), "--data", str(missing)]
    )
    assert refused.exit_code == 2, refused.output
    assert "id column 'numero' (recorded in the model bundle at training)" in _words(refused.output)
