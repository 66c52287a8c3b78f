"""The demo portfolio: a structural causal model (SCM) of retail-bank clients.

``DemoPortfolioSCM(seed).sample(n)`` draws clients; ``true_propensity`` gives each client's
true probability of taking a product in the next 12 months; ``intervene`` applies a
do-operation and recomputes every descendant of the changed features with the clients' own
exogenous noise (an exact unit-level counterfactual). See ``docs/demo-portfolio.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from advisor.datasets._demo_adoption import ADOPTION, label_nodes
from advisor.datasets._demo_equations import LATENT, NODES, Array, Node, ParentValues
from advisor.datasets._demo_frames import (
    client_ids,
    frame_to_values,
    parse_client_ids,
    values_to_frame,
)
from advisor.datasets._demo_interventions import validate_changes
from advisor.datasets._demo_schema import COLUMNS, PRODUCTS
from advisor.datasets._noise import ClientNoise
from advisor.errors import DatasetError

__all__ = [
    "CAUSAL_GRAPH",
    "DemoPortfolioSCM",
    "causal_graph_dot",
    "descendants",
    "intervene",
    "make_demo_portfolio",
    "true_propensity",
]

_ALL_NODES: tuple[Node, ...] = (*NODES, *label_nodes())
_NODE: dict[str, Node] = {node.name: node for node in _ALL_NODES}

CAUSAL_GRAPH: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {node.name: node.parents for node in _ALL_NODES}
)
"""Parents of every node (observed columns, the latent ``engagement`` and the labels)."""

# Memory is what limits a demo portfolio: generating n clients peaks at about
# _PEAK_BYTES_PER_CLIENT * n bytes (measured: 389 bytes per client of peak resident memory
# for 1,000,000 clients, 142 of them the finished frame; the rest is the noise and the
# intermediate columns). The largest demo keeps that peak under _MEMORY_BUDGET_BYTES.
_PEAK_BYTES_PER_CLIENT = 400
_MEMORY_BUDGET_BYTES = 2 * 1024**3
_MAX_CLIENTS = _MEMORY_BUDGET_BYTES // _PEAK_BYTES_PER_CLIENT  # 5,368,709


def descendants(names: frozenset[str] | set[str]) -> frozenset[str]:
    """Return every node downstream of ``names`` in the causal graph (``names`` excluded).

    Examples
    --------
    >>> sorted(descendants({"mobile_app"}))[:3]
    ['card_spend_monthly', 'digital_logins_per_month', 'take_consumer_loan']
    """
    found: set[str] = set()
    for node in _ALL_NODES:  # topological order: parents come first
        if any(p in names or p in found for p in node.parents):
            found.add(node.name)
    return frozenset(found - set(names))


def _shown_int(n: int) -> str:
    """Return ``n`` with thousands separators, or its size when it is huge."""
    if abs(n) < 10**30:
        return f"{n:,}"
    sign = "a negative" if n < 0 else "a"
    return f"{sign} number of about {int(abs(n).bit_length() * 0.30103)} digits"


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise DatasetError(f"seed: must be an integer in [0, 2**63). Got {seed!r}.")
    if not 0 <= seed < 2**63:
        raise DatasetError(f"seed: must be an integer in [0, 2**63). Got {_shown_int(int(seed))}.")
    return int(seed)


def _gib(n_clients: int) -> str:
    return f"{n_clients * _PEAK_BYTES_PER_CLIENT / 1024**3:,.1f} GiB"


def _check_n_clients(n_clients: object) -> int:
    if isinstance(n_clients, bool) or not isinstance(n_clients, int | np.integer):
        raise DatasetError(f"n_clients: must be an integer. Got {n_clients!r}.")
    n = int(n_clients)
    if not 1 <= n <= _MAX_CLIENTS:
        needs = f" (it would need about {_gib(n)})" if 0 < n < 10**18 else ""
        raise DatasetError(
            f"n_clients: must be between 1 and {_MAX_CLIENTS:,} (a peak of about "
            f"{_gib(_MAX_CLIENTS)} of memory at {_PEAK_BYTES_PER_CLIENT} bytes per client). "
            f"Got {_shown_int(n)}{needs}."
        )
    return n


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoPortfolioSCM:
    """Structural causal model of the demo portfolio, for one seed.

    Parameters
    ----------
    seed
        Seed of the clients' exogenous noise, from 0 to 2**63 - 1; the same seed gives the
        same clients, bit for bit.
    """

    seed: int = 0

    def __post_init__(self) -> None:
        _check_seed(self.seed)

    def sample(self, n_clients: int) -> pd.DataFrame:
        """Draw ``n_clients`` clients (the first ``n`` of any larger sample with this seed).

        Parameters
        ----------
        n_clients
            Number of clients, from 1 to 5,368,709: generation peaks at about 400 bytes
            per client, and the largest demo stays under 2 GiB of memory.

        Returns
        -------
        pandas.DataFrame
            One row per client, columns as in ``demo_portfolio_info().columns``.
        """
        _check_n_clients(n_clients)
        index = np.arange(int(n_clients), dtype=np.int64)
        noise = ClientNoise(self.seed, index)
        values: dict[str, Array] = {}
        for node in _ALL_NODES:
            values[node.name] = node.compute(values, noise)
        return values_to_frame(values, client_ids(index), list(COLUMNS))

    def true_propensity(self, clients: pd.DataFrame, product: str) -> np.ndarray:
        """Return each client's true probability of taking ``product`` in the next 12 months.

        Parameters
        ----------
        clients
            Clients of this portfolio (any subset, possibly after interventions).
        product
            One of ``PRODUCTS``.

        Returns
        -------
        numpy.ndarray
            Probabilities in [0, 1]; exactly 0 for clients who already hold the product.
        """
        if product not in ADOPTION:
            raise DatasetError(f"product: must be one of {', '.join(PRODUCTS)}. Got {product!r}.")
        values, _ = self._abduct(clients)
        adoption = ADOPTION[product]
        return adoption.probability(ParentValues(adoption.node, values))

    def true_propensities(self, clients: pd.DataFrame) -> pd.DataFrame:
        """Return the true 12-month take-up probability of every product (one column each).

        Parameters
        ----------
        clients
            Clients of this portfolio (any subset, possibly after interventions).

        Returns
        -------
        pandas.DataFrame
            One column per product in ``PRODUCTS`` order, indexed like ``clients``.
        """
        values, _ = self._abduct(clients)
        columns = {
            product: ADOPTION[product].probability(ParentValues(ADOPTION[product].node, values))
            for product in PRODUCTS
        }
        return pd.DataFrame(columns, index=clients.index)

    def intervene(self, clients: pd.DataFrame, changes: Mapping[str, object]) -> pd.DataFrame:
        """Apply ``do(changes)`` and recompute every descendant of the changed features.

        Non-descendants keep their values exactly; descendants (labels included) are
        recomputed with each client's own exogenous noise.

        Parameters
        ----------
        clients
            Clients of this portfolio; the frame is not modified.
        changes
            Feature name to new value: a scalar for every client, or one value per client.

        Returns
        -------
        pandas.DataFrame
            A new frame with the same index, columns and dtypes.
        """
        values, noise = self._abduct(clients)
        new = validate_changes(changes, values, len(clients))
        downstream = descendants(set(new))
        for node in _ALL_NODES:
            if node.name in new:
                values[node.name] = new[node.name]
            elif node.name in downstream:
                values[node.name] = node.compute(values, noise)
        known = [c for c in clients.columns if c in COLUMNS]
        result = values_to_frame(values, clients["client_id"].to_numpy(), known)
        result.index = clients.index
        for column in clients.columns:
            if column not in COLUMNS:  # the caller's own columns travel unchanged
                result[column] = clients[column]
        return result[list(clients.columns)]

    def _abduct(self, clients: pd.DataFrame) -> tuple[dict[str, Array], ClientNoise]:
        """Read the clients' values and regenerate their exogenous noise."""
        if not isinstance(clients, pd.DataFrame):
            raise DatasetError(
                f"clients: must be a pandas DataFrame. Got {type(clients).__name__}."
            )
        noise = ClientNoise(self.seed, parse_client_ids(clients))
        values = frame_to_values(clients)
        for name in LATENT:
            values[name] = _NODE[name].compute(values, noise)
        expected_sex = _NODE["sex"].compute(values, noise)
        mismatch = np.flatnonzero(values["sex"] != expected_sex)
        if mismatch.size:
            first = clients["client_id"].iloc[int(mismatch[0])]
            raise DatasetError(
                f"clients: must come from the demo portfolio with seed={self.seed}. Got "
                f"{mismatch.size} client(s) whose recorded sex differs from the SCM's, e.g. "
                f"{first}. Hint: pass the seed given to make_demo_portfolio."
            )
        return values, noise


