"""Influence functions for the torch MLP: a damped EK-FAC Gauss-Newton Hessian.

With ``f(x; theta)`` the positive-class logit and ``p_i = sigmoid(f(x_i))``, the Gauss-Newton
(GGN) Hessian of the summed log-loss is ``H = sum_i p_i (1 - p_i) g_i g_i'`` with
``g_i = grad_theta f(x_i)``; it is positive semi-definite even away from a minimum (the network
is early-stopped, and AdamW's decoupled weight decay is not an L2 term of the loss). Following
Koh & Liang (2017), the *presence* of training client ``i`` changes the margin of client ``x`` by

    (y_i - p_i) g_x' (H + lambda I)^-1 g_i.

``H`` is approximated per ``Linear`` layer by EK-FAC (George et al., 2018; as in Grosse et al.,
2023): a layer's gradient is ``delta a~'`` (output sensitivity times the input with a 1 for the
bias); the eigenvectors of ``sum a~ a~'`` and ``sum p (1 - p) delta delta'`` give a basis in
which the layer's block is taken diagonal, with its exact eigenvalues ``sum_i p_i (1 - p_i)
(Q_S' delta_i)^2 (Q_A' a~_i)^2'``. The damping ``lambda`` is :data:`DAMPING` times the mean
eigenvalue (the mean diagonal of ``H``): heavy damping matches what early-stopped retraining
does much better than a near-exact inverse (remove-and-retrain check in
``benchmarks/influence_faithfulness.py``).

The training rows' sensitivities and inputs, rotated into those bases, are kept (a few hundred
numbers per row), so a client costs one backward pass and, per layer, a product with them. Rows
the network held out for early stopping did not enter its loss: their influence is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from advisor.errors import ModelError
from advisor.evidence._influence_logistic import check_scaler_rows
from advisor.models import TorchMLPClassifier, early_stopping_split

__all__ = ["DAMPING", "METHOD", "MLPInfluence", "fit_mlp_influence"]

FloatArray = NDArray[np.float64]
DAMPING = 10.0  # lambda, as a multiple of the GGN Hessian's mean eigenvalue
METHOD = (
    "influence function (EK-FAC Gauss-Newton Hessian, damping 10x its mean eigenvalue, "
    "all parameters)"
)


@dataclass(frozen=True, slots=True)
class _Layer:
    """One ``Linear`` layer: its EK-FAC bases and the training rows rotated into them."""

    basis_out: FloatArray  # Q_S (out, out)
    basis_in: FloatArray  # Q_A (in + 1, in + 1)
    scale: FloatArray  # 1 / (eigenvalue + lambda), (out, in + 1)
    deltas: FloatArray  # training rows' delta @ Q_S, (n_train, out)
    inputs: FloatArray  # training rows' a~ @ Q_A, (n_train, in + 1)


@dataclass(frozen=True, slots=True)
class MLPInfluence:
    """The per-layer EK-FAC factors and the training rows' residuals."""

    scaler: StandardScaler
    module: torch.nn.Sequential
    layers: tuple[_Layer, ...]
    residual: FloatArray  # (n_train,): y - p on rows the loss saw, 0 on held-out rows

    def influence(self, design: FloatArray) -> FloatArray:
        """Return the (n_clients, n_train) effect of each training client on each margin."""
        factors, _ = _factors(self.module, _tensor(self.scaler, design))
        total = np.zeros((len(design), len(self.residual)))
        for layer, (inputs, deltas) in zip(self.layers, factors, strict=True):
            u = deltas @ layer.basis_out  # (n_clients, out)
            a = inputs @ layer.basis_in  # (n_clients, in + 1)
            for c in range(len(design)):
                solved = layer.scale * np.outer(u[c], a[c])  # (H + lambda)^-1 g_x, rotated
                total[c] += np.einsum("ij,ij->i", layer.deltas @ solved, layer.inputs)
        return total * self.residual[None, :]


def _tensor(scaler: StandardScaler, design: FloatArray) -> torch.Tensor:
    scaled = np.asarray(scaler.transform(design), dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(scaled))


def _factors(
    module: torch.nn.Sequential, x: torch.Tensor
) -> tuple[list[tuple[FloatArray, FloatArray]], FloatArray]:
    """Return per ``Linear`` layer (inputs with a 1 column, output sensitivities), and ``f``."""
    inputs, outputs = [], []
    h = x.clone().requires_grad_(True)  # sensitivities even if the weights are frozen
    with torch.enable_grad():
        for layer in module:
            if isinstance(layer, torch.nn.Linear):
                inputs.append(h.detach())
                h = layer(h)
                outputs.append(h)
            else:
                h = layer(h)
        deltas = torch.autograd.grad(h[:, 0].sum(), outputs)
    ones = np.ones((len(x), 1))
    factors = [
        (np.hstack([i.double().numpy(), ones]), d.double().numpy())
        for i, d in zip(inputs, deltas, strict=True)
    ]
    return factors, h[:, 0].detach().double().numpy()


def _fitted_rows(mlp: TorchMLPClassifier, y: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Return which training rows entered the network's loss (not its early-stopping split)."""
    seed = int(check_random_state(mlp.random_state).randint(np.iinfo(np.int32).max))
    train, _ = early_stopping_split(
        y.astype(np.intp), mlp.validation_fraction, seed, mlp.early_stopping
    )
    mask = np.zeros(len(y), dtype=bool)
    mask[train] = True
    return mask


def _eigenbasis(matrix: FloatArray) -> FloatArray:
    _, vectors = np.linalg.eigh(matrix)
    return np.asarray(vectors, dtype=np.float64)


def fit_mlp_influence(
    scaler: StandardScaler, mlp: TorchMLPClassifier, design: FloatArray, y: NDArray[np.int64]
) -> MLPInfluence:
    """Precompute the damped EK-FAC factors (see the module docstring)."""
    check_scaler_rows(scaler, design, "MLP")
    module = mlp.module_
    if not isinstance(module, torch.nn.Sequential) or mlp.classes_.size != 2:
        raise ModelError("model: MLP influence needs a binary TorchMLPClassifier. Got another.")
    factors, margin = _factors(module, _tensor(scaler, design))
    p = 1.0 / (1.0 + np.exp(-margin))
    fitted = _fitted_rows(mlp, y)
    weight = np.where(fitted, p * (1.0 - p), 0.0)
    rotated, eigenvalues = [], []
    for inputs, deltas in factors:
        basis_in = _eigenbasis(inputs[fitted].T @ inputs[fitted])
        basis_out = _eigenbasis((deltas * weight[:, None]).T @ deltas)
        a, d = inputs @ basis_in, deltas @ basis_out
        eigenvalues.append((d**2 * weight[:, None]).T @ a**2)  # (out, in + 1)
        rotated.append((basis_out, basis_in, d, a))
    n_parameters = sum(e.size for e in eigenvalues)
    damping = DAMPING * max(sum(float(e.sum()) for e in eigenvalues) / n_parameters, 1e-12)
    layers = tuple(
        _Layer(basis_out=q_s, basis_in=q_a, scale=1.0 / (e + damping), deltas=d, inputs=a)
        for (q_s, q_a, d, a), e in zip(rotated, eigenvalues, strict=True)
    )
    residual = np.where(fitted, y - p, 0.0)
    return MLPInfluence(scaler, module, layers, residual)
