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
from datetime import timedelta
from pathlib import Path

import pytest

from eengezin import Engine
from eengezin.cli import main
from eengezin.store import (
    SQLiteStore,
    StoreCorruptError,
    StoreError,
    StoreOpenError,
    open_store,
)
from eengezin.store.testing import postgres_schema
from test_store_contract import AANMELDEN, T0, pg_url_or_skip, store_url

__all__ = ["store_url"]  # fixture used by name

WRITER = r"""
import json, os, sys, time
from datetime import datetime
from zoneinfo import ZoneInfo
from eengezin import Engine
from eengezin.store import open_store

url, tid, name, count, go = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
outbox = os.environ.get("OUTBOX") == "1"
engine = Engine("basis", store=open_store(url, outbox=outbox or None),
                max_attempts=int(os.environ.get("MAX_ATTEMPTS", "40")))
while go != "-" and not os.path.exists(go):
    time.sleep(0.005)
# one moment for every writer: an event dated before another writer's would be refused
at = datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("Europe/Amsterdam"))
attempts = 0
i = 0
while count < 0 or i < count:
    out = engine.fire(tid, "notitie", {"tekst": f"{name}-{i}"}, at=at)
    assert out.accepted, out.verdict.rule_ids
    attempts += out.attempts
    print(f"ack {name}-{i} {out.traject.version}", flush=True)
    i += 1
print(json.dumps({"attempts": attempts}), flush=True)
"""


def start_traject(url: str, tid: str = "T-1", *, outbox: bool | None = None) -> None:
    with open_store(url, outbox=outbox) as store:
        outcome = Engine("basis", store=store).start(tid, AANMELDEN, at=T0)
        assert outcome.accepted


def writer(url: str, name: str, count: int, go: str, env: dict[str, str] | None = None
           ) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, "T-1", name, str(count), go],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )


def notes(url: str) -> list[str]:
    with open_store(url, create=False) as store:
        engine = Engine("basis", store=store)
        report = engine.verify("T-1")  # the log decides again to the snapshot
        assert report.ok and report.findings == (), report
        history = engine.history("T-1")
        assert store.version("T-1") == len(history) == engine.load("T-1").version
        assert [e.version for e in history] == list(range(1, len(history) + 1))
    return [str(e.data["tekst"]) for e in history if e.event == "notitie"]


def outbox_notes(url: str) -> list[tuple[int, str]]:
    """Every decision in the outbox, as (version, text), claimed and acknowledged."""
    with open_store(url, create=False) as store:
        records = store.claim(100_000)
        store.ack(r.id for r in records)
        assert store.claim(100_000) == []
    return [(r.decision.version, str(r.decision.data.get("tekst", "")))
            for r in records if r.decision.event == "notitie"]


# ---------------------------------------------------------------- concurrent writers


def test_concurrent_writers_lose_and_duplicate_nothing(store_url: str, tmp_path: Path) -> None:
    start_traject(store_url, outbox=True)
    go = tmp_path / "go"
    n_writers, per_writer = 4, 25
    procs = [writer(store_url, f"w{k}", per_writer, str(go)) for k in range(n_writers)]
    time.sleep(0.5)  # let every writer import and connect, then release them together
    go.touch()
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err  # none failed (default retry budget)
    texts = notes(store_url)
    expected = {f"w{k}-{i}" for k in range(n_writers) for i in range(per_writer)}
    assert len(texts) == n_writers * per_writer  # exactly the sum: nothing lost, no duplicate
    assert set(texts) == expected
    for k in range(n_writers):  # each writer's own events keep their order
        mine = [t for t in texts if t.startswith(f"w{k}-")]
        assert mine == [f"w{k}-{i}" for i in range(per_writer)]
    # every decision is in the outbox once, with the version the writer was told
    acked = {line.split()[1]: int(line.split()[2]) for out, _ in results
             for line in out.splitlines() if line.startswith("ack ")}
    relayed = outbox_notes(store_url)
    assert sorted(relayed) == sorted((v, t) for t, v in acked.items())
    assert len({v for v, _ in relayed}) == len(relayed) == n_writers * per_writer


def test_many_events_from_writers_on_one_traject_none_fail(store_url: str,
                                                           tmp_path: Path) -> None:
    """4 processes x 150 events on one traject with the Engine's default retry budget:
    none lost, none failed."""
    start_traject(store_url)
    go = tmp_path / "go"
    procs = [writer(store_url, f"m{k}", 150, str(go)) for k in range(4)]
    time.sleep(0.5)
    go.touch()
    results = [p.communicate(timeout=600) for p in procs]
    starved = [err for proc, (_out, err) in zip(procs, results, strict=True)
               if proc.returncode != 0 and "still conflicting after" in err]
    assert not starved, starved
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    assert len(notes(store_url)) == 600


# ---------------------------------------------------------------- SIGKILL


