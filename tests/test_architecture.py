"""The one-way import rule: constraints <- counterfactuals <- advisor <- app."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("constraints", "counterfactuals", "advisor", "app")
ALLOWED: dict[str, set[str]] = {
    "constraints": set(),
    "counterfactuals": {"constraints"},
    "advisor": {"constraints", "counterfactuals"},
    "app": {"advisor"},
}
# Comparison baselines: never imported by core code, only by their adapters in
# counterfactuals/baselines/ (lazily), which no core module imports.
BASELINES = {"dice_ml", "alibi"}
ADAPTERS = "counterfactuals.baselines"


def imported_roots(source: str, module: str) -> set[str]:
    """Return the top-level names a module imports (relative imports resolved)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: stays inside the module's own package
                found.add(module.split(".")[0])
            elif node.module:
                found.add(node.module.split(".")[0])
    return found


def violations(package: str, source: str, module: str) -> list[str]:
    ours = (imported_roots(source, module) & set(PACKAGES)) - {package}
    bad = sorted(ours - ALLOWED[package])
    if module.startswith(ADAPTERS):
        return [f"{module} imports {name}" for name in bad]
    baselines = sorted(imported_roots(source, module) & BASELINES)
    if ADAPTERS in source:
        baselines.append(ADAPTERS)
    return [f"{module} imports {name}" for name in bad + baselines]


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_flow_one_way(package: str) -> None:
    files = modules(package)
    assert files, f"no module found in {package}/"
    problems = []
    for path in files:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        problems += violations(package, path.read_text(encoding="utf-8"), module)
    assert not problems, "forbidden imports:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("package", "source", "expected"),
    [
        ("constraints", "import advisor.datasets", ["constraints.x imports advisor"]),
        ("constraints", "from counterfactuals import x", ["constraints.x imports counterfactuals"]),
        (
            "counterfactuals",
            "from advisor.levers import Lever",
            ["counterfactuals.x imports advisor"],
        ),
        ("advisor", "import app.streamlit_app", ["advisor.x imports app"]),
        ("app", "from counterfactuals import generate", ["app.x imports counterfactuals"]),
        ("app", "from constraints import load", ["app.x imports constraints"]),
        ("advisor", "def f():\n    import dice_ml\n", ["advisor.x imports dice_ml"]),
        ("counterfactuals", "import alibi", ["counterfactuals.x imports alibi"]),
        (
            "advisor",
            "from counterfactuals.baselines import dice",
            ["advisor.x imports counterfactuals.baselines"],
        ),
        ("advisor", "from counterfactuals import generate\nfrom . import y", []),
        ("app", "import advisor\nimport streamlit", []),
    ],
)
def test_the_checker_catches_forbidden_arrows(
    package: str, source: str, expected: list[str]
) -> None:
    assert violations(package, source, f"{package}.x") == expected


def test_every_package_declares_its_public_api() -> None:
    for package in ("constraints", "counterfactuals", "advisor"):
        tree = ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8"))
        names = {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert "__all__" in names, package
