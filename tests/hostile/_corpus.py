"""Write the corpus into a folder (:func:`write_corpus`) and make its Python calls."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.hostile._case import DEMO_YAML, N_ROWS, TARGET
from tests.hostile._corpus_bundles import _write_bundle_inputs
from tests.hostile._corpus_files import _write_csv_inputs, _write_yaml_inputs


def write_corpus(folder: str | os.PathLike[str]) -> Path:
    """Write every hostile input of the corpus into ``folder`` (created; must be empty or new).

    Deterministic: the same files every time (the bundle's ``created_at`` aside), from the demo
    portfolio (300 clients, seed 0), ``configs/demo-portfolio.yaml`` and one small logistic
    bundle trained on them (one trial, a few seconds).
    """
    from advisor.datasets import make_demo_portfolio

    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    make_demo_portfolio(n_clients=N_ROWS, seed=0).to_csv(d / "clients.csv", index=False)
    (d / "out").mkdir(exist_ok=True)
    _write_yaml_inputs(d)
    _write_csv_inputs(d)
    _write_bundle_inputs(d)
    return d


def call_api(name: str, folder: Path, args: tuple[str, ...]) -> Any:
    """Run one public Python call of the corpus (``name`` with string arguments)."""
    from advisor.datasets import make_demo_portfolio, read_clients, read_table, write_table
    from advisor.models import load_bundle, train
    from constraints import load_constraints

    def path(text: str) -> Path:
        return folder / text

    if name == "load_constraints":
        return load_constraints(path(args[0]))
    if name == "load_constraints_data":
        return load_constraints(path(args[0]), read_table(path(args[1])))
    if name == "read_table":
        return read_table(path(args[0]))
    if name == "read_clients":
        return read_clients(args[0].replace("{d}", str(folder)))
    if name == "load_bundle":
        return load_bundle(path(args[0]))
    if name == "make_demo_portfolio":
        value: Any = json.loads(args[0]) if args[0] not in ("nan", "inf") else float(args[0])
        return make_demo_portfolio(n_clients=value)
    if name == "write_table":
        return write_table(make_demo_portfolio(n_clients=10, seed=0), path(args[0]))
    if name == "train":
        budget = float(args[0])
        return train(
            read_table(path("clients.csv")),
            TARGET,
            DEMO_YAML,
            families=("logistic",),
            budget_s=budget,
            n_trials=None,
            seed=0,
        )
    raise ValueError(f"unknown API call {name!r}")
