"""eengezin — a workflow engine for 1Gezin1Plan1Regisseur with pluggable process definitions.

>>> from datetime import datetime
>>> from zoneinfo import ZoneInfo
>>> from eengezin import Engine
>>> engine = Engine("basis")
>>> out = engine.start("T-1", {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]},
...                            "vraag": "Hulp bij schulden"},
...                    at=datetime(2026, 1, 5, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam")))
>>> out.accepted, dict(out.traject.state)
(True, {'regie': 'aanmelding', 'veiligheid': 'geen_signalen'})
>>> out.entry.version
1
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .decision import Decision, Listener, Outbox, OutboxRecord, TrackChange
    from .definition import bundled_ids, load_definition
    from .engine import DeadlineStatus, Engine, VerifyFinding, VerifyReport
    from .errors import (
        ConflictError,
        DefinitionError,
        DefinitionMismatchError,
        DefinitionNotFoundError,
        EengezinError,
        HostPredicateError,
        IdempotencyConflictError,
        Location,
        NaiveDatetimeError,
        Problem,
        ReplayError,
        SerializationError,
        UnknownEventError,
    )
    from .process import Definition, available_events, evaluate, new_traject, replay, step
    from .process.step import apply, restore
    from .rules import Context, PredicateRegistry, Verdict, Violation
    from .serialization import traject_from_json, traject_to_json
    from .store import open_store
    from .traject import (
        Actor,
        Change,
        DefinitionRef,
        Event,
        HistoryEntry,
        OpenDeadline,
        Outcome,
        Traject,
    )


_EXPORTS = {
    "Decision": ".decision", "Listener": ".decision", "Outbox": ".decision",
    "OutboxRecord": ".decision", "TrackChange": ".decision",
    "bundled_ids": ".definition", "load_definition": ".definition",
    "DeadlineStatus": ".engine", "Engine": ".engine", "VerifyFinding": ".engine",
    "VerifyReport": ".engine",
    "ConflictError": ".errors", "DefinitionError": ".errors",
    "DefinitionMismatchError": ".errors", "DefinitionNotFoundError": ".errors",
    "EengezinError": ".errors", "HostPredicateError": ".errors",
    "IdempotencyConflictError": ".errors", "Location": ".errors",
    "NaiveDatetimeError": ".errors", "Problem": ".errors", "ReplayError": ".errors",
    "SerializationError": ".errors", "UnknownEventError": ".errors",
    "Definition": ".process", "available_events": ".process", "evaluate": ".process",
    "new_traject": ".process", "replay": ".process", "step": ".process",
    "apply": ".process.step", "restore": ".process.step",
    "Context": ".rules", "PredicateRegistry": ".rules", "Verdict": ".rules",
    "Violation": ".rules",
    "traject_from_json": ".serialization", "traject_to_json": ".serialization",
    "Actor": ".traject", "Change": ".traject", "DefinitionRef": ".traject",
    "Event": ".traject", "HistoryEntry": ".traject", "OpenDeadline": ".traject",
    "Outcome": ".traject", "Traject": ".traject",
    "open_store": ".store",
}

__version__ = "0.2.0"


def __getattr__(name: str) -> Any:
    # names load on first use, so `eengezin --help` and small hosts start fast
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'eengezin' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Actor",
    "Change",
    "ConflictError",
    "Context",
    "DeadlineStatus",
    "Decision",
    "Definition",
    "DefinitionError",
    "DefinitionMismatchError",
    "DefinitionNotFoundError",
    "DefinitionRef",
    "EengezinError",
    "Engine",
    "Event",
    "HistoryEntry",
    "HostPredicateError",
    "IdempotencyConflictError",
    "Listener",
    "Location",
    "NaiveDatetimeError",
    "OpenDeadline",
    "Outbox",
    "OutboxRecord",
    "Outcome",
    "PredicateRegistry",
    "Problem",
    "ReplayError",
    "SerializationError",
    "TrackChange",
    "Traject",
    "UnknownEventError",
    "Verdict",
    "VerifyFinding",
    "VerifyReport",
    "Violation",
    "__version__",
    "apply",
    "available_events",
    "bundled_ids",
    "evaluate",
    "load_definition",
    "new_traject",
    "open_store",
    "replay",
    "restore",
    "step",
    "traject_from_json",
    "traject_to_json",
]