@pytest.mark.parametrize("run", range(2))
def test_writer_killed_mid_stream_leaves_a_sound_store(store_url: str, run: int) -> None:
    """Writers killed with SIGKILL while the outbox is on: every acknowledged decision is in
    the log and in the outbox exactly once, and the log and the outbox agree (the one in
    flight, if committed, is in both)."""
    start_traject(store_url, outbox=True)
    n_writers = 1 + run
    # endless writers racing at full speed: a retry budget that never runs out, so that
    # only SIGKILL stops them (the default budget is tested above and below)
    procs = [writer(store_url, f"k{n}", -1, "-", {"OUTBOX": "1", "MAX_ATTEMPTS": "100000"})
             for n in range(n_writers)]
    acked: dict[str, list[str]] = {}
    rnd = random.Random(run)
    for n, proc in enumerate(procs):
        assert proc.stdout is not None
        mine = acked.setdefault(f"k{n}", [])
        wanted = rnd.randint(15, 40)
        while len(mine) < wanted:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "writer stopped"
            mine.append(line.split()[1])
    time.sleep(rnd.uniform(0, 0.02))
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    for n, proc in enumerate(procs):
        assert proc.stdout is not None and proc.stderr is not None
        # read on through the same buffered reader (communicate() would skip what it holds)
        rest = proc.stdout.read()
        proc.stderr.read()
        proc.wait(timeout=60)
        proc.stdout.close()
        proc.stderr.close()
        acked[f"k{n}"].extend(line.split()[1] for line in rest.splitlines()
                              if line.startswith("ack "))
        assert proc.returncode == -signal.SIGKILL
    texts = notes(store_url)
    for name, mine in acked.items():
        theirs = [t for t in texts if t.startswith(f"{name}-")]
        assert theirs[: len(mine)] == mine  # every acknowledged event is there, in order
        assert theirs == [f"{name}-{i}" for i in range(len(theirs))]  # none partial or doubled
        assert len(theirs) <= len(mine) + 1  # at most the one in flight, committed unacked
    relayed = outbox_notes(store_url)
    assert [t for _, t in sorted(relayed)] == texts  # the outbox holds exactly the log
    with open_store(store_url) as store:
        versions = [e.version for e in store.history("T-1") if e.event == "notitie"]
    assert sorted(v for v, _ in relayed) == versions
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
    with open_store(path) as store:
        engine = Engine("basis", store=store)
        for t in range(3):
            assert engine.start(f"T-{t}", AANMELDEN, at=T0).accepted
            for i in range(n):
                assert engine.fire(f"T-{t}", "notitie", {"tekst": "x" * 200 + str(i)},
                                   at=T0 + timedelta(days=1)).accepted
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


def read_everything(path: Path) -> None:
    with open_store(path, create=False) as store:
        engine = Engine("basis", store=store)
        for tid in store.ids():
            engine.load(tid)
            report = engine.verify(tid)
            if not report.ok:
                raise StoreCorruptError(f"corrupt: {report.findings}")


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


def test_tampered_entry_is_a_corrupt_store_error(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.db"
    filled_store(path, 5)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE eengezin_events SET entry = '{\"event\": 1' WHERE seq = 3")
    conn.close()
    with open_store(path) as store:
        assert store.load("T-1").version == 6  # the snapshot does not read the log
        with pytest.raises(StoreCorruptError):
            store.history("T-1")
    err = assert_clear_cli_error(capsys, "history", "--store", str(path), "T-1")
    assert "unreadable history entry" in err
    capsys.readouterr()
    assert cli("verify", "--store", str(path)) == 1


def test_missing_history_row_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    filled_store(path, 5)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM eengezin_events WHERE traject_id = 'T-1' AND seq = 3")
    conn.close()
    with open_store(path) as store, pytest.raises(StoreCorruptError, match="entry 3 is missing"):
        store.history("T-1")


def test_store_of_the_previous_schema_is_refused_clearly(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    path = tmp_path / "v1.db"
    open_store(path).close()
    with sqlite3.connect(path) as conn:  # what eengezin 0.1 wrote
        conn.execute("UPDATE eengezin_meta SET value = '1' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(StoreOpenError, match=r"eengezin 0\.1"):
        open_store(path)
    err = assert_clear_cli_error(capsys, "show", "--store", str(path), "T-1")
    assert "schema 1" in err and "import" in err
    with sqlite3.connect(path) as conn:  # nothing was changed
        assert conn.execute("SELECT value FROM eengezin_meta WHERE key = 'schema_version'"
                            ).fetchone() == ("1",)
    conn.close()


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
    """`run --store` reloads and decides again on a conflict: both scenarios end up stored
    (all lines at one moment: a line dated before the other run's would be refused)."""
    start_traject(store_url)
    procs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(
            json.dumps({"event": "notitie", "at": "2026-03-03T09:00:00",
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
        cur.execute("DROP TABLE eengezin_trajecten")
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
