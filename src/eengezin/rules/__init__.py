"""The rule engine: named predicates, conditions composed from them, and verdicts."""

from .conditions import compile_condition
from .context import Context
from .predicates import Check, CompileEnv, ConditionError, PredicateRegistry, age_on
from .verdict import Severity, Verdict, Violation

__all__ = [
    "Check",
    "CompileEnv",
    "ConditionError",
    "Context",
    "PredicateRegistry",
    "Severity",
    "Verdict",
    "Violation",
    "age_on",
    "compile_condition",
]
