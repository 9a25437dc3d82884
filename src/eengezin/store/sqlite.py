"""The embedded default: one SQLite file in WAL mode (stdlib :mod:`sqlite3`).

Writers take the database's write lock at the start of their transaction
(``BEGIN IMMEDIATE``) and wait up to ``timeout`` seconds for it; readers never block
writers and never wait for them (WAL; opening an existing store only reads).
``synchronous=FULL`` makes every acknowledged append durable. The file is created 0600;
``readonly=True`` opens it with ``mode=ro`` (show, history, verify never write).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..rules.predicates import PredicateRegistry
from ._sql import Cursor, SQLStore, describe_error
from .crypto import KeyProvider
from .errors import StoreCorruptError, StoreError, StoreOpenError

SQLITE_MAGIC = b"SQLite format 3\x00"


def _create_private(path: Path) -> None:
    """Create the store file readable by its owner only (0600); SQLite gives the -wal and
    -shm files the same mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreOpenError(f"{path}: cannot create: {exc.strerror}") from None
    os.close(fd)


class SQLiteStore(SQLStore):
    """A store in one SQLite file.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.db")
    >>> with SQLiteStore(path) as store:
    ...     store.count()
    0
    """

    backend = "sqlite"

    def __init__(self, path: str | Path, *, create: bool = True, timeout: float = 30.0,
                 predicates: PredicateRegistry | None = None, outbox: bool | None = None,
                 keys: KeyProvider | None = None, chain_key: bytes | None = None,
                 readonly: bool = False) -> None:
        super().__init__(predicates=predicates, keys=keys, chain_key=chain_key)
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        if readonly:
            create = False
        exists = self.path.exists()
        if exists and self.path.is_dir():
            raise StoreOpenError(f"{self.path}: is a directory, not a store file")
        if not exists and not create:
            raise StoreOpenError(f"{self.path}: no such store")
        empty = exists and self.path.stat().st_size == 0
        if empty and not create:
            raise StoreOpenError(f"{self.path}: an empty file, not an eengezin store")
        if exists and not empty:
            try:
                with self.path.open("rb") as handle:
                    head = handle.read(len(SQLITE_MAGIC))
            except OSError as exc:
                raise StoreOpenError(f"{self.path}: cannot read: {exc.strerror}") from None
            if head != SQLITE_MAGIC:
                raise StoreOpenError(f"{self.path}: not an eengezin store (not a SQLite database)")
        if not exists:
            _create_private(self.path)
        try:
            if readonly:
                self._conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                             timeout=timeout, isolation_level=None,
                                             check_same_thread=False)
            else:
                self._conn = sqlite3.connect(str(self.path), timeout=timeout,
                                             isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreOpenError(f"{self.path}: cannot open: {describe_error(exc)}") from None
        try:
            if not readonly:
                if self._conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=FULL")
                self._conn.execute("PRAGMA secure_delete=ON")
            # an existing store is checked in a read transaction (a reader never waits for
            # a writer); only a new store, or a change of settings, takes the write lock
            with self._transaction(write=False) as cur:
                cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                tables = {r[0] for r in cur.fetchall()}
                if tables and "eengezin_meta" not in tables:
                    raise StoreOpenError(
                        f"{self.path}: not an eengezin store (a SQLite database with other "
                        f"tables: {', '.join(sorted(tables)[:5])})")
                if tables:
                    self._init_schema(cur, tables, None)
            if not tables or (outbox is not None and outbox != self.outbox_enabled):
                if readonly:
                    raise StoreOpenError(f"{self.path}: opened read-only")
                with self._transaction(write=True) as cur:
                    cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                    tables = {r[0] for r in cur.fetchall()}
                    if tables and "eengezin_meta" not in tables:
                        raise StoreOpenError(f"{self.path}: not an eengezin store")
                    self._init_schema(cur, tables, outbox)
            self.readonly = readonly
        except StoreCorruptError as exc:
            self._conn.close()
            raise StoreOpenError(f"{self.path}: corrupt store: {exc}") from None
        except (StoreError, sqlite3.Error) as exc:
            self._conn.close()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, sqlite3.OperationalError):
                raise StoreOpenError(f"{self.path}: cannot open: {describe_error(exc)}") from None
            raise StoreOpenError(f"{self.path}: corrupt store: {describe_error(exc)}") from None

    def _default_key_path(self) -> str:
        return f"{self.path}.key"

    def _after_erase(self) -> None:
        # move the page without the destroyed key into the database file and empty the WAL,
        # so the old key is not left in the journal (secure_delete zeroes freed space)
        try:
            with self._lock:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass  # another reader holds the WAL: the next checkpoint does it

    @contextmanager
    def _transaction_unlocked(self, write: bool) -> Iterator[Cursor]:
        try:
            cur = self._conn.cursor()
        except sqlite3.ProgrammingError as exc:
            raise StoreError(f"{self.path}: {describe_error(exc)}") from None
        try:
            cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield cur
            except BaseException:
                self._conn.rollback()
                raise
            self._conn.commit()
        except sqlite3.IntegrityError:
            raise
        except (sqlite3.OperationalError, sqlite3.ProgrammingError,
                sqlite3.InterfaceError) as exc:
            raise StoreError(f"{self.path}: {describe_error(exc)}") from None
        except sqlite3.DatabaseError as exc:
            raise StoreCorruptError(f"{self.path}: corrupt store: {describe_error(exc)}") from None
        finally:
            cur.close()

    def _is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def close(self) -> None:
        """Close the connection (the file stays consistent whenever this is skipped)."""
        self._conn.close()

    def integrity_check(self) -> list[str]:
        """SQLite's own check of the whole file; an empty list means it is sound."""
        try:
            with self._transaction(write=False) as cur:
                cur.execute("PRAGMA integrity_check")
                rows: list[Any] = cur.fetchall()
        except StoreCorruptError as exc:
            return [str(exc)]
        found = [str(r[0]) for r in rows]
        return [] if found == ["ok"] else found
