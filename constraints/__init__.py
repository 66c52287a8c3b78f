"""The constraint language business experts write: what a lever may change, and how.

Read a YAML file with :func:`load_constraints` (optionally bound to a data set) to get a
:class:`ConstraintSet`, the compiled, vectorised object every engine uses: ``check``,
``bounds_for``, ``project``, ``sample`` and ``cost``. The format is documented in
``docs/constraints.md``; :func:`constraint_file_schema` gives its JSON Schema.

This package imports nothing else from Levers (it is the bottom of the one-way import rule
``constraints <- counterfactuals <- advisor <- app``).
"""

from constraints._bind import FeatureSupport
from constraints._check import CheckResult
from constraints._compiled import (
    CompiledClause,
    CompiledConstraints,
    CompiledDerived,
    CompiledRule,
)
from constraints._draft import ConstraintDraft, draft_constraint_file, draft_constraints
from constraints._draft_columns import (
    DRAFT_LEAK_MIN_ROWS,
    DRAFT_LEAK_THRESHOLD,
    DRAFT_MAX_CATEGORIES,
    DRAFT_PURITY_THRESHOLD,
    DraftFlag,
)
from constraints._load import (
    bind_constraints,
    constraint_file_schema,
    dump_constraint_file,
    inspect_constraint_file,
    load_constraint_file,
    load_constraints,
    parse_constraint_file,
    parse_constraints,
    read_constraint_text,
)
from constraints._params import (
    AnyOf,
    Flag,
    InstanceOf,
    Number,
    OneOf,
    ParamRule,
    ParamSpec,
    TupleOf,
    Whole,
    check_dataclass,
    check_params,
)
from constraints._project import ClientBounds, Projection
from constraints._schema import ConstraintFile
from constraints._set import GOALS, ConstraintSet
from constraints._tolerance import RELATIVE_TOLERANCE, changed, difference, tolerance
from constraints._types import (
    ChangeClause,
    ChangeGroup,
    Clause,
    DerivedFeature,
    FeatureSpec,
    LinearClause,
    MembershipClause,
    OneHotGroup,
    ProductRule,
    Rule,
    Text,
    Violation,
)
from constraints.errors import ConstraintError, ConstraintFileError, FileProblem

__all__ = [
    "DRAFT_LEAK_MIN_ROWS",
    "DRAFT_LEAK_THRESHOLD",
    "DRAFT_MAX_CATEGORIES",
    "DRAFT_PURITY_THRESHOLD",
    "GOALS",
    "RELATIVE_TOLERANCE",
    "AnyOf",
    "ChangeClause",
    "ChangeGroup",
    "CheckResult",
    "Clause",
    "ClientBounds",
    "CompiledClause",
    "CompiledConstraints",
    "CompiledDerived",
    "CompiledRule",
    "ConstraintDraft",
    "ConstraintError",
    "ConstraintFile",
    "ConstraintFileError",
    "ConstraintSet",
    "DerivedFeature",
    "DraftFlag",
    "FeatureSpec",
    "FeatureSupport",
    "FileProblem",
    "Flag",
    "InstanceOf",
    "LinearClause",
    "MembershipClause",
    "Number",
    "OneHotGroup",
    "OneOf",
    "ParamRule",
    "ParamSpec",
    "ProductRule",
    "Projection",
    "Rule",
    "Text",
    "TupleOf",
    "Violation",
    "Whole",
    "bind_constraints",
    "changed",
    "check_dataclass",
    "check_params",
    "constraint_file_schema",
    "difference",
    "draft_constraint_file",
    "draft_constraints",
    "dump_constraint_file",
    "inspect_constraint_file",
    "load_constraint_file",
    "load_constraints",
    "parse_constraint_file",
    "parse_constraints",
    "read_constraint_text",
    "tolerance",
]
