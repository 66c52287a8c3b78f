"""Start-up: the light commands import no model library (issue 17, item 5).

``levers --help``, ``levers --version`` and ``levers constraints check FILE [--data F]`` are
run in a fresh interpreter (through typer's CliRunner, the same code path as the ``levers``
script) and the modules loaded afterwards are read from ``sys.modules``: no wall clock, so a
busy machine cannot make the test flaky, while an ``import torch`` added at the top of any
module on the CLI's path makes it fail. ``benchmarks/cli_startup.py`` measures the seconds.

The packages' ``__init__`` files export their public names lazily (a module ``__getattr__``
over ``_EXPORTS``; the ``if TYPE_CHECKING:`` imports give mypy the same names): the tests
below also check that both lists and ``__all__`` agree and that every name resolves.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.datasets import make_demo_portfolio

ROOT = Path(__file__).resolve().parents[1]

#: Kept out of the light commands: every model, app, distributed and fairness library, and
#: what only some sources need (SciPy for the demo, SQLAlchemy/DuckDB for SQL URLs).
HEAVY = (
    "torch",
    "xgboost",
    "streamlit",
    "optuna",
    "dask",
    "distributed",
    "sklearn",
    "plotly",
    "shap",
    "lime",
    "captum",
    "matplotlib",
    "weasyprint",
    "jinja2",
    "fairlearn",
    "dice_ml",
    "skops",
    "scipy",
    "sqlalchemy",
    "duckdb",
    "counterfactuals",
)
#: Package __init__ files that export their names lazily.
LAZY_PACKAGES = (
    "advisor.audit",
    "advisor.campaigns",
    "advisor.datasets",
    "advisor.evidence",
    "advisor.explain",
    "advisor.levers",
    "advisor.models",
    "advisor.study",
)

_PROBE = """
import json, sys
from typer.testing import CliRunner
import advisor.cli

runner = CliRunner()
codes = {}
for args in json.loads(sys.argv[1]):
    result = runner.invoke(advisor.cli.app, args)
    codes[" ".join(args)] = [result.exit_code, result.output[:300]]
heavy = sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)
print(json.dumps({"codes": codes, "heavy": heavy, "n_modules": len(sys.modules)}))
"""


def _light_run(*commands: list[str]) -> dict[str, object]:
    """Run ``commands`` in a fresh interpreter; return exit codes and the heavy modules loaded."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(commands), json.dumps(HEAVY)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return found


def test_the_heavy_names_are_real_modules() -> None:
    """A misspelt name would never be in sys.modules: each must be installed (or an extra)."""
    optional = {"dice_ml"}  # not installed by default: its absence is checked too
    missing = [n for n in HEAVY if n not in optional and importlib.util.find_spec(n) is None]
    assert missing == []


def test_help_version_and_check_load_no_model_library(tmp_path: Path) -> None:
    clients = tmp_path / "clients.csv"
    make_demo_portfolio(50).to_csv(clients, index=False)
    commands = [
        ["--help"],
        ["--version"],
        ["constraints", "--help"],
        ["constraints", "check", "configs/german-credit.yaml"],
        ["constraints", "check", "configs/demo-portfolio.yaml", "--data", str(clients)],
    ]
    found = _light_run(*commands)
    codes = found["codes"]
    assert isinstance(codes, dict)
    assert {name: code for name, (code, _) in codes.items()} == {
        " ".join(args): 0 for args in commands
    }, codes
    assert "OK demo-portfolio.yaml" in codes[" ".join(commands[-1])][1]
    assert found["heavy"] == []


def test_the_probe_sees_what_a_command_body_imports(tmp_path: Path) -> None:
    """Not vacuous: ``campaign show`` imports the campaign types when it runs, and the probe
    lists what they load (the counterfactuals package, SciPy)."""
    found = _light_run(["campaign", "show", str(tmp_path / "nowhere")])
    heavy = found["heavy"]
    assert isinstance(heavy, list)
    assert {"counterfactuals", "scipy"} <= set(heavy)


def _exports_of(package: str) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Return (TYPE_CHECKING imports, _EXPORTS, __all__) of a lazy package, read with ast."""
    path = ROOT.joinpath(*package.split("."), "__init__.py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typed: dict[str, str] = {}
    exports: dict[str, str] = {}
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for sub in node.body:
                assert isinstance(sub, ast.ImportFrom), ast.unparse(sub)
                typed.update({a.asname or a.name: str(sub.module) for a in sub.names})
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name) and target.id == "_EXPORTS":
                exports = ast.literal_eval(node.value)  # type: ignore[arg-type]
            elif isinstance(target, ast.Name) and target.id == "__all__":
                names = ast.literal_eval(node.value)  # type: ignore[arg-type]
    return typed, exports, names


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_lazy_exports_match_the_typed_imports_and_all(package: str) -> None:
    typed, exports, names = _exports_of(package)
    assert exports == typed
    assert sorted(exports) == sorted(names)


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_resolves_and_unknown_names_fail(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        source = importlib.import_module(_exports_of(package)[1][name])
        assert value is getattr(source, name), name
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match=rf"^module '{package}' has no attribute 'nope'$"):
        _ = module.nope
