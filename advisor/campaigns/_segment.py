"""Which clients a campaign covers: a safe segment expression or a mask, and the opt-outs.

A segment string is read with :mod:`ast` and evaluated here, column by column, never by
``eval`` nor ``DataFrame.query``: only comparisons, ``and`` / ``or`` / ``not`` (and ``&`` /
``|`` / ``~``), column names, constants and lists or tuples of constants are allowed.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.errors import CampaignError

__all__ = ["exclusion_mask", "segment_mask"]

BoolArray = NDArray[np.bool_]
_MAX_EXPRESSION = 2_000  # characters of a segment expression

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def _refuse(expression: str, what: str) -> CampaignError:
    return CampaignError(
        f"segment: must be comparisons of column names with constants joined by and/or/not. "
        f"Got {what} in {expression!r}."
    )


class _Evaluator:
    """Evaluate an allowed expression tree on a frame (arrays of one value per client)."""

    def __init__(self, frame: pd.DataFrame, expression: str) -> None:
        self.frame = frame
        self.expression = expression

    def value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Name):
            if node.id not in self.frame.columns:
                raise CampaignError(
                    f"segment: must name columns of the clients. Got unknown column {node.id!r} "
                    f"in {self.expression!r}."
                )
            return self.frame[node.id].to_numpy()
        if isinstance(node, ast.Constant) and isinstance(
            node.value, (bool, int, float, str, type(None))
        ):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.value(e) for e in node.elts]
            if any(isinstance(i, np.ndarray) for i in items):
                raise _refuse(self.expression, "a column inside a list")
            return items
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.value(node.operand)
            if isinstance(inner, (int, float)) and not isinstance(inner, bool):
                return -inner
        return self.mask(node)

    def mask(self, node: ast.expr) -> BoolArray:
        if isinstance(node, ast.BoolOp):
            parts = [self.mask(v) for v in node.values]
            join = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return np.asarray(join.reduce(parts), dtype=bool)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            left, right = self.mask(node.left), self.mask(node.right)
            return left & right if isinstance(node.op, ast.BitAnd) else left | right
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
            return ~self.mask(node.operand)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name):
            column = self.value(node)
            if column.dtype != bool:
                raise _refuse(self.expression, f"non-boolean column {node.id!r} used alone")
            return np.asarray(column, dtype=bool)
        raise _refuse(self.expression, f"'{ast.unparse(node)}'")

    def compare(self, node: ast.Compare) -> BoolArray:
        result = np.ones(len(self.frame), dtype=bool)
        left = self.value(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.value(right_node)
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, list) or not isinstance(left, np.ndarray):
                    raise _refuse(self.expression, "'in' without a column and a list")
                hit = pd.Series(left).isin(right).to_numpy()
                result &= hit if isinstance(op, ast.In) else ~hit
            elif type(op) in _COMPARE:
                if isinstance(left, list) or isinstance(right, list):
                    raise _refuse(self.expression, "a list compared with '<', '==', ...")
                try:
                    result &= np.asarray(_COMPARE[type(op)](left, right), dtype=bool)
                except TypeError as exc:
                    raise CampaignError(
                        f"segment: must compare values of the same kind. Got "
                        f"'{ast.unparse(node)}' in {self.expression!r}."
                    ) from exc
            else:
                raise _refuse(self.expression, f"operator {type(op).__name__}")
            left = right
        return result


def _parse(expression: str) -> ast.expr:
    if not expression.strip() or len(expression) > _MAX_EXPRESSION:
        raise CampaignError(
            f"segment: must be a non-empty expression of at most {_MAX_EXPRESSION:,} characters. "
            f"Got {len(expression)} characters."
        )
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise CampaignError(
            f"segment: must be a valid expression such as \"age >= 30 and region == 'north'\". "
            f"Got {expression!r} ({exc.msg})."
        ) from exc
    return tree.body


def _aligned(mask: Any, clients: pd.DataFrame, name: str) -> BoolArray:
    """Return a boolean mask given as an array or a Series aligned to the clients."""
    if isinstance(mask, pd.Series):
        if not mask.index.equals(clients.index):
            raise CampaignError(f"{name}: a Series mask must have the clients' index. Got another.")
        mask = mask.to_numpy()
    if not isinstance(mask, (np.ndarray, list)):
        raise CampaignError(
            f"{name}: must be a column name, a boolean mask or None. Got {type(mask).__name__}."
        )
    array = np.asarray(mask)
    if array.shape != (len(clients),) or array.dtype != bool:
        raise CampaignError(
            f"{name}: must be a boolean mask of one value per client ({len(clients)}). Got "
            f"dtype {array.dtype}, shape {array.shape}."
        )
    return array


def segment_mask(segment: Any, clients: pd.DataFrame) -> BoolArray:
    """Return which clients a segment holds (``None``: all of them).

    Parameters
    ----------
    segment
        ``None``, an expression on the clients' columns (``"age >= 30 and
        region in ['north', 'west']"``) or a boolean mask aligned to the clients.
    clients
        The clients, one row each.
    """
    if segment is None:
        mask = np.ones(len(clients), dtype=bool)
    elif isinstance(segment, str):
        try:
            mask = np.asarray(_Evaluator(clients, segment).mask(_parse(segment)), dtype=bool)
        except RecursionError as exc:
            raise _refuse(segment[:40] + "...", "an expression nested too deeply") from exc
    else:
        mask = _aligned(segment, clients, "segment")
    if not mask.any():
        raise CampaignError(
            f"segment: must hold at least one client. Got none of {len(clients)} clients."
        )
    return mask


def exclusion_mask(exclude: Any, clients: pd.DataFrame) -> BoolArray:
    """Return which clients must never be targeted (``None``: nobody).

    ``exclude`` is the name of a boolean column (opt-out of direct marketing, contacted too
    often...) or a boolean mask aligned to the clients.
    """
    if exclude is None:
        return np.zeros(len(clients), dtype=bool)
    if isinstance(exclude, str):
        if exclude not in clients.columns:
            raise CampaignError(f"exclude: must name a column of the clients. Got {exclude!r}.")
        column = clients[exclude]
        if column.dtype != bool:
            raise CampaignError(
                f"exclude: column {exclude!r} must be boolean (True = never target). Got dtype "
                f"{column.dtype}."
            )
        return np.asarray(column.to_numpy(), dtype=bool)
    return _aligned(exclude, clients, "exclude")
