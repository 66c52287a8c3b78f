"""A campaign's partitions: cut, solved, shipped to a Dask worker and rebuilt there.

The segment's clients are cut by position into partitions of ``batch_size`` clients; each is
solved by :func:`solve_partition` with the goal computed once by the caller, so its outcomes
do not depend on where it ran. For Dask, :func:`payload_of` gathers the bundle's files and
the reference data (Parquet bytes); a worker rebuilds the campaign from them once
(:func:`worker_campaign`) with :func:`advisor.models.load_bundle`'s integrity check and the
campaign's pinned hashes (never a pickled model), and returns outcomes as a plain table
(:func:`~advisor.campaigns._store.outcomes_frame`).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pyarrow import ArrowException

from advisor.campaigns._store import outcomes_frame
from advisor.campaigns._types import CampaignStatus, ClientOutcome
from advisor.errors import BundleError, CampaignError

if TYPE_CHECKING:
    from advisor.campaigns._campaign import Campaign

__all__ = [
    "BundleSource",
    "Partition",
    "Payload",
    "fingerprint",
    "partition_task",
    "partitions_of",
    "payload_of",
    "rebuild_campaign",
    "solve_partition",
    "source_of",
    "worker_campaign",
]

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
Report = Callable[[int, int], object]


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleSource:
    """What rebuilds a campaign built by :meth:`Campaign.from_bundle` on another machine.

    ``path`` is the bundle folder, ``reference`` the data the campaign was built with,
    ``options`` the Advisor options given to ``from_bundle``.
    """

    path: Path
    reference: pd.DataFrame | None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Partition:
    """Clients ``start:stop`` of the segment (by position) and the hash of their data."""

    index: int
    start: int
    stop: int
    hash: str

    @property
    def size(self) -> int:
        """Clients in the partition."""
        return self.stop - self.start


@dataclass(frozen=True, slots=True)
class Payload:
    """What every worker receives once: the bundle's files and the reference as bytes."""

    key: str
    files: Mapping[str, bytes]
    reference: bytes | None
    product: str
    batch_size: int
    options: Mapping[str, Any]


