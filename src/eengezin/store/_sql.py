"""The store logic both SQL backends share; each backend supplies connections and a dialect.

Tables (all prefixed ``eengezin_`` so a PostgreSQL database can be shared with the host):

- ``meta``: format marker and schema version (a foreign database is recognised by its absence);
- ``definitions``: every definition a traject was pinned to, as its merged tree (JSON), so a
  history can be replayed long after the YAML file changed;
- ``trajecten``: id, pinned definition hash, version (= number of history entries);
- ``events``: one row per history entry, primary key ``(traject_id, seq)``, optional
  idempotency key (unique per traject);
- ``snapshots``: the traject without history at some versions (every ``snapshot_every``
  events and at every migration);
- ``states`` / ``state_changes``: the current state per track and every change of it
  (indexed; queries and the monitor read these instead of replaying);
- ``deadlines``: open deadlines, indexed by due date.

Every write is one transaction that checks the expected version first, so a concurrent
writer gets :class:`~eengezin.errors.ConflictError` and nothing is half written.
"""

from __future__ import annotations

import abc
import json
import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Any, Protocol

import attrs

from ..definition._yaml import Locator
from ..definition.compiler import compile_definition
from ..definition.loader import RawDefinition
from ..errors import ConflictError, DefinitionError, DefinitionMismatchError
from ..process import new_traject, step
from ..process.model import Definition
from ..rules.predicates import PredicateRegistry
from ..traject import DefinitionRef, Event, HistoryEntry, OpenDeadline, Outcome, Traject
from . import codec
from .errors import StoreCorruptError, StoreError, StoreOpenError, TrajectNotFoundError

FORMAT = "eengezin-store"
SCHEMA_VERSION = 1
DEFAULT_SNAPSHOT_EVERY = 100

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS eengezin_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS eengezin_definitions (hash TEXT PRIMARY KEY, id TEXT NOT NULL,"
    " version TEXT NOT NULL, source TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS eengezin_trajecten (id TEXT PRIMARY KEY,"
    " definition_hash TEXT NOT NULL, version INTEGER NOT NULL, created TEXT NOT NULL,"
    " updated TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS eengezin_trajecten_definition"
    " ON eengezin_trajecten (definition_hash)",
    "CREATE TABLE IF NOT EXISTS eengezin_events (traject_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    " event TEXT NOT NULL, at TEXT NOT NULL, entry TEXT NOT NULL, idempotency_key TEXT,"
    " PRIMARY KEY (traject_id, seq))",
    "CREATE UNIQUE INDEX IF NOT EXISTS eengezin_events_key"
    " ON eengezin_events (traject_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS eengezin_events_event ON eengezin_events (event)",
    "CREATE TABLE IF NOT EXISTS eengezin_snapshots (traject_id TEXT NOT NULL,"
    " version INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (traject_id, version))",
    "CREATE TABLE IF NOT EXISTS eengezin_states (traject_id TEXT NOT NULL, track TEXT NOT NULL,"
    " state TEXT NOT NULL, since TEXT NOT NULL, PRIMARY KEY (traject_id, track))",
    "CREATE INDEX IF NOT EXISTS eengezin_states_state ON eengezin_states (track, state)",
    "CREATE TABLE IF NOT EXISTS eengezin_state_changes (traject_id TEXT NOT NULL,"
    " seq INTEGER NOT NULL, track TEXT NOT NULL, state TEXT NOT NULL, at TEXT NOT NULL,"
    " PRIMARY KEY (traject_id, seq, track))",
    "CREATE INDEX IF NOT EXISTS eengezin_state_changes_track"
    " ON eengezin_state_changes (track, traject_id, seq)",
    "CREATE TABLE IF NOT EXISTS eengezin_deadlines (traject_id TEXT NOT NULL,"
    " deadline_id TEXT NOT NULL, started TEXT NOT NULL, due TEXT NOT NULL,"
    " PRIMARY KEY (traject_id, deadline_id))",
    "CREATE INDEX IF NOT EXISTS eengezin_deadlines_due ON eengezin_deadlines (due)",
)


