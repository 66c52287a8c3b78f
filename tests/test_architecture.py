"""The package contract, read from the code with the standard library's ast.

1. Imports flow one way: constraints <- counterfactuals <- advisor <- app.
2. Packages talk through public names: no module imports another package's private module
   (``x._y``, sub-packages included: ``advisor.evidence`` may not import ``advisor.models._mlp``)
   nor a private name of another package, and no module reads a private attribute
   (``obj._x``) that only another package defines. Tests of a package may test its private
   modules; benchmarks use public names only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
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
CHECKED = (*PACKAGES, "tests", "benchmarks")


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


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


# ----------------------------------------------------------------------------- privacy
def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def home(module: str) -> str:
    """The package whose privates a module may use: its own (sub-)package.

    ``advisor.models._bundle`` -> ``advisor.models``; a test module ``tests.advisor.x`` ->
    ``advisor`` (tests of a package may test its internals); benchmarks -> none.
    """
    parts = module.split(".")
    if parts[0] == "tests":
        return parts[1] if len(parts) > 2 and parts[1] in PACKAGES else ""
    if parts[0] == "benchmarks":
        return ""
    return ".".join(parts[:-1]) if len(parts) > 1 else parts[0]


def _owner(dotted: str) -> str | None:
    """The package a dotted path's first private segment belongs to (None: all public)."""
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if _private(part):
            return ".".join(parts[:i])
    return None


def _inside(module_home: str, owner: str) -> bool:
    return bool(module_home) and (module_home == owner or module_home.startswith(owner + "."))


def _imports(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """Every dotted path a module imports, names imported from a module included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def private_imports(source: str, module: str) -> list[str]:
    """Imports of another package's private module or private name."""
    found = []
    for dotted, line in _imports(ast.parse(source)):
        if dotted.split(".")[0] not in PACKAGES:
            continue
        owner = _owner(dotted)
        if owner is None:
            continue
        own = home(module)
        # a package's module may use its own and its parents' privates; a package's tests
        # may use the privates of the whole package they test
        allowed = _inside(owner, own) if module.startswith("tests.") else _inside(own, owner)
        if not allowed:
            found.append(f"{module}:{line} imports {dotted} (private to {owner})")
    return found


def defined_privates(source: str) -> set[str]:
    """Private names a module defines: module and class attributes, methods, self._x."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)  # object.__setattr__(self, "_x", ...)
    return {n for n in names if _private(n)}


def private_reads(source: str, module: str, privates: dict[str, set[str]]) -> list[str]:
    """Reads of ``obj._x`` where only another package defines ``_x`` (``self``/``cls`` aside)."""
    package = home(module).split(".")[0]
    own = privates.get(package, set())
    others = set().union(*(names for pkg, names in privates.items() if pkg != package))
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        if node.attr in own or node.attr not in others:
            continue
        owners = sorted(pkg for pkg, names in privates.items() if node.attr in names)
        found.append(f"{module}:{node.lineno} reads .{node.attr} (private to {', '.join(owners)})")
    return found


def package_privates() -> dict[str, set[str]]:
    """Per package of ours: the private names its modules define."""
    return {
        package: set().union(
            *(defined_privates(p.read_text(encoding="utf-8")) for p in modules(package))
        )
        for package in PACKAGES
    }


# ----------------------------------------------------------------------------- the checks
@pytest.mark.parametrize("package", PACKAGES)
def test_imports_flow_one_way(package: str) -> None:
    files = modules(package)
    assert files, f"no module found in {package}/"
    problems = []
    for path in files:
        problems += violations(package, path.read_text(encoding="utf-8"), module_name(path))
    assert not problems, "forbidden imports:\n" + "\n".join(problems)


@pytest.mark.parametrize("folder", CHECKED)
def test_packages_talk_through_public_names(folder: str) -> None:
    privates = package_privates()
    problems = []
    for path in modules(folder):
        source, module = path.read_text(encoding="utf-8"), module_name(path)
        problems += private_imports(source, module)
        problems += private_reads(source, module, privates)
    assert not problems, "private names used across packages:\n" + "\n".join(problems)


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


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "counterfactuals._search",
            "from constraints._compiled import CompiledClause",
            ["imports constraints._compiled.CompiledClause (private to constraints)"],
        ),
        (
            "advisor.evidence._influence_mlp",
            "from advisor.models._mlp import early_stopping_split",
            ["imports advisor.models._mlp.early_stopping_split (private to advisor.models)"],
        ),
        (
            "counterfactuals._x",
            "from constraints import _check",
            ["imports constraints._check (private to constraints)"],
        ),
        (
            "benchmarks.automl",
            "import advisor.models._data as data",
            ["imports advisor.models._data (private to advisor.models)"],
        ),
        (
            "app.service",
            "from advisor.levers._advisor import Advisor",
            ["imports advisor.levers._advisor.Advisor (private to advisor.levers)"],
        ),
        (
            "tests.counterfactuals.test_x",
            "from constraints._project import intervals",
            ["imports constraints._project.intervals (private to constraints)"],
        ),
        ("counterfactuals.baselines.dice", "from counterfactuals._model import ModelAdapter", []),
        ("advisor.models._bundle", "from advisor.models._skops import load_sklearn", []),
        ("tests.advisor.test_mlp", "from advisor.models._mlp import TorchMLPClassifier", []),
        ("counterfactuals._x", "from constraints import ConstraintSet\nimport numpy._core", []),
    ],
)
def test_the_checker_catches_private_imports(module: str, source: str, expected: list[str]) -> None:
    found = private_imports(source, module)
    assert [f.split(" ", 1)[1] for f in found] == expected


PRIVATES = {
    "constraints": {"_compiled", "_context"},
    "counterfactuals": {"_margins"},
    "advisor": {"_products"},
    "app": set(),
}


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("counterfactuals._x", "cp = cs._compiled", ["reads ._compiled (private to constraints)"]),
        (
            "tests.counterfactuals.test_x",
            "step = problem.constraints._compiled.step",
            ["reads ._compiled (private to constraints)"],
        ),
        ("app.page", "advisor._products", ["reads ._products (private to advisor)"]),
        ("benchmarks.b", "m = adapter._margins", ["reads ._margins (private to counterfactuals)"]),
        ("constraints._set", "x = other._compiled", []),  # its own package
        ("tests.constraints.test_x", "x = cs._compiled", []),  # a package's own tests
        ("counterfactuals._x", "self._compiled = 1\ncls._context", []),
        ("advisor.x", "frame._mgr", []),  # a third party's private: not ours to police
    ],
)
def test_the_checker_catches_private_attribute_reads(
    module: str, source: str, expected: list[str]
) -> None:
    found = private_reads(source, module, PRIVATES)
    assert [f.split(" ", 1)[1] for f in found] == expected


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
