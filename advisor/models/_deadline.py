"""Time-boxed fits: a fit that would end after its deadline stops early and says why.

A deadline is a :func:`time.perf_counter` instant. The MLP checks it between mini-batches and
projects the epochs it still needs; XGBoost checks it after every tree and projects the trees
left (``DeadlineCallback`` in :mod:`advisor.models._families`). :class:`OutOfTime` never leaves
:func:`~advisor.models.train`: the study turns it into a pruned trial (or a skipped family) with
the reason.
"""

from __future__ import annotations

import time

__all__ = ["OutOfTime", "check_pace"]


class OutOfTime(Exception):  # control flow inside a study, like optuna.TrialPruned
    """A fit stopped because it would end after its deadline.

    Parameters
    ----------
    reason
        What the fit would have needed, in words (``"needs about 174.0 s, 40.2 s left"``).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_pace(
    started: float, done: int, total: int, deadline: float | None, unit: str = "steps"
) -> None:
    """Raise :class:`OutOfTime` when a fit that did ``done`` of ``total`` steps would overrun.

    Parameters
    ----------
    started
        When the fit started (:func:`time.perf_counter`).
    done, total
        Steps done so far and steps the fit needs at least.
    deadline
        When the fit must be over; None: no limit.
    unit
        What a step is (``epochs``, ``trees``), for the reason.
    """
    if deadline is None:
        return
    now = time.perf_counter()
    if now > deadline:
        raise OutOfTime(f"reached the budget after {now - started:.1f} s")
    if done <= 0 or done >= total:
        return
    needed = (now - started) / done * total
    if started + needed > deadline:
        raise OutOfTime(
            f"needs about {needed:.1f} s ({done} of {total} {unit} took {now - started:.1f} s), "
            f"{deadline - started:.1f} s were left"
        )
