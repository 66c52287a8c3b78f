"""Reading clients from each source: CSV (plain, latin-1, gzipped, a French zip), Parquet, SQL.

The demo portfolio (36 columns) written to each source, then read back with
``advisor.datasets.read_clients(source, max_rows=INTERACTIVE_MAX_ROWS)`` and indexed with
``index_clients``: the time an app or ``levers advise`` spends before it can bind the clients.
Best of 3. Run alone: ``.venv/bin/python benchmarks/client_sources.py [--n-clients N]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path

import duckdb

from advisor.datasets import (
    INTERACTIVE_MAX_ROWS,
    index_clients,
    make_demo_portfolio,
    read_clients,
)


def _best(source: str, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        index_clients(read_clients(source, max_rows=INTERACTIVE_MAX_ROWS))
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-clients", type=int, default=INTERACTIVE_MAX_ROWS)
    n = parser.parse_args().n_clients
    frame = make_demo_portfolio(n_clients=n, seed=0)
    plain = frame.astype(dict.fromkeys(frame.select_dtypes("category"), str))
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        plain.to_csv(root / "clients.csv", index=False)
        plain.to_csv(root / "latin1.csv", index=False, sep=";", encoding="latin-1")
        plain.to_csv(root / "clients.csv.gz", index=False)
        plain.to_csv(
            root / "french.zip",
            index=False,
            sep=";",
            decimal=",",
            encoding="latin-1",
            compression={"method": "zip", "archive_name": "clients.csv"},
        )
        frame.to_parquet(root / "clients.parquet")
        with closing(sqlite3.connect(root / "clients.db")) as connection:
            plain.to_sql("clients", connection, index=False)
        with closing(duckdb.connect(str(root / "clients.duckdb"))) as connection:
            connection.register("frame", plain)
            connection.execute("CREATE TABLE clients AS SELECT * FROM frame")
        sources = {
            "CSV (UTF-8, ',')": str(root / "clients.csv"),
            "CSV (latin-1, ';')": str(root / "latin1.csv"),
            "CSV gzipped": str(root / "clients.csv.gz"),
            "French zip (';', ',')": str(root / "french.zip"),
            "Parquet": str(root / "clients.parquet"),
            "SQLite table": f"sqlite:///{root / 'clients.db'}?table=clients",
            "DuckDB table": f"duckdb:///{root / 'clients.duckdb'}?table=clients",
        }
        print(f"{n:,} clients x {frame.shape[1]} columns, read + indexed, best of 3")
        for name, source in sources.items():
            print(f"  {name:<20} {_best(source):6.2f} s")


if __name__ == "__main__":
    main()
