"""A campaign's partitions run in-process or on Dask, with checkpoints and resume.

:func:`run_partitions` solves the partitions of :mod:`advisor.campaigns._partitions` one
after the other, or on the workers of a ``dask.distributed.Client`` (given, or connected
from ``LEVERS_DASK_SCHEDULER``), skips those a checkpoint already holds and writes each
finished one to it. :func:`local_cluster` is the cluster of the CLI's ``--workers N``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from advisor.campaigns._checkpoint import Checkpoint
from advisor.campaigns._partitions import (
    Partition,
    Report,
    fingerprint,
    partition_task,
    partitions_of,
    payload_of,
    solve_partition,
    source_of,
)
from advisor.campaigns._store import outcomes_frame, outcomes_from_frame
from advisor.campaigns._types import ClientOutcome
from advisor.errors import AdvisorError, CampaignError
from constraints import Flag, Whole, check_params

if TYPE_CHECKING:
    from advisor.campaigns._campaign import Campaign

__all__ = [
    "CONNECT_TIMEOUT_S",
    "ENV_SCHEDULER",
    "connect",
    "local_cluster",
    "run_partitions",
]

ENV_SCHEDULER = "LEVERS_DASK_SCHEDULER"
"""Environment variable: the address of a Dask scheduler campaigns run on (``tcp://host:port``)."""
CONNECT_TIMEOUT_S = 10.0
"""How long :meth:`Campaign.run` tries to reach the scheduler of ``LEVERS_DASK_SCHEDULER``."""
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# ---------------------------------------------------------------------------- the run
@dataclass(frozen=True, slots=True, kw_only=True)
class RunShape:
    """How a run was spread: workers, the scheduler's address, partitions (and resumed)."""

    workers: int
    scheduler: str | None
    n_partitions: int
    n_resumed: int


def run_partitions(
    campaign: Campaign,
    rows: pd.DataFrame,
    excluded: np.ndarray,
    goal: float,
    *,
    n_levers: int,
    progress: Report | None,
    client: Any,
    checkpoint: Any,
    resume: bool,
) -> tuple[list[ClientOutcome], tuple[str, ...], RunShape]:
    """Solve every partition (here or on Dask), resuming finished ones from a checkpoint."""
    check_params({"resume": resume}, {"resume": Flag()}, error=CampaignError)
    dask, owned = _resolve_client(client)
    try:
        if dask is not None:
            source_of(campaign)  # refuse objects in memory before any work
        parts = partitions_of(rows, excluded, campaign.batch_size)
        store = None
        if checkpoint is not None:
            about = fingerprint(campaign, goal, n_levers)
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
        ran = RunShape(
            workers=1 if dask is None else max(1, len(dask.scheduler_info()["workers"])),
            scheduler=None if dask is None else str(dask.scheduler.address),
            n_partitions=len(parts),
            n_resumed=len(parts) - len(todo),
        )
        args = (campaign, rows, excluded, goal, n_levers)
        if dask is None:
            _run_here(*args, todo, finish, tracker)
        elif todo:
            _run_on_dask(dask, *args, todo, finish)
    finally:
        if owned and dask is not None:
            dask.close()
    outcomes = [o for i in range(len(parts)) for o in results[i][0]]
    engines = tuple(sorted({e for i in results for e in results[i][1]}))
    return outcomes, engines, ran


class _Tracker:
    """Calls ``progress(done, total)`` with clients done, only when the count grows."""

    def __init__(self, progress: Report | None, total: int) -> None:
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
    with one_thread():
        for part in todo:
            _solve_here(campaign, rows, excluded, goal, n_levers, part, finish, tracker)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with one BLAS/OpenMP and torch thread, then restore the process's own.

    An in-process campaign calls the model on batches of a few hundred rows, where more
    threads only add overhead (and on a busy server, 10x slowdowns); more throughput comes
    from workers (processes).
    """
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


def _solve_here(
    campaign: Campaign,
    rows: pd.DataFrame,
    excluded: np.ndarray,
    goal: float,
    n_levers: int,
    part: Partition,
    finish: Callable[[Partition, list[ClientOutcome], tuple[str, ...]], None],
    tracker: _Tracker,
) -> None:
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
    payload = dask.scatter(payload_of(campaign), broadcast=True, hash=False)
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
    _check_memory_limit(memory_limit)
    dask = _dask()
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
    with cluster, dask.Client(cluster, set_as_default=False) as client:
        yield client


def _check_memory_limit(memory_limit: object) -> None:
    from dask.utils import parse_bytes

    try:
        ok = memory_limit == "auto" or (
            not isinstance(memory_limit, bool)
            and isinstance(memory_limit, (int, str))
            and parse_bytes(memory_limit) > 0
        )
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise CampaignError(
            f"memory_limit: must be a size such as '2GiB', a number of bytes > 0 or 'auto'. "
            f"Got {memory_limit!r}."
        )
