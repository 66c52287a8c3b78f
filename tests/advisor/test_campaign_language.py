"""`levers campaign run / show --lang fr`: every line in French, the same tables read back.

The oracle of "no English left" is independent of the code: the English run's own titles,
column headers, row names and sentence openings are collected from its output, and none may
appear in the French run's output (a few words that are the same in both languages aside).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor._campaign_words import WORDS
from advisor.campaigns import FairnessReport, GroupStats
from advisor.cli import app
from advisor.errors import AdvisorError
from tests.conftest import DEMO_TEST_CLIENTS, shared_data_file

runner = CliRunner()
PRODUCT = "life_insurance"
SAME_IN_BOTH = {"segment", "k", "clients"}  # French words spelled as the English ones
BOX = "│┃"


@pytest.fixture(scope="module")
def demo_env(demo_bundle: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEVERS_DEMO_BUNDLE", str(demo_bundle))
        patch.setenv("LEVERS_DEMO_CLIENTS", str(DEMO_TEST_CLIENTS))
        patch.delenv("LEVERS_DEMO_SEED", raising=False)
        patch.delenv("LEVERS_DEMO_TRIALS", raising=False)
        yield


def run_both(args: list[str], folder: Path) -> dict[str, tuple[Path, str]]:
    """Run the campaign in English and in French; each language's folder and output."""
    runs = {}
    for language in ("en", "fr"):
        out = folder / language
        done = runner.invoke(app, ["campaign", "run", *args, "--lang", language, "--out", str(out)])
        assert done.exit_code == 0, done.output
        runs[language] = (out, done.output)
    return runs


