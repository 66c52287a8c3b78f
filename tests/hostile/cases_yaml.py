"""Hostile constraint files: bombs, size, encodings, nesting, numbers, code, markup, devices."""

from __future__ import annotations

from tests.hostile._case import CHECK, DEMO_YAML, ESC, Case, _api, _case, _train


def _yaml_cases() -> list[Case]:
    cases: list[Case] = []
    y = "{d}/yaml/"
    err = "error"
    # the billion laughs: refused, through every door
    for f in ("bomb.yaml", "bomb_label.yaml", "bomb_merge.yaml"):
        cases.append(_case(f"check:{f}", "yaml-bomb", err, (*CHECK, y + f), mentions=(f,)))
    cases.append(
        _api(
            "load_constraints:bomb.yaml",
            "yaml-bomb",
            err,
            ("load_constraints", "yaml/bomb.yaml"),
            mentions=("bomb.yaml",),
        )
    )
    cases.append(
        _case(
            "train:bomb.yaml",
            "yaml-bomb",
            err,
            _train("{d}/clients.csv", y + "bomb.yaml", "{d}/out/t_bomb"),
            mentions=("bomb.yaml",),
            absent=("out/t_bomb",),
        )
    )
    cases.append(
        _case(
            "advise:bundle-bomb-constraints",
            "yaml-bomb",
            err,
            (
                "advise",
                "C0000001",
                "--bundle",
                "{d}/bundles/bomb_constraints",
                "--data",
                "{d}/clients.csv",
            ),
            mentions=("constraints.yaml",),
        )
    )
    cases.append(_case("check:one_alias.yaml", "yaml-bomb", "any", (*CHECK, y + "one_alias.yaml")))
    # size
    cases.append(
        _case(
            "check:big_20mb.yaml",
            "yaml-limits",
            err,
            (*CHECK, y + "big_20mb.yaml"),
            mentions=("big_20mb.yaml", "MB"),
        )
    )
    cases.append(
        _api(
            "load_constraints:big_20mb.yaml",
            "yaml-limits",
            err,
            ("load_constraints", "yaml/big_20mb.yaml"),
            mentions=("big_20mb.yaml", "MB"),
        )
    )
    cases.append(
        _case(
            "train:big_20mb.yaml",
            "yaml-limits",
            err,
            _train("{d}/clients.csv", y + "big_20mb.yaml", "{d}/out/t_big"),
            mentions=("big_20mb.yaml",),
            absent=("out/t_big",),
        )
    )
    cases.append(
        _case(
            "check:long_comment_3mb.yaml",
            "yaml-limits",
            err,
            (*CHECK, y + "long_comment_3mb.yaml"),
            mentions=("long_comment_3mb.yaml", "MB"),
        )
    )
    cases.append(
        _case(
            "check:dev_zero.yaml",
            "yaml-limits",
            err,
            (*CHECK, y + "dev_zero.yaml"),
            mentions=("dev_zero.yaml",),
        )
    )
    # encodings
    for f, expect in (
        ("latin1.yaml", err),
        ("utf16le_nobom.yaml", err),
        ("binary.yaml", err),
        ("utf16_bom.yaml", "any"),
        ("utf8_bom.yaml", "any"),
        ("nul_bytes.yaml", err),
    ):
        cases.append(_case(f"check:{f}", "encoding", expect, (*CHECK, y + f), mentions=(f,)))
    cases.append(
        _api(
            "load_constraints:latin1.yaml",
            "encoding",
            err,
            ("load_constraints", "yaml/latin1.yaml"),
            mentions=("latin1.yaml",),
        )
    )
    cases.append(
        _case(
            "train:latin1.yaml",
            "encoding",
            err,
            _train("{d}/clients.csv", y + "latin1.yaml", "{d}/out/t_latin1"),
            mentions=("latin1.yaml",),
            absent=("out/t_latin1",),
        )
    )
    cases.append(
        _api(
            "load_constraints:utf16le_nobom.yaml",
            "encoding",
            err,
            ("load_constraints", "yaml/utf16le_nobom.yaml"),
            mentions=("utf16le_nobom.yaml",),
        )
    )
    # shapes of document
    for f in ("empty.yaml", "null.yaml", "list.yaml", "scalar.yaml", "features_scalar.yaml"):
        cases.append(_case(f"check:{f}", "yaml-shape", err, (*CHECK, y + f), mentions=(f,)))
    for f in ("two_docs.yaml", "duplicate_keys.yaml"):
        cases.append(_case(f"check:{f}", "yaml-shape", "any", (*CHECK, y + f), mentions=(f,)))
    # nesting
    for f in (
        "deep_flow_list.yaml",
        "deep_flow_map.yaml",
        "deep_label.yaml",
        "deep_block_1500.yaml",
    ):
        cases.append(_case(f"check:{f}", "recursion", err, (*CHECK, y + f), mentions=(f,)))
    cases.append(
        _api(
            "load_constraints:deep_flow_list.yaml",
            "recursion",
            err,
            ("load_constraints", "yaml/deep_flow_list.yaml"),
            mentions=("deep_flow_list.yaml",),
        )
    )
    cases.append(
        _case(
            "train:deep_flow_map.yaml",
            "recursion",
            err,
            _train("{d}/clients.csv", y + "deep_flow_map.yaml", "{d}/out/t_deep"),
            mentions=("deep_flow_map.yaml",),
        )
    )
    for f in ("rule_parens_3000.yaml", "derived_parens_3000.yaml", "if_parens_3000.yaml"):
        cases.append(_case(f"check:{f}", "recursion", err, (*CHECK, y + f), mentions=(f,)))
    cases.append(
        _api(
            "load_constraints:rule_parens_3000.yaml",
            "recursion",
            err,
            ("load_constraints", "yaml/rule_parens_3000.yaml"),
            mentions=("rule_parens_3000.yaml",),
        )
    )
    for f in ("rule_unary_3000.yaml", "rule_not_3000.yaml", "rule_sum_20000.yaml"):
        cases.append(_case(f"check:{f}", "recursion", "any", (*CHECK, y + f), mentions=(f,)))
    # numbers
    for f, where in (
        ("max_int_10e400.yaml", "max"),
        ("max_float_1e400.yaml", "max"),
        ("min_neg_1e400.yaml", "min"),
        ("max_nan.yaml", "max"),
        ("max_inf.yaml", "max"),
        ("step_tiny.yaml", "step"),
        ("max_change_nan.yaml", "max_change"),
        ("cost_inf.yaml", "per_unit"),
        ("cost_huge_int.yaml", "per_unit"),
        ("max_changes_huge.yaml", "max_changes"),
        ("version_huge.yaml", "version"),
        ("rule_huge_literal.yaml", ("savings within means", "rule")),
        ("rule_inf_literal.yaml", ("savings within means", "rule")),
    ):
        cases.append(_case(f"check:{f}", "overflow", err, (*CHECK, y + f), mentions=(f, where)))
    cases.append(
        _api(
            "load_constraints:max_int_10e400.yaml",
            "overflow",
            err,
            ("load_constraints", "yaml/max_int_10e400.yaml"),
            mentions=("max",),
        )
    )
    cases.append(
        _case("check:rule_pow_tower.yaml", "overflow", "any", (*CHECK, y + "rule_pow_tower.yaml"))
    )
    # code: never run
    pw = ("PWNED",)
    for f in (
        "rule_import.yaml",
        "rule_dunder.yaml",
        "rule_lambda.yaml",
        "rule_open.yaml",
        "rule_comprehension.yaml",
    ):
        cases.append(
            _case(
                f"check:{f}",
                "code-exec",
                err,
                (*CHECK, y + f),
                mentions=(f, ("savings within means", "rule")),
                absent=pw,
            )
        )
    for f in (
        "tag_apply.yaml",
        "tag_new.yaml",
        "tag_name.yaml",
        "tag_module.yaml",
        "tag_custom.yaml",
    ):
        cases.append(
            _case(f"check:{f}", "code-exec", err, (*CHECK, y + f), mentions=(f,), absent=pw)
        )
    cases.append(
        _case(
            "check:tag_binary.yaml",
            "code-exec",
            err,
            (*CHECK, y + "tag_binary.yaml"),
            mentions=("name",),
        )
    )
    cases.append(
        _api(
            "load_constraints:tag_apply.yaml",
            "code-exec",
            err,
            ("load_constraints", "yaml/tag_apply.yaml"),
            mentions=("tag_apply.yaml",),
            absent=pw,
        )
    )
    cases.append(
        _api(
            "load_constraints:rule_import.yaml",
            "code-exec",
            err,
            ("load_constraints", "yaml/rule_import.yaml"),
            mentions=("rule_import.yaml",),
            absent=pw,
        )
    )
    # markup and terminal escapes in names
    cases.append(
        _case(
            "check:feature_markup.yaml",
            "markup",
            "any",
            (*CHECK, y + "feature_markup.yaml"),
            contains=("[/bold]",),
        )
    )
    cases.append(_case("check:name_markup.yaml", "markup", "any", (*CHECK, y + "name_markup.yaml")))
    cases.append(
        _case(
            "check:rule_markup.yaml",
            "markup",
            err,
            (*CHECK, y + "rule_markup.yaml"),
            mentions=("[/bold]",),
        )
    )
    cases.append(
        _case(
            "check:[bold]x[red].yaml",
            "markup",
            "ok",
            (*CHECK, y + "[bold]x[red].yaml"),
            contains=("[bold]x[red].yaml",),
        )
    )
    cases.append(
        _case(
            "check:evil[-]name.yaml",
            "markup",
            err,
            (*CHECK, y + "evil[-]name.yaml"),
            mentions=("evil[-]name.yaml",),
        )
    )
    cases.append(
        _case(
            "check:missing[/bold].yaml",
            "markup",
            err,
            (*CHECK, y + "missing[/bold].yaml"),
            mentions=("missing[/bold].yaml",),
        )
    )
    cases.append(
        _case(
            "check:feature_escape.yaml",
            "control-chars",
            "any",
            (*CHECK, y + "feature_escape.yaml"),
            excludes=(ESC,),
        )
    )
    cases.append(
        _case(
            "check:rule_escape.yaml",
            "control-chars",
            err,
            (*CHECK, y + "rule_escape.yaml"),
            mentions=(("savings within means", "rules[0]"),),
            excludes=(ESC,),
        )
    )
    cases.append(
        _case(
            "check:esc-file-name",
            "control-chars",
            "ok",
            (*CHECK, y + "esc" + ESC + "[31m.yaml"),
            excludes=(ESC,),
        )
    )
    cases.append(
        _case(
            "check:feature_long_name.yaml",
            "yaml-limits",
            "any",
            (*CHECK, y + "feature_long_name.yaml"),
        )
    )
    # a folder or a device where a file is expected
    cases.append(
        _case(
            "check:a_folder.yaml",
            "io-errors",
            err,
            (*CHECK, y + "a_folder.yaml"),
            mentions=("a_folder.yaml",),
        )
    )
    cases.append(
        _api(
            "load_constraints:a_folder.yaml",
            "io-errors",
            err,
            ("load_constraints", "yaml/a_folder.yaml"),
            mentions=("a_folder.yaml",),
        )
    )
    cases.append(
        _case(
            "train:constraints-folder",
            "io-errors",
            err,
            _train("{d}/clients.csv", y + "a_folder.yaml", "{d}/out/t_cfolder"),
            mentions=("a_folder.yaml",),
            absent=("out/t_cfolder",),
        )
    )
    cases.append(
        _case(
            "check:tiny.yaml",
            "control",
            "ok",
            (*CHECK, y + "tiny.yaml", "--data", "{d}/clients.csv"),
            contains=("tiny.yaml",),
        )
    )
    cases.append(
        _case(
            "check:demo-portfolio.yaml",
            "control",
            "ok",
            (*CHECK, str(DEMO_YAML), "--data", "{d}/clients.csv"),
        )
    )
    return cases
