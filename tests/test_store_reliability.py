"""Reliability on both backends: concurrent writers, a writer killed mid-stream, bad files.

These tests start real processes; they assert outcomes (counts, contents), never timings.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from eengezin import Event, load_definition
from eengezin.cli import main
from eengezin.store import (
    SQLiteStore,
    StoreCorruptError,
    StoreError,
    StoreOpenError,
    fire,
    open_store,
)
from eengezin.store.testing import postgres_schema
from test_store_contract import AANMELDEN, pg_url_or_skip, store_url

__all__ = ["store_url"]  # fixture used by name

WRITER = r"""
import json, os, sys, time
from datetime import datetime, timedelta
from eengezin import Event, load_definition
from eengezin.store import fire, open_store

url, tid, name, count, go = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
basis = load_definition("basis")
store = open_store(url, snapshot_every=int(os.environ.get("SNAPSHOT_EVERY", "100")))
while go != "-" and not os.path.exists(go):
    time.sleep(0.005)
attempts = 0
i = 0
while count < 0 or i < count:
    at = datetime(2026, 3, 3, 9) + timedelta(seconds=i)
    d = fire(store, basis, tid, Event("notitie", at, {"tekst": f"{name}-{i}"}),
             max_attempts=10_000)
    assert d.accepted, d
    attempts += d.attempts
    print(f"ack {name}-{i}", flush=True)
    i += 1
