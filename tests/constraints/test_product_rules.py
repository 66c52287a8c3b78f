"""Per-product lever rules (``products:``): reading, validation, ``for_product`` and its effect.

The malformed corpus (``malformed/85-product-rules.yaml``) pins the file's error messages; here
the bound form is checked: ``ConstraintSet.for_product(P)`` freezes exactly the features the
file says are not levers for P and changes nothing else, and (hypothesis) nothing ``sample`` or
``project`` returns for P ever moves them, while ``check`` refuses a candidate that does.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constraints import (
    ConstraintError,
    ConstraintFileError,
    ConstraintSet,
    ProductRule,
    constraint_file_schema,
    dump_constraint_file,
    parse_constraint_file,
    parse_constraints,
)
from tests.conftest import REPO_ROOT

TEXT = """\
name: retail
max_changes: 3
features:
  age: {kind: integer, role: context, min: 18, max: 100}
  income: {kind: continuous, role: context, min: 0}
  transfer: {kind: continuous, role: actionable, direction: increase, min: 0, max: 2000}
  mobile_app: {kind: binary, role: actionable, direction: increase}
  has_card: {kind: binary, role: actionable, direction: increase}
  has_savings: {kind: binary, role: actionable, direction: increase}
  meetings: {kind: integer, role: actionable, min: 0, max: 12}
  n_products: {kind: integer, role: context}
derived:
  n_products: has_card + has_savings
products:
  securities:
    description: Holding a card or savings is not why a client opens a securities account.
    not_levers: [has_card, has_savings]
  savings:
    not_levers: [has_card, meetings]
