"""The Constraints page lists the file's per-product lever rules, in the advisor's words."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from advisor.levers import Advisor
from tests.app.conftest import ENTRY


def test_constraints_page_lists_what_is_not_a_lever_for_each_product(
    demo_env: dict[str, str], advisor: Advisor
) -> None:
    app = AppTest.from_file(ENTRY, default_timeout=60).run()
    app.switch_page("app_pages/constraints.py").run()
    assert not app.exception
    assert "Not levers, per product" in [s.value for s in app.subheader]
    cs = advisor.constraints
    expected = {
        advisor.product_label(rule.product): ", ".join(
            cs.feature(name).label.en for name in rule.not_levers
        )
        for rule in cs.product_rules
    }
    assert len(expected) == 8
    table = next(df.value for df in app.dataframe if "Product" in df.value.columns)
    assert dict(zip(table["Product"], table["Not levers for it"], strict=True)) == expected
    app.segmented_control(key="language").set_value("fr").run()
    assert not app.exception
    table = next(df.value for df in app.dataframe if "Produit" in df.value.columns)
    assert table["Produit"].tolist() == [
        advisor.product_label(rule.product, "fr") for rule in cs.product_rules
    ]
