"""The store logic both SQL backends share; each backend supplies connections and a dialect.

A store only persists and queries: it never decides an event (that is the
:class:`eengezin.Engine`'s job). Tables (all prefixed ``eengezin_`` so a PostgreSQL
database can be shared with the host):

- ``meta``: format marker, schema version and settings (a foreign database is recognised
  by the marker's absence);
- ``definitions``: every definition a traject was pinned to, as its merged tree (JSON), so
  a log can be verified long after the YAML file changed;
- ``trajecten``: id, pinned definition hash, version, and the current snapshot (the
  traject without its log: state, facts, open deadlines; its size does not grow with the
  history, so loading costs the same at 10 events as at 100,000);
- ``events``: the append-only log, one row per entry, primary key ``(traject_id, seq)``,
  optional idempotency key (unique per traject) bound to a hash of the request;
- ``states`` / ``state_changes``: the current state per track and every change of it
  (indexed; queries and the monitor read these);
- ``deadlines``: open deadlines, indexed by due date;
- ``outbox``: when enabled, one record per accepted decision, written in the transaction
  that appends the event (:meth:`SQLStore.claim` / :meth:`SQLStore.ack`);
- ``keys``: each traject's data key, wrapped by the host's :class:`KeyProvider` (NULL once
  erased); personal values are stored encrypted with it (:mod:`eengezin.store.crypto`);
- ``ledger``: the store's own hash chain of trajecten created and erased, so a traject
  deleted as a whole is found by :meth:`SQLStore.check_integrity`.

Every log entry carries a hash over its row and the previous entry's hash
(:mod:`eengezin.store.chain`); the traject row and its state rows carry the head.

Every write is one transaction that checks the expected version first, so a concurrent
writer gets :class:`~eengezin.errors.ConflictError` and nothing is half written.
"""

from __future__ import annotations

import abc
import base64
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import attrs

from ..decision import Decision, OutboxRecord
from ..definition import definition_from_tree
from ..errors import (
    ConflictError,
    DefinitionMismatchError,
    EengezinError,
    IdempotencyConflictError,
)
from ..log import get_logger
from ..process.model import Definition
from ..rules.predicates import PredicateRegistry
from ..traject import MIGRATION_EVENT, DefinitionRef, HistoryEntry, OpenDeadline, Traject
from . import codec
from .chain import GENESIS, HMAC_SHA256, Chain, host_key_from_env
from .crypto import FileKeyProvider, KeyProvider, Sealer, new_data_key
from .errors import (
    RetentionError,
    StoreCorruptError,
    StoreError,
    StoreKeyError,
    StoreOpenError,
    TrajectErasedError,
    TrajectNotFoundError,
)
from .sealing import (
    Tries,
    open_decision,
    open_entry,
    open_traject,
    seal_decision,
    seal_entry,
    seal_traject,
    tries_from_json,
    tries_to_json,
)

log = get_logger("eengezin.store")

FORMAT = "eengezin-store"
SCHEMA_VERSION = 3

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS eengezin_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS eengezin_definitions (hash TEXT PRIMARY KEY, id TEXT NOT NULL,"
    " version TEXT NOT NULL, source TEXT NOT NULL, personal TEXT NOT NULL DEFAULT '{}')",
    "CREATE TABLE IF NOT EXISTS eengezin_trajecten (id TEXT PRIMARY KEY,"
    " definition_hash TEXT NOT NULL, version INTEGER NOT NULL, created TEXT NOT NULL,"
    " updated TEXT NOT NULL, snapshot TEXT NOT NULL, head TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS eengezin_trajecten_definition"
    " ON eengezin_trajecten (definition_hash)",
    "CREATE TABLE IF NOT EXISTS eengezin_events (traject_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    " event TEXT NOT NULL, at TEXT NOT NULL, entry TEXT NOT NULL, idempotency_key TEXT,"
    " request_hash TEXT, hash TEXT NOT NULL, PRIMARY KEY (traject_id, seq))",
    "CREATE UNIQUE INDEX IF NOT EXISTS eengezin_events_key"
    " ON eengezin_events (traject_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS eengezin_events_event ON eengezin_events (event)",
    "CREATE TABLE IF NOT EXISTS eengezin_states (traject_id TEXT NOT NULL, track TEXT NOT NULL,"
    " state TEXT NOT NULL, since TEXT NOT NULL, head TEXT NOT NULL,"
    " PRIMARY KEY (traject_id, track))",
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
    "CREATE TABLE IF NOT EXISTS eengezin_keys (traject_id TEXT PRIMARY KEY, key_id TEXT NOT NULL,"
    " wrapped TEXT, erased TEXT)",
    "CREATE TABLE IF NOT EXISTS eengezin_ledger (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
    " traject_id TEXT NOT NULL, at TEXT NOT NULL, body TEXT NOT NULL, hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS eengezin_ledger_traject ON eengezin_ledger (traject_id)",
)

LEDGER_CREATED = "aangemaakt"
LEDGER_ERASED = "gewist"

DEFAULT_LEASE = timedelta(seconds=60)

