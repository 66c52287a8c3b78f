"""The leaderboard of a study: every trial that ran, complete trials first and ranked."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd

__all__ = ["leaderboard", "started_trials"]


def leaderboard(study: optuna.Study, metric: str) -> pd.DataFrame:
    """Return every trial of ``study``, best complete trial first (ties: earlier first).

    Only complete trials are ranked: they come first, best first, so a complete trial's
    position is its rank. Pruned (by the median rule or the budget) and failed trials follow,
    unranked, with their ``state``, no score and the reason in ``note``. Trials queued but
    never started (the study stopped first) are left out.

    Columns: ``trial``, ``family``, ``state``, ``cv_<metric>`` (NaN unless complete),
    ``cv_std``, ``fit_time_s``, ``params`` (without the family prefix) and ``note``.
    """
    rows = []
    for t in started_trials(study):
        family = str(t.params.get("family", ""))
        prefix = f"{family}."
        complete = t.state == optuna.trial.TrialState.COMPLETE
        rows.append(
            {
                "trial": t.number,
                "family": family,
                "state": t.state.name.lower(),
                f"cv_{metric}": t.value if complete and t.value is not None else np.nan,
                "cv_std": t.user_attrs.get("cv_std", np.nan),
                "fit_time_s": t.user_attrs.get("fit_time_s", np.nan),
                "params": {k[len(prefix) :]: v for k, v in t.params.items() if k != "family"},
                "note": t.user_attrs.get("note", ""),
            }
        )
    board = pd.DataFrame(rows)
    order = board[f"cv_{metric}"].fillna(-np.inf).to_numpy()
    ranked = board.iloc[np.lexsort((board["trial"].to_numpy(), -order))]
    return ranked.reset_index(drop=True)


def started_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Return the trials that ran (a queued trial the study stopped before is left out)."""
    return [t for t in study.trials if t.state != optuna.trial.TrialState.WAITING]
