"""Files as banks have them: compressed CSV, decimal commas, encodings given, the file's lines.

Every file is written in the test with the standard library (gzip, bz2, lzma, zipfile), not by
the reader under test; the oracle is the frame the text was written from.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.datasets import read_clients, read_table
from advisor.datasets._decimal import convert_decimal_commas
from advisor.errors import DatasetError

TEXT = "client_id,income,name,active\n1,2500.5,José,True\n2,,Zoë,False\n3,1800.25,,True\n"


def _expected() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client_id": np.array([1, 2, 3], dtype=np.int64),
            "income": [2500.5, np.nan, 1800.25],
            "name": pd.Series(["José", "Zoë", None], dtype="str"),
            "active": np.array([True, False, True]),
        }
    )


def _write(path: Path, data: bytes, member: str = "clients.csv") -> Path:
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    elif path.suffix == ".bz2":
        path.write_bytes(bz2.compress(data))
    elif path.suffix == ".xz":
        path.write_bytes(lzma.compress(data))
    else:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(member, data)
    return path


# --- compressed CSV -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["clients.csv.gz", "clients.csv.bz2", "clients.csv.xz", "c.zip"])
def test_each_compression_reads_the_frame_written(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / name, TEXT.encode("utf-8"))
    frame = read_clients(path)
    pd.testing.assert_frame_equal(frame, _expected())
    pd.testing.assert_frame_equal(read_table(path), frame)


def test_a_zip_reads_its_one_csv_among_other_files(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("export/readme.txt", "not a table")
        archive.writestr("export/", "")
        archive.writestr("export/clients.csv", TEXT)
    pd.testing.assert_frame_equal(read_clients(path), _expected())


def test_a_zip_with_two_csv_files_is_refused_with_their_names(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("cs-training.csv", TEXT)
        archive.writestr("cs-test.csv", TEXT)
    with pytest.raises(
        DatasetError,
        match=r"two\.zip: must hold exactly one \.csv file\. Got several CSV files "
        r"\('cs-training\.csv', 'cs-test\.csv'\)\. Hint: extract the one you need",
    ):
        read_clients(path)


def test_a_zip_without_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "none.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("clients.xlsx", b"PK")
    with pytest.raises(DatasetError, match=r"Got no CSV file \('clients\.xlsx'\)"):
        read_clients(path)


def _bomb_text(n_bytes: int) -> bytes:
    return b"a,b\n" + b"0,0\n" * (n_bytes // 4)


def test_a_zip_bomb_is_refused_by_its_declared_size(tmp_path: Path) -> None:
    path = _write(tmp_path / "bomb.zip", _bomb_text(8_000_000))
    assert path.stat().st_size < 100_000  # the archive itself is small
    with pytest.raises(
        DatasetError,
        match=r"bomb\.zip:clients\.csv: must unpack to at most 1,000,000 bytes \(max_bytes\)\. "
        r"Got 8,000,004 bytes declared \(a zip bomb\?\)",
    ):
        read_table(path, max_bytes=1_000_000)


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_a_compression_bomb_is_stopped_while_streaming(tmp_path: Path, suffix: str) -> None:
    path = _write(tmp_path / f"bomb.csv{suffix}", _bomb_text(8_000_000))
    with pytest.raises(
        DatasetError, match=r"must unpack to at most 1,000,000 bytes \(max_bytes\)\. Got over"
    ):
        read_table(path, max_bytes=1_000_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # nothing extracted


def test_a_zip_member_lying_about_its_size_is_still_capped(tmp_path: Path) -> None:
    """A member whose directory entry declares 40 bytes but holds 8 MB: read 40, CRC refused."""
    path = _write(tmp_path / "liar.zip", _bomb_text(8_000_000))
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (40).to_bytes(4, "little")  # uncompressed size
    path.write_bytes(bytes(data))
    with pytest.raises(
        DatasetError,
        match=r"liar\.zip:clients\.csv: must be a readable zip file\. Got BadZipFile: Bad CRC-32",
    ):
        read_table(path, max_bytes=1_000_000)


def test_a_truncated_gzip_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress(TEXT.encode() * 50)[:-30])
    with pytest.raises(DatasetError, match=r"cut\.csv\.gz: must be a readable gzip file\. Got"):
        read_clients(path)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("clients.parquet.gz", r"must hold a CSV named \*\.csv\.gz\. Got '\.parquet'"),
        ("clients.gz", r"must hold a CSV named \*\.csv\.gz\. Got 'no inner suffix'"),
        ("clients.zip", r"clients\.zip: must be a readable zip file\. Got"),
    ],
)
def test_badly_named_or_broken_archives_are_refused(tmp_path: Path, name: str, match: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"not compressed")
    with pytest.raises(DatasetError, match=match):
        read_clients(path)


# --- a French export: ';', decimal comma, latin-1, zipped -----------------------------------

FRENCH = (
    "identifiant;revenu;taux;ville;agence\n"
    "101;2500,50;0,035;Orléans;12\n"
    "102;;1,5;Besançon;7\n"
    "103;-18,25;2;Évry;7\n"
)


def test_a_french_export_reads_with_the_right_floats(tmp_path: Path) -> None:
    path = _write(tmp_path / "export.zip", FRENCH.encode("latin-1"), member="clients.csv")
    frame = read_clients(path)
    expected = pd.DataFrame(
        {
            "identifiant": np.array([101, 102, 103], dtype=np.int64),
            "revenu": [2500.5, np.nan, -18.25],
            "taux": [0.035, 1.5, 2.0],
            "ville": pd.Series(["Orléans", "Besançon", "Évry"], dtype="str"),
            "agence": np.array([12, 7, 7], dtype=np.int64),
        }
    )
    pd.testing.assert_frame_equal(frame, expected)


def test_decimal_given_reads_commas_and_point_keeps_them_as_text(tmp_path: Path) -> None:
    path = tmp_path / "fr.csv"
    path.write_text(FRENCH, encoding="cp1252")
    given = read_clients(path, decimal=",", encoding="latin-1")
    assert given["revenu"].tolist()[::2] == [2500.5, -18.25]
    assert given["taux"].tolist() == [0.035, 1.5, 2.0]
    kept = read_clients(path, decimal=".")
    assert kept["revenu"].tolist()[::2] == ["2500,50", "-18,25"]


def test_commas_are_not_decimals_in_a_comma_separated_file(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('a,b\n"10,5",x\n"3,25",y\n', encoding="utf-8")
    assert read_clients(path)["a"].tolist() == ["10,5", "3,25"]
    with pytest.raises(
        DatasetError, match=r"c\.csv: decimal ',' needs another separator than ','\."
    ):
        read_clients(path, decimal=",")


def test_a_column_with_other_text_keeps_its_commas(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("a;b\n10,5;1,5\n3,25;1,5 kg\n", encoding="utf-8")
    frame = read_clients(path)
    assert frame["a"].tolist() == [10.5, 3.25]
    assert frame["b"].tolist() == ["1,5", "1,5 kg"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.none()),
        min_size=1,
        max_size=20,
    )
)
def test_decimal_commas_convert_to_the_floats_written(values: list[float | None]) -> None:
    text = [None if v is None else repr(v).replace(".", ",") for v in values]
    frame = convert_decimal_commas(pd.DataFrame({"x": pd.Series(text, dtype="str")}))
    if not any(t is not None and "," in t for t in text):
        assert frame["x"].tolist() == pd.Series(text, dtype="str").tolist()
        return
    expected = [np.nan if v is None else v for v in values]
    np.testing.assert_array_equal(frame["x"].to_numpy(dtype=float), np.array(expected))


# --- encodings given ------------------------------------------------------------------------


def test_an_encoding_given_skips_the_detection(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("a;ville\n1;Orléans\n", encoding="utf-8")
    assert read_clients(path)["ville"].tolist() == ["Orléans"]
    assert read_clients(path, encoding="latin-1")["ville"].tolist() == ["OrlÃ©ans"]
    bom = tmp_path / "bom.csv"
    bom.write_text("a;ville\n1;Orléans\n", encoding="utf-8-sig")
    assert read_clients(bom, encoding="utf-8").columns.tolist() == ["a", "ville"]


def test_a_latin1_file_given_as_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "l.csv.gz"
    path.write_bytes(gzip.compress("a;ville\n1;Lyon\n2;Orléans\n".encode("latin-1")))
    with pytest.raises(
        DatasetError,
        match=r"l\.csv\.gz, line 3: must be utf-8 text \(encoding\)\. Got the byte 0xE9 at "
        r"byte offset 20, which is not\. Hint: give the file's encoding",
    ):
        read_clients(path, encoding="utf-8")


@pytest.mark.parametrize(
    ("encoding", "match"),
    [
        ("klingon", r"^encoding: must be a known text encoding such as 'utf-8', 'cp1252' or "),
        ("utf-16", r"^encoding: must write ASCII as single bytes .* Got 'utf-16'\."),
        (1252, r"^encoding: must be the name of a text encoding .* Got int\.$"),
    ],
)
def test_a_bad_encoding_is_a_clear_error(tmp_path: Path, encoding: object, match: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(TEXT, encoding="utf-8")
    with pytest.raises(DatasetError, match=match):
        read_clients(path, encoding=encoding)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "kwargs", "match"),
    [
        ("demo", {"decimal": ","}, r"^demo: encoding and decimal apply to CSV files only"),
        ("sqlite:///x.db?table=t", {"encoding": "utf-8"}, r"^source \(a database URL\)"),
        ("c.csv", {"decimal": ";"}, r"^decimal: must be '\.' or ','"),
    ],
)
def test_encoding_and_decimal_apply_to_csv_only(
    source: str, kwargs: dict[str, str], match: str
) -> None:
    with pytest.raises(DatasetError, match=match):
        read_clients(source, **kwargs)  # type: ignore[arg-type]


def test_parquet_refuses_encoding(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    _expected().to_parquet(path)
    with pytest.raises(DatasetError, match=r"c\.parquet: encoding and decimal apply to CSV"):
        read_clients(path, encoding="latin-1")


# --- the file's line numbers ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["bad.csv", "bad.csv.gz", "bad.zip"])
def test_errors_name_the_files_lines(tmp_path: Path, name: str) -> None:
    text = "a;b\n1;2\n\n3;4;5\n6;7\n"  # the empty line 3 is skipped, the bad row is line 4
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_text(text, encoding="utf-8")
    else:
        _write(path, text.encode(), member="bad.csv")
    where = r"bad\.zip:bad\.csv" if name.endswith(".zip") else name.replace(".", r"\.")
    with pytest.raises(
        DatasetError, match=rf"{where}, line 4: must have 2 ';'-separated fields like the header"
    ):
        read_clients(path)


# --- the command line -----------------------------------------------------------------------


def _french_zip(folder: Path, n_rows: int = 60) -> Path:
    rng = np.random.default_rng(0)
    lines = ["identifiant;revenu;taux;ville;souscrit"]
    for i in range(n_rows):
        income = f"{rng.uniform(900, 9000):.2f}".replace(".", ",")
        rate = f"{rng.uniform(0, 0.2):.4f}".replace(".", ",")
        city = ("Orléans", "Besançon", "Évry")[i % 3]
        lines.append(f"{1000 + i};{income};{rate};{city};{int(rng.random() < 0.3)}")
    text = "\n".join(lines) + "\n"
    return _write(folder / "export.zip", text.encode("latin-1"), member="clients.csv")


def test_the_commands_read_a_french_zip_with_the_options(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from advisor.cli import app

    runner = CliRunner()
    data = str(_french_zip(tmp_path))
    described = runner.invoke(app, ["data", "describe", data, "--encoding", "latin-1"])
    assert described.exit_code == 0, described.output
    assert "60 rows x 5 columns" in described.output
    assert "float64" in described.output  # revenu and taux read as numbers
    draft = tmp_path / "draft.yaml"
    drafted = runner.invoke(
        app, ["constraints", "draft", data, "--target", "souscrit", "--out", str(draft)]
    )
    assert drafted.exit_code == 0, drafted.output
    checked = runner.invoke(
        app, ["constraints", "check", str(draft), "--data", data, "--decimal", ","]
    )
    assert checked.exit_code == 0, checked.output
    assert "OK" in checked.output
    assert "(60 rows)" in checked.output
    refused = runner.invoke(app, ["data", "describe", data, "--encoding", "klingon"])
    assert refused.exit_code != 0
    assert "encoding: must be a known text encoding" in refused.output
    assert "Traceback" not in refused.output


@pytest.mark.slow
def test_train_and_advise_read_a_french_zip_with_the_options(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from advisor.cli import app

    runner = CliRunner()
    data = str(_french_zip(tmp_path, n_rows=200))
    draft = tmp_path / "draft.yaml"
    drafted = runner.invoke(
        app, ["constraints", "draft", data, "--target", "souscrit", "--out", str(draft)]
    )
    assert drafted.exit_code == 0, drafted.output
    text = draft.read_text(encoding="utf-8")
    actionable = "revenu:\n    kind: continuous\n    role: actionable\n    direction: increase"
    draft.write_text(text.replace("revenu:\n    kind: continuous\n    role: context", actionable))
    options = ["--encoding", "latin-1", "--decimal", ","]
    bundle = tmp_path / "bundle"
    train = ["train", "--data", data, "--target", "souscrit", "--constraints", str(draft)]
    trained = runner.invoke(
        app, [*train, "--out", str(bundle), "--families", "logistic", "--n-trials", "1", *options]
    )
    assert trained.exit_code == 0, trained.output
    advise = ["advise", "1005", "--bundle", str(bundle), "--data", data]
    advised = runner.invoke(app, [*advise, "--id-column", "identifiant", "--json", *options])
    assert advised.exit_code == 0, advised.output
    refused = runner.invoke(app, [*advise, "--id-column", "identifiant", "--decimal", "."])
    assert refused.exit_code != 0
    assert "must hold numbers. Got '" in " ".join(refused.output.split())
