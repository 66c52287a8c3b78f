"""Write the corpus into a folder (:func:`write_corpus`) and make its Python calls."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.hostile._case import DEMO_YAML, N_ROWS, TARGET
from tests.hostile._corpus_bundles import _write_bundle_inputs
from tests.hostile._corpus_files import _write_csv_inputs, _write_yaml_inputs
from tests.hostile._corpus_trust import _write_trust_inputs

_ADVISORS: dict[str, Any] = {}  # one advisor per corpus folder and worker (built on first use)


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
    _write_trust_inputs(d)
    return d


def _advisor(folder: Path) -> Any:
    """Return the advisor of ``bundles/base`` on ``clients.csv`` (as ``levers advise``)."""
    key = str(folder)
    if key not in _ADVISORS:
        from advisor.datasets import index_clients, read_clients
        from advisor.levers import Advisor
        from advisor.models import load_bundle

        bundle = load_bundle(folder / "bundles" / "base")
        clients = read_clients(str(folder / "clients.csv"))
        reference = index_clients(clients, None, recorded=bundle.id_column)
        _ADVISORS[key] = Advisor.from_bundle(bundle, reference)
    return _ADVISORS[key]


def _client_dict(folder: Path, changes: str) -> dict[str, Any]:
    """Client C0000003 as a dict with ``changes`` (JSON; ``"__drop__"``: features removed)."""
    advisor = _advisor(folder)
    client: dict[str, Any] = advisor.reference.loc["C0000003"].to_dict()
    updates = json.loads(changes, parse_constant=float)
    for name in updates.pop("__drop__", []):
        client.pop(name, None)
    client.update(updates)
    return client


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
    if name == "read_clients_interactive":
        from advisor.datasets import INTERACTIVE_MAX_ROWS

        return read_clients(args[0].replace("{d}", str(folder)), max_rows=INTERACTIVE_MAX_ROWS)
    if name == "advise":  # a client id as text
        return _advisor(folder).advise(args[0])
    if name == "client":
        return _advisor(folder).client(args[0])
    if name == "advise_dict":  # C0000003 with changes (JSON)
        return _advisor(folder).advise(_client_dict(folder, args[0]))
    if name == "advise_n_levers":
        return _advisor(folder).advise("C0000003", n_levers=json.loads(args[0]))
    if name == "advise_product":
        return _advisor(folder).advise("C0000003", product=args[0])
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
