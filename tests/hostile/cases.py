r"""The hostile-input corpus of issue 14: :func:`write_corpus` writes it, :data:`CASES` runs it.

Every case is one input tried through one entry point (a ``levers ...`` command line, a public
Python call, or a command line interrupted by Ctrl-C) and states what a correct outcome is:

- ``expect="error"``: a clean refusal. Exit code 1 or 2 (a package error for a Python call), no
  traceback, and the message names the offending file / field / flag (``mentions``: every group
  must match, a group is a tuple of alternatives, compared case-insensitively with rich's line
  wrapping undone).
- ``expect="ok"``: success (exit code 0), and the output holds every string of ``contains``.
- ``expect="any"``: either of the two; ``contains`` applies when it succeeds.

On top of that, whatever the exit code: ``excludes`` must never appear in the output (raw terminal
escapes, an outside file's content, "all files match" for a bundle that was tampered with),
``untouched`` paths keep their exact content, and ``absent`` paths do not exist afterwards (no
half-written output, no sentinel file written by injected code).

Paths in ``argv``/``api`` are relative to the corpus folder through the ``{d}`` placeholder. The
expectations follow the issue's text, not today's behaviour; where the issue leaves a message
open, they check a property (exit code, the flag or file named), never a full sentence.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CASES", "SECRET", "Case", "call_api", "write_corpus"]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_YAML = REPO_ROOT / "configs" / "demo-portfolio.yaml"
TARGET = "take_life_insurance"
SECRET = "OUTSIDE-SECRET-7f3a9c"  # the content of files outside a bundle: never echoed
ESC = "\x1b"
N_ROWS = 300  # demo clients in clients.csv: header on line 1, clients on lines 2..301


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One hostile input through one entry point, and what a correct outcome is."""

    name: str
    category: str
    expect: str  # "error", "ok" or "any"
    argv: tuple[str, ...] = ()
    api: tuple[str, ...] = ()  # (function name in API, *string arguments)
    sigint_after_s: float | None = None  # run argv in a subprocess and press Ctrl-C
    mentions: tuple[tuple[str, ...], ...] = ()
    contains: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    untouched: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    slow: bool = False

    def __post_init__(self) -> None:
        if self.expect not in ("error", "ok", "any"):
            raise ValueError(f"{self.name}: expect must be error, ok or any. Got {self.expect!r}.")
        if bool(self.argv) == bool(self.api):
            raise ValueError(f"{self.name}: give argv or api, exactly one.")

    def resolved_argv(self, folder: Path) -> list[str]:
        """Return the command line with ``{d}`` replaced by the corpus folder."""
        return [a.replace("{d}", str(folder)) for a in self.argv]