@pytest.fixture(scope="module")
def demo_runs(demo_env: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    args = ["--demo", "--product", PRODUCT, "--limit", "40", "--engine", "search"]
    return run_both(args, tmp_path_factory.mktemp("demo-lang"))


@pytest.fixture(scope="module")
def german_runs(german_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = shared_data_file("german-credit", "german.data")
    args = ["--bundle", str(german_bundle), "--data", str(data), "--limit", "60"]
    return run_both([*args, "--engine", "search"], tmp_path_factory.mktemp("german-lang"))


# --------------------------------------------------------------------------- the oracle
def cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(f"[{BOX}]", line)[1:-1]]


def english_items(output: str) -> tuple[set[str], set[str]]:
    """The English run's words: (single words, phrases of two words or more).

    Table titles (the line above a table's top border), column headers, the row names of
    the tables whose rows are named (first column of the summary and true-effect tables),
    and the words of every line outside the tables up to its first figure, colon or quote;
    in a global action's line, the words of its bracketed figures.
    """
    lines = output.splitlines()
    items: set[str] = set()
    named_rows = False
    for k, line in enumerate(lines):
        if line.lstrip().startswith("┏"):
            items.add(lines[k - 1].strip())  # the title
            header = cells(lines[k + 1])
            items.update(header)
            named_rows = header[0] in ("figure", "applied")
        elif line.startswith("│") and named_rows:
            items.add(cells(line)[0])
        elif not line.startswith(("│", "┃", "┡", "└", "┗", "┏", "├")) and line.strip():
            if re.match(r"\d+\. ", line):  # a global action: its text is data, its figures not
                figures = line.rsplit("[", 1)[-1]
                items.update(re.findall(r"[A-Za-z][A-Za-z' ]*[A-Za-z]", figures))
            else:
                items.add(re.split(r"[\d:'/(]", line, maxsplit=1)[0].strip())
    items = {item for item in items if item and item not in SAME_IN_BOTH}
    return {i for i in items if " " not in i}, {i for i in items if " " in i}


def french_items(output: str) -> set[str]:
    """Every title, cell and line of the French output, stripped."""
    found = set()
    for line in output.splitlines():
        found.add(line.strip())
        found.update(cells(line) if line[:1] in BOX else [])
    return found


def assert_no_english(english: str, french: str) -> None:
    words, phrases = english_items(english)
    assert len(words) + len(phrases) >= 25, (words, phrases)  # the oracle saw the tables
    left = sorted(p for p in phrases if p in french) + sorted(words & french_items(french))
    assert not left, f"English left in the French output: {left}\n{french}"


def summary_cell(output: str, name: str) -> str:
    found = re.search(rf"│ {re.escape(name)}\s+│ (.*?)\s+│", output)
    assert found, f"no row {name!r} in\n{output}"
    return found.group(1)


def french_percent(share: float) -> str:
    return f"{100 * share:.1f}".rstrip("0").rstrip(".").replace(".", ",") + "\u202f%"


# --------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("runs", ["demo_runs", "german_runs"])
def test_french_output_has_french_headers_and_no_english_line(
    runs: str, request: pytest.FixtureRequest
) -> None:
    found = request.getfixturevalue(runs)
    (_, english), (_, french) = found["en"], found["fr"]
    for header in (
        "Résumé de la campagne",
        "indicateur",
        "clients du segment",
        "conseillés (avec un levier)",
        "couverture (conseillés / cherchés)",
        "Écrit : ",
    ):
        assert header in french, french
    if runs == "german_runs":  # protected attributes: the fairness table
        assert "Équité des recours (tolérance 0,25)" in french, french
    else:  # the demo: global actions and the true effect
        assert "Courbe couverture-coût (les k meilleures actions)" in french, french
        assert "Effet réel (SCM de la démo, graine 0)" in french, french
        assert "│ les actions globales " in french, french
    protected = re.search(r"^Protected attributes of the constraint file: (.*)$", english, re.M)
    assert protected, english
    assert f"Attributs protégés du fichier de contraintes : {protected.group(1)}\n" in french
    assert "Campaign summary" in english
    assert "Résumé" not in english
    assert_no_english(english, french)


@pytest.mark.parametrize("runs", ["demo_runs", "german_runs"])
def test_french_numbers_and_the_record_are_the_english_ones(
    runs: str, request: pytest.FixtureRequest
) -> None:
    import json

    found = request.getfixturevalue(runs)
    (en_out, english), (fr_out, french) = found["en"], found["fr"]
    en = json.loads((en_out / "campaign.json").read_text("utf-8"))
    fr = json.loads((fr_out / "campaign.json").read_text("utf-8"))
    assert en["totals"] == fr["totals"]  # the language changes the words, not the campaign
    assert (en_out / "levers.csv").read_bytes() == (fr_out / "levers.csv").read_bytes()
    coverage = fr["totals"]["coverage"]
    assert summary_cell(english, "coverage (advised / searched)") == f"{coverage:.1%}"
    assert summary_cell(french, "couverture (conseillés / cherchés)") == french_percent(coverage)
    assert summary_cell(french, "clients du segment") == str(fr["totals"]["n_segment"])


@pytest.mark.parametrize("runs", ["demo_runs", "german_runs"])
def test_show_prints_what_run_printed_in_either_language(
    runs: str, request: pytest.FixtureRequest
) -> None:
    found = request.getfixturevalue(runs)
    for language, (out, printed) in found.items():
        shown = runner.invoke(app, ["campaign", "show", str(out), "--lang", language])
        assert shown.exit_code == 0, shown.output
        *tables, wrote = printed.rstrip("\n").split("\n")
        assert wrote.startswith("Écrit : " if language == "fr" else "Wrote "), printed
        assert shown.output == "\n".join(tables) + "\n"


def test_a_bad_language_is_one_line_as_advise_says_it(
    demo_runs: dict[str, Any], tmp_path: Path
) -> None:
    advise = runner.invoke(app, ["advise", "C0000001", "--lang", "de"])
    assert advise.exit_code == 2
    expected = "error: language: must be one of en, fr. Got 'de'."
    assert advise.output.strip() == expected
    out = tmp_path / "never"
    commands = [
        ["run", "--demo", "--product", PRODUCT, "--limit", "5", "--out", str(out)],
        ["show", str(demo_runs["fr"][0])],
        ["show", str(demo_runs["fr"][0]), "--json"],
    ]
    for command in commands:
        refused = runner.invoke(app, ["campaign", *command, "--lang", "de"])
        assert refused.exit_code == 2, refused.output
        assert refused.output.strip() == expected
    assert not out.exists()


def test_every_campaign_text_exists_in_both_languages_with_the_same_blanks() -> None:
    def blanks(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    for key, texts in WORDS.items():
        assert set(texts) == {"en", "fr"}, key
        assert all(text.strip() for text in texts.values()), key
        assert blanks(texts["fr"]) <= blanks(texts["en"]), key  # never a value English lacks


def _group(group: str, searched: int, advised: int, cost: float) -> GroupStats:
    return GroupStats(
        attribute="sex",
        group=group,
        n_segment=searched,
        n_searched=searched,
        n_advised=advised,
        coverage=advised / searched,
        mean_cost=cost,
        median_cost=cost,
        mean_uplift=0.1,
    )


def test_fairness_flags_and_notes_are_said_in_french() -> None:
    report = FairnessReport(
        product="p",
        tolerance=0.25,
        min_group_size=30,
        age_feature=None,
        age_bands=(),
        groups=(_group("f", 100, 80, 3.0), _group("m", 100, 40, 1.0), _group("x", 10, 1, 9.0)),
        gaps={},
        flags=(),
    )
    french = report.flag_texts("fr")
    # the cost of 'f' is 3x that of 'm'; the coverage of 'm' is half that of 'f'; 'x' is small
    assert french == (
        "sex : le groupe « f » supporte un coût moyen de levier de 3,00, 3,00 fois celui du "
        "groupe « m » (1,00) ; au-delà de la tolérance de 1,25 fois (ratio de coût > 1 + "
        "tolérance 0,25).",
        "sex : le groupe « m » a une couverture de 40 %, sous 80 % de celle du groupe « f » "
        "(80 % ; ratio de couverture 0,50 < 1 / (1 + tolérance 0,25)).".replace(" %", "\u202f%"),
    )
    notes = report.note_texts("fr")
    assert notes[0] == "Attributs protégés du fichier de contraintes : aucun."
    assert "Pas de tranches d'âge" in notes[1]
    assert "moins de 30 clients cherchés" in notes[2]
    with pytest.raises(AdvisorError, match=r"^language: must be one of en, fr\. Got 'de'\.$"):
        report.flag_texts("de")
    with pytest.raises(AdvisorError, match=r"^language: must be one of en, fr\. Got 'de'\.$"):
        report.note_texts("de")


def test_what_the_record_keeps_in_english_is_said_again_in_french(
    demo_runs: dict[str, Any], tmp_path: Path
) -> None:
    import json

    record = json.loads((demo_runs["fr"][0] / "campaign.json").read_text("utf-8"))
    assert record["product_label_fr"] == "Assurance vie"
    cases = {
        ("local Dask cluster, 2 workers", 2): "cluster Dask local, 2 processus de calcul",
        ("Dask scheduler tcp://10.0.0.1:8786", None): "ordonnanceur Dask tcp://10.0.0.1:8786",
        ("in-process", None): "dans le processus",
    }
    del record["product_label_fr"]  # a file written before French output: the English name
    for (ran_on, workers), said in cases.items():
        record["options"] |= {"ran_on": ran_on, "workers": workers}
        (tmp_path / "campaign.json").write_text(json.dumps(record), encoding="utf-8")
        shown = runner.invoke(app, ["campaign", "show", str(tmp_path), "--lang", "fr"])
        assert shown.exit_code == 0, shown.output
        assert summary_cell(shown.output, "lieu d'exécution") == said
        assert summary_cell(shown.output, "produit") == "Life insurance (life_insurance)"
        english = runner.invoke(app, ["campaign", "show", str(tmp_path)])
        assert summary_cell(english.output, "ran on") == ran_on


def test_the_interrupted_line_in_french(tmp_path: Path) -> None:
    from advisor._cli_campaign_run import interrupted_line

    assert interrupted_line(None, "fr") == "interrompu ; rien n'est écrit"
    (tmp_path / "checkpoints").mkdir()
    for k in range(3):
        (tmp_path / "checkpoints" / f"part-{k}.parquet").write_bytes(b"")
    assert interrupted_line(tmp_path, "fr") == (
        f"interrompu ; 3 partitions terminées conservées dans {tmp_path / 'checkpoints'} : "
        "relancez la même commande avec --resume pour terminer"
    )
