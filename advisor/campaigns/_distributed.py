"""A campaign's partitions, run in-process or on Dask workers, with checkpoints and resume.

The segment's clients are cut by position into partitions of ``batch_size`` clients. Each
partition is solved by :func:`solve_partition` with the goal computed once by the caller,
so a partition's outcomes do not depend on where it ran. On Dask, the bundle's files and
the reference data (Parquet bytes) are scattered once to every worker, which rebuilds the
campaign with :func:`advisor.models.load_bundle`'s integrity check and the campaign's
pinned hashes (never a pickled model); outcomes come back as a plain table
(:func:`~advisor.campaigns._store.outcomes_frame`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from advisor.campaigns._store import Checkpoint, outcomes_frame, outcomes_from_frame
from advisor.campaigns._types import CampaignStatus, ClientOutcome
from advisor.errors import AdvisorError, BundleError, CampaignError
from constraints import Flag, Whole, check_params

if TYPE_CHECKING:
    from advisor.campaigns._campaign import Campaign

__all__ = [
    "CONNECT_TIMEOUT_S",
    "ENV_SCHEDULER",
    "BundleSource",
    "Partition",
    "local_cluster",
    "run_partitions",
    "solve_partition",
]

ENV_SCHEDULER = "LEVERS_DASK_SCHEDULER"
"""Environment variable: the address of a Dask scheduler campaigns run on (``tcp://host:port``)."""
CONNECT_TIMEOUT_S = 10.0
"""How long :meth:`Campaign.run` tries to reach the scheduler of ``LEVERS_DASK_SCHEDULER``."""
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_REPORT = Callable[[int, int], object]


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
class _Payload:
    """What every worker receives once: the bundle's files and the reference as bytes."""

    key: str
    files: Mapping[str, bytes]
    reference: bytes | None
    product: str
    batch_size: int
    options: Mapping[str, Any]


def _frame_sha256(frame: pd.DataFrame, extra: bytes = b"") -> str:
    digest = hashlib.sha256(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(json.dumps([str(t) for t in frame.dtypes]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    digest.update(extra)
    return digest.hexdigest()


def partitions_of(rows: pd.DataFrame, excluded: np.ndarray, size: int) -> list[Partition]:
    """Cut the segment's clients by position into partitions of ``size`` clients."""
    bounds = [(s, min(s + size, len(rows))) for s in range(0, len(rows), size)]
    return [
        Partition(i, a, b, _frame_sha256(rows.iloc[a:b], np.asarray(excluded[a:b]).tobytes()))
        for i, (a, b) in enumerate(bounds)
    ]


def solve_partition(
    campaign: Campaign,
    rows: pd.DataFrame,
    excluded: np.ndarray,
    goal: float,
    n_levers: int,
    progress: _REPORT | None = None,
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


# ---------------------------------------------------------------------------- the run
def run_partitions(
    campaign: Campaign,
    rows: pd.DataFrame,
    excluded: np.ndarray,
    goal: float,
    *,
    n_levers: int,
    progress: _REPORT | None,
    client: Any,
    checkpoint: Any,
    resume: bool,
) -> tuple[list[ClientOutcome], tuple[str, ...]]:
    """Solve every partition (here or on Dask), resuming finished ones from a checkpoint."""
    check_params({"resume": resume}, {"resume": Flag()}, error=CampaignError)
    dask, owned = _resolve_client(client)
    try:
        if dask is not None:
            _source_of(campaign)  # refuse objects in memory before any work
        parts = partitions_of(rows, excluded, campaign.batch_size)
        store = None
        if checkpoint is not None:
            about = _fingerprint(campaign, goal, n_levers)
            store = Checkpoint.open(
                checkpoint, about=about, hashes=[p.hash for p in parts], resume=resume
            )
        results = store.finished() if store is not None else {}
        tracker = _Tracker(progress, len(rows))
        tracker.finish(sum(parts[i].size for i in results))

        def finish(part: Partition, found: list[ClientOutcome], engines: tuple[str, ...]) -> None:
            if store is not None:
                store.write(part.index, outcomes_frame(found), engines)
            results[part.index] = (found, engines)
            tracker.finish(part.size)

        todo = [p for p in parts if p.index not in results]
        args = (campaign, rows, excluded, goal, n_levers)
        if dask is None:
            _run_here(*args, todo, finish, tracker)
        elif todo:
            _run_on_dask(dask, *args, todo, finish)
    finally:
        if owned and dask is not None:
            dask.close()
    outcomes = [o for i in range(len(parts)) for o in results[i][0]]
    return outcomes, tuple(sorted({e for i in results for e in results[i][1]}))


class _Tracker:
    """Calls ``progress(done, total)`` with clients done, only when the count grows."""

    def __init__(self, progress: _REPORT | None, total: int) -> None:
        self.progress, self.total = progress, total
        self.finished = 0  # clients of finished partitions
        self.reported = 0

    def finish(self, n_clients: int) -> None:
        self.finished += n_clients
        self.report(self.finished)

    def report(self, done: int) -> None:
        if done > self.reported:
            self.reported = done
            if self.progress is not None:
                self.progress(done, self.total)


def _run_here(
    campaign: Campaign,
    rows: pd.DataFrame,
    excluded: np.ndarray,
    goal: float,
    n_levers: int,
    todo: list[Partition],
    finish: Callable[[Partition, list[ClientOutcome], tuple[str, ...]], None],
    tracker: _Tracker,
) -> None:
    for part in todo:
        base = tracker.finished

        def inner(done: int, searched: int, base: int = base, size: int = part.size) -> None:
            # clients not searched (excluded, reached) count as done once scored
            if done < searched:
                tracker.report(base + size - searched + done)

        found, engines = solve_partition(
            campaign,
            rows.iloc[part.start : part.stop],
            excluded[part.start : part.stop],
            goal,
            n_levers,
            inner,
        )
        finish(part, found, engines)


def _run_on_dask(
    dask: Client,
    campaign: Campaign,
    rows: pd.DataFrame,
    excluded: np.ndarray,
    goal: float,
    n_levers: int,
    todo: list[Partition],
    finish: Callable[[Partition, list[ClientOutcome], tuple[str, ...]], None],
) -> None:
    as_completed = _dask().as_completed
    payload = dask.scatter(_payload_of(campaign), broadcast=True, hash=False)
    expected = (campaign.model_sha256, campaign.constraints_sha256)
    futures = {
        dask.submit(
            partition_task,
            payload,
            expected,
            rows.iloc[p.start : p.stop],
            excluded[p.start : p.stop],
            goal,
            n_levers,
            pure=False,
        ): p
        for p in todo
    }
    try:
        with dask.as_current():
            for future in as_completed(list(futures)):
                frame, engines = future.result()
                part = futures[future]
                finish(part, outcomes_from_frame(frame, f"partition {part.index}"), engines)
    except (AdvisorError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a lost worker or scheduler, a cancelled task
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise CampaignError(
            f"client: the Dask run must finish every partition. Got {type(exc).__name__}"
            f"{': ' + detail if detail else ''}. Hint: pass checkpoint=FOLDER, and after a "
            "stop run again with resume=True: finished partitions are kept."
        ) from exc
    finally:
        if dask.status == "running":  # a closed client has nothing left to cancel
            with contextlib.suppress(RuntimeError, OSError, TimeoutError):
                dask.cancel([f for f in futures if not f.done()])
                dask.cancel([payload])


# ---------------------------------------------------------------------------- Dask client
Client = Any  # dask.distributed.Client, imported lazily (it takes a second)


def _dask() -> Any:
    import distributed

    return distributed


def _resolve_client(client: Any) -> tuple[Client | None, bool]:
    """Return the Dask client to use (``None``: in-process) and whether the run owns it."""
    address = os.environ.get(ENV_SCHEDULER, "").strip()
    if client is None and not address:
        return None, False
    client_type = _dask().Client
    if client is not None:
        if not isinstance(client, client_type):
            raise CampaignError(
                f"client: must be a dask.distributed.Client or None. Got {type(client).__name__}."
            )
        return client, False
    return connect(address), True


def connect(address: str, *, timeout_s: float | None = None) -> Client:
    """Return a client of the Dask scheduler at ``address`` or raise a one-line CampaignError."""
    client_type = _dask().Client
    timeout = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
    try:
        return client_type(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise CampaignError(
            f"{ENV_SCHEDULER}: must be the address of a running Dask scheduler (tcp://host:port)."
            f" Got {address!r} (cannot connect within {timeout:g} s: {detail}). Hint: start "
            f"one with `dask scheduler`, fix the address, or unset {ENV_SCHEDULER} to run "
            "in-process."
        ) from exc


@contextmanager
def local_cluster(n_workers: int, *, memory_limit: str | int = "auto") -> Iterator[Client]:
    """Yield a client of a local Dask cluster: ``n_workers`` processes of one thread each.

    Parameters
    ----------
    n_workers
        Worker processes (1 to 256).
    memory_limit
        Per worker (``"2GiB"``, bytes, or ``"auto"``: the machine's memory shared evenly);
        Dask pauses a worker at 80 % of it and restarts it at 95 %.
    """
    options = check_params(
        {"n_workers": n_workers}, {"n_workers": Whole(1, 256)}, error=CampaignError
    )
    dask = _dask()
    try:
        cluster = dask.LocalCluster(
            n_workers=options["n_workers"],
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            dashboard_address=None,
            # no dashboard; its HTTP server on a free local port, not 8787
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            env=THREAD_ENV,
            preload=["advisor.campaigns"],  # the libraries load while the cluster starts
        )
    except (ValueError, TypeError) as exc:
        raise CampaignError(
            f"memory_limit: must be a size such as '2GiB', a number of bytes or 'auto'. Got "
            f"{memory_limit!r}."
        ) from exc
    with cluster, dask.Client(cluster, set_as_default=False) as client:
        yield client


# ---------------------------------------------------------------------------- shipping
def _source_of(campaign: Campaign) -> BundleSource:
    source = campaign.source
    if source is None or campaign.model_sha256 is None:
        raise CampaignError(
            "client: a distributed run must ship a model bundle to its workers. Got a campaign "
            "built from objects in memory. Hint: build it with Campaign.from_bundle(folder, "
            "reference)."
        )
    return source


def _payload_of(campaign: Campaign) -> _Payload:
    source = _source_of(campaign)
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
        source.reference.to_parquet(buffer)
        reference = buffer.getvalue()
    digest = hashlib.sha256(reference or b"")
    for name in sorted(files):
        digest.update(f"{name}:{hashlib.sha256(files[name]).hexdigest()};".encode())
    options = [campaign.product, campaign.batch_size, dict(source.options)]
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    key = digest.hexdigest()
    return _Payload(
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


def _fingerprint(campaign: Campaign, goal: float, n_levers: int) -> dict[str, Any]:
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
        "reference_sha256": None if reference is None else _frame_sha256(reference),
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
    payload: _Payload,
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


def worker_campaign(payload: _Payload, expected: tuple[str | None, str | None]) -> Campaign:
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


def rebuild_campaign(payload: _Payload, expected: tuple[str | None, str | None]) -> Campaign:
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
