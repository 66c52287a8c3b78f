"""Model training, selection, recommendation and safe bundles.

- :func:`train` runs the AutoML study (logistic regression, XGBoost, a torch MLP) for one
  binary target and returns a calibrated :class:`PropensityModel` with its leaderboard and
  test metrics.
- :func:`train_recommender` trains one such model per product of a :class:`ProductCatalog`;
  :class:`ProductRecommender` ranks the products a client does not hold yet.
- :func:`save_bundle` / :func:`load_bundle` persist either without pickle.
"""

from advisor.models._automl import (
    TrainingReport,
    TrainingResult,
    TrialProgress,
    monotone_constraints,
    train,
    training_split,
)
from advisor.models._bundle import ModelBundle, ModelCard, load_bundle, save_bundle
from advisor.models._demo import DemoBundleSettings, build_demo_bundle, config_dir
from advisor.models._diagnostics import (
    ConstraintStatus,
    HeldOut,
    RowSplit,
    held_out_clients,
    permutation_importance,
    split_rows,
    validate_constraint_text,
)
from advisor.models._families import FAMILIES
from advisor.models._metrics import TestMetrics, evaluate
from advisor.models._mlp import TorchMLPClassifier
from advisor.models._products import (
    Product,
    ProductCatalog,
    ProductRecommender,
    RecommenderTraining,
    load_product_catalog,
    train_recommender,
)
from advisor.models._propensity import Calibrator, PropensityModel

__all__ = [
    "FAMILIES",
    "Calibrator",
    "ConstraintStatus",
    "DemoBundleSettings",
    "HeldOut",
    "ModelBundle",
    "ModelCard",
    "Product",
    "ProductCatalog",
    "ProductRecommender",
    "PropensityModel",
    "RecommenderTraining",
    "RowSplit",
    "TestMetrics",
    "TorchMLPClassifier",
    "TrainingReport",
    "TrainingResult",
    "TrialProgress",
    "build_demo_bundle",
    "config_dir",
    "evaluate",
    "held_out_clients",
    "load_bundle",
    "load_product_catalog",
    "monotone_constraints",
    "permutation_importance",
    "save_bundle",
    "split_rows",
    "train",
    "train_recommender",
    "training_split",
    "validate_constraint_text",
]
