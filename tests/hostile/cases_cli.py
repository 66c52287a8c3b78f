"""Hostile command-line input: unbounded numbers, existing or unwritable outputs, Ctrl-C."""

from __future__ import annotations

from tests.hostile._case import DEMO_YAML, Case, _api, _case, _train, _train_ok


def _unbounded_cases() -> list[Case]:
    cases: list[Case] = []
    err = "error"
    for value in ("nan", "inf", "-inf", "1e9", "86401", "-1", "0", "NaN"):
        cases.append(
            _case(
                f"train:--budget-s {value}",
                "unbounded",
                err,
                _train_ok(f"t_budget_{value}", "--budget-s", value),
                mentions=(("budget",),),
                absent=(f"out/t_budget_{value}",),
            )
        )
    for value in ("0", "-1"):
        cases.append(
            _case(
                f"train:--n-trials {value}",
                "unbounded",
                err,
                _train_ok(f"t_trials_{value}", "--n-trials", value),
                mentions=(("trials",),),
            )
        )
    cases.append(
        _case(
            "train:--n-trials 10^12 --budget-s 3",
            "unbounded",
            "any",
            _train_ok("t_trials_huge", "--n-trials", "1000000000000", "--budget-s", "3"),
        )
    )
    cases.append(
        _case(
            "train:--seed -1",
            "unbounded",
            "any",
            _train_ok("t_seed_neg", "--n-trials", "1", "--seed", "-1"),
        )
    )
    cases.append(
        _case(
            "train:--seed 2^70",
            "unbounded",
            "any",
            _train_ok("t_seed_big", "--n-trials", "1", "--seed", str(2**70)),
        )
    )
    for value in ("50000000", "99999999999999999999999", "0", "-1", "1e9", "nan"):
        cases.append(
            _case(
                f"data-demo:--n-clients {value}",
                "unbounded",
                err,
                ("data", "demo", "--out", f"{{d}}/out/demo_n_{value}.csv", "--n-clients", value),
                mentions=(("n-clients", "n_clients"),),
                absent=(f"out/demo_n_{value}.csv",),
            )
        )
    cases.append(
        _case(
            "data-demo:--seed 2^70",
            "unbounded",
            "any",
            (
                "data",
                "demo",
                "--out",
                "{d}/out/demo_seed_big.csv",
                "--n-clients",
                "20",
                "--seed",
                str(2**70),
            ),
        )
    )
    for value in ("50000000", "true", "nan", "-5"):
        cases.append(
            _api(
                f"make_demo_portfolio:{value}",
                "unbounded",
                err,
                ("make_demo_portfolio", value),
                mentions=("n_clients",),
            )
        )
    for value in ("nan", "inf", "1e9"):
        cases.append(
            _api(
                f"train-api:budget_s={value}",
                "unbounded",
                err,
                ("train", value),
                mentions=("budget_s",),
            )
        )
    for value in ("-1", "1000000000"):
        cases.append(
            _case(
                f"advise:--levers {value}",
                "unbounded",
                "error" if value == "-1" else "any",
                (
                    "advise",
                    "C0000001",
                    "--bundle",
                    "{d}/bundles/base",
                    "--data",
                    "{d}/clients.csv",
                    "--levers",
                    value,
                ),
                mentions=("levers",),
            )
        )
    return cases


