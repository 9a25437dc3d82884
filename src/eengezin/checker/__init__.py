"""Model checker for process definitions (``eengezin check DEF``).

One idea per module:

- :mod:`.reads` — what conditions read, added up from the footprints the compiled
  definition carries (no condition is parsed here);
- :mod:`.analysis` — what the checker knows about a definition before it explores;
- :mod:`.state` — the abstract state, a named tuple, and how a traject is folded into it;
- :mod:`.liveness` — which facts can still be read from a state (dead values are masked);
- :mod:`.reductions` — closed facts, eager recorders, inert events;
- :mod:`.payloads` — the representative payloads an event is tried with;
- :mod:`.stepping` — firing events through the core, remembering outcomes per footprint;
- :mod:`.explore` — the breadth-first search, with time passing;
- :mod:`.parts` — the check in parts, one per outcome of the start event, merged;
- :mod:`.budget` — the budget of states the parts share;
- :mod:`.findings` — dead ends, unreachable states, events never accepted and why;
- :mod:`.report` — findings, the result, text and JSON.

The command line (``eengezin check``) lives with the CLI.
"""

from .explore import inert as inert_events
from .explore import representative_payloads
from .parts import check_definition
from .report import CheckResult, Finding, format_event, result_json, write_report

__all__ = [
    "CheckResult",
    "Finding",
    "check_definition",
    "format_event",
    "inert_events",
    "representative_payloads",
    "result_json",
    "write_report",
]