class Cursor(Protocol):
    """The part of a DB-API cursor the stores use."""

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


@attrs.frozen(slots=True)
class AppendResult:
    """What :meth:`Store.append` did: the traject's version afterwards, and whether it wrote.

    ``applied`` is False when the idempotency key was already recorded (a retried request).
    """

    version: int
    applied: bool


@attrs.frozen(slots=True)
class StoredDeadline(OpenDeadline):
    """An open deadline as indexed by the store: the deadline plus its traject's id."""

    traject_id: str = attrs.field(kw_only=True)


@attrs.frozen(slots=True)
class StateChange:
    """A track entered ``state`` with history entry ``seq`` at moment ``at``."""

    traject_id: str
    seq: int
    track: str
    state: str
    at: datetime


@attrs.frozen(slots=True)
class Decision:
    """What :func:`fire` did: the outcome (None for a duplicate) and the stored version."""

    outcome: Outcome | None
    traject: Traject
    duplicate: bool
    attempts: int

    @property
    def accepted(self) -> bool:
        """True when the event is in the history (now or, for a duplicate, before)."""
        return self.duplicate or (self.outcome is not None and self.outcome.accepted)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _parse_at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SQLStore(abc.ABC):
    """Store logic over a DB-API connection; subclasses supply the connection and dialect.

    Use :func:`eengezin.store.open_store` rather than a subclass directly. One store object
    belongs to one thread; open one per thread or process.
    """

    url: str
    backend: str = "sql"

    def __init__(self, *, predicates: PredicateRegistry | None = None,
                 snapshot_every: int = DEFAULT_SNAPSHOT_EVERY) -> None:
        if snapshot_every < 1:
            raise ValueError("snapshot_every must be at least 1")
        self.predicates = predicates
        self.snapshot_every = snapshot_every
        self._definitions: dict[str, Definition] = {}
        self._stored_hashes: set[str] = set()

    # ------------------------------------------------------------ dialect hooks

    @abc.abstractmethod
    def _transaction(self, write: bool) -> AbstractContextManager[Cursor]:
        """A transaction; ``write`` transactions are serialised against other writers."""

    @abc.abstractmethod
    def _is_unique_violation(self, exc: BaseException) -> bool:
        """True when ``exc`` is the backend's unique-constraint violation."""

    def _lock_traject(self, cur: Cursor, traject_id: str) -> Any:
        cur.execute("SELECT definition_hash, version FROM eengezin_trajecten WHERE id = ?",
                    (traject_id,))
        return cur.fetchone()

    @abc.abstractmethod
    def close(self) -> None:
        """Close the connection."""

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    # ------------------------------------------------------------ schema

    def _init_schema(self, cur: Cursor, existing_tables: set[str]) -> None:
        """Check the format marker (or create the schema in an empty database)."""
        if "eengezin_meta" in existing_tables:
            cur.execute("SELECT key, value FROM eengezin_meta")
            meta = dict(cur.fetchall())
            if meta.get("format") != FORMAT:
                raise StoreOpenError(f"{self.url}: not an eengezin store (unknown format marker)")
            try:
                version = int(meta.get("schema_version", ""))
            except ValueError:
                raise StoreOpenError(f"{self.url}: unreadable schema version") from None
            if version > SCHEMA_VERSION:
                raise StoreOpenError(
                    f"{self.url}: written by a newer eengezin (store schema {version}, "
                    f"this version reads {SCHEMA_VERSION})")
            return
        ours = {t for t in existing_tables if t.startswith("eengezin_")}
        if ours:
            raise StoreOpenError(f"{self.url}: eengezin tables without a format marker "
                                 f"({', '.join(sorted(ours))}): not a complete store")
        for statement in SCHEMA:
            cur.execute(statement)
        cur.execute("INSERT INTO eengezin_meta (key, value) VALUES (?, ?)", ("format", FORMAT))
        cur.execute("INSERT INTO eengezin_meta (key, value) VALUES (?, ?)",
                    ("schema_version", str(SCHEMA_VERSION)))

    # ------------------------------------------------------------ definitions

    def _remember_definition(self, cur: Cursor, definition: Definition) -> None:
        """Keep a copy of ``definition`` (inside the caller's transaction)."""
        if definition.hash in self._stored_hashes:
            return
        cur.execute("SELECT 1 FROM eengezin_definitions WHERE hash = ?", (definition.hash,))
        if cur.fetchone() is None:
            source = json.dumps(definition.raw, sort_keys=True, ensure_ascii=False, default=str)
            cur.execute("INSERT INTO eengezin_definitions (hash, id, version, source)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
                        (definition.hash, definition.id, definition.version, source))

    def _committed(self, definition: Definition) -> None:
        """After a commit that pins trajecten to ``definition``: it is stored for sure."""
        self._stored_hashes.add(definition.hash)
        self._definitions.setdefault(definition.hash, definition)

    def definition(self, ref: DefinitionRef | str) -> Definition:
        """The compiled definition with this hash, rebuilt from the copy the store keeps.

        Raises :class:`StoreError` when the store never saw it, and
        :class:`~eengezin.errors.DefinitionError` when it needs host predicates this store
        was not given.
        """
        digest = ref.hash if isinstance(ref, DefinitionRef) else ref
        known = self._definitions.get(digest)
        if known is not None:
            return known
        with self._transaction(write=False) as cur:
            cur.execute("SELECT id, version, source FROM eengezin_definitions WHERE hash = ?",
                        (digest,))
            row = cur.fetchone()
        if row is None:
            raise StoreError(f"definition {digest[:12]} is not in the store")
        try:
            tree = json.loads(row[2])
        except ValueError as exc:
            raise StoreCorruptError(f"stored definition {row[0]} v{row[1]} unreadable: {exc}"
                                    ) from None
        name = f"<store:{row[0]}@{row[1]}>"
        definition = compile_definition(RawDefinition(tree, Locator(), [name], name),
                                        self.predicates)
        if definition.hash != digest:
            raise StoreCorruptError(f"stored definition {row[0]} v{row[1]} does not match its hash")
        self._committed(definition)
        return definition

    def definitions(self) -> dict[DefinitionRef, int]:
        """Every definition trajecten are pinned to, with how many trajecten each."""
        with self._transaction(write=False) as cur:
            cur.execute(
                "SELECT d.id, d.version, d.hash, COUNT(t.id) FROM eengezin_definitions d"
                " JOIN eengezin_trajecten t ON t.definition_hash = d.hash"
                " GROUP BY d.id, d.version, d.hash ORDER BY d.id, d.version, d.hash")
            return {DefinitionRef(r[0], r[1], r[2]): int(r[3]) for r in cur.fetchall()}

    # ------------------------------------------------------------ writing

    def append(self, definition: Definition, traject: Traject, *, expected_version: int,
               idempotency_key: str | None = None) -> AppendResult:
        """Store the entries of ``traject.history`` after ``expected_version``, atomically.

        ``traject`` is what :func:`~eengezin.process.step` returned (usually one new entry).
        Raises :class:`~eengezin.errors.ConflictError` when the stored version is not
        ``expected_version`` (another writer was first); nothing is written then. When
        ``idempotency_key`` was recorded before for this traject, nothing is written and
        ``applied`` is False.

        >>> # store.append(basis, outcome.traject, expected_version=0)
        """
        if traject.definition != definition.ref:
            raise DefinitionMismatchError(
                f"traject {traject.id!r} is pinned to {traject.definition.id} "
                f"v{traject.definition.version}, not to {definition.id} v{definition.version}")
        if not 0 <= expected_version < len(traject.history):
            raise StoreError(f"nothing to append: traject {traject.id!r} has "
                             f"{len(traject.history)} entries, expected version {expected_version}")
        new = traject.history[expected_version:]
        version = len(traject.history)
        migrated = any(e.event == codec.MIGRATION_EVENT for e in new)
        try:
            with self._transaction(write=True) as cur:
                row = self._lock_traject(cur, traject.id)
                if idempotency_key is not None:  # checked under the lock: a retry racing
                    seen = self._seen(cur, traject.id, idempotency_key)  # its original
                    if seen is not None:
                        return AppendResult(seen, applied=False)
                now = _now()
                if row is None:
                    if expected_version != 0:
                        raise ConflictError(f"traject {traject.id!r} is not stored at version "
                                            f"{expected_version}")
                    self._remember_definition(cur, definition)
                    cur.execute("INSERT INTO eengezin_trajecten"
                                " (id, definition_hash, version, created, updated)"
                                " VALUES (?, ?, ?, ?, ?)",
                                (traject.id, definition.hash, version, now, now))
                    old_states: dict[str, str] = {}
                else:
                    stored_hash, stored_version = row[0], int(row[1])
                    if stored_version != expected_version:
                        raise ConflictError(
                            f"traject {traject.id!r} is at version {stored_version}, "
                            f"not {expected_version}: another writer was first")
                    if stored_hash != definition.hash:
                        if not migrated:
                            raise DefinitionMismatchError(
                                f"traject {traject.id!r} is stored under definition "
                                f"{stored_hash[:12]}, not {definition.id} v{definition.version} "
                                f"({definition.hash[:12]}): migrate it first")
                        self._remember_definition(cur, definition)
                    cur.execute("UPDATE eengezin_trajecten SET version = ?, updated = ?,"
                                " definition_hash = ? WHERE id = ? AND version = ?",
                                (version, now, definition.hash, traject.id, expected_version))
                    cur.execute("SELECT track, state FROM eengezin_states WHERE traject_id = ?",
                                (traject.id,))
                    old_states = {r[0]: r[1] for r in cur.fetchall()}
                for i, entry in enumerate(new):
                    seq = expected_version + i + 1
                    key = idempotency_key if seq == version else None
                    cur.execute("INSERT INTO eengezin_events"
                                " (traject_id, seq, event, at, entry, idempotency_key)"
                                " VALUES (?, ?, ?, ?, ?, ?)",
                                (traject.id, seq, entry.event, entry.at.isoformat(),
                                 codec.entry_to_json(entry), key))
                self._index(cur, traject, old_states, version, new[-1].at)
                due = version // self.snapshot_every > expected_version // self.snapshot_every
                if migrated or due:
                    cur.execute("INSERT INTO eengezin_snapshots (traject_id, version, body)"
                                " VALUES (?, ?, ?)",
                                (traject.id, version, codec.snapshot_to_json(traject)))
        except StoreError:
            raise
        except Exception as exc:
            if self._is_unique_violation(exc):
                if idempotency_key is not None:
                    with self._transaction(write=False) as cur:
                        seen = self._seen(cur, traject.id, idempotency_key)
                    if seen is not None:
                        return AppendResult(seen, applied=False)
                raise ConflictError(
                    f"traject {traject.id!r}: another writer appended first") from None
            raise
        self._committed(definition)
        return AppendResult(version, applied=True)

    def import_trajecten(self, definition: Definition, trajecten: Iterable[Traject], *,
                         batch: int = 5000) -> int:
        """Store whole new trajecten (with their histories) in batches; returns how many.

        For hosts moving existing cases into a store, and for benchmarks. Every traject must
        be pinned to ``definition`` and must not be stored yet (else
        :class:`~eengezin.errors.ConflictError` and that batch is not written). Each batch
        is one transaction.
        """
        done = 0
        chunk: list[Traject] = []
        for traject in trajecten:
            if traject.definition != definition.ref:
                raise DefinitionMismatchError(f"traject {traject.id!r} is pinned to another "
                                              "definition")
            if not traject.history:
                raise StoreError(f"traject {traject.id!r} has no history to import")
            chunk.append(traject)
            if len(chunk) >= batch:
                done += self._import_batch(definition, chunk)
                chunk = []
        if chunk:
            done += self._import_batch(definition, chunk)
        return done

    def _import_batch(self, definition: Definition, chunk: Sequence[Traject]) -> int:
        now = _now()
        rows: dict[str, list[tuple[Any, ...]]] = {k: [] for k in (
            "trajecten", "events", "states", "changes", "deadlines", "snapshots")}
        for traject in chunk:
            version = traject.version
            last = traject.history[-1].at.isoformat()
            rows["trajecten"].append((traject.id, definition.hash, version, now, now))
            for seq, entry in enumerate(traject.history, start=1):
                rows["events"].append((traject.id, seq, entry.event, entry.at.isoformat(),
                                       codec.entry_to_json(entry), None))
            for seq, at, track, state in self._changes(definition, traject):
                rows["changes"].append((traject.id, seq, track, state, at))
            rows["states"].extend((traject.id, track, state, last)
                                  for track, state in traject.state.items())
            rows["deadlines"].extend((traject.id, d.id, d.started.isoformat(), d.due.isoformat())
                                     for d in traject.deadlines.values())
            if version >= self.snapshot_every:
                rows["snapshots"].append((traject.id, version, codec.snapshot_to_json(traject)))
        sql = {
            "trajecten": "INSERT INTO eengezin_trajecten (id, definition_hash, version, created,"
                         " updated) VALUES (?, ?, ?, ?, ?)",
            "events": "INSERT INTO eengezin_events (traject_id, seq, event, at, entry,"
                      " idempotency_key) VALUES (?, ?, ?, ?, ?, ?)",
            "states": "INSERT INTO eengezin_states (traject_id, track, state, since)"
                      " VALUES (?, ?, ?, ?)",
            "changes": "INSERT INTO eengezin_state_changes (traject_id, seq, track, state, at)"
                       " VALUES (?, ?, ?, ?, ?)",
            "deadlines": "INSERT INTO eengezin_deadlines (traject_id, deadline_id, started, due)"
                         " VALUES (?, ?, ?, ?)",
            "snapshots": "INSERT INTO eengezin_snapshots (traject_id, version, body)"
                         " VALUES (?, ?, ?)",
        }
        try:
            with self._transaction(write=True) as cur:
                self._remember_definition(cur, definition)
                for table, values in rows.items():
                    if values:
                        cur.executemany(sql[table], values)
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise ConflictError("import: a traject in this batch is already stored"
                                    ) from None
            raise
        self._committed(definition)
        return len(chunk)

    @staticmethod
    def _changes(definition: Definition, traject: Traject
                 ) -> Iterator[tuple[int, str, str, str]]:
        """(seq, at, track, state) for every change of a track along the history."""
        if traject.version == 1:
            at = traject.history[0].at.isoformat()
            for track, state in traject.state.items():
                yield 1, at, track, state
            return
        current: dict[str, str] = {}
        replayed = new_traject(definition, traject.id)
        for seq, entry in enumerate(traject.history, start=1):
            if entry.event == codec.MIGRATION_EVENT:
                raise StoreError(f"traject {traject.id!r}: import a migrated traject by "
                                 "appending, not by import_trajecten")
            out = step(definition, replayed, Event(entry.event, entry.at, entry.data,
                                                   entry.actor))
            if not out.accepted:
                raise StoreError(f"traject {traject.id!r}: entry {seq} ({entry.event}) is "
                                 "refused by the definition")
            replayed = out.traject
            for track, state in replayed.state.items():
                if current.get(track) != state:
                    current[track] = state
                    yield seq, entry.at.isoformat(), track, state

    def _seen(self, cur: Cursor, traject_id: str, key: str) -> int | None:
        cur.execute("SELECT seq FROM eengezin_events WHERE traject_id = ? AND idempotency_key = ?",
                    (traject_id, key))
        row = cur.fetchone()
        return None if row is None else int(row[0])

    def _index(self, cur: Cursor, traject: Traject, old_states: Mapping[str, str], version: int,
               at: datetime) -> None:
        moment = at.isoformat()
        for track, state in traject.state.items():
            if old_states.get(track) == state:
                continue
            cur.execute("INSERT INTO eengezin_state_changes (traject_id, seq, track, state, at)"
                        " VALUES (?, ?, ?, ?, ?)", (traject.id, version, track, state, moment))
            if track in old_states:
                cur.execute("UPDATE eengezin_states SET state = ?, since = ?"
                            " WHERE traject_id = ? AND track = ?",
                            (state, moment, traject.id, track))
            else:
                cur.execute("INSERT INTO eengezin_states (traject_id, track, state, since)"
                            " VALUES (?, ?, ?, ?)", (traject.id, track, state, moment))
        for track in set(old_states) - set(traject.state):
            cur.execute("DELETE FROM eengezin_states WHERE traject_id = ? AND track = ?",
                        (traject.id, track))
        cur.execute("SELECT deadline_id, started, due FROM eengezin_deadlines"
                    " WHERE traject_id = ?", (traject.id,))
        old = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
        current = {d.id: (d.started.isoformat(), d.due.isoformat())
                   for d in traject.deadlines.values()}
        for did in set(old) - set(current):
            cur.execute("DELETE FROM eengezin_deadlines WHERE traject_id = ? AND deadline_id = ?",
                        (traject.id, did))
        for did, (started, due) in current.items():
            if did not in old:
                cur.execute("INSERT INTO eengezin_deadlines (traject_id, deadline_id, started, due)"
                            " VALUES (?, ?, ?, ?)", (traject.id, did, started, due))
            elif old[did] != (started, due):
                cur.execute("UPDATE eengezin_deadlines SET started = ?, due = ?"
                            " WHERE traject_id = ? AND deadline_id = ?",
                            (started, due, traject.id, did))

    # ------------------------------------------------------------ reading

    def exists(self, traject_id: str) -> bool:
        """True when the store holds this traject."""
        return self.version(traject_id) is not None

    def version(self, traject_id: str) -> int | None:
        """The stored version (number of history entries), or None for an unknown traject."""
        with self._transaction(write=False) as cur:
            cur.execute("SELECT version FROM eengezin_trajecten WHERE id = ?", (traject_id,))
            row = cur.fetchone()
        return None if row is None else int(row[0])

    def applied(self, traject_id: str, idempotency_key: str) -> int | None:
        """The version at which this idempotency key was applied, or None."""
        with self._transaction(write=False) as cur:
            return self._seen(cur, traject_id, idempotency_key)

    def _read(self, traject_id: str) -> tuple[str, int, tuple[HistoryEntry, ...],
                                               tuple[int, str] | None]:
        with self._transaction(write=False) as cur:
            cur.execute("SELECT definition_hash, version FROM eengezin_trajecten WHERE id = ?",
                        (traject_id,))
            row = cur.fetchone()
            if row is None:
                raise TrajectNotFoundError(traject_id)
            digest, version = row[0], int(row[1])
            cur.execute("SELECT seq, entry FROM eengezin_events WHERE traject_id = ? AND seq <= ?"
                        " ORDER BY seq", (traject_id, version))
            rows = cur.fetchall()
            cur.execute("SELECT version, body FROM eengezin_snapshots WHERE traject_id = ?"
                        " AND version <= ? ORDER BY version DESC LIMIT 1", (traject_id, version))
            snap = cur.fetchone()
        if [int(r[0]) for r in rows] != list(range(1, version + 1)):
            raise StoreCorruptError(f"traject {traject_id!r}: history rows do not match its "
                                    f"version {version}")
        history = tuple(codec.entry_from_json(r[1]) for r in rows)
        return digest, version, history, (None if snap is None else (int(snap[0]), snap[1]))

    def history(self, traject_id: str) -> tuple[HistoryEntry, ...]:
        """The stored history, oldest first."""
        return self._read(traject_id)[2]

    def load(self, traject_id: str, definition: Definition | None = None) -> Traject:
        """The traject: the latest snapshot plus a replay of the entries after it.

        With ``definition``, the traject must be pinned to exactly that definition (id,
        version and hash), else :class:`~eengezin.errors.DefinitionMismatchError` (migrate
        first). Without it, the definition the store keeps for the traject is used.
        """
        digest, _version, history, snap = self._read(traject_id)
        if definition is not None and definition.hash != digest:
            pinned = self._describe(digest)
            raise DefinitionMismatchError(
                f"traject {traject_id!r} is pinned to {pinned}; the definition given is "
                f"{definition.id} v{definition.version} ({definition.hash[:12]}): "
                "migrate it first (eengezin migrate --store URL --to DEF)")
        if definition is None:
            definition = self.definition(digest)
        if snap is not None:
            base_version, body = snap
            traject = codec.snapshot_from_json(body, history[:base_version])
        else:
            base_version, traject = 0, new_traject(definition, traject_id)
        if traject.definition != definition.ref:
            raise StoreCorruptError(f"traject {traject_id!r}: snapshot {base_version} is pinned to "
                                    f"another definition than the traject")
        return self._replay(definition, traject, history[base_version:], traject_id)

    def _replay(self, definition: Definition, traject: Traject,
                tail: Sequence[HistoryEntry], traject_id: str) -> Traject:
        for entry in tail:
            if entry.event == codec.MIGRATION_EVENT:
                raise StoreCorruptError(f"traject {traject_id!r}: no snapshot at its migration "
                                        "(use verify to rebuild)")
            out = step(definition, traject, Event(entry.event, entry.at, entry.data, entry.actor))
            if not out.accepted:
                raise StoreCorruptError(
                    f"traject {traject_id!r}: entry {traject.version + 1} ({entry.event}) is "
                    f"refused on replay ({', '.join(out.verdict.rule_ids)})")
            traject = attrs.evolve(out.traject, history=(*traject.history, entry))
        return traject

    def _describe(self, digest: str) -> str:
        with self._transaction(write=False) as cur:
            cur.execute("SELECT id, version FROM eengezin_definitions WHERE hash = ?", (digest,))
            row = cur.fetchone()
        return f"{row[0]} v{row[1]} ({digest[:12]})" if row else digest[:12]

    def rebuild(self, traject_id: str) -> Traject:
        """Derive the traject from its whole history alone (no snapshot), across migrations.

        Each segment is replayed under the definition its entries name (kept by the store);
        a migration entry is applied as journaled. See docs/storage.md, "Replay".
        """
        from .migration import MigrationFailure, apply_journaled

        _digest, _version, history, _snap = self._read(traject_id)
        if not history:
            raise StoreCorruptError(f"traject {traject_id!r} has an empty history")
        definition = self.definition(history[0].definition)
        traject = new_traject(definition, traject_id)
        for entry in history:
            if entry.event == codec.MIGRATION_EVENT:
                try:
                    traject = apply_journaled(traject, entry)
                except MigrationFailure as exc:
                    raise StoreCorruptError(str(exc)) from None
                definition = self.definition(entry.definition)
                continue
            traject = self._replay(definition, traject, (entry,), traject_id)
        return traject

    def verify(self, traject_id: str) -> Traject:
        """Check that the snapshot path and the full replay give the same traject."""
        loaded = self.load(traject_id)
        rebuilt = self.rebuild(traject_id)
        if loaded != rebuilt:
            raise StoreCorruptError(f"traject {traject_id!r}: snapshot and history disagree")
        return loaded

    # ------------------------------------------------------------ queries

    def ids(self, *, definition: DefinitionRef | str | None = None) -> list[str]:
        """Ids of the stored trajecten (optionally only those on one definition hash), sorted."""
        with self._transaction(write=False) as cur:
            if definition is None:
                cur.execute("SELECT id FROM eengezin_trajecten ORDER BY id")
            else:
                digest = definition.hash if isinstance(definition, DefinitionRef) else definition
                cur.execute("SELECT id FROM eengezin_trajecten WHERE definition_hash = ?"
                            " ORDER BY id", (digest,))
            return [r[0] for r in cur.fetchall()]

    def count(self) -> int:
        """Number of stored trajecten."""
        with self._transaction(write=False) as cur:
            cur.execute("SELECT COUNT(*) FROM eengezin_trajecten")
            return int(cur.fetchone()[0])

    def find(self, track: str, state: str) -> list[str]:
        """Ids of trajecten whose ``track`` is in ``state`` or in a state nested under it.

        ``find("regie", "startoverleg")`` also finds ``startoverleg.overleg`` (indexed).
        """
        with self._transaction(write=False) as cur:
            cur.execute("SELECT traject_id FROM eengezin_states WHERE track = ?"
                        " AND (state = ? OR (state > ? AND state < ?)) ORDER BY traject_id",
                        (track, state, state + ".", state + "/"))
            return [r[0] for r in cur.fetchall()]

    def counts(self, track: str) -> dict[str, int]:
        """How many trajecten are in each state of ``track``."""
        with self._transaction(write=False) as cur:
            cur.execute("SELECT state, COUNT(*) FROM eengezin_states WHERE track = ?"
                        " GROUP BY state ORDER BY state", (track,))
            return {r[0]: int(r[1]) for r in cur.fetchall()}

    def open_deadlines(self, due_before: date | None = None, *, limit: int | None = None
                       ) -> list[StoredDeadline]:
        """Open deadlines, earliest first; with ``due_before`` only those due before that day."""
        sql = "SELECT traject_id, deadline_id, started, due FROM eengezin_deadlines"
        params: list[Any] = []
        if due_before is not None:
            sql += " WHERE due < ?"
            params.append(due_before.isoformat())
        sql += " ORDER BY due, traject_id, deadline_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._transaction(write=False) as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        return [StoredDeadline(r[1], date.fromisoformat(r[2]), date.fromisoformat(r[3]),
                               traject_id=r[0]) for r in rows]

    def overdue(self, at: datetime | date, *, limit: int | None = None) -> list[StoredDeadline]:
        """Open deadlines whose last day is before ``at`` (indexed on the due date)."""
        day = at.date() if isinstance(at, datetime) else at
        return self.open_deadlines(day, limit=limit)

    def state_changes(self, track: str) -> Iterator[StateChange]:
        """Every change of ``track`` in every traject, per traject in history order."""
        with self._transaction(write=False) as cur:
            cur.execute("SELECT traject_id, seq, state, at FROM eengezin_state_changes"
                        " WHERE track = ? ORDER BY traject_id, seq", (track,))
            rows = cur.fetchall()
        for r in rows:
            yield StateChange(r[0], int(r[1]), track, r[2], _parse_at(r[3]))

    def entries(self, event: str) -> Iterator[tuple[str, int, HistoryEntry]]:
        """Every stored entry of one event id (indexed), as (traject id, seq, entry)."""
        with self._transaction(write=False) as cur:
            cur.execute("SELECT traject_id, seq, entry FROM eengezin_events WHERE event = ?"
                        " ORDER BY traject_id, seq", (event,))
            rows = cur.fetchall()
        for r in rows:
            yield r[0], int(r[1]), codec.entry_from_json(r[2])


