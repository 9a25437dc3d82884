"""Reliability probes: try to lose or corrupt data the way an auditor would, and count.

Run (SQLite always; PostgreSQL when a URL is given; the immediate-stop probe when the
command that controls the server is given):

    export EENGEZIN_TEST_PG=$(bash .ci/postgres.sh | tail -1)          # optional
    .venv/bin/python benchmarks/probes.py [--pg URL] [--pg-ctl "runuser -u postgres --
        /usr/lib/postgresql/15/bin/pg_ctl -D /tmp/eengezin-pg.X/data"] [--quick] [--json]

Prints a Markdown table (probe, tried, survived, lost) and the details; docs/reliability.md
holds the last run. "Survived" means: nothing acknowledged was lost, the store still
verifies, damage was detected (or refused with a typed error) and a refused file was left
unchanged. "Lost" counts the opposite, per case; every lost case is listed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shlex
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eengezin import Engine, load_definition
from eengezin.errors import EengezinError
from eengezin.store import open_store

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
AANMELDEN = {"huishouden": {"leden": [{"id": "m1", "naam": "Sanne Veldhuis", "rol": "ouder",
                                        "geboortedatum": "1988-06-14"}]},
             "vraag": "Schulden en opvoedvragen"}

Row = dict[str, Any]

WRITER = r"""
import sys
from datetime import datetime, timedelta, timezone
from eengezin import Engine
from eengezin.errors import EengezinError
from eengezin.store import open_store
url, worker, count, tid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
t0 = datetime(2026, 1, 6, 9, tzinfo=timezone.utc)
import time
while True:
    try:
        store = open_store(url)
        break
    except EengezinError:
        time.sleep(0.1)
engine = Engine("basis", store=store, max_attempts=400)
for i in range(count):
    key = f"{worker}-{i}"
    while True:
        try:
            out = engine.fire(tid, "notitie", {"tekst": key},
                              at=t0 + timedelta(seconds=worker * 100000 + i),
                              backdated=True, idempotency_key=key)
            break
        except EengezinError:   # a lost connection: retry the same request
            print("retry", flush=True)
            time.sleep(0.05)
    if out.accepted:
        print("ack", key, flush=True)
print("done", flush=True)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1] / "src"),
                                         env.get("PYTHONPATH", "")])
    return env


def _start(url: str, tid: str) -> None:
    with open_store(url) as store:
        engine = Engine("basis", store=store)
        if not store.exists(tid):
            assert engine.start(tid, AANMELDEN, at=T0).accepted


def _check(url: str, tid: str, acked: set[str]) -> tuple[int, list[str]]:
    """(acknowledged events missing, integrity problems)."""
    with open_store(url) as store:
        missing = sum(1 for key in acked if store.applied(tid, key) is None)
        found = store.check_integrity([tid])
        report = Engine(store.definition(store.load(tid).definition), store=store).verify(tid)
        found += [f.detail for f in report.findings if f.kind != "host_predicate"]
    return missing, found


def _writers(url: str, tid: str, workers: int, count: int) -> list[subprocess.Popen[str]]:
    return [subprocess.Popen([sys.executable, "-c", WRITER, url, str(w), str(count), tid],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=_env()) for w in range(workers)]


ERRORS: list[str] = []
RETRIES: list[int] = [0]


def _acks(procs: list[subprocess.Popen[str]]) -> tuple[set[str], int]:
    acked: set[str] = set()
    finished = 0
    for p in procs:
        out, err = p.communicate()
        if "Traceback" in err:
            ERRORS.append(err.strip().splitlines()[-1])
        for line in out.splitlines():
            if line.startswith("ack "):
                acked.add(line[4:])
            elif line == "done":
                finished += 1
            elif line == "retry":
                RETRIES[0] += 1
    return acked, finished


