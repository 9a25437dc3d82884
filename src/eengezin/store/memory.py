"""A store in the process's memory: the contract of the SQL stores, without a file.

For tests, notebooks and hosts that persist elsewhere. Thread-safe; everything is lost
with the process.

>>> from datetime import datetime, timezone
>>> from eengezin import Engine
>>> engine = Engine("basis", store=MemoryStore())
>>> engine.start("T-1", {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]},
...                      "vraag": "hulp"}, at=datetime(2026, 1, 5, 9, tzinfo=timezone.utc)).accepted
True
>>> [e.event for e in engine.history("T-1")]
['aanmelden']
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..decision import Decision, OutboxRecord
from ..errors import ConflictError, DefinitionMismatchError, IdempotencyConflictError
from ..process.model import Definition
from ..traject import DefinitionRef, HistoryEntry, Traject
from ._sql import DEFAULT_LEASE, AppendResult, StateChange, StoredDeadline, state_changes_of
from .codec import MIGRATION_EVENT
from .crypto import Sealer
from .errors import RetentionError, StoreError, TrajectErasedError, TrajectNotFoundError
from .sealing import Tries, seal_entry, seal_traject


class MemoryStore:
    """Trajecten, their logs and an outbox in dictionaries (see :class:`Store`)."""

    backend = "memory"

    def __init__(self, *, outbox: bool = False) -> None:
        self.url = "memory:"
        self.outbox_enabled = outbox
        self._lock = threading.RLock()
        self._snapshots: dict[str, Traject] = {}
        self._logs: dict[str, list[HistoryEntry]] = {}
        self._keys: dict[tuple[str, str], tuple[int, str | None]] = {}
        self._changes: dict[str, list[StateChange]] = {}
        self._definitions: dict[str, Definition] = {}
        self._outbox: dict[int, tuple[Decision, datetime | None]] = {}
        self._next_id = 1
        self._erased: dict[str, dict[str, Any]] = {}
        self._ledger: list[dict[str, Any]] = []

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release."""

    # ------------------------------------------------------------ writing

    @contextmanager
    def exclusive(self, traject_id: str) -> Iterator[None]:
        """Hold the store's lock (see :meth:`eengezin.store.SQLStore.exclusive`)."""
        with self._lock:
            yield

    def append(self, definition: Definition, traject: Traject, entries: Sequence[HistoryEntry], *,
               expected_version: int, idempotency_key: str | None = None,
               request_hash: str | None = None, decisions: Sequence[Decision] = ()
               ) -> AppendResult:
        if traject.definition != definition.ref:
            raise DefinitionMismatchError(f"traject {traject.id!r} is pinned to another definition",
                                          traject_id=traject.id, expected=traject.definition,
                                          actual=definition.ref)
        if not entries or traject.version != expected_version + len(entries):
            raise StoreError(f"traject {traject.id!r}: {len(entries)} entries do not lead from "
                             f"version {expected_version} to {traject.version}")
        with self._lock:
            if idempotency_key is not None:
                seen = self._seen(traject.id, idempotency_key, request_hash)
                if seen is not None:
                    return AppendResult(seen, applied=False)
            if traject.id in self._erased:
                raise TrajectErasedError(traject.id)
            old = self._snapshots.get(traject.id)
            stored = old.version if old is not None else 0
            if stored != expected_version or (old is None and traject.id in self._logs):
                raise ConflictError(f"traject {traject.id!r} is at version {stored}, not "
                                    f"{expected_version}: another writer was first",
                                    traject_id=traject.id, expected=expected_version, actual=stored)
            if old is not None and old.definition != definition.ref and not any(
                    e.event == MIGRATION_EVENT for e in entries):
                raise DefinitionMismatchError(f"traject {traject.id!r} is stored under another "
                                              "definition: migrate it first", traject_id=traject.id,
                                              expected=old.definition, actual=definition.ref)
            self._definitions.setdefault(definition.hash, definition)
            if old is None:
                self._ledger.append({"seq": len(self._ledger) + 1, "kind": "aangemaakt",
                                     "traject": traject.id, "at": datetime.now(UTC).isoformat(),
                                     "definition": definition.hash})
            log = self._logs.setdefault(traject.id, [])
            log.extend(entries)
            self._snapshots[traject.id] = traject
            changes = self._changes.setdefault(traject.id, [])
            before = dict(old.state) if old is not None else {}
            for seq, track, state, at in state_changes_of(definition.initial_state, before,
                                                          expected_version, entries, traject):
                changes.append(StateChange(traject.id, seq, track, state,
                                           datetime.fromisoformat(at)))
            if idempotency_key is not None:
                self._keys[(traject.id, idempotency_key)] = (traject.version, request_hash)
            if self.outbox_enabled:
                for d in decisions:
                    self._outbox[self._next_id] = (d, None)
                    self._next_id += 1
        return AppendResult(traject.version, applied=True)

    def erase(self, traject_id: str, *, reason: str, by: str, exception: str | None = None,
              at: datetime | None = None) -> None:
        """Replace the traject's personal values by ``"[gewist]"`` (in memory there is no
        key to destroy) and record who, when and why in the ledger."""
        if not reason.strip() or not by.strip():
            raise RetentionError("wissen: geef een reden en wie het doet")
        moment = (at or datetime.now(UTC)).isoformat()
        with self._lock:
            if traject_id not in self._snapshots:
                raise TrajectNotFoundError(traject_id)
            if traject_id in self._erased:
                raise TrajectErasedError(traject_id)
            snapshot = self._snapshots[traject_id]
            self._snapshots[traject_id] = seal_traject(
                snapshot, Tries.of(self._definitions[snapshot.definition.hash]), Sealer(
                    traject_id, None))
            self._logs[traject_id] = [
                seal_entry(e, Tries.of(self._definitions[e.definition.hash]),
                           Sealer(traject_id, None))
                if e.definition.hash in self._definitions else e
                for e in self._logs[traject_id]]
            body: dict[str, Any] = {"reden": reason, "door": by}
            if exception:
                body["uitzondering"] = exception
            self._erased[traject_id] = body
            self._ledger.append({"seq": len(self._ledger) + 1, "kind": "gewist",
                                 "traject": traject_id, "at": moment, **body})

    def erased(self, traject_id: str) -> bool:
        return traject_id in self._erased

    def ledger(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._ledger]

    def heads(self) -> dict[str, Any]:
        """Memory holds no hash chains: only versions."""
        with self._lock:
            return {"chain": "none", "ledger": {"seq": len(self._ledger), "head": ""},
                    "trajecten": {t: {"version": v.version, "head": ""}
                                  for t, v in sorted(self._snapshots.items())}}

    def check_integrity(self, ids: Iterable[str] | None = None) -> list[str]:
        """Nothing to check in memory (nobody edits it behind the store's back)."""
        return []

    def _seen(self, traject_id: str, key: str, request_hash: str | None) -> int | None:
        found = self._keys.get((traject_id, key))
        if found is None:
            return None
        if request_hash is not None and found[1] is not None and found[1] != request_hash:
            raise IdempotencyConflictError(
                f"traject {traject_id!r}: idempotency key was used before for another request",
                traject_id=traject_id, actual=found[0])
        return found[0]

    def import_trajecten(self, definition: Definition,
                         items: Iterable[tuple[Traject, Sequence[HistoryEntry]]], *,
                         batch: int = 5000) -> int:
        done = 0
        for traject, entries in items:
            if not entries or len(entries) != traject.version:
                raise StoreError(f"traject {traject.id!r}: its log does not lead to its version")
            self.append(definition, traject, entries, expected_version=0)
            done += 1
        return done

    # ------------------------------------------------------------ reading

    def load(self, traject_id: str, definition: Definition | None = None) -> Traject:
        with self._lock:
            traject = self._snapshots.get(traject_id)
        if traject is None:
            raise TrajectNotFoundError(traject_id)
        if definition is not None and traject.definition != definition.ref:
            raise DefinitionMismatchError(
                f"traject {traject_id!r} is pinned to {traject.definition.id} "
                f"v{traject.definition.version}: migrate it first", traject_id=traject_id,
                expected=traject.definition, actual=definition.ref)
        return traject

    def history(self, traject_id: str, *, start: int = 0, limit: int | None = None
                ) -> list[HistoryEntry]:
        with self._lock:
            log = self._logs.get(traject_id)
            if log is None:
                raise TrajectNotFoundError(traject_id)
            end = len(log) if limit is None else start + limit
            return list(log[start:end])

    def iter_history(self, traject_id: str, *, page: int = 1000) -> Iterator[HistoryEntry]:
        yield from self.history(traject_id)

    def version(self, traject_id: str) -> int | None:
        traject = self._snapshots.get(traject_id)
        return None if traject is None else traject.version

    def exists(self, traject_id: str) -> bool:
        return traject_id in self._snapshots

    def applied(self, traject_id: str, idempotency_key: str) -> int | None:
        with self._lock:
            return self._seen(traject_id, idempotency_key, None)

    def definition(self, ref: DefinitionRef | str) -> Definition:
        digest = ref.hash if isinstance(ref, DefinitionRef) else ref
        found = self._definitions.get(digest)
        if found is None:
            raise StoreError(f"definition {digest[:12]} is not in the store")
        return found

    def definitions(self) -> dict[DefinitionRef, int]:
        counts: dict[DefinitionRef, int] = {}
        with self._lock:
            for traject in self._snapshots.values():
                counts[traject.definition] = counts.get(traject.definition, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (kv[0].id, kv[0].version, kv[0].hash)))

    def ids(self, *, definition: DefinitionRef | str | None = None) -> list[str]:
        with self._lock:
            if definition is None:
                return sorted(self._snapshots)
            digest = definition.hash if isinstance(definition, DefinitionRef) else definition
            return sorted(t for t, v in self._snapshots.items() if v.definition.hash == digest)

    def count(self) -> int:
        return len(self._snapshots)

    def find(self, track: str, state: str) -> list[str]:
        with self._lock:
            return sorted(t for t, v in self._snapshots.items()
                          if v.state.get(track) == state
                          or str(v.state.get(track, "")).startswith(state + "."))

    def counts(self, track: str) -> dict[str, int]:
        out: dict[str, int] = {}
        with self._lock:
            for v in self._snapshots.values():
                if track in v.state:
                    out[v.state[track]] = out.get(v.state[track], 0) + 1
        return dict(sorted(out.items()))

    def open_deadlines(self, due_before: date | None = None, *, limit: int | None = None
                       ) -> list[StoredDeadline]:
        with self._lock:
            found = [StoredDeadline(d.id, d.started, d.due, traject_id=t)
                     for t, v in self._snapshots.items() for d in v.deadlines.values()
                     if due_before is None or d.due < due_before]
        found.sort(key=lambda d: (d.due, d.traject_id, d.id))
        return found if limit is None else found[:limit]

    def overdue(self, at: datetime | date, *, limit: int | None = None) -> list[StoredDeadline]:
        day = at.date() if isinstance(at, datetime) else at
        return self.open_deadlines(day, limit=limit)

    def state_changes(self, track: str) -> Iterator[StateChange]:
        with self._lock:
            rows = [c for t in sorted(self._changes) for c in self._changes[t] if c.track == track]
        yield from rows

    def entries(self, event: str) -> Iterator[tuple[str, int, HistoryEntry]]:
        with self._lock:
            rows = [(t, i + 1, e) for t in sorted(self._logs)
                    for i, e in enumerate(self._logs[t]) if e.event == event]
        yield from rows

    # ------------------------------------------------------------ outbox

    def claim(self, limit: int = 100, *, lease: timedelta = DEFAULT_LEASE) -> list[OutboxRecord]:
        if not self.outbox_enabled:
            raise StoreError("memory: the outbox is not enabled (MemoryStore(outbox=True))")
        now = datetime.now(UTC)
        out: list[OutboxRecord] = []
        with self._lock:
            for rid in sorted(self._outbox):
                decision, until = self._outbox[rid]
                if until is not None and until >= now:
                    continue
                self._outbox[rid] = (decision, now + lease)
                out.append(OutboxRecord(rid, decision))
                if len(out) >= limit:
                    break
        return out

    def ack(self, ids: Iterable[int]) -> None:
        with self._lock:
            for rid in ids:
                self._outbox.pop(int(rid), None)

    def outbox_size(self) -> int:
        return len(self._outbox)
