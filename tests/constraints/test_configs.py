"""The constraint files of the real data sets (configs/*.yaml) bind to their data and hold.

Each file is loaded with its data set's loader and bound with ``load_constraints``: no
warning, features equal to the data columns minus the target (and bank marketing's leaking
``duration``), categories equal to the loader's, every client feasible as it is, sampled
levers feasible and never touching immutable, protected or context features, and the rules
the experts wrote reject what they should. The tests skip when the shared data is absent
(``../shared/data``, or ``$LEVERS_SHARED_DATA``), and fail under CI (``CI`` set).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.datasets import Dataset, load_bank_marketing, load_caravan, load_german_credit
from constraints import (
    ChangeGroup,
    ConstraintSet,
    OneHotGroup,
    changed,
    inspect_constraint_file,
    load_constraints,
)
from tests.conftest import REPO_ROOT, shared_data_file

CONFIGS = REPO_ROOT / "configs"
N_SAMPLED_CLIENTS = 20
N_SAMPLES = 50


def _bank_with_duration(path: Path) -> Dataset:
    # Keep duration so that the test sees the file's real columns and asserts that the
    # constraint file leaves duration out on purpose.
    return load_bank_marketing(path, drop_duration=False)


@dataclass(frozen=True)
class Case:
    """A constraint file, the data file it is written for, and what it leaves out."""

    config: str
    data: tuple[str, ...]
    loader: Callable[[Path], Dataset]
    excluded: frozenset[str]

    @property
    def id(self) -> str:
        return f"{self.config}:{self.data[-1]}"


CASES = [
    Case(
        "bank-marketing.yaml",
        ("bank-marketing", "bank-full.csv"),
        _bank_with_duration,
        frozenset({"y", "duration"}),
    ),
    Case(
        "bank-marketing-additional.yaml",
        ("bank-marketing", "bank-additional-full.csv"),
        _bank_with_duration,
        frozenset({"y", "duration"}),
    ),
    Case(
        "german-credit.yaml",
        ("german-credit", "german.data"),
        load_german_credit,
        frozenset({"credit_risk"}),
    ),
    Case("caravan.yaml", ("caravan", "Caravan.csv"), load_caravan, frozenset({"Purchase"})),
    # The official CoIL hold-out set has the same header: the same file must fit it.
    Case(
        "caravan.yaml",
        ("caravan", "caravan_eval_coil2000.csv"),
        load_caravan,
        frozenset({"Purchase"}),
    ),
]

# Binding warnings each case is expected to raise (path of the key -> why). Any new warning
# must be looked at, then listed here. The files' bounds on actionable features are limits on
# what a lever proposes, and real clients already lie beyond some of them (a warning, not an
# error: see docs/constraints.md, Limits); the files are left as the experts wrote them.
EXPECTED_NOTES: dict[str, dict[str, str]] = {case.id: {} for case in CASES} | {
    "bank-marketing.yaml:bank-full.csv": {
        "features.campaign.max": "1,196 clients were called 11 to 63 times; levers stop at 10",
        "features.previous": "one client had 275 previous contacts (p99: 8.9), a known outlier",
    },
    "bank-marketing-additional.yaml:bank-additional-full.csv": {
        "features.campaign.max": "869 clients were called 11 to 56 times; levers stop at 10",
    },
    "german-credit.yaml:german.data": {
        "features.duration.min": "7 loans last 4 or 5 months; levers propose 6 months or more",
    },
    "caravan.yaml:caravan_eval_coil2000.csv": {
        "features.PPERSAUT.max": "one client of the hold-out set has car premium band 9",
    },
}


def data_file(case: Case) -> Path:
    """Return the case's shared data file; skip the test when it is absent (fail under CI)."""
    return shared_data_file(*case.data)


@functools.cache
def _bound(case: Case) -> tuple[pd.DataFrame, ConstraintSet]:
    frame = case.loader(data_file(case)).frame
    return frame, load_constraints(CONFIGS / case.config, frame)


