"""DiCE (``dice-ml``) as a comparison baseline, on a Levers constraint set.

DiCE searches business frames through a model with ``predict_proba``. This adapter

- translates the constraint set into DiCE's options (:func:`dice_options`): the numeric
  features are DiCE's ``continuous_features``; ``features_to_vary`` lists the features a
  lever may move for this client (mutable, movable, not derived); ``permitted_range`` gives
  each of them the client's reachable interval or categories from
  :meth:`ConstraintSet.bounds_for` (bounds, direction, max change and transitions folded in);
- runs DiCE's ``random``, ``genetic`` or ``kdtree`` method for one client at a time
  (:class:`DiceBaseline`), with a per-client time limit that DiCE itself lacks, and returns
  the counterfactuals as codes (the constraint set's arrays) for the benchmark to verify.

DiCE cannot express rules, ``max_changes``, step grids, derived features, one-hot groups
or change groups; :attr:`DiceOptions.unsupported` names those a constraint set uses, and the
benchmark counts their violations with :meth:`ConstraintSet.check`.

Importing this module registers :class:`DiceEngine` as the ``dice`` engine, so that
``counterfactuals.generate(..., engine="dice")`` runs DiCE and verifies its answers like any
engine's (core code never imports this module).

DiCE is an optional extra (``pip install 'levers[dice]'``), imported only when a
:class:`DiceBaseline` is built.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from constraints import (
    ConstraintSet,
    Flag,
    Number,
    OneOf,
    ParamSpec,
    Whole,
    check_dataclass,
)
from counterfactuals import (
    MAX_TIME_S,
    BoundTarget,
    CounterfactualError,
    EngineOutput,
    EngineRequest,
    FeatureSpace,
    ModelAdapter,
    Support,
    Target,
    adapt,
    check_solve,
    register_engine,
)
from counterfactuals.baselines._dice_parts import (
    DICE_METHODS,
    Codec,
    DiceMethod,
    DiceModel,
    DiceOptions,
    TimeUp,
    dice_options,
    import_dice,
    precisions,
    seeded_and_quiet,
    support_of,
    translate,
)

__all__ = [
    "DICE_METHODS",
    "DiceBaseline",
    "DiceEngine",
    "DiceMethod",
    "DiceOptions",
    "DiceOutcome",
    "dice_counterfactuals",
    "dice_options",
]

FloatArray = NDArray[np.float64]
_OUTCOME = "__dice_outcome__"


@dataclass(frozen=True, slots=True)
class _State:
    """What a DiceBaseline builds once: DiCE's explainer, the model wrapper, codec, support."""

    explainer: Any
    model: DiceModel
    codec: Codec
    support: tuple[FloatArray, FloatArray, list[set[int]]]


