"""Pure rendering helpers of the model and constraints pages: card tables and figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from advisor.models import ModelEntry
from app.render import BLUE, GREY, MARGIN, feature_label, translated
from app.texts import ROLE_NAMES, Language, text


# ---------------------------------------------------------------- model page
def model_card_table(
    models: Mapping[str, ModelEntry], labels: Mapping[str, str], language: Language = "en"
) -> pd.DataFrame:
    """One row per model of the card: family, CV and test metrics, sizes."""
    rows = [
        {
            text("product", language): labels.get(name, name),
            text("col.family", language): entry.family,
            "cv AUC": entry.cv_score,
            "test AUC": entry.test.auc,
            "average precision": entry.test.average_precision,
            "Brier": entry.test.brier,
            text("col.positive_rate", language): entry.positive_rate,
            text("col.n_train", language): entry.n_train,
            text("col.n_test", language): entry.n_test,
            text("col.trials", language): entry.n_trials,
        }
        for name, entry in models.items()
    ]
    return pd.DataFrame(rows)


def leaderboard_table(board: pd.DataFrame) -> pd.DataFrame:
    """The study's trials, best first, parameters as readable text."""
    table = board.copy()
    score = next((c for c in table.columns if str(c).startswith("cv_") and c != "cv_std"), None)
    if score is not None:
        table = table.sort_values(score, ascending=False, na_position="last", kind="stable")
    if "params" in table:
        table["params"] = [
            ", ".join(f"{k}={_short(v)}" for k, v in p.items()) if isinstance(p, Mapping) else ""
            for p in table["params"]
        ]
    return table.reset_index(drop=True)


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def importance_figure(
    table: pd.DataFrame, labels: Mapping[str, str], language: Language = "en", top: int = 15
) -> go.Figure:
    """Horizontal bars with error bars: the features whose shuffling hurts the model most."""
    shown = table.head(top)
    return _bars(
        list(shown["drop_mean"]),
        [labels.get(f, f) for f in shown["feature"]],
        text("model.drop", language),
        errors=list(shown["drop_std"]),
    )


def _bars(
    x: Sequence[float],
    y: Sequence[str],
    axis: str,
    *,
    errors: Sequence[float] | None = None,
    row_height: int = 26,
) -> go.Figure:
    """Horizontal bars, the first on top: blue above 0, grey at or below; no legend."""
    bar = go.Bar(
        x=list(x),
        y=list(y),
        orientation="h",
        marker_color=[BLUE if value > 0 else GREY for value in x],
        hovertemplate="%{y}: %{x:.4f}<extra></extra>",
    )
    if errors is not None:
        bar.error_x = {"type": "data", "array": list(errors), "visible": True}
    figure = go.Figure(bar)
    figure.update_layout(
        height=60 + row_height * len(y),
        margin=MARGIN,
        xaxis={"title": axis},
        yaxis={"autorange": "reversed"},
        showlegend=False,
    )
    return figure


def calibration_figure(test: Mapping[str, Any], language: Language = "en") -> go.Figure:
    """Observed positive rate against the mean prediction per bin, and the diagonal."""
    predicted = list(test.get("calibration_predicted", []))
    observed = list(test.get("calibration_observed", []))
    count = list(test.get("calibration_count", []))
    top = max([*predicted, *observed, 0.05]) * 1.05
    figure = go.Figure(
        [
            go.Scatter(
                x=[0, top],
                y=[0, top],
                mode="lines",
                line={"dash": "dash", "color": GREY},
                name=text("model.perfect", language),
            ),
            go.Scatter(
                x=predicted,
                y=observed,
                mode="lines+markers",
                marker={"size": 9, "color": BLUE},
                customdata=count,
                hovertemplate="%{x:.1%} → %{y:.1%} (n=%{customdata})<extra></extra>",
                name=text("model.bins", language),
            ),
        ]
    )
    figure.update_layout(
        height=340,
        margin=MARGIN,
        xaxis={"title": text("model.predicted", language), "tickformat": ".0%", "range": [0, top]},
        yaxis={"title": text("model.observed", language), "tickformat": ".0%", "range": [0, top]},
        legend={"orientation": "h", "y": 1.12},
    )
    return figure


# ---------------------------------------------------------------- constraints page
def constraints_table(
    described: pd.DataFrame, features: Sequence[Any], language: Language = "en"
) -> pd.DataFrame:
    """The constraint file's features as a readable table, labels and headers in ``language``."""
    table = described.copy()
    by_name = {spec.name: spec for spec in features}
    table["label"] = [
        feature_label(by_name[f], language) if f in by_name else f for f in table["feature"]
    ]
    table["role"] = [ROLE_NAMES.get(r, {}).get(language, r) for r in table["role"]]
    for column in ("kind", "direction"):
        if column in table:
            table[column] = [translated(v, language) for v in table[column]]
    ordered = ["label", *[c for c in table.columns if c != "label"]]
    headers = {c: text(key, language) for c, key in _CONSTRAINT_COLUMNS.items() if c in table}
    return table[ordered].rename(columns=headers)


_CONSTRAINT_COLUMNS = {
    "label": "col.label",
    "feature": "col.feature",
    "kind": "col.kind",
    "role": "col.role",
    "direction": "col.direction.rule",
    "range": "col.range",
    "step": "col.step",
    "max_change": "col.max_change",
    "missing": "col.missing",
}


# ---------------------------------------------------------------- explanations
METHOD_NAMES = {
    "tree_shap": "TreeSHAP",
    "exact_shap": "Exact SHAP",
    "kernel_shap": "KernelSHAP",
    "lime": "LIME",
    "levers_lime": "Levers LIME",
    "integrated_gradients": "Integrated gradients",
}


def why_figure(explanation: Any, language: Language = "en", top: int = 8) -> go.Figure:
    """Horizontal bars: the features that move this client's score most, up or down."""
    weights = explanation.weights[:top]
    return _bars(
        [w.weight for w in weights],
        [f"{w.label[language]} = {w.shown[language]}" for w in weights],
        text(f"why.axis.{explanation.scale}", language),
        row_height=28,
    )


def shap_figure(
    table: pd.DataFrame, labels: Mapping[str, str], language: Language = "en", top: int = 15
) -> go.Figure:
    """Horizontal bars: mean |SHAP| per feature, the largest first."""
    shown = table.head(top)
    return _bars(
        list(shown["mean_abs_shap"]),
        [labels.get(f, f) for f in shown["feature"]],
        text("model.shap.axis", language),
    )


def roles_table(roles: pd.DataFrame, language: Language = "en") -> pd.DataFrame:
    """Each role's share of the importance, one column per method, in percent."""
    names = {"permutation": text("model.roles.permutation", language), "mean_abs_shap": "|SHAP|"}
    table = (roles * 100).round(1).rename(columns=names)
    table.index = [ROLE_NAMES.get(str(role), {}).get(language, str(role)) for role in table.index]
    table.index.name = text("model.roles.role", language)
    return table.reset_index()