"""


@cache
def _retail() -> ConstraintSet:
    return parse_constraints(TEXT)


FEATURES = ("transfer", "mobile_app", "has_card", "has_savings", "meetings")
CLIENT = pd.DataFrame(
    [
        {
            "age": 40,
            "income": 3000.0,
            "transfer": 100.0,
            "mobile_app": False,
            "has_card": False,
            "has_savings": False,
            "meetings": 2,
            "n_products": 0,
        }
    ]
)


@pytest.fixture(scope="module")
def cs() -> ConstraintSet:
    return _retail()


def test_the_rules_are_read_in_the_files_order(cs: ConstraintSet) -> None:
    assert cs.product_rules == (
        ProductRule(
            product="securities",
            not_levers=("has_card", "has_savings"),
            description="Holding a card or savings is not why a client opens a securities account.",
        ),
        ProductRule(product="savings", not_levers=("has_card", "meetings")),
    )
    assert cs.not_levers_for("securities") == ("has_card", "has_savings")
    assert cs.not_levers_for("home_loan") == ()


def test_for_product_freezes_exactly_the_products_not_levers(cs: ConstraintSet) -> None:
    names = cs.feature_names
    for product in ("securities", "savings"):
        frozen = cs.for_product(product).mutable
        expected = cs.mutable & ~np.isin(names, cs.not_levers_for(product))
        assert frozen.tolist() == expected.tolist()
    # a product without rules gets the set itself; everything else about the set is kept
    assert cs.for_product("home_loan") is cs
    derived = cs.for_product("securities")
    assert derived.product_rules == cs.product_rules
    assert derived.rules == cs.rules
    assert derived.max_changes == cs.max_changes
    assert [s.role for s in derived.features if s.name == "transfer"] == ["actionable"]


def test_a_product_rule_does_not_leak_into_other_products(cs: ConstraintSet) -> None:
    candidate = CLIENT.assign(has_savings=True, n_products=1)
    assert cs.check(CLIENT, candidate).ok[0]
    assert cs.for_product("savings").check(CLIENT, candidate).ok[0]
    refused = cs.for_product("securities").check(CLIENT, candidate)
    assert not refused.ok[0]
    assert "has_savings" in {v.feature for v in refused.violations(0)}


def test_a_written_file_reads_back_the_same(cs: ConstraintSet) -> None:
    doc = parse_constraint_file(TEXT)
    again = parse_constraint_file(dump_constraint_file(doc))
    assert again == doc
    assert again.products["savings"].not_levers == ["has_card", "meetings"]


def test_the_schema_documents_the_section() -> None:
    schema = constraint_file_schema()
    assert "products" in schema["properties"]
    assert schema["$defs"]["ProductModel"]["required"] == ["not_levers"]


def test_every_problem_of_the_section_is_listed_at_once_with_file_and_key_path() -> None:
    text = TEXT.replace("[has_card, meetings]", "[has_crad, meetings, meetings, n_products]")
    with pytest.raises(ConstraintFileError) as caught:
        parse_constraint_file(text, "retail.yaml")
    assert str(caught.value) == (
        "retail.yaml: 3 problems in the constraint file\n"
        "retail.yaml:19 products.savings.not_levers[0]: must name features listed under "
        "features. Got 'has_crad'. Hint: Did you mean 'has_card'?\n"
        "retail.yaml:19 products.savings.not_levers[2]: must list each feature once. Got "
        "'meetings' twice. Hint: remove the second one.\n"
        "retail.yaml:19 products.savings.not_levers[3]: must not name a derived feature (it "
        "follows its sources). Got 'n_products'. Hint: list the features it is computed from "
        "instead."
    )


def test_a_built_set_refuses_rules_naming_no_feature(cs: ConstraintSet) -> None:
    rule = ProductRule(product="x", not_levers=("nope",))
    with pytest.raises(ConstraintError, match=r"^products\.x\.not_levers: must name features\. "):
        ConstraintSet(name="t", features=cs.features, product_rules=(rule,))
    twice = (ProductRule(product="x", not_levers=("has_card",)),) * 2
    with pytest.raises(ConstraintError, match=r"^ConstraintSet\.product_rules: one rule per "):
        ConstraintSet(name="t", features=cs.features, product_rules=twice)
    with pytest.raises(ConstraintError, match=r"^products\.x\.not_levers: must list at least"):
        ProductRule(product="x", not_levers=())
    with pytest.raises(ConstraintError, match=r"^product: must be a product name \(text\)\."):
        cs.for_product(3)  # type: ignore[arg-type]


def test_the_demo_file_names_only_its_catalogues_products() -> None:
    import yaml

    doc = parse_constraint_file((REPO_ROOT / "configs" / "demo-portfolio.yaml").read_text())
    catalog = yaml.safe_load(
        (REPO_ROOT / "configs" / "catalogs" / "demo-products.yaml").read_text()
    )
    assert set(doc.products) == set(catalog["products"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    not_levers=st.lists(st.sampled_from(FEATURES), min_size=1, max_size=4, unique=True),
    seed=st.integers(0, 2**16),
)
def test_nothing_drawn_or_projected_for_a_product_moves_its_not_levers(
    not_levers: list[str], seed: int
) -> None:
    cs = replace(_retail(), product_rules=(ProductRule(product="p", not_levers=tuple(not_levers)),))
    product = cs.for_product("p")
    columns = [cs.feature_names.index(name) for name in not_levers]
    client = cs.to_array(CLIENT)
    drawn = product.sample(CLIENT, 30, seed=seed)
    assert np.array_equal(drawn[:, columns], np.repeat(client[:, columns], len(drawn), axis=0))
    moved = cs.sample(CLIENT, 30, seed=seed)  # levers of the whole file, projected for p
    projected = product.project(CLIENT, moved)
    kept = np.repeat(client[:, columns], len(moved), axis=0)
    assert np.array_equal(projected.values[:, columns], kept)
    assert product.check(CLIENT, projected.values).ok.all()
    # a candidate that moves a not-lever is refused for p (and allowed for the whole file)
    changed = moved[np.any(moved[:, columns] != client[:, columns], axis=1)]
    assert cs.check(CLIENT, changed).ok.all()
    assert not product.check(CLIENT, changed).ok.any()
