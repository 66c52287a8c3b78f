"""``campaign.json``: what ``levers campaign run`` writes beside the levers, and ``show`` reads.

One record per campaign folder: the command's options, the provenance, the totals, and the
global actions, fairness report and true effect as their own ``to_dict()`` (each ``None``
when it was not computed). The file is validated field by field when read (pydantic,
strict, no unknown key), so a missing, corrupt, foreign or edited file is one error line,
never a traceback.
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor._console import inert
from advisor.campaigns import CampaignResult, FairnessReport, GlobalActions
from advisor.errors import CampaignError

__all__ = [
    "FILE_NAME",
    "MAX_FILE_BYTES",
    "CampaignFile",
    "TrueEffectRecord",
    "campaign_record",
    "fairness_of",
    "global_actions_of",
    "json_safe",
    "product_label_of",
    "read_campaign_file",
]

FILE_NAME = "campaign.json"
FORMAT = "levers-campaign"
MAX_FILE_BYTES = 10 * 1024 * 1024
"""Largest ``campaign.json`` read (10 MB); a larger file is refused before it is read."""

Scalar = str | int | float | bool | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Totals(_Strict):
    """:class:`~advisor.campaigns.CampaignTotals` as plain data (quantile keys as text)."""

    n_segment: int = Field(ge=1)
    n_excluded: int = Field(ge=0)
    n_reached: int = Field(ge=0)
    n_searched: int = Field(ge=0)
    n_advised: int = Field(ge=0)
    n_none_proved: int = Field(ge=0)
    n_none_not_found: int = Field(ge=0)
    coverage: float = Field(ge=0.0, le=1.0)
    expected_extra_sales: float = Field(ge=0.0)
    expected_value: float | None
    cost_quantiles: dict[str, float]


class ProvenanceRecord(_Strict):
    """:class:`~advisor.campaigns.Provenance` as plain data (fields added later are kept)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True, allow_inf_nan=False)

    product: str
    engine: str
    engines_used: list[str]
    seed: int
    time_limit_s: float | None
    goal: float
    elapsed_s: float = Field(ge=0.0)
    library_version: str
    model_sha256: str | None
    constraints_sha256: str | None


class TrueEffectRecord(_Strict):
    """:class:`~advisor.campaigns.TrueEffect` as plain data (the demo's SCM against the model)."""

    product: str
    seed: int
    n_clients: int = Field(ge=0)
    levers_expected: float
    levers_true: float
    levers_ratio: float | None
    n_global: int | None = Field(ge=0)
    global_expected: float | None
    global_true: float | None
    global_ratio: float | None


class CampaignFile(_Strict):
    """The content of ``campaign.json`` (format ``levers-campaign``, version 1)."""

    format: Literal["levers-campaign"]
    version: Literal[1]
    created_at: str | None = None
    product: str
    product_label: str
    product_label_fr: str | None = None  # absent from files written before French output
    product_value: float | None
    currency: str | None
    options: dict[str, Scalar]
    provenance: ProvenanceRecord
    totals: Totals
    global_actions: dict[str, Any] | None
    fairness: dict[str, Any] | None
    true_effect: TrueEffectRecord | None
    warnings: list[str] = []
    files: dict[str, str]


def json_safe(value: Any) -> Any:
    """Return ``value`` with NaN written as ``None`` and infinities as ``"inf"`` / ``"-inf"``.

    Examples
    --------
    >>> json_safe({"a": [float("nan"), float("inf"), 1.5]})
    {'a': [None, 'inf', 1.5]}
    """
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def product_label_of(record: CampaignFile, language: str) -> str:
    """Return the product's name for advisors in ``language`` (French falls back to English)."""
    if language == "fr" and record.product_label_fr is not None:
        return record.product_label_fr
    return record.product_label


def global_actions_of(record: CampaignFile) -> GlobalActions | None:
    """Return the record's global actions (``None`` when it has none)."""
    data = record.global_actions
    return None if data is None else GlobalActions.from_dict(data)


def fairness_of(record: CampaignFile) -> FairnessReport | None:
    """Return the record's fairness report (``None`` when it has none)."""
    return None if record.fairness is None else FairnessReport.from_dict(record.fairness)


def campaign_record(
    result: CampaignResult,
    *,
    label: str,
    currency: str | None,
    options: dict[str, Scalar],
    extras: dict[str, dict[str, Any] | None],
    files: dict[str, str],
    warnings: list[str] | None = None,
    label_fr: str | None = None,
) -> CampaignFile:
    """Return the record of a finished run (validated like a file read back).

    ``label`` is the product's name for advisors in English, ``label_fr`` in French (printed
    by ``--lang fr``; ``None``: the English one).
    """
    totals = asdict(result.totals)
    totals["cost_quantiles"] = {f"{q:g}": v for q, v in result.totals.cost_quantiles.items()}
    record = {
        "format": FORMAT,
        "version": 1,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "product": result.product,
        "product_label": label,
        "product_label_fr": label_fr,
        "product_value": result.product_value,
        "currency": currency,
        "options": options,
        "provenance": result.provenance.to_dict(),
        "totals": totals,
        "global_actions": json_safe(extras.get("global_actions")),
        "fairness": extras.get("fairness"),
        "true_effect": extras.get("true_effect"),
        "warnings": list(warnings or ()),
        "files": files,
    }
    try:  # through JSON, so that what is printed now is exactly what `show` will read
        content = json.dumps(record, allow_nan=False, default=_plain)
    except (TypeError, ValueError) as exc:
        raise CampaignError(f"{FILE_NAME}: must hold JSON data only. Got {exc}.") from exc
    return _parse(content, FILE_NAME)


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    raise TypeError(f"not JSON data: {type(value).__name__}")


def _parse(content: str | bytes, where: str) -> CampaignFile:
    try:
        record = CampaignFile.model_validate_json(content)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)
        first = problems[0]
        loc = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise CampaignError(
            f"{where}: must be a campaign file written by levers campaign run (format "
            f"'{FORMAT}', version 1). Got {loc}: {first['msg']}{more}."
        ) from exc
    try:
        fairness_of(record)
        global_actions_of(record)
    except CampaignError as exc:
        raise CampaignError(f"{where}: {exc}") from exc
    return record


def read_campaign_file(folder: Path) -> CampaignFile:
    """Read and validate ``folder/campaign.json``; any problem is one :class:`CampaignError`."""
    path = folder / FILE_NAME
    where = inert(path)
    if not folder.is_dir():
        raise CampaignError(
            f"{inert(folder)}: must be a campaign folder (written by levers campaign run). "
            "Got no such folder."
        )
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise CampaignError(f"{where}: must be a regular file. Got another kind of file.")
        if info.st_size > MAX_FILE_BYTES:
            raise CampaignError(
                f"{where}: must be at most {MAX_FILE_BYTES:,} bytes (10 MB). Got "
                f"{info.st_size:,} bytes."
            )
        with path.open("rb") as file:
            content = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError as exc:
        raise CampaignError(
            f"{where}: must exist (levers campaign run writes it last, when the run is "
            "complete). Got no such file. Hint: run the campaign, or --resume it."
        ) from exc
    except OSError as exc:
        raise CampaignError(f"{where}: must be readable. Got {exc.strerror}.") from exc
    return _parse(content, where)
