"""Properties that must always hold, on randomly generated constraint files (hypothesis).

- everything ``sample`` and ``project`` return passes ``check``;
- immutable and protected attributes never change;
- ``check`` of the client itself finds no violation;
- YAML -> object -> YAML -> object gives the same object.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constraints import ConstraintSet, dump_constraint_file, parse_constraint_file
from constraints import bind_constraints as bind

KINDS = ("continuous", "integer", "binary", "categorical", "ordinal")
# Reproducible by default (CI sees the same examples every run); explore new ones with
# LEVERS_HYPOTHESIS_RANDOM=1 and more of them with LEVERS_HYPOTHESIS_EXAMPLES=2000.
SETTINGS = settings(
    max_examples=int(os.environ.get("LEVERS_HYPOTHESIS_EXAMPLES", "60")),
    derandomize=os.environ.get("LEVERS_HYPOTHESIS_RANDOM") != "1",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def feature_specs(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """Draw one valid feature of ``kind``."""
    role = draw(st.sampled_from(["immutable", "actionable", "actionable", "context"]))
    spec: dict[str, Any] = {"kind": kind, "role": role}
    if role == "immutable" and draw(st.booleans()):
        spec["protected"] = True
    if kind in ("continuous", "integer"):
        low = draw(st.integers(-50, 50))
        if draw(st.booleans()):
            spec["min"] = low
        if draw(st.booleans()):
            spec["max"] = low + draw(st.integers(0, 200))
        spec["direction"] = draw(st.sampled_from(["increase", "decrease", "any"]))
        if draw(st.booleans()):
            spec["step"] = (
                draw(st.sampled_from([1, 2, 5, 10]))
                if kind == "integer"
                else (draw(st.sampled_from([0.5, 5, 10, 25])))
            )
        change = draw(st.sampled_from([None, 20, 100, "50%", "10%"]))
        if change is not None:
            spec["max_change"] = change
        cost = draw(st.sampled_from([None, {"per_unit": 0.1}, {"per_change": 1, "per_mad": 2}]))
        if cost:
            spec["cost"] = cost
    elif kind == "binary":
        spec["direction"] = draw(st.sampled_from(["increase", "decrease", "any"]))
        if draw(st.booleans()):
            spec["values"] = ["no", "yes"]
    else:
        n = draw(st.integers(2, 4))
        labels = [f"c{i}" for i in range(n)]
        spec["categories" if kind == "categorical" else "order"] = labels
        if kind == "ordinal":
            spec["direction"] = draw(st.sampled_from(["increase", "decrease", "any"]))
        if draw(st.booleans()):
            spec["transitions"] = {
                src: draw(st.lists(st.sampled_from(labels), max_size=n, unique=True))
                for src in labels
                if draw(st.booleans())
            }
    return spec


@st.composite
def constraint_files(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a valid constraint file (as YAML data) with rules, derived features, one-hot."""
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=2, max_size=7))
    features = {f"f{i}": draw(feature_specs(kind)) for i, kind in enumerate(kinds)}
    doc: dict[str, Any] = {"name": "random", "features": features}
    if draw(st.booleans()):
        doc["max_changes"] = draw(st.integers(1, 3))
    numeric = [n for n, f in features.items() if f["kind"] in ("continuous", "integer")]
    coded = [n for n, f in features.items() if f["kind"] in ("categorical", "ordinal")]
    binary = [n for n, f in features.items() if f["kind"] == "binary"]
    rules = []
    if len(numeric) >= 2 and draw(st.booleans()):
        coef = draw(st.sampled_from(["0.5", "2", "1"]))
        rules.append({"name": "linear", "require": f"{numeric[0]} <= {coef} * {numeric[1]} + 10"})
    if draw(st.booleans()) and coded and numeric:
        feature = features[coded[0]]
        label = (feature.get("categories") or feature["order"])[-1]
        rules.append(
            {"name": "if-then", "if": f"{coded[0]} is {label}", "require": f"{numeric[0]} >= 0"}
        )
    if draw(st.booleans()) and binary and numeric:
        rules.append(
            {"name": "becomes", "if": f"{binary[0]} becomes yes", "require": f"{numeric[-1]} <= 50"}
        )
    if rules:
        doc["rules"] = rules
    if len(binary) >= 2 and draw(st.booleans()):
        group = binary[:2]
        role = features[group[0]]["role"]
        for name in group:
            features[name]["role"] = role
            features[name].pop("protected", None)
        doc["one_hot"] = {"pair": group}
    elif draw(st.booleans()) and binary and numeric:
        target = numeric[-1]
        features[target] = {"kind": features[target]["kind"], "role": "context"}
        doc["derived"] = {target: " + ".join(binary)}
        doc.pop("rules", None)
    return doc


