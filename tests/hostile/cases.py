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

Layout: :class:`Case` and its builders in ``_case.py``; the inputs in ``_corpus.py``
(:func:`write_corpus`, :func:`call_api`), ``_corpus_files.py`` (YAML, CSV) and
``_corpus_bundles.py``; the cases by kind of input in ``cases_yaml.py``, ``cases_data.py``,
``cases_data_names.py``, ``cases_cli.py`` and ``cases_bundles.py``, gathered here in that order.
"""

from __future__ import annotations

from tests.hostile._case import SECRET, Case
from tests.hostile._corpus import call_api, write_corpus
from tests.hostile.cases_bundles import _bundle_cases
from tests.hostile.cases_cli import _unbounded_cases, _write_cases
from tests.hostile.cases_clients import _client_cases
from tests.hostile.cases_data import _csv_cases
from tests.hostile.cases_data_names import _csv_name_cases
from tests.hostile.cases_trust import _trust_cases
from tests.hostile.cases_yaml import _yaml_cases

__all__ = ["CASES", "SECRET", "Case", "call_api", "write_corpus"]

CASES: tuple[Case, ...] = (
    *_yaml_cases(),
    *_csv_cases(),
    *_csv_name_cases(),
    *_unbounded_cases(),
    *_write_cases(),
    *_bundle_cases(),
    *_client_cases(),
    *_trust_cases(),
)