def frame_sha256(frame: pd.DataFrame, extra: bytes = b"") -> str:
    digest = hashlib.sha256(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(json.dumps([str(t) for t in frame.dtypes]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    digest.update(extra)
    return digest.hexdigest()


def partitions_of(rows: pd.DataFrame, excluded: np.ndarray, size: int) -> list[Partition]:
    """Cut the segment's clients by position into partitions of ``size`` clients."""
    bounds = [(s, min(s + size, len(rows))) for s in range(0, len(rows), size)]
    return [
        Partition(i, a, b, frame_sha256(rows.iloc[a:b], np.asarray(excluded[a:b]).tobytes()))
        for i, (a, b) in enumerate(bounds)
    ]


def solve_partition(
    campaign: Campaign,
    rows: pd.DataFrame,
    excluded: np.ndarray,
    goal: float,
    n_levers: int,
    progress: Report | None = None,
) -> tuple[list[ClientOutcome], tuple[str, ...]]:
    """Return the outcomes of one partition (clients in order) and the engines that answered."""
    outcomes: list[ClientOutcome | None] = [
        ClientOutcome(client=c, status=CampaignStatus.EXCLUDED, score=np.nan, goal=goal)
        if out
        else None
        for c, out in zip(rows.index, excluded, strict=True)
    ]
    options = {"n_levers": n_levers, "progress": progress}
    engines = campaign._fill(outcomes, rows, ~excluded, goal, options)
    filled = [o for o in outcomes if o is not None]
    if len(filled) != len(rows):  # pragma: no cover - a broken _fill
        raise CampaignError(f"partition: {len(rows) - len(filled)} clients left without outcome.")
    return filled, tuple(engines)


# ---------------------------------------------------------------------------- shipping
def source_of(campaign: Campaign) -> BundleSource:
    source = campaign.source
    if source is None or campaign.model_sha256 is None:
        raise CampaignError(
            "client: a distributed run must ship a model bundle to its workers. Got a campaign "
            "built from objects in memory. Hint: build it with Campaign.from_bundle(folder, "
            "reference)."
        )
    return source


def payload_of(campaign: Campaign) -> Payload:
    source = source_of(campaign)
    try:
        card = json.loads((source.path / "model_card.json").read_bytes())
        names = ["model_card.json", *sorted(card["files"])]
        if (source.path / "model_card.sha256").is_file():
            names.append("model_card.sha256")
        files = {name: (source.path / name).read_bytes() for name in names}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CampaignError(
            f"bundle {source.path}: must still be readable to ship it to the workers. Got "
            f"{str(exc)[:160]}."
        ) from exc
    reference = None
    if source.reference is not None:
        buffer = io.BytesIO()
        try:
            source.reference.to_parquet(buffer)
        except (ValueError, TypeError, ArrowException) as exc:
            raise CampaignError(
                "reference: must be writable as Parquet to ship it to the workers (text column "
                f"names, one type per column). Got {str(exc).splitlines()[0][:160]}"
            ) from exc
        reference = buffer.getvalue()
    digest = hashlib.sha256(reference or b"")
    for name in sorted(files):
        digest.update(f"{name}:{hashlib.sha256(files[name]).hexdigest()};".encode())
    options = [campaign.product, campaign.batch_size, dict(source.options)]
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    key = digest.hexdigest()
    return Payload(
        key=key,
        files=files,
        reference=reference,
        product=campaign.product,
        batch_size=campaign.batch_size,
        options=dict(source.options),
    )


def _library_version() -> str:
    try:
        return version("levers")
    except PackageNotFoundError:  # pragma: no cover - an uninstalled checkout
        return "unknown"


def fingerprint(campaign: Campaign, goal: float, n_levers: int) -> dict[str, Any]:
    """Return what must be equal for a checkpoint's partitions to be reused."""
    if campaign.model_sha256 is None:
        raise CampaignError(
            "checkpoint: needs a campaign built from a bundle (its hashes identify the model). "
            "Got a campaign from objects in memory. Hint: build it with Campaign.from_bundle."
        )
    advisor, source = campaign.advisor, campaign.source
    reference = None if source is None else source.reference
    return {
        "model_sha256": campaign.model_sha256,
        "constraints_sha256": campaign.constraints_sha256,
        "reference_sha256": None if reference is None else frame_sha256(reference),
        "product": campaign.product,
        "goal": float(goal),
        "min_uplift": advisor.min_uplift,
        "engine": advisor.engine,
        "seed": advisor.seed,
        "time_limit_s": advisor.time_limit_s,
        "n_levers": n_levers,
        "partition_size": campaign.batch_size,
        "library_version": _library_version(),
    }


# ---------------------------------------------------------------------------- on a worker
_CAMPAIGNS: dict[tuple[str, tuple[str | None, str | None]], Campaign] = {}
_LOCK = threading.Lock()


def partition_task(
    payload: Payload,
    expected: tuple[str | None, str | None],
    rows: pd.DataFrame,
    excluded: np.ndarray,
    goal: float,
    n_levers: int,
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Solve one partition on a worker; return its outcomes as a plain table and the engines."""
    campaign = worker_campaign(payload, expected)
    found, engines = solve_partition(campaign, rows, excluded, goal, n_levers)
    return outcomes_frame(found), engines


def worker_campaign(payload: Payload, expected: tuple[str | None, str | None]) -> Campaign:
    """Return the campaign of ``payload`` on this worker, rebuilt and checked once per process."""
    key = (payload.key, expected)
    with _LOCK:
        if key not in _CAMPAIGNS:
            _limit_threads()
            campaign = rebuild_campaign(payload, expected)
            _CAMPAIGNS.clear()  # one campaign at a time: bounded memory
            _CAMPAIGNS[key] = campaign
        return _CAMPAIGNS[key]


def _limit_threads() -> None:
    """One thread per worker for BLAS/OpenMP (XGBoost) and torch: workers are the parallelism."""
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    torch.set_num_threads(1)


def rebuild_campaign(payload: Payload, expected: tuple[str | None, str | None]) -> Campaign:
    """Write the shipped files to a private folder and load them with the bundle's checks.

    The files must pass :func:`advisor.models.load_bundle` (each against the card's SHA-256)
    and the card must have the hashes the campaign was built with (``expected``).
    """
    from advisor.campaigns._campaign import Campaign

    with tempfile.TemporaryDirectory(prefix="levers-bundle-") as folder:
        root = Path(folder)
        for name, data in payload.files.items():
            parts = PurePosixPath(name).parts
            if not parts or not all(_NAME.fullmatch(p) for p in parts):
                raise CampaignError(
                    f"bundle: the files shipped to a worker must have plain names. Got {name!r}."
                )
            (root / Path(*parts)).parent.mkdir(parents=True, exist_ok=True)
            (root / Path(*parts)).write_bytes(data)
        reference = None
        if payload.reference is not None:
            reference = pd.read_parquet(io.BytesIO(payload.reference))
        try:
            campaign = Campaign.from_bundle(
                root,
                reference,
                product=payload.product,
                batch_size=payload.batch_size,
                **payload.options,
            )
        except BundleError as exc:
            raise CampaignError(
                "bundle: the files shipped to a worker must pass the bundle's integrity check. "
                f"Got {str(exc).splitlines()[0][:240]}"
            ) from exc
    found = (campaign.model_sha256, campaign.constraints_sha256)
    if found != expected:
        raise CampaignError(
            "bundle: the files shipped to a worker must have the hashes of the campaign's "
            f"bundle. Got model {str(found[0])[:12]}… for {str(expected[0])[:12]}…. Hint: the "
            "bundle folder changed after the campaign was built; build it again with "
            "Campaign.from_bundle."
        )
    return campaign
