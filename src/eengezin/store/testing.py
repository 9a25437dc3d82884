"""Helpers for testing against real stores (used by eengezin's own tests; hosts may reuse them).

PostgreSQL tests read the server from ``EENGEZIN_TEST_PG`` (a libpq URL, e.g. the last line
of ``bash .ci/postgres.sh``). Each test gets its own PostgreSQL schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_ENV = "EENGEZIN_TEST_PG"


def postgres_dsn() -> str | None:
    """The test server's URL, or None when ``EENGEZIN_TEST_PG`` is not set."""
    value = os.environ.get(PG_ENV, "").strip()
    return value or None


def running_in_ci() -> bool:
    """True when ``CI`` is set to a true value (GitHub, GitLab and our .ci/run set it)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@contextmanager
def postgres_schema(dsn: str) -> Iterator[str]:
    """A fresh schema on the server; yields a URL whose ``search_path`` is that schema.

    >>> # with postgres_schema(dsn) as url: store = open_store(url)
    """
    from urllib.parse import quote

    import psycopg

    name = f"eengezin_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        joiner = "&" if "?" in dsn else "?"
        yield f"{dsn}{joiner}options={quote(f'-c search_path={name}')}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
