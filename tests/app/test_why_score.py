"""'Why this score' on the client page and global importance side by side on the model page.

The oracle is the explanation computed here in Python through ``advisor.explain`` on the
same model, client and reference data (the figure's bars must be its top weights), and
the bundle's held-out clients for the global tables (role shares add up to 100 %).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from advisor.explain import explanation_text, local_method, make_explainer
from advisor.levers import Advisor
from advisor.models import load_bundle
from tests.app.conftest import ENTRY, SOURCE_VARIABLES, SourceCase


def _serve(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in SOURCE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def _why_chart(app: AppTest) -> dict[str, Any]:
    """The plotly figure drawn under 'Why this score' (the one titled by its x axis)."""
    for chart in app.get("plotly_chart"):
        figure: dict[str, Any] = json.loads(chart.proto.spec)
        title = figure["layout"].get("xaxis", {}).get("title", {}).get("text", "")
        if title in ("Part of the log-odds", "Part of the score"):
            return figure
    raise AssertionError("no 'why this score' chart on the page")


def _expected(advisor: Advisor, client_id: str, product: str) -> Any:
    info = advisor.product(product)
    population = advisor.population(product)
    assert population is not None
    explainer = make_explainer(
        local_method(info.model), info.model, info.constraints, population.frame, seed=0
    )
    return explainer.explain(advisor.client(client_id))


def test_the_demo_client_page_explains_the_score_with_treeshap(
    demo_env: dict[str, str], advisor: Advisor, with_levers: tuple[str, Any]
) -> None:
    client_id, advice = with_levers
    app = AppTest.from_file(ENTRY, default_timeout=120).run()
    app.text_input(key="client_search").input(client_id).run()
    assert not app.exception
    assert any(s.value == "Why this score" for s in app.subheader)
    product = advice.product
    model = advisor.product(product).model
    expected = _expected(advisor, client_id, product)
    assert expected.method == local_method(model)
    bars = _why_chart(app)["data"][0]
    top = expected.weights[:8]
    assert bars["x"] == pytest.approx([w.weight for w in top])
    assert bars["y"] == [f"{w.label['en']} = {w.shown['en']}" for w in top]
    assert explanation_text(expected, "en") in [m.value for m in app.markdown]
    app.segmented_control(key="language").set_value("fr").run()
    assert not app.exception
    assert any(s.value == "Pourquoi ce score" for s in app.subheader)
    assert explanation_text(expected, "fr") in [m.value for m in app.markdown]


def test_a_logistic_risk_model_is_explained_by_levers_lime_with_its_fidelity(
    german_case: SourceCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(monkeypatch, german_case.env)
    advisor = Advisor.from_bundle(load_bundle(german_case.bundle), german_case.clients)
    client_id = str(german_case.clients.index[3])
    expected = _expected(advisor, client_id, advisor.products[0])
    assert expected.method == "levers_lime"
    assert expected.fidelity is not None
    app = AppTest.from_file(ENTRY, default_timeout=120).run()
    app.text_input(key="client_search").input(client_id).run()
    assert not app.exception
    caption = next(c.value for c in app.caption if c.value.startswith("Levers LIME"))
    assert f"R² {expected.fidelity.r2:.2f}" in caption
    bars = _why_chart(app)["data"][0]
    assert bars["y"][0] == f"{expected.weights[0].label['en']} = {expected.weights[0].shown['en']}"
    assert (expected.fidelity.poor) == any(
        w.value.startswith("The local model reproduces the score poorly") for w in app.warning
    )


def test_the_model_page_shows_permutation_shap_and_roles_side_by_side(
    german_case: SourceCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(monkeypatch, german_case.env)
    app = AppTest.from_file(ENTRY, default_timeout=120).run()
    app.switch_page("app_pages/model.py").run()
    assert not app.exception
    assert any(s.value == "Global importance, side by side" for s in app.subheader)
    titles = [chart_title(c) for c in app.get("plotly_chart")]
    assert "Mean |SHAP value| (log-odds)" in titles
    roles = app.dataframe[-1].value
    assert list(roles["Role"]) == ["immutable", "context", "actionable"]
    for column in ("Permutation", "|SHAP|"):
        assert roles[column].sum() == pytest.approx(100.0, abs=0.2)


def chart_title(chart: Any) -> str:
    figure = json.loads(chart.proto.spec)
    return str(figure["layout"].get("xaxis", {}).get("title", {}).get("text", ""))