# ----------------------------------------------------------------------------- the baseline
@dataclass(frozen=True, slots=True, kw_only=True)
class DiceOutcome:
    """DiCE's answer for one client: counterfactual codes (possibly none) and its time."""

    codes: FloatArray
    elapsed_s: float
    message: str = ""
    timed_out: bool = False

    @property
    def found(self) -> bool:
        """Whether DiCE returned at least one counterfactual."""
        return len(self.codes) > 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DiceBaseline:
    """DiCE set up once on a model and its data, then run client by client.

    Parameters
    ----------
    constraints
        The constraint set (its features are the model's features, in order).
    model
        The model: anything :func:`counterfactuals.adapt` accepts (a ``PropensityModel``,
        a :class:`ModelAdapter`...). DiCE calls it on codes, the fast path our engines use
        too; its frames are converted to codes before each call.
    data
        DiCE's data: training clients (business values or codes). ``kdtree`` searches it,
        and the genetic method starts from it.
    method
        ``random``, ``genetic`` or ``kdtree``.
    time_limit_s
        Per-client limit; DiCE has none, so the model raises once it is passed and the
        client counts as not found (``timed_out``). ``None`` lets DiCE run to its end
        (the genetic method then loops forever when no starting point reaches the target).
    params
        Further keyword arguments of DiCE's ``generate_counterfactuals`` (e.g.
        ``sample_size``, ``maxiterations``, ``posthoc_sparsity_param``).
    """

    constraints: ConstraintSet
    model: Any
    data: Any
    method: DiceMethod = "random"
    time_limit_s: float | None = 30.0
    params: Mapping[str, Any] = field(default_factory=dict)
    _state: _State = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.method not in DICE_METHODS:
            raise CounterfactualError(
                f"method: must be one of {', '.join(DICE_METHODS)}. Got {self.method!r}."
            )
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise CounterfactualError(f"time_limit_s: must be > 0. Got {self.time_limit_s!r}.")
        dice_ml = import_dice()
        codec = Codec.of(self.constraints)
        data = self.constraints.to_array(self.data)
        model = DiceModel(
            adapt(self.model, FeatureSpace.from_constraints(self.constraints), remember=False),
            codec,
        )
        frame = codec.frame(data)
        frame[_OUTCOME] = np.argmax(model.adapter.proba_codes(data), axis=1).astype(np.int64)
        continuous = [
            s.name for s in self.constraints.features if s.kind in ("continuous", "integer")
        ]
        with seeded_and_quiet(0):
            explainer = dice_ml.Dice(
                dice_ml.Data(
                    dataframe=frame,
                    continuous_features=continuous,
                    outcome_name=_OUTCOME,
                    continuous_features_precision=precisions(self.constraints, data),
                ),
                dice_ml.Model(model=model, backend="sklearn"),
                method=self.method,
            )
        support = support_of(data, self.constraints.n_features)
        object.__setattr__(self, "_state", _State(explainer, model, codec, support))

    def generate(
        self, client: Any, target: Target | str | float = "flip", *, n: int = 5, seed: int = 0
    ) -> DiceOutcome:
        """Ask DiCE for ``n`` counterfactuals of one client.

        Parameters
        ----------
        client
            One client (business values or codes).
        target
            The goal, as for :func:`counterfactuals.generate`: a :class:`Target`, ``"flip"``
            or a probability to reach.
        n
            Counterfactuals requested (DiCE's ``total_CFs``).
        seed
            Seeds DiCE's random draws (the global RNGs, restored afterwards).

        Returns
        -------
        DiceOutcome
            Counterfactual codes as DiCE returned them (post-hoc sparsity applied), not
            verified: the caller re-scores and checks them. Failures are an empty outcome
            with the message.
        """
        state = self._state
        start = time.perf_counter()
        codes = self.constraints.to_array(client)
        options = translate(self.constraints, codes, state.support, state.codec.labels)
        d = self.constraints.n_features
        if not options.features_to_vary:
            return _none(start, d, "no feature may move for this client")
        model = state.model
        model.target = _bind(target, model.adapter, codes)
        model.deadline = None if self.time_limit_s is None else start + self.time_limit_s
        kwargs: dict[str, Any] = {
            "total_CFs": n,
            "desired_class": 1,
            "features_to_vary": list(options.features_to_vary),
            "permitted_range": dict(options.permitted_range),
            **({"random_seed": seed} if self.method == "random" else {}),
            **self.params,
        }
        try:
            with seeded_and_quiet(seed):
                answer = state.explainer.generate_counterfactuals(
                    state.codec.frame(codes), **kwargs
                )
        except TimeUp:
            return _none(start, d, f"time limit of {self.time_limit_s:g} s reached", True)
        except Exception as exc:  # DiCE's own failures (e.g. none found) are an answer
            return _none(start, d, f"{type(exc).__name__}: {exc}")
        finally:
            model.deadline = None
            model.target = None
        fixed = [name not in options.features_to_vary for name in self.constraints.feature_names]
        return _outcome(answer, state.codec, start, np.where(fixed, codes[0], np.nan))


def _bind(target: Target | str | float, adapter: ModelAdapter, codes: FloatArray) -> BoundTarget:
    """Resolve the target for one client, as :func:`counterfactuals.generate` reads it."""
    goal = Target.flip() if target == "flip" else target
    goal = Target.probability(goal) if isinstance(goal, float) else goal
    if not isinstance(goal, Target):
        raise CounterfactualError(
            f"target: must be a Target, 'flip' or a probability. Got {target!r}."
        )
    return goal.bind(adapter.outputs, adapter.proba_codes(codes)[0], ranked=adapter.ranked)


def _none(start: float, d: int, message: str, timed_out: bool = False) -> DiceOutcome:
    return DiceOutcome(
        codes=np.empty((0, d)),
        elapsed_s=time.perf_counter() - start,
        message=message,
        timed_out=timed_out,
    )


def _outcome(answer: Any, codec: Codec, start: float, fixed: FloatArray) -> DiceOutcome:
    """Read DiCE's answer; ``fixed`` holds the values of the features DiCE may not vary.

    Those are written back exactly: DiCE keeps them in principle, but its frames go through
    float32 and its rounding, which moves a 2,970.37 income by a few cents.
    """
    example = answer.cf_examples_list[0]
    frame = example.final_cfs_df_sparse
    if frame is None or not len(frame):
        frame = example.final_cfs_df
    if frame is None or not len(frame):
        return _none(start, len(codec.names), "DiCE found no counterfactual")
    codes = codec.codes(frame.reset_index(drop=True))
    codes = np.where(np.isnan(fixed), codes, fixed)
    _, first = np.unique(codes, axis=0, return_index=True)
    return DiceOutcome(codes=codes[np.sort(first)], elapsed_s=time.perf_counter() - start)


