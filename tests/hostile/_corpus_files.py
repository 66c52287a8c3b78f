"""The YAML and CSV inputs of the corpus, and the small writers they share with bundles."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from tests.hostile._case import DEMO_YAML, ESC


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)


TINY = """\
version: 1
name: tiny
features:
  age: {kind: integer, role: context}
  monthly_income: {kind: continuous, role: context, min: 0}
  monthly_savings_transfer: {kind: continuous, role: actionable, direction: increase, min: 0}
rules:
  - name: savings within means
    require: monthly_savings_transfer <= 0.5 * monthly_income
"""


def _tiny(*, age: str = "{kind: integer, role: context}", rule: str | None = None) -> str:
    text = TINY.replace("{kind: integer, role: context}", age)
    if rule is not None:
        text = text.replace("monthly_savings_transfer <= 0.5 * monthly_income", rule)
    return text


def _bomb(levels: int = 9, where: str = "top") -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    anchors = "\n".join(lines)
    if where == "label":
        body = "\n".join("    " + line for line in lines)
        return (
            f"version: 1\nname: bomb\nfeatures:\n  age:\n    kind: integer\n    role: context\n"
            f"    label:\n{body}\n    x: *a{levels - 1}\n"
        )
    if where == "merge":
        return (
            f"{anchors}\nversion: 1\nname: bomb\nfeatures:\n"
            f"  age: {{kind: integer, role: context, <<: {{x: *a{levels - 1}}}}}\n"
        )
    return f"{anchors}\n{TINY}x: *a{levels - 1}\n"


class _Evil:
    """Pickles to a call of os.system: unpickling it would create the sentinel file."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (self.command,))


def _csv_lines(folder: Path) -> list[str]:
    return (folder / "clients.csv").read_text(encoding="utf-8").splitlines(keepends=True)


def _set_cell(lines: list[str], line_no: int, column: str, value: str) -> list[str]:
    header = lines[0].rstrip("\n").split(",")
    out = list(lines)
    cells = out[line_no - 1].rstrip("\n").split(",")
    cells[header.index(column)] = value
    out[line_no - 1] = ",".join(cells) + "\n"
    return out


def _rename_column(lines: list[str], old: str, new: str) -> list[str]:
    header = lines[0].rstrip("\n").split(",")
    header[header.index(old)] = new
    return [",".join(header) + "\n", *lines[1:]]


