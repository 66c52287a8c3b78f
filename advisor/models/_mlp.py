"""A torch multi-layer perceptron wrapped as a scikit-learn classifier, saved without pickle.

:class:`TorchMLPClassifier` trains a ``torch.nn.Sequential`` of ``Linear`` and activation layers
with AdamW on mini-batches, with optional early stopping on a stratified validation split. Every
random draw (initial weights, validation split, batch order) comes from ``random_state``; the
global numpy and torch generators are neither seeded nor consumed. :func:`early_stopping_split`
is the validation split ``fit`` makes. Saving and reading back: :mod:`advisor.models._mlp_state`.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import torch
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from torch.nn import functional

from advisor.errors import AdvisorError
from advisor.models._deadline import OutOfTime, check_pace

__all__ = ["TorchMLPClassifier", "early_stopping_split"]

Floats = npt.NDArray[np.float64]
_Rows = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # features, targets, sample weights
_NAME = "TorchMLPClassifier"
_ACTIVATIONS = {"gelu": torch.nn.GELU, "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}
_EVAL_BATCH = 65_536


def _whole(value: object) -> bool:
    """Tell whether ``value`` is an integer (numpy included), booleans excluded."""
    return isinstance(value, Integral) and not isinstance(value, bool | np.bool_)


def _real(value: object) -> bool:
    """Tell whether ``value`` is a finite real number, booleans excluded."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


_POSITIVE_WHOLE = (lambda v: _whole(v) and v > 0, "a positive whole number")
_NON_NEGATIVE = (lambda v: _real(v) and v >= 0, "a finite number >= 0")
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "hidden_layer_sizes": (
        lambda v: isinstance(v, tuple | list) and all(_whole(s) and s > 0 for s in v),
        "a tuple of positive whole numbers",
    ),
    "activation": (
        lambda v: isinstance(v, str) and v in _ACTIVATIONS,
        f"one of {', '.join(map(repr, _ACTIVATIONS))}",
    ),
    "alpha": _NON_NEGATIVE,
    "learning_rate": (lambda v: _real(v) and v > 0, "a finite number > 0"),
    "batch_size": _POSITIVE_WHOLE,
    "max_epochs": _POSITIVE_WHOLE,
    "early_stopping": (lambda v: isinstance(v, bool | np.bool_), "True or False"),
    "validation_fraction": (lambda v: _real(v) and 0 < v < 1, "a number strictly between 0 and 1"),
    "n_iter_no_change": _POSITIVE_WHOLE,
    "tol": _NON_NEGATIVE,
}
_PARAMS = {*_RULES, "random_state"}  # random_state is checked by check_random_state


class TorchMLPClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # sklearn: Any
    """Multi-layer perceptron classifier trained with torch (binary and multiclass).

    Two classes use one output, the positive-class logit (sigmoid log-loss); ``k > 2`` classes use
    ``k`` outputs and a softmax cross-entropy. Inputs are not scaled: put a scaler in front.

    Parameters
    ----------
    hidden_layer_sizes
        Width of each hidden layer; ``()`` gives a linear (logistic) model.
    activation
        Non-linearity after each hidden layer: ``"relu"``, ``"tanh"`` or ``"gelu"``.
    alpha
        Decoupled L2 weight decay (AdamW) of the ``Linear`` weights; biases are not decayed.
    learning_rate
        AdamW step size.
    batch_size
        Rows per mini-batch; the last batch of an epoch may be smaller.
    max_epochs
        Maximum number of passes over the training rows.
    early_stopping
        Hold out ``validation_fraction`` of the rows (stratified by class, or a plain random
        split when a class has a single row), stop once the validation log-loss has not dropped
        by more than ``tol`` for ``n_iter_no_change`` epochs and restore the best epoch's
        weights. When False, train exactly ``max_epochs`` epochs.
    validation_fraction
        Share of the rows held out for early stopping, strictly between 0 and 1.
    n_iter_no_change
        Epochs without improvement tolerated before stopping (early stopping only).
    tol
        Minimum drop of the validation loss that counts as an improvement.
    random_state
        Seed of the initial weights (torch's default scheme, drawn from a private
        ``torch.Generator``), the validation split and the batch order: the same seed and data
        give bit-identical predictions.

    Attributes
    ----------
    classes_
        Sorted class labels.
    n_features_in_
        Number of features seen in ``fit`` (``feature_names_in_``: their names, if strings).
    module_
        The trained float32 network, mapping features to logits.
    n_epochs_
        Number of epochs run.
    best_epoch_
        Epoch (1-based) whose weights were kept; ``n_epochs_`` without early stopping.
    loss_curve_
        Mean (sample-weighted) training log-loss of each epoch.
    validation_scores_
        Validation log-loss after each epoch; empty without early stopping.
    """

    loss_curve_: list[float]
    validation_scores_: list[float]

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (64, 32),
        activation: str = "relu",
        alpha: float = 1e-4,
        learning_rate: float = 1e-3,
        batch_size: int = 256,
        max_epochs: int = 100,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 8,
        tol: float = 1e-4,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state

    def fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
        *,
        deadline: float | None = None,
    ) -> Self:
        """Train the network on ``X`` and ``y``, rows weighted by ``sample_weight`` if given.

        Parameters
        ----------
        X
            Dense, finite feature matrix of shape (n_samples, n_features).
        y
            Class labels of shape (n_samples,).
        sample_weight
            Non-negative weight of each row (rows of weight 0 are dropped, the others rescaled
            to mean 1); None weighs every row 1.
        deadline
            A :func:`time.perf_counter` instant the fit must end by (None: no limit): checked
            between mini-batches, and after each epoch against the epochs still needed (at least
            ``n_iter_no_change + 1`` with early stopping, else ``max_epochs``).

        Returns
        -------
        Self
            The fitted estimator.

        Raises
        ------
        OutOfTime
            The fit would end after ``deadline`` (the estimator is then not fitted).
        """
        self._check_params()
        features, labels = validate_data(self, X, y, dtype=(np.float64, np.float32))
        check_classification_targets(labels)
        weights = _check_sample_weight(sample_weight, features, ensure_non_negative=True)
        classes, codes = np.unique(labels, return_inverse=True)
        kept = weights > 0
        if (present := np.unique(codes[kept])).size < 2:
            raise AdvisorError(
                f"{_NAME}.fit: y must hold at least two classes with positive sample_weight. "
                f"Got {present.size} class: {classes[present].tolist()}."
            )
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        generator = torch.Generator().manual_seed(seed)
        n_out = 1 if classes.size == 2 else classes.size
        module = _build_module(self.n_features_in_, self.hidden_layer_sizes, self.activation, n_out)
        _initialise(module, generator)
        x = torch.from_numpy(np.require(features[kept], np.float32, ["C", "W"]))
        target = torch.from_numpy(codes[kept]).to(torch.float32 if n_out == 1 else torch.int64)
        w = torch.from_numpy(weights[kept].astype(np.float32))
        train, valid = early_stopping_split(
            codes[kept], self.validation_fraction, seed, self.early_stopping
        )
        self.classes_, self.module_ = classes, module
        self._train(
            (x[train], target[train], w[train] / w[train].mean()),
            (x[valid], target[valid], w[valid]) if valid.size else None,
            generator,
            deadline,
        )
        self.module_.eval()
        return self

    def _train(
        self,
        train: _Rows,
        valid: _Rows | None,
        generator: torch.Generator,
        deadline: float | None = None,
    ) -> None:
        """Run the epochs, record the losses and keep the best weights (early stopping)."""
        started = time.perf_counter()
        needed = min(
            self.max_epochs, self.n_iter_no_change + 1 if valid is not None else self.max_epochs
        )
        linears = [layer for layer in self.module_ if isinstance(layer, torch.nn.Linear)]
        groups = [
            {"params": [layer.weight for layer in linears], "weight_decay": self.alpha},
            {"params": [layer.bias for layer in linears], "weight_decay": 0.0},
        ]
        optimizer = torch.optim.AdamW(groups, lr=self.learning_rate, fused=True)
        self.loss_curve_, self.validation_scores_ = [], []
        self.best_epoch_, best_loss, best_state, n_stale = 0, math.inf, {}, 0
        for epoch in range(1, self.max_epochs + 1):
            check_pace(
                started, epoch - 1, max(needed, epoch), deadline, "epochs"
            )  # this epoch fits?
            clock = None if deadline is None else (started, deadline, max(needed, epoch))
            self.loss_curve_.append(self._run_epoch(train, optimizer, generator, clock))
            self.n_epochs_ = epoch
            if not math.isfinite(self.loss_curve_[-1]):
                raise AdvisorError(
                    f"{_NAME}.fit: the training loss must stay finite. Got "
                    f"{self.loss_curve_[-1]} at epoch {epoch}. Hint: lower learning_rate or "
                    "scale the features."
                )
            if valid is None:
                continue
            with torch.no_grad():
                losses = _row_loss(self.module_.eval()(valid[0]), valid[1])
            self.validation_scores_.append(float((valid[2] * losses).sum() / valid[2].sum()))
            if self.validation_scores_[-1] < best_loss - self.tol:
                best_loss, best_state = self.validation_scores_[-1], _copy_state(self.module_)
                self.best_epoch_, n_stale = epoch, 0
            elif (n_stale := n_stale + 1) >= self.n_iter_no_change:
                break
        if best_state:
            self.module_.load_state_dict(best_state)
        else:
            self.best_epoch_ = self.n_epochs_

    def _run_epoch(
        self,
        train: _Rows,
        optimizer: torch.optim.Optimizer,
        generator: torch.Generator,
        clock: tuple[float, float, int] | None = None,
    ) -> float:
        """Take one step per shuffled mini-batch; return the epoch's mean loss.

        ``clock``: the fit's start, its deadline and the epochs it needs at least; the deadline
        is checked before each mini-batch, the pace every 16 (from this epoch's second batch
        on: the first carries one-time costs) against the batches the fit still needs.
        """
        self.module_.train()
        order = torch.randperm(train[0].shape[0], generator=generator)
        x, y, w = (tensor[order] for tensor in train)
        total = torch.zeros((), dtype=torch.float64)
        n_batches, done, warm = -(-x.shape[0] // self.batch_size), len(self.loss_curve_), 0.0
        for batch, start in enumerate(range(0, x.shape[0], self.batch_size)):
            if clock is not None and time.perf_counter() > clock[1]:
                raise OutOfTime(f"reached the budget during epoch {done + 1}")
            if clock is not None and batch % 16 == 0 and batch > 0:
                rate = (time.perf_counter() - warm) / (batch - 1)
                _check_batches(rate, (clock[2] - done) * n_batches - batch, clock[1])
            if batch == 1:
                warm = time.perf_counter()
            rows = slice(start, start + self.batch_size)
            optimizer.zero_grad(set_to_none=True)
            batch_loss = (w[rows] * _row_loss(self.module_(x[rows]), y[rows])).mean()
            torch.autograd.backward(batch_loss)
            optimizer.step()
            total += batch_loss.detach() * x[rows].shape[0]
        return float(total) / x.shape[0]

    def _check_params(self) -> None:
        """Raise :class:`AdvisorError` naming the first invalid hyper-parameter."""
        for name, (holds, what) in _RULES.items():
            if not holds(value := getattr(self, name)):
                raise AdvisorError(f"{_NAME}.{name}: must be {what}. Got {value!r}.")

    def decision_function(self, X: npt.ArrayLike) -> Floats:
        """Return the logits, float64.

        Parameters
        ----------
        X
            Feature matrix of shape (n_samples, n_features_in_).

        Returns
        -------
        Floats
            The positive-class logit, shape (n_samples,), for two classes; otherwise one logit
            per class, shape (n_samples, n_classes).
        """
        logits = self._logits(X)
        return logits[:, 0] if self.classes_.size == 2 else logits

    def predict_proba(self, X: npt.ArrayLike) -> Floats:
        """Return class probabilities, float64 of shape (n_samples, n_classes), rows summing to 1.

        Parameters
        ----------
        X
            Feature matrix of shape (n_samples, n_features_in_).

        Returns
        -------
        Floats
            Probability of each class, in the order of ``classes_``.
        """
        logits = self._logits(X)
        if self.classes_.size > 2:
            return np.asarray(softmax(logits, axis=1), dtype=np.float64)
        positive = np.asarray(expit(logits[:, 0]), dtype=np.float64)
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X: npt.ArrayLike) -> npt.NDArray[Any]:
        """Return the most probable class of each row.

        Parameters
        ----------
        X
            Feature matrix of shape (n_samples, n_features_in_).

        Returns
        -------
        numpy.ndarray
            Labels from ``classes_``, shape (n_samples,).
        """
        logits = self._logits(X)
        best = (logits[:, 0] > 0).astype(np.intp) if self.classes_.size == 2 else logits.argmax(1)
        return np.asarray(self.classes_[best])

    def _logits(self, X: npt.ArrayLike) -> Floats:
        """Evaluate the network without gradients, in large batches, as float64."""
        check_is_fitted(self)
        features = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        x = torch.from_numpy(np.require(features, np.float32, ["C", "W"]))
        with torch.no_grad():
            parts = [self.module_(x[i : i + _EVAL_BATCH]) for i in range(0, len(x), _EVAL_BATCH)]
        return torch.cat(parts).numpy().astype(np.float64)


