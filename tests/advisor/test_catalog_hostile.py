"""Product catalogues from untrusted hands: no YAML bomb, no deep nesting, no path names."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.errors import ModelError
from advisor.models import load_product_catalog

PRODUCT = "{label: {en: P, fr: P}, target: t, held: h, value: 1}"


def _bomb(levels: int = 9) -> str:
    """The "billion laughs": 9 levels of 9 aliases stand for 9**9 strings in ~600 bytes."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\nname: *l{levels - 1}\nproducts: {{p: {PRODUCT}}}\n"


def test_a_yaml_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb(), encoding="utf-8")
    assert path.stat().st_size < 700
    with pytest.raises(ModelError, match=r"^bomb\.yaml:1: anchors .* not allowed.*in full\.$"):
        load_product_catalog(path)


def test_deep_nesting_is_refused_without_recursion(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\nproducts: " + "[" * 5_000 + "]" * 5_000 + "\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"^deep\.yaml:2: must nest at most 32 levels"):
        load_product_catalog(path)


@pytest.mark.parametrize("name", ["../evil", "a/b", "/abs", "..", "x" * 65, "sp ace"])
def test_product_names_must_be_plain_folder_names(tmp_path: Path, name: str) -> None:
    path = tmp_path / "names.yaml"
    path.write_text(f"name: x\nproducts:\n  {name!r}: {PRODUCT}\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"names\.yaml: products\..*should match pattern"):
        load_product_catalog(path)


def test_not_a_file_or_not_utf8_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"must be a product catalogue \(YAML\)\. Got a folder"):
        load_product_catalog(tmp_path)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(f"name: caf\xe9\nproducts: {{p: {PRODUCT}}}\n".encode("latin-1"))
    with pytest.raises(ModelError, match=r"latin\.yaml.*UTF-8"):
        load_product_catalog(latin)
    with pytest.raises(ModelError, match=r"^catalog: must be a path to a YAML file\. Got int\.$"):
        load_product_catalog(3)  # type: ignore[arg-type]


def test_a_plain_catalogue_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(f"name: ok\nproducts:\n  savings_2: {PRODUCT}\n", encoding="utf-8")
    assert list(load_product_catalog(path).products) == ["savings_2"]