def probe_kill(url: str, rounds: int, label: str) -> Row:
    """Writers killed with SIGKILL at a random moment; every acknowledged event must be
    there afterwards and the store must verify."""
    tried = survived = lost_events = 0
    details: list[str] = []
    acked_total = 0
    for r in range(rounds):
        tid = f"KILL-{r}"
        _start(url, tid)
        procs = _writers(url, tid, 4, 50_000)  # far more than they get done: killed mid-write
        time.sleep(random.uniform(2.5, 4.5))  # the writers need a moment to start
        for p in procs:
            p.send_signal(signal.SIGKILL)
        acked, _ = _acks(procs)
        acked_total += len(acked)
        missing, problems = _check(url, tid, acked)
        tried += 1
        lost_events += missing
        if missing or problems:
            details.append(f"{label} round {r}: {missing} acknowledged events missing, "
                           f"problems: {problems[:3]}")
        else:
            survived += 1
    return {"probe": f"{label}: 4 writers killed with SIGKILL mid-write ({rounds} rounds, "
                     f"{acked_total} acknowledged events)",
            "tried": tried, "survived": survived, "lost": tried - survived, "details": details,
            "lost_events": lost_events}


def probe_pg_immediate_stop(url: str, pg_ctl: str) -> Row:
    """PostgreSQL stopped with ``-m immediate`` while 4 writers append; started again."""
    tid = "STOP"
    _start(url, tid)
    procs = _writers(url, tid, 4, 1000)
    time.sleep(4.0)
    ctl = shlex.split(pg_ctl)
    # start again with the options of the running server (port, listen address, socket dir)
    opts = subprocess.run([*ctl, "status"], capture_output=True, text=True).stdout
    args = opts.split("\n")[-2] if "postgres" in opts else ""
    options = shlex.split(args)[3:] if args.count('"-D"') else []
    subprocess.run([*ctl, "stop", "-m", "immediate"], check=False, capture_output=True)
    time.sleep(1.0)
    subprocess.run([*ctl, "start", "-w", "-t", "120", "-o", " ".join(options), "-l",
                    os.path.join(tempfile.gettempdir(), "eengezin-probe-pg.log")],
                   check=False, capture_output=True)
    ERRORS.clear()
    RETRIES[0] = 0
    acked, finished = _acks(procs)
    for _ in range(120):  # the server may still be recovering
        try:
            open_store(url).close()
            break
        except EengezinError:
            time.sleep(0.5)
    missing, problems = _check(url, tid, acked)
    ok = not missing and not problems and finished == 4
    return {"probe": f"PostgreSQL stopped with -m immediate under 4 writers, restarted "
                     f"({len(acked)} acknowledged events, {RETRIES[0]} requests retried by "
                     "the writers while it was down)",
            "tried": 1, "survived": int(ok), "lost": int(not ok),
            "details": [] if ok else [f"missing {missing}, writers finished {finished}/4, "
                                      f"problems {problems[:3]}, writer errors "
                                      f"{sorted(set(ERRORS))[:3]}"]}


def probe_contention(url: str, workers: int, count: int, label: str) -> Row:
    """``workers`` writers × ``count`` events on one traject: every request succeeds."""
    tid = f"HOT-{workers}x{count}"
    _start(url, tid)
    started = time.perf_counter()
    acked, _finished = _acks(_writers(url, tid, workers, count))
    seconds = time.perf_counter() - started
    missing, problems = _check(url, tid, acked)
    with open_store(url) as store:
        version = store.version(tid)
    ok_events = len(acked)
    tried = workers * count
    details = [] if ok_events == tried and not problems and version == tried + 1 else [
        f"acknowledged {ok_events}/{tried}, version {version}, problems {problems[:3]}"]
    return {"probe": f"{label}: {workers} writer processes × {count} events on one traject "
                     f"({seconds:.0f} s)",
            "tried": tried, "survived": ok_events - missing, "lost": tried - ok_events + missing,
            "details": details}


# ---------------------------------------------------------------- damaged stores


def _fresh(path: Path) -> None:
    with open_store(path) as store:
        engine = Engine("basis", store=store)
        for tid in ("T-1", "T-2"):
            engine.start(tid, AANMELDEN, at=T0)
            engine.fire(tid, "basischeck", {"basiszorg_voldoende": True, "acuut_onveilig": False,
                                            "toelichting": "x"}, at=T0 + timedelta(hours=1))
            engine.fire(tid, "vraag_verhelderen", {}, at=T0 + timedelta(hours=2))