def bound(case: Case) -> tuple[pd.DataFrame, ConstraintSet]:
    """The case's data (as the loader gives it) and its bound constraint set (cached)."""
    data_file(case)  # skip before the cache, so a missing file is never cached
    return _bound(case)


def frozen_mask(cs: ConstraintSet) -> np.ndarray:
    """Features a lever must never touch: immutable (protected included) and context."""
    return np.array([f.role != "actionable" for f in cs.features])


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    result: Case = request.param
    return result


# --- the file itself -----------------------------------------------------------------------


def test_file_validates_without_warnings(case: Case) -> None:
    path = CONFIGS / case.config
    doc, problems = inspect_constraint_file(path.read_text(encoding="utf-8"), path.name)
    assert doc is not None, [str(p) for p in problems]
    assert [str(p) for p in problems] == []
    assert doc.name == path.stem
    assert doc.description.strip()
    assert doc.max_changes is not None


def test_actionable_features_speak_both_languages(case: Case) -> None:
    path = CONFIGS / case.config
    doc, _ = inspect_constraint_file(path.read_text(encoding="utf-8"), path.name)
    assert doc is not None
    actionable = {n: f for n, f in doc.features.items() if f.role == "actionable"}
    assert actionable, "a constraint file without levers proposes nothing"
    for name, feature in actionable.items():
        assert feature.label is not None, name
        assert feature.lever is not None, name
        for text in (feature.label.en, feature.label.fr, feature.lever.en, feature.lever.fr):
            assert text.strip(), name
    for name, feature in doc.features.items():
        if feature.protected:
            assert feature.role == "immutable", name


# --- binding to the data -------------------------------------------------------------------


def test_binds_with_only_the_expected_warnings(case: Case) -> None:
    _, cs = bound(case)
    assert {n.path: n.message for n in cs.notes}.keys() == EXPECTED_NOTES[case.id].keys()


def test_features_are_the_data_columns_but_the_excluded_ones(case: Case) -> None:
    frame, cs = bound(case)
    assert set(frame.columns) - set(cs.feature_names) == case.excluded
    assert set(cs.feature_names) <= set(frame.columns)
    assert cs.feature_names == tuple(c for c in frame.columns if c not in case.excluded)


