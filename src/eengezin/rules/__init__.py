"""The rule engine: named predicates, conditions composed from them, and verdicts."""

from .conditions import compile_condition
from .context import Context
from .footprint import Condition, Declared, Reads
from .predicates import Check, CompileEnv, ConditionError, PredicateRegistry, age_on
from .verdict import Severity, Verdict, Violation

__all__ = [
    "Check",
    "CompileEnv",
    "Condition",
    "ConditionError",
    "Context",
    "Declared",
    "PredicateRegistry",
    "Reads",
    "Severity",
    "Verdict",
    "Violation",
    "age_on",
    "compile_condition",
]
