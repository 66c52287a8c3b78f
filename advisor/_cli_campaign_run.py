"""How ``levers campaign run`` runs: in-process or on Dask, with checkpoints in ``--out``.

``--workers N`` starts :func:`~advisor.campaigns.local_cluster`, ``--scheduler ADDR``
connects to a running scheduler (neither: in-process, unless ``LEVERS_DASK_SCHEDULER`` is
set). Finished partitions go to ``--out/checkpoints`` so that a stopped run can be resumed;
only a campaign's own checkpoint files are ever deleted.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from advisor._campaign_words import say
from advisor._cli_campaign_inputs import CHECKPOINTS, MANIFEST, Loaded
from advisor._cli_campaign_tables import progress_bar
from advisor._console import inert
from advisor.campaigns import ENV_SCHEDULER, CampaignError, CampaignResult, local_cluster
from advisor.errors import AdvisorError

__all__ = [
    "CONNECT_S",
    "drop_checkpoints",
    "interrupted_line",
    "run_with_checkpoints",
    "where_it_runs",
]

CONNECT_S = 10.0
"""How long ``--scheduler`` waits for the scheduler to answer, in seconds."""


def where_it_runs(workers: int | None, scheduler: str | None, language: str = "en") -> str:
    """Say where a run goes: a local cluster, a scheduler, or in-process.

    ``campaign.json`` keeps the English words (``show --lang fr`` says them again in French).
    """
    if workers is not None:
        return say("local_cluster", language, n=workers, s="s" if workers > 1 else "")
    address = scheduler or os.environ.get(ENV_SCHEDULER, "").strip()
    return say("scheduler", language, address=address) if address else say("in_process", language)


@contextmanager
def _quiet_dask() -> Iterator[None]:
    """Keep Dask's own log (workers killed at shutdown, lost connections) off the terminal."""
    logger = logging.getLogger("distributed")
    before = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(before)


@contextmanager
def _dask_client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """Yield the Dask client of --workers / --scheduler, or None (in-process, or the env's)."""
    if workers is not None:
        with local_cluster(workers) as client:
            yield client
    elif scheduler is not None:
        distributed: Any = importlib.import_module("distributed")
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            detail = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
            raise CampaignError(
                f"--scheduler: must be the address of a running Dask scheduler (tcp://host:port)."
                f" Got {scheduler!r} (no answer within {CONNECT_S:g} s: {detail})."
            ) from exc
        with client:
            yield client
    else:
        yield None


def run_with_checkpoints(
    console: Console,
    loaded: Loaded,
    clients: pd.DataFrame,
    folder: Path,
    options: dict[str, Any],
    *,
    force: bool,
    resume: bool,
    language: str = "en",
) -> CampaignResult:
    """Run the campaign with checkpoints in ``folder/checkpoints``; the bar in ``language``.

    A run that fails or is stopped before any partition is finished leaves nothing behind:
    not its checkpoints, nor the folder when it created it.
    """
    checkpoints = folder / CHECKPOINTS
    if resume and not checkpoints.is_dir():
        raise CampaignError(
            f"--resume: --out {inert(folder)} must hold the checkpoints of a stopped run "
            f"({CHECKPOINTS}/). Got none. Hint: run without --resume."
        )
    created = not folder.exists()
    folder.mkdir(exist_ok=True)
    if force:
        drop_checkpoints(folder)  # a stopped run's partitions: --force starts again
    try:
        with (
            _quiet_dask(),
            _dask_client(options["workers"], options["scheduler"]) as client,
            progress_bar(console, language) as progress,
        ):
            task = progress.add_task(say("searching", language), total=None)
            return loaded.campaign.run(
                clients,
                segment=options["segment"],
                exclude=options["exclude"],
                n_levers=options["n_levers"],
                progress=lambda done, total: progress.update(task, completed=done, total=total),
                client=client,
                checkpoint=checkpoints,
                resume=resume,
            )
    except (AdvisorError, KeyboardInterrupt):
        if not resume and not _finished_parts(folder):  # nothing to resume: leave no trace
            drop_checkpoints(folder)
            if created:
                with suppress(OSError):
                    folder.rmdir()
        raise


def _finished_parts(folder: Path) -> int:
    checkpoints = folder / CHECKPOINTS
    return len(list(checkpoints.glob("part-*"))) if checkpoints.is_dir() else 0


def drop_checkpoints(folder: Path) -> None:
    """Remove a campaign's checkpoint files (its manifest and partitions), never other files.

    Called once the results are written (they hold the same rows), by ``--force`` and when
    a run stops before any partition; the folder goes only when nothing else is in it.
    """
    checkpoints = folder / CHECKPOINTS
    if not checkpoints.is_dir() or checkpoints.is_symlink():
        return
    for file in [checkpoints / MANIFEST, *checkpoints.glob("part-*.parquet")]:
        file.unlink(missing_ok=True)
    with suppress(OSError):
        checkpoints.rmdir()


def interrupted_line(folder: Path | None, language: str = "en") -> str:
    """Say what a Ctrl-C left: nothing, or finished partitions to resume from."""
    n = 0 if folder is None else _finished_parts(folder)
    if not n or folder is None:
        return say("interrupted", language)
    where = inert(folder / CHECKPOINTS)
    return say("interrupted_kept", language, n=n, s="s" if n > 1 else "", where=where)
