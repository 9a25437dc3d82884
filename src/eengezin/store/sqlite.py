"""The embedded default: one SQLite file in WAL mode (stdlib :mod:`sqlite3`).

Writers take the database's write lock at the start of their transaction
(``BEGIN IMMEDIATE``) and wait up to ``timeout`` seconds for it; readers never block
writers (WAL). ``synchronous=FULL`` makes every acknowledged append durable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..rules.predicates import PredicateRegistry
from ._sql import Cursor, SQLStore, describe_error
from .errors import StoreCorruptError, StoreError, StoreOpenError

SQLITE_MAGIC = b"SQLite format 3\x00"


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
                 predicates: PredicateRegistry | None = None, outbox: bool | None = None) -> None:
        super().__init__(predicates=predicates)
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        exists = self.path.exists()
        if exists and self.path.is_dir():
            raise StoreOpenError(f"{self.path}: is a directory, not a store file")
        if not exists and not create:
            raise StoreOpenError(f"{self.path}: no such store")
        if exists and self.path.stat().st_size > 0:
            try:
                with self.path.open("rb") as handle:
                    head = handle.read(len(SQLITE_MAGIC))
            except OSError as exc:
                raise StoreOpenError(f"{self.path}: cannot read: {exc.strerror}") from None
            if head != SQLITE_MAGIC:
                raise StoreOpenError(f"{self.path}: not an eengezin store (not a SQLite database)")
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None,
                                         check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreOpenError(f"{self.path}: cannot open: {describe_error(exc)}") from None
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            with self._transaction(write=True) as cur:
                cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                tables = {r[0] for r in cur.fetchall()}
                if tables and "eengezin_meta" not in tables:
                    raise StoreOpenError(
                        f"{self.path}: not an eengezin store (a SQLite database with other "
                        f"tables: {', '.join(sorted(tables)[:5])})")
                self._init_schema(cur, tables, outbox)
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

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Cursor]:
        # one connection, shared by the threads that share this store; a transaction opened
        # inside another (see :meth:`SQLStore.exclusive`) joins it
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
