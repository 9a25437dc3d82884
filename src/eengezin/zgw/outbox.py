"""An in-memory :class:`~eengezin.decision.Outbox`, and decisions made from core outcomes.

:class:`MemoryOutbox` is what a host without a SQL store (or a test) hands the relay:
``add`` appends a decision, ``claim`` offers every unacknowledged record in order,
``ack`` removes records for good. :func:`decision_from_outcome` builds the
:class:`~eengezin.decision.Decision` an engine reports for an accepted outcome of
:func:`eengezin.process.step`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ..decision import Decision, OutboxRecord, TrackChange
from ..process.model import Definition
from ..traject import Outcome, Traject


class MemoryOutbox:
    """A thread-safe outbox in memory; a claimed record stays offered until acknowledged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[int, OutboxRecord] = {}
        self._next = 1

    def add(self, decision: Decision) -> OutboxRecord:
        with self._lock:
            record = OutboxRecord(self._next, decision)
            self._records[record.id] = record
            self._next += 1
            return record

    def claim(self, limit: int = 100) -> list[OutboxRecord]:
        with self._lock:
            return [self._records[i] for i in sorted(self._records)[:limit]]

    def ack(self, ids: Iterable[int]) -> None:
        with self._lock:
            for i in ids:
                self._records.pop(i, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


def decision_from_outcome(definition: Definition, before: Traject, outcome: Outcome) -> Decision:
    """The decision an accepted ``outcome`` (of ``step`` on ``before``) stands for.

    Raises ValueError for a refused outcome: it decided nothing to relay.
    """
    if not outcome.accepted:
        raise ValueError("a refused event is no decision")
    after = outcome.traject
    entered_by_track: dict[str, list[str]] = {}
    for label in outcome.entered:
        label_track, path = label.split(":", 1)
        entered_by_track.setdefault(label_track, []).append(path)
    changes: list[TrackChange] = []
    for track_id, state in after.state.items():
        old = before.state.get(track_id, state)
        if old == state:
            continue
        track = definition.tracks[track_id]
        kept = set(track.ancestors[state])
        exited = tuple(p for p in track.ancestors.get(old, (old,)) if p not in kept)
        changes.append(TrackChange(track_id, old, state, exited, tuple(entered_by_track.get(track_id, ()))))
    event = outcome.event
    return Decision(
        traject_id=after.id, version=after.version, event=event.name, at=event.at, actor=event.actor,
        definition=definition.ref, data=event.data, state=dict(after.state), changes=tuple(changes),
        effects=outcome.effects,
        deadlines_started=tuple(d for k, d in after.deadlines.items() if before.deadlines.get(k) != d),
        deadlines_ended=tuple(k for k in before.deadlines if k not in after.deadlines),
        warnings=outcome.violations,
    )
