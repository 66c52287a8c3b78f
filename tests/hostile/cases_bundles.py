"""Hostile bundles: escapes out of the folder, unlisted files, edited cards, markup, ids."""

from __future__ import annotations

from typing import Any

from tests.hostile._case import ESC, SECRET, SHOW, Case, _api, _case, _train_ok


def _bundle_cases() -> list[Case]:
    cases: list[Case] = []
    b = "{d}/bundles/"
    err = "error"
    integrity = ("Integrity: all",)

    def show(name: str, category: str, expect: str, **kw: Any) -> None:
        cases.append(_case(f"show:{name}", category, expect, (*SHOW, b + name), **kw))

    def load(name: str, category: str, **kw: Any) -> None:
        cases.append(
            _api(f"load_bundle:{name}", category, err, ("load_bundle", "bundles/" + name), **kw)
        )

    def advise(name: str, category: str, **kw: Any) -> None:
        cases.append(
            _case(
                f"advise:{name}",
                category,
                err,
                ("advise", "C0000001", "--bundle", b + name, "--data", "{d}/clients.csv"),
                **kw,
            )
        )

    for fn in (show, advise):
        fn(
            "escape_name",
            "bundle-escape",
            **({"expect": err} if fn is show else {}),
            mentions=(("evil_model", "model name", "models."),),
            excludes=integrity,
        )
    load("escape_name", "bundle-escape", mentions=(("evil_model", "model name"),))
    for stem, file in (
        ("logistic", "logistic.skops"),
        ("calibrator", "calibrator.skops"),
        ("feature_space", "feature_space.json"),
        ("constraints", "constraints.yaml"),
        ("model", "model.json"),
        ("swapped", "leaderboard.json"),
    ):
        show(f"unlisted_{stem}", "bundle-escape", err, mentions=(file,), excludes=integrity)
    load("unlisted_logistic", "bundle-escape", mentions=("logistic.skops",))
    advise("unlisted_constraints", "bundle-escape", mentions=("constraints.yaml",))
    for name, file in (
        ("symlink_constraints_secret", "constraints.yaml"),
        ("symlink_constraints_same", "constraints.yaml"),
        ("symlink_models", "models"),
        ("symlink_card", "model_card.json"),
        ("symlink_feature_space", "feature_space.json"),
    ):
        show(name, "bundle-escape", err, mentions=(file,), excludes=(*integrity, SECRET))
        load(name, "bundle-escape", mentions=(file,), excludes=(SECRET,))
    advise(
        "symlink_constraints_secret",
        "bundle-escape",
        mentions=("constraints.yaml",),
        excludes=(SECRET,),
    )
    for name in (
        "files_parent",
        "files_absolute",
        "model_name_dotdot",
        "model_name_slash",
        "model_name_absolute",
    ):
        show(
            name,
            "bundle-escape",
            err,
            excludes=(*integrity, SECRET),
            mentions=(("model_card.json", "name", "inside"),),
        )
        load(
            name,
            "bundle-escape",
            excludes=(SECRET,),
            mentions=(("model_card.json", "name", "inside"),),
        )
    show("model_name_markup", "markup", err, mentions=("[/bold]",))
    show("model_name_escape", "control-chars", err, excludes=(ESC,), mentions=(("name", "model"),))
    # the card itself is hashed: an edit is detected
    for name in ("edited_card", "edited_card_seed"):
        show(name, "bundle-integrity", err, mentions=("model_card",), excludes=integrity)
        load(name, "bundle-integrity", mentions=("model_card",))
    advise("edited_card", "bundle-integrity", mentions=("model_card",))
    show(
        "corrupted_model", "bundle-integrity", err, mentions=("logistic.skops",), excludes=integrity
    )
    for name in ("deep_card", "card_not_json", "card_list"):
        show(name, "bundle-integrity", err, mentions=("model_card.json",))
    load("deep_card", "recursion", mentions=("model_card.json",))
    show("deep_feature_space", "recursion", err, mentions=("feature_space.json",))
    show("no_models_dir", "bundle-integrity", err, mentions=("models",))
    show("not_a_folder", "io-errors", err, mentions=("not_a_folder",))
    show("missing_bundle", "control", err, mentions=("missing_bundle",))
    show("pickle_model", "code-exec", err, mentions=("logistic.skops",), absent=("PWNED_BUNDLE",))
    load("pickle_model", "code-exec", mentions=("logistic.skops",), absent=("PWNED_BUNDLE",))
    show("family_traversal", "bundle-escape", err, mentions=(("family", "model.json"),))
    load("bomb_constraints", "yaml-bomb", mentions=("constraints.yaml",))
    # card fields, folder names: printed as they are, never as markup or terminal codes
    show("card_markup_constraint_name", "markup", "any", contains=("[/bold]evil[/]",))
    show("card_markup_library", "markup", "any", contains=("[/bold]",))
    show("card_markup_created_at", "markup", "any", contains=("[/bold]",))
    show("card_escape_constraint_name", "control-chars", "any", excludes=(ESC,))
    show("card_escape_library", "control-chars", "any", excludes=(ESC, "\x07"))
    show("bund[/]le", "markup", "ok", contains=("bund[/]le",))
    show("bund" + ESC + "[31mle", "control-chars", "ok", excludes=(ESC,))
    show("base", "control", "ok", contains=("propensity",))
    cases.append(
        _case(
            "show:base --json",
            "control",
            "ok",
            (*SHOW, b + "base", "--json"),
            contains=('"propensity"',),
        )
    )
    # client ids and other advise inputs
    base = ("--bundle", b + "base", "--data", "{d}/clients.csv")
    for client in ("../../etc/passwd", "/etc/passwd", "C" * 100_000, ""):
        cases.append(
            _case(
                f"advise:client {client[:20]!r}",
                "path-traversal",
                err,
                ("advise", client, *base),
                mentions=("client",),
            )
        )
    cases.append(
        _case(
            "advise:client [/bold]",
            "markup",
            err,
            ("advise", "[/bold]", *base),
            mentions=("[/bold]",),
        )
    )
    cases.append(
        _case(
            "advise:client escape",
            "control-chars",
            err,
            ("advise", "x" + ESC + "[2J", *base),
            excludes=(ESC,),
            mentions=("client",),
        )
    )
    cases.append(
        _case(
            "advise:--lang [/bold]",
            "markup",
            err,
            ("advise", "C0000001", *base, "--lang", "[/bold]"),
            mentions=(("lang", "language"),),
        )
    )
    cases.append(
        _case(
            "advise:--product [/bold]",
            "markup",
            err,
            ("advise", "C0000001", *base, "--product", "[/bold]"),
            mentions=("[/bold]",),
        )
    )
    cases.append(
        _case(
            "advise:--id-column [/bold]",
            "markup",
            "any",
            ("advise", "C0000001", *base, "--id-column", "[/bold]"),
        )
    )
    cases.append(
        _case(
            "advise:data a folder",
            "io-errors",
            err,
            ("advise", "C0000001", "--bundle", b + "base", "--data", "{d}/csv/a_folder.csv"),
            mentions=("a_folder.csv",),
        )
    )
    cases.append(_case("advise:base", "control", "ok", ("advise", "C0000003", *base)))
    cases.append(
        _case(
            "train:--target [/bold]",
            "markup",
            err,
            (
                *_train_ok("t_target_markup", "--n-trials", "1")[:3],
                "--target",
                "[/bold]",
                *_train_ok("t_target_markup", "--n-trials", "1")[5:],
            ),
            mentions=("[/bold]",),
        )
    )
    cases.append(
        _case(
            "train:--target escape",
            "control-chars",
            err,
            (
                *_train_ok("t_target_esc", "--n-trials", "1")[:3],
                "--target",
                "t" + ESC + "[2J",
                *_train_ok("t_target_esc", "--n-trials", "1")[5:],
            ),
            excludes=(ESC,),
            mentions=("target",),
        )
    )
    cases.append(
        _case(
            "train:--families [/bold]",
            "markup",
            err,
            (*_train_ok("t_fam")[:-1], "[/bold]", "--n-trials", "1"),
            mentions=("--families",),
        )
    )
    cases.append(
        _case(
            "train:control",
            "control",
            "ok",
            _train_ok("t_control", "--n-trials", "1"),
            contains=("Saved the bundle",),
        )
    )
    return cases
