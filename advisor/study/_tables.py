"""The study's tidy tables: their columns, the rows collected, and writing them (parquet + CSV)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TABLES", "Tables", "write_tables"]

TABLES: dict[str, tuple[str, ...]] = {
    "explanations": (
        "dataset", "model", "method", "client", "rerun", "seed", "feature", "weight", "rank",
        "role", "scale", "runtime_s",
    ),
    "curves": ("dataset", "model", "method", "client", "curve", "k", "output"),
    "metrics": ("dataset", "model", "method", "metric", "value", "n"),
    "agreement": ("dataset", "model", "method_a", "method_b", "spearman"),
    "levers_agreement": ("client", "product", "method", "share"),
}  # fmt: skip
"""Each table written to the study folder and its columns, in order (the report reads them)."""

_TYPES: dict[str, str] = {
    "rerun": "int64", "seed": "Int64", "rank": "int64", "k": "int64", "n": "int64",
    "weight": "float64", "runtime_s": "float64", "output": "float64", "value": "float64",
    "spearman": "float64", "share": "float64",
}  # fmt: skip


@dataclass(slots=True)
class Tables:
    """Rows collected during a run, one list per table, and what was skipped and why."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in TABLES}
    )
    skipped: list[dict[str, str]] = field(default_factory=list)

    def add(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Append ``rows`` to ``table``."""
        self.rows[table].extend(rows)

    def skip(self, dataset: str, model: str, method: str, reason: str) -> None:
        """Record that ``method`` did not run on ``dataset`` x ``model``, and why."""
        self.skipped.append(
            {"dataset": dataset, "model": model, "method": method, "reason": reason}
        )

    def metric(self, where: tuple[str, str, str], name: str, values: list[float]) -> None:
        """Record the mean of the finite ``values`` of one metric (``n``: how many)."""
        finite = [float(v) for v in values if np.isfinite(v)]
        dataset, model, method = where
        self.rows["metrics"].append(
            {
                "dataset": dataset,
                "model": model,
                "method": method,
                "metric": name,
                "value": float(np.mean(finite)) if finite else float("nan"),
                "n": len(finite),
            }
        )

    def frame(self, table: str) -> pd.DataFrame:
        """Return ``table`` as a frame with its columns in order and fixed types."""
        frame = pd.DataFrame(self.rows[table], columns=list(TABLES[table]))
        for column in frame.columns:
            kind: Any = _TYPES.get(column, "string")
            frame[column] = frame[column].astype(kind)
        return frame


def write_tables(tables: Tables, out: Path, study: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Write every table as ``<name>.parquet`` and ``<name>.csv``, and ``study.json``."""
    out.mkdir(parents=True, exist_ok=True)
    frames = {name: tables.frame(name) for name in TABLES}
    for name, frame in frames.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
        frame.to_csv(out / f"{name}.csv", index=False)
    (out / "study.json").write_text(json.dumps(study, indent=2, sort_keys=True) + "\n")
    return frames
