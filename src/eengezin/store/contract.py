"""The store contract every backend fulfils (checked by tests/test_store_contract.py).

Everything that holds trajecten is typed against :class:`Store`: the engine, the CLI,
migrations and the monitor. A store persists and queries; it never decides an event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from ..decision import Decision
from ..process.model import Definition
from ..traject import DefinitionRef, HistoryEntry, Traject
from ._sql import AppendResult, StateChange, StoredDeadline


@runtime_checkable
class Store(Protocol):
    """Where trajecten live: a snapshot per traject, its append-only log, and indexes.

    - :meth:`append` adds log entries and the new snapshot in one transaction, only when
      the stored version is ``expected_version`` (else
      :class:`~eengezin.errors.ConflictError`); an idempotency key makes a retried request
      a no-op, and binds to the request's hash.
    - :meth:`load` returns the stored snapshot: nothing is decided again.
    - :meth:`history` reads the log page by page.
    """

    url: str
    backend: str

    def append(self, definition: Definition, traject: Traject, entries: Sequence[HistoryEntry], *,
               expected_version: int, idempotency_key: str | None = None,
               request_hash: str | None = None, decisions: Sequence[Decision] = ()
               ) -> AppendResult:
        """Append entries and store the snapshot after them (see :class:`Store`)."""

    def exclusive(self, traject_id: str) -> AbstractContextManager[None]:
        """Hold the traject's write lock for a load, a decision and an append."""

    def load(self, traject_id: str, definition: Definition | None = None) -> Traject:
        """The stored snapshot (:class:`~eengezin.store.TrajectNotFoundError` if unknown)."""

    def history(self, traject_id: str, *, start: int = 0, limit: int | None = None
                ) -> list[HistoryEntry]:
        """Log entries after version ``start``, oldest first, at most ``limit``."""

    def iter_history(self, traject_id: str, *, page: int = 1000) -> Iterator[HistoryEntry]:
        """The whole log, page by page."""

    def version(self, traject_id: str) -> int | None:
        """The stored version, or None."""

    def exists(self, traject_id: str) -> bool:
        """True when the traject is stored."""

    def applied(self, traject_id: str, idempotency_key: str) -> int | None:
        """The version at which the idempotency key was applied, or None."""

    def definition(self, ref: DefinitionRef | str) -> Definition:
        """A definition the store keeps, by ref or hash."""

    def definitions(self) -> dict[DefinitionRef, int]:
        """Definitions in use, with the number of trajecten pinned to each."""

    def ids(self, *, definition: DefinitionRef | str | None = None) -> list[str]:
        """Stored traject ids, sorted."""

    def count(self) -> int:
        """Number of stored trajecten."""

    def find(self, track: str, state: str) -> list[str]:
        """Ids of trajecten whose ``track`` is in ``state`` (or nested under it)."""

    def counts(self, track: str) -> dict[str, int]:
        """Trajecten per state of ``track``."""

    def open_deadlines(self, due_before: date | None = None, *, limit: int | None = None
                       ) -> list[StoredDeadline]:
        """Open deadlines, earliest first."""

    def overdue(self, at: datetime | date, *, limit: int | None = None) -> list[StoredDeadline]:
        """Open deadlines whose last day is before ``at``."""

    def state_changes(self, track: str) -> Iterator[StateChange]:
        """Every change of ``track``, per traject in log order."""

    def entries(self, event: str) -> Iterator[tuple[str, int, HistoryEntry]]:
        """Every stored entry of one event id, as (traject id, version, entry)."""

    def import_trajecten(self, definition: Definition,
                         items: Iterable[tuple[Traject, Sequence[HistoryEntry]]], *,
                         batch: int = 5000) -> int:
        """Store whole new trajecten with their logs."""

    def erase(self, traject_id: str, *, reason: str, by: str, exception: str | None = None,
              at: datetime | None = None) -> None:
        """Destroy the traject's personal data (crypto-shredding) and record it."""

    def erased(self, traject_id: str) -> bool:
        """True when the traject's personal data was erased."""

    def ledger(self) -> list[dict[str, Any]]:
        """The store's ledger of trajecten created and erased."""

    def heads(self) -> dict[str, Any]:
        """The heads of the hash chains (to anchor elsewhere)."""

    def check_integrity(self, ids: Iterable[str] | None = None) -> list[str]:
        """Problems found walking the hash chains and comparing indexes (empty: sound)."""

    def close(self) -> None:
        """Release the store's resources."""