_IMPORT_SQL = {
    "trajecten": "INSERT INTO eengezin_trajecten (id, definition_hash, version, created,"
                 " updated, snapshot, head) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "events": "INSERT INTO eengezin_events (traject_id, seq, event, at, entry,"
              " idempotency_key, request_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "states": "INSERT INTO eengezin_states (traject_id, track, state, since, head)"
              " VALUES (?, ?, ?, ?, ?)",
    "changes": "INSERT INTO eengezin_state_changes (traject_id, seq, track, state, at)"
               " VALUES (?, ?, ?, ?, ?)",
    "deadlines": "INSERT INTO eengezin_deadlines (traject_id, deadline_id, started, due)"
                 " VALUES (?, ?, ?, ?)",
}


class Cursor(Protocol):
    """The part of a DB-API cursor the store uses (``?`` placeholders)."""

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


def state_changes_of(initial: Mapping[str, str], old_states: Mapping[str, str],
                     expected_version: int, entries: Sequence[HistoryEntry], after: Traject
                     ) -> Iterator[tuple[int, str, str, str]]:
    """``(seq, track, state, at)`` for every track that entered a state along ``entries``,
    appended after ``expected_version`` to a traject whose tracks were ``old_states``
    (``initial``: the definition's first states, what the start event starts from)."""
    current = dict(old_states) if expected_version else {}
    for i, entry in enumerate(entries):
        seq = expected_version + i + 1
        if i == len(entries) - 1:
            target = dict(after.state)  # the stored snapshot is the authority
        elif entry.change is None:
            continue  # an entry without a recorded change: its moves show in later entries
        elif entry.event == MIGRATION_EVENT:
            target = dict(entry.change.state)  # a migration replaces every state
        else:
            target = {**(current if seq > 1 else initial), **entry.change.state}
        at = entry.at.isoformat()
        for track, state in target.items():
            if current.get(track) != state:
                current[track] = state
                yield seq, track, state, at
        for track in [t for t in current if t not in target]:
            del current[track]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _parse_at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SQLStore(abc.ABC):
    """Store logic over a DB-API connection; subclasses supply the connection and dialect.

    Use :func:`eengezin.store.open_store` rather than a subclass directly. A store object
    may be shared between threads: its transactions take turns on its one connection.
    """

    url: str
    backend: str = "sql"
    _serial_id = "INTEGER PRIMARY KEY AUTOINCREMENT"

    _for_update = ""

    def __init__(self, *, predicates: PredicateRegistry | None = None,
                 keys: KeyProvider | None = None, chain_key: bytes | None = None) -> None:
        self.predicates = predicates
        self._definitions: dict[str, Definition] = {}
        self._stored_hashes: set[str] = set()
        self._lock = threading.RLock()
        self._current: Cursor | None = None  # the open transaction, while one is open
        self.outbox_enabled = False
        self.readonly = False
        self._keys = keys
        self._chain = Chain(chain_key if chain_key is not None else host_key_from_env())
        self._chain_problem: str | None = None
        self._tries: dict[str, Tries] = {}
        self._key_cache: dict[tuple[str, str], bytes] = {}

    # ------------------------------------------------------------ dialect hooks

    @abc.abstractmethod
    def _transaction_unlocked(self, write: bool) -> AbstractContextManager[Cursor]:
        """A new transaction on the backend's connection (the caller holds the lock)."""

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Cursor]:
        """A transaction; ``write`` transactions are serialised against other writers.

        The store's one connection is shared by the threads that share the store object, so
        transactions take turns on its lock; a transaction opened inside another (see
        :meth:`exclusive`) joins it."""
        with self._lock:
            if self._current is not None:
                yield self._current
                return
            with self._transaction_unlocked(write) as cur:
                self._current = cur
                try:
                    yield cur
                finally:
                    self._current = None

    @abc.abstractmethod
    def _is_unique_violation(self, exc: BaseException) -> bool:
        """True when ``exc`` is the backend's unique-constraint violation."""

    def _lock_traject(self, cur: Cursor, traject_id: str) -> Any:
        cur.execute("SELECT definition_hash, version, head FROM eengezin_trajecten WHERE id = ?",
                    (traject_id,))
        return cur.fetchone()

    @contextmanager
    def exclusive(self, traject_id: str) -> Iterator[None]:
        """Hold the traject's write lock: a load, decision and append inside run as one
        transaction that no other writer can interleave (the engine uses it after a write
        conflict, so a writer next to a busy one is never starved)."""
        with self._transaction(write=True) as cur:
            self._lock_traject(cur, traject_id)
            yield

    def _claim_sql(self) -> str:
        return ("SELECT id, body FROM eengezin_outbox WHERE claimed_until IS NULL"
                " OR claimed_until < ? ORDER BY id LIMIT ?")

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

    def _outbox_schema(self) -> str:
        return (f"CREATE TABLE IF NOT EXISTS eengezin_outbox (id {self._serial_id},"
                " traject_id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,"
                " claimed_until TEXT)")

    def _init_schema(self, cur: Cursor, existing_tables: set[str], outbox: bool | None) -> None:
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
            if version < SCHEMA_VERSION:
                older = "eengezin 0.1" if version < 2 else "an older eengezin"
                raise StoreOpenError(
                    f"{self.url}: written by {older} (store schema {version}); this "
                    f"version reads schema {SCHEMA_VERSION} (hash chains, encrypted personal "
                    "data): export the histories with the older version and import them into a "
                    "new store")
            self.outbox_enabled = meta.get("outbox") == "on"
            self._adopt_chain(meta)
        else:
            ours = {t for t in existing_tables if t.startswith("eengezin_")}
            if ours:
                raise StoreOpenError(f"{self.url}: eengezin tables without a format marker "
                                     f"({', '.join(sorted(ours))}): not a complete store")
            for statement in SCHEMA:
                cur.execute(statement)
            cur.execute(self._outbox_schema())
            cur.execute("CREATE INDEX IF NOT EXISTS eengezin_outbox_traject"
                        " ON eengezin_outbox (traject_id, version)")
            cur.execute("INSERT INTO eengezin_meta (key, value) VALUES (?, ?)", ("format", FORMAT))
            cur.execute("INSERT INTO eengezin_meta (key, value) VALUES (?, ?)",
                        ("schema_version", str(SCHEMA_VERSION)))
            for key, value in (("chain", self._chain.kind),
                               ("chain_key", self._chain.fingerprint()), ("ledger", "0:")):
                cur.execute("INSERT INTO eengezin_meta (key, value) VALUES (?, ?)", (key, value))
        if outbox is not None and outbox != self.outbox_enabled:
            cur.execute("DELETE FROM eengezin_meta WHERE key = ?", ("outbox",))
            cur.execute("INSERT INTO eengezin_meta (key, value) VALUES (?, ?)",
                        ("outbox", "on" if outbox else "off"))
            self.outbox_enabled = outbox

    def _adopt_chain(self, meta: Mapping[str, str]) -> None:
        """Follow the store's chain kind; note a missing or wrong host key (writes refuse)."""
        kind = meta.get("chain", "")
        if kind == HMAC_SHA256:
            if not self._chain.keyed:
                self._chain_problem = ("the hashes of this store are HMACs: give the host key "
                                       "(EENGEZIN_HMAC_KEY or EENGEZIN_HMAC_KEY_FILE)")
            elif self._chain.fingerprint() != meta.get("chain_key"):
                self._chain_problem = "the host key given is not this store's key"
        elif self._chain.keyed:
            log.warning("eengezin.store.chain_unkeyed", url=self.url)
            self._chain = Chain(None)

    @property
    def chain_kind(self) -> str:
        """``sha256`` or ``hmac-sha256``."""
        return self._chain.kind

    # ------------------------------------------------------------ definitions

    def _remember_definition(self, cur: Cursor, definition: Definition) -> None:
        """Keep a copy of ``definition`` (inside the caller's transaction)."""
        if definition.hash in self._stored_hashes:
            return
        cur.execute("SELECT 1 FROM eengezin_definitions WHERE hash = ?", (definition.hash,))
        if cur.fetchone() is None:
            source = json.dumps(definition.raw, sort_keys=True, ensure_ascii=False, default=str)
            cur.execute("INSERT INTO eengezin_definitions (hash, id, version, source, personal)"
                        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
                        (definition.hash, definition.id, definition.version, source,
                         tries_to_json(definition)))

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
        except ValueError:
            raise StoreCorruptError(f"stored definition {row[0]} v{row[1]} is not JSON") from None
        definition = definition_from_tree(tree, f"<store:{row[0]}@{row[1]}>", self.predicates)
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

    def append(self, definition: Definition, traject: Traject, entries: Sequence[HistoryEntry], *,
               expected_version: int, idempotency_key: str | None = None,
               request_hash: str | None = None, decisions: Sequence[Decision] = ()
               ) -> AppendResult:
        """Append ``entries`` to the traject's log and store ``traject`` (the snapshot after
        them) in one transaction, with the ``decisions`` in the outbox when it is enabled.

        Personal values are sealed with the traject's data key on the way in; every entry
        is linked into the traject's hash chain, whose head the traject row and its state
        rows carry. Raises :class:`~eengezin.errors.ConflictError` when the stored version
        is not ``expected_version`` (another writer was first); nothing is written then.
        When ``idempotency_key`` was recorded before for this traject, nothing is written
        and ``applied`` is False; if it was recorded for another request (``request_hash``
        differs), :class:`~eengezin.errors.IdempotencyConflictError`. An erased traject
        takes nothing more (:class:`TrajectErasedError`).
        """
        if traject.definition != definition.ref:
            raise DefinitionMismatchError(
                f"traject {traject.id!r} is pinned to {traject.definition.id} "
                f"v{traject.definition.version}, not to {definition.id} v{definition.version}",
                traject_id=traject.id, expected=traject.definition, actual=definition.ref)
        if not entries or traject.version != expected_version + len(entries):
            raise StoreError(f"traject {traject.id!r}: {len(entries)} entries do not lead from "
                             f"version {expected_version} to {traject.version}")
        self._writable()
        version = traject.version
        migrated = any(e.event == codec.MIGRATION_EVENT for e in entries)
        tries = self._tries_of(definition)
        try:
            with self._transaction(write=True) as cur:
                row = self._lock_traject(cur, traject.id)
                if idempotency_key is not None:  # checked under the lock: a retry racing
                    seen = self._seen(cur, traject.id, idempotency_key, request_hash)
                    if seen is not None:
                        return AppendResult(seen, applied=False)
                now = _now()
                if row is None:
                    if expected_version != 0:
                        raise ConflictError(f"traject {traject.id!r} is not stored",
                                            traject_id=traject.id, expected=expected_version)
                    self._remember_definition(cur, definition)
                    previous = GENESIS
                    old_states: dict[str, str] = {}
                else:
                    stored_hash, stored_version = row[0], int(row[1])
                    previous = row[2]
                    if stored_version != expected_version:
                        raise ConflictError(
                            f"traject {traject.id!r} is at version {stored_version}, "
                            f"not {expected_version}: another writer was first",
                            traject_id=traject.id, expected=expected_version,
                            actual=stored_version)
                    if stored_hash != definition.hash:
                        if not migrated:
                            raise DefinitionMismatchError(
                                f"traject {traject.id!r} is stored under definition "
                                f"{stored_hash[:12]}, not {definition.id} v{definition.version} "
                                f"({definition.hash[:12]}): migrate it first",
                                traject_id=traject.id, expected=stored_hash, actual=definition.ref)
                        self._remember_definition(cur, definition)
                sealer = self._sealer(cur, traject.id, create=row is None)
                if sealer.erased:
                    raise TrajectErasedError(traject.id)
                rows = []
                for i, entry in enumerate(entries):
                    seq = expected_version + i + 1
                    last = seq == version
                    key = idempotency_key if last else None
                    rhash = request_hash if last else None
                    at = entry.at.isoformat()
                    text = codec.entry_to_json(seal_entry(entry, tries, sealer))
                    previous = self._link(previous, traject.id, seq, entry.event, at, text, key,
                                          rhash)
                    rows.append((traject.id, seq, entry.event, at, text, key, rhash, previous))
                snapshot = codec.snapshot_to_json(seal_traject(traject, tries, sealer))
                if row is None:
                    cur.execute("INSERT INTO eengezin_trajecten"
                                " (id, definition_hash, version, created, updated, snapshot, head)"
                                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (traject.id, definition.hash, version, now, now, snapshot,
                                 previous))
                    self._ledger_append(cur, LEDGER_CREATED, traject.id, now,
                                        {"definition": definition.hash})
                else:
                    cur.execute("UPDATE eengezin_trajecten SET version = ?, updated = ?,"
                                " definition_hash = ?, snapshot = ?, head = ?"
                                " WHERE id = ? AND version = ?",
                                (version, now, definition.hash, snapshot, previous, traject.id,
                                 expected_version))
                    cur.execute("SELECT track, state FROM eengezin_states WHERE traject_id = ?",
                                (traject.id,))
                    old_states = {r[0]: r[1] for r in cur.fetchall()}
                cur.executemany("INSERT INTO eengezin_events (traject_id, seq, event, at, entry,"
                                " idempotency_key, request_hash, hash)"
                                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                self._index(cur, traject, old_states, expected_version, entries,
                            definition.initial_state, previous)
                if self.outbox_enabled and decisions:
                    cur.executemany("INSERT INTO eengezin_outbox (traject_id, version, body)"
                                    " VALUES (?, ?, ?)",
                                    [(d.traject_id, d.version,
                                      codec.decision_to_json(seal_decision(d, tries, sealer)))
                                     for d in decisions])
        except StoreError:
            raise
        except Exception as exc:
            if self._is_unique_violation(exc):
                if idempotency_key is not None:
                    with self._transaction(write=False) as cur:
                        seen = self._seen(cur, traject.id, idempotency_key, request_hash)
                    if seen is not None:
                        return AppendResult(seen, applied=False)
                raise ConflictError(f"traject {traject.id!r}: another writer appended first",
                                    traject_id=traject.id, expected=expected_version) from None
            raise
        self._committed(definition)
        log.debug("eengezin.store.append", traject=traject.id, version=version,
                  entries=len(entries), backend=self.backend)
        return AppendResult(version, applied=True)

    # ------------------------------------------------------------ chain, keys, ledger

    def _writable(self) -> None:
        if self.readonly:
            raise StoreError(f"{self.url}: opened read-only")
        if self._chain_problem is not None:
            raise StoreKeyError(f"{self.url}: {self._chain_problem}")

    def _link(self, previous: str, traject_id: str, seq: int, event: str, at: str, text: str,
              key: str | None, rhash: str | None) -> str:
        return self._chain.link(previous, traject_id, str(seq), event, at, text, key or "",
                                rhash or "")

    def _default_key_path(self) -> str:
        """Where the embedded default keeps its key file (``EENGEZIN_KEY_FILE`` wins)."""
        digest = hashlib.sha256(self.url.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"),
                                                                ".local", "share")
        return os.path.join(base, "eengezin", "keys", f"{digest}.key")

    def key_provider(self, *, create: bool = False) -> KeyProvider:
        """The host's :class:`KeyProvider`, or the default key file (``EENGEZIN_KEY_FILE``,
        else beside a SQLite file); ``create`` makes the key file when it is missing."""
        if self._keys is None:
            path = os.environ.get("EENGEZIN_KEY_FILE") or self._default_key_path()
            self._keys = FileKeyProvider(path, create=create)
        return self._keys

    def _sealer(self, cur: Cursor, traject_id: str, *, create: bool = False,
                row: Any = None, known: bool = False) -> Sealer:
        """The traject's sealer; with ``create``, a new data key when it has none."""
        if not known:
            cur.execute("SELECT key_id, wrapped FROM eengezin_keys WHERE traject_id = ?",
                        (traject_id,))
            row = cur.fetchone()
        if row is None or row[0] is None:
            if not create:
                return Sealer(traject_id, None)
            provider = self.key_provider(create=True)
            data_key = new_data_key()
            try:
                wrapped = base64.b64encode(provider.wrap(data_key, traject_id.encode(
                    "utf-8", "surrogatepass"))).decode("ascii")
            except EengezinError:
                raise
            except Exception as exc:
                raise StoreKeyError(f"traject {traject_id!r}: the host's key service did not "
                                    f"wrap a data key ({type(exc).__name__})") from None
            cur.execute("INSERT INTO eengezin_keys (traject_id, key_id, wrapped) VALUES (?, ?, ?)",
                        (traject_id, provider.key_id, wrapped))
            self._key_cache[(traject_id, wrapped)] = data_key
            return Sealer(traject_id, data_key)
        wrapped = row[1]
        if wrapped is None:
            return Sealer(traject_id, None)
        cached = self._key_cache.get((traject_id, wrapped))
        if cached is None:
            try:
                raw = base64.b64decode(wrapped, validate=True)
            except ValueError:
                raise StoreCorruptError(f"traject {traject_id!r}: unreadable data key") from None
            try:
                cached = self.key_provider().unwrap(raw, traject_id.encode("utf-8",
                                                                           "surrogatepass"))
            except EengezinError:
                raise
            except Exception as exc:  # the host's key service: its own errors, made typed
                raise StoreKeyError(f"traject {traject_id!r}: the data key does not unwrap "
                                    f"with the host's key ({type(exc).__name__})") from None
            if len(self._key_cache) > 4096:
                self._key_cache.clear()
            self._key_cache[(traject_id, wrapped)] = cached
        return Sealer(traject_id, cached)

    def _tries_of(self, definition: Definition) -> Tries:
        known = self._tries.get(definition.hash)
        if known is None:
            known = self._tries[definition.hash] = Tries.of(definition)
        return known

    def _stored_tries(self, cur: Cursor, digest: str) -> Tries:
        known = self._tries.get(digest)
        if known is not None:
            return known
        cur.execute("SELECT personal FROM eengezin_definitions WHERE hash = ?", (digest,))
        row = cur.fetchone()
        found = tries_from_json(row[0] if row is not None else "{}")
        self._tries[digest] = found
        return found

    def _ledger_head(self, cur: Cursor, *, lock: bool = False) -> tuple[int, str]:
        cur.execute("SELECT value FROM eengezin_meta WHERE key = 'ledger'"
                    + (self._for_update if lock else ""))
        row = cur.fetchone()
        if row is None:
            raise StoreCorruptError(f"{self.url}: the ledger head is missing")
        seq, _, head = str(row[0]).partition(":")
        try:
            return int(seq), head
        except ValueError:
            raise StoreCorruptError(f"{self.url}: unreadable ledger head") from None

    def _ledger_append(self, cur: Cursor, kind: str, traject_id: str, at: str,
                       body: Mapping[str, Any]) -> None:
        seq, previous = self._ledger_head(cur, lock=True)
        seq += 1
        text = codec.dumps(dict(body))
        digest = self._chain.link(previous, str(seq), kind, traject_id, at, text)
        cur.execute("INSERT INTO eengezin_ledger (seq, kind, traject_id, at, body, hash)"
                    " VALUES (?, ?, ?, ?, ?, ?)", (seq, kind, traject_id, at, text, digest))
        cur.execute("UPDATE eengezin_meta SET value = ? WHERE key = 'ledger'", (f"{seq}:{digest}",))

    def erase(self, traject_id: str, *, reason: str, by: str, exception: str | None = None,
              at: datetime | None = None) -> None:
        """Destroy the traject's data key (crypto-shredding) and record who, when and why
        in the store's ledger. Personal values read back as ``"[gewist]"`` afterwards; the
        process history, indexes and hash chains are untouched. Retention is the caller's
        check (:meth:`eengezin.Engine.erase`). Raises :class:`TrajectNotFoundError`, and
        :class:`TrajectErasedError` when it was erased before."""
        if not reason.strip() or not by.strip():
            raise RetentionError("wissen: geef een reden en wie het doet")
        self._writable()
        moment = (at or datetime.now(UTC)).isoformat()
        with self._transaction(write=True) as cur:
            if self._lock_traject(cur, traject_id) is None:
                raise TrajectNotFoundError(traject_id)
            cur.execute("SELECT wrapped FROM eengezin_keys WHERE traject_id = ?", (traject_id,))
            row = cur.fetchone()
            if row is not None and row[0] is None:
                raise TrajectErasedError(traject_id)
            if row is None:
                cur.execute("INSERT INTO eengezin_keys (traject_id, key_id, wrapped, erased)"
                            " VALUES (?, '', NULL, ?)", (traject_id, moment))
            else:
                cur.execute("UPDATE eengezin_keys SET wrapped = NULL, erased = ?"
                            " WHERE traject_id = ?", (moment, traject_id))
            body: dict[str, Any] = {"reden": reason, "door": by}
            if exception:
                body["uitzondering"] = exception
            self._ledger_append(cur, LEDGER_ERASED, traject_id, moment, body)
        for cached in [k for k in self._key_cache if k[0] == traject_id]:
            self._key_cache.pop(cached, None)
        self._after_erase()

    def _after_erase(self) -> None:  # noqa: B027 - an optional hook
        """Backend hook: push the destroyed key out of journals where possible."""

    def erased(self, traject_id: str) -> bool:
        """True when the traject's personal data was erased."""
        with self._transaction(write=False) as cur:
            cur.execute("SELECT wrapped, erased FROM eengezin_keys WHERE traject_id = ?",
                        (traject_id,))
            row = cur.fetchone()
        return row is not None and row[0] is None

    def ledger(self) -> list[dict[str, Any]]:
        """The store's ledger (trajecten created and erased), oldest first."""
        with self._transaction(write=False) as cur:
            cur.execute("SELECT seq, kind, traject_id, at, body FROM eengezin_ledger ORDER BY seq")
            rows = cur.fetchall()
        out: list[dict[str, Any]] = []
        for seq, kind, tid, at, body in rows:
            try:
                detail = json.loads(body)
            except ValueError:
                detail = {}
            out.append({"seq": int(seq), "kind": kind, "traject": tid, "at": at, **detail})
        return out

    def import_trajecten(self, definition: Definition,
                         items: Iterable[tuple[Traject, Sequence[HistoryEntry]]], *,
                         batch: int = 5000) -> int:
        """Store whole new trajecten, each with its log, in batches; returns how many.

        For hosts moving existing cases into a store, and for benchmarks. Every traject must
        be pinned to ``definition``, its log must lead to its version, and it must not be
        stored yet (else :class:`~eengezin.errors.ConflictError` and that batch is not
        written). Each batch is one transaction.
        """
        self._writable()
        done = 0
        chunk: list[tuple[Traject, Sequence[HistoryEntry]]] = []
        for traject, entries in items:
            if traject.definition != definition.ref:
                raise DefinitionMismatchError(f"traject {traject.id!r} is pinned to another "
                                              "definition", traject_id=traject.id)
            if not entries or len(entries) != traject.version:
                raise StoreError(f"traject {traject.id!r}: its log does not lead to its version")
            chunk.append((traject, entries))
            if len(chunk) >= batch:
                done += self._import_batch(definition, chunk)
                chunk = []
        if chunk:
            done += self._import_batch(definition, chunk)
        return done

    def _import_batch(self, definition: Definition,
                      chunk: Sequence[tuple[Traject, Sequence[HistoryEntry]]]) -> int:
        now = _now()
        tries = self._tries_of(definition)
        rows: dict[str, list[tuple[Any, ...]]] = {k: [] for k in (
            "trajecten", "events", "states", "changes", "deadlines")}
        try:
            with self._transaction(write=True) as cur:
                self._remember_definition(cur, definition)
                for traject, entries in chunk:
                    sealer = self._sealer(cur, traject.id, create=True)
                    version = traject.version
                    last = entries[-1].at.isoformat()
                    previous = GENESIS
                    for seq, entry in enumerate(entries, start=1):
                        if entry.event == codec.MIGRATION_EVENT:
                            raise StoreError(f"traject {traject.id!r}: import a migrated traject"
                                             " by appending, not by import_trajecten")
                        at = entry.at.isoformat()
                        text = codec.entry_to_json(seal_entry(entry, tries, sealer))
                        previous = self._link(previous, traject.id, seq, entry.event, at, text,
                                              None, None)
                        rows["events"].append((traject.id, seq, entry.event, at, text, None,
                                               None, previous))
                    rows["changes"].extend(
                        (traject.id, seq, track, state, at) for seq, track, state, at in
                        state_changes_of(definition.initial_state, {}, 0, entries, traject))
                    rows["trajecten"].append((
                        traject.id, definition.hash, version, now, now,
                        codec.snapshot_to_json(seal_traject(traject, tries, sealer)), previous))
                    rows["states"].extend((traject.id, track, state, last, previous)
                                          for track, state in traject.state.items())
                    rows["deadlines"].extend((traject.id, d.id, d.started.isoformat(),
                                              d.due.isoformat())
                                             for d in traject.deadlines.values())
                    self._ledger_append(cur, LEDGER_CREATED, traject.id, now,
                                        {"definition": definition.hash})
                for table, values in rows.items():
                    if values:
                        cur.executemany(_IMPORT_SQL[table], values)
        except StoreError:
            raise
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise ConflictError("import: a traject in this batch is already stored"
                                    ) from None
            raise
        self._committed(definition)
        return len(chunk)

    def _seen(self, cur: Cursor, traject_id: str, key: str, request_hash: str | None
              ) -> int | None:
        cur.execute("SELECT seq, request_hash FROM eengezin_events WHERE traject_id = ?"
                    " AND idempotency_key = ?", (traject_id, key))
        row = cur.fetchone()
        if row is None:
            return None
        if request_hash is not None and row[1] is not None and row[1] != request_hash:
            raise IdempotencyConflictError(
                f"traject {traject_id!r}: idempotency key was used before for another request",
                traject_id=traject_id, actual=int(row[0]))
        return int(row[0])

    def _index(self, cur: Cursor, traject: Traject, old_states: Mapping[str, str],
               expected_version: int, entries: Sequence[HistoryEntry],
               initial: Mapping[str, str], head: str) -> None:
        # every change of every entry, not only the last (an append may carry several)
        rows = [(traject.id, seq, track, state, at)
                for seq, track, state, at in state_changes_of(initial, old_states,
                                                              expected_version, entries, traject)]
        if rows:
            cur.executemany("INSERT INTO eengezin_state_changes (traject_id, seq, track, state,"
                            " at) VALUES (?, ?, ?, ?, ?)", rows)
        moment = entries[-1].at.isoformat()
        for track, state in traject.state.items():
            if old_states.get(track) == state:
                continue
            if track in old_states:
                cur.execute("UPDATE eengezin_states SET state = ?, since = ?"
                            " WHERE traject_id = ? AND track = ?",
                            (state, moment, traject.id, track))
            else:
                cur.execute("INSERT INTO eengezin_states (traject_id, track, state, since, head)"
                            " VALUES (?, ?, ?, ?, ?)", (traject.id, track, state, moment, head))
        for track in set(old_states) - set(traject.state):
            cur.execute("DELETE FROM eengezin_states WHERE traject_id = ? AND track = ?",
                        (traject.id, track))
        cur.execute("UPDATE eengezin_states SET head = ? WHERE traject_id = ?", (head, traject.id))
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
        """The stored version (number of log entries), or None for an unknown traject."""
        with self._transaction(write=False) as cur:
            cur.execute("SELECT version FROM eengezin_trajecten WHERE id = ?", (traject_id,))
            row = cur.fetchone()
        return None if row is None else int(row[0])

    def applied(self, traject_id: str, idempotency_key: str) -> int | None:
        """The version at which this idempotency key was applied, or None."""
        with self._transaction(write=False) as cur:
            return self._seen(cur, traject_id, idempotency_key, None)

    def load(self, traject_id: str, definition: Definition | None = None) -> Traject:
        """The traject as stored: its current snapshot. Nothing is decided again.

        With ``definition``, the traject must be pinned to exactly that definition (id,
        version and hash), else :class:`~eengezin.errors.DefinitionMismatchError` (migrate
        first). Raises :class:`TrajectNotFoundError` for an unknown id.
        """
        with self._transaction(write=False) as cur:
            cur.execute("SELECT t.definition_hash, t.version, t.snapshot, k.key_id, k.wrapped"
                        " FROM eengezin_trajecten t LEFT JOIN eengezin_keys k"
                        " ON k.traject_id = t.id WHERE t.id = ?", (traject_id,))
            row = cur.fetchone()
            if row is None:
                raise TrajectNotFoundError(traject_id)
            digest, version, body = row[0], int(row[1]), row[2]
            if definition is None or definition.hash == digest:
                tries = self._stored_tries(cur, digest)
                sealer = self._sealer(cur, traject_id, row=(row[3], row[4]), known=True)
        if definition is not None and definition.hash != digest:
            pinned = self._describe(digest)
            raise DefinitionMismatchError(
                f"traject {traject_id!r} is pinned to {pinned}; the definition given is "
                f"{definition.id} v{definition.version} ({definition.hash[:12]}): "
                "migrate it first (eengezin migrate --store URL --to DEF)",
                traject_id=traject_id, expected=digest, actual=definition.ref)
        traject = codec.snapshot_from_json(body)
        if traject.id != traject_id or traject.version != version or traject.definition.hash != digest:
            raise StoreCorruptError(f"traject {traject_id!r}: its snapshot does not match its row")
        return open_traject(traject, tries, sealer)

    def history(self, traject_id: str, *, start: int = 0, limit: int | None = None
                ) -> list[HistoryEntry]:
        """Log entries after version ``start`` (oldest first), at most ``limit`` of them.

        Page through a long log with ``start=page[-1].version``.
        """
        sql = ("SELECT seq, entry FROM eengezin_events WHERE traject_id = ? AND seq > ?"
               " ORDER BY seq")
        params: list[Any] = [traject_id, int(start)]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._transaction(write=False) as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
            if not rows:
                cur.execute("SELECT 1 FROM eengezin_trajecten WHERE id = ?", (traject_id,))
                if cur.fetchone() is None:
                    raise TrajectNotFoundError(traject_id)
            sealer = self._sealer(cur, traject_id)
            expected = int(start) + 1
            entries: list[HistoryEntry] = []
            for seq, text in rows:
                if int(seq) != expected:
                    raise StoreCorruptError(f"traject {traject_id!r}: log entry {expected} is "
                                            "missing")
                entry = codec.entry_from_json(text)
                tries = self._stored_tries(cur, entry.definition.hash)
                entries.append(open_entry(entry, tries, sealer))
                expected += 1
        return entries

    def iter_history(self, traject_id: str, *, page: int = 1000) -> Iterator[HistoryEntry]:
        """The whole log, read page by page (memory stays flat for long histories)."""
        start = 0
        while True:
            chunk = self.history(traject_id, start=start, limit=page)
            yield from chunk
            if len(chunk) < page:
                return
            start += len(chunk)

    def _describe(self, digest: str) -> str:
        with self._transaction(write=False) as cur:
            cur.execute("SELECT id, version FROM eengezin_definitions WHERE hash = ?", (digest,))
            row = cur.fetchone()
        return f"{row[0]} v{row[1]} ({digest[:12]})" if row else digest[:12]

    # ------------------------------------------------------------ integrity

    def heads(self) -> dict[str, Any]:
        """The heads of every chain, to anchor elsewhere (a ticket, a second database, a
        signed mail): a later :meth:`check_integrity` plus a comparison with the anchored
        heads shows that nothing was rewritten or cut off since."""
        with self._transaction(write=False) as cur:
            seq, head = self._ledger_head(cur)
            cur.execute("SELECT id, version, head FROM eengezin_trajecten ORDER BY id")
            rows = cur.fetchall()
        return {"chain": self._chain.kind, "ledger": {"seq": seq, "head": head},
                "trajecten": {r[0]: {"version": int(r[1]), "head": r[2]} for r in rows}}

    def check_integrity(self, ids: Iterable[str] | None = None) -> list[str]:
        """Walk every hash chain and compare the snapshots and indexes with the logs.

        Finds: a log row or ledger row edited (payload, actor, moment, event) or removed,
        a traject deleted as a whole (it is in the ledger) or added behind the store's back,
        a snapshot or version that is not the log's head, a state, deadline or
        state-change index that differs from the snapshot or the log, and a data key
        destroyed without a record. Returns the problems (Dutch, no personal data)."""
        if self._chain_problem is not None:
            return [f"hashketens: {self._chain_problem}"]
        problems: list[str] = []
        with self._transaction(write=False) as cur:
            cur.execute("SELECT seq, kind, traject_id, at, body, hash FROM eengezin_ledger"
                        " ORDER BY seq")
            previous, expected = GENESIS, 1
            created: set[str] = set()
            erased: set[str] = set()
            for seq, kind, tid, at, body, digest in cur.fetchall():
                if int(seq) != expected:
                    problems.append(f"grootboek: regel {expected} ontbreekt")
                    expected = int(seq)
                if self._chain.link(previous, str(seq), kind, tid, at, body) != digest:
                    problems.append(f"grootboek: regel {seq} is gewijzigd (de hash klopt niet)")
                previous, expected = digest, expected + 1
                (created if kind == LEDGER_CREATED else erased).add(tid)
            if self._ledger_head(cur) != (expected - 1, previous):
                problems.append("grootboek: de kop in eengezin_meta is niet de laatste regel "
                                "(regels verwijderd of toegevoegd?)")
            cur.execute("SELECT id FROM eengezin_trajecten")
            stored = {r[0] for r in cur.fetchall()}
            cur.execute("SELECT traject_id, wrapped FROM eengezin_keys")
            keys = {r[0]: r[1] for r in cur.fetchall()}
        for tid in sorted(created - stored):
            problems.append(f"traject {tid}: staat in het grootboek maar ontbreekt in de opslag "
                            "(verwijderd?)")
        for tid in sorted(stored - created):
            problems.append(f"traject {tid}: staat niet in het grootboek (buiten eengezin om "
                            "toegevoegd?)")
        for tid in sorted(stored):
            if tid not in keys:
                problems.append(f"traject {tid}: geen gegevenssleutel")
            elif keys[tid] is None and tid not in erased:
                problems.append(f"traject {tid}: gegevenssleutel vernietigd zonder registratie "
                                "in het grootboek")
            elif keys[tid] is not None and tid in erased:
                problems.append(f"traject {tid}: gewist volgens het grootboek, maar de "
                                "gegevenssleutel bestaat nog")
        for tid in sorted(stored if ids is None else set(ids) & stored):
            problems.extend(self._check_traject(tid))
        return problems

    def _check_traject(self, tid: str) -> list[str]:
        problems: list[str] = []
        where = f"traject {tid}"
        with self._transaction(write=False) as cur:
            cur.execute("SELECT definition_hash, version, snapshot, head FROM eengezin_trajecten"
                        " WHERE id = ?", (tid,))
            row = cur.fetchone()
            if row is None:
                return [f"{where}: ontbreekt"]
            digest, version, body, head = row[0], int(row[1]), row[2], row[3]
            cur.execute("SELECT seq, event, at, entry, idempotency_key, request_hash, hash"
                        " FROM eengezin_events WHERE traject_id = ? ORDER BY seq", (tid,))
            events = cur.fetchall()
            cur.execute("SELECT track, state, head FROM eengezin_states WHERE traject_id = ?",
                        (tid,))
            states = cur.fetchall()
            cur.execute("SELECT deadline_id, started, due FROM eengezin_deadlines"
                        " WHERE traject_id = ?", (tid,))
            deadlines = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
            cur.execute("SELECT seq, track, state FROM eengezin_state_changes"
                        " WHERE traject_id = ? ORDER BY seq, track", (tid,))
            changes = [(int(r[0]), r[1], r[2]) for r in cur.fetchall()]
        previous, expected = GENESIS, 1
        derived: list[tuple[int, str, str]] = []
        current: dict[str, str] | None = None
        for number, event, at, text, key, rhash, link in events:
            seq = int(number)
            if seq != expected:
                problems.append(f"{where}: logregel {expected} ontbreekt")
                expected = seq
            if self._link(previous, tid, seq, event, at, text, key, rhash) != link:
                problems.append(f"{where}: logregel {seq} is gewijzigd (de hash klopt niet)")
            previous, expected = link, expected + 1
            try:
                entry = codec.entry_from_json(text)
            except StoreCorruptError:
                problems.append(f"{where}: logregel {seq} is onleesbaar")
                current = None
                continue
            if entry.event != event or entry.at.isoformat() != at:
                problems.append(f"{where}: logregel {seq}: gebeurtenis of moment wijkt af van "
                                "de regel zelf")
            change = entry.change
            if change is None:
                current = None
                continue
            if seq == 1:
                current = self._initial_state(entry.definition)
            if current is None:
                continue
            before = dict(current)
            if entry.event == codec.MIGRATION_EVENT:
                current = dict(change.state)
            else:
                current.update(change.state)
            derived.extend((seq, track, state) for track, state in sorted(current.items())
                           if seq == 1 or before.get(track) != state)
        if not events:
            problems.append(f"{where}: het logboek is leeg")
        if expected - 1 != version:
            problems.append(f"{where}: versie {version} maar het logboek eindigt bij "
                            f"{expected - 1}")
        if previous != head:
            problems.append(f"{where}: de kop van het traject is niet de laatste logregel "
                            "(regels verwijderd, of de kop aangepast?)")
        try:
            snapshot = codec.snapshot_from_json(body)
        except StoreCorruptError:
            return [*problems, f"{where}: de momentopname is onleesbaar"]
        if snapshot.id != tid or snapshot.version != version or snapshot.definition.hash != digest:
            problems.append(f"{where}: de momentopname past niet bij de rij (versie of definitie)")
        if {r[0]: r[1] for r in states} != dict(snapshot.state):
            problems.append(f"{where}: de staatindex (eengezin_states) wijkt af van de "
                            "momentopname")
        if any(r[2] != head for r in states):
            problems.append(f"{where}: de staatindex hoort bij een andere kop van het logboek")
        if deadlines != {d.id: (d.started.isoformat(), d.due.isoformat())
                         for d in snapshot.deadlines.values()}:
            problems.append(f"{where}: de termijnindex (eengezin_deadlines) wijkt af van de "
                            "momentopname")
        if current is not None and derived != changes:
            problems.append(f"{where}: de index van staatwijzigingen wijkt af van het logboek")
        if current is not None and current != dict(snapshot.state):
            problems.append(f"{where}: de staat in de momentopname is niet waar het logboek "
                            "op uitkomt")
        return problems

    def _initial_state(self, ref: DefinitionRef) -> dict[str, str] | None:
        try:
            return dict(self.definition(ref).initial_state)
        except EengezinError:
            return None

    # ------------------------------------------------------------ outbox

    def claim(self, limit: int = 100, *, lease: timedelta = DEFAULT_LEASE) -> list[OutboxRecord]:
        """Up to ``limit`` outbox records not acknowledged and not claimed by a live lease,
        oldest first; they are leased to the caller for ``lease``. Raises
        :class:`StoreError` when the outbox is not enabled."""
        if not self.outbox_enabled:
            raise StoreError(f"{self.url}: the outbox is not enabled (open the store with "
                             "outbox=True)")
        now = datetime.now(UTC)
        out: list[OutboxRecord] = []
        with self._transaction(write=True) as cur:
            cur.execute(self._claim_sql(), (now.isoformat(), int(limit)))
            rows = cur.fetchall()
            if rows:
                until = (now + lease).isoformat()
                cur.executemany("UPDATE eengezin_outbox SET claimed_until = ? WHERE id = ?",
                                [(until, int(r[0])) for r in rows])
            for r in rows:
                decision = codec.decision_from_json(r[1])
                sealer = self._sealer(cur, decision.traject_id)
                tries = self._stored_tries(cur, decision.definition.hash)
                out.append(OutboxRecord(int(r[0]), open_decision(decision, tries, sealer)))
        return out

    def ack(self, ids: Iterable[int]) -> None:
        """Remove relayed records from the outbox (unknown ids are ignored)."""
        done = [(int(i),) for i in ids]
        if not done:
            return
        with self._transaction(write=True) as cur:
            cur.executemany("DELETE FROM eengezin_outbox WHERE id = ?", done)

    def outbox_size(self) -> int:
        """How many records wait in the outbox (claimed or not)."""
        with self._transaction(write=False) as cur:
            cur.execute("SELECT COUNT(*) FROM eengezin_outbox")
            return int(cur.fetchone()[0])

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
            cur.execute("SELECT e.traject_id, e.seq, e.entry, k.key_id, k.wrapped"
                        " FROM eengezin_events e LEFT JOIN eengezin_keys k"
                        " ON k.traject_id = e.traject_id WHERE e.event = ?"
                        " ORDER BY e.traject_id, e.seq", (event,))
            rows = cur.fetchall()
            out: list[tuple[str, int, HistoryEntry]] = []
            for r in rows:
                entry = codec.entry_from_json(r[2])
                sealer = self._sealer(cur, r[0], row=(r[3], r[4]), known=True)
                out.append((r[0], int(r[1]), open_entry(
                    entry, self._stored_tries(cur, entry.definition.hash), sealer)))
        yield from out


def describe_error(exc: BaseException) -> str:
    """A one-line description of a backend error for a :class:`StoreError` message."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


__all__ = ["AppendResult", "SQLStore", "StateChange", "StoredDeadline"]