def fire(store: SQLStore, definition: Definition, traject_id: str, event: Event, *,
         idempotency_key: str | None = None, max_attempts: int = 50) -> Decision:
    """Load (or create), decide ``event`` and store it; on a conflict, reload and decide again.

    A refused event stores nothing. With ``idempotency_key``, a request that was applied
    before is not applied again (``duplicate`` is True).

    >>> # decision = fire(store, basis, "T-1", Event("notitie", now, {"tekst": "..."}))
    """
    for attempt in range(1, max_attempts + 1):
        if idempotency_key is not None and store.applied(traject_id, idempotency_key) is not None:
            return Decision(None, store.load(traject_id, definition), True, attempt)
        try:
            traject = store.load(traject_id, definition)
        except TrajectNotFoundError:
            traject = new_traject(definition, traject_id)
        outcome = step(definition, traject, event)
        if not outcome.accepted:
            return Decision(outcome, traject, False, attempt)
        try:
            result = store.append(definition, outcome.traject, expected_version=traject.version,
                                  idempotency_key=idempotency_key)
        except ConflictError:
            time.sleep(random.uniform(0, 0.002 * min(attempt, 20)))
            continue
        if not result.applied:
            return Decision(None, store.load(traject_id, definition), True, attempt)
        return Decision(outcome, outcome.traject, False, attempt)
    raise ConflictError(f"traject {traject_id!r}: still conflicting after {max_attempts} attempts")


def describe_error(exc: BaseException) -> str:
    """A one-line description of a backend error for a :class:`StoreError` message."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


__all__ = ["AppendResult", "Decision", "DefinitionError", "SQLStore", "StateChange",
           "StoredDeadline", "fire"]
