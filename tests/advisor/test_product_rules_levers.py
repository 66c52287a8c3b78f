"""Per-product lever rules on the advisor side, and the demo file's rules against its SCM.

- The demo constraint file's ``products:`` section is derived from the demo's causal graph
  (no path at all to the product, or a holding whose every path crosses another lever): the
  oracle here walks ``advisor.datasets.CAUSAL_GRAPH`` itself.
- Every product's constraint set freezes what the file says is not a lever for it.
- (hypothesis) Levers for a product P never change a feature declared not a lever for P.
- A recommender refuses a rule for a product its catalogue does not have, naming both; a
  single model's product is its target.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.datasets import CAUSAL_GRAPH
from advisor.errors import AdvisorError
from advisor.levers import Advisor, Status, load_demo_advisor
from advisor.models import DemoBundleSettings, ProductRecommender, demo_catalog
from constraints import ConstraintSet, ProductRule, load_constraint_file
from tests.conftest import DEMO_TEST_CLIENTS, REPO_ROOT

DEMO_FILE = REPO_ROOT / "configs" / "demo-portfolio.yaml"


@pytest.fixture(scope="module")
def advisor(demo_bundle: Path) -> Advisor:
    """The demo recommender (3,000 clients, one trial per product), search engine."""
    settings = DemoBundleSettings(out=demo_bundle, n_clients=DEMO_TEST_CLIENTS)
    found, _ = load_demo_advisor(settings, engine="search", time_limit_s=None)
    return found


def _reachable(source: str, blocked: set[str]) -> set[str]:
    """Nodes reached from ``source`` along the graph's arrows, never entering ``blocked``."""
    children: dict[str, set[str]] = {}
    for node, parents in CAUSAL_GRAPH.items():
        for parent in parents:
            children.setdefault(parent, set()).add(node)
    seen: set[str] = set()
    todo = [source]
    while todo:
        for child in children.get(todo.pop(), set()) - blocked - seen:
            seen.add(child)
            todo.append(child)
    return seen


def test_the_demo_files_rules_are_what_the_causal_graph_says() -> None:
    """The file's not-levers for P are exactly the two rules derived from the graph.

    1. An actionable feature with no causal path at all to ``take_P`` is not a lever for P.
    2. An actionable holding whose every path to ``take_P`` crosses another lever is not one.
    """
    doc = load_constraint_file(DEMO_FILE)
    catalog = demo_catalog()
    actionable = {name for name, spec in doc.features.items() if spec.role == "actionable"}
    holdings = {p.held for p in catalog.products.values()} & actionable
    assert holdings, "the demo's catalogue holds actionable products"
    assert actionable - holdings, "the demo has actionable features other than holdings"
    for name, product in catalog.products.items():
        label = f"take_{name}"
        assert label in CAUSAL_GRAPH
        no_path = {f for f in actionable - {product.held} if label not in _reachable(f, set())}
        through_levers = {
            held
            for held in holdings - {product.held}
            if label not in _reachable(held, actionable - {held})
        }
        rule = doc.products.get(name)
        assert set(rule.not_levers if rule else ()) == no_path | through_levers, name
    # the section is not empty, and keeps the features with an effect of their own
    securities = set(doc.products["securities_account"].not_levers)
    assert {"has_premium_card", "monthly_savings_transfer", "salary_domiciled"} <= securities
    assert not securities & {"has_savings_account", "mobile_app", "advisor_meetings_per_year"}


def test_each_products_set_freezes_its_not_levers(advisor: Advisor) -> None:
    base = advisor.constraints
    names = base.feature_names
    for product in advisor.products:
        info = advisor.product(product)
        frozen = {*base.not_levers_for(product), *([info.held] if info.held else [])}
        expected = [bool(m) and n not in frozen for n, m in zip(names, base.mutable, strict=True)]
        assert info.constraints.mutable.tolist() == expected, product


def _with_rule(cs: ConstraintSet, product: str, not_levers: tuple[str, ...]) -> ConstraintSet:
    others = tuple(r for r in cs.product_rules if r.product != product)
    merged = tuple(dict.fromkeys((*cs.not_levers_for(product), *not_levers)))
    return replace(cs, product_rules=(*others, ProductRule(product=product, not_levers=merged)))


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(data=st.data())
def test_levers_for_a_product_never_change_its_not_levers(
    advisor: Advisor, data: st.DataObject
) -> None:
    reference = advisor.reference
    assert reference is not None
    product = data.draw(st.sampled_from(advisor.products), label="product")
    held = advisor.product(product).held
    actionable = [s.name for s in advisor.constraints.features if s.role == "actionable"]
    extra = data.draw(
        st.lists(st.sampled_from([n for n in actionable if n != held]), max_size=3, unique=True),
        label="extra not levers",
    )
    cs = _with_rule(advisor.constraints, product, tuple(extra))
    ruled = Advisor(
        advisor.model, cs, reference=reference, engine="search", time_limit_s=None, seed=0
    )
    not_levers = set(cs.not_levers_for(product))
    candidates = reference.loc[~reference[held].astype(bool)] if held else reference
    position = data.draw(st.integers(0, len(candidates) - 1), label="client")
    client = candidates.iloc[[position]]
    advice = ruled.advise(client, product=product)
    before = client.iloc[0]
    for lever in advice.levers:
        assert not {a.feature for a in lever.actions} & not_levers, (product, lever.actions)
        for name in not_levers:
            assert lever.values[name] == before[name], (product, name)
    assert advice.status in (Status.FOUND, Status.NONE, Status.REACHED)


def test_a_recommender_refuses_a_rule_for_a_product_it_does_not_have(advisor: Advisor) -> None:
    assert isinstance(advisor.model, ProductRecommender)
    typo = _with_rule(advisor.constraints, "securites_account", ("has_premium_card",))
    known = ", ".join(advisor.products)
    with pytest.raises(AdvisorError) as caught:
        Advisor(advisor.model, typo, reference=advisor.reference)
    assert str(caught.value) == (
        f"products: must name the model's products ({known}). Got 'securites_account' in "
        "constraint file 'demo-portfolio'. Hint: use the product names of the catalogue (a "
        "single model's product is its target), or remove the rule."
    )


def test_a_single_models_product_is_its_target(advisor: Advisor) -> None:
    assert isinstance(advisor.model, ProductRecommender)
    model = advisor.model.models["life_insurance"]
    reference = advisor.reference
    assert isinstance(reference, pd.DataFrame)
    # the demo file's rules name catalogue products: a single model leaves them aside
    single = Advisor(model, advisor.constraints, reference=reference)
    assert single.product(model.target).constraints.mutable.tolist() == (
        advisor.constraints.mutable.tolist()
    )
    ruled = _with_rule(advisor.constraints, model.target, ("mobile_app",))
    info = Advisor(model, ruled, reference=reference).product(model.target)
    assert info.constraints.not_levers_for(model.target)[-1] == "mobile_app"
    assert not info.constraints.mutable[ruled.feature_names.index("mobile_app")]
