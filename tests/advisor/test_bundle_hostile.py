"""Hostile bundles: no path leaves the folder, every file read is listed and hashed, the card too.

Each test builds the attack on a copy of a real bundle (tiny logistic models, one trial) the
way an attacker or a careless colleague would: edit the card and rewrite its hash, plant a
symbolic link, drop a file from the list, grow a file past its limit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import BundleError
from advisor.models import (
    ModelBundle,
    TrainingResult,
    demo_catalog,
    load_bundle,
    save_bundle,
    train,
    train_recommender,
)
from advisor.models._bundle_io import check_file_name
from advisor.models._card import MODEL_NAME_PATTERN
from tests.conftest import REPO_ROOT

runner = CliRunner()
CONSTRAINTS = REPO_ROOT / "configs" / "demo-portfolio.yaml"
SECRET = "SECRET-OUTSIDE-CONTENT"


@pytest.fixture(scope="module")
def result(model_clients: pd.DataFrame) -> TrainingResult:
    """A logistic model trained from the constraint file (so the bundle keeps its text)."""
    clients = model_clients.loc[~model_clients["has_life_insurance"]]
    return train(
        clients,
        "take_life_insurance",
        CONSTRAINTS,
        families=("logistic",),
        n_trials=1,
        budget_s=None,
        n_folds=3,
        seed=0,
    )


@pytest.fixture(scope="module")
def original(result: TrainingResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_bundle(result, tmp_path_factory.mktemp("hostile") / "bundle")


@pytest.fixture
def bundle(original: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(original, tmp_path / "bundle", symlinks=True))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def read_card(folder: Path) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((folder / "model_card.json").read_text())
    return card


def write_card(folder: Path, card: dict[str, Any] | str) -> None:
    """Write a card and a matching ``model_card.sha256`` (hashes are not a signature)."""
    text = card if isinstance(card, str) else json.dumps(card, indent=2)
    (folder / "model_card.json").write_text(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    (folder / "model_card.sha256").write_text(f"{digest}  model_card.json\n")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------- integrity status
def test_a_fresh_bundle_is_fully_verified(original: Path) -> None:
    loaded = load_bundle(original)
    assert loaded.integrity.card_verified
    listed = sorted(read_card(original)["files"])
    on_disk = sorted(
        p.relative_to(original).as_posix()
        for p in original.rglob("*")
        if p.is_file() and p.name not in {"model_card.json", "model_card.sha256"}
    )
    assert listed == on_disk
    assert loaded.integrity.n_files == len(listed)
    assert loaded.constraint_text == CONSTRAINTS.read_text()


def test_an_edited_card_is_detected(bundle: Path) -> None:
    card = read_card(bundle)
    card["models"]["propensity"]["test"]["auc"] = 0.99
    (bundle / "model_card.json").write_text(json.dumps(card, indent=2))
    with pytest.raises(
        BundleError,
        match=r"model_card\.json: must match the SHA-256 in model_card\.sha256\. Got a different "
        r"card",
    ):
        load_bundle(bundle)


def test_a_card_without_its_hash_loads_as_not_verified(bundle: Path) -> None:
    (bundle / "model_card.sha256").unlink()
    loaded = load_bundle(bundle)
    assert not loaded.integrity.card_verified
    assert loaded.integrity.n_files == len(read_card(bundle)["files"])
    shown = runner.invoke(app, ["models", "show", str(bundle)])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "card not verified (no model_card.sha256" in text
    assert "card matches" not in text


def test_a_malformed_card_hash_is_refused(bundle: Path) -> None:
    (bundle / "model_card.sha256").write_text("not a digest\n")
    with pytest.raises(BundleError, match=r"model_card\.sha256: must hold the card's SHA-256"):
        load_bundle(bundle)


def test_models_show_says_what_was_verified(original: Path) -> None:
    shown = runner.invoke(app, ["models", "show", str(original)])
    assert shown.exit_code == 0, shown.output
    n_files = len(read_card(original)["files"])
    assert (
        f"Integrity: card matches model_card.sha256; {n_files} files listed in the card read and "
        "matching their SHA-256, all inside the folder, no symbolic links"
    ) in " ".join(shown.output.split())


# ---------------------------------------------------------------------- paths leaving the folder
def test_a_model_name_escaping_the_folder_is_refused(bundle: Path, outside: Path) -> None:
    evil = outside / "evil_model"
    shutil.copytree(bundle / "models" / "propensity", evil)
    card = read_card(bundle)
    name = "../../outside/evil_model"
    card["models"] = {name: card["models"]["propensity"]}
    write_card(bundle, card)
    with pytest.raises(
        BundleError,
        match=r"models\.\.\./\.\./outside/evil_model\.\[key\]: String should match pattern",
    ):
        load_bundle(bundle)


@pytest.mark.parametrize("name", ["../constraints.yaml", "/etc/passwd", "models/../../x", "a\\b"])
def test_a_listed_file_outside_the_folder_is_refused(bundle: Path, name: str) -> None:
    card = read_card(bundle)
    card["files"][name] = "0" * 64
    write_card(bundle, card)
    with pytest.raises(BundleError, match=r"model_card\.json: files: "):
        load_bundle(bundle)


def test_a_symlinked_constraint_file_is_refused(bundle: Path, outside: Path) -> None:
    secret = outside / "constraints.yaml"
    secret.write_text(f"{SECRET}: [\n")
    (bundle / "constraints.yaml").unlink()
    (bundle / "constraints.yaml").symlink_to(secret)
    with pytest.raises(BundleError, match=r"constraints\.yaml: .*Got a symbolic link") as caught:
        load_bundle(bundle)
    assert SECRET not in str(caught.value)


def test_a_symlink_to_an_identical_file_is_refused(bundle: Path, outside: Path) -> None:
    """Same bytes, same hash: the link itself is the problem (it can change after the check)."""
    copy = outside / "constraints.yaml"
    shutil.copy(bundle / "constraints.yaml", copy)
    (bundle / "constraints.yaml").unlink()
    (bundle / "constraints.yaml").symlink_to(copy)
    with pytest.raises(BundleError, match=r"Got a symbolic link"):
        load_bundle(bundle)


def test_a_symlinked_models_folder_is_refused(bundle: Path, outside: Path) -> None:
    shutil.move(bundle / "models", outside / "models")
    (bundle / "models").symlink_to(outside / "models", target_is_directory=True)
    with pytest.raises(BundleError, match=r"models/propensity/model\.json: .*symbolic link"):
        load_bundle(bundle)


def test_an_unlisted_file_is_never_read(bundle: Path) -> None:
    card = read_card(bundle)
    del card["files"]["models/propensity/leaderboard.json"]
    write_card(bundle, card)
    with pytest.raises(
        BundleError,
        match=r"leaderboard\.json: must be listed with its SHA-256 in the model card's files",
    ):
        load_bundle(bundle)


def test_an_unlisted_constraint_file_is_refused(bundle: Path) -> None:
    card = read_card(bundle)
    del card["files"]["constraints.yaml"]
    write_card(bundle, card)
    with pytest.raises(BundleError, match=r"constraints\.yaml: must be listed in the model card"):
        load_bundle(bundle)


# ----------------------------------------------------------------------------- sizes and types
def test_a_huge_card_is_refused_before_reading(bundle: Path) -> None:
    with (bundle / "model_card.json").open("r+b") as file:
        file.truncate(10 * 1024 * 1024 + 1)  # sparse: costs no disk, would cost 10 MB to read
    with pytest.raises(
        BundleError, match=r"model_card\.json: must be at most 10,485,760 bytes\. Got 10,485,761"
    ):
        load_bundle(bundle)


def test_a_huge_model_file_is_refused_before_reading(bundle: Path) -> None:
    with (bundle / "models/propensity/logistic.skops").open("r+b") as file:
        file.truncate(256 * 1024 * 1024 + 1)
    with pytest.raises(BundleError, match=r"logistic\.skops: must be at most 268,435,456 bytes"):
        load_bundle(bundle)


def test_a_fifo_in_place_of_a_file_is_refused(bundle: Path) -> None:
    path = bundle / "models/propensity/leaderboard.json"
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(BundleError, match=r"leaderboard\.json: must be a regular file"):
        load_bundle(bundle)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.update(seed="0"), r"seed: Input should be a valid integer"),
        (lambda c: c.update(models=[1]), r"models: Input should be an object"),
        (lambda c: c.update(files=["a"]), r"files: Input should be an object"),
        (
            lambda c: c["models"]["propensity"].update(n_trials="1"),
            r"models\.propensity\.n_trials: Input should be a valid integer",
        ),
        (
            lambda c: c["models"]["propensity"]["test"].update(auc="0.9"),
            r"models\.propensity\.test\.auc: Input should be a valid number",
        ),
        (lambda c: c.update(features={"a": 1}), r"features: Input should be a valid"),
    ],
)
def test_wrong_types_in_the_card_name_the_field(bundle: Path, edit: Any, message: str) -> None:
    card = read_card(bundle)
    edit(card)
    write_card(bundle, card)
    with pytest.raises(BundleError, match=message):
        load_bundle(bundle)


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, "\xff\xfe{", '{"format": "levers-model-bundle"'],
)
def test_malformed_card_json_is_a_clean_error(bundle: Path, text: str) -> None:
    write_card(bundle, text)
    with pytest.raises(BundleError, match=r"model_card\.json: must be valid JSON|not a Levers"):
        load_bundle(bundle)


def test_wrong_types_in_model_json_name_the_field(bundle: Path) -> None:
    path = bundle / "models/propensity/model.json"
    meta = json.loads(path.read_text())
    meta["classes"] = "ab"
    path.write_text(json.dumps(meta))
    card = read_card(bundle)
    card["files"]["models/propensity/model.json"] = sha256(path)
    write_card(bundle, card)
    with pytest.raises(BundleError, match=r"model\.json: classes: Input should be a valid"):
        load_bundle(bundle)


# ------------------------------------------------------------------------------ printed safely
def test_models_show_prints_card_fields_inert(bundle: Path) -> None:
    card = read_card(bundle)
    card["created_at"] = "[/bold]2026"
    card["constraint_file"]["name"] = "evil[/]x\x1b[2J"
    card["libraries"]["[bold red]lib"] = "1.0[/]"
    write_card(bundle, card)
    shown = runner.invoke(app, ["models", "show", str(bundle)])
    assert shown.exit_code == 0, shown.output
    assert shown.exception is None
    assert "created [/bold]2026" in shown.output
    assert "evil[/]x\\x1b[2J" in shown.output
    assert "\x1b" not in shown.output
    assert "[bold red]lib 1.0[/]" in shown.output


# ----------------------------------------------------------------------------------- writing
@dataclass(frozen=True, slots=True)
class FailingEstimator:
    """A real fitted estimator whose save writes part of a file, then fails (a full disk)."""

    inner: Any
    error: type[BaseException]

    @property
    def family(self) -> str:
        return str(self.inner.family)

    def margin(self, design: Any) -> Any:
        return self.inner.margin(design)

    def structure(self) -> Any:
        return self.inner.structure()

    def save(self, directory: Path) -> tuple[str, ...]:
        (directory / "logistic.skops").write_bytes(b"PK\x03\x04 half")
        raise self.error("simulated failure in the middle of saving")


@pytest.mark.parametrize(
    ("error", "seen"), [(OSError, BundleError), (KeyboardInterrupt, KeyboardInterrupt)]
)
def test_a_failed_save_keeps_the_old_bundle(
    result: TrainingResult, bundle: Path, error: type[BaseException], seen: type[BaseException]
) -> None:
    before = {p: sha256(p) for p in bundle.rglob("*") if p.is_file()}
    broken = replace(
        result,
        model=replace(result.model, estimator=FailingEstimator(result.model.estimator, error)),
    )
    with pytest.raises(seen, match="simulated failure"):
        save_bundle(broken, bundle, overwrite=True)
    assert {p: sha256(p) for p in bundle.rglob("*") if p.is_file()} == before
    assert load_bundle(bundle).integrity.card_verified
    assert sorted(p.name for p in bundle.parent.iterdir()) == ["bundle"]


def test_a_save_replaces_an_old_bundle_whole(result: TrainingResult, bundle: Path) -> None:
    (bundle / "models/propensity/stale.txt").write_text("from the old bundle")
    save_bundle(result, bundle, overwrite=True)
    assert not (bundle / "models/propensity/stale.txt").exists()
    assert load_bundle(bundle).integrity.card_verified
    assert sorted(p.name for p in bundle.parent.iterdir()) == ["bundle"]


def test_a_product_name_that_is_not_an_identifier_is_never_written(
    model_clients: pd.DataFrame, tmp_path: Path
) -> None:
    catalog = demo_catalog()
    product = catalog.products["life_insurance"]
    hostile = catalog.model_copy(update={"products": {"../../evil": product}})
    training = train_recommender(
        model_clients, hostile, CONSTRAINTS, budget_s=None, n_trials=1, families=("logistic",)
    )
    with pytest.raises(BundleError, match=r"products: every name must be a plain identifier"):
        save_bundle(training, tmp_path / "out" / "rec")
    assert sorted(p.name for p in tmp_path.rglob("*")) == []


@pytest.mark.parametrize(
    ("make", "force", "message"),
    [
        (lambda p: p.write_text("keep me"), True, "Got an existing file; refusing to replace"),
        (
            lambda p: (p.mkdir(), (p / "notes.txt").write_text("keep me")),
            True,
            "Got a non-empty folder without model_card.json; refusing to delete it (even with "
            "--force)",
        ),
        (lambda p: p.symlink_to(p.parent / "elsewhere"), True, "not a symbolic link"),
        (None, False, "Got an existing bundle. Hint: pass overwrite=True (--force"),
    ],
)
def test_train_checks_out_before_any_work(
    original: Path, tmp_path: Path, make: Any, force: bool, message: str
) -> None:
    """The data path does not exist: an --out error proves --out was checked first."""
    out = tmp_path / "out"
    if make is None:
        shutil.copytree(original, out)
    else:
        make(out)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    args = ["train", "--data", str(tmp_path / "missing.csv"), "--target", "y"]
    args += ["--constraints", str(CONSTRAINTS), "--out", str(out)]
    got = runner.invoke(app, [*args, *(["--force"] if force else [])])
    assert got.exit_code == 2, got.output
    assert message in " ".join(got.output.split())
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_a_bundle_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(BundleError, match=r"its folder .*file must be a writable folder"):
        ModelBundle.check_target(tmp_path / "file" / "bundle")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--budget-s", "nan", "--budget-s: must be a finite number of seconds, > 0 and <= 86,400"),
        ("--budget-s", "inf", "--budget-s: must be a finite number"),
        ("--budget-s", "1e9", "--budget-s: must be a finite number"),
        ("--budget-s", "0", "--budget-s: must be a finite number"),
        ("--budget-s", "-5", "--budget-s: must be a finite number"),
        ("--n-trials", "0", "--n-trials: must be between 1 and 10,000. Got 0."),
        ("--n-trials", "100000", "--n-trials: must be between 1 and 10,000"),
        ("--seed", "-1", "--seed: must be between 0 and 4,294,967,295"),
    ],
)
def test_train_refuses_numbers_out_of_range(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    args = ["train", "--data", str(tmp_path / "missing.csv"), "--target", "y"]
    args += ["--constraints", str(CONSTRAINTS), "--out", str(tmp_path / "b"), option, value]
    got = runner.invoke(app, args)
    assert got.exit_code == 2, got.output
    assert message in " ".join(got.output.split())
    assert not (tmp_path / "b").exists()


def test_ctrl_c_during_train_prints_one_line(
    model_clients: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C cannot be pressed in a test: the training step raises what it would raise."""
    import advisor.models  # the command imports train from it when it runs

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(advisor.models, "train", interrupted)
    data = tmp_path / "clients.csv"
    model_clients.head(50).to_csv(data, index=False)
    args = ["train", "--data", str(data), "--target", "take_life_insurance"]
    args += ["--constraints", str(CONSTRAINTS), "--out", str(tmp_path / "b")]
    got = runner.invoke(app, args)
    assert got.exit_code == 130
    assert got.output.strip() == "interrupted; nothing written"
    assert not (tmp_path / "b").exists()


