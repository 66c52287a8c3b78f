"""Issue 19's other hostile inputs: every numeric flag out of range, bundles truncated or from
another data set, a 50 MB constraint file, audit stores and campaign files that are not.
"""

from __future__ import annotations

from tests.hostile._case import SECRET, SHOW, Case, _api, _case, _train, _train_ok

B = "{d}/bundles/"
EARLY_MIB = 64.0


def _campaign(*flags: str) -> tuple[str, ...]:
    return (
        "campaign",
        "run",
        "--bundle",
        B + "base",
        "--data",
        "{d}/clients.csv",
        "--out",
        "{d}/out/camp_flags",
        *flags,
    )


def _output_of(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The command's ``--out`` (relative to the corpus folder): never written by a refusal."""
    if "--out" not in argv:
        return ()
    return (argv[argv.index("--out") + 1].removeprefix("{d}/"),)


def _numbers() -> list[Case]:
    """Every numeric flag of every command, out of range: one line naming the flag."""
    cases: list[Case] = []
    big = str(10**30)
    flags: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
        "advise --levers": (
            ("advise", "C0000003", "--bundle", B + "base", "--data", "{d}/clients.csv", "--levers"),
            ("0", "11", big, "nan", "2.5"),
        ),
        "advise --robust-margin": (
            (
                "advise",
                "C0000003",
                "--bundle",
                B + "base",
                "--data",
                "{d}/clients.csv",
                "--robust-margin",
            ),
            ("-0.1", "0.51", "nan", "inf", big),
        ),
        "campaign-run --n-levers": (_campaign("--n-levers"), ("0", "11", big)),
        "campaign-run --max-actions": (_campaign("--max-actions"), ("0", "21", "-3")),
        "campaign-run --seed": (_campaign("--seed"), ("-1", str(2**63), big)),
        "campaign-run --time-limit-s": (
            _campaign("--time-limit-s"),
            ("nan", "inf", "-inf", "0", "-1", "86401", "1e308"),
        ),
        "campaign-run --workers": (_campaign("--workers"), ("0", "257", "-1")),
        "campaign-run --limit": (_campaign("--limit"), ("0", "-5", "10000001")),
        "campaign-run --batch-size": (_campaign("--batch-size"), ("0", "100001", big)),
        "train --seed": (_train_ok("t_seed_range", "--n-trials", "1", "--seed"), (str(2**32), big)),
        "train --n-trials": (_train_ok("t_trials_range", "--n-trials"), ("10001", big)),
        "data-demo --seed": (
            ("data", "demo", "--out", "{d}/out/demo_seed.csv", "--n-clients", "20", "--seed"),
            ("-1", str(2**63)),
        ),
        "study-run --seed": (
            ("study", "run", "--quick", "--out", "{d}/out/study", "--seed"),
            ("-1", str(2**32)),
        ),
        "study-run --n-clients": (
            ("study", "run", "--quick", "--out", "{d}/out/study", "--n-clients"),
            ("0", "1001", "-1"),
        ),
        "study-run --n-reruns": (
            ("study", "run", "--quick", "--out", "{d}/out/study", "--n-reruns"),
            ("1", "101", "0"),
        ),
        "app --port": (("app", "--port"), ("0", "-1", "65536", big, "nan")),
        "audit-show --limit": (
            ("audit", "show", "--audit", "{d}/audit/store.sqlite", "--limit"),
            ("0", "-1", "1000001", big),
        ),
    }
    for name, (argv, values) in flags.items():
        flag = name.split(" ", 1)[1]
        for value in values:
            cases.append(
                _case(
                    f"{name} {value}",
                    "cli-numbers",
                    "error",
                    (*argv, value),
                    mentions=((flag, flag.lstrip("-").replace("-", "_")),),
                    absent=_output_of(argv),
                )
            )
    return cases


