"""Persistence: one store contract, an in-memory store, an embedded SQLite store and a
PostgreSQL store. A store persists and queries; the :class:`eengezin.Engine` decides.

>>> import os, tempfile
>>> from datetime import datetime, timezone
>>> from eengezin import Engine
>>> from eengezin.store import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "trajecten.db"))
>>> engine = Engine("basis", store=store)
>>> out = engine.start("T-1", {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]},
...                            "vraag": "hulp"}, at=datetime(2026, 1, 5, 9, tzinfo=timezone.utc))
>>> out.accepted, engine.load("T-1").version
(True, 1)
>>> store.close()
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..rules.predicates import PredicateRegistry
from .errors import (
    MigrationError,
    RetentionError,
    StoreCorruptError,
    StoreError,
    StoreKeyError,
    StoreOpenError,
    TrajectErasedError,
    TrajectNotFoundError,
)

if TYPE_CHECKING:
    from ._sql import AppendResult, SQLStore, StateChange, StoredDeadline
    from .codec import MIGRATION_EVENT
    from .contract import Store
    from .memory import MemoryStore
    from .monitor import Monitor, compute_monitor
    from .sqlite import SQLiteStore

_LAZY = {
    "AppendResult": "._sql", "SQLStore": "._sql", "StateChange": "._sql",
    "StoredDeadline": "._sql", "MIGRATION_EVENT": ".codec", "Store": ".contract",
    "MemoryStore": ".memory", "Monitor": ".monitor", "compute_monitor": ".monitor",
    "SQLiteStore": ".sqlite",
}


def __getattr__(name: str) -> Any:
    # backends load when first used, so importing eengezin stays cheap
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


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
               predicates: PredicateRegistry | None = None, outbox: bool | None = None,
               readonly: bool = False, **options: Any) -> SQLStore:
    """Open a store: a file path or ``sqlite:///file.db`` (SQLite), or a PostgreSQL URL.

    With ``create=False`` a store that does not exist yet is an error instead of being
    created; ``readonly=True`` never writes (and never creates). Options ``keys`` (a
    :class:`~eengezin.store.crypto.KeyProvider`) and ``chain_key`` (bytes: HMAC chains) are
    passed to the backend. ``outbox=True`` switches the store's outbox on (for every writer, it is kept
    in the store), ``False`` off, ``None`` leaves it as it is. Raises
    :class:`StoreOpenError` with a clear message for an unknown scheme, an unreachable
    server, or a file that is not an eengezin store.
    """
    from .sqlite import SQLiteStore

    text = str(url)
    if text.startswith(POSTGRES_SCHEMES):
        from .postgres import PostgresStore

        return PostgresStore(text, create=create, predicates=predicates, outbox=outbox,
                             readonly=readonly, **options)
    if "://" in text and not text.startswith("sqlite:"):
        raise StoreOpenError(f"{text}: unknown store scheme (use a path, sqlite:///file.db or "
                             "postgresql://…)")
    return SQLiteStore(sqlite_path(text), create=create, predicates=predicates, outbox=outbox,
                       readonly=readonly, **options)


__all__ = [
    "MIGRATION_EVENT",
    "AppendResult",
    "MemoryStore",
    "MigrationError",
    "Monitor",
    "RetentionError",
    "SQLStore",
    "SQLiteStore",
    "StateChange",
    "Store",
    "StoreCorruptError",
    "StoreError",
    "StoreKeyError",
    "StoreOpenError",
    "StoredDeadline",
    "TrajectErasedError",
    "TrajectNotFoundError",
    "compute_monitor",
    "open_store",
    "sqlite_path",
]
