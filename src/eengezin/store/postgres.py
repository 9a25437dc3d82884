"""PostgreSQL, for hosts with several application servers (psycopg 3, optional extra ``postgres``).

Install with ``pip install 'eengezin[postgres]'``. Each append locks the traject's row
(``SELECT … FOR UPDATE``) inside one transaction; a writer that finds another version
gets :class:`~eengezin.errors.ConflictError`. Tables are prefixed ``eengezin_`` so the
database can be shared with the host's own tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..rules.predicates import PredicateRegistry
from ._sql import Cursor, SQLStore, describe_error
from .crypto import KeyProvider
from .errors import StoreError, StoreOpenError


class _Cursor:
    """Adapts ``?`` placeholders (shared SQL) to psycopg's ``%s``."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Any = ()) -> Any:
        values = tuple(params)
        return self._cur.execute(sql.replace("?", "%s"), values if values else None)

    def executemany(self, sql: str, rows: Any) -> Any:
        return self._cur.executemany(sql.replace("?", "%s"), rows)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        rows: list[Any] = self._cur.fetchall()
        return rows


class PostgresStore(SQLStore):
    """A store in a PostgreSQL database, given by a libpq DSN or ``postgresql://`` URL."""

    backend = "postgresql"

    _serial_id = "BIGSERIAL PRIMARY KEY"
    _for_update = " FOR UPDATE"

    def __init__(self, dsn: str | None = None, *, create: bool = True, connect_timeout: int = 10,
                 predicates: PredicateRegistry | None = None, outbox: bool | None = None,
                 connection: Any = None, keys: KeyProvider | None = None,
                 chain_key: bytes | None = None, readonly: bool = False) -> None:
        super().__init__(predicates=predicates, keys=keys, chain_key=chain_key)
        if readonly:
            create = False
        try:
            import psycopg
        except ImportError:  # pragma: no cover - depends on the installation
            raise StoreOpenError(
                "PostgreSQL needs psycopg: pip install 'eengezin[postgres]'") from None
        self._psycopg = psycopg
        self._connect_timeout = connect_timeout
        self._closed = False
        self._owned = connection is None
        if connection is not None:
            # the host's connection: our transactions nest in the host's (as savepoints when
            # the host has one open), so a decision commits with the host's own writes
            self._conn = connection
            self.url = dsn or "postgresql://(host connection)"
        else:
            if dsn is None:
                raise StoreOpenError("PostgresStore needs a DSN or a connection")
            self.url = dsn
            try:
                self._conn = psycopg.connect(dsn, connect_timeout=connect_timeout,
                                             autocommit=True)
            except psycopg.Error as exc:
                raise StoreOpenError(f"{_redact(dsn)}: cannot connect: {describe_error(exc)}"
                                     ) from None
            except Exception as exc:  # psycopg raises ProgrammingError for a bad DSN
                raise StoreOpenError(f"{_redact(dsn)}: {describe_error(exc)}") from None
        try:
            with self._transaction(write=True) as cur:
                # concurrent first use: one process creates the tables, the others wait
                cur.execute("SELECT pg_advisory_xact_lock(7218300541)")
                cur.execute("SELECT table_name FROM information_schema.tables"
                            " WHERE table_schema = current_schema()")
                tables = {r[0] for r in cur.fetchall()}
                if not create and "eengezin_meta" not in tables:
                    raise StoreOpenError(f"{_redact(self.url)}: no eengezin store in this database")
                self._init_schema(cur, tables, outbox)
            self.readonly = readonly
        except BaseException:
            if self._owned:
                self._conn.close()
            raise

    @contextmanager
    def _transaction_unlocked(self, write: bool) -> Iterator[Cursor]:
        psycopg = self._psycopg
        if self._conn.closed and not self._closed and self._owned:
            # the server dropped the connection (restart, failover, idle timeout): the failed
            # transaction was rolled back, so connecting again is safe
            try:
                self._conn = psycopg.connect(self.url, connect_timeout=self._connect_timeout,
                                             autocommit=True)
            except psycopg.Error as exc:
                raise StoreError(f"{_redact(self.url)}: cannot reconnect: "
                                 f"{describe_error(exc)}") from None
        try:
            with self._conn.transaction(), self._conn.cursor() as raw:
                yield _Cursor(raw)
        except (psycopg.errors.UniqueViolation, psycopg.errors.SerializationFailure):
            raise
        except psycopg.Error as exc:  # lost connection, dropped tables, …
            raise StoreError(f"{_redact(self.url)}: {describe_error(exc)}") from None

    def _lock_traject(self, cur: Cursor, traject_id: str) -> Any:
        cur.execute("SELECT definition_hash, version, head FROM eengezin_trajecten WHERE id = ?"
                    " FOR UPDATE", (traject_id,))
        return cur.fetchone()

    def _is_unique_violation(self, exc: BaseException) -> bool:
        errors = self._psycopg.errors
        return isinstance(exc, errors.UniqueViolation | errors.SerializationFailure)

    def _claim_sql(self) -> str:
        # concurrent relays skip each other's rows instead of waiting for them
        return ("SELECT id, body FROM eengezin_outbox WHERE claimed_until IS NULL"
                " OR claimed_until < ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED")

    def close(self) -> None:
        """Close the connection (a closed store does not reconnect); a host's connection
        is left open."""
        self._closed = True
        if self._owned:
            self._conn.close()

    def drop_all(self) -> None:
        """Remove every eengezin table from the database (tests and benchmarks only)."""
        with self._transaction(write=True) as cur:
            cur.execute("SELECT table_name FROM information_schema.tables"
                        " WHERE table_schema = current_schema() AND table_name LIKE 'eengezin!_%'"
                        " ESCAPE '!'")
            for (name,) in cur.fetchall():
                cur.execute(f'DROP TABLE IF EXISTS "{name}" CASCADE')


def _redact(dsn: str) -> str:
    """The DSN without its password (for messages)."""
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(dsn)
    except Exception:
        return "postgresql://…"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo("", **params)