def test_a_bundle_may_be_saved_into_an_empty_folder(result: TrainingResult, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert load_bundle(save_bundle(result, tmp_path / "empty")).integrity.card_verified


# ------------------------------------------------------------------------------- properties
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["..", ".", "", "models", "a.b", "...", "/", "\\", "~", "x\x00"]),
            st.text(max_size=6),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_an_accepted_file_name_always_stays_inside(parts: list[str]) -> None:
    """Whatever a card lists, a name the reader accepts resolves to a path inside the folder."""
    name = "/".join(parts)
    root = Path("/bundle/root")
    try:
        check_file_name(name)
    except BundleError:
        return
    resolved = Path(os.path.normpath(root / name))
    assert resolved.is_relative_to(root)
    assert resolved != root
    assert ".." not in Path(name).parts


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aZ09_-./\\\n\x00 ", max_size=70) | st.text(max_size=8))
def test_an_accepted_model_name_is_one_plain_folder(name: str) -> None:
    if re.fullmatch(MODEL_NAME_PATTERN, name) is None:
        return
    assert Path(name).parts == (name,)
    assert name not in {".", ".."}
    assert not set(name) & {"/", "\\", ".", "\n"}


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_folder_that_refuses_writes_is_caught_by_a_real_probe() -> None:
    """/proc says writable to root (os.access) but refuses every new folder."""
    with pytest.raises(BundleError, match=r"its folder /proc must be a writable folder\. Got "):
        ModelBundle.check_target("/proc/levers-hostile/bundle")
