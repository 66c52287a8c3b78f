"""A hostile case (:class:`Case`), the helpers that build one, and the corpus constants."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    max_peak_mib: float | None = None  # peak resident memory the case may add (refused early)

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