def test_categories_are_the_loaders(case: Case) -> None:
    frame, cs = bound(case)
    for spec in cs.features:
        column = frame[spec.name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            labels = [str(c) for c in column.cat.categories]
            if spec.kind == "binary":
                assert sorted(map(str, spec.categories)) == sorted(labels), spec.name
            else:
                assert [str(c) for c in spec.categories] == labels, spec.name
                if spec.kind == "ordinal":
                    assert column.cat.ordered, spec.name
        elif spec.kind in ("categorical", "ordinal"):
            # coded numbers (Caravan): every value of the data is a declared category
            assert set(column.unique().tolist()) <= set(spec.categories), spec.name


def test_every_client_is_feasible_as_is(case: Case) -> None:
    frame, cs = bound(case)
    x = cs.to_array(frame)
    result = cs.check(x, x)  # one client per candidate row: each client against itself
    assert result.ok.all(), result.to_frame().head(10).to_string()


def test_sampled_levers_are_feasible_and_spare_what_is_not_a_lever(case: Case) -> None:
    frame, cs = bound(case)
    x = cs.to_array(frame)
    frozen = frozen_mask(cs)
    protected = np.array([f.protected for f in cs.features])
    assert not (protected & ~frozen).any()
    rows = np.linspace(0, len(x) - 1, N_SAMPLED_CLIENTS).astype(int)
    # a change of a group (one-hot, or features moving together) counts once; derived never
    units = {f.name: f.name for f in cs.features}
    groups: list[OneHotGroup | ChangeGroup] = [*cs.one_hot, *cs.change_groups]
    for group in groups:
        units |= dict.fromkeys(group.features, group.name)
    units |= {d.feature: "" for d in cs.derived}
    units_by_index = [units[name] for name in cs.feature_names]
    n_levers = 0
    for seed, row in enumerate(rows):
        client = x[row]
        samples = cs.sample(client, N_SAMPLES, seed=seed)
        assert samples.shape[1] == cs.n_features
        assert len(samples) <= N_SAMPLES
        if not len(samples):
            continue
        n_levers += len(samples)
        result = cs.check(client, samples)
        assert result.ok.all(), result.to_frame().head(10).to_string()
        assert (samples[:, frozen] == client[frozen]).all(), "a lever touched a non-lever"
        moved = changed(client, samples)
        assert moved.any(axis=1).all()
        n_units = np.array(
            [len({units_by_index[j] for j in np.flatnonzero(row)} - {""}) for row in moved]
        )
        assert cs.max_changes is None or (n_units <= cs.max_changes).all()
    # measured: every sampled client of every file gets all the levers asked for
    assert n_levers == N_SAMPLED_CLIENTS * N_SAMPLES, "levers are too rarely feasible"


def test_constraints_check_command_accepts_the_file(case: Case) -> None:
    result = CliRunner().invoke(
        app, ["constraints", "check", str(CONFIGS / case.config), "--data", str(data_file(case))]
    )
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    assert result.output.count("warning:") == len(EXPECTED_NOTES[case.id]), result.output
    assert "error:" not in result.output


# --- the experts' rules reject what they should ------------------------------------------

# (case id, a query picking the client, the lever's changes, the violations expected as
#  "<rule>:<feature>" or "rule:<name>"; an empty set means the lever must pass)
BANK, BANK_ADD = (
    "bank-marketing.yaml:bank-full.csv",
    "bank-marketing-additional.yaml:bank-additional-full.csv",
)
GERMAN, CARAVAN = "german-credit.yaml:german.data", "caravan.yaml:Caravan.csv"
MID_AMOUNT = "credit_amount > 4000 and credit_amount < 6000"
RuleCase = tuple[str, str, dict[str, object], set[str]]
RULE_CASES: list[RuleCase] = [
    (BANK, "month == 'may' and campaign == 1", {"month": "feb", "day": 30}, {"rule:february"}),
    (BANK, "month == 'may' and campaign == 1", {"month": "feb", "day": 14}, set()),
    (BANK, "day == 31 and month == 'jul'", {"month": "sep"}, {"rule:30-day months"}),
    (BANK, "day == 31 and month == 'jul'", {"month": "oct"}, set()),
    (BANK, "contact == 'cellular'", {"contact": "unknown"}, {"transition:contact"}),
    (BANK, "contact == 'unknown'", {"contact": "cellular"}, set()),
    (BANK, "poutcome == 'failure' and campaign == 4", {"campaign": 5},
     {"rule:no insisting after a refusal"}),
    (BANK, "campaign == 2 and previous == 10", {"campaign": 3}, {"rule:contact pressure"}),
    (BANK, "campaign == 3 and previous == 0", {"campaign": 2}, {"direction:campaign"}),
    (BANK, "campaign == 1 and previous == 0", {"campaign": 4}, {"max_change:campaign"}),
    (BANK, "month == 'may' and campaign == 1 and previous == 0 and contact == 'cellular' "
           "and day != 2",
     {"month": "oct", "day": 2, "contact": "telephone", "campaign": 2}, {"max_changes"}),
    (BANK, "age == 40", {"age": 30}, {"immutable:age"}),
    (BANK_ADD, "month == 'may'", {"month": "jan"}, {"rule:months we campaign in"}),
    (BANK_ADD, "month == 'may'", {"month": "oct", "day_of_week": "thu"}, set()),
    (BANK_ADD, "loan == 'unknown'", {"loan": "no"}, {"immutable:loan", "transition:loan"}),
    (BANK_ADD, "euribor3m > 4", {"euribor3m": 1.0}, {"immutable:euribor3m"}),
    (GERMAN, "employment_since == 'unemployed' and checking_status == '0-200 DM'",
     {"checking_status": ">= 200 DM / salary"}, {"rule:salary assignment needs a salary"}),
    (GERMAN, "employment_since == '1-4 years' and checking_status == '0-200 DM'",
     {"checking_status": ">= 200 DM / salary"}, set()),
    (GERMAN, "checking_status == '< 0 DM'", {"checking_status": "no checking account"},
     {"transition:checking_status"}),
    (GERMAN, "installment_rate == 2 and duration == 12", {"installment_rate": 3},
     {"rule:lighter burden needs a longer or smaller loan"}),
    (GERMAN, "installment_rate == 2 and duration == 12 and credit_amount == 2096",
     {"installment_rate": 3, "credit_amount": 1500}, set()),
    (GERMAN, "installment_rate == 2 and duration == 12 and credit_amount < 8000",
     {"installment_rate": 3, "duration": 18}, set()),
    (GERMAN, "credit_amount > 10000 and duration == 24", {"duration": 6},
     {"rule:affordable repayment"}),
    (GERMAN, "purpose == 'radio/television' and duration == 24", {"duration": 42},
     {"rule:a loan does not outlive what it buys"}),
    (GERMAN, "duration == 24", {"duration": 20}, {"step:duration"}),
    (GERMAN, MID_AMOUNT, {"credit_amount": 6000}, {"direction:credit_amount"}),
    (GERMAN, MID_AMOUNT, {"credit_amount": 2000}, {"max_change:credit_amount"}),
    (GERMAN, MID_AMOUNT, {"credit_amount": 3000}, set()),
    (GERMAN, "other_debtors == 'none'", {"other_debtors": "guarantor"}, set()),
    (GERMAN, "other_debtors == 'guarantor'", {"other_debtors": "none"},
     {"transition:other_debtors"}),
    (GERMAN, "foreign_worker == 'yes'", {"foreign_worker": "no"}, {"immutable:foreign_worker"}),
    (CARAVAN, "APERSAUT == 0", {"APERSAUT": 1}, {"rule:car policy has a premium"}),
    (CARAVAN, "APERSAUT == 0", {"APERSAUT": 1, "PPERSAUT": 3}, {"rule:car policy has a premium"}),
    (CARAVAN, "APERSAUT == 0", {"APERSAUT": 1, "PPERSAUT": 6}, set()),
    (CARAVAN, "APERSAUT == 0", {"APERSAUT": 2, "PPERSAUT": 6}, {"max_change:APERSAUT"}),
    (CARAVAN, "ALEVEN == 0", {"PLEVEN": 4}, {"rule:life premium needs a policy"}),
    (CARAVAN, "ALEVEN == 0 and AFIETS == 0",
     {"ALEVEN": 1, "PLEVEN": 4, "AFIETS": 1, "PFIETS": 1}, set()),
    (CARAVAN, "ABRAND == 1", {"ABRAND": 0, "PBRAND": 0}, {"direction:ABRAND", "direction:PBRAND"}),
    (CARAVAN, "APLEZIER == 0", {"APLEZIER": 1, "PPLEZIER": 3},
     {"immutable:APLEZIER", "immutable:PPLEZIER"}),
    (CARAVAN, "MGODRK == 0", {"MGODRK": 5}, {"immutable:MGODRK"}),
]  # fmt: skip


@pytest.mark.parametrize(("case_id", "query", "changes", "expected"), RULE_CASES)
def test_rules_reject_what_the_experts_forbid(
    case_id: str, query: str, changes: dict[str, object], expected: set[str]
) -> None:
    case = next(c for c in CASES if c.id == case_id)
    frame, cs = bound(case)
    clients = frame.query(query)
    assert len(clients), f"no client matches {query!r}"
    client = clients.iloc[[0]].reset_index(drop=True)
    candidate = client.copy()
    for name, value in changes.items():
        candidate[name] = pd.Series([value], dtype=frame[name].dtype)
    result = cs.check(client, candidate)
    found = {f"{v.rule}:{v.feature}" for v in result.violations(0) if v.feature}
    found |= {name for name, mask in result.global_violations.items() if mask[0]}
    assert found == expected, result.to_frame().to_string()
