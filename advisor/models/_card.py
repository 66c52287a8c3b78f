"""The model card (``model_card.json``): typed records of what a bundle holds and how it was made.

Every record is a frozen pydantic model that refuses unknown keys, so a card is read once,
checked once, and then used through attributes (``card.models["propensity"].test.auc``).
The JSON layout is the records' fields, in declaration order.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from advisor.models._automl import TrainingResult
from advisor.models._metrics import TestMetrics

__all__ = [
    "MODEL_NAME_PATTERN",
    "ClassLabel",
    "ConstraintFileRecord",
    "DataRecord",
    "ModelCard",
    "ModelEntry",
    "ModelFileRecord",
    "ModelName",
    "ParamValue",
]

ClassLabel = bool | int | float | str
"""A class of a target column, as JSON keeps it."""
ParamValue = bool | int | float | str
"""A hyper-parameter value of a model family."""
#: A model's name (``propensity`` or a product's): it is a folder name of the bundle, so a
#: plain identifier of 1 to 64 letters, digits, ``_`` or ``-`` (no dot, no separator).
MODEL_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$"
ModelName = Annotated[str, StringConstraints(pattern=MODEL_NAME_PATTERN)]
"""A model name matching :data:`MODEL_NAME_PATTERN`."""


class _Record(BaseModel):
    # Read back with ``model_validate_json(..., strict=True)``: a number written as a string,
    # or a list where a mapping belongs, is an error naming the field.
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataRecord(_Record):
    """The training data of a bundle's models.

    Parameters
    ----------
    sha256
        Model name -> SHA-256 of the rows it was trained on (features and target).
    ignored_columns
        Columns of the data that are not features of the constraint file (nor the target).
    id_column
        The column of client ids in the training data (given, or detected as
        ``advisor.datasets.index_clients`` does); ``levers advise``, ``levers app`` and
        ``levers campaign run`` look clients up by it unless ``--id-column`` names another.
        None: the data had no id column, or the card was written before the field existed.
    """

    sha256: dict[ModelName, str]
    ignored_columns: tuple[str, ...]
    id_column: str | None = None


class ConstraintFileRecord(_Record):
    """The constraint file the models were trained with.

    Parameters
    ----------
    name
        The constraint set's name.
    sha256
        SHA-256 of the file's text; None when training was given a bound set, not a file.
    """

    name: str
    sha256: str | None


class ModelEntry(_Record):
    """One model of a bundle: what it is, how it was selected and how it scored.

    Parameters
    ----------
    family, params
        The model family (logistic, xgboost, mlp) and its hyper-parameters.
    target, classes
        The target column and its (negative, positive) classes.
    calibration
        ``sigmoid`` or ``isotonic``.
    metric, cv_score
        The cross-validation objective and the selected trial's mean score.
    test
        Metrics on the held-out test set.
    n_rows, n_train, n_test, positive_rate
        Rows of the training data, of its training and test parts, and the positive rate.
    n_trials, stopped_by
        Trials run and what ended the study (``n_trials`` or ``budget``).
    families, excluded_families
        Families searched, and those left out because they cannot be monotone.
    monotone, n_folds, budget_s, elapsed_s
        The study's settings and the run's duration in seconds.
    data_sha256, ignored_columns
        SHA-256 of the training rows (features and target) and the columns left out.
    goal
        ``raise`` (a propensity: levers lift the score) or ``lower`` (a risk score: the
        positive class is the bad outcome and levers bring it down). ``None`` in cards
        written before the field existed: the constraint file's ``goal`` applies.
    label
        The product's name for advisors set at training, ``{"en": ..., "fr": ...}``;
        ``None``: none was set (or an older card): the target and positive class are shown.
    skipped_families, n_search
        Families the study skipped because their trials could not finish within the budget
        left (family -> reason), and the training rows the study searched on (fewer
        than ``n_train`` when the budget forced a stratified sample; the model is refitted on
        all of them). ``{}`` and None in cards written before the fields existed.
    """

    family: str
    params: dict[str, ParamValue]
    target: str
    classes: tuple[ClassLabel, ClassLabel]
    calibration: Literal["sigmoid", "isotonic"]
    metric: Literal["roc_auc", "average_precision"]
    cv_score: float
    test: TestMetrics
    n_rows: int
    n_train: int
    n_test: int
    positive_rate: float
    n_trials: int
    stopped_by: Literal["n_trials", "budget"]
    families: tuple[str, ...]
    excluded_families: tuple[str, ...]
    monotone: bool
    n_folds: int
    budget_s: float | None
    elapsed_s: float
    data_sha256: str
    ignored_columns: tuple[str, ...]
    goal: Literal["raise", "lower"] | None = None
    label: dict[str, str] | None = None
    skipped_families: dict[str, str] = {}
    n_search: int | None = None

    @classmethod
    def from_training(cls, result: TrainingResult) -> ModelEntry:
        """Return the card entry of a trained model."""
        report = result.report
        return cls(
            family=result.model.family,
            params=result.model.params,
            target=report.target,
            classes=report.classes,
            calibration=report.calibration,
            metric=report.metric,
            cv_score=float(result.best[f"cv_{report.metric}"]),
            test=result.metrics,
            n_rows=report.n_rows,
            n_train=report.n_train,
            n_test=report.n_test,
            positive_rate=report.positive_rate,
            n_trials=report.n_trials,
            stopped_by=report.stopped_by,
            families=report.families,
            excluded_families=report.excluded_families,
            monotone=report.monotone,
            n_folds=report.n_folds,
            budget_s=report.budget_s,
            elapsed_s=report.elapsed_s,
            data_sha256=report.data_sha256,
            ignored_columns=report.ignored_columns,
            goal=report.goal,
            label=report.label,
            skipped_families=dict(report.skipped_families),
            n_search=report.n_search,
        )


class ModelCard(_Record):
    """What a bundle holds and how it was made (``model_card.json``).

    Parameters
    ----------
    format, format_version
        ``levers-model-bundle`` and the layout's version.
    kind
        ``propensity`` (one model, named ``propensity``) or ``recommender`` (one per product).
    created_at, seed
        When the bundle was written (ISO 8601, UTC) and the training seed.
    features
        The models' features, in the feature space's order.
    data, constraint_file
        The training data's and the constraint file's provenance.
    models
        Model name -> its entry.
    libraries
        Library -> version at training time.
    files
        Every file of the bundle (relative path) -> its SHA-256.
    """

    format: Literal["levers-model-bundle"]
    format_version: int
    kind: Literal["propensity", "recommender"]
    created_at: str
    seed: int
    features: tuple[str, ...]
    data: DataRecord
    constraint_file: ConstraintFileRecord
    models: dict[ModelName, ModelEntry]
    libraries: dict[str, str]
    files: dict[str, str]


class ModelFileRecord(_Record):
    """A model folder's ``model.json``: what the card says, as the model's own files say it."""

    family: str
    params: dict[str, ParamValue]
    target: str
    classes: tuple[ClassLabel, ClassLabel]
    calibration: Literal["sigmoid", "isotonic"]
