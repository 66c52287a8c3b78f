"""Run alibi's CounterfactualRLTabular in the alibi virtualenv (started by ``alibi_cfrl.py``).

Usage: ``<alibi env>/bin/python _alibi_runner.py FOLDER``. FOLDER holds ``spec.json``,
``train.parquet`` and ``clients.parquet`` (codes, one column per feature); the runner writes
``results.parquet`` (one row per counterfactual, with its client's position) and
``report.json`` (fit time, time and message per client).

The predictor lives in the parent process: each call writes ``b"P"`` + (rows, cols) as two
little-endian int64 + the float64 rows to the original stdout and reads (rows, cols) + the
float64 probabilities back from stdin; ``b"D"`` says the run is over. Everything alibi,
torch and tqdm print goes to stderr (the parent's log).

This file imports only the standard library at module level: our own packages (numpy >= 2)
are not installed in the alibi environment, and alibi is not installed in ours.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time
from pathlib import Path
from typing import IO, Any


def _read(stream: IO[bytes], size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the parent closed the predictor pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class _RemotePredictor:
    """alibi's predictor: rows go to the parent through the protocol pipes."""

    def __init__(self, out: IO[bytes], into: IO[bytes]) -> None:
        self.out, self.into = out, into
        self.calls, self.seconds = 0, 0.0

    def __call__(self, x: Any) -> Any:
        import numpy as np

        start = time.perf_counter()
        rows = np.ascontiguousarray(np.asarray(x, dtype="<f8").reshape(len(x), -1))
        self.out.write(b"P" + struct.pack("<qq", *rows.shape) + rows.tobytes())
        self.out.flush()
        n, k = struct.unpack("<qq", _read(self.into, 16))
        proba = np.frombuffer(_read(self.into, n * k * 8), dtype="<f8").reshape(n, k).copy()
        self.calls += 1
        self.seconds += time.perf_counter() - start
        return proba


def _autoencoder(x: Any, spec: dict[str, Any], preprocess: Any) -> Any:
    """Train alibi's heterogeneous autoencoder (numeric head + one head per category)."""
    import numpy as np
    import torch
    from alibi.models.pytorch import ADULTDecoder, ADULTEncoder, HeAE
    from torch.utils.data import DataLoader, TensorDataset

    settings = spec["settings"]
    cat_ids = sorted(int(j) for j in spec["category_map"])
    num_ids = [j for j in range(x.shape[1]) if j not in cat_ids]
    inputs = preprocess(x).astype(np.float32)
    outputs: list[Any] = []
    dims: list[int] = []
    losses: list[Any] = []
    if num_ids:
        outputs.append(torch.tensor(inputs[:, : len(num_ids)]))
        dims.append(len(num_ids))
        losses.append(torch.nn.MSELoss())
    for j in cat_ids:
        outputs.append(torch.tensor(x[:, j].astype(np.int64)))
        dims.append(len(spec["category_map"][str(j)]))
        losses.append(torch.nn.CrossEntropyLoss())
    weights = [1.0] * (1 if num_ids else 0) + [1.0 / max(len(cat_ids), 1)] * len(cat_ids)
    model = HeAE(
        encoder=ADULTEncoder(hidden_dim=settings["hidden_dim"], latent_dim=settings["latent_dim"]),
        decoder=ADULTDecoder(hidden_dim=settings["hidden_dim"], output_dims=dims),
    )
    model.compile(
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
        loss=losses,
        loss_weights=weights,
        metrics={},  # alibi wants a dict (even empty) for a model with several heads
    )
    loader = DataLoader(
        TensorDataset(torch.tensor(inputs), *outputs),
        batch_size=settings["batch_size"],
        shuffle=True,
    )
    model.fit(loader, epochs=settings["ae_epochs"])
    return model


def _explainer(x: Any, spec: dict[str, Any], predictor: _RemotePredictor) -> Any:
    from alibi.explainers import CounterfactualRLTabular
    from alibi.explainers.backends.cfrl_tabular import get_he_preprocessor

    settings = spec["settings"]
    category_map = {int(j): labels for j, labels in spec["category_map"].items()}
    names = spec["feature_names"]
    preprocess, inverse = get_he_preprocessor(
        X=x,
        feature_names=names,
        category_map=category_map,
        feature_types=dict.fromkeys(spec["integer"], int),
    )
    ae = _autoencoder(x, spec, preprocess)
    explainer = CounterfactualRLTabular(
        predictor=predictor,
        encoder=ae.encoder,
        decoder=ae.decoder,
        latent_dim=settings["latent_dim"],
        encoder_preprocessor=preprocess,
        decoder_inv_preprocessor=inverse,
        coeff_sparsity=settings["coeff_sparsity"],
        coeff_consistency=settings["coeff_consistency"],
        feature_names=names,
        category_map=category_map,
        immutable_features=spec["immutable"],
        ranges=spec["ranges"],
        train_steps=settings["train_steps"],
        batch_size=settings["batch_size"],
        num_workers=0,  # workers would call the predictor from other processes
        backend="pytorch",
        seed=settings["seed"],
    )
    return explainer.fit(X=x)


def _explain(
    explainer: Any, clients: Any, spec: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    import numpy as np

    n, patience = spec["n"], spec["settings"]["patience"]
    found, seconds, messages = [], [], []
    for i, condition in enumerate(spec["conditions"]):
        start = time.perf_counter()
        try:
            answer = explainer.explain(
                X=clients[i : i + 1],
                Y_t=np.array([1]),
                C=[condition],
                diversity=n > 1,
                num_samples=n,
                patience=patience,
            )
            cf = np.asarray(answer.data["cf"]["X"], dtype=np.float64).reshape(-1, clients.shape[1])
            found.append(cf[np.isfinite(cf).all(axis=1)])
            messages.append("" if len(found[-1]) else "alibi returned no counterfactual")
        except Exception as exc:  # one client's failure is its answer; the others go on
            found.append(np.empty((0, clients.shape[1])))
            messages.append(f"{type(exc).__name__}: {exc}")
        seconds.append(time.perf_counter() - start)
    return found, {"seconds": seconds, "messages": messages}


def main(folder: Path) -> None:
    """Train, explain, write the results; talk to the parent through the saved stdout."""
    import numpy as np
    import pandas as pd
    import torch

    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # alibi's and tqdm's prints must not reach the protocol pipe
    spec = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
    torch.manual_seed(spec["settings"]["seed"])
    train = pd.read_parquet(folder / "train.parquet").to_numpy(dtype=np.float64)
    clients = pd.read_parquet(folder / "clients.parquet").to_numpy(dtype=np.float64)
    predictor = _RemotePredictor(protocol_out, sys.stdin.buffer)
    start = time.perf_counter()
    explainer = _explainer(train, spec, predictor)
    fit_seconds = time.perf_counter() - start
    print(
        f"fit: {fit_seconds:.1f} s, predictor {predictor.calls} calls, {predictor.seconds:.1f} s",
        file=sys.stderr,
    )
    found, report = _explain(explainer, clients, spec)
    columns = [str(j) for j in range(train.shape[1])]
    rows = [pd.DataFrame(cf, columns=columns).assign(client=i) for i, cf in enumerate(found)]
    pd.concat(rows, ignore_index=True).to_parquet(folder / "results.parquet")
    report["fit_seconds"] = fit_seconds
    report["predictor_calls"] = predictor.calls
    report["predictor_seconds"] = predictor.seconds
    (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")
    protocol_out.write(b"D")
    protocol_out.flush()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
