"""The comparative study: a tiny real run writes every table, reproducibly; the CLI's checks.

The run is real (the AutoML chain, LIME, the demo SCM, influence functions, the
demo recommender of the session's ``demo_bundle``: same portfolio size and seed as a quick
run), kept to 3 clients, 2 reruns and one family so that it takes seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import AdvisorError
from advisor.study import TABLES, StudyResult, run_study

METHODS = ("lime", "tree_shap")  # tree_shap does not apply to logistic: skipped, with why
RUNTIME_COLUMNS = ("runtime_s",)


def _tiny(out: Path, demo_bundle: Path) -> StudyResult:
    return run_study(
        out,
        datasets=("demo",),
        models=("logistic",),
        methods=METHODS,
        n_clients=3,
        n_reruns=2,
        quick=True,
        seed=0,
        recommender=demo_bundle,
    )


@pytest.fixture(scope="module")
def two_runs(
    tmp_path_factory: pytest.TempPathFactory, demo_bundle: Path
) -> tuple[StudyResult, StudyResult]:
    folder = tmp_path_factory.mktemp("study")
    return _tiny(folder / "a", demo_bundle), _tiny(folder / "b", demo_bundle)


def _read(folder: Path, name: str, kind: str) -> pd.DataFrame:
    path = folder / f"{name}.{kind}"
    assert path.is_file(), path
    return pd.read_parquet(path) if kind == "parquet" else pd.read_csv(path)


def test_every_table_is_written_with_its_schema(two_runs: Any) -> None:
    result = two_runs[0]
    for name, columns in TABLES.items():
        for kind in ("parquet", "csv"):
            assert tuple(_read(result.out, name, kind).columns) == columns, (name, kind)
        assert len(result.table(name)) > 0, name
    study = json.loads((result.out / "study.json").read_text())
    for key in ("datasets", "models", "methods", "quick", "seed", "n_clients", "n_reruns",
                "versions", "started_at", "elapsed_s", "skipped"):  # fmt: skip
        assert key in study, key
    assert study["datasets"] == ["demo"]
    assert study["n_clients"] == 3
    assert study["n_reruns"] == 2
    skipped = {(s["model"], s["method"]): s["reason"] for s in study["skipped"]}
    assert "XGBoost" in skipped[("logistic", "tree_shap")]
    explanations = result.table("explanations")
    assert set(explanations["method"]) == {"truth", "model", "lime"}
    lime = explanations.loc[explanations["method"] == "lime"]
    assert sorted(set(lime["rerun"])) == [0, 1]
    assert sorted(set(lime["seed"])) == [0, 1]
    metrics = result.table("metrics")
    lime_metrics = set(metrics.loc[metrics["method"] == "lime", "metric"])
    assert {
        "deletion_auc", "insertion_auc", "truth_spearman", "truth_top3_precision",
        "stability_jaccard_seeds", "stability_corr_seeds", "stability_jaccard_perturbed",
        "actionability_top5", "runtime_s",
    } <= lime_metrics  # fmt: skip
    influence = metrics.loc[metrics["method"] == "influence"]
    assert set(influence["metric"]) == {"runtime_s", "stability_jaccard_perturbed"}
    assert set(result.table("levers_agreement")["method"]) <= set(METHODS)
    assert result.table("levers_agreement")["share"].between(0, 1).all()


def test_every_method_explains_the_same_clients(two_runs: Any) -> None:
    explanations = two_runs[0].table("explanations")
    clients = {
        method: tuple(sorted(set(group["client"].tolist())))
        for method, group in explanations.groupby("method")
    }
    assert len(set(clients.values())) == 1
    assert len(clients["lime"]) == 3


def test_curves_start_and_end_at_the_same_scores_for_every_method(two_runs: Any) -> None:
    """k = 0 of deletion is the client's score, k = d the reference's, whatever the ranking."""
    curves = two_runs[0].table("curves")
    d = int(curves["k"].max())
    for (curve, k), expected_same in (
        (("deletion", 0), "client"),
        (("deletion", d), "reference"),
        (("insertion", 0), "reference"),
        (("insertion", d), "client"),
    ):
        rows = curves.loc[(curves["curve"] == curve) & (curves["k"] == k)]
        per_client = rows.groupby("client")["output"].agg(lambda v: float(np.ptp(v)))
        assert (per_client < 1e-12).all(), (curve, k, expected_same)
    ends = curves.loc[curves["k"] == d].pivot_table(
        index=["method", "client"], columns="curve", values="output"
    )
    start = curves.loc[curves["k"] == 0].pivot_table(
        index=["method", "client"], columns="curve", values="output"
    )
    np.testing.assert_allclose(ends["deletion"], start["insertion"])
    np.testing.assert_allclose(ends["insertion"], start["deletion"])


def test_the_truth_agrees_with_itself(two_runs: Any) -> None:
    result = two_runs[0]
    metrics = result.table("metrics").set_index(["method", "metric"])["value"]
    assert metrics[("truth", "truth_spearman")] == pytest.approx(1.0)
    assert metrics[("truth", "truth_top3_precision")] == pytest.approx(1.0)
    agreement = result.table("agreement").set_index(["method_a", "method_b"])["spearman"]
    assert agreement[("truth", "truth")] == pytest.approx(1.0)
    assert agreement[("lime", "model")] == pytest.approx(agreement[("model", "lime")])


def test_same_seed_gives_the_same_tables(two_runs: Any) -> None:
    first, second = two_runs
    for name in TABLES:
        a, b = first.table(name), second.table(name)
        if name == "metrics":
            a, b = (t.loc[t["metric"] != "runtime_s"].reset_index(drop=True) for t in (a, b))
        drop = [c for c in RUNTIME_COLUMNS if c in a.columns]
        pd.testing.assert_frame_equal(a.drop(columns=drop), b.drop(columns=drop), obj=name)
    keep = {k: v for k, v in first.study.items() if k not in ("elapsed_s", "started_at")}
    assert keep == {k: v for k, v in second.study.items() if k not in ("elapsed_s", "started_at")}


def test_out_is_checked_before_any_work(tmp_path: Path) -> None:
    file = tmp_path / "taken"
    file.write_text("x")
    with pytest.raises(AdvisorError, match=r"^out: must be a folder\. Got .*which is a file\.$"):
        run_study(file, datasets=("demo",))
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(AdvisorError, match=r"^out: must be a new or empty folder"):
        run_study(other, datasets=("demo",))
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


def test_bad_parameters_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(AdvisorError, match=r"^datasets: must be a non-empty tuple of demo"):
        run_study(tmp_path / "s", datasets=("demo", "mars"))
    with pytest.raises(AdvisorError, match=r"^methods: must be a non-empty tuple of lime"):
        run_study(tmp_path / "s", methods=("guess",))
    with pytest.raises(AdvisorError, match=r"^n_reruns: must be a whole number"):
        run_study(tmp_path / "s", n_reruns=1)
    with pytest.raises(AdvisorError, match=r"^datasets: german needs .*does not exist"):
        run_study(tmp_path / "s", datasets=("german",), data_dir=tmp_path / "nowhere")
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--datasets", "demo,mars"], "--datasets: must be comma-separated names among demo"),
        (["--methods", "lime,guess"], "--methods: must be comma-separated names among lime"),
        (["--models", "forest"], "--models: must be comma-separated names among logistic"),
        (["--n-reruns", "1"], "n_reruns: must be a whole number"),
    ],
)
def test_cli_bad_options_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["study", "run", "--out", str(tmp_path / "s"), *args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"error: {message}"), result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "s").exists()


def test_cli_checks_out_before_any_work(tmp_path: Path) -> None:
    file = tmp_path / "taken"
    file.write_text("x")
    result = CliRunner().invoke(app, ["study", "run", "--quick", "--out", str(file)])
    assert result.exit_code == 2
    assert result.output.startswith("error: out: must be a folder.")
    assert "loading" not in result.output
    assert "training" not in result.output


def test_cli_report_of_a_folder_without_a_study_fails_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["study", "report", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert "Traceback" not in result.output


def test_true_effects_move_an_impossible_reference_to_the_nearest_allowed_value() -> None:
    """A tenure of 9 years is impossible at 19 (tenure <= age - 18): the SCM gets 1 year."""
    from advisor.datasets import intervene, make_demo_portfolio, true_propensity
    from advisor.study._context import true_effects

    portfolio = make_demo_portfolio(n_clients=2_000, seed=0)
    young = portfolio.loc[portfolio["age"] < 22].head(4)
    reference = portfolio.iloc[0].copy()
    reference["tenure_years"], reference["age"] = 9, 45
    effects = true_effects(young, reference, ("tenure_years",), product="life_insurance", seed=0)
    allowed = young["age"].to_numpy() - 18
    after = true_propensity(
        intervene(young, {"tenure_years": allowed}, seed=0), "life_insurance", seed=0
    )
    before = true_propensity(young, "life_insurance", seed=0)
    np.testing.assert_allclose(effects[:, 0], before - after)
