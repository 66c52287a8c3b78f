"""alibi's counterfactuals with reinforcement learning (CFRL) as a comparison baseline.

alibi >= 0.9.5 is BSL-1.1 licensed and pins numpy < 2, so it never shares our environment:
``benchmarks/setup_alibi_env.sh`` creates its own virtualenv (``.venv-alibi``, or the path in
``LEVERS_ALIBI_ENV``), and :class:`AlibiCFRL` runs ``_alibi_runner.py`` there as a subprocess:

- the data (training clients and the clients to explain, as codes) go to a temporary folder
  as Parquet files, the settings as JSON (never pickle);
- the runner trains alibi's heterogeneous autoencoder and ``CounterfactualRLTabular`` (torch
  backend), then explains each client;
- the model stays here: whenever alibi calls its predictor, the runner sends the rows
  through its stdout and reads the probabilities back from its stdin (raw float64 arrays),
  so alibi scores with the real model, as DiCE and our engines do.

The constraint set becomes alibi's options: immutable features (not mutable, or derived),
global ``ranges`` from directions (increase: [0, 1], decrease: [-1, 0]) and, per client,
a condition with the reachable deltas and categories of :meth:`ConstraintSet.bounds_for`.
Rules, ``max_changes``, steps and derived features stay out of reach, as for DiCE.
"""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from constraints import ConstraintSet
from counterfactuals import CounterfactualError, FeatureSpace, Target, adapt

__all__ = ["AlibiAnswer", "AlibiCFRL", "alibi_available", "alibi_python"]

FloatArray = NDArray[np.float64]
ENV_VARIABLE = "LEVERS_ALIBI_ENV"
_RUNNER = Path(__file__).with_name("_alibi_runner.py")
_HINT = "Hint: run benchmarks/setup_alibi_env.sh (or set LEVERS_ALIBI_ENV)."


def alibi_python() -> Path | None:
    """Return the alibi virtualenv's python (``$LEVERS_ALIBI_ENV`` or ``.venv-alibi``), if any."""
    root = os.environ.get(ENV_VARIABLE) or str(Path(__file__).resolve().parents[2] / ".venv-alibi")
    python = Path(root) / "bin" / "python"
    return python if python.is_file() else None


