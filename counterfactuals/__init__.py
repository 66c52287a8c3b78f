"""Counterfactual search engines, model adapters, results and metrics.

May import :mod:`constraints`; never :mod:`advisor` nor :mod:`app`.
"""

from counterfactuals._adapters import adapt
from counterfactuals._adapters import margin_model_of as margin_model
from counterfactuals._api import GENERATE_PARAMS, generate, generate_many
from counterfactuals._engine import (
    ENGINES,
    MAX_COUNTERFACTUALS,
    MAX_SEED,
    MAX_TIME_S,
    SOLVE_PARAMS,
    Engine,
    EngineOutput,
    EngineRequest,
    Support,
    check_solve,
    missing_support,
    register_engine,
)
from counterfactuals._exact import ExactEngine
from counterfactuals._gradient import GradientEngine
from counterfactuals._model import (
    LinearFunction,
    Link,
    MarginModel,
    ModelAdapter,
    ScoreModel,
    TorchFunction,
    TreeEnsemble,
    identity_link,
    logistic_link,
)
from counterfactuals._result import Change, Counterfactual, CounterfactualResult, Status
from counterfactuals._search import SearchEngine
from counterfactuals._space import FeatureSpace
from counterfactuals._target import BoundTarget, Target
from counterfactuals.errors import CounterfactualError

__all__ = [
    "ENGINES",
    "GENERATE_PARAMS",
    "MAX_COUNTERFACTUALS",
    "MAX_SEED",
    "MAX_TIME_S",
    "SOLVE_PARAMS",
    "BoundTarget",
    "Change",
    "Counterfactual",
    "CounterfactualError",
    "CounterfactualResult",
    "Engine",
    "EngineOutput",
    "EngineRequest",
    "ExactEngine",
    "FeatureSpace",
    "GradientEngine",
    "LinearFunction",
    "Link",
    "MarginModel",
    "ModelAdapter",
    "ScoreModel",
    "SearchEngine",
    "Status",
    "Support",
    "Target",
    "TorchFunction",
    "TreeEnsemble",
    "adapt",
    "check_solve",
    "generate",
    "generate_many",
    "identity_link",
    "logistic_link",
    "margin_model",
    "missing_support",
    "register_engine",
]