def _write_yaml_inputs(d: Path) -> None:
    y = d / "yaml"
    demo = DEMO_YAML.read_text(encoding="utf-8")
    _write(y / "tiny.yaml", TINY)
    _write(y / "bomb.yaml", _bomb())
    _write(y / "bomb_label.yaml", _bomb(where="label"))
    _write(y / "bomb_merge.yaml", _bomb(where="merge"))
    _write(y / "one_alias.yaml", TINY + "x: &a [1, 2]\ny: *a\n")
    feature = "  f{i}: {{kind: continuous, role: context, min: 0, max: 1}}\n"
    many = "".join(feature.format(i=i) for i in range(350_000))  # a valid file of 20 MB
    _write(y / "big_20mb.yaml", TINY.replace("rules:\n", many + "rules:\n", 1))
    _write(y / "long_comment_3mb.yaml", TINY + "# " + "x" * 3_000_000 + "\n")
    _write(y / "latin1.yaml", demo.replace("€", "EUR").encode("latin-1"))
    _write(y / "utf16_bom.yaml", demo.encode("utf-16"))
    _write(y / "utf16le_nobom.yaml", demo.encode("utf-16-le"))
    _write(y / "utf8_bom.yaml", b"\xef\xbb\xbf" + TINY.encode())
    _write(y / "binary.yaml", bytes(range(256)) * 16)
    _write(y / "nul_bytes.yaml", TINY.replace("name: tiny", "name: ti\x00ny"))
    _write(y / "empty.yaml", "")
    _write(y / "null.yaml", "~\n")
    _write(y / "list.yaml", "[1, 2, 3]\n")
    _write(y / "scalar.yaml", "42\n")
    _write(y / "features_scalar.yaml", "version: 1\nname: x\nfeatures: 5\n")
    _write(y / "two_docs.yaml", TINY + "---\n" + TINY)
    _write(y / "duplicate_keys.yaml", TINY + "name: again\n")
    _write(y / "deep_flow_list.yaml", TINY + "x: " + "[" * 5000 + "]" * 5000 + "\n")
    _write(y / "deep_flow_map.yaml", TINY + "x: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n")
    _write(
        y / "deep_label.yaml",
        _tiny(age="{kind: integer, role: context, label: " + "[" * 5000 + "]" * 5000 + "}"),
    )
    block = "".join(" " * i + "a:\n" for i in range(1500)) + " " * 1500 + "a: 1\n"
    _write(
        y / "deep_block_1500.yaml",
        TINY + "x:\n" + "".join(" " + line for line in block.splitlines(keepends=True)),
    )
    # numbers out of range
    huge = "1" + "0" * 400
    _write(y / "max_int_10e400.yaml", _tiny(age=f"{{kind: integer, role: context, max: {huge}}}"))
    _write(y / "max_float_1e400.yaml", _tiny(age="{kind: integer, role: context, max: 1e400}"))
    _write(y / "min_neg_1e400.yaml", _tiny(age="{kind: integer, role: context, min: -1e400}"))
    _write(y / "max_nan.yaml", _tiny(age="{kind: integer, role: context, max: .nan}"))
    _write(y / "max_inf.yaml", _tiny(age="{kind: integer, role: context, max: .inf}"))
    _write(y / "step_tiny.yaml", _tiny(age="{kind: integer, role: context, step: 1e-400}"))
    _write(
        y / "max_change_nan.yaml",
        TINY.replace(
            "direction: increase, min: 0}", "direction: increase, min: 0, max_change: .nan}"
        ),
    )
    _write(
        y / "cost_inf.yaml",
        TINY.replace(
            "direction: increase, min: 0}", "direction: increase, min: 0, cost: {per_unit: .inf}}"
        ),
    )
    _write(
        y / "cost_huge_int.yaml",
        TINY.replace(
            "direction: increase, min: 0}",
            f"direction: increase, min: 0, cost: {{per_unit: {huge}}}}}",
        ),
    )
    _write(y / "max_changes_huge.yaml", TINY + f"max_changes: {huge}\n")
    _write(y / "version_huge.yaml", TINY.replace("version: 1", f"version: {huge}"))
    # rules
    _write(y / "rule_parens_3000.yaml", _tiny(rule="(" * 3000 + "age" + ")" * 3000 + " <= 50"))
    _write(y / "rule_unary_3000.yaml", _tiny(rule="-" * 3000 + "age <= 50"))
    _write(y / "rule_not_3000.yaml", _tiny(rule="not " * 3000 + "age <= 50"))
    _write(y / "rule_sum_20000.yaml", _tiny(rule=" + ".join(["age"] * 20_000) + " <= 50"))
    _write(y / "rule_pow_tower.yaml", _tiny(rule="age <= 9 ** 9 ** 9 ** 9"))
    _write(y / "rule_huge_literal.yaml", _tiny(rule=f"age <= {huge}"))
    _write(y / "rule_inf_literal.yaml", _tiny(rule="age <= 1e400"))
    sentinel = d / "PWNED"
    _write(y / "rule_import.yaml", _tiny(rule=f"__import__('os').system('touch {sentinel}') == 0"))
    _write(y / "rule_dunder.yaml", _tiny(rule="age.__class__.__bases__ == 0"))
    _write(y / "rule_lambda.yaml", _tiny(rule="(lambda: 1)() <= age"))
    _write(y / "rule_open.yaml", _tiny(rule="open('/etc/passwd') == age"))
    _write(y / "rule_comprehension.yaml", _tiny(rule="[x for x in (1, 2)] == age"))
    _write(
        y / "derived_parens_3000.yaml",
        TINY + "derived:\n  age: " + "(" * 3000 + "monthly_income" + ")" * 3000 + "\n",
    )
    _write(
        y / "if_parens_3000.yaml",
        TINY.replace(
            "    require:", "    if: " + "(" * 3000 + "age" + ")" * 3000 + " <= 50\n    require:"
        ),
    )
    # code through YAML tags
    _write(
        y / "tag_apply.yaml",
        TINY.replace("name: tiny", f'name: !!python/object/apply:os.system ["touch {sentinel}"]'),
    )
    _write(
        y / "tag_new.yaml",
        TINY.replace("name: tiny", f'name: !!python/object/new:os.system ["touch {sentinel}"]'),
    )
    _write(y / "tag_name.yaml", TINY.replace("name: tiny", "name: !!python/name:os.system"))
    _write(y / "tag_module.yaml", TINY.replace("name: tiny", "name: !!python/module:os"))
    _write(y / "tag_custom.yaml", TINY.replace("name: tiny", "name: !evil tiny"))
    _write(y / "tag_binary.yaml", TINY.replace("name: tiny", "name: !!binary aGVsbG8="))
    # names that are markup or terminal escapes
    _write(y / "feature_markup.yaml", TINY.replace("  age:", "  '[/bold]':"))
    _write(y / "feature_escape.yaml", TINY.replace("  age:", '  "age\\e[2J\\e[31m":'))
    _write(y / "feature_long_name.yaml", TINY.replace("  age:", "  " + "a" * 10_000 + ":"))
    _write(y / "name_markup.yaml", TINY.replace("name: tiny", "name: '[/bold]evil[/]'"))
    _write(y / "[bold]x[red].yaml", TINY)
    _write(y / "evil[-]name.yaml", TINY.replace("version: 1", "version: [1"))
    _write(y / ("esc" + ESC + "[31m.yaml"), TINY)
    _write(y / "rule_markup.yaml", _tiny(rule="'[/bold] <= 1'"))
    _write(
        y / "rule_escape.yaml",
        _tiny(rule="age\x1b[2J <= 1")
        .replace("\x1b", "\\e")
        .replace("require: ", 'require: "', 1)
        .replace(" <= 1\n", ' <= 1"\n', 1),
    )
    # domain: bounds the data break
    _write(
        y / "demo_bounded_age.yaml",
        demo.replace(
            "  age:\n    kind: integer\n",
            "  age:\n    kind: integer\n    min: 18\n    max: 110\n",
            1,
        ),
    )
    _write(
        y / "tiny_bounded_age.yaml", _tiny(age="{kind: integer, role: context, min: 18, max: 110}")
    )
    (y / "a_folder.yaml").mkdir(exist_ok=True)
    os.symlink("/dev/zero", y / "dev_zero.yaml")


