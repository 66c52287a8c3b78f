"""Model training, selection, recommendation and safe bundles.

- :func:`train` runs the AutoML study (logistic regression, XGBoost, a torch MLP) for one
  binary target and returns a calibrated :class:`PropensityModel` with its leaderboard and
  test metrics; its parameters follow :data:`TRAIN_PARAMS`.
- :func:`train_recommender` trains one such model per product of a :class:`ProductCatalog`;
  :class:`ProductRecommender` ranks the products a client does not hold yet.
- :func:`save_bundle` / :func:`load_bundle` persist either without pickle; a bundle's
  :class:`ModelCard` is typed (:class:`ModelEntry`, :class:`DataRecord`,
  :class:`ConstraintFileRecord`, :class:`TestMetrics`).
- The building blocks, for benchmarks and evidence: :func:`prepare_training_data`
  (:class:`TrainingData`), :func:`training_split`, the model families (:data:`FAMILIES`,
  :class:`Family`, the fitted :class:`Estimator` classes), :func:`fit_calibrator` and
  :func:`early_stopping_split` (the MLP's own validation split).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor._lazy import lazy_exports

if TYPE_CHECKING:
    from advisor.models._automl import (
        MAX_BUDGET_S,
        MAX_SEED,
        MAX_TRIALS,
        TRAIN_PARAMS,
        TrainingReport,
        TrainingResult,
        monotone_constraints,
        train,
    )
    from advisor.models._bundle import ModelBundle, load_bundle, save_bundle
    from advisor.models._card import ConstraintFileRecord, DataRecord, ModelCard, ModelEntry
    from advisor.models._data import (
        TrainingData,
        infer_positive,
        observed_classes,
        prepare_training_data,
        training_split,
    )
    from advisor.models._demo import DemoBundleSettings, build_demo_bundle, config_dir, demo_catalog
    from advisor.models._diagnostics import (
        ConstraintStatus,
        HeldOut,
        RowSplit,
        held_out_clients,
        permutation_importance,
        split_rows,
        validate_constraint_text,
    )
    from advisor.models._families import (
        FAMILIES,
        Estimator,
        Family,
        LogisticEstimator,
        MLPEstimator,
        XGBoostEstimator,
    )
    from advisor.models._impute import DesignImputer, fit_imputer, recorded_imputation
    from advisor.models._metrics import TestMetrics, evaluate
    from advisor.models._mlp import TorchMLPClassifier, early_stopping_split
    from advisor.models._products import (
        Product,
        ProductCatalog,
        ProductRecommender,
        RecommenderTraining,
        load_product_catalog,
        train_recommender,
    )
    from advisor.models._propensity import Calibrator, PropensityModel, fit_calibrator
    from advisor.models._study import TrialProgress

__all__ = [
    "FAMILIES",
    "MAX_BUDGET_S",
    "MAX_SEED",
    "MAX_TRIALS",
    "TRAIN_PARAMS",
    "Calibrator",
    "ConstraintFileRecord",
    "ConstraintStatus",
    "DataRecord",
    "DemoBundleSettings",
    "DesignImputer",
    "Estimator",
    "Family",
    "HeldOut",
    "LogisticEstimator",
    "MLPEstimator",
    "ModelBundle",
    "ModelCard",
    "ModelEntry",
    "Product",
    "ProductCatalog",
    "ProductRecommender",
    "PropensityModel",
    "RecommenderTraining",
    "RowSplit",
    "TestMetrics",
    "TorchMLPClassifier",
    "TrainingData",
    "TrainingReport",
    "TrainingResult",
    "TrialProgress",
    "XGBoostEstimator",
    "build_demo_bundle",
    "config_dir",
    "demo_catalog",
    "early_stopping_split",
    "evaluate",
    "fit_calibrator",
    "fit_imputer",
    "held_out_clients",
    "infer_positive",
    "load_bundle",
    "load_product_catalog",
    "monotone_constraints",
    "observed_classes",
    "permutation_importance",
    "prepare_training_data",
    "recorded_imputation",
    "save_bundle",
    "split_rows",
    "train",
    "train_recommender",
    "training_split",
    "validate_constraint_text",
]

# Each public name and the module defining it, imported on first use: importing the package
# stays light (``levers --help`` loads no model library); see tests/test_startup.py.
_EXPORTS = {
    "MAX_BUDGET_S": "advisor.models._automl",
    "MAX_SEED": "advisor.models._automl",
    "MAX_TRIALS": "advisor.models._automl",
    "TRAIN_PARAMS": "advisor.models._automl",
    "TrainingReport": "advisor.models._automl",
    "TrainingResult": "advisor.models._automl",
    "monotone_constraints": "advisor.models._automl",
    "train": "advisor.models._automl",
    "ModelBundle": "advisor.models._bundle",
    "load_bundle": "advisor.models._bundle",
    "save_bundle": "advisor.models._bundle",
    "ConstraintFileRecord": "advisor.models._card",
    "DataRecord": "advisor.models._card",
    "ModelCard": "advisor.models._card",
    "ModelEntry": "advisor.models._card",
    "TrainingData": "advisor.models._data",
    "infer_positive": "advisor.models._data",
    "observed_classes": "advisor.models._data",
    "prepare_training_data": "advisor.models._data",
    "training_split": "advisor.models._data",
    "DemoBundleSettings": "advisor.models._demo",
    "build_demo_bundle": "advisor.models._demo",
    "config_dir": "advisor.models._demo",
    "demo_catalog": "advisor.models._demo",
    "ConstraintStatus": "advisor.models._diagnostics",
    "HeldOut": "advisor.models._diagnostics",
    "RowSplit": "advisor.models._diagnostics",
    "held_out_clients": "advisor.models._diagnostics",
    "permutation_importance": "advisor.models._diagnostics",
    "split_rows": "advisor.models._diagnostics",
    "validate_constraint_text": "advisor.models._diagnostics",
    "FAMILIES": "advisor.models._families",
    "Estimator": "advisor.models._families",
    "Family": "advisor.models._families",
    "LogisticEstimator": "advisor.models._families",
    "MLPEstimator": "advisor.models._families",
    "XGBoostEstimator": "advisor.models._families",
    "DesignImputer": "advisor.models._impute",
    "fit_imputer": "advisor.models._impute",
    "recorded_imputation": "advisor.models._impute",
    "TestMetrics": "advisor.models._metrics",
    "evaluate": "advisor.models._metrics",
    "TorchMLPClassifier": "advisor.models._mlp",
    "early_stopping_split": "advisor.models._mlp",
    "Product": "advisor.models._products",
    "ProductCatalog": "advisor.models._products",
    "ProductRecommender": "advisor.models._products",
    "RecommenderTraining": "advisor.models._products",
    "load_product_catalog": "advisor.models._products",
    "train_recommender": "advisor.models._products",
    "Calibrator": "advisor.models._propensity",
    "PropensityModel": "advisor.models._propensity",
    "fit_calibrator": "advisor.models._propensity",
    "TrialProgress": "advisor.models._study",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
