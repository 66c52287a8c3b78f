"""Model bundles: round trips for every family, no pickle, tampering and corruption detected."""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from advisor.errors import BundleError
from advisor.models import TestMetrics, load_bundle, save_bundle
from advisor.models._skops import TRUSTED_TYPES, load_sklearn


@pytest.fixture(scope="module")
def bundles(trained: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bundles")
    return {family: save_bundle(result, root / family) for family, result in trained.items()}


@pytest.mark.parametrize("family", ["logistic", "xgboost", "mlp"])
def test_round_trip_gives_identical_scores(
    trained: dict[str, Any], bundles: dict[str, Path], model_clients: pd.DataFrame, family: str
) -> None:
    bundle = load_bundle(bundles[family])
    clients = model_clients.head(300)
    np.testing.assert_array_equal(bundle.model.score(clients), trained[family].model.score(clients))
    assert bundle.model.family == family
    assert bundle.card.kind == "propensity"
    assert bundle.card.features == trained[family].model.feature_names
    entry = bundle.card.models["propensity"]
    assert entry.test == trained[family].metrics
    assert entry.data_sha256 == trained[family].report.data_sha256
    assert set(bundle.card.libraries) >= {"numpy", "xgboost", "torch", "scikit-learn", "skops"}
    assert len(bundle.leaderboards["propensity"]) == len(trained[family].leaderboard)


def test_bundle_files_are_json_skops_and_state_dicts(bundles: dict[str, Path]) -> None:
    names = {
        family: sorted(p.name for p in path.rglob("*") if p.is_file())
        for family, path in bundles.items()
    }
    assert "xgboost.json" in names["xgboost"]
    assert {"mlp.pt", "mlp.json", "scaler.skops"} <= set(names["mlp"])
    assert "logistic.skops" in names["logistic"]
    for files in names.values():
        assert not any(n.endswith((".pkl", ".pickle", ".joblib")) for n in files)
    state = torch.load(bundles["mlp"] / "models/propensity/mlp.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())


CARD_KEYS = [
    "format",
    "format_version",
    "kind",
    "created_at",
    "seed",
    "features",
    "data",
    "constraint_file",
    "models",
    "libraries",
    "files",
]
ENTRY_KEYS = [
    "family",
    "params",
    "target",
    "classes",
    "calibration",
    "metric",
    "cv_score",
    "test",
    "n_rows",
    "n_train",
    "n_test",
    "positive_rate",
    "n_trials",
    "stopped_by",
    "families",
    "excluded_families",
    "monotone",
    "n_folds",
    "budget_s",
    "elapsed_s",
    "data_sha256",
    "ignored_columns",
    "goal",
    "label",
    "skipped_families",
    "n_search",
]


def test_the_card_on_disk_keeps_its_layout(
    trained: dict[str, Any], bundles: dict[str, Path]
) -> None:
    """The JSON of format_version 1, key for key: cards written before still load."""
    raw = json.loads((bundles["xgboost"] / "model_card.json").read_text())
    assert list(raw) == CARD_KEYS
    digest = hashlib.sha256((bundles["xgboost"] / "model_card.json").read_bytes()).hexdigest()
    assert (bundles["xgboost"] / "model_card.sha256").read_text() == f"{digest}  model_card.json\n"
    assert raw["format_version"] == 1
    assert list(raw["data"]) == ["sha256", "ignored_columns", "id_column"]
    assert list(raw["constraint_file"]) == ["name", "sha256"]
    entry = raw["models"]["propensity"]
    assert list(entry) == ENTRY_KEYS
    assert list(entry["test"]) == [f.name for f in fields(TestMetrics)]
    result = trained["xgboost"]
    assert entry["params"] == result.model.params
    assert entry["classes"] == list(result.model.classes)
    assert entry["cv_score"] == result.leaderboard["cv_roc_auc"].iloc[0]
    assert entry["test"]["calibration_count"] == list(result.metrics.calibration_count)
    assert raw["data"]["sha256"] == {"propensity": result.report.data_sha256}
    for name, digest in raw["files"].items():
        assert hashlib.sha256((bundles["xgboost"] / name).read_bytes()).hexdigest() == digest


def test_a_card_with_an_unknown_key_is_refused(bundles: dict[str, Path], tmp_path: Path) -> None:
    folder = copy_bundle(bundles["logistic"], tmp_path)
    card = json.loads((folder / "model_card.json").read_text())
    card["models"]["propensity"]["colour"] = "blue"
    write_card(folder, json.dumps(card))
    with pytest.raises(
        BundleError,
        match=r"model_card\.json: models\.propensity\.colour: Extra inputs are not permitted\. "
        r"Got 1 problem\(s\); the card is not a Levers model card\.$",
    ):
        load_bundle(folder)


def copy_bundle(source: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(source, tmp_path / "copy"))


def write_card(folder: Path, text: str) -> None:
    """Write a card and its ``model_card.sha256``, as an attacker who edits both would."""
    (folder / "model_card.json").write_text(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    (folder / "model_card.sha256").write_text(f"{digest}  model_card.json\n")


def rehash(folder: Path) -> None:
    """Update the card's hashes, as an attacker who edits the card too would."""
    card = json.loads((folder / "model_card.json").read_text())
    card["files"] = {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in card["files"]
    }
    write_card(folder, json.dumps(card))


def test_an_edited_file_is_detected(bundles: dict[str, Path], tmp_path: Path) -> None:
    folder = copy_bundle(bundles["xgboost"], tmp_path)
    model = folder / "models/propensity/xgboost.json"
    model.write_text(model.read_text().replace('"base_score"', '"base_score" ', 1))
    with pytest.raises(BundleError, match=r"xgboost\.json: must match the SHA-256 recorded"):
        load_bundle(folder)


def test_a_missing_file_is_detected(bundles: dict[str, Path], tmp_path: Path) -> None:
    folder = copy_bundle(bundles["logistic"], tmp_path)
    (folder / "models/propensity/calibrator.skops").unlink()
    with pytest.raises(
        BundleError, match=r"calibrator\.skops: must exist \(listed in the model card\)"
    ):
        load_bundle(folder)


def test_a_pickle_in_place_of_torch_weights_is_refused(
    bundles: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy_bundle(bundles["mlp"], tmp_path)
    (folder / "models/propensity/mlp.pt").write_bytes(pickle.dumps({"evil": object()}))
    rehash(folder)
    with pytest.raises(BundleError, match=r"mlp\.json and mlp\.pt must describe one torch MLP"):
        load_bundle(folder)


def test_an_untrusted_type_in_a_skops_file_is_refused(
    bundles: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy_bundle(bundles["logistic"], tmp_path)
    rng = np.random.default_rng(0)
    forest = RandomForestClassifier(n_estimators=2).fit(rng.random((20, 3)), np.arange(20) % 2)
    sio.dump(forest, folder / "models/propensity/logistic.skops")
    rehash(folder)
    with pytest.raises(
        BundleError, match=r"may only hold trusted scikit-learn types\. Got .*RandomForest"
    ):
        load_bundle(folder)
    assert "sklearn.ensemble._forest.RandomForestClassifier" not in TRUSTED_TYPES


def test_a_wrong_type_in_a_skops_file_is_refused(tmp_path: Path) -> None:
    sio.dump(StandardScaler().fit(np.ones((3, 2))), tmp_path / "x.skops")
    with pytest.raises(BundleError, match=r"must hold a Pipeline\. Got StandardScaler"):
        load_sklearn(tmp_path / "x.skops", Pipeline)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda f: write_card(f, "{not json"),
            r"model_card\.json: must be valid JSON",
        ),
        (lambda f: (f / "model_card.json").unlink(), r"model_card\.json: must exist in the bundle"),
        (
            lambda f: write_card(f, json.dumps({"format": "other"})),
            r"model_card\.json: .*the card is not a Levers model card",
        ),
        (
            lambda f: write_card(
                f, json.dumps({"format": "levers-model-bundle", "format_version": 99})
            ),
            r"format_version must be 1\. Got 99",
        ),
    ],
)
def test_a_broken_card_is_reported(
    bundles: dict[str, Path], tmp_path: Path, damage: Any, message: str
) -> None:
    folder = copy_bundle(bundles["logistic"], tmp_path)
    damage(folder)
    with pytest.raises(BundleError, match=message):
        load_bundle(folder)


def test_missing_folder_and_overwrite_rules(
    trained: dict[str, Any], bundles: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(BundleError, match=r"must be a model bundle folder\. Got no such folder"):
        load_bundle(tmp_path / "nowhere")
    with pytest.raises(BundleError, match=r"must not exist yet"):
        save_bundle(trained["logistic"], bundles["logistic"])
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(BundleError, match=r"refusing to delete it"):
        save_bundle(trained["logistic"], precious, overwrite=True)
    assert (precious / "notes.txt").exists()
    again = save_bundle(trained["logistic"], tmp_path / "b")
    save_bundle(trained["xgboost"], again, overwrite=True)
    assert load_bundle(again).model.family == "xgboost"
    assert not list(tmp_path.glob(".bundle-*"))
