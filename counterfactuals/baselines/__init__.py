"""Comparison baselines: other counterfactual libraries run on Levers' constraint sets.

Optional and for benchmarks only: nothing in :mod:`counterfactuals` imports this package,
and each baseline imports its library lazily, saying which extra to install when it is
missing.

- :mod:`counterfactuals.baselines.dice`: DiCE (``dice-ml``; random, genetic and k-d tree
  methods), with the constraint set translated into DiCE's options; importing it registers
  :class:`DiceEngine` as the ``dice`` engine of :func:`counterfactuals.generate`.
- :mod:`counterfactuals.baselines.alibi_cfrl`: alibi's counterfactuals with reinforcement
  learning (CFRL), run in a separate virtualenv through a subprocess (alibi pins numpy < 2).
"""

from counterfactuals.baselines.alibi_cfrl import AlibiCFRL, alibi_available
from counterfactuals.baselines.dice import (
    DICE_METHODS,
    DiceBaseline,
    DiceEngine,
    DiceOptions,
    DiceOutcome,
    dice_counterfactuals,
    dice_options,
)

__all__ = [
    "DICE_METHODS",
    "AlibiCFRL",
    "DiceBaseline",
    "DiceEngine",
    "DiceOptions",
    "DiceOutcome",
    "alibi_available",
    "dice_counterfactuals",
    "dice_options",
]
