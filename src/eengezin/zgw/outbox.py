"""An in-memory :class:`~eengezin.decision.Outbox` fed by an engine's listener.

A host without a SQL store hands the relay a :class:`MemoryOutbox` and registers its
``add`` as a listener (``Engine(..., listeners=[outbox.add])``): ``claim`` offers every
unacknowledged record in order, ``ack`` removes records for good. Unlike a store's outbox
it is lost with the process; tests use it to offer any sequence of decisions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ..decision import Decision, OutboxRecord


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
