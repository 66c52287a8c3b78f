"""The constraint language business experts write: what a lever may change, and how.

This package imports nothing else from Levers (it is the bottom of the one-way import rule
``constraints <- counterfactuals <- advisor <- app``).
"""

from constraints.errors import ConstraintError

__all__ = ["ConstraintError"]
