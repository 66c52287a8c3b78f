"""The audit record of one advice served: what was shown, to whom, from which model and data.

:func:`advice_record` builds the payload an :class:`~advisor.audit.AuditStore` appends: who
asked, the client (its key and its business values, needed to replay), every field of the
:class:`~advisor.levers.Advice` (read generically, so a field added to ``Advice`` lands in the
record), the evidence shown, the advisor's options, where the model and the reference data
come from (paths and SHA-256) and the library versions. Everything is plain JSON data: NaN is
``None``, numpy scalars are Python numbers, tables are lists of rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import getpass
import hashlib
import math
import os
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.errors import AdvisorError

if TYPE_CHECKING:
    import pandas as pd

    from advisor.audit._store import AuditRecord, AuditStore
    from advisor.evidence import Evidence
    from advisor.levers import Advice, Advisor

__all__ = [
    "LIBRARIES",
    "RECORD_KEYS",
    "RECORD_KIND",
    "ReferenceSource",
    "ShownEvidence",
    "advice_record",
    "current_user",
    "library_versions",
    "plain",
    "record_advice",
    "reference_sha256",
]

RECORD_KIND = "advice"
#: The distributions whose versions every record holds (``None``: not installed).
LIBRARIES = ("levers", "numpy", "pandas", "scikit-learn", "xgboost", "torch")
#: Record keys outside the advice's own fields (an Advice field may not take one).
RECORD_KEYS = frozenset(
    {"kind", "who", "client_id", "language", "evidence", "options", "provenance", "versions"}
)
_DEMO = "demo:"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceSource:
    """Where the advisor's reference clients were read from, so a replay reads them again.

    Parameters
    ----------
    source
        What :func:`advisor.datasets.read_clients` read (a path, a data set name, a SQL URL),
        or ``demo:n_clients=N,seed=S`` for the demo portfolio.
    id_column, encoding, decimal
        The reading options given (``None``: detected, as when the advice was served).
    """

    source: str
    id_column: str | None = None
    encoding: str | None = None
    decimal: str | None = None

    @classmethod
    def demo(cls, n_clients: int, seed: int) -> ReferenceSource:
        """Return the source of the demo portfolio of ``n_clients`` clients drawn with ``seed``."""
        return cls(source=f"{_DEMO}n_clients={n_clients},seed={seed}")

    @property
    def demo_settings(self) -> tuple[int, int] | None:
        """``(n_clients, seed)`` of a demo source, else ``None``."""
        if not self.source.startswith(_DEMO):
            return None
        try:
            parts = dict(p.split("=", 1) for p in self.source[len(_DEMO) :].split(","))
            return int(parts["n_clients"]), int(parts["seed"])
        except (KeyError, ValueError) as exc:
            raise AdvisorError(
                f"reference source: must read demo:n_clients=N,seed=S. Got {self.source!r}."
            ) from exc

    def to_dict(self) -> dict[str, str | None]:
        """Return the source as plain data (the record's ``provenance.reference``)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceSource:
        """Return the source recorded by :meth:`to_dict`."""
        source = data.get("source")
        if not isinstance(source, str):
            raise AdvisorError(f"reference source: must be text. Got {source!r}.")
        return cls(
            source=source,
            id_column=data.get("id_column"),
            encoding=data.get("encoding"),
            decimal=data.get("decimal"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ShownEvidence:
    """The evidence shown next to an advice: for lever ``lever`` (``None``: the client today)."""

    evidence: Evidence
    lever: int | None
    k: int = 10


def current_user() -> str:
    """Return the OS user running this process (``"unknown"`` when the system cannot say)."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name and no passwd entry
        name = ""
    return name or os.environ.get("USERNAME", "") or "unknown"


def library_versions() -> dict[str, str | None]:
    """Return the installed version of each of :data:`LIBRARIES` (``None``: not installed)."""
    found: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


_REFERENCE_HASHES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def reference_sha256(frame: pd.DataFrame) -> str:
    """Return the SHA-256 of a reference frame: its column names, index and values, in order.

    Row hashes are :func:`pandas.util.hash_pandas_object` of the frame with its index; the
    column names and dtypes are hashed with them, so a renamed or retyped column changes it.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise AdvisorError(f"reference: must be a DataFrame. Got {type(frame).__name__}.")
    try:
        cached = _REFERENCE_HASHES.get(frame)
    except TypeError:  # not weak-referenceable
        cached = None
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    header = "\n".join(f"{c}\t{t}" for c, t in zip(frame.columns, frame.dtypes, strict=True))
    digest.update(header.encode("utf-8"))
    rows = pd.util.hash_pandas_object(frame, index=True, categorize=False)
    digest.update(rows.to_numpy(dtype="uint64").tobytes())
    found = digest.hexdigest()
    with contextlib.suppress(TypeError):  # not weak-referenceable: not cached
        _REFERENCE_HASHES[frame] = found
    return found


def plain(value: Any) -> Any:
    """Return ``value`` as plain JSON data.

    Dataclasses become objects of their fields (all of them, read with
    :func:`dataclasses.fields`), mappings objects with text keys, tuples and lists lists,
    a Series an object, a DataFrame a list of rows, enums their value, numpy scalars Python
    numbers, NaN, infinities and missing values ``None``, dates ISO-8601 text.
    """
    import numpy as np
    import pandas as pd

    if isinstance(value, np.generic):  # before float: numpy's float64 is a float
        return plain(value.item())
    if isinstance(value, enum.Enum):  # before str: a Status is a str
        return plain(value.value)
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, pd.DataFrame):
        return [
            {str(k): plain(v) for k, v in zip(value.columns, row, strict=True)}
            for row in value.itertuples(index=False, name=None)
        ]
    if isinstance(value, pd.Series):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def advice_data(advice: Advice) -> dict[str, Any]:
    """Return every field of ``advice`` as plain data (the record's advice part)."""
    data: dict[str, Any] = plain(advice)
    clash = sorted(RECORD_KEYS & set(data))
    if clash:  # a new Advice field must not take a record key
        raise AdvisorError(f"Advice: field {clash[0]!r} clashes with the audit record's own key.")
    return data


def _client_values(advice: Advice, client_id: str | None, key: str | None) -> dict[str, Any]:
    """Return the client's values; with hashed ids, the id is replaced by its key."""
    values: dict[str, Any] = plain(advice.client)
    if client_id is None or key is None or key == client_id:
        return values
    return {name: key if value == client_id else value for name, value in values.items()}


def advice_record(
    advice: Advice,
    advisor: Advisor,
    *,
    store: AuditStore,
    who: str,
    language: str | None,
    client_id: str | None = None,
    evidence: ShownEvidence | None = None,
    source: ReferenceSource | None = None,
) -> dict[str, Any]:
    """Return the audit payload of one advice served (docs/audit.md lists its keys).

    Parameters
    ----------
    advice, advisor
        The advice served and the advisor that computed it.
    store
        The store the record goes to (it turns ``client_id`` into its key).
    who
        Who was shown the advice (the app's user, the advisor's name, or the OS user).
    language
        The language the texts were shown in (``None``: not shown, e.g. the Python API).
    client_id
        The client's id as given (``None``: the client was given as values).
    evidence
        The evidence shown with the advice, if any.
    source
        Where the advisor's reference clients were read from (``None``: not known; a
        replay then needs them given).
    """
    from advisor.levers import Advice, check_language

    if not isinstance(advice, Advice):
        raise AdvisorError(f"advice: must be an Advice. Got {type(advice).__name__}.")
    if not isinstance(who, str) or not who.strip():
        raise AdvisorError(f"who: must be a non-empty name. Got {who!r}.")
    if language is not None:
        check_language(language)
    key = None if client_id is None else store.client_key(client_id)
    data = advice_data(advice)
    data["client"] = _client_values(advice, client_id, key)
    provenance = advisor.provenance
    reference = advisor.reference
    return {
        "kind": RECORD_KIND,
        "who": who.strip(),
        "client_id": key,
        "language": language,
        **data,
        "evidence": None if evidence is None else evidence_data(evidence),
        "options": plain(dict(advisor.options)),
        "provenance": {
            "bundle": None if provenance is None else provenance.path,
            "bundle_sha256": None if provenance is None else provenance.card_sha256,
            "constraints_sha256": None if provenance is None else provenance.constraints_sha256,
            "reference": None if source is None else source.to_dict(),
            "reference_sha256": None if reference is None else reference_sha256(reference),
        },
        "versions": library_versions(),
    }


def evidence_data(shown: ShownEvidence) -> dict[str, Any]:
    """Return the evidence shown as plain data: the lever, ``k``, and every Evidence field."""
    return {"lever": shown.lever, "k": shown.k, **plain(shown.evidence)}


def record_advice(
    store: AuditStore,
    advice: Advice,
    advisor: Advisor,
    *,
    who: str | None = None,
    language: str | None = None,
    client_id: str | None = None,
    evidence: ShownEvidence | None = None,
    source: ReferenceSource | None = None,
) -> AuditRecord:
    """Append the record of ``advice`` to ``store`` and return it (``who``: the OS user)."""
    payload = advice_record(
        advice,
        advisor,
        store=store,
        who=current_user() if who is None else who,
        language=language,
        client_id=client_id,
        evidence=evidence,
        source=source,
    )
    return store.append(payload)
