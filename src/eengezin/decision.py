"""What an accepted event changed, as told to listeners and written to a store's outbox.

A :class:`Decision` is the record a host relays to its own systems (a Zaken API, a
dashboard, a message bus). It is built once per accepted event by the shell
(:class:`eengezin.Engine`) from the core's outcome; SQL stores write the same record to
their outbox table in the transaction that appends the event, so a relay that reads the
outbox with :meth:`Outbox.claim` and confirms with :meth:`Outbox.ack` sees every accepted
decision exactly once, without a dual write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

import attrs

from .rules.verdict import Violation
from .traject import Actor, DefinitionRef, OpenDeadline


@attrs.frozen(slots=True)
class TrackChange:
    """One track that moved: the states left (innermost first) and entered (outermost first)."""

    track: str
    before: str
    after: str
    exited: tuple[str, ...] = ()
    entered: tuple[str, ...] = ()


@attrs.frozen(slots=True)
class Decision:
    """One accepted event and everything it changed.

    ``version`` is the traject's version after the event (1 for the start event).
    ``data`` is the payload as accepted (personal data included: a relay decides what
    leaves the process). ``state`` is every track's state after the event; ``changes``
    lists only the tracks that moved.
    """

    traject_id: str
    version: int
    event: str
    at: datetime
    actor: Actor | None
    definition: DefinitionRef
    data: Mapping[str, Any]
    state: Mapping[str, str]
    changes: tuple[TrackChange, ...] = ()
    effects: tuple[str, ...] = ()
    deadlines_started: tuple[OpenDeadline, ...] = ()
    deadlines_ended: tuple[str, ...] = ()
    warnings: tuple[Violation, ...] = ()
    backdated: bool = False

    def moved(self, track: str) -> TrackChange | None:
        """The change of ``track``, or None when the event left it where it was."""
        for change in self.changes:
            if change.track == track:
                return change
        return None


Listener = Callable[[Decision], None]
"""Called by the engine after each accepted (and, with a store, committed) decision."""


@attrs.frozen(slots=True)
class OutboxRecord:
    """A decision waiting in a store's outbox; ``id`` increases in commit order."""

    id: int
    decision: Decision


class Outbox(Protocol):
    """The relay side of an outbox: claim a batch, handle it, acknowledge what was handled.

    A claimed record that is not acknowledged is offered again by a later ``claim``
    (after the claim's lease ran out, or by a new relay process), so a relay must be
    idempotent per ``(traject_id, version)``.
    """

    def claim(self, limit: int = 100) -> list[OutboxRecord]: ...

    def ack(self, ids: Iterable[int]) -> None: ...