def client_values(cs: ConstraintSet, draw: Any) -> np.ndarray:
    """Draw a client: any value in each feature's domain (possibly outside its bounds)."""
    values = []
    for spec in cs.features:
        if spec.kind in ("binary", "categorical", "ordinal"):
            values.append(float(draw(st.integers(0, spec.n_categories - 1))))
        elif spec.kind == "integer":
            values.append(float(draw(st.integers(-100, 300))))
        else:
            values.append(draw(st.floats(-100, 300, allow_nan=False)))
    x = np.array(values)
    for group in cs.one_hot:
        idx = [cs.feature_names.index(n) for n in group.features]
        x[idx] = 0.0
        x[idx[0]] = 1.0
    for item in cs.derived:
        j = cs.feature_names.index(item.feature)
        x[j] = sum(coef * x[cs.feature_names.index(n)] for n, coef in item.terms)
    return x


def build(doc: dict[str, Any]) -> ConstraintSet:
    return bind(parse_constraint_file(yaml.safe_dump(doc, sort_keys=False), "random.yaml"))


def frozen_columns(cs: ConstraintSet) -> list[int]:
    return [j for j, f in enumerate(cs.features) if f.role == "immutable" or f.protected]


@SETTINGS
@given(doc=constraint_files(), data=st.data())
def test_a_client_never_violates_its_own_constraints(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    cs = build(doc)
    client = client_values(cs, data.draw)
    result = cs.check(client, client[None, :])
    assert result.ok.all(), result.to_frame().to_dict("records")


@SETTINGS
@given(doc=constraint_files(), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_sampled_candidates_are_feasible(
    doc: dict[str, Any], data: st.DataObject, seed: int
) -> None:
    cs = build(doc)
    client = client_values(cs, data.draw)
    sample = cs.sample(client, 30, seed=seed)
    assert sample.shape[1] == cs.n_features
    result = cs.check(client, sample)
    assert result.ok.all(), result.to_frame().to_dict("records")
    frozen = frozen_columns(cs)
    np.testing.assert_array_equal(
        sample[:, frozen], np.broadcast_to(client[frozen], (len(sample), len(frozen)))
    )
    np.testing.assert_array_equal(sample, cs.sample(client, 30, seed=seed))


@SETTINGS
@given(doc=constraint_files(), data=st.data())
def test_projected_candidates_are_feasible(doc: dict[str, Any], data: st.DataObject) -> None:
    cs = build(doc)
    client = client_values(cs, data.draw)
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    noise = rng.normal(0, 60, size=(40, cs.n_features))
    candidates = client + noise * (rng.random((40, cs.n_features)) < 0.5)
    coded = [j for j, f in enumerate(cs.features) if f.kind in ("binary", "categorical", "ordinal")]
    candidates[:, coded] = rng.integers(0, 4, size=(40, len(coded)))
    candidates[rng.random(candidates.shape) < 0.02] = np.nan
    projection = cs.project(client, candidates)
    result = cs.check(client, projection.values)
    assert result.ok.all(), result.to_frame().to_dict("records")
    frozen = frozen_columns(cs)
    assert (projection.values[:, frozen] == client[frozen]).all()
    assert not np.isnan(projection.values).any()


@SETTINGS
@given(doc=constraint_files(), data=st.data())
def test_rederive_and_derived_map_follow_the_files_terms(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    """Oracle: each derived feature moves by its sources' changes times the file's coefficients."""
    cs = build(doc)
    client = client_values(cs, data.draw)
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    rows = client + rng.normal(0, 10, size=(7, cs.n_features))
    expected = rows.copy()
    for item in cs.derived:
        j = cs.feature_names.index(item.feature)
        expected[:, j] = client[j] + sum(
            coef * (rows[:, cs.feature_names.index(n)] - client[cs.feature_names.index(n)])
            for n, coef in item.terms
        )
    np.testing.assert_allclose(cs.rederive(client, rows.copy()), expected, rtol=1e-12, atol=1e-9)
    mapped = client + (rows - client) @ cs.compiled.derived_map()
    np.testing.assert_allclose(mapped, expected, rtol=1e-12, atol=1e-9)


@SETTINGS
@given(doc=constraint_files())
def test_yaml_round_trip(doc: dict[str, Any]) -> None:
    first = parse_constraint_file(yaml.safe_dump(doc, sort_keys=False), "random.yaml")
    text = dump_constraint_file(first)
    second = parse_constraint_file(text, "dumped.yaml")
    assert second == first
    assert dump_constraint_file(second) == text
