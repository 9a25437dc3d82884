"""The store contract every backend fulfils (checked by tests/test_store_contract.py)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from ..process.model import Definition
from ..traject import DefinitionRef, HistoryEntry, Traject
from ._sql import AppendResult, StateChange, StoredDeadline


@runtime_checkable
class Store(Protocol):
    """Where trajecten live: an append-only history per traject plus snapshots and indexes.

    - :meth:`append` stores new history entries in one transaction, only when the stored
      version is ``expected_version`` (else :class:`~eengezin.errors.ConflictError`);
      an idempotency key makes a retried request a no-op.
    - :meth:`load` returns the latest snapshot plus a replay of the tail, and refuses a
      traject pinned to another definition (:class:`~eengezin.errors.DefinitionMismatchError`).
    - :meth:`rebuild` derives the traject from the history alone; :meth:`verify` checks
      that both agree.
    """

    url: str
    backend: str

    def append(self, definition: Definition, traject: Traject, *, expected_version: int,
               idempotency_key: str | None = None) -> AppendResult:
        """Store ``traject.history[expected_version:]`` atomically."""
        ...

    def import_trajecten(self, definition: Definition, trajecten: Iterable[Traject], *,
                         batch: int = 5000) -> int:
        """Store whole new trajecten in batched transactions."""
        ...

    def load(self, traject_id: str, definition: Definition | None = None) -> Traject:
        """The traject (snapshot + replayed tail)."""
        ...

    def rebuild(self, traject_id: str) -> Traject:
        """The traject from its whole history, across migrations."""
        ...

    def verify(self, traject_id: str) -> Traject:
        """Load and rebuild, and check they agree."""
        ...

    def history(self, traject_id: str) -> tuple[HistoryEntry, ...]:
        """The stored history, oldest first."""
        ...

    def version(self, traject_id: str) -> int | None:
        """Number of stored entries, or None for an unknown traject."""
        ...

    def exists(self, traject_id: str) -> bool:
        """True when the traject is stored."""
        ...

    def applied(self, traject_id: str, idempotency_key: str) -> int | None:
        """The version at which the key was applied, or None."""
        ...

    def definition(self, ref: DefinitionRef | str) -> Definition:
        """A definition the store keeps, by reference or hash."""
        ...

    def definitions(self) -> dict[DefinitionRef, int]:
        """The definitions trajecten are pinned to, with their counts."""
        ...

    def ids(self, *, definition: DefinitionRef | str | None = None) -> list[str]:
        """Stored traject ids."""
        ...

    def count(self) -> int:
        """Number of stored trajecten."""
        ...

    def find(self, track: str, state: str) -> list[str]:
        """Trajecten whose track is in (or under) a state."""
        ...

    def counts(self, track: str) -> dict[str, int]:
        """Trajecten per state of a track."""
        ...

    def open_deadlines(self, due_before: date | None = None, *, limit: int | None = None
                       ) -> list[StoredDeadline]:
        """Open deadlines, earliest first."""
        ...

    def overdue(self, at: datetime | date, *, limit: int | None = None) -> list[StoredDeadline]:
        """Open deadlines past their last day at ``at``."""
        ...

    def state_changes(self, track: str) -> Iterator[StateChange]:
        """Every change of a track, per traject in order."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