def alibi_available() -> bool:
    """Whether the alibi virtualenv exists (see ``benchmarks/setup_alibi_env.sh``)."""
    return alibi_python() is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlibiAnswer:
    """alibi's counterfactuals for one client (codes, possibly none), its time and message."""

    codes: FloatArray
    elapsed_s: float
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlibiCFRL:
    """alibi's ``CounterfactualRLTabular`` (torch backend), trained and run in its virtualenv.

    Parameters
    ----------
    constraints
        The constraint set (its features are the model's features, in order).
    model
        The model: anything :func:`counterfactuals.adapt` accepts; it stays in this process
        and answers the runner's predictor calls on codes.
    train_steps
        CFRL's training steps (alibi's default is 100,000; its examples use 10,000+).
    ae_epochs
        Epochs of the heterogeneous autoencoder CFRL searches the latent space of.
    latent_dim, hidden_dim, batch_size
        Autoencoder and training sizes (alibi's Adult example: 15, 128, 100).
    coeff_sparsity, coeff_consistency
        CFRL's loss coefficients (alibi's Adult example: 0.5, 0.5).
    patience
        Diversity search iterations per client when more than one counterfactual is asked.
    seed
        Seed of alibi, torch and the autoencoder's training.
    """

    constraints: ConstraintSet
    model: Any
    train_steps: int = 10_000
    ae_epochs: int = 10
    latent_dim: int = 15
    hidden_dim: int = 128
    batch_size: int = 100
    coeff_sparsity: float = 0.5
    coeff_consistency: float = 0.5
    patience: int = 200
    seed: int = 0

    def run(
        self, data: Any, clients: Any, target: Target, *, n: int = 5
    ) -> tuple[list[AlibiAnswer], float]:
        """Train CFRL on ``data`` and explain each client; return the answers and fit time.

        Parameters
        ----------
        data
            Training clients (business values or codes).
        clients
            The clients to explain (business values or codes).
        target
            A probability target (a flip on a binary model is its probability at 0.5):
            alibi aims at "class 1" of a predictor that answers ``0.5 + slack``.
        n
            Counterfactuals per client (alibi's diversity search when > 1).

        Raises
        ------
        CounterfactualError
            When the alibi virtualenv is missing or the runner fails.
        """
        python = alibi_python()
        if python is None:
            raise CounterfactualError(f"AlibiCFRL: needs the alibi virtualenv. Got none. {_HINT}")
        cs = self.constraints
        adapter = adapt(self.model, FeatureSpace.from_constraints(cs), remember=False)
        train, queries = cs.to_array(data), cs.to_array(clients)
        bound = target.bind(adapter.outputs, adapter.proba_codes(queries[:1])[0], ranked=False)

        def predict(codes: FloatArray) -> FloatArray:
            slack = bound.slack(np.asarray(adapter.proba_codes(codes), dtype=np.float64))
            reached = np.clip(0.5 + slack, 0.0, 1.0)
            return np.column_stack([1.0 - reached, reached])

        with tempfile.TemporaryDirectory(prefix="levers-alibi-") as folder:
            work = Path(folder)
            names = [str(j) for j in range(cs.n_features)]
            pd.DataFrame(train, columns=names).to_parquet(work / "train.parquet")
            pd.DataFrame(queries, columns=names).to_parquet(work / "clients.parquet")
            spec = self._spec(train, queries, n)
            (work / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
            _run_runner(python, work, predict)
            answers, fit_seconds = _answers(work, cs.n_features, len(queries))
        return [self._keep_fixed(q, a) for q, a in zip(queries, answers, strict=True)], fit_seconds

    def _keep_fixed(self, client: FloatArray, answer: AlibiAnswer) -> AlibiAnswer:
        """Write back the features alibi was told to keep (its float32 round trip moves them)."""
        cs = self.constraints
        derived = [s.name in {d.feature for d in cs.derived} for s in cs.features]
        movable = cs.bounds_for(client[None, :]).movable & cs.mutable & ~np.array(derived)
        codes = np.where(movable, answer.codes, client)
        return AlibiAnswer(codes=codes, elapsed_s=answer.elapsed_s, message=answer.message)

    def _spec(self, train: FloatArray, queries: FloatArray, n: int) -> dict[str, Any]:
        cs = self.constraints
        coded = [s.kind in ("binary", "categorical", "ordinal") for s in cs.features]
        derived = {d.feature for d in cs.derived}
        immutable = [
            s.name
            for s, m in zip(cs.features, cs.mutable, strict=True)
            if not m or s.name in derived
        ]
        directions = {"increase": [0.0, 1.0], "decrease": [-1.0, 0.0]}
        return {
            "feature_names": list(cs.feature_names),
            "category_map": {
                str(j): [str(k) for k in range(_n_codes(s))]
                for j, s in enumerate(cs.features)
                if coded[j]
            },
            "integer": [s.name for s in cs.features if s.kind == "integer"],
            "immutable": immutable,
            "ranges": {
                s.name: directions[s.direction]
                for s, c in zip(cs.features, coded, strict=True)
                if not c and s.direction in directions and s.name not in immutable
            },
            "conditions": [self._condition(q, train, coded) for q in queries],
            "n": n,
            "settings": {
                "train_steps": self.train_steps,
                "ae_epochs": self.ae_epochs,
                "latent_dim": self.latent_dim,
                "hidden_dim": self.hidden_dim,
                "batch_size": self.batch_size,
                "coeff_sparsity": self.coeff_sparsity,
                "coeff_consistency": self.coeff_consistency,
                "patience": self.patience,
                "seed": self.seed,
            },
        }

    def _condition(
        self, client: FloatArray, train: FloatArray, coded: list[bool]
    ) -> dict[str, list[Any]]:
        """Return alibi's per-client condition: reachable deltas and categories."""
        cs = self.constraints
        bounds = cs.bounds_for(client[None, :])
        out: dict[str, list[Any]] = {}
        for j, spec in enumerate(cs.features):
            if not cs.mutable[j]:
                continue
            current = float(client[j])
            if coded[j]:
                allowed = bounds.allowed[j]
                codes = set(allowed) if allowed is not None else _ranks(bounds, j)
                out[spec.name] = sorted({str(int(k)) for k in codes | {int(current)}})
                continue
            low = bounds.lower[j] if math.isfinite(bounds.lower[j]) else train[:, j].min()
            high = bounds.upper[j] if math.isfinite(bounds.upper[j]) else train[:, j].max()
            out[spec.name] = [min(float(low) - current, 0.0), max(float(high) - current, 0.0)]
        return out


def _ranks(bounds: Any, j: int) -> set[int]:
    """Return the ranks from ``lower`` to ``upper`` of an ordinal feature."""
    return set(range(math.ceil(bounds.lower[j]), math.floor(bounds.upper[j]) + 1))


def _n_codes(spec: Any) -> int:
    return 2 if spec.kind == "binary" else len(spec.categories)


def _read(stream: IO[bytes], size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _run_runner(python: Path, work: Path, predict: Callable[[FloatArray], FloatArray]) -> None:
    """Start the runner and answer its predictor calls until it says it is done."""
    log = work / "runner.log"
    with log.open("wb") as errors:
        process = subprocess.Popen(
            [str(python), str(_RUNNER), str(work)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        stdin, stdout = process.stdin, process.stdout
        if stdin is None or stdout is None:  # pragma: no cover - pipes were requested
            raise CounterfactualError("AlibiCFRL: the runner's pipes must be open. Got none.")
        try:
            while (tag := stdout.read(1)) == b"P":
                rows, cols = struct.unpack("<qq", _read(stdout, 16))
                x = np.frombuffer(_read(stdout, rows * cols * 8), dtype="<f8")
                y = np.ascontiguousarray(predict(x.reshape(rows, cols)), dtype="<f8")
                stdin.write(struct.pack("<qq", *y.shape) + y.tobytes())
                stdin.flush()
        except (EOFError, BrokenPipeError):
            tag = b""
        finally:
            code = process.wait()
    if tag != b"D" or code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise CounterfactualError(
            f"AlibiCFRL: the runner must finish cleanly. Got exit code {code}:\n{tail}"
        )


def _answers(work: Path, d: int, n_clients: int) -> tuple[list[AlibiAnswer], float]:
    report = json.loads((work / "report.json").read_text(encoding="utf-8"))
    if os.environ.get("LEVERS_ALIBI_LOG"):  # keep the runner's log for a look
        Path(os.environ["LEVERS_ALIBI_LOG"]).write_bytes((work / "runner.log").read_bytes())
    frame = pd.read_parquet(work / "results.parquet")
    codes = frame[[str(j) for j in range(d)]].to_numpy(dtype=np.float64)
    owner = frame["client"].to_numpy()
    answers = [
        AlibiAnswer(
            codes=codes[owner == i].reshape(-1, d),
            elapsed_s=float(report["seconds"][i]),
            message=str(report["messages"][i]),
        )
        for i in range(n_clients)
    ]
    return answers, float(report["fit_seconds"])
