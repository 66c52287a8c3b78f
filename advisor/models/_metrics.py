"""Held-out test metrics of a probability model: ranking, precision and calibration."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

__all__ = ["TestMetrics", "evaluate"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TestMetrics:
    """Metrics on the held-out test set.

    ``calibration_*`` are the calibration curve: per bin of predicted probability (deciles of
    the predictions), the mean prediction, the observed positive rate and the number of rows.
    """

    __test__ = False  # not a pytest test class

    auc: float
    average_precision: float
    brier: float
    log_loss: float
    n_test: int
    positive_rate: float
    calibration_predicted: tuple[float, ...]
    calibration_observed: tuple[float, ...]
    calibration_count: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as a JSON-serialisable dict."""
        return asdict(self)


def evaluate(
    y: NDArray[np.int64], probability: NDArray[np.float64], n_bins: int = 10
) -> TestMetrics:
    """Return test metrics of calibrated probabilities against 0/1 labels."""
    p = np.clip(np.asarray(probability, dtype=np.float64), 0.0, 1.0)
    edges = np.unique(np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1)))
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    predicted, observed, count = [], [], []
    for b in np.unique(bins):
        mask = bins == b
        predicted.append(float(p[mask].mean()))
        observed.append(float(y[mask].mean()))
        count.append(int(mask.sum()))
    return TestMetrics(
        auc=float(roc_auc_score(y, p)),
        average_precision=float(average_precision_score(y, p)),
        brier=float(brier_score_loss(y, p)),
        log_loss=float(log_loss(y, np.clip(p, 1e-12, 1 - 1e-12), labels=[0, 1])),
        n_test=len(y),
        positive_rate=float(np.mean(y)),
        calibration_predicted=tuple(predicted),
        calibration_observed=tuple(observed),
        calibration_count=tuple(count),
    )