def _write_cases() -> list[Case]:
    cases: list[Case] = []
    err = "error"
    force = (("--force", "exist"),)
    for f in ("existing.csv", "existing.parquet"):
        cases.append(
            _case(
                f"data-demo:--out {f}",
                "overwrite",
                err,
                ("data", "demo", "--out", f"{{d}}/out/{f}", "--n-clients", "20"),
                mentions=(f, *force),
                untouched=(f"out/{f}",),
            )
        )
    cases.append(
        _case(
            "data-demo:--out a folder",
            "overwrite",
            err,
            ("data", "demo", "--out", "{d}/out/existing_dir.csv", "--n-clients", "20"),
            mentions=("existing_dir.csv",),
            untouched=("out/existing_dir.csv",),
        )
    )
    cases.append(
        _case(
            "data-demo:--out new file",
            "control",
            "ok",
            ("data", "demo", "--out", "{d}/out/forced.csv", "--n-clients", "20"),
        )
    )
    cases.append(
        _case(
            "schema:--out existing",
            "overwrite",
            err,
            ("constraints", "schema", "--out", "{d}/out/existing_schema.json"),
            mentions=("existing_schema.json", *force),
            untouched=("out/existing_schema.json",),
        )
    )
    cases.append(
        _case(
            "schema:--out a folder",
            "overwrite",
            err,
            ("constraints", "schema", "--out", "{d}/out/existing_folder"),
            mentions=("existing_folder",),
            untouched=("out/existing_folder",),
        )
    )
    cases.append(
        _case(
            "schema:--out /proc",
            "io-errors",
            err,
            ("constraints", "schema", "--out", "/proc/levers-hostile/schema.json"),
            mentions=("/proc/levers-hostile",),
        )
    )
    cases.append(
        _case(
            "train:--out existing file",
            "overwrite",
            err,
            _train_ok("existing_file_bundle", "--n-trials", "1"),
            mentions=("existing_file_bundle",),
            untouched=("out/existing_file_bundle",),
        )
    )
    cases.append(
        _case(
            "train:--out existing folder --force",
            "overwrite",
            err,
            _train_ok("existing_folder", "--n-trials", "1", "--force"),
            mentions=("existing_folder",),
            untouched=("out/existing_folder",),
        )
    )
    cases.append(
        _case(
            "train:--out bundle --force, bad target",
            "overwrite",
            err,
            (
                *_train_ok("existing_bundle", "--n-trials", "1", "--force")[:3],
                "--target",
                "no_such_column",
                *_train_ok("existing_bundle", "--n-trials", "1", "--force")[5:],
            ),
            mentions=("no_such_column",),
            untouched=("out/existing_bundle",),
        )
    )
    cases.append(
        _case(
            "train:--out /proc",
            "io-errors",
            err,
            _train("{d}/clients.csv", str(DEMO_YAML), "/proc/levers-hostile/bundle"),
            mentions=("/proc/levers-hostile",),
        )
    )
    cases.append(
        _case(
            "data-demo:--out /proc",
            "io-errors",
            err,
            ("data", "demo", "--out", "/proc/levers-hostile/x.csv", "--n-clients", "20"),
            mentions=("/proc/levers-hostile",),
        )
    )
    cases.append(
        _case(
            "data-demo:--out .txt",
            "io-errors",
            err,
            ("data", "demo", "--out", "{d}/out/demo.txt", "--n-clients", "20"),
            mentions=("demo.txt",),
            absent=("out/demo.txt",),
        )
    )
    cases.append(
        _case(
            "data-demo:--out missing parent",
            "io-errors",
            "any",
            ("data", "demo", "--out", "{d}/out/new/sub/demo.csv", "--n-clients", "20"),
        )
    )
    cases.append(
        _case(
            "data-demo:--out evil[/]x.csv",
            "markup",
            "ok",
            ("data", "demo", "--out", "{d}/out/evil[/]x.csv", "--n-clients", "20"),
            contains=("evil[/]x.csv",),
        )
    )
    cases.append(
        _case(
            "train:--out missing parent",
            "io-errors",
            "any",
            _train_ok("newparent/sub/b", "--n-trials", "1"),
        )
    )
    cases.append(
        _api(
            "write_table:.txt",
            "io-errors",
            err,
            ("write_table", "out/api.txt"),
            mentions=("api.txt",),
            absent=("out/api.txt",),
        )
    )
    # Ctrl-C: one line, nothing half-written
    cases.append(
        Case(
            name="sigint:train",
            category="interrupt",
            expect="error",
            argv=_train_ok("t_sigint", "--budget-s", "60"),
            sigint_after_s=3.0,
            absent=("out/t_sigint",),
        )
    )
    cases.append(
        Case(
            name="sigint:data-demo",
            category="interrupt",
            expect="error",
            argv=("data", "demo", "--out", "{d}/out/sigint.csv", "--n-clients", "1000000"),
            sigint_after_s=1.0,
            absent=("out/sigint.csv",),
        )
    )
    return cases