print(json.dumps({"attempts": attempts}), flush=True)
"""


def start_traject(url: str, tid: str = "T-1") -> None:
    with open_store(url) as store:
        decision = fire(store, load_definition("basis"), tid,
                        Event("aanmelden", datetime(2026, 3, 2, 9), AANMELDEN))
        assert decision.accepted


def writer(url: str, name: str, count: int, go: str, env: dict[str, str] | None = None
           ) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, "T-1", name, str(count), go],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )


def notes(url: str) -> list[str]:
    with open_store(url, create=False) as store:
        store.verify("T-1")  # snapshot path and full replay agree
        history = store.history("T-1")
        assert store.version("T-1") == len(history)
    return [str(e.data["tekst"]) for e in history if e.event == "notitie"]


# ---------------------------------------------------------------- concurrent writers


def test_concurrent_writers_lose_and_duplicate_nothing(store_url: str, tmp_path: Path) -> None:
    start_traject(store_url)
    go = tmp_path / "go"
    n_writers, per_writer = 4, 25
    procs = [writer(store_url, f"w{k}", per_writer, str(go), {"SNAPSHOT_EVERY": "7"})
             for k in range(n_writers)]
    time.sleep(0.5)  # let every writer import and connect, then release them together
    go.touch()
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    texts = notes(store_url)
    expected = {f"w{k}-{i}" for k in range(n_writers) for i in range(per_writer)}
    assert len(texts) == n_writers * per_writer  # exactly the sum: nothing lost, no duplicate
    assert set(texts) == expected
    for k in range(n_writers):  # each writer's own events keep their order
        mine = [t for t in texts if t.startswith(f"w{k}-")]
        assert mine == [f"w{k}-{i}" for i in range(per_writer)]


# ---------------------------------------------------------------- SIGKILL


@pytest.mark.parametrize("run", range(2))
def test_writer_killed_mid_stream_leaves_a_sound_store(store_url: str, run: int) -> None:
    start_traject(store_url)
    proc = writer(store_url, "k", -1, "-", {"SNAPSHOT_EVERY": "3"})
    assert proc.stdout is not None
    acked: list[str] = []
    wanted = random.Random(run).randint(15, 40)
    while len(acked) < wanted:
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else "writer stopped"
        acked.append(line.split()[1])
    time.sleep(random.Random(run).uniform(0, 0.02))
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=60)
    acked.extend(line.split()[1] for line in rest.splitlines() if line.startswith("ack "))
    assert proc.returncode == -signal.SIGKILL
    texts = notes(store_url)
    assert texts[: len(acked)] == acked  # every acknowledged event is there, in order
    assert texts == [f"k-{i}" for i in range(len(texts))]  # and no partial or doubled one
    assert len(texts) <= len(acked) + 1  # at most the one in flight, committed unacknowledged
    if store_url.startswith("sqlite:"):
        with SQLiteStore(store_url[len("sqlite:///"):], create=False) as store:
            assert store.integrity_check() == []


# ---------------------------------------------------------------- bad files


def cli(*argv: str) -> int:
    return main(list(argv), out=io.StringIO())


def assert_clear_cli_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert cli(*argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("eengezin: ") and "Traceback" not in err
    return err


def test_text_file_is_not_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.db"
    path.write_text("dit is geen database\n" * 100, encoding="utf-8")
    with pytest.raises(StoreOpenError, match="not a SQLite database"):
        open_store(path)
    err = assert_clear_cli_error(capsys, "show", "--store", str(path), "T-1")
    assert "not an eengezin store" in err
    assert path.read_text(encoding="utf-8").startswith("dit is geen database")  # untouched


def test_foreign_sqlite_database_is_refused(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "host.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE clienten (id INTEGER PRIMARY KEY, naam TEXT)")
    conn.close()
    with pytest.raises(StoreOpenError, match="not an eengezin store"):
        open_store(path)
    assert_clear_cli_error(capsys, "run", "basis", "--events", os.devnull, "--store", str(path),
                           "--traject", "T")
    with sqlite3.connect(path) as conn:  # nothing was added to the host's database
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert tables == {"clienten"}


def test_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    open_store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE eengezin_meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(StoreOpenError, match="newer eengezin"):
        open_store(path)


def filled_store(path: Path, n: int = 60) -> None:
    basis = load_definition("basis")
    with open_store(path, snapshot_every=10) as store:
        for t in range(3):
            fire(store, basis, f"T-{t}", Event("aanmelden", datetime(2026, 3, 2, 9), AANMELDEN))
            for i in range(n):
                fire(store, basis, f"T-{t}", Event("notitie", datetime(2026, 3, 3, 9),
                                                   {"tekst": "x" * 200 + str(i)}))
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


def read_everything(path: Path) -> None:
    with open_store(path, create=False) as store:
        for tid in store.ids():
            store.verify(tid)


@pytest.mark.parametrize("seed", range(8))
def test_damaged_store_gives_a_clear_error(tmp_path: Path, seed: int,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Truncation or a page of noise: reading gives a StoreError or reads back soundly
    (damage in pages a read does not touch); SQLite's own check then still finds it."""
    path = tmp_path / "t.db"
    filled_store(path)
    data = bytearray(path.read_bytes())
    rnd = random.Random(seed)
    if seed == 0:
        data = data[: len(data) // 2]  # truncated
    else:
        page = rnd.randrange(1, len(data) // 4096)
        for i in range(page * 4096, min((page + 1) * 4096, len(data))):
            data[i] = rnd.randrange(256)
    path.write_bytes(bytes(data))
    try:
        read_everything(path)
    except StoreError as exc:
        assert "corrupt" in str(exc)
    else:
        with SQLiteStore(path, create=False) as store:
            assert store.integrity_check() != []
    for command in ("show", "history"):
        capsys.readouterr()
        code = cli(command, "--store", str(path), "T-1")
        err = capsys.readouterr().err
        assert code in (0, 2) and "Traceback" not in err
        if code == 2:
            assert err.startswith("eengezin: ") and "corrupt" in err


def test_tampered_entry_is_a_corrupt_store_error(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    filled_store(path, 5)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE eengezin_events SET entry = '{\"event\": 1' WHERE seq = 3")
    conn.close()
    with open_store(path) as store, pytest.raises(StoreCorruptError):
        store.load("T-1")


def test_missing_history_row_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    filled_store(path, 5)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM eengezin_events WHERE traject_id = 'T-1' AND seq = 3")
    conn.close()
    with open_store(path) as store, pytest.raises(StoreCorruptError, match="history rows"):
        store.load("T-1")


def test_postgres_foreign_marker_and_unreachable_server() -> None:
    dsn = pg_url_or_skip()
    import psycopg

    with postgres_schema(dsn) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE eengezin_meta (key TEXT PRIMARY KEY, value TEXT)")
            conn.execute("INSERT INTO eengezin_meta VALUES ('format', 'iets-anders')")
        with pytest.raises(StoreOpenError, match="not an eengezin store"):
            open_store(url)
    with pytest.raises(StoreOpenError, match="cannot connect"):
        open_store("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")


def test_postgres_missing_store_is_not_created(capsys: pytest.CaptureFixture[str]) -> None:
    dsn = pg_url_or_skip()
    with postgres_schema(dsn) as url:
        err = assert_clear_cli_error(capsys, "show", "--store", url, "T-1")
        assert "no eengezin store" in err
        assert json.loads(json.dumps(err))  # plain text, no traceback


def test_two_cli_runs_on_one_traject_both_land(store_url: str, tmp_path: Path) -> None:
    """`run --store` reloads and decides again on a conflict: both scenarios end up stored."""
    start_traject(store_url)
    procs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(
            json.dumps({"event": "notitie", "at": f"2026-03-03T09:{i:02d}:00",
                        "data": {"tekst": f"{name}-{i}"}}) + "\n" for i in range(20)),
            encoding="utf-8")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "eengezin.cli", "run", "basis", "--events", str(path),
             "--store", store_url, "--traject", "T-1", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert all(step["accepted"] for step in json.loads(out)["steps"])
    texts = notes(store_url)
    assert len(texts) == 40
    for name in ("a", "b"):
        assert [t for t in texts if t.startswith(f"{name}-")] == [f"{name}-{i}" for i in range(20)]


def test_closed_or_broken_store_raises_store_errors(store_url: str) -> None:
    start_traject(store_url)
    store = open_store(store_url)
    store.close()
    with pytest.raises(StoreError):
        store.load("T-1")
    other = open_store(store_url)
    with other._transaction(write=True) as cur:  # someone drops a table under the store
        cur.execute("DROP TABLE eengezin_snapshots")
    with pytest.raises(StoreError):
        other.load("T-1")
    other.close()


def test_postgres_store_reconnects_after_the_server_drops_it() -> None:
    dsn = pg_url_or_skip()
    import psycopg

    with postgres_schema(dsn) as url:
        start_traject(url)
        store = open_store(url)
        pid = store._conn.info.backend_pid  # type: ignore[attr-defined]
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(StoreError):
            store.load("T-1")  # the call in flight fails clearly …
        assert store.load("T-1").version == 1  # … and the next one works again
        store.close()