def _write_csv_inputs(d: Path) -> None:
    c = d / "csv"
    c.mkdir(exist_ok=True)
    lines = _csv_lines(d)
    header = lines[0]
    _write(c / "header_only.csv", header)
    _write(c / "empty.csv", "")
    _write(c / "only_newlines.csv", "\n\n\n")
    bad = list(lines)
    bad[9] = bad[9].rstrip("\n") + ",x,y,z\n"
    _write(c / "extra_fields_line10.csv", "".join(bad))
    short = list(lines)
    short[11] = ",".join(short[11].rstrip("\n").split(",")[:-2]) + "\n"
    _write(c / "missing_fields_line12.csv", "".join(short))
    quote = list(lines)
    quote[4] = '"' + quote[4]
    _write(c / "unbalanced_quote_line5.csv", "".join(quote[:50]))
    _write(c / "inf_income.csv", "".join(_set_cell(lines, 7, "monthly_income", "inf")))
    _write(c / "neg_inf_income.csv", "".join(_set_cell(lines, 7, "monthly_income", "-inf")))
    _write(c / "infinity_word.csv", "".join(_set_cell(lines, 7, "monthly_income", "Infinity")))
    _write(c / "huge_1e308.csv", "".join(_set_cell(lines, 7, "monthly_income", "1e308")))
    _write(
        c / "huge_1e308_all.csv",
        "".join(_set_cell(lines, 7, "monthly_income", "1e308")).replace(",6280.0,", ",1.7e308,"),
    )
    _write(c / "inf_age.csv", "".join(_set_cell(lines, 9, "age", "inf")))
    _write(c / "nan_transfer.csv", "".join(_set_cell(lines, 7, "monthly_savings_transfer", "nan")))
    ages = _set_cell(_set_cell(lines, 3, "age", "-1000"), 4, "age", "250")
    _write(c / "ages_out_of_range.csv", "".join(ages))
    _write(c / "region_unknown.csv", "".join(_set_cell(lines, 5, "region", "atlantis")))
    _write(c / "binary_seven.csv", "".join(_set_cell(lines, 6, "salary_domiciled", "7")))
    _write(c / "debt_ratio_5.csv", "".join(_set_cell(lines, 6, "debt_ratio", "5")))
    _write(c / "children_negative.csv", "".join(_set_cell(lines, 6, "children", "-3")))
    for name, column in {
        "col_markup_close.csv": "[/bold]",
        "col_markup_red.csv": "[red]x[/red]",
        "col_markup_link.csv": "[link=file:///etc/passwd]x[/link]",
        "col_markup_open.csv": "[bold",
    }.items():
        _write(c / name, "".join(_rename_column(lines, "take_home_loan", column)))
    for name, column in {
        "col_esc_clear.csv": ESC + "[2J" + ESC + "[31mX",
        "col_esc_title.csv": ESC + "]0;pwned\x07title",
        "col_bell.csv": "bell\x07",
        "col_c1_csi.csv": "c1\x9b31m",
        "col_bidi.csv": "abc\u202etxt",
        "col_backspace.csv": "ok\x08\x08\x08evil",
    }.items():
        _write(c / name, "".join(_rename_column(lines, "take_home_loan", column)))
    _write(c / "value_markup.csv", "".join(_set_cell(lines, 2, "region", "[/bold]")))
    _write(c / "value_escape.csv", "".join(_set_cell(lines, 2, "region", ESC + "[2J")))
    _write(c / "evil[/]x.csv", "".join(lines))
    _write(c / "[bold]x.csv", "".join(lines))
    _write(c / ("esc" + ESC + "[31mred.csv"), "".join(lines))
    (c / "a_folder.csv").mkdir(exist_ok=True)
    os.mkfifo(c / "fifo.csv")
    _write(c / "duplicate_columns.csv", "".join(_rename_column(lines, "take_home_loan", "age")))
    _write(
        c / "wide_20000_columns.csv",
        ",".join(f"c{i}" for i in range(20_000)) + "\n" + ",".join("1" * 20_000) + "\n",
    )
    _write(c / "long_field_5mb.csv", "a,b\n" + "x" * 5_000_000 + ",1\n")
    _write(c / "nul_bytes.csv", "".join(lines).replace("south", "so\x00uth", 3))
    _write(c / "latin1.csv", "".join(lines).replace("south", "süd").encode("latin-1"))
    _write(c / "utf16.csv", "".join(lines).encode("utf-16"))
    _write(c / "garbage.parquet", bytes(range(256)) * 64)
    _write(c / "text.parquet", "".join(lines))
    _write(c / "pickle.pkl", pickle.dumps(_Evil(f"touch {d / 'PWNED_PICKLE'}")))
    _write(c / "pickle.parquet", pickle.dumps(_Evil(f"touch {d / 'PWNED_PICKLE'}")))
    _write(c / "pickle.csv", pickle.dumps(_Evil(f"touch {d / 'PWNED_PICKLE'}")))
    _write(c / "clients.xlsx", "".join(lines))
    _write(d / "out" / "existing.csv", "precious,data\n1,2\n")
    _write(d / "out" / "existing.parquet", b"PAR1 precious PAR1")
    _write(d / "out" / "existing_schema.json", '{"precious": true}\n')
    _write(d / "out" / "existing_file_bundle", "precious\n")
    _write(d / "out" / "existing_folder" / "notes.txt", "precious\n")
    (d / "out" / "existing_dir.csv").mkdir(parents=True, exist_ok=True)
    (d / "out" / "evil[").mkdir(exist_ok=True)  # so that --out evil[/]x.csv has its folder
