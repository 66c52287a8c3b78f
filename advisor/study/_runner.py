"""The comparative study: every method on the same clients of the same models, measured."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import AdvisorError
from advisor.study._context import ModelContext, build_context, true_effects
from advisor.study._data import (
    DATASETS,
    DEMO_PRODUCT,
    MODELS,
    StudyData,
    StudySizes,
    check_sources,
    load_dataset,
    sizes_for,
)
from advisor.study._evidence import measure_influence, measure_levers_agreement
from advisor.study._measure import (
    Measured,
    explain_method,
    model_effects,
    record,
    record_agreement,
    truth_source,
)
from advisor.study._tables import TABLES, Tables, write_tables
from constraints import AnyOf, Flag, OneOf, ParamSpec, TupleOf, Whole, check_params

__all__ = ["STUDY_PARAMS", "StudyResult", "check_out", "run_study"]

MAX_CLIENTS = 1_000
_VERSIONS = ("levers", "numpy", "pandas", "scikit-learn", "xgboost", "torch", "lime", "shap",
             "captum")  # fmt: skip


def _method_names() -> tuple[str, ...]:
    from advisor.explain import METHODS

    return tuple(METHODS)


STUDY_PARAMS: ParamSpec = {
    "datasets": TupleOf(OneOf(DATASETS), ", ".join(DATASETS)),
    "models": TupleOf(OneOf(MODELS), ", ".join(MODELS)),
    "methods": (TupleOf(OneOf(_method_names()), ", ".join(_method_names())), None),
    "n_clients": (Whole(1, MAX_CLIENTS), None),
    "n_reruns": (Whole(2, 100), None),
    "quick": Flag(),
    "seed": Whole(0, 2**32 - 1),
    "progress": (AnyOf(callable, "a callable taking a message"), None),
}
"""The rules of :func:`run_study`'s parameters."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyResult:
    """The tables a study wrote to ``out`` (see docs/study.md for every column).

    ``study`` is what ``study.json`` holds: the parameters, seeds, versions, timing and the
    methods skipped with their reasons.
    """

    out: Path
    study: Mapping[str, Any]
    tables: Mapping[str, pd.DataFrame] = field(repr=False)

    def table(self, name: str) -> pd.DataFrame:
        """Return one table (explanations, curves, metrics, agreement, levers_agreement)."""
        if name not in self.tables:
            raise AdvisorError(f"table: must be one of {', '.join(TABLES)}. Got {name!r}.")
        return self.tables[name]


def check_out(out: object) -> Path:
    """Refuse an output that is a file, or a folder holding something else than a study."""
    if not isinstance(out, (str, Path)) or not str(out).strip():
        raise AdvisorError(f"out: must be a folder path. Got {out!r}.")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise AdvisorError(f"out: must be a folder. Got {str(folder)!r}, which is a file.")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / "study.json").is_file():
        raise AdvisorError(
            f"out: must be a new or empty folder, or an earlier study's folder (its tables are "
            f"replaced). Got {str(folder)!r}, which holds other files."
        )
    return folder


def _versions() -> dict[str, str]:
    found = {}
    for name in _VERSIONS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def run_study(
    out: str | Path,
    *,
    datasets: tuple[str, ...] = DATASETS,
    models: tuple[str, ...] = MODELS,
    methods: tuple[str, ...] | None = None,
    n_clients: int | None = None,
    n_reruns: int | None = None,
    quick: bool = False,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    data_dir: Path | None = None,
    recommender: Path | None = None,
) -> StudyResult:
    """Run the comparative study of the explanation methods and write its tables to ``out``.

    Per data set, each model family is trained through the AutoML chain (seeded, a fixed
    number of trials, no budget); every method explains the same held-out clients of every
    model; the measures are described in docs/study.md.

    Parameters
    ----------
    out
        Folder of the tables (created; an earlier study's tables there are replaced).
    datasets, models
        Among ``demo``, ``bank``, ``german`` and ``logistic``, ``xgboost``, ``mlp``.
    methods
        Among :data:`advisor.explain.METHODS` (None: all); a method that does not apply
        to a family is skipped and the reason recorded.
    n_clients
        Held-out clients explained per data set, 1 to 1,000 (None: 3 quick, 30 full).
    n_reruns
        Seeds per explanation in the stability test, 2 to 100 (None: 5 quick, 10 full).
    quick
        Small data, one AutoML trial (minutes) instead of the benchmark's sizes.
    seed
        Seed of the data, the split, the training, the clients and every explainer
        (reruns use ``seed + r``).
    progress
        Called with a short message as each step starts.
    data_dir
        Folder of the real data sets (None: ``LEVERS_SHARED_DATA`` or ../shared/data).
    recommender
        A demo recommender bundle trained on the run's demo portfolio (same size and seed,
        as ``levers train --demo`` builds it) to reuse for the levers' agreement (None:
        one is trained in a temporary folder).

    Raises
    ------
    AdvisorError
        A parameter breaks :data:`STUDY_PARAMS`, ``out`` is not a usable folder or a real
        data set's file is absent (all checked before any work).
    """
    checked = check_params(
        {
            "datasets": _as_tuple(datasets),
            "models": _as_tuple(models),
            "methods": _as_tuple(methods),
            "n_clients": n_clients,
            "n_reruns": n_reruns,
            "quick": quick,
            "seed": seed,
            "progress": progress,
        },
        STUDY_PARAMS,
        error=AdvisorError,
    )
    folder = check_out(out)
    check_sources(checked["datasets"], data_dir)
    if recommender is not None and not (Path(recommender) / "model_card.json").is_file():
        raise AdvisorError(
            f"recommender: must be a demo bundle folder (holding model_card.json). Got "
            f"{str(recommender)!r}."
        )
    started, started_at = time.perf_counter(), datetime.now(UTC).isoformat(timespec="seconds")
    sizes = sizes_for(checked["quick"])
    run = _Run(
        methods=checked["methods"] or _method_names(),
        models=tuple(dict.fromkeys(checked["models"])),
        n_clients=checked["n_clients"] or (3 if checked["quick"] else 30),
        n_reruns=checked["n_reruns"] or (5 if checked["quick"] else 10),
        seed=checked["seed"],
        sizes=sizes,
        say=progress or (lambda _message: None),
        recommender=None if recommender is None else Path(recommender),
    )
    tables = Tables()
    for name in dict.fromkeys(checked["datasets"]):
        run.say(f"{name}: loading")
        _run_dataset(load_dataset(name, sizes=sizes, seed=run.seed, data_dir=data_dir), run, tables)
    if "demo" in checked["datasets"]:
        run.say("demo: the recommender's levers")
        _run_levers(run, tables)
    study = {
        "datasets": list(dict.fromkeys(checked["datasets"])),
        "models": list(run.models),
        "methods": list(run.methods),
        "quick": checked["quick"],
        "seed": run.seed,
        "n_clients": run.n_clients,
        "n_reruns": run.n_reruns,
        "sizes": {k: getattr(sizes, k) for k in StudySizes.__dataclass_fields__},
        "versions": _versions(),
        "started_at": started_at,
        "elapsed_s": round(time.perf_counter() - started, 3),
        "skipped": tables.skipped,
    }
    frames = write_tables(tables, folder, study)
    return StudyResult(out=folder, study=study, tables=frames)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Run:
    methods: tuple[str, ...]
    models: tuple[str, ...]
    n_clients: int
    n_reruns: int
    seed: int
    sizes: StudySizes
    say: Callable[[str], None]
    recommender: Path | None


