"""Persistence: one store contract, an embedded SQLite store and a PostgreSQL store.

>>> import os, tempfile
>>> from datetime import datetime
>>> from eengezin import Event, load_definition
>>> from eengezin.store import open_store, fire
>>> basis = load_definition("basis")
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "trajecten.db"))
>>> d = fire(store, basis, "T-1", Event("aanmelden", datetime(2026, 1, 5, 9),
...          {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]}, "vraag": "hulp"}))
>>> d.accepted, store.load("T-1", basis).version
(True, 1)
>>> store.close()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..rules.predicates import PredicateRegistry
from ._sql import AppendResult, Decision, SQLStore, StateChange, StoredDeadline, fire
from .codec import MIGRATION_EVENT
from .contract import Store
from .errors import (
    MigrationError,
    StoreCorruptError,
    StoreError,
    StoreOpenError,
    TrajectNotFoundError,
)
from .migration import (
    Migration,
    MigrationFailure,
    MigrationReport,
    apply_journaled,
    check_migration,
    find_migrations,
    load_migration,
    migrate_store,
    migrate_traject,
)
from .monitor import Monitor, compute_monitor
from .sqlite import SQLiteStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def sqlite_path(url: str) -> Path:
    """The file of a SQLite store URL: a plain path or ``sqlite:///file.db``.

    ``sqlite:///data/t.db`` is relative (``data/t.db``); ``sqlite:////var/t.db`` is absolute.

    >>> str(sqlite_path("sqlite:///t.db")), str(sqlite_path("sqlite:////var/t.db"))
    ('t.db', '/var/t.db')
    """
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):])
    if url.startswith("sqlite:"):
        raise StoreOpenError(f"{url}: write sqlite:///relative.db or sqlite:////absolute.db")
    return Path(url)


def open_store(url: str | Path, *, create: bool = True,
               predicates: PredicateRegistry | None = None, **options: Any) -> SQLStore:
    """Open a store: a file path or ``sqlite:///file.db`` (SQLite), or a PostgreSQL URL.

    With ``create=False`` a store that does not exist yet is an error instead of being
    created. Raises :class:`StoreOpenError` with a clear message for an unknown scheme,
    an unreachable server, or a file that is not an eengezin store.
    """
    text = str(url)
    if text.startswith(POSTGRES_SCHEMES):
        from .postgres import PostgresStore

        return PostgresStore(text, create=create, predicates=predicates, **options)
    if "://" in text and not text.startswith("sqlite:"):
        raise StoreOpenError(f"{text}: unknown store scheme (use a path, sqlite:///file.db or "
                             "postgresql://…)")
    return SQLiteStore(sqlite_path(text), create=create, predicates=predicates, **options)


__all__ = [
    "MIGRATION_EVENT",
    "AppendResult",
    "Decision",
    "Migration",
    "MigrationError",
    "MigrationFailure",
    "MigrationReport",
    "Monitor",
    "SQLStore",
    "SQLiteStore",
    "StateChange",
    "Store",
    "StoreCorruptError",
    "StoreError",
    "StoreOpenError",
    "StoredDeadline",
    "TrajectNotFoundError",
    "apply_journaled",
    "check_migration",
    "compute_monitor",
    "find_migrations",
    "fire",
    "load_migration",
    "migrate_store",
    "migrate_traject",
    "open_store",
    "sqlite_path",
]
