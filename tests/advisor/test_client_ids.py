"""index_clients: client ids from a named column, a detected id column, or row numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.datasets import ID_NAMES, ID_WORDS, index_clients, make_demo_portfolio
from advisor.errors import DatasetError


def test_a_named_column_gives_the_ids_and_stays_a_column() -> None:
    frame = pd.DataFrame({"age": [40, 51, 33], "ref": ["b7", "a1", "c2"]})
    indexed = index_clients(frame, "ref")
    assert indexed.index.tolist() == ["b7", "a1", "c2"]
    assert indexed.index.name is None
    assert indexed.attrs["id_column"] == "ref"
    assert indexed.columns.tolist() == ["age", "ref"]
    assert frame.index.tolist() == [0, 1, 2]  # the input is not touched
    assert "id_column" not in frame.attrs


def test_the_frames_own_index_plays_no_part() -> None:
    frame = pd.DataFrame({"id": ["a", " ", "c"]}, index=[5, 5, 5])
    with pytest.raises(DatasetError, match=r"Got 1 missing or blank \(rows 2\)\.$"):
        index_clients(frame, "id")
    frame = pd.DataFrame({"id": [3, 2, 1]}, index=["x", "x", "y"])
    assert index_clients(frame).index.tolist() == ["3", "2", "1"]


def test_whole_floats_are_ids_without_a_decimal_point() -> None:
    frame = pd.DataFrame({"number": [12.0, 7.0, np.float64(3)]})
    assert index_clients(frame, "number").index.tolist() == ["12", "7", "3"]
    assert index_clients(pd.DataFrame({"n": [1.5, 2.0]}), "n").index.tolist() == ["1.5", "2.0"]


def test_a_named_column_that_does_not_exist_lists_the_columns() -> None:
    frame = pd.DataFrame({"age": [1], "name": ["a"]})
    with pytest.raises(
        DatasetError,
        match=r"^id_column: must name a column of the clients\. Got 'id'; the columns are "
        r"'age', 'name'\.$",
    ):
        index_clients(frame, "id")


def test_repeated_ids_are_named() -> None:
    frame = pd.DataFrame({"id": [7, 9, 7, 1, 9, 9]})
    with pytest.raises(
        DatasetError,
        match=r"^id_column 'id': must hold one id per client\. Got 2 repeated ids \('7', '9'\)\.",
    ):
        index_clients(frame, "id")


def test_an_int_and_its_text_are_the_same_id() -> None:
    frame = pd.DataFrame({"id": pd.Series([1, "1"], dtype=object)})
    with pytest.raises(DatasetError, match=r"Got 1 repeated ids \('1'\)"):
        index_clients(frame, "id")


@pytest.mark.parametrize("missing", [None, np.nan, "", "  "])
def test_missing_or_blank_ids_are_refused_naming_the_rows(missing: object) -> None:
    frame = pd.DataFrame({"id": pd.Series(["a", missing, "c"], dtype=object)})
    with pytest.raises(
        DatasetError,
        match=r"^id_column 'id': must hold an id for every client\. Got 1 missing or blank "
        r"\(rows 2\)\.$",
    ):
        index_clients(frame, "id")


@pytest.mark.parametrize(
    ("name", "detected"),
    [
        ("id", True),
        ("ID", True),
        ("Client_ID", True),
        ("customerid", True),
        ("Customer", True),
        ("account id", True),
        ("contract_id", True),
        ("paid", False),
        ("idea", False),
        ("identity", False),
        ("client_name", False),
    ],
)
def test_an_id_like_name_with_unique_values_is_detected(name: str, detected: bool) -> None:
    frame = pd.DataFrame({"age": [40, 51, 33], name: [30, 10, 20]})
    indexed = index_clients(frame)
    assert indexed.index.tolist() == (["30", "10", "20"] if detected else ["1", "2", "3"])
    assert indexed.attrs["id_column"] == (name if detected else None)


def test_an_id_column_with_repeats_or_gaps_is_passed_over() -> None:
    frame = pd.DataFrame(
        {
            "id": [1, 1, 2],  # repeated
            "client_id": [5.0, np.nan, 6.0],  # missing
            "customer_id": ["x", "y", "z"],  # the only usable one
            "account_id": [10, 10, 12],  # repeated
        }
    )
    assert index_clients(frame).attrs["id_column"] == "customer_id"
    assert index_clients(frame.drop(columns=["customer_id", "account_id"])).index.tolist() == [
        "1",
        "2",
        "3",
    ]


def test_the_demo_is_indexed_by_its_client_id() -> None:
    demo = make_demo_portfolio(n_clients=50, seed=1)
    indexed = index_clients(demo)
    assert indexed.attrs["id_column"] == "client_id"
    assert indexed.index.tolist() == [str(value) for value in demo["client_id"]]


def test_the_detected_names_are_the_documented_ones() -> None:
    assert {"id", "client_id", "customer_id", "clientid", "customerid", "client", "customer"} == (
        ID_NAMES
    )
    assert {"id", "ref"} == ID_WORDS


@pytest.mark.parametrize(
    ("frame", "id_column", "message"),
    [
        ([1, 2], None, r"^frame: must be a pandas DataFrame\. Got list\.$"),
        (pd.DataFrame({"a": [1]}), 3, r"^id_column: must be a column name or None\. Got 3\.$"),
        (
            pd.DataFrame([[1, 2]], columns=["id", "id"]),
            "id",
            r"^id_column 'id': must name one column\. Got 2 columns of that name\.$",
        ),
    ],
)
def test_bad_arguments_are_named(frame: object, id_column: object, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        index_clients(frame, id_column)  # type: ignore[arg-type]


_NAMES = st.sampled_from(["id", "Client_ID", "age", "name", "region id", "x"])
_KINDS = {
    "int": st.integers(-3, 3),
    "float": st.one_of(st.sampled_from([0.0, 1.0, 2.0, float("nan")]), st.floats(-2, 2)),
    "text": st.one_of(st.sampled_from(["a", "b", "", " ", "A", "1", "é"]), st.none()),
}


def _as_text_oracle(values: list[Any], kind: str) -> list[str | None]:
    """The ids a column gives: whole floats without '.0' when the whole column is whole."""
    if kind == "int":
        return [str(v) for v in values]
    if kind == "float":
        floats = [float(v) for v in values if not np.isnan(v)]
        whole = all(v.is_integer() for v in floats)
        return [None if np.isnan(v) else str(int(v)) if whole else str(v) for v in values]
    return [None if v is None else str(v) for v in values]


@st.composite
def _frames(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, list[str | None]]]:
    names = draw(st.lists(_NAMES, min_size=1, max_size=4, unique=True))
    n_rows = draw(st.integers(0, 8))
    columns: dict[str, pd.Series] = {}
    texts: dict[str, list[str | None]] = {}
    for name in names:
        kind = draw(st.sampled_from(sorted(_KINDS)))
        values: list[Any] = draw(st.lists(_KINDS[kind], min_size=n_rows, max_size=n_rows))
        dtype: Any = {"int": "int64", "float": "float64", "text": object}[kind]
        columns[name] = pd.Series(values, dtype=dtype)
        texts[name] = _as_text_oracle(values, kind)
    return pd.DataFrame(columns), texts


@settings(max_examples=200, deadline=None)
@given(drawn=_frames(), data=st.data())
def test_ids_are_always_unique_text_and_a_named_column_gives_its_text(
    drawn: tuple[pd.DataFrame, dict[str, list[str | None]]], data: st.DataObject
) -> None:
    frame, texts = drawn
    named = data.draw(st.one_of(st.none(), st.sampled_from(list(frame.columns))))
    try:
        indexed = index_clients(frame, named)
    except DatasetError as exc:
        message = str(exc)
        if named is None:  # detection refuses only two or more usable id-like columns
            assert message.startswith("id_column: the clients must have at most one id-like")
            usable = [
                name
                for name in frame.columns
                if name in ("id", "Client_ID", "region id")
                and all(v is not None and v.strip() for v in texts[name])
                and len(set(texts[name])) == len(frame)
            ]
            assert len(usable) >= 2
            return
        # A named column is refused only for a missing, blank or repeated id.
        ids = texts[named]
        usable = [value for value in ids if value is not None and value.strip()]
        assert len(usable) < len(ids) or len(set(usable)) < len(usable)
        return
    ids = indexed.index.tolist()
    assert all(isinstance(value, str) for value in ids)
    assert len(set(ids)) == len(ids) == len(frame)
    assert indexed.index.name is None
    pd.testing.assert_frame_equal(indexed.reset_index(drop=True), frame)
    column = indexed.attrs["id_column"]
    if named is not None:
        assert column == named
    else:  # detection: the one id-like column whose ids are all there and unique
        usable = [
            name
            for name in frame.columns
            if name in ("id", "Client_ID", "region id")
            and all(v is not None and v.strip() for v in texts[name])
            and len(set(texts[name])) == len(frame)
        ]
        assert len(usable) <= 1
        assert column == (usable[0] if usable else None)
    if column is None:
        assert ids == [str(row) for row in range(1, len(frame) + 1)]
    else:
        assert ids == texts[column]
