"""Replay an audit record: recompute the advice from the same bundle, data and options.

:func:`replay` reloads the bundle and the reference data the record names, refuses in one
line when one of them is no longer what the record hashed, rebuilds the advisor with the
recorded options, advises the recorded client for the recorded product, and compares every
recorded field (floats bit for bit) except when and how long (``timestamp``, ``elapsed_s``)
and who asked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.audit._record import (
    RECORD_KEYS,
    RECORD_KIND,
    ReferenceSource,
    ShownEvidence,
    advice_data,
    evidence_data,
    library_versions,
    reference_sha256,
)
from advisor.audit._store import AuditRecord
from advisor.errors import AdvisorError

if TYPE_CHECKING:
    import pandas as pd

    from advisor.levers import Advice, Advisor
    from advisor.models import ModelBundle

__all__ = ["ReplayReport", "replay"]

#: Advice fields a replay does not compare: how long the search took.
NOT_COMPARED = frozenset({"elapsed_s"})
_SHOWN = 60  # characters of a value a difference shows at most


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayReport:
    """What a replay found.

    Attributes
    ----------
    record_id
        The record replayed.
    identical
        Whether every compared field is the same, floats bit for bit.
    differences
        Each difference in one line (``lever 2: score_after 0.8123 -> 0.8125``: recorded
        -> now); empty when ``identical``.
    notes
        Library versions that differ from the record's (``numpy 2.1.0 -> 2.2.0``): said,
        not counted as differences.
    """

    record_id: int
    identical: bool
    differences: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def text(self) -> str:
        """Return ``identical``, or one line per difference."""
        return "identical" if self.identical else "\n".join(self.differences)


def _refuse(what: str) -> AdvisorError:
    return AdvisorError(f"replay: {what}")


def _payload(record: object) -> Mapping[str, Any]:
    if not isinstance(record, AuditRecord):
        raise AdvisorError(
            f"record: must be an AuditRecord (AuditStore.get(id)). Got {type(record).__name__}."
        )
    payload = record.payload
    if payload.get("kind") != RECORD_KIND:
        raise _refuse(
            f"record {record.id} is not the record of an advice (kind {payload.get('kind')!r})."
        )
    return payload


def _short(digest: object) -> str:
    return f"{str(digest)[:12]}.."


def _bundle(payload: Mapping[str, Any], given: object, record_id: int) -> ModelBundle:
    from advisor.models import ModelBundle, load_bundle

    if isinstance(given, ModelBundle):
        return given
    path = given if given is not None else payload["provenance"].get("bundle")
    if path is None:
        raise _refuse(
            f"record {record_id} names no bundle (its advisor was not built with "
            "Advisor.from_bundle). Hint: give the bundle (--bundle DIR)."
        )
    if not isinstance(path, (str, Path)):
        raise AdvisorError(
            f"bundle: must be a bundle folder or a ModelBundle. Got {type(path).__name__}."
        )
    try:
        return load_bundle(Path(path))
    except AdvisorError as exc:
        raise _refuse(f"the bundle of record {record_id} does not open: {exc}") from exc


def _check_bundle(payload: Mapping[str, Any], bundle: ModelBundle, record_id: int) -> None:
    from advisor.levers import bundle_provenance

    recorded = payload["provenance"]
    now = bundle_provenance(bundle)
    for key, found, what in (
        (
            "bundle_sha256",
            now.card_sha256,
            "the bundle has changed since record {id}: model_card.json sha256 {old} now {new}",
        ),
        (
            "constraints_sha256",
            now.constraints_sha256,
            "the constraint file has changed since "
            "record {id}: constraints.yaml sha256 {old} now {new}",
        ),
    ):
        if recorded.get(key) != found:
            old, new = _short(recorded.get(key)), _short(found)
            raise _refuse(what.format(id=record_id, old=old, new=new) + f" ({bundle.path}).")


def _read_reference(source: ReferenceSource, bundle: ModelBundle, record_id: int) -> pd.DataFrame:
    from advisor.datasets import (
        INTERACTIVE_MAX_ROWS,
        index_clients,
        make_demo_portfolio,
        read_clients,
    )

    demo = source.demo_settings
    try:
        if demo is not None:  # the demo portfolio, drawn again as load_demo_advisor draws it
            portfolio = make_demo_portfolio(n_clients=demo[0], seed=demo[1])
            portfolio = portfolio.set_index("client_id", drop=False)
            portfolio.index.name = None
            return portfolio
        read = read_clients(
            source.source,
            max_rows=INTERACTIVE_MAX_ROWS,
            encoding=source.encoding,
            decimal=source.decimal,
        )
        return index_clients(read, source.id_column, recorded=bundle.id_column)
    except AdvisorError as exc:
        raise _refuse(f"the reference data of record {record_id} do not open: {exc}") from exc


def _reference(
    payload: Mapping[str, Any], given: object, bundle: ModelBundle, record_id: int
) -> pd.DataFrame | None:
    import pandas as pd

    provenance = payload["provenance"]
    recorded_hash = provenance.get("reference_sha256")
    if isinstance(given, pd.DataFrame):
        frame: pd.DataFrame | None = given
    elif isinstance(given, str):
        recorded = ReferenceSource.from_dict(provenance.get("reference") or {"source": given})
        source = ReferenceSource(
            source=given,
            id_column=recorded.id_column,
            encoding=recorded.encoding,
            decimal=recorded.decimal,
        )
        frame = _read_reference(source, bundle, record_id)
    elif given is not None:
        raise AdvisorError(
            f"reference: must be a DataFrame, a data source (text) or None. Got "
            f"{type(given).__name__}."
        )
    elif provenance.get("reference") is not None:
        source = ReferenceSource.from_dict(provenance["reference"])
        frame = _read_reference(source, bundle, record_id)
    elif recorded_hash is None:
        frame = None
    else:
        raise _refuse(
            f"record {record_id} does not say where its reference data were read from. "
            "Hint: give them (--data SOURCE, or reference= a DataFrame)."
        )
    found = None if frame is None else reference_sha256(frame)
    if found != recorded_hash:
        raise _refuse(
            f"the reference data have changed since record {record_id}: sha256 "
            f"{_short(recorded_hash)} now {_short(found)}"
        )
    return frame


def _advisor(
    payload: Mapping[str, Any], bundle: ModelBundle, frame: pd.DataFrame | None, record_id: int
) -> Advisor:
    from advisor.levers import ADVISOR_PARAMS, Advisor

    options = dict(payload["options"])
    unknown = sorted(set(options) - set(ADVISOR_PARAMS) - {"engine"})
    if unknown:
        raise _refuse(
            f"record {record_id} was made with option(s) {', '.join(unknown)} that this "
            "version of Levers does not know."
        )
    return Advisor.from_bundle(bundle, frame, **options)


def _client(payload: Mapping[str, Any]) -> pd.DataFrame:
    import pandas as pd

    values = {k: math.nan if v is None else v for k, v in payload["client"].items()}
    return pd.DataFrame([values])


def _replayed_evidence(
    advisor: Advisor, advice: Advice, recorded: Mapping[str, Any]
) -> dict[str, Any]:
    rank, k = recorded.get("lever"), int(recorded.get("k", 10))
    lever = None
    if rank is not None:
        if not 1 <= int(rank) <= len(advice.levers):
            return {"lever": rank, "k": k, "levers now": len(advice.levers)}
        lever = advice.levers[int(rank) - 1]
    found = advisor.evidence(advice, lever, k=k)
    return evidence_data(ShownEvidence(evidence=found, lever=rank, k=k))


def replay(record: AuditRecord, *, reference: Any = None, bundle: Any = None) -> ReplayReport:
    """Recompute a recorded advice and compare it with the record.

    Parameters
    ----------
    record
        An audit record of an advice (:meth:`AuditStore.get`).
    reference
        The reference clients: a DataFrame, or a data source read as the record says
        (path, data set, SQL URL); ``None``: the source the record names (the demo
        portfolio is drawn again from its size and seed).
    bundle
        The model bundle (a folder or a :class:`~advisor.models.ModelBundle`); ``None``:
        the folder the record names.

    Returns
    -------
    ReplayReport
        ``identical``, or every difference in one line each.

    Raises
    ------
    AdvisorError
        One line, ``replay: ...``, naming what no longer matches the record (the bundle's
        model card, its constraint file, the reference data) or cannot be read.
    """
    payload = _payload(record)
    models = _bundle(payload, bundle, record.id)
    _check_bundle(payload, models, record.id)
    frame = _reference(payload, reference, models, record.id)
    advisor = _advisor(payload, models, frame, record.id)
    n_levers = int(payload.get("search", {}).get("n_levers", 3))
    advice = advisor.advise(_client(payload), product=payload["product"], n_levers=n_levers)
    recorded = {k: v for k, v in payload.items() if k not in RECORD_KEYS | NOT_COMPARED}
    now = {k: v for k, v in advice_data(advice).items() if k not in NOT_COMPARED}
    differences = differences_between(recorded, now)
    if payload.get("evidence") is not None:
        shown = _replayed_evidence(advisor, advice, payload["evidence"])
        differences += differences_between({"evidence": payload["evidence"]}, {"evidence": shown})
    notes = tuple(
        f"{name} {old} -> {new}"
        for name, new in library_versions().items()
        if (old := payload.get("versions", {}).get(name)) != new
    )
    clock = [
        when
        for when, search in (("at record time", payload.get("search")), ("now", advice.search))
        if isinstance(search, dict) and search.get("timed_out")
    ]
    if clock:
        notes += (
            f"the search was stopped by its time limit ({' and '.join(clock)}): a search cut "
            "by the clock depends on the machine's load and may differ; for answers that "
            "replay bit for bit, give the advisor a time limit it does not reach "
            "(time_limit_s=None).",
        )
    return ReplayReport(
        record_id=record.id,
        identical=not differences,
        differences=tuple(differences),
        notes=notes,
    )


# ---------------------------------------------------------------- comparing plain data
def differences_between(recorded: Any, now: Any) -> list[str]:
    """Return each difference between two plain-data values, floats compared bit for bit."""
    found: list[str] = []
    _walk(recorded, now, (), found)
    return found


def _walk(old: Any, new: Any, path: tuple[str, ...], found: list[str]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new), key=str):
            if key not in new:
                found.append(f"{_label(path, str(key))}: recorded {_shown(old[key])}, not now")
            elif key not in old:
                found.append(f"{_label(path, str(key))}: not recorded, now {_shown(new[key])}")
            else:
                _walk(old[key], new[key], (*path, str(key)), found)
        return
    if _is_list(old) and _is_list(new):
        if len(old) != len(new):
            found.append(
                f"{_label(path[:-1], path[-1] if path else '')}: {len(old)} "
                f"recorded, {len(new)} now"
            )
        for i, (a, b) in enumerate(zip(old, new, strict=False)):
            _walk(a, b, (*path[:-1], _item(path[-1] if path else "", i)), found)
        return
    if not _same(old, new):
        start = _first_difference(old, new)
        label = _label(path[:-1], path[-1] if path else "")
        found.append(f"{label} {_shown(old, start)} -> {_shown(new, start)}")


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _same(old: Any, new: Any) -> bool:
    if type(old) is not type(new):
        return False
    if isinstance(old, float):
        return repr(old) == repr(new)
    return bool(old == new)


def _item(key: str, i: int) -> str:
    """``lever 2`` for the second of ``levers``; ``key[1]`` for a list of another name."""
    return f"{key[:-1]} {i + 1}" if key.endswith("s") and len(key) > 1 else f"{key}[{i}]"


def _label(path: tuple[str, ...], last: str) -> str:
    return ": ".join((*path, last)) if path else last


def _first_difference(old: Any, new: Any) -> int:
    """Where two texts first differ (0 for anything else): long texts are shown from there."""
    if not (isinstance(old, str) and isinstance(new, str)):
        return 0
    same = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), None)
    return min(len(old), len(new)) if same is None else same


def _shown(value: Any, start: int = 0) -> str:
    """Return a value as a difference shows it: floats in full, long texts around ``start``."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str) and len(value) > _SHOWN:
        begin = max(0, start - _SHOWN // 3)
        part = value[begin : begin + _SHOWN]
        return json.dumps(f"{'...' * (begin > 0)}{part}{'...' * (begin + _SHOWN < len(value))}")
    text = json.dumps(value, default=str)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 3]}..."
