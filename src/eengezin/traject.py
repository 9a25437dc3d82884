"""A traject is plain, frozen data: state per track, recorded facts, open deadlines, history.

Nothing here knows about a state machine; the compiled definition and the pure
:func:`eengezin.process.step` do the work. The mappings inside a traject are
never mutated after it is built: every accepted event makes new ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from .rules.verdict import Verdict, Violation


@attrs.frozen(slots=True)
class DefinitionRef:
    """Which definition a traject (or history entry) was decided under."""

    id: str
    version: str
    hash: str


@attrs.frozen(slots=True)
class Actor:
    """Who fires an event: an id and, where the definition uses roles, a role."""

    id: str
    role: str | None = None


@attrs.frozen(slots=True)
class Event:
    """An event to decide: id, payload, actor and the moment it happened (passed in, never read)."""

    name: str
    at: datetime
    data: Mapping[str, Any] = attrs.field(factory=dict)
    actor: Actor | None = None


@attrs.frozen(slots=True)
class HistoryEntry:
    """One accepted event, as it was decided."""

    event: str
    at: datetime
    data: Mapping[str, Any]
    actor: Actor | None
    definition: DefinitionRef
    warnings: tuple[Violation, ...] = ()


@attrs.frozen(slots=True)
class OpenDeadline:
    """A running term: started on ``started``, the last day to meet it is ``due``."""

    id: str
    started: date
    due: date

    def overdue(self, at: datetime | date) -> bool:
        day = at.date() if isinstance(at, datetime) else at
        return day > self.due


@attrs.frozen(slots=True)
class Traject:
    """The state of one case. ``state`` maps each track to a dotted state path."""

    id: str
    definition: DefinitionRef
    state: Mapping[str, str]
    facts: Mapping[str, Any] = attrs.field(factory=dict)
    deadlines: Mapping[str, OpenDeadline] = attrs.field(factory=dict)
    history: tuple[HistoryEntry, ...] = ()

    @property
    def started(self) -> bool:
        """False until the definition's start event (``aanmelden``) was accepted."""
        return bool(self.history)

    @property
    def version(self) -> int:
        """Number of accepted events (the optimistic-concurrency version)."""
        return len(self.history)


@attrs.frozen(slots=True)
class Outcome:
    """What :func:`step` decided: the verdict and the traject after the event.

    When the event is refused, ``traject`` is the very object that was passed in.
    """

    event: Event
    verdict: Verdict
    traject: Traject
    effects: tuple[str, ...] = ()
    entered: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.verdict.accepted

    @property
    def violations(self) -> tuple[Violation, ...]:
        return self.verdict.violations
