"""A traject is plain, frozen data: state per track, recorded facts, open deadlines, version.

Nothing here knows about a state machine; the compiled definition and the pure
:func:`eengezin.process.step` do the work. The mappings inside a traject are
never mutated after it is built: every accepted event makes new ones.

The history is not part of the traject: every accepted event yields one
:class:`HistoryEntry` (``outcome.entry``) that a store, or the host, appends to the
traject's log. An entry records what the event changed (:class:`Change`), so the log
can be applied again without deciding anything (:func:`eengezin.process.apply`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from .rules.verdict import Verdict, Violation

MIGRATION_EVENT = "definitie_migreren"
"""The log entry a migration writes (never a definition's own event). Its change is a
whole snapshot: the traject's states, facts and deadlines under the new definition."""


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
    """An event to decide: id, payload, actor and the moment it happened (passed in, never read).

    ``backdated`` marks an event the host knowingly dates before the traject's last
    accepted event (a late registration); without it such an event is refused
    (``event.te_vroeg``). The log records the mark.
    """

    name: str
    at: datetime
    data: Mapping[str, Any] = attrs.field(factory=dict)
    actor: Actor | None = None
    backdated: bool = False


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
class Change:
    """What one accepted event changed, recorded so that the log can be applied without
    deciding again: the tracks that moved (track -> new state), the facts set (new values)
    and removed, the deadlines started (or restarted) and ended, and the effects that ran.
    """

    state: Mapping[str, str] = attrs.field(factory=dict)
    facts: Mapping[str, Any] = attrs.field(factory=dict)
    unset: tuple[str, ...] = ()
    started: tuple[OpenDeadline, ...] = ()
    ended: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()


@attrs.frozen(slots=True)
class HistoryEntry:
    """One accepted event, as it was decided: one record of a traject's append-only log.

    ``version`` is the traject's version after the event (1 for the start event);
    ``change`` is what the event did (None only for entries written by eengezin before
    0.2, which are decided again on replay).
    """

    event: str
    at: datetime
    data: Mapping[str, Any]
    actor: Actor | None
    definition: DefinitionRef
    warnings: tuple[Violation, ...] = ()
    version: int = 0
    backdated: bool = False
    change: Change | None = None


@attrs.frozen(slots=True)
class Traject:
    """The state of one case: a snapshot whose size does not grow with its history.

    ``state`` maps each track to a dotted state path; ``version`` counts the accepted
    events (the optimistic-concurrency version); ``seen`` holds the ids of the events
    accepted at least once (what ``event_seen`` reads; at most one per declared event);
    ``last_at`` is the moment of the last accepted event.
    """

    id: str
    definition: DefinitionRef
    state: Mapping[str, str]
    facts: Mapping[str, Any] = attrs.field(factory=dict)
    deadlines: Mapping[str, OpenDeadline] = attrs.field(factory=dict)
    version: int = 0
    seen: frozenset[str] = frozenset()
    last_at: datetime | None = None

    @property
    def started(self) -> bool:
        """False until the definition's start event (``aanmelden``) was accepted."""
        return self.version > 0


@attrs.frozen(slots=True)
class Outcome:
    """What :func:`step` decided: the verdict and the traject after the event.

    When the event is refused, ``traject`` is the very object that was passed in.
    ``entered``/``exited`` list the states entered and left as ``track:path`` labels
    (exits innermost first, entries outermost first).
    """

    event: Event
    verdict: Verdict
    traject: Traject
    effects: tuple[str, ...] = ()
    entered: tuple[str, ...] = ()
    exited: tuple[str, ...] = ()
    entry: HistoryEntry | None = None
    """The new log entry when accepted (append it to the traject's log), else None."""
    duplicate: bool = False
    """True when a store recognised the idempotency key: the event was applied before."""
    attempts: int = 1
    """How many times the engine decided the event (more than one after write conflicts)."""
    error: Exception | None = None
    """The :class:`~eengezin.errors.HostPredicateError` that refused the event, if any."""

    @property
    def accepted(self) -> bool:
        """True when the event is in the log (now or, for a duplicate, before)."""
        return self.duplicate or self.verdict.accepted

    @property
    def violations(self) -> tuple[Violation, ...]:
        return self.verdict.violations