def dice_counterfactuals(
    model: Any,
    data: Any,
    client: Any,
    constraints: ConstraintSet,
    *,
    target: Target | str | float = "flip",
    method: DiceMethod = "random",
    n: int = 5,
    seed: int = 0,
    time_limit_s: float | None = 30.0,
) -> tuple[FloatArray, float]:
    """Run DiCE once for one client; return ``(codes (m, d), elapsed_s)``.

    A shortcut over :class:`DiceBaseline` (which sets DiCE up once for many clients); see it
    for the parameters. ``m`` is 0 when DiCE finds nothing, fails or runs out of time.
    """
    baseline = DiceBaseline(
        constraints=constraints, model=model, data=data, method=method, time_limit_s=time_limit_s
    )
    out = baseline.generate(client, target, n=n, seed=seed)
    return out.codes, out.elapsed_s


# ----------------------------------------------------------------------------- the engine
@register_engine
@dataclass(frozen=True, slots=True, kw_only=True)
class DiceEngine:
    """DiCE as a registered engine (``engine="dice"``): the API verifies every answer.

    DiCE needs a data set; the engine draws one per client from the request: the client and
    ``n_samples`` feasible levers around it (:meth:`ConstraintSet.sample`, seeded by ``seed``),
    so DiCE's ranges and categories are the client's reachable ones. DiCE cannot express
    rules, ``max_changes``, step grids or derived features; with ``repair`` its answers are
    projected onto the constraint set (:meth:`ConstraintSet.project`) before the API checks
    them, otherwise most would be rejected.

    Parameters
    ----------
    method
        DiCE's method: ``random``, ``genetic`` or ``kdtree``.
    time_limit_s
        Seconds for one client (the request's deadline shortens it); DiCE has no limit of its
        own, so the model stops it once passed and the client gets no candidate.
    n_samples
        Feasible levers drawn around the client as DiCE's data.
    repair
        Project DiCE's answers onto the constraint set (snap to steps, recompute derived
        features, keep ``max_changes``, undo changes that break a rule).
    """

    name: ClassVar[str] = "dice"
    method: DiceMethod = "random"
    time_limit_s: float = 30.0
    n_samples: int = 200
    repair: bool = True

    PARAMETERS: ClassVar[ParamSpec] = {
        "method": OneOf(DICE_METHODS),
        "time_limit_s": Number(0.0, MAX_TIME_S, low_open=True, unit="seconds"),
        "n_samples": Whole(1, 1_000_000),
        "repair": Flag(),
    }

    def __post_init__(self) -> None:
        check_dataclass(self, self.PARAMETERS, error=CounterfactualError)

    def supports(self, adapter: ModelAdapter, target: BoundTarget) -> Support:
        """Say yes when dice-ml is installed: DiCE sees any target through its slack."""
        if importlib.util.find_spec("dice_ml") is None:
            return Support.no(
                "the dice engine needs the dice-ml package (pip install 'levers[dice]')"
            )
        return Support.yes()

    def solve(self, request: EngineRequest, n: int, seed: int) -> EngineOutput:
        """Ask DiCE for one client's counterfactuals."""
        return self.solve_many([request], n, seed)[0]

    def solve_many(
        self, requests: Sequence[EngineRequest], n: int, seed: int
    ) -> list[EngineOutput]:
        """Ask DiCE client by client (DiCE has no batch mode); same answers as ``solve``."""
        n, seed = check_solve(n, seed)
        return [self._solve_one(request, n, seed) for request in requests]

    def _solve_one(self, request: EngineRequest, n: int, seed: int) -> EngineOutput:
        support = self.supports(request.adapter, request.target)
        if not support:
            raise CounterfactualError(f"engine: dice cannot serve this request: {support.reason}")
        cs = request.constraints
        client = request.client[None, :]
        limit = min(self.time_limit_s, request.time_left())
        if limit <= 0:
            return EngineOutput(
                candidates=np.empty((0, cs.n_features)),
                timed_out=True,
                notes=("dice engine: the deadline had passed before DiCE started",),
            )
        data = np.vstack([client, cs.sample(client, self.n_samples, seed=seed)])
        baseline = DiceBaseline(
            constraints=cs,
            model=request.adapter,
            data=data,
            method=self.method,
            time_limit_s=limit,
        )
        outcome = baseline.generate(client, request.target.target, n=n, seed=seed)
        codes = outcome.codes
        if self.repair and len(codes):
            codes = cs.project(client, codes).values
        codes = codes[np.argsort(cs.cost(client, codes), kind="stable")] if len(codes) else codes
        notes = (f"dice engine ({self.method}): {outcome.message}",) if outcome.message else ()
        return EngineOutput(
            candidates=codes,
            timed_out=outcome.timed_out,
            notes=notes,
            stats={"n_dice": len(outcome.codes), "dice_s": outcome.elapsed_s},
        )