def _check_batches(seconds_per_batch: float, n_left: int, deadline: float) -> None:
    """Raise :class:`OutOfTime` when ``n_left`` mini-batches at this pace end after ``deadline``."""
    needed = seconds_per_batch * n_left
    left = deadline - time.perf_counter()
    if needed > left:
        raise OutOfTime(
            f"needs about {needed:.1f} s more ({n_left} mini-batches at "
            f"{seconds_per_batch * 1000:.1f} ms), {left:.1f} s left"
        )


def _build_module(
    n_features: int, hidden: tuple[int, ...], activation: str, n_outputs: int
) -> torch.nn.Sequential:
    """Stack uninitialised float32 ``Linear`` layers with activations in between."""
    widths = [n_features, *(int(size) for size in hidden), n_outputs]
    layers: list[torch.nn.Module] = []
    for n_in, n_out in itertools.pairwise(widths):
        # Built on the meta device: torch's default init would consume the global generator.
        layers += [torch.nn.Linear(n_in, n_out, device="meta").to_empty(device="cpu")]
        layers += [_ACTIVATIONS[activation]()]
    return torch.nn.Sequential(*layers[:-1])


def _initialise(module: torch.nn.Sequential, generator: torch.Generator) -> None:
    """Initialise every ``Linear`` as torch's default does, drawing from ``generator``."""
    for layer in module:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(layer.in_features)
            torch.nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def early_stopping_split(
    codes: npt.NDArray[np.intp], fraction: float, seed: int, early_stopping: bool
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Return the rows :meth:`TorchMLPClassifier.fit` trains on and those it validates on.

    The same split ``fit`` makes, so callers (influence of training clients) can tell which
    rows entered the network's loss.

    Parameters
    ----------
    codes
        Class codes ``0..k-1`` of the rows with positive sample weight (for 0/1 labels: the
        labels themselves).
    fraction
        The estimator's ``validation_fraction``.
    seed
        The split's seed: ``check_random_state(random_state).randint(np.iinfo(np.int32).max)``,
        the first draw ``fit`` makes from the estimator's ``random_state``.
    early_stopping
        The estimator's ``early_stopping``; without it every row trains and none validates.

    Returns
    -------
    tuple of numpy.ndarray
        Positions of the training rows and of the validation rows (stratified by class when
        every class has at least two rows).
    """
    rows = np.arange(codes.size)
    if not early_stopping:
        return rows, rows[:0]
    n_valid = min(max(1, math.ceil(fraction * codes.size)), codes.size - 1)
    counts = np.bincount(codes)
    n_classes = np.count_nonzero(counts)
    stratify = counts[counts > 0].min() >= 2 and n_classes <= min(n_valid, codes.size - n_valid)
    train, valid = train_test_split(
        rows, test_size=n_valid, random_state=seed, stratify=codes if stratify else None
    )
    return np.asarray(train, dtype=np.intp), np.asarray(valid, dtype=np.intp)


def _row_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Log-loss of each row: sigmoid for one output, softmax cross-entropy otherwise."""
    if logits.shape[1] == 1:
        return functional.binary_cross_entropy_with_logits(logits[:, 0], target, reduction="none")
    return functional.cross_entropy(logits, target, reduction="none")


def _copy_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Return a detached copy of ``module``'s ``state_dict``."""
    return {key: value.detach().clone() for key, value in module.state_dict().items()}