def _train(data: StudyData, family: str, run: _Run) -> Any:
    from advisor.models import train

    return train(
        data.frame,
        data.target,
        data.config,
        families=(family,),
        n_trials=run.sizes.n_trials,
        budget_s=None,
        n_folds=run.sizes.n_folds,
        seed=run.seed,
        positive=data.positive,
    )


def _run_dataset(data: StudyData, run: _Run, tables: Tables) -> None:
    """Train every family, then measure every method on the same held-out clients."""
    results = {}
    for family in run.models:
        run.say(f"{data.name} / {family}: training")
        try:
            results[family] = _train(data, family, run)
        except ValueError as exc:
            tables.skip(data.name, family, "*", f"training failed: {exc}")
    if not results:
        return
    test_rows = next(iter(results.values())).test_rows
    chosen = np.random.default_rng(run.seed).choice(
        len(test_rows), min(run.n_clients, len(test_rows)), replace=False
    )
    labels = test_rows[np.sort(chosen)]
    raw = data.frame.loc[labels]
    ids = raw["client_id"].astype(str) if "client_id" in raw else pd.Index(labels).astype(str)
    training = data.frame.drop(index=test_rows)
    truth = None
    for family, result in results.items():
        if not result.test_rows.equals(test_rows):  # the clients must be held out for all
            tables.skip(data.name, family, "*", "its test split differs from the others'")
            continue
        features = list(result.constraints.feature_names)
        clients = raw[features].set_axis(pd.Index(ids, name="client"), axis="index")
        ctx = build_context(
            dataset=data.name, model_name=family, result=result, clients=clients,
            training=training, sample_size=run.sizes.n_reference, seed=run.seed,
        )  # fmt: skip
        if data.scm_seed is not None:
            if truth is None:
                reference = ctx.business(ctx.reference_client).iloc[0]
                run.say(f"{data.name}: true effects through the SCM")
                truth = true_effects(
                    raw, reference, ctx.features, product=DEMO_PRODUCT, seed=data.scm_seed
                )
            ctx = replace(ctx, truth=truth)
        _measure_model(ctx, run, tables)
        run.say(f"{data.name} / {family} / influence")
        measure_influence(ctx, result, data, tables)


def _measure_model(ctx: ModelContext, run: _Run, tables: Tables) -> None:
    """Every method (and the model's own effects, the truth) on one model's clients."""
    from advisor.explain import make_explainer

    sources: list[Measured] = [truth_source(ctx)] if ctx.truth is not None else []
    sources.append(model_effects(ctx))
    for method in run.methods:
        run.say(f"{ctx.dataset} / {ctx.model_name} / {method}")
        try:
            measured = explain_method(
                ctx, method, seed=run.seed, n_reruns=run.n_reruns, make=make_explainer
            )
        except ImportError as exc:
            tables.skip(ctx.dataset, ctx.model_name, method, f"not in this installation: {exc}")
            continue
        except ValueError as exc:
            tables.skip(ctx.dataset, ctx.model_name, method, f"{type(exc).__name__}: {exc}")
            continue
        sources.append(measured)
    for source in sources:
        record(ctx, source, tables)
    record_agreement(ctx, sources, tables)


def _run_levers(run: _Run, tables: Tables) -> None:
    from advisor.explain import make_explainer

    measure_levers_agreement(
        methods=run.methods,
        sizes=run.sizes,
        n_clients=run.n_clients,
        seed=run.seed,
        tables=tables,
        make=make_explainer,
        recommender=run.recommender,
    )
