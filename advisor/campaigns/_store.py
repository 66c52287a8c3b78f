"""Campaign results and checkpoints on disk, losslessly and without pickle.

Outcomes become a plain table (:func:`outcomes_frame`): one row per client with its id and
levers as JSON text (business values keep their type: ``3`` stays an int, ``3.0`` a float,
``True`` a bool), status, score and goal as columns. That table is what a Dask worker sends
back, what a checkpoint partition holds and what :func:`save_result` writes, as Parquet,
next to a JSON file of the product, its value and the provenance.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from advisor._atomic import write_atomic
from advisor.campaigns._types import CampaignResult, CampaignStatus, ClientOutcome, Provenance
from advisor.errors import CampaignError
from advisor.levers import Action, Lever

__all__ = [
    "OUTCOME_COLUMNS",
    "RESULT_FILES",
    "load_result",
    "outcomes_frame",
    "outcomes_from_frame",
    "read_table_with_meta",
    "save_result",
    "write_table_with_meta",
]

RESULT_FORMAT = "levers-campaign-result"
RESULT_VERSION = 1
RESULT_FILES = ("result.json", "outcomes.parquet")
"""The files :func:`save_result` writes in its folder (the JSON last: it names the table's hash)."""
OUTCOME_COLUMNS = ("client", "status", "score", "goal", "levers")
"""The columns of :func:`outcomes_frame`."""
_META_KEY = b"levers"


# ---------------------------------------------------------------------------- values
def _plain(value: Any, where: str) -> Any:
    """Return ``value`` as a JSON value of the same Python type (numpy scalars unwrapped)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise CampaignError(
        f"{where}: must be a number, a text, True/False or None to be saved. Got "
        f"{type(value).__name__}."
    )


def _action_record(action: Action, where: str) -> dict[str, Any]:
    return {
        "feature": action.feature,
        "label": dict(action.label),
        "before": _plain(action.before, f"{where} {action.feature!r} before"),
        "after": _plain(action.after, f"{where} {action.feature!r} after"),
        "text": dict(action.text),
        "consequence": action.consequence,
    }


def _lever_record(lever: Lever, where: str) -> dict[str, Any]:
    return {
        "rank": lever.rank,
        "actions": [_action_record(a, where) for a in lever.actions],
        "score_before": float(lever.score_before),
        "score_after": float(lever.score_after),
        "cost": float(lever.cost),
        "n_changes": int(lever.n_changes),
        "support": None if lever.support is None else float(lever.support),
        "values": {k: _plain(v, f"{where} value {k!r}") for k, v in lever.values.items()},
    }


def _lever_from(record: Mapping[str, Any]) -> Lever:
    return Lever(
        rank=record["rank"],
        actions=tuple(
            Action(
                feature=a["feature"],
                label=a["label"],
                before=a["before"],
                after=a["after"],
                text=a["text"],
                consequence=a["consequence"],
            )
            for a in record["actions"]
        ),
        score_before=record["score_before"],
        score_after=record["score_after"],
        cost=record["cost"],
        n_changes=record["n_changes"],
        support=record["support"],
        values=record["values"],
    )


def _score(value: float) -> float:
    # the campaign gives excluded clients np.nan itself: the same object keeps equality
    return np.nan if math.isnan(value) else value


# ---------------------------------------------------------------------------- outcomes
def outcomes_frame(outcomes: Sequence[ClientOutcome]) -> pd.DataFrame:
    """Return outcomes as a plain table (columns :data:`OUTCOME_COLUMNS`), no Python objects.

    ``client`` and ``levers`` are JSON text (ids keep their type; levers keep their actions
    in both languages, labels, business values, scores, cost and the client after the lever).
    """
    rows = []
    for outcome in outcomes:
        where = f"client {outcome.client!r}"
        rows.append(
            {
                "client": json.dumps(_plain(outcome.client, f"{where} id")),
                "status": outcome.status.value,
                "score": float(outcome.score),
                "goal": float(outcome.goal),
                "levers": json.dumps(
                    [_lever_record(lever, where) for lever in outcome.levers], ensure_ascii=False
                ),
            }
        )
    frame = pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS))
    return frame.astype({"client": object, "status": object, "levers": object})


def outcomes_from_frame(frame: pd.DataFrame, where: str = "outcomes") -> list[ClientOutcome]:
    """Return the outcomes of a table written by :func:`outcomes_frame` (the inverse)."""
    if list(frame.columns) != list(OUTCOME_COLUMNS):
        raise CampaignError(
            f"{where}: must have the columns {', '.join(OUTCOME_COLUMNS)}. Got "
            f"{', '.join(map(str, frame.columns))}."
        )
    try:
        return [
            ClientOutcome(
                client=json.loads(client),
                status=CampaignStatus(status),
                score=_score(float(score)),
                goal=float(goal),
                levers=tuple(_lever_from(r) for r in json.loads(levers)),
            )
            for client, status, score, goal, levers in frame.itertuples(index=False, name=None)
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise CampaignError(f"{where}: must hold campaign outcomes. Got {exc}.") from exc


# ---------------------------------------------------------------------------- parquet
def write_table_with_meta(
    frame: pd.DataFrame, path: Path, meta: Mapping[str, Any], *, overwrite: bool = False
) -> Path:
    """Write ``frame`` as Parquet with ``meta`` (JSON) in its schema metadata, atomically."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema = table.schema.with_metadata(
        {**(table.schema.metadata or {}), _META_KEY: json.dumps(dict(meta)).encode()}
    )
    table = table.replace_schema_metadata(schema.metadata)

    def write(file: Path) -> None:
        pq.write_table(table, file, compression="zstd")

    hint = "use another folder, or resume=True to continue a stopped run"
    return write_atomic(path, write, overwrite=overwrite, error=CampaignError, hint=hint)


