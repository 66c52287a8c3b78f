"""The bundle inputs of the corpus: one small trained bundle and its tampered variants."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

from tests.hostile._case import DEMO_YAML, ESC, SECRET, TARGET
from tests.hostile._corpus_files import _bomb, _Evil, _write


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _card(folder: Path) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((folder / "model_card.json").read_text(encoding="utf-8"))
    return card


def _save_card(folder: Path, card: dict[str, Any], *, rehash: bool = True) -> None:
    """Write the card; with ``rehash``, re-sign it as an attacker with write access would."""
    if rehash:
        card["files"] = {
            name: _sha256(folder / name) if (folder / name).is_file() else digest
            for name, digest in card["files"].items()
        }
    (folder / "model_card.json").write_text(json.dumps(card, indent=2), encoding="utf-8")
    if rehash:
        _sign(folder)


def _sign(folder: Path) -> None:
    """Rewrite ``model_card.sha256`` (when the format has one) to match the card as it is."""
    signature = folder / "model_card.sha256"
    if signature.is_file():
        old = signature.read_text(encoding="utf-8")
        words = [w for w in old.split() if len(w) == 64]
        new = _sha256(folder / "model_card.json")
        signature.write_text(old.replace(words[0], new) if words else new, encoding="utf-8")


def _variant(base: Path, dest: Path) -> Path:
    shutil.copytree(base, dest, symlinks=True)
    return dest


def _rename_model(folder: Path, new: str, *, move: bool = True) -> None:
    card = _card(folder)
    card["models"] = {new: card["models"]["propensity"]}
    files = {}
    for name, digest in card["files"].items():
        files[name.replace("models/propensity/", f"models/{new}/")] = digest
    card["files"] = files
    if move:
        target = folder / "models" / new
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder / "models" / "propensity", target, dirs_exist_ok=True)
        shutil.rmtree(folder / "models" / "propensity")
    _save_card(folder, card)


def _write_bundle_inputs(d: Path) -> None:
    from advisor.datasets import read_table
    from advisor.models import save_bundle, train

    b = d / "bundles"
    base = b / "base"
    result = train(
        read_table(d / "clients.csv"),
        TARGET,
        DEMO_YAML,
        families=("logistic",),
        n_trials=1,
        budget_s=None,
        n_folds=3,
        seed=0,
    )
    save_bundle(result, base)
    outside = d / "outside"
    outside.mkdir(exist_ok=True)
    _write(outside / "secret.txt", SECRET + "\n")
    shutil.copy(base / "constraints.yaml", outside / "constraints.yaml")
    shutil.copytree(base / "models", outside / "models")
    shutil.copy(base / "model_card.json", outside / "model_card.json")
    shutil.copy(base / "feature_space.json", outside / "feature_space.json")
    # a model folder outside the bundle, reached by a model name that climbs out
    shutil.copytree(base / "models" / "propensity", outside / "evil_model")

    v = _variant(base, b / "escape_name")
    card = _card(v)
    card["models"] = {"../../../outside/evil_model": card["models"]["propensity"]}
    card["files"] = {k: h for k, h in card["files"].items() if not k.startswith("models/")}
    _save_card(v, card)

    for listed in (
        "models/propensity/logistic.skops",
        "models/propensity/calibrator.skops",
        "feature_space.json",
        "constraints.yaml",
        "models/propensity/model.json",
    ):
        v = _variant(base, b / ("unlisted_" + Path(listed).stem))
        card = _card(v)
        del card["files"][listed]
        _save_card(v, card)
    v = _variant(base, b / "unlisted_swapped")
    card = _card(v)
    del card["files"]["models/propensity/leaderboard.json"]
    _save_card(v, card)
    _write(v / "models/propensity/leaderboard.json", "[" * 100_000 + "]" * 100_000)

    v = _variant(base, b / "symlink_constraints_secret")
    (v / "constraints.yaml").unlink()
    os.symlink(outside / "secret.txt", v / "constraints.yaml")
    v = _variant(base, b / "symlink_constraints_same")
    (v / "constraints.yaml").unlink()
    os.symlink(outside / "constraints.yaml", v / "constraints.yaml")
    v = _variant(base, b / "symlink_models")
    shutil.rmtree(v / "models")
    os.symlink(outside / "models", v / "models")
    v = _variant(base, b / "symlink_card")
    (v / "model_card.json").unlink()
    os.symlink(outside / "model_card.json", v / "model_card.json")
    v = _variant(base, b / "symlink_feature_space")
    (v / "feature_space.json").unlink()
    os.symlink(outside / "feature_space.json", v / "feature_space.json")

    v = _variant(base, b / "files_parent")
    card = _card(v)
    card["files"]["../outside/secret.txt"] = hashlib.sha256(SECRET.encode()).hexdigest()
    _save_card(v, card)
    v = _variant(base, b / "files_absolute")
    card = _card(v)
    card["files"]["/etc/hostname"] = "0" * 64
    _save_card(v, card)

    v = _variant(base, b / "edited_card")
    card = _card(v)
    card["models"]["propensity"]["test"]["auc"] = 0.999
    card["models"]["propensity"]["cv_score"] = 0.998
    _save_card(v, card, rehash=False)
    v = _variant(base, b / "edited_card_seed")
    card = _card(v)
    card["seed"] = 12345
    _save_card(v, card, rehash=False)

    for name, field, value in (
        ("card_markup_constraint_name", "constraint_file.name", "[/bold]evil[/]"),
        ("card_markup_library", "libraries", {"[/bold]": "[red]1[/]"}),
        ("card_escape_constraint_name", "constraint_file.name", "x" + ESC + "[2J" + ESC + "[31m"),
        ("card_escape_library", "libraries", {"lib" + ESC + "]0;pwned\x07": "1"}),
        ("card_markup_created_at", "created_at", "[/bold]"),
    ):
        v = _variant(base, b / name)
        card = _card(v)
        if "." in field:
            outer, inner = field.split(".")
            card[outer][inner] = value
        else:
            card[field] = value
        _save_card(v, card)
    _rename_model(_variant(base, b / "model_name_markup"), "[/bold]")
    _rename_model(_variant(base, b / "model_name_escape"), "m" + ESC + "[31m")
    _rename_model(_variant(base, b / "model_name_dotdot"), "..")
    _rename_model(_variant(base, b / "model_name_slash"), "a/b")
    v = _variant(base, b / "model_name_absolute")
    card = _card(v)
    card["models"] = {str(outside / "evil_model"): card["models"]["propensity"]}
    _save_card(v, card)

    _variant(base, b / "bund[/]le")
    _variant(base, b / ("bund" + ESC + "[31mle"))

    v = _variant(base, b / "pickle_model")
    _write(
        v / "models/propensity/logistic.skops", pickle.dumps(_Evil(f"touch {d / 'PWNED_BUNDLE'}"))
    )
    _save_card(v, _card(v))
    v = _variant(base, b / "family_traversal")
    meta = json.loads((v / "models/propensity/model.json").read_text(encoding="utf-8"))
    meta["family"] = "../../../outside/evil"
    _write(v / "models/propensity/model.json", json.dumps(meta))
    _save_card(v, _card(v))
    v = _variant(base, b / "bomb_constraints")
    _write(v / "constraints.yaml", _bomb())
    _save_card(v, _card(v))
    v = _variant(base, b / "deep_feature_space")
    _write(v / "feature_space.json", "[" * 100_000 + "]" * 100_000)
    _save_card(v, _card(v))
    v = _variant(base, b / "deep_card")
    _write(v / "model_card.json", '{"format": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _sign(v)
    v = _variant(base, b / "card_not_json")
    _write(v / "model_card.json", b"\xff\xfe not json")
    _sign(v)
    v = _variant(base, b / "card_list")
    _write(v / "model_card.json", "[]")
    _sign(v)
    v = _variant(base, b / "corrupted_model")
    with (v / "models/propensity/logistic.skops").open("ab") as fh:
        fh.write(b"x")
    v = _variant(base, b / "no_models_dir")
    shutil.rmtree(v / "models")
    _write(b / "not_a_folder", "just a file\n")
    _variant(base, d / "out" / "existing_bundle")