def _groups(mentions: tuple[str | tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    return tuple((m,) if isinstance(m, str) else m for m in mentions)


def _case(
    name: str,
    category: str,
    expect: str,
    argv: tuple[str, ...] | list[str] = (),
    *,
    mentions: tuple[str | tuple[str, ...], ...] = (),
    **kw: Any,
) -> Case:
    return Case(
        name=name,
        category=category,
        expect=expect,
        argv=tuple(argv),
        mentions=_groups(mentions),
        **kw,
    )


def _api(
    name: str,
    category: str,
    expect: str,
    call: tuple[str, ...],
    *,
    mentions: tuple[str | tuple[str, ...], ...] = (),
    **kw: Any,
) -> Case:
    return Case(
        name=name, category=category, expect=expect, api=call, mentions=_groups(mentions), **kw
    )


# --------------------------------------------------------------------------- the inputs


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


# --------------------------------------------------------------------------- bundles


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _card(folder: Path) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((folder / "model_card.json").read_text(encoding="utf-8"))
    return card


def _save_card(folder: Path, card: dict[str, Any], *, rehash: bool = True) -> None:
    """Write the card; with ``rehash``, re-sign it as an attacker with write access would."""
    if rehash:
        card["files"] = {
            name: _sha256(folder / name) if (folder / name).is_file() else digest
            for name, digest in card["files"].items()
        }
    (folder / "model_card.json").write_text(json.dumps(card, indent=2), encoding="utf-8")
    if rehash:
        _sign(folder)


def _sign(folder: Path) -> None:
    """Rewrite ``model_card.sha256`` (when the format has one) to match the card as it is."""
    signature = folder / "model_card.sha256"
    if signature.is_file():
        old = signature.read_text(encoding="utf-8")
        words = [w for w in old.split() if len(w) == 64]
        new = _sha256(folder / "model_card.json")
        signature.write_text(old.replace(words[0], new) if words else new, encoding="utf-8")


def _variant(base: Path, dest: Path) -> Path:
    shutil.copytree(base, dest, symlinks=True)
    return dest


def _rename_model(folder: Path, new: str, *, move: bool = True) -> None:
    card = _card(folder)
    card["models"] = {new: card["models"]["propensity"]}
    files = {}
    for name, digest in card["files"].items():
        files[name.replace("models/propensity/", f"models/{new}/")] = digest
    card["files"] = files
    if move:
        target = folder / "models" / new
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder / "models" / "propensity", target, dirs_exist_ok=True)
        shutil.rmtree(folder / "models" / "propensity")
    _save_card(folder, card)


def _write_bundle_inputs(d: Path) -> None:
    from advisor.datasets import read_table
    from advisor.models import save_bundle, train

    b = d / "bundles"
    base = b / "base"
    result = train(
        read_table(d / "clients.csv"),
        TARGET,
        DEMO_YAML,
        families=("logistic",),
        n_trials=1,
        budget_s=None,
        n_folds=3,
        seed=0,
    )
    save_bundle(result, base)
    outside = d / "outside"
    outside.mkdir(exist_ok=True)
    _write(outside / "secret.txt", SECRET + "\n")
    shutil.copy(base / "constraints.yaml", outside / "constraints.yaml")
    shutil.copytree(base / "models", outside / "models")
    shutil.copy(base / "model_card.json", outside / "model_card.json")
    shutil.copy(base / "feature_space.json", outside / "feature_space.json")
    # a model folder outside the bundle, reached by a model name that climbs out
    shutil.copytree(base / "models" / "propensity", outside / "evil_model")

    v = _variant(base, b / "escape_name")
    card = _card(v)
    card["models"] = {"../../../outside/evil_model": card["models"]["propensity"]}
    card["files"] = {k: h for k, h in card["files"].items() if not k.startswith("models/")}
    _save_card(v, card)

    for listed in (
        "models/propensity/logistic.skops",
        "models/propensity/calibrator.skops",
        "feature_space.json",
        "constraints.yaml",
        "models/propensity/model.json",
    ):
        v = _variant(base, b / ("unlisted_" + Path(listed).stem))
        card = _card(v)
        del card["files"][listed]
        _save_card(v, card)
    v = _variant(base, b / "unlisted_swapped")
    card = _card(v)
    del card["files"]["models/propensity/leaderboard.json"]
    _save_card(v, card)
    _write(v / "models/propensity/leaderboard.json", "[" * 100_000 + "]" * 100_000)

    v = _variant(base, b / "symlink_constraints_secret")
    (v / "constraints.yaml").unlink()
    os.symlink(outside / "secret.txt", v / "constraints.yaml")
    v = _variant(base, b / "symlink_constraints_same")
    (v / "constraints.yaml").unlink()
    os.symlink(outside / "constraints.yaml", v / "constraints.yaml")
    v = _variant(base, b / "symlink_models")
    shutil.rmtree(v / "models")
    os.symlink(outside / "models", v / "models")
    v = _variant(base, b / "symlink_card")
    (v / "model_card.json").unlink()
    os.symlink(outside / "model_card.json", v / "model_card.json")
    v = _variant(base, b / "symlink_feature_space")
    (v / "feature_space.json").unlink()
    os.symlink(outside / "feature_space.json", v / "feature_space.json")

    v = _variant(base, b / "files_parent")
    card = _card(v)
    card["files"]["../outside/secret.txt"] = hashlib.sha256(SECRET.encode()).hexdigest()
    _save_card(v, card)
    v = _variant(base, b / "files_absolute")
    card = _card(v)
    card["files"]["/etc/hostname"] = "0" * 64
    _save_card(v, card)

    v = _variant(base, b / "edited_card")
    card = _card(v)
    card["models"]["propensity"]["test"]["auc"] = 0.999
    card["models"]["propensity"]["cv_score"] = 0.998
    _save_card(v, card, rehash=False)
    v = _variant(base, b / "edited_card_seed")
    card = _card(v)
    card["seed"] = 12345
    _save_card(v, card, rehash=False)

    for name, field, value in (
        ("card_markup_constraint_name", "constraint_file.name", "[/bold]evil[/]"),
        ("card_markup_library", "libraries", {"[/bold]": "[red]1[/]"}),
        ("card_escape_constraint_name", "constraint_file.name", "x" + ESC + "[2J" + ESC + "[31m"),
        ("card_escape_library", "libraries", {"lib" + ESC + "]0;pwned\x07": "1"}),
        ("card_markup_created_at", "created_at", "[/bold]"),
    ):
        v = _variant(base, b / name)
        card = _card(v)
        if "." in field:
            outer, inner = field.split(".")
            card[outer][inner] = value
        else:
            card[field] = value
        _save_card(v, card)
    _rename_model(_variant(base, b / "model_name_markup"), "[/bold]")
    _rename_model(_variant(base, b / "model_name_escape"), "m" + ESC + "[31m")
    _rename_model(_variant(base, b / "model_name_dotdot"), "..")
    _rename_model(_variant(base, b / "model_name_slash"), "a/b")
    v = _variant(base, b / "model_name_absolute")
    card = _card(v)
    card["models"] = {str(outside / "evil_model"): card["models"]["propensity"]}
    _save_card(v, card)

    _variant(base, b / "bund[/]le")
    _variant(base, b / ("bund" + ESC + "[31mle"))

    v = _variant(base, b / "pickle_model")
    _write(
        v / "models/propensity/logistic.skops", pickle.dumps(_Evil(f"touch {d / 'PWNED_BUNDLE'}"))
    )
    _save_card(v, _card(v))
    v = _variant(base, b / "family_traversal")
    meta = json.loads((v / "models/propensity/model.json").read_text(encoding="utf-8"))
    meta["family"] = "../../../outside/evil"
    _write(v / "models/propensity/model.json", json.dumps(meta))
    _save_card(v, _card(v))
    v = _variant(base, b / "bomb_constraints")
    _write(v / "constraints.yaml", _bomb())
    _save_card(v, _card(v))
    v = _variant(base, b / "deep_feature_space")
    _write(v / "feature_space.json", "[" * 100_000 + "]" * 100_000)
    _save_card(v, _card(v))
    v = _variant(base, b / "deep_card")
    _write(v / "model_card.json", '{"format": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _sign(v)
    v = _variant(base, b / "card_not_json")
    _write(v / "model_card.json", b"\xff\xfe not json")
    _sign(v)
    v = _variant(base, b / "card_list")
    _write(v / "model_card.json", "[]")
    _sign(v)
    v = _variant(base, b / "corrupted_model")
    with (v / "models/propensity/logistic.skops").open("ab") as fh:
        fh.write(b"x")
    v = _variant(base, b / "no_models_dir")
    shutil.rmtree(v / "models")
    _write(b / "not_a_folder", "just a file\n")
    _variant(base, d / "out" / "existing_bundle")


def write_corpus(folder: str | os.PathLike[str]) -> Path:
    """Write every hostile input of the corpus into ``folder`` (created; must be empty or new).

    Deterministic: the same files every time (the bundle's ``created_at`` aside), from the demo
    portfolio (300 clients, seed 0), ``configs/demo-portfolio.yaml`` and one small logistic
    bundle trained on them (one trial, a few seconds).
    """
    from advisor.datasets import make_demo_portfolio

    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    make_demo_portfolio(n_clients=N_ROWS, seed=0).to_csv(d / "clients.csv", index=False)
    (d / "out").mkdir(exist_ok=True)
    _write_yaml_inputs(d)
    _write_csv_inputs(d)
    _write_bundle_inputs(d)
    return d


# --------------------------------------------------------------------------- Python calls


def call_api(name: str, folder: Path, args: tuple[str, ...]) -> Any:
    """Run one public Python call of the corpus (``name`` with string arguments)."""
    from advisor.datasets import make_demo_portfolio, read_client_data, read_table, write_table
    from advisor.models import load_bundle, train
    from constraints import load_constraints

    def path(text: str) -> Path:
        return folder / text

    if name == "load_constraints":
        return load_constraints(path(args[0]))
    if name == "load_constraints_data":
        return load_constraints(path(args[0]), read_table(path(args[1])))
    if name == "read_table":
        return read_table(path(args[0]))
    if name == "read_client_data":
        return read_client_data(args[0].replace("{d}", str(folder)))
    if name == "load_bundle":
        return load_bundle(path(args[0]))
    if name == "make_demo_portfolio":
        value: Any = json.loads(args[0]) if args[0] not in ("nan", "inf") else float(args[0])
        return make_demo_portfolio(n_clients=value)
    if name == "write_table":
        return write_table(make_demo_portfolio(n_clients=10, seed=0), path(args[0]))
    if name == "train":
        budget = float(args[0])
        return train(
            read_table(path("clients.csv")),
            TARGET,
            DEMO_YAML,
            families=("logistic",),
            budget_s=budget,
            n_trials=None,
            seed=0,
        )
    raise ValueError(f"unknown API call {name!r}")


# --------------------------------------------------------------------------- the cases

CHECK = ("constraints", "check")
DESCRIBE = ("data", "describe")
SHOW = ("models", "show")


def _train(data: str, yaml: str, out: str, *extra: str) -> tuple[str, ...]:
    return (
        "train", "--data", data, "--target", TARGET, "--constraints", yaml, "--out", out,
        "--families", "logistic", "--n-trials", "1", *extra,
    )  # fmt: skip


def _train_ok(name: str, *extra: str) -> tuple[str, ...]:
    base = _train("{d}/clients.csv", str(DEMO_YAML), f"{{d}}/out/{name}")[:-2]
    return (*base, *extra)  # ends with --families logistic: no --n-trials unless given


def _with_target(name: str, target: str) -> tuple[str, ...]:
    argv = _train_ok(name, "--n-trials", "1")
    return (*argv[:3], "--target", target, *argv[5:])


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


def _csv_cases() -> list[Case]:
    cases: list[Case] = []
    c = "{d}/csv/"
    err = "error"
    demo = str(DEMO_YAML)
    line = (("line", "row"),)
    shape = (
        ("extra_fields_line10.csv", (*line, ("10", "9"))),
        ("missing_fields_line12.csv", (*line, ("12", "11"))),
        ("unbalanced_quote_line5.csv", (("quote", '"'),)),
    )
    for f, mentions in shape:
        cases.append(
            _case(f"describe:{f}", "csv-shape", err, (*DESCRIBE, c + f), mentions=(f, *mentions))
        )
        cases.append(
            _case(
                f"check-data:{f}",
                "csv-shape",
                err,
                (*CHECK, demo, "--data", c + f),
                mentions=(f, *mentions),
            )
        )
        cases.append(
            _case(
                f"train:{f}",
                "csv-shape",
                err,
                _train(c + f, demo, f"{{d}}/out/t_{f}"),
                mentions=(f, *mentions),
                absent=(f"out/t_{f}",),
            )
        )
        cases.append(
            _api(
                f"read_table:{f}",
                "csv-shape",
                err,
                ("read_table", "csv/" + f),
                mentions=(f, *mentions),
            )
        )
    for f in ("header_only.csv", "only_newlines.csv"):
        cases.append(_case(f"describe:{f}", "csv-shape", "any", (*DESCRIBE, c + f), mentions=(f,)))
        cases.append(_case(f"check-data:{f}", "csv-shape", "any", (*CHECK, demo, "--data", c + f)))
        cases.append(
            _case(
                f"train:{f}",
                "csv-shape",
                err,
                _train(c + f, demo, f"{{d}}/out/t_{f}"),
                mentions=(f,),
                absent=(f"out/t_{f}",),
            )
        )
    cases.append(
        _case(
            "describe:empty.csv",
            "csv-shape",
            err,
            (*DESCRIBE, c + "empty.csv"),
            mentions=("empty.csv",),
        )
    )
    cases.append(
        _case(
            "train:empty.csv",
            "csv-shape",
            err,
            _train(c + "empty.csv", demo, "{d}/out/t_empty"),
            mentions=("empty.csv",),
        )
    )
    for f in (
        "duplicate_columns.csv",
        "wide_20000_columns.csv",
        "long_field_5mb.csv",
        "nul_bytes.csv",
        "latin1.csv",
        "utf16.csv",
    ):
        cases.append(_case(f"describe:{f}", "csv-shape", "any", (*DESCRIBE, c + f), mentions=(f,)))
    cases.append(
        _case(
            "train:duplicate_columns.csv",
            "csv-shape",
            err,
            _train(c + "duplicate_columns.csv", demo, "{d}/out/t_dup"),
            mentions=("age",),
        )
    )
    for f in ("garbage.parquet", "text.parquet", "clients.xlsx"):
        cases.append(_case(f"describe:{f}", "csv-shape", err, (*DESCRIBE, c + f), mentions=(f,)))
    for f in ("pickle.pkl", "pickle.parquet", "pickle.csv"):
        cases.append(
            _case(
                f"describe:{f}",
                "code-exec",
                err,
                (*DESCRIBE, c + f),
                mentions=(f,),
                absent=("PWNED_PICKLE",),
            )
        )
    cases.append(
        _api(
            "read_table:pickle.parquet",
            "code-exec",
            err,
            ("read_table", "csv/pickle.parquet"),
            mentions=("pickle.parquet",),
            absent=("PWNED_PICKLE",),
        )
    )
    # non-finite numbers: refused by check exactly as by train, naming the feature (and row)
    for f in ("inf_income.csv", "neg_inf_income.csv", "infinity_word.csv"):
        cases.append(
            _case(
                f"check-data:{f}",
                "non-finite",
                err,
                (*CHECK, demo, "--data", c + f),
                mentions=("monthly_income",),
            )
        )
        cases.append(
            _case(
                f"train:{f}",
                "non-finite",
                err,
                _train(c + f, demo, f"{{d}}/out/t_{f}"),
                mentions=("monthly_income",),
                absent=(f"out/t_{f}",),
            )
        )
    cases.append(
        _case(
            "check-data:inf_age.csv",
            "non-finite",
            err,
            (*CHECK, demo, "--data", c + "inf_age.csv"),
            mentions=("age",),
        )
    )
    cases.append(
        _case(
            "train:inf_age.csv",
            "non-finite",
            err,
            _train(c + "inf_age.csv", demo, "{d}/out/t_inf_age"),
            mentions=("age",),
        )
    )
    cases.append(
        _api(
            "load_constraints_data:inf_income.csv",
            "non-finite",
            err,
            ("load_constraints_data", str(DEMO_YAML), "csv/inf_income.csv"),
            mentions=("monthly_income",),
        )
    )
    # 1e308 is finite (check and train may accept it or refuse it, naming the feature)
    for f, feature in (
        ("huge_1e308.csv", "monthly_income"),
        ("huge_1e308_all.csv", "monthly_income"),
        ("nan_transfer.csv", "monthly_savings_transfer"),
    ):
        named = (feature,)
        cases.append(
            _case(
                f"check-data:{f}",
                "non-finite",
                "any",
                (*CHECK, demo, "--data", c + f),
                mentions=named,
            )
        )
        cases.append(
            _case(
                f"train:{f}",
                "non-finite",
                "any",
                _train(c + f, demo, f"{{d}}/out/t_{f}"),
                mentions=named,
            )
        )
    cases.append(
        _case("describe:inf_income.csv", "non-finite", "any", (*DESCRIBE, c + "inf_income.csv"))
    )
    # domain checks of the constraint file applied to the data
    bounded = "{d}/yaml/demo_bounded_age.yaml"
    cases.append(
        _case(
            "check-data:ages-bounded",
            "domain",
            err,
            (*CHECK, bounded, "--data", c + "ages_out_of_range.csv"),
            mentions=("age", ("-1000", "250")),
        )
    )
    cases.append(
        _case(
            "check-data:ages-tiny-bounded",
            "domain",
            err,
            (*CHECK, "{d}/yaml/tiny_bounded_age.yaml", "--data", c + "ages_out_of_range.csv"),
            mentions=("age",),
        )
    )
    cases.append(
        _case(
            "train:ages-bounded",
            "domain",
            err,
            _train(c + "ages_out_of_range.csv", bounded, "{d}/out/t_ages"),
            mentions=("age",),
            absent=("out/t_ages",),
        )
    )
    cases.append(
        _case(
            "check-data:ages-unbounded-warns",
            "domain",
            "ok",
            (*CHECK, demo, "--data", c + "ages_out_of_range.csv"),
            contains=("warning", "age"),
        )
    )
    for f, feature in (
        ("region_unknown.csv", "region"),
        ("binary_seven.csv", "salary_domiciled"),
        ("debt_ratio_5.csv", "debt_ratio"),
        ("children_negative.csv", "children"),
    ):
        cases.append(
            _case(
                f"check-data:{f}",
                "domain",
                err,
                (*CHECK, demo, "--data", c + f),
                mentions=(feature,),
            )
        )
    cases.append(
        _case(
            "train:debt_ratio_5.csv",
            "domain",
            err,
            _train(c + "debt_ratio_5.csv", demo, "{d}/out/t_debt"),
            mentions=("debt_ratio",),
        )
    )
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
            "read_client_data:fifo.csv",
            "io-errors",
            err,
            ("read_client_data", "{d}/csv/fifo.csv"),
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


CASES: tuple[Case, ...] = (
    *_yaml_cases(),
    *_csv_cases(),
    *_unbounded_cases(),
    *_write_cases(),
    *_bundle_cases(),
)