def _bundles() -> list[Case]:
    cases: list[Case] = []
    err = "error"
    integrity = ("Integrity: all",)
    advise = ("advise", "C0000003", "--data", "{d}/clients.csv", "--bundle")
    for name, file in (
        ("truncated_model", "logistic.skops"),
        ("truncated_model_rehashed", "logistic.skops"),
        ("truncated_card", "model_card.json"),
        ("truncated_constraints_rehashed", "constraints.yaml"),
        ("empty_model", "logistic.skops"),
        ("symlink_model_file", "logistic.skops"),
        ("big_constraints_50mb", "constraints.yaml"),
    ):
        secret = (SECRET,)
        cases.append(
            _case(
                f"show:{name}",
                "bundle-integrity",
                err,
                (*SHOW, B + name),
                mentions=(file,),
                excludes=(*integrity, *secret),
            )
        )
        cases.append(
            _api(
                f"load_bundle:{name}",
                "bundle-integrity",
                err,
                ("load_bundle", "bundles/" + name),
                mentions=(file,),
                excludes=secret,
            )
        )
        cases.append(
            _case(
                f"advise:{name}",
                "bundle-integrity",
                err,
                (*advise, B + name),
                mentions=(file,),
                excludes=secret,
            )
        )
        cases.append(
            _case(
                f"app:{name}",
                "bundle-integrity",
                err,
                ("app", "--bundle", B + name, "--data", "{d}/clients.csv"),
                mentions=(file,),
                excludes=secret,
            )
        )
    # a bundle trained on another file with the same column names, used with this file
    for name, feature in (("other_categories", "region"), ("other_columns", "household_income")):
        cases.append(
            _case(
                f"advise:{name} --data clients.csv",
                "other-dataset",
                err,
                (*advise, B + name),
                mentions=(feature,),
            )
        )
        cases.append(
            _case(
                f"app:{name} --data clients.csv",
                "other-dataset",
                err,
                ("app", "--bundle", B + name, "--data", "{d}/clients.csv"),
                mentions=(feature,),
            )
        )
        cases.append(
            _case(
                f"campaign-run:{name} --data clients.csv",
                "other-dataset",
                err,
                (
                    "campaign",
                    "run",
                    "--bundle",
                    B + name,
                    "--data",
                    "{d}/clients.csv",
                    "--out",
                    f"{{d}}/out/camp_{name}",
                ),
                mentions=(feature,),
                absent=(f"out/camp_{name}",),
            )
        )
        cases.append(
            _case(
                f"show:{name}", "other-dataset", "ok", (*SHOW, B + name), contains=("propensity",)
            )
        )
    return cases


def _yaml() -> list[Case]:
    """A 50 MB constraint file: refused by its size before it is read."""
    y = "{d}/yaml/big_50mb.yaml"
    m = ("big_50mb.yaml", ("MB", "1,048,576"))
    early = {"max_peak_mib": EARLY_MIB}
    return [
        _case(
            "check:big_50mb.yaml",
            "yaml-limits",
            "error",
            ("constraints", "check", y),
            mentions=m,
            **early,
        ),
        _case(
            "check-data:big_50mb.yaml",
            "yaml-limits",
            "error",
            ("constraints", "check", y, "--data", "{d}/clients.csv"),
            mentions=m,
            **early,
        ),
        _api(
            "load_constraints:big_50mb.yaml",
            "yaml-limits",
            "error",
            ("load_constraints", "yaml/big_50mb.yaml"),
            mentions=m,
            **early,
        ),
        _case(
            "train:big_50mb.yaml",
            "yaml-limits",
            "error",
            _train("{d}/clients.csv", y, "{d}/out/t_big50"),
            mentions=m,
            absent=("out/t_big50",),
        ),
    ]


