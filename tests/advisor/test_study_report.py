"""The study report: built from a study folder's tables, self-contained, every number from them.

Most tests here read a folder of SYNTHETIC tables (:func:`synthetic_study`): seeded random
numbers in the study's exact schema, not the result of any explainer, so each test controls
the values it checks (who wins, what is missing, what is malformed). The report of a real
quick study run is tested in ``test_study_report_run.py``.
"""

from __future__ import annotations

import itertools
import json
import re
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import AdvisorError
from advisor.study._report import render_report, write_report
from advisor.study._report_results import per_client_jaccard
from advisor.study._report_tables import TABLES, read_study

FEATURES = ("age", "income", "savings", "tenure", "products", "region")
ROLES = ("immutable", "context", "actionable", "actionable", "actionable", "context")
METHODS = ("lime", "levers_lime", "tree_shap", "kernel_shap")


def synthetic_study(
    out: Path,
    *,
    datasets: tuple[str, ...] = ("demo",),
    models: tuple[str, ...] = ("logistic",),
    metric_values: dict[tuple[str, str], float] | None = None,
    seed: int = 0,
) -> Path:
    """Write SYNTHETIC study tables to ``out``: random numbers in the study's schema.

    ``metric_values`` fixes chosen ``(method, metric)`` values (in every data set x model).
    """
    rng = np.random.default_rng(seed)
    fixed = metric_values or {}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for dataset, model, method in itertools.product(datasets, models, METHODS):
        where = {"dataset": dataset, "model": model, "method": method}
        for client, rerun in itertools.product(("c1", "c2", "c3"), (0, 1)):
            weights = rng.normal(size=len(FEATURES))
            ranks = np.argsort(np.argsort(-np.abs(weights))) + 1
            rows["explanations"] += [
                {**where, "client": client, "rerun": rerun, "seed": rerun, "feature": feature,
                 "weight": weight, "rank": rank, "role": role, "scale": "probability",
                 "runtime_s": 0.01}
                for feature, weight, rank, role in zip(FEATURES, weights, ranks, ROLES, strict=True)
            ]  # fmt: skip
            if rerun == 0:
                rows["curves"] += [
                    {**where, "client": client, "curve": curve, "k": k, "output": rng.uniform()}
                    for curve in ("deletion", "insertion")
                    for k in range(len(FEATURES) + 1)
                ]
        metrics = ["deletion_auc", "insertion_auc", "stability_jaccard_seeds", "runtime_s"]
        metrics += ["truth_spearman", "truth_top3_precision"] if dataset == "demo" else []
        rows["metrics"] += [
            {**where, "metric": metric, "value": fixed.get((method, metric), rng.uniform()), "n": 3}
            for metric in metrics
        ]
    for dataset, model in itertools.product(datasets, models):
        rows["agreement"] += [
            {"dataset": dataset, "model": model, "method_a": a, "method_b": b,
             "spearman": rng.uniform(-1, 1)}
            for a, b in itertools.combinations(METHODS, 2)
        ]  # fmt: skip
    rows["levers_agreement"] = [
        {"client": client, "product": "life", "method": method, "share": rng.uniform()}
        for client in ("c1", "c2") for method in METHODS
    ]  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    for name, columns in TABLES.items():
        pd.DataFrame(rows[name], columns=list(columns)).to_parquet(out / f"{name}.parquet")
    facts = {
        "datasets": [*datasets, "bank"],
        "models": list(models),
        "methods": list(METHODS),
        "quick": True,
        "seed": seed,
        "n_clients": 3,
        "n_reruns": 2,
        "versions": {"levers": "synthetic"},
        "started_at": "2026-12-03T00:00:00Z",
        "elapsed_s": 1.5,
        "skipped": [
            {"dataset": datasets[0], "model": models[0], "method": "integrated_gradients",
             "reason": "SYNTHETIC: integrated gradients need the MLP"}
        ],
    }  # fmt: skip
    (out / "study.json").write_text(json.dumps(facts), encoding="utf-8")
    return out


