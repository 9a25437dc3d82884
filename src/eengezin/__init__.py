"""eengezin — a workflow engine for 1Gezin1Plan1Regisseur with pluggable process definitions.

>>> from datetime import datetime
>>> from eengezin import Engine
>>> engine = Engine("basis")
>>> out = engine.start("T-1", {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]},
...                            "vraag": "Hulp bij schulden"}, at=datetime(2026, 1, 5, 9, 0))
>>> out.accepted, dict(out.traject.state)
(True, {'regie': 'aanmelding', 'veiligheid': 'geen_signalen'})
"""

from .definition import bundled_ids, load_definition
from .engine import Engine
from .errors import (
    ConflictError,
    DefinitionError,
    DefinitionMismatchError,
    DefinitionNotFoundError,
    EengezinError,
    Location,
    Problem,
    SerializationError,
    UnknownEventError,
)
from .process import Definition, available_events, evaluate, event_possible, new_traject, replay, step
from .rules import Context, PredicateRegistry, Verdict, Violation
from .serialization import traject_from_json, traject_to_json
from .store import open_store
from .traject import Actor, DefinitionRef, Event, HistoryEntry, OpenDeadline, Outcome, Traject

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "ConflictError",
    "Context",
    "Definition",
    "DefinitionError",
    "DefinitionMismatchError",
    "DefinitionNotFoundError",
    "DefinitionRef",
    "EengezinError",
    "Engine",
    "Event",
    "HistoryEntry",
    "Location",
    "OpenDeadline",
    "Outcome",
    "PredicateRegistry",
    "Problem",
    "SerializationError",
    "Traject",
    "UnknownEventError",
    "Verdict",
    "Violation",
    "__version__",
    "available_events",
    "bundled_ids",
    "evaluate",
    "event_possible",
    "load_definition",
    "new_traject",
    "open_store",
    "replay",
    "step",
    "traject_from_json",
    "traject_to_json",
]