def _audit() -> list[Case]:
    """``levers audit verify|show`` on stores that are not, or were tampered with."""
    cases: list[Case] = []
    a = "{d}/audit/"
    cases.append(
        _case(
            "audit-verify:store.sqlite",
            "audit",
            "ok",
            ("audit", "verify", "--audit", a + "store.sqlite"),
            contains=("3 records",),
            untouched=("audit/store.sqlite",),
        )
    )
    for name in ("tampered.sqlite", "deleted_record.sqlite"):
        cases.append(
            _case(
                f"audit-verify:{name}",
                "audit",
                "error",
                ("audit", "verify", "--audit", a + name),
                mentions=(("record",),),
                excludes=("chain intact",),
                untouched=(f"audit/{name}",),
            )
        )
    for name in ("clients_csv.sqlite", "other_db.sqlite", "a_folder.sqlite", "missing.sqlite"):
        for command in ("verify", "show"):
            cases.append(
                _case(
                    f"audit-{command}:{name}",
                    "audit",
                    "error",
                    ("audit", command, "--audit", a + name),
                    mentions=(name,),
                    untouched=(f"audit/{name}",),
                )
            )
    # a 0-byte file: reading never turns it into a store
    for command in ("verify", "show"):
        cases.append(
            _case(
                f"audit-{command}:empty.sqlite",
                "audit",
                "error",
                ("audit", command, "--audit", a + "empty.sqlite"),
                mentions=("empty.sqlite", "empty file"),
                untouched=("audit/empty.sqlite",),
            )
        )
    cases.append(
        _case(
            "audit-verify:--anchor not a hash",
            "audit",
            "error",
            ("audit", "verify", "--audit", a + "store.sqlite", "--anchor", "../x"),
            mentions=("anchor",),
        )
    )
    advised = ("--audit", a + "advised.sqlite", "--data", "{d}/clients.csv")
    for record in ("0", "-1", str(10**30), "abc", "3"):
        cases.append(
            _case(
                f"audit-replay:{record}",
                "audit",
                "error",
                ("audit", "replay", record, *advised),
                mentions=(("record", "RECORD_ID"),),
                untouched=("audit/advised.sqlite",),
            )
        )
    cases.append(
        _case(
            "audit-replay:bundle moved",
            "audit",
            "error",
            ("audit", "replay", "2", *advised),
            mentions=("moved_away",),
            untouched=("audit/advised.sqlite",),
        )
    )
    cases.append(
        _case(
            "audit-replay:tampered store",
            "audit",
            "error",
            ("audit", "replay", "2", "--audit", a + "tampered.sqlite"),
            mentions=(("record", "chain", "hash", "payload", "key"),),
            excludes=("identical",),
        )
    )
    cases.append(
        _case(
            "audit-replay:identical",
            "audit",
            "ok",
            ("audit", "replay", "1", *advised),
            contains=("identical",),
            untouched=("audit/advised.sqlite",),
        )
    )
    for since in ("yesterday", "2026-13-45", "9999999-01-01", "' OR 1=1 --"):
        cases.append(
            _case(
                f"audit-show:--since {since}",
                "audit",
                "error",
                ("audit", "show", "--audit", a + "store.sqlite", "--since", since),
                mentions=("since",),
            )
        )
    for label, client in (
        ("passwd", "../../etc/passwd"),
        ("sql", "' OR '1'='1"),
        ("10 kB", "C" * 10_000),
    ):
        cases.append(
            _case(
                f"audit-show:--client {label}",
                "audit",
                "ok",
                ("audit", "show", "--audit", a + "store.sqlite", "--client", client, "--json"),
                contains=("[]",),
            )
        )
    return cases


def _campaign_files() -> list[Case]:
    """``levers campaign show`` on a ``campaign.json`` that is not one."""
    cases: list[Case] = []
    for name in (
        "empty_json",
        "not_json",
        "list_json",
        "deep_json",
        "unknown_keys",
        "big_11mb",
        "symlink",
    ):
        cases.append(
            _case(
                f"campaign-show:{name}",
                "campaign-files",
                "error",
                ("campaign", "show", "{d}/campaigns/" + name),
                mentions=("campaign.json",),
                excludes=(SECRET,),
                max_peak_mib=EARLY_MIB if name == "big_11mb" else None,
            )
        )
    cases.append(
        _case(
            "campaign-show:a file",
            "campaign-files",
            "error",
            ("campaign", "show", "{d}/clients.csv"),
            mentions=("clients.csv",),
        )
    )
    cases.append(
        _case(
            "campaign-run:--segment __import__",
            "code-exec",
            "error",
            _campaign("--segment", "__import__('os').system('touch {d}/PWNED')"),
            mentions=("segment",),
            absent=("PWNED",),
        )
    )
    cases.append(
        _case(
            "draft:--target [/bold]",
            "markup",
            "error",
            ("constraints", "draft", "{d}/clients.csv", "--target", "[/bold]"),
            mentions=("[/bold]",),
        )
    )
    cases.append(
        _case(
            "study-run:--data-dir a file",
            "io-errors",
            "error",
            (
                "study",
                "run",
                "--quick",
                "--datasets",
                "bank",
                "--out",
                "{d}/out/study_dd",
                "--data-dir",
                "{d}/clients.csv",
            ),
            mentions=(("data-dir", "clients.csv", "bank"),),
        )
    )
    return cases


def _trust_cases() -> list[Case]:
    return [*_numbers(), *_bundles(), *_yaml(), *_audit(), *_campaign_files()]