class ReportParser(HTMLParser):
    """Collects the result cells (their data attributes and text), URLs and paragraphs."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str]] = []
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, url), with the tag's class
        self.items: list[str] = []
        self._cell: dict[str, str] | None = None
        self._item: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        for name in ("src", "href"):
            if name in found:
                self.urls.append((f"{tag}.{found.get('class', '')}", name, found[name]))
        if tag == "td" and "data-metric" in found:
            self._cell = {**found, "text": ""}
        if tag == "li":
            self._item = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.cells.append(self._cell)
            self._cell = None
        if tag == "li" and self._item is not None:
            self.items.append(" ".join("".join(self._item).split()))
            self._item = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell["text"] += data
        if self._item is not None:
            self._item.append(data)


def parse(html: Path | str) -> ReportParser:
    """Return the parsed report (a file, or its HTML text)."""
    parser = ReportParser()
    parser.feed(html.read_text(encoding="utf-8") if isinstance(html, Path) else html)
    return parser


def pdf_pages(pdf: bytes) -> int:
    """Count a PDF's page objects, looking into its (zlib) compressed streams too."""
    texts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            texts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return sum(len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", text)) for text in texts)


def check_numbers(cells: list[dict[str, str]], metrics: pd.DataFrame) -> int:
    """Check each result cell against metrics.parquet; return how many rows were shown."""
    finite = metrics[np.isfinite(metrics["value"])]
    keyed = finite.set_index(["dataset", "model", "method", "metric"])
    shown = {(c["data-dataset"], c["data-model"], c["data-method"], c["data-metric"]): c
             for c in cells}  # fmt: skip
    assert len(shown) == len(cells)  # every number shown once
    assert set(shown) == set(keyed.index)  # every finite metric is shown
    for key, cell in shown.items():
        value, text = float(keyed.loc[key, "value"]), cell["text"].strip()
        decimals = len(text.split(".")[1]) if "." in text else 0
        assert abs(float(text) - value) <= 0.5 * 10**-decimals * (1 + 1e-9), (key, text, value)
        assert int(cell["data-n"]) == int(keyed.loc[key, "n"])
    return len(shown)


def check_self_contained(urls: list[tuple[str, str, str]]) -> None:
    """No resource is fetched: every src is data:, every web link a citation or an anchor."""
    for tag, attribute, url in urls:
        if attribute == "src":
            assert url.startswith("data:image/"), (tag, url[:60])
        elif url.startswith(("http://", "https://")):
            assert tag == "a.citation", (tag, url)
        else:
            assert url.startswith("#"), (tag, url)


@pytest.fixture(scope="module")
def synthetic_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = synthetic_study(tmp_path_factory.mktemp("study") / "run")
    html, pdf = write_report(folder)
    return folder, html, pdf


def test_the_report_shows_every_metric_of_the_tables(
    synthetic_report: tuple[Path, Path, Path],
) -> None:
    folder, html, pdf = synthetic_report
    assert (html, pdf) == (folder / "report.html", folder / "report.pdf")
    report = parse(html)
    assert check_numbers(report.cells, pd.read_parquet(folder / "metrics.parquet")) == 4 * 6
    check_self_contained(report.urls)
    assert sum(1 for _, a, url in report.urls if a == "src") == 5  # curves, box, truth, time, map
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF")
    assert pdf_pages(content) >= 6


def test_the_report_names_what_is_missing(synthetic_report: tuple[Path, Path, Path]) -> None:
    items = parse(synthetic_report[1]).items
    assert "Data set bank was asked for but has no result in the tables." in items
    times = "\N{MULTIPLICATION SIGN}"
    assert (
        f"integrated gradients on demo {times} logistic was skipped: SYNTHETIC: integrated "
        "gradients need the MLP" in items
    )


@pytest.mark.parametrize(
    ("levers", "lime", "verdict"),
    [(0.95, 0.5, "better"), (0.4, 0.7, "worse"), (0.7, 0.7, "the same")],
)
def test_the_conclusions_say_who_wins_from_the_tables(
    tmp_path: Path, levers: float, lime: float, verdict: str
) -> None:
    folder = synthetic_study(
        tmp_path,
        metric_values={
            ("levers_lime", "stability_jaccard_seeds"): levers,
            ("lime", "stability_jaccard_seeds"): lime,
        },
    )
    html = render_report(read_study(folder))  # the HTML alone: no PDF needed
    items = parse(html).items
    goal = "meets" if levers >= 0.9 else "misses"
    sentence = (
        f"Stability: Levers LIME's top-5 Jaccard (seeds) is {levers:.3f} against {lime:.3f} for "
        f"vanilla LIME ({verdict}); it {goal} the goal of 0.900."
    )
    assert sentence in items
    won = 1 if levers > lime else 0
    summary = re.search(r'data-summary="levers-vs-lime">(.*?)</p>', html, re.DOTALL)
    assert summary is not None
    every, none = " ".join(summary.group(1).split()).split(", and in none by ")
    assert ("top-5 Jaccard (seeds)" in every) == bool(won)
    assert ("top-5 Jaccard (seeds)" in none) == (not won)
    assert any(item.startswith(f"top-5 Jaccard (seeds): Levers LIME does better in {won} of 1 ")
               for item in items)  # fmt: skip


def test_per_client_jaccard_against_sets_counted_by_hand() -> None:
    rows = [
        # client a: reruns {x, y} and {y, z} -> 1/3; client b: twice {x} -> 1; c: one rerun
        ("a", 0, "x", 1), ("a", 0, "y", 2), ("a", 0, "z", 6),
        ("a", 1, "y", 1), ("a", 1, "z", 2), ("a", 1, "x", 7),
        ("b", 0, "x", 1), ("b", 1, "x", 1), ("c", 0, "x", 1),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["client", "rerun", "feature", "rank"]).assign(
        dataset="d", model="m", method="lime"
    )
    jaccard = per_client_jaccard(frame, top_k=5).set_index("client")["jaccard"]
    assert jaccard.to_dict() == pytest.approx({"a": 1 / 3, "b": 1.0})


def test_a_missing_table_is_one_clear_error(tmp_path: Path) -> None:
    folder = synthetic_study(tmp_path / "run")
    (folder / "curves.parquet").unlink()
    with pytest.raises(AdvisorError, match=r"curves\.parquet: must exist \(or curves\.csv\)"):
        write_report(folder)
    result = CliRunner().invoke(app, ["study", "report", str(folder)])
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert "curves.parquet: must exist (or curves.csv)" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (folder / "report.html").exists()


def test_a_missing_column_is_named_with_its_file(tmp_path: Path) -> None:
    folder = synthetic_study(tmp_path / "run")
    metrics = pd.read_parquet(folder / "metrics.parquet")
    metrics.drop(columns="value").to_parquet(folder / "metrics.parquet")
    with pytest.raises(AdvisorError, match=r"metrics\.parquet: column 'value' must exist\. Got"):
        write_report(folder)


def test_text_in_a_number_column_is_named_with_its_row(tmp_path: Path) -> None:
    folder = synthetic_study(tmp_path / "run")
    (folder / "agreement.parquet").unlink()
    agreement = pd.DataFrame(
        {"dataset": ["demo"], "model": ["logistic"], "method_a": ["lime"],
         "method_b": ["tree_shap"], "spearman": ["high"]}
    )  # fmt: skip
    agreement.to_csv(folder / "agreement.csv", index=False)
    with pytest.raises(
        AdvisorError,
        match=r"agreement\.csv: column 'spearman' must hold numbers\. Got 'high' in row 1\.",
    ):
        write_report(folder)


def test_bad_run_facts_and_a_missing_folder_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(AdvisorError, match=r"must be an existing folder\. Got no folder\."):
        write_report(tmp_path / "nowhere")
    with pytest.raises(AdvisorError, match=r"^study folder: must be a path .*Got int\.$"):
        write_report(3)  # type: ignore[arg-type]
    folder = synthetic_study(tmp_path / "run")
    facts = json.loads((folder / "study.json").read_text(encoding="utf-8"))
    (folder / "study.json").write_text(json.dumps({**facts, "n_clients": "three"}))
    with pytest.raises(AdvisorError, match=r"study\.json: key 'n_clients' must be a whole number"):
        write_report(folder)


@pytest.fixture(scope="module")
def quick_study(tmp_path_factory: pytest.TempPathFactory, demo_bundle: Path) -> Path:
    """A real quick study: the demo portfolio, a logistic model, 3 clients, 2 reruns.

    LIME and Levers LIME run; TreeSHAP is asked for too and skipped (it needs XGBoost), so
    the report has a real skipped method to name. KernelSHAP and the other families are left
    to the benchmark (they would triple this fixture's time); the recommender is the test
    session's demo bundle (not trained again).
    """
    from advisor.study import run_study

    out = tmp_path_factory.mktemp("quick") / "study"
    run_study(
        out,
        datasets=("demo",),
        models=("logistic",),
        methods=("lime", "levers_lime", "tree_shap"),
        n_clients=3,
        n_reruns=2,
        quick=True,
        recommender=demo_bundle,
    )
    return out


def test_the_report_of_a_real_quick_study(quick_study: Path) -> None:
    result = CliRunner().invoke(app, ["study", "report", str(quick_study)])  # write_report
    assert result.exit_code == 0, result.output
    html, pdf = quick_study / "report.html", quick_study / "report.pdf"
    assert str(html) in " ".join(result.output.split())
    report = parse(html)
    metrics = pd.read_parquet(quick_study / "metrics.parquet")
    assert check_numbers(report.cells, metrics) == int(np.isfinite(metrics["value"]).sum())
    assert {"lime", "levers_lime"} <= {cell["data-method"] for cell in report.cells}
    check_self_contained(report.urls)
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF")
    assert pdf_pages(content) >= 6
    facts = json.loads((quick_study / "study.json").read_text(encoding="utf-8"))
    skipped = {item["method"] for item in facts["skipped"]}
    assert "tree_shap" in skipped
    text = " ".join(html.read_text(encoding="utf-8").split())
    for item in facts["skipped"]:
        assert " ".join(item["reason"].split()).replace("'", "&#39;") in text


def test_csv_tables_give_the_same_report(quick_study: Path, tmp_path: Path) -> None:
    copy = tmp_path / "csv"
    copy.mkdir()
    for name in ("study.json", *(f"{table}.csv" for table in TABLES)):
        (copy / name).write_bytes((quick_study / name).read_bytes())
    from_csv = render_report(read_study(copy))
    assert from_csv == render_report(read_study(quick_study))
    (copy / "explanations.csv").unlink()
    with pytest.raises(AdvisorError, match=r"explanations\.parquet: must exist \(or explanations"):
        read_study(copy)


def test_the_box_plots_jaccards_average_to_the_tables_stability(quick_study: Path) -> None:
    """The per-client Jaccards the report draws (from explanations) give the runner's means."""
    explanations = pd.read_parquet(quick_study / "explanations.parquet")
    metrics = pd.read_parquet(quick_study / "metrics.parquet")
    drawn = per_client_jaccard(explanations).groupby("method")["jaccard"].mean()
    table = metrics[metrics["metric"] == "stability_jaccard_seeds"].set_index("method")["value"]
    assert set(drawn.index) == {"lime", "levers_lime"}
    assert drawn.to_dict() == pytest.approx(table[list(drawn.index)].to_dict())