def read_table_with_meta(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a table written by :func:`write_table_with_meta` and its metadata."""
    try:
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {})[_META_KEY])
    except (OSError, KeyError, ValueError, pa.ArrowException) as exc:
        raise CampaignError(
            f"{path}: must be a table written by a campaign. Got an unreadable file ({exc})."
        ) from exc
    if not isinstance(meta, dict):
        raise CampaignError(f"{path}: must carry the campaign's metadata. Got {meta!r}.")
    return table.to_pandas(), meta


# ---------------------------------------------------------------------------- results
def save_result(
    result: CampaignResult, folder: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write a campaign result to ``folder``, losslessly and without pickle.

    ``folder/outcomes.parquet`` holds one row per client (:func:`outcomes_frame`);
    ``folder/result.json`` the product, its value, the provenance and the table's SHA-256.
    Each is written atomically; the folder is created when missing (its parent must exist).
    The result's context (the campaign and its clients) is not saved.

    Raises
    ------
    CampaignError
        ``result`` is not a :class:`CampaignResult`, the folder is a file or already holds a
        result (without ``overwrite``), or a value cannot be saved.
    """
    if not isinstance(result, CampaignResult):
        raise CampaignError(f"result: must be a CampaignResult. Got {type(result).__name__}.")
    target = _folder(folder, create=True)
    table = target / RESULT_FILES[1]
    write_table_with_meta(outcomes_frame(result.outcomes), table, {}, overwrite=overwrite)
    head = {
        "format": RESULT_FORMAT,
        "version": RESULT_VERSION,
        "product": result.product,
        "product_value": result.product_value,
        "provenance": result.provenance.to_dict(),
        "outcomes_sha256": hashlib.sha256(table.read_bytes()).hexdigest(),
    }
    text = json.dumps(head, indent=2, sort_keys=True)

    def write(file: Path) -> None:
        file.write_text(text, encoding="utf-8")

    write_atomic(
        target / RESULT_FILES[0],
        write,
        overwrite=overwrite,
        error=CampaignError,
        hint="pass overwrite=True or use another folder",
    )
    return target


def load_result(folder: str | os.PathLike[str]) -> CampaignResult:
    """Read a result written by :func:`save_result` (its ``context`` is ``None``).

    Raises
    ------
    CampaignError
        The folder or a file is missing, the table does not match the hash recorded in
        ``result.json``, or a file is not a campaign result.
    """
    target = _folder(folder, create=False)
    head_path, table = target / RESULT_FILES[0], target / RESULT_FILES[1]
    for path in (head_path, table):
        if not path.is_file():
            raise CampaignError(
                f"{path}: must exist in a saved campaign result. Got no such file. Hint: "
                "save it with advisor.campaigns.save_result."
            )
    try:
        head = json.loads(head_path.read_text(encoding="utf-8"))
        if head.get("format") != RESULT_FORMAT or head.get("version") != RESULT_VERSION:
            raise ValueError(f"format {head.get('format')!r} version {head.get('version')!r}")
        recorded = head["provenance"]
        provenance = Provenance(**(recorded | {"engines_used": tuple(recorded["engines_used"])}))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CampaignError(
            f"{head_path}: must be a campaign result ({RESULT_FORMAT} {RESULT_VERSION}). "
            f"Got {str(exc)[:200]}."
        ) from exc
    if hashlib.sha256(table.read_bytes()).hexdigest() != head.get("outcomes_sha256"):
        raise CampaignError(
            f"{table}: must match the SHA-256 recorded in {RESULT_FILES[0]}. Got another file "
            "(edited or from another result)."
        )
    frame, _ = read_table_with_meta(table)
    return CampaignResult(
        product=head["product"],
        outcomes=tuple(outcomes_from_frame(frame, str(table))),
        product_value=head["product_value"],
        provenance=provenance,
    )


def _folder(folder: str | os.PathLike[str], *, create: bool) -> Path:
    if not isinstance(folder, (str, os.PathLike)):
        raise CampaignError(f"folder: must be a path. Got {type(folder).__name__}.")
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise CampaignError(f"folder {path}: must be a folder. Got a file.")
    if not path.exists():
        if not create:
            raise CampaignError(f"folder {path}: must exist. Got no such folder.")
        if not path.parent.is_dir():
            raise CampaignError(
                f"folder {path}: must be in an existing folder. Got no folder {path.parent}. "
                "Hint: create it first."
            )
        path.mkdir()
    return path