def _sql(*statements: str) -> Callable[[Path], None]:
    def run(path: Path) -> None:
        conn = sqlite3.connect(path)
        with conn:
            for s in statements:
                conn.execute(s)
        conn.close()
    return run


def _edit_entry(field: str, value: Any) -> Callable[[Path], None]:
    def run(path: Path) -> None:
        conn = sqlite3.connect(path)
        with conn:
            text = conn.execute("SELECT entry FROM eengezin_events WHERE traject_id = 'T-1'"
                                " AND seq = 2").fetchone()[0]
            body = json.loads(text)
            if field == "data":
                body["data"]["acuut_onveilig"] = value
            else:
                body[field] = value
            conn.execute("UPDATE eengezin_events SET entry = ? WHERE traject_id = 'T-1'"
                         " AND seq = 2", (json.dumps(body),))
        conn.close()
    return run


def _bytes(change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def run(path: Path) -> None:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        path.write_bytes(change(path.read_bytes()))
    return run


def _flip(data: bytes) -> bytes:
    mid = len(data) // 2
    return data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]


DAMAGE: dict[str, Callable[[Path], None]] = {
    "payload edited": _edit_entry("data", True),
    "actor edited": _edit_entry("actor", {"id": "iemand", "role": None}),
    "moment edited": _edit_entry("at", "2026-01-04T09:00:00+00:00"),
    "last entry deleted, version lowered": _sql(
        "DELETE FROM eengezin_events WHERE traject_id = 'T-1' AND seq = 3",
        "UPDATE eengezin_trajecten SET version = 2,"
        " snapshot = replace(snapshot, '\"version\":3', '\"version\":2') WHERE id = 'T-1'"),
    "whole traject deleted": _sql(*(f"DELETE FROM eengezin_{t} WHERE {c} = 'T-2'" for t, c in (
        ("events", "traject_id"), ("states", "traject_id"), ("state_changes", "traject_id"),
        ("deadlines", "traject_id"), ("keys", "traject_id"), ("trajecten", "id")))),
    "eengezin_states set to gesloten": _sql(
        "UPDATE eengezin_states SET state = 'gesloten' WHERE traject_id = 'T-1'"
        " AND track = 'regie'"),
    "state change removed": _sql("DELETE FROM eengezin_state_changes WHERE seq = 3"),
    "deadline index edited": _sql(
        "INSERT INTO eengezin_deadlines VALUES ('T-1', 'x', '2026-01-05', '2099-01-01')"),
    "snapshot state edited": _sql(
        "UPDATE eengezin_trajecten SET snapshot = replace(snapshot, 'vraagverheldering',"
        " 'voortgang') WHERE id = 'T-1'"),
    "ledger row edited": _sql("UPDATE eengezin_ledger SET at = '2020-01-01' WHERE seq = 1"),
    "ledger row deleted": _sql("DELETE FROM eengezin_ledger WHERE seq = 2"),
    "data key destroyed silently": _sql("UPDATE eengezin_keys SET wrapped = NULL"
                                        " WHERE traject_id = 'T-1'"),
    "ciphertext moved to another traject": _sql(
        "UPDATE eengezin_trajecten SET snapshot = (SELECT snapshot FROM eengezin_trajecten"
        " WHERE id = 'T-2') WHERE id = 'T-1'"),
    "schema version 99": _sql("UPDATE eengezin_meta SET value = '99'"
                              " WHERE key = 'schema_version'"),
    "format marker removed": _sql("DELETE FROM eengezin_meta WHERE key = 'format'"),
    "zero-byte file": lambda p: p.write_bytes(b""),
    "random bytes": lambda p: p.write_bytes(os.urandom(8192)),
    "truncated to half": _bytes(lambda b: b[:len(b) // 2]),
    "one byte flipped mid-file": _bytes(_flip),
    "foreign SQLite database": lambda p: (p.unlink(), _sql("CREATE TABLE t (x)")(p)),
    "key file deleted": lambda p: Path(f"{p}.key").unlink(),
}


def probe_damage() -> Row:
    tried = survived = 0
    details: list[str] = []
    for name, damage in DAMAGE.items():
        tried += 1
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "t.db"
            _fresh(path)
            damage(path)
            before = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
            result = subprocess.run([sys.executable, "-m", "eengezin", "verify", "--store",
                                     str(path)], capture_output=True, text=True, env=_env())
            after = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
            crashed = "Traceback" in result.stderr
            if result.returncode in (1, 2) and not crashed and before == after:
                survived += 1
            else:
                details.append(f"damage '{name}': verify exit {result.returncode}"
                               + (", traceback" if crashed else "")
                               + (", the file was changed" if before != after else ""))
    return {"probe": "damaged SQLite stores: `eengezin verify` detects or refuses, never writes",
            "tried": tried, "survived": survived, "lost": tried - survived, "details": details}


# ---------------------------------------------------------------- hostile input

HOSTILE_DEFINITIONS: dict[str, str] = {
    "5000-digit integer": 'id: x\nversion: "1"\nextends: basis\nparams: {n: ' + "9" * 5000 + "}\n",
    "nesting 2000 deep": 'id: x\nversion: "1"\nparams: ' + "[" * 2000 + "]" * 2000 + "\n",
    "alias bomb": 'id: x\nversion: "1"\nparams:\n  a: &a ["x","x","x","x","x","x","x","x"]\n'
                  + "".join(f"  {chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},"
                            f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
                            for i in range(9)),
    "python tag": 'id: x\nversion: "1"\nparams: !!python/object/apply:os.system ["true"]\n',
    "extends /etc/passwd": 'id: x\nversion: "1"\nextends: /etc/passwd\n',
    "extends ../ path": 'id: x\nversion: "1"\nextends: ../../../../etc/hostname\n',
    "1.9 MB block list": 'id: x\nversion: "1"\nparams:\n  l:\n' + "    - 1\n" * 240_000,
    "invalid UTF-8": "id: x\nversion: \"1\"\ntitle: \"\xff\xfe\"\n",
    "NUL bytes": 'id: x\nversion: "1"\ntitle: "a\x00b"\n',
}


def probe_definitions() -> Row:
    tried = survived = 0
    details: list[str] = []
    code = ("import sys, time\nfrom eengezin import load_definition\n"
            "from eengezin.errors import EengezinError\nt = time.perf_counter()\n"
            "try:\n    load_definition(sys.argv[1]); print('loaded')\n"
            "except EengezinError as exc:\n    print('refused', str(exc)[:400])\n"
            "print(f'{time.perf_counter() - t:.2f}')\n")
    for name, text in HOSTILE_DEFINITIONS.items():
        tried += 1
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "hostile.yaml"
            path.write_bytes(text.encode("utf-8", "surrogateescape")
                             if "\xff" not in text else text.encode("latin-1"))
            try:
                result = subprocess.run([sys.executable, "-c", code, str(path)],
                                        capture_output=True, text=True, env=_env(), timeout=30)
            except subprocess.TimeoutExpired:
                details.append(f"definition '{name}': no answer within 30 s")
                continue
            lines = result.stdout.strip().splitlines()
            seconds = float(lines[-1]) if lines and _is_float(lines[-1]) else -1.0
            leaked = "root:" in result.stdout
            if result.returncode == 0 and not leaked and 0 <= seconds < 2:
                survived += 1
            else:
                why = "traceback" if "Traceback" in result.stderr else f"exit {result.returncode}"
                details.append(f"definition '{name}': {why}, {seconds:.1f} s"
                               + (", echoed another file's content" if leaked else "")
                               + f": {result.stderr.strip().splitlines()[-1:]}")
    return {"probe": "hostile definitions: a typed refusal (or a load) within 2 s, no echo",
            "tried": tried, "survived": survived, "lost": tried - survived, "details": details}


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _deep(n: int) -> Any:
    value: Any = "x"
    for _ in range(n):
        value = [value]
    return value


HOSTILE_EVENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "NaN": ("basischeck", {"basiszorg_voldoende": True, "acuut_onveilig": False,
                           "toelichting": float("nan")}),
    "infinity in an integer field": ("veiligheidsplan_vaststellen", {"veiligheidsplan": {
        "veiligheidsschaal": float("inf"), "veiligheidsafspraken": []}}),
    "lone surrogate": ("notitie", {"tekst": "\ud800"}),
    "undeclared bsn field": ("notitie", {"tekst": "x", "bsn": "123456782"}),
    "nesting 350 deep": ("notitie", {"tekst": "x", "extra": _deep(350)}),
    "nesting 5000 deep": ("notitie", {"tekst": "x", "extra": _deep(5000)}),
    "10 MB text": ("notitie", {"tekst": "x" * 10_000_000}),
    "huge integer": ("notitie", {"tekst": "x", "n": 10 ** 5000}),
    "wrong types": ("basischeck", {"basiszorg_voldoende": "ja", "acuut_onveilig": []}),
}


def probe_events() -> Row:
    tried = survived = 0
    details: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = str(Path(tmp) / "e.db")
        _start(url, "H")
        with open_store(url) as store:
            engine = Engine(load_definition("basis"), store=store)
            cases: list[tuple[str, Callable[[], Any]]] = [
                (name, lambda e=event, d=data: engine.fire(
                    "H", e, d, at=T0 + timedelta(days=1), idempotency_key=None))
                for name, (event, data) in HOSTILE_EVENTS.items()]
            cases += [
                ("moment 9999-12-30", lambda: engine.fire(
                    "H", "notitie", {"tekst": "x"}, at=datetime(9999, 12, 30, tzinfo=UTC))),
                ("start at 9999-12-30", lambda: engine.start(
                    "H2", AANMELDEN, at=datetime(9999, 12, 30, tzinfo=UTC))),
                ("idempotency key reused for another request", lambda: (
                    engine.fire("H", "notitie", {"tekst": "a"}, at=T0 + timedelta(days=2),
                                backdated=True, idempotency_key="k"),
                    engine.fire("H", "notitie", {"tekst": "b"}, at=T0 + timedelta(days=2),
                                backdated=True, idempotency_key="k"))),
            ]
            for name, fire in cases:
                tried += 1
                try:
                    fire()
                    outcome = "handled"
                except EengezinError:
                    outcome = "typed error"
                except BaseException as exc:  # what the probe looks for
                    outcome = f"untyped {type(exc).__name__}"
                problems = store.check_integrity()
                if name == "idempotency key reused for another request":
                    typed = outcome == "typed error"
                else:
                    typed = not outcome.startswith("untyped")
                if typed and not problems:
                    survived += 1
                else:
                    details.append(f"event '{name}': {outcome}; store problems {problems[:2]}")
    return {"probe": "hostile events through the Engine into a store: typed errors, the store "
                     "still verifies", "tried": tried, "survived": survived,
            "lost": tried - survived, "details": details}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("EENGEZIN_TEST_PG"))
    parser.add_argument("--pg-ctl", help="command prefix that controls the server (pg_ctl -D …)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only-stop", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    random.seed(13)
    rows: list[Row] = []
    rounds = 2 if args.quick else 6
    if args.only_stop and args.pg and args.pg_ctl:
        rows.append(probe_pg_immediate_stop(args.pg, args.pg_ctl))
        print(json.dumps(rows, indent=1))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(probe_kill(str(Path(tmp) / "kill.db"), rounds, "SQLite"))
        rows.append(probe_contention(str(Path(tmp) / "hot.db"), 8, 25 if args.quick else 200,
                                    "SQLite"))
    if args.pg:
        from eengezin.store.postgres import PostgresStore

        with PostgresStore(args.pg) as pg:
            pg.drop_all()
        rows.append(probe_kill(args.pg, rounds, "PostgreSQL"))
        rows.append(probe_contention(args.pg, 8, 25 if args.quick else 200, "PostgreSQL"))
        if args.pg_ctl:
            rows.append(probe_pg_immediate_stop(args.pg, args.pg_ctl))
    rows.append(probe_damage())
    rows.append(probe_definitions())
    rows.append(probe_events())
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print("| probe | tried | survived | lost |\n|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['probe']} | {r['tried']} | {r['survived']} | {r['lost']} |")
    for r in rows:
        for d in r["details"]:
            print(f"- {d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
