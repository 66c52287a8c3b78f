"""Hostile data files by name and kind: markup and escapes, folders, FIFOs, devices."""

from __future__ import annotations

from tests.hostile._case import CHECK, DEMO_YAML, DESCRIBE, ESC, Case, _api, _case, _train


def _csv_name_cases() -> list[Case]:
    cases: list[Case] = []
    c = "{d}/csv/"
    err = "error"
    demo = str(DEMO_YAML)
    # markup and escapes in column names, values and paths
    for f, column in (
        ("col_markup_close.csv", "[/bold]"),
        ("col_markup_red.csv", "[red]x[/red]"),
        ("col_markup_link.csv", "[link=file:///etc/passwd]x[/link]"),
        ("col_markup_open.csv", "[bold"),
    ):
        cases.append(_case(f"describe:{f}", "markup", "ok", (*DESCRIBE, c + f), contains=(column,)))
    cases.append(
        _case(
            "train:col_markup_close.csv",
            "markup",
            "ok",
            _train(c + "col_markup_close.csv", demo, "{d}/out/t_markup_col"),
            contains=("[/bold]",),
        )
    )
    cases.append(
        _case(
            "check-data:col_markup_close.csv",
            "markup",
            "ok",
            (*CHECK, demo, "--data", c + "col_markup_close.csv"),
        )
    )
    for f in (
        "col_esc_clear.csv",
        "col_esc_title.csv",
        "col_bell.csv",
        "col_c1_csi.csv",
        "col_bidi.csv",
        "col_backspace.csv",
    ):
        cases.append(
            _case(
                f"describe:{f}",
                "control-chars",
                "ok",
                (*DESCRIBE, c + f),
                excludes=(ESC, "\x07", "\x9b", "\u202e", "\x08"),
            )
        )
    cases.append(
        _case(
            "train:col_esc_clear.csv",
            "control-chars",
            "ok",
            _train(c + "col_esc_clear.csv", demo, "{d}/out/t_esc_col"),
            excludes=(ESC,),
        )
    )
    cases.append(
        _case("describe:value_markup.csv", "markup", "ok", (*DESCRIBE, c + "value_markup.csv"))
    )
    cases.append(
        _case(
            "describe:value_escape.csv",
            "control-chars",
            "ok",
            (*DESCRIBE, c + "value_escape.csv"),
            excludes=(ESC,),
        )
    )
    cases.append(
        _case(
            "check-data:region-markup",
            "markup",
            "any",
            (*CHECK, demo, "--data", c + "value_markup.csv"),
        )
    )
    cases.append(
        _case(
            "describe:evil[/]x.csv",
            "markup",
            "ok",
            (*DESCRIBE, c + "evil[/]x.csv"),
            contains=("evil[/]x.csv",),
        )
    )
    cases.append(
        _case(
            "describe:[bold]x.csv",
            "markup",
            "ok",
            (*DESCRIBE, c + "[bold]x.csv"),
            contains=("[bold]x.csv",),
        )
    )
    cases.append(
        _case(
            "describe:missing[/].csv",
            "markup",
            err,
            (*DESCRIBE, c + "missing[/].csv"),
            mentions=("missing[/].csv",),
        )
    )
    cases.append(
        _case(
            "check-data:evil[/]x.csv",
            "markup",
            "ok",
            (*CHECK, demo, "--data", c + "evil[/]x.csv"),
            contains=("evil[/]x.csv",),
        )
    )
    cases.append(
        _case(
            "train:evil[/]x.csv",
            "markup",
            "ok",
            _train(c + "evil[/]x.csv", demo, "{d}/out/t_evil[/]b"),
        )
    )
    cases.append(
        _case(
            "describe:esc-path",
            "control-chars",
            "ok",
            (*DESCRIBE, c + "esc" + ESC + "[31mred.csv"),
            excludes=(ESC,),
        )
    )
    # folders, fifos, devices where a file is expected
    cases.append(
        _case(
            "describe:a_folder.csv",
            "io-errors",
            err,
            (*DESCRIBE, c + "a_folder.csv"),
            mentions=("a_folder.csv",),
        )
    )
    cases.append(
        _case(
            "check-data:a_folder.csv",
            "io-errors",
            err,
            (*CHECK, demo, "--data", c + "a_folder.csv"),
            mentions=("a_folder.csv",),
        )
    )
    cases.append(
        _case(
            "train:a_folder.csv",
            "io-errors",
            err,
            _train(c + "a_folder.csv", demo, "{d}/out/t_folder"),
            mentions=("a_folder.csv",),
        )
    )
    cases.append(
        _api(
            "read_table:a_folder.csv",
            "io-errors",
            err,
            ("read_table", "csv/a_folder.csv"),
            mentions=("a_folder.csv",),
        )
    )
    cases.append(
        _case(
            "describe:fifo.csv",
            "io-errors",
            err,
            (*DESCRIBE, c + "fifo.csv"),
            mentions=("fifo.csv",),
        )
    )
    cases.append(
        _api(
            "read_clients:fifo.csv",
            "io-errors",
            err,
            ("read_clients", "{d}/csv/fifo.csv"),
            mentions=("fifo.csv",),
        )
    )
    cases.append(
        _case(
            "describe:/dev/zero",
            "io-errors",
            err,
            (*DESCRIBE, "/dev/zero"),
            mentions=("/dev/zero",),
        )
    )
    cases.append(
        _case(
            "describe:missing.csv",
            "control",
            err,
            (*DESCRIBE, c + "missing.csv"),
            mentions=("missing.csv",),
        )
    )
    cases.append(
        _case(
            "describe:clients.csv",
            "control",
            "ok",
            (*DESCRIBE, "{d}/clients.csv"),
            contains=("300 rows",),
        )
    )
    return cases