def make_demo_portfolio(n_clients: int = 20_000, seed: int = 0) -> pd.DataFrame:
    """Generate the built-in demo portfolio of retail-bank clients.

    Parameters
    ----------
    n_clients
        Number of clients, from 1 to 5,368,709 (generation peaks at about 400 bytes per
        client: 2 GiB for the largest demo).
    seed
        Seed of the structural causal model's noise, from 0 to 2**63 - 1.

    Returns
    -------
    pandas.DataFrame
        Clients with context, financial state, behaviour, holdings and 12-month take-up labels.

    Examples
    --------
    >>> clients = make_demo_portfolio(n_clients=1_000, seed=0)
    >>> clients.shape
    (1000, 36)
    """
    return DemoPortfolioSCM(seed=_check_seed(seed)).sample(n_clients)


def true_propensity(clients: pd.DataFrame, product: str, *, seed: int = 0) -> np.ndarray:
    """Return the true 12-month take-up probability (see `DemoPortfolioSCM.true_propensity`)."""
    return DemoPortfolioSCM(seed=_check_seed(seed)).true_propensity(clients, product)


def intervene(
    clients: pd.DataFrame, changes: Mapping[str, object], *, seed: int = 0
) -> pd.DataFrame:
    """Apply a do-operation (see :meth:`DemoPortfolioSCM.intervene`)."""
    return DemoPortfolioSCM(seed=_check_seed(seed)).intervene(clients, changes)


def causal_graph_dot() -> str:
    """Return the causal graph in Graphviz DOT (latent node dashed, labels as boxes)."""
    lines = ["digraph demo_portfolio {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for name in CAUSAL_GRAPH:
        if name in LATENT:
            lines.append(f'  {name} [style=dashed, label="{name}\\n(latent)"];')
        elif name.startswith("take_"):
            lines.append(f"  {name} [shape=box, style=filled, fillcolor=lightyellow];")
        elif COLUMNS[name].role == "actionable":
            lines.append(f"  {name} [style=filled, fillcolor=palegreen];")
        elif not CAUSAL_GRAPH[name] and not any(name in ps for ps in CAUSAL_GRAPH.values()):
            lines.append(
                f'  {name} [style=filled, fillcolor=lightgrey, label="{name}\\n(no edges)"];'
            )
    for name, parents in CAUSAL_GRAPH.items():
        lines.extend(f"  {parent} -> {name};" for parent in parents)
    lines.append("}")
    return "\n".join(lines) + "\n"
