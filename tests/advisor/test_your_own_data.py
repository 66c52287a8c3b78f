"""README's "Your own data, step by step", command by command, on a bank's own file.

A French export (zipped, latin-1, semicolon-separated, decimal commas) with an id column and
a monthly income missing for about 20 % of clients: draft the constraint file, decide the
roles, check, train, advise (by id, by JSON row, from a SQLite copy). The oracle for every
lever is the saved model itself.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.models import load_bundle
from tests.conftest import write_french_export

runner = CliRunner()
N_CLIENTS = 600


def _bank_file(path: Path) -> pd.DataFrame:
    """Clients whose loan uptake rises with savings and a card (seeded, known effects)."""
    rng = np.random.default_rng(0)
    savings = np.round(rng.gamma(2.0, 3000, N_CLIENTS), -1)
    card = rng.random(N_CLIENTS) < 0.4
    income = np.round(rng.lognormal(7.8, 0.4, N_CLIENTS), -1)
    logit = -2.0 + 0.00025 * savings + 1.2 * card + 0.0002 * (income - 2500)
    took = rng.random(N_CLIENTS) < 1 / (1 + np.exp(-logit))
    seen_income = np.where(rng.random(N_CLIENTS) < 0.2, np.nan, income)
    frame = pd.DataFrame(
        {
            "customer_id": [f"K{i:05d}" for i in range(N_CLIENTS)],
            "age": rng.integers(18, 80, N_CLIENTS),
            "monthly_income": seen_income,
            "savings_balance": savings,
            "has_card": np.where(card, "yes", "no"),
            "région": rng.choice(["Nord", "Sud", "Île-de-France"], N_CLIENTS),
            "took_loan": np.where(took, "yes", "no"),
        }
    )
    write_french_export(frame, path)
    return frame


def _decide(draft: str) -> str:
    """What the expert writes into the draft: two levers, age immutable, French labels."""
    decided = draft.replace("fr: TODO ", "fr: ")
    for feature, lines in {
        "savings_balance": "role: actionable\n    direction: increase",
        "has_card": "role: actionable\n    direction: increase",
        "age": "role: immutable",
    }.items():
        head, _, tail = decided.partition(f"\n  {feature}:\n    kind:")
        kind, _, rest = tail.partition("\n    role: context")
        decided = f"{head}\n  {feature}:\n    kind:{kind}\n    {lines}{rest}"
    return decided


def test_the_readme_walkthrough(tmp_path: Path) -> None:
    data = tmp_path / "clients.zip"
    frame = _bank_file(data)
    yaml_file = tmp_path / "clients.yaml"

    drafted = runner.invoke(
        app, ["constraints", "draft", str(data), "--target", "took_loan", "--out", str(yaml_file)]
    )
    assert drafted.exit_code == 0, drafted.output
    text = yaml_file.read_text()
    assert "missing: keep" in text
    assert "# customer_id:" in text  # an identifier is flagged and left out
    yaml_file.write_text(_decide(text))

    checked = runner.invoke(app, ["constraints", "check", str(yaml_file), "--data", str(data)])
    assert checked.exit_code == 0, checked.output

    bundle = tmp_path / "models" / "mine"
    trained = runner.invoke(
        app,
        [
            "train", "--data", str(data), "--target", "took_loan", "--constraints",
            str(yaml_file), "--out", str(bundle), "--families", "xgboost", "--n-trials", "1",
        ],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    model = load_bundle(bundle).model
    indexed = frame.set_index("customer_id", drop=False)
    scores = pd.Series(model.score(indexed), index=indexed.index)

    # clients below the goal, some with the income missing: levers never touch the income
    database = tmp_path / "clients.db"
    with closing(sqlite3.connect(database)) as connection:
        frame.to_sql("clients", connection, index=False)
    sources = [str(data), f"sqlite:///{database}?table=clients"]
    missing = indexed["monthly_income"].isna()
    goal = float(np.quantile(scores, 0.9))  # the advisor's default goal: the top decile
    room = (scores > goal - 0.35) & (scores < goal - 0.05)
    chosen = [*scores[missing & room].index[:3], *scores[~missing & room].index[:3]]
    found = 0
    for i, client in enumerate(chosen):
        args = ["advise", client, "--bundle", str(bundle), "--data", sources[i % 2], "--json"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        payload = json.loads(result.output)
        assert payload["score"] == pytest.approx(scores[client])
        for lever in payload["levers"]:
            changed = {c["feature"] for c in lever["changes"]}
            assert changed <= {"savings_balance", "has_card"}
            after = indexed.loc[[client]].copy()
            for change in lever["changes"]:
                after[change["feature"]] = change["after"]
            assert model.score(after)[0] == pytest.approx(lever["score_after"], abs=1e-9)
            assert lever["score_after"] >= payload["goal"] - 1e-9
        assert payload["goal"] >= goal - 1e-9
        found += bool(payload["levers"])
    assert found >= 3

    row = indexed.drop(columns=["customer_id", "took_loan"]).iloc[0].to_dict()
    inline = runner.invoke(
        app, ["advise", json.dumps(row), "--bundle", str(bundle), "--data", str(data), "--json"]
    )
    assert inline.exit_code == 0, inline.output
    assert json.loads(inline.output)["score"] == pytest.approx(scores.iloc[0])
