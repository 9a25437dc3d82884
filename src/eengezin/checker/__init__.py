"""Model checker for process definitions (``eengezin check DEF``).

:mod:`eengezin.checker.explore` explores a definition's abstract state space, with the
reductions described there and in ``docs/testing.md``.
"""

from .explore import (
    CheckResult,
    Finding,
    check_command,
    check_definition,
    cmd_check,
    format_event,
    inert_events,
    register,
    representative_payloads,
    result_json,
    write_report,
)

__all__ = [
    "CheckResult",
    "Finding",
    "check_command",
    "check_definition",
    "cmd_check",
    "format_event",
    "inert_events",
    "register",
    "representative_payloads",
    "result_json",
    "write_report",
]
