"""The comparative study of explanation methods (``levers study run``) and its tables.

:func:`run_study` trains the three model families on each data set through the AutoML chain,
explains the same held-out clients with every method of :mod:`advisor.explain` (plus the
model's own effects, the demo's causal truth and influence functions) and writes tidy
tables (:data:`TABLES`) to a folder; docs/study.md describes the protocol and every column.
:func:`write_report` turns such a folder into ``report.html`` and ``report.pdf``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor._lazy import lazy_exports

if TYPE_CHECKING:
    from advisor.study._data import DATASETS, DEMO_PRODUCT, MODELS
    from advisor.study._metrics import EPSILON
    from advisor.study._report import write_report
    from advisor.study._runner import STUDY_PARAMS, StudyResult, check_out, run_study
    from advisor.study._tables import TABLES

__all__ = [
    "DATASETS",
    "DEMO_PRODUCT",
    "EPSILON",
    "MODELS",
    "STUDY_PARAMS",
    "TABLES",
    "StudyResult",
    "check_out",
    "run_study",
    "write_report",
]

# Each public name and the module defining it, imported on first use: importing the package
# stays light (``levers --help`` loads no model library); see tests/test_startup.py.
_EXPORTS = {
    "DATASETS": "advisor.study._data",
    "DEMO_PRODUCT": "advisor.study._data",
    "MODELS": "advisor.study._data",
    "EPSILON": "advisor.study._metrics",
    "STUDY_PARAMS": "advisor.study._runner",
    "StudyResult": "advisor.study._runner",
    "check_out": "advisor.study._runner",
    "run_study": "advisor.study._runner",
    "TABLES": "advisor.study._tables",
    "write_report": "advisor.study._report",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
