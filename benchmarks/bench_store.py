"""Storage benchmark through the Engine: durable fires, fire() and load at a short and a long
history, concurrent writer processes (on one traject and on their own), and the
overdue-deadline query.

Run (SQLite always; PostgreSQL when a URL is given or EENGEZIN_TEST_PG is set):

    export EENGEZIN_TEST_PG=$(bash .ci/postgres.sh | tail -1)   # optional
    .venv/bin/python benchmarks/bench_store.py [--pg URL] [--trajecten 100000] [--json]
    .venv/bin/python benchmarks/bench_store.py --quick          # a small run, seconds

It only reports; nothing asserts a time (the writer processes do check that no event was
lost or failed). Figures go into docs/performance.md ("Storage"), with the load average
printed beside them (``os.getloadavg()``, before and after each part).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from eengezin import Definition, Engine, Event, HistoryEntry, load_definition, new_traject, step
from eengezin.store import SQLStore, open_store
from eengezin.store.testing import postgres_schema
from eengezin.traject import Traject

ROOT = Path(__file__).resolve().parents[1]
TERMIJNEN = ROOT / "tests" / "data" / "store" / "termijnen.yaml"
AANMELDEN = {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}, {"id": "k1", "rol": "kind"}]},
             "vraag": "Schulden en opvoedvragen"}
AMS = ZoneInfo("Europe/Amsterdam")
T0 = datetime(2026, 1, 5, 9, tzinfo=AMS)
LATER = T0 + timedelta(days=3650)  # after any benchmark history: never refused as too early

WRITER = r"""
import json, os, sys, time
from datetime import datetime
from zoneinfo import ZoneInfo
from eengezin import ConflictError, Engine
from eengezin.store import open_store

url, tid, name, count, go = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
engine = Engine("basis", store=open_store(url))
at = datetime(2036, 1, 1, 9, tzinfo=ZoneInfo("Europe/Amsterdam"))
if tid == "-":
    tid = f"own-{name}"
    engine.start(tid, {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]}, "vraag": "x"},
                 at=at)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
accepted = refused = failed = attempts = 0
start = time.perf_counter()
for i in range(count):
    try:
        out = engine.fire(tid, "notitie", {"tekst": f"{name}-{i}"}, at=at)
    except ConflictError:
        failed += 1
        continue
    attempts += out.attempts
    if out.accepted:
        accepted += 1
    else:
        refused += 1
print(json.dumps({"accepted": accepted, "refused": refused, "failed": failed,
                  "attempts": attempts, "seconds": time.perf_counter() - start}), flush=True)
"""


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 3)


def decided(definition: Definition, tid: str, notes: int) -> tuple[Traject, list[HistoryEntry]]:
    """A traject after aanmelden and ``notes`` notes, with its log (decided in memory)."""
    traject = new_traject(definition, tid)
    log: list[HistoryEntry] = []
    for i in range(notes + 1):
        ev = Event("aanmelden", T0, AANMELDEN) if i == 0 else \
            Event("notitie", T0 + timedelta(seconds=i), {"tekst": f"notitie {i}"})
        out = step(definition, traject, ev)
        assert out.accepted and out.entry is not None
        traject = out.traject
        log.append(out.entry)
    return traject, log


def bench_fires(store: SQLStore, definition: Definition, n: int) -> dict[str, float]:
    """Sequential durable fires through the Engine (load, decide, one transaction each)."""
    engine = Engine(definition, store=store)
    engine.start("fire-bench", AANMELDEN, at=T0)
    start = time.perf_counter()
    for i in range(n):
        out = engine.fire("fire-bench", "notitie", {"tekst": f"n{i}"}, at=T0 + timedelta(seconds=i))
        assert out.accepted
    elapsed = time.perf_counter() - start
    return {"fires": n, "seconds": round(elapsed, 3), "per_second": round(n / elapsed, 1)}


def bench_history(store: SQLStore, definition: Definition, long: int, repeat: int
                  ) -> dict[str, Any]:
    """fire() and load at 10 events of history against ``long`` events (alternating)."""
    engine = Engine(definition, store=store)
    sizes = {"short": 10, "long": long}
    for label, size in sizes.items():
        store.import_trajecten(definition, [decided(definition, f"hist-{label}", size - 1)])
        assert store.version(f"hist-{label}") == size
    fire: dict[str, list[float]] = {k: [] for k in sizes}
    load: dict[str, list[float]] = {k: [] for k in sizes}
    for i in range(repeat):  # alternate, so drift in the machine's load hits both alike
        for label in sizes:
            tid = f"hist-{label}"
            fire[label].extend(timed(lambda t=tid, i=i: engine.fire(
                t, "notitie", {"tekst": f"b{i}"}, at=LATER), 1))
            load[label].extend(timed(lambda t=tid: engine.load(t), 1))
    return {
        "events": sizes,
        "fire_ms": {k: ms(v) for k, v in fire.items()},
        "fire_ratio": round(statistics.median(fire["long"]) / statistics.median(fire["short"]), 2),
        "load_ms": {k: ms(v) for k, v in load.items()},
        "history_page_ms": ms(timed(lambda: engine.history("hist-long", start=long - 100,
                                                           limit=100), 5)),
    }


def run_writers(url: str, traject: str, procs: int, per_proc: int) -> dict[str, Any]:
    """``procs`` writer processes, ``per_proc`` events each, released together; ``traject``
    is one shared traject id, or ``-`` for a traject of each writer's own."""
    with tempfile.TemporaryDirectory() as tmp:
        go = Path(tmp) / "go"
        running = [subprocess.Popen([sys.executable, "-c", WRITER, url, traject, f"w{k}",
                                     str(per_proc), str(go)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for k in range(procs)]
        for p in running:
            assert p.stdout is not None
            line = p.stdout.readline()
            if line.strip() != "ready":
                raise SystemExit(f"writer did not start: {line}{p.stderr.read() if p.stderr else ''}")
        load_before = load_avg()
        start = time.perf_counter()
        go.touch()
        results = []
        for p in running:
            out, err = p.communicate(timeout=3600)
            if p.returncode != 0:
                raise SystemExit(f"writer died ({p.returncode}): {err}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        elapsed = time.perf_counter() - start
    accepted = sum(r["accepted"] for r in results)
    return {
        "processes": procs, "per_process": per_proc, "accepted": accepted,
        "refused": sum(r["refused"] for r in results),
        "failed": sum(r["failed"] for r in results),
        "attempts_per_event": round(sum(r["attempts"] for r in results) / max(accepted, 1), 2),
        "seconds": round(elapsed, 2), "events_per_second": round(accepted / elapsed, 1),
        "loadavg_before": load_before, "loadavg_after": load_avg(),
    }


def bench_concurrent(url: str, procs: int, per_proc: int) -> dict[str, Any]:
    """Writers on one traject (none lost, none failed) and writers on their own trajecten."""
    with open_store(url) as store:
        Engine("basis", store=store).start("shared", AANMELDEN, at=T0)
    shared = run_writers(url, "shared", procs, per_proc)
    with open_store(url) as store:
        stored = (store.version("shared") or 0) - 1
        texts = [e.data.get("tekst") for e in store.iter_history("shared") if e.event == "notitie"]
    shared["stored"] = stored
    shared["lost"] = procs * per_proc - stored
    shared["duplicated"] = len(texts) - len(set(texts))
    own = run_writers(url, "-", procs, per_proc)
    with open_store(url) as store:
        own["stored"] = sum((store.version(f"own-w{k}") or 1) - 1 for k in range(procs))
    own["lost"] = procs * per_proc - own["stored"]
    return {"one_traject": shared, "own_trajecten": own}


def many(definition: Definition, count: int) -> Iterator[tuple[Traject, list[HistoryEntry]]]:
    """``count`` trajecten registered over two years, each with a 5-werkdagen deadline."""
    for i in range(count):
        at = T0 + timedelta(minutes=i * 104 * 7 * 24 * 60 / count)
        out = step(definition, new_traject(definition, f"T-{i:06d}"),
                   Event("aanmelden", at, AANMELDEN))
        assert out.entry is not None
        yield out.traject, [out.entry]


def bench_overdue(store: SQLStore, definition: Definition, count: int) -> dict[str, Any]:
    """Overdue-deadline queries over ``count`` stored trajecten."""
    start = time.perf_counter()
    store.import_trajecten(definition, many(definition, count), batch=5000)
    fill = time.perf_counter() - start
    due = sorted(d.due for d in store.open_deadlines())
    assert len(due) == count
    moment_1pct = due[count // 100]
    moment_10pct = due[count // 10]
    result: dict[str, Any] = {"trajecten": count, "fill_seconds": round(fill, 1)}
    for label, moment, limit in (("first_100_overdue", date(2099, 1, 1), 100),
                                 ("overdue_1pct", moment_1pct, None),
                                 ("overdue_10pct", moment_10pct, None)):
        rows = store.overdue(moment, limit=limit)
        times = timed(lambda m=moment, lim=limit: store.overdue(m, limit=lim), 9)
        result[label] = {"rows": len(rows), "ms_median": round(statistics.median(times) * 1000, 2),
                         "ms_max": round(max(times) * 1000, 2)}
    return result


def part(name: str, what: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    print(f"[{name}] {what} … (load average {load_avg()})", file=sys.stderr)
    result = fn()
    result.setdefault("loadavg_after", load_avg())
    return result


def run_backend(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    basis = load_definition("basis")
    termijnen = load_definition(TERMIJNEN)
    out: dict[str, Any] = {"backend": name, "loadavg_start": load_avg()}
    with open_store(url) as store:
        out["fires"] = part(name, f"{args.appends} durable fires",
                            lambda: bench_fires(store, basis, args.appends))
        out["history"] = part(name, f"fire() and load at 10 vs {args.history:,} events",
                              lambda: bench_history(store, basis, args.history, args.repeat))
    out["concurrent"] = part(name, f"{args.procs} processes x {args.per_proc} events",
                             lambda: bench_concurrent(url, args.procs, args.per_proc))
    with open_store(url) as store:
        out["overdue"] = part(name, f"{args.trajecten:,} trajecten + overdue query",
                              lambda: bench_overdue(store, termijnen, args.trajecten))
        if name == "sqlite":
            with store._transaction(write=False) as cur:  # show that the index is used
                cur.execute("EXPLAIN QUERY PLAN SELECT traject_id, deadline_id, started, due FROM"
                            " eengezin_deadlines WHERE due < ? ORDER BY due", ("2027-01-01",))
                out["overdue"]["plan"] = " / ".join(str(r[-1]) for r in cur.fetchall())
    return out


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def print_table(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print("| backend | durable fires/s | fire() at 10 / "
          f"{args.history:,} events | ratio | load at 10 / {args.history:,} events | "
          f"last 100 of the log | load average |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        h = r["history"]
        print(f"| {r['backend']} | {r['fires']['per_second']:,.0f} | "
              f"{h['fire_ms']['short']} / {h['fire_ms']['long']} ms | {h['fire_ratio']}x | "
              f"{h['load_ms']['short']} / {h['load_ms']['long']} ms | {h['history_page_ms']} ms | "
              f"{r['history']['loadavg_after']} |")
    print()
    print("| backend | writers | events | accepted | lost | failed | refused | attempts/event"
          " | events/s | load average before → after |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for label, c in (("one traject", r["concurrent"]["one_traject"]),
                         ("own trajecten", r["concurrent"]["own_trajecten"])):
            print(f"| {r['backend']} | {c['processes']} on {label} | "
                  f"{c['processes'] * c['per_process']:,} | {c['accepted']:,} | {c['lost']} | "
                  f"{c['failed']} | {c['refused']} | {c['attempts_per_event']} | "
                  f"{c['events_per_second']:,.0f} | {c['loadavg_before']} → "
                  f"{c['loadavg_after']} |")
    print()
    print(f"| backend | first 100 overdue | overdue ~1% | overdue ~10% of {args.trajecten:,} |")
    print("|---|---|---|---|")
    for r in results:
        o = r["overdue"]
        print(f"| {r['backend']} | {o['first_100_overdue']['ms_median']} ms | "
              f"{o['overdue_1pct']['ms_median']} ms ({o['overdue_1pct']['rows']:,} rows) | "
              f"{o['overdue_10pct']['ms_median']} ms ({o['overdue_10pct']['rows']:,} rows) |")
        if "plan" in o:
            print(f"  sqlite plan: {o['plan']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pg", default=os.environ.get("EENGEZIN_TEST_PG"),
                        help="PostgreSQL URL (default: $EENGEZIN_TEST_PG)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--trajecten", type=int, default=100_000,
                        help="trajecten for the overdue query (default 100,000)")
    parser.add_argument("--appends", type=int, default=500, help="sequential durable fires")
    parser.add_argument("--history", type=int, default=10_000,
                        help="events of the long history (default 10,000)")
    parser.add_argument("--repeat", type=int, default=21, help="fires/loads per history length")
    parser.add_argument("--procs", type=int, default=4, help="writer processes")
    parser.add_argument("--per-proc", type=int, default=500, help="events per writer process")
    parser.add_argument("--quick", action="store_true",
                        help="a small run (100 fires, 1,000 events, 4 x 50, 2,000 trajecten)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.appends, args.history, args.repeat = 100, 1000, 7
        args.per_proc, args.trajecten = 50, 2000
    results: list[dict[str, Any]] = []
    with sqlite_url() as url:
        results.append(run_backend("sqlite", url, args))
    if args.pg and not args.no_pg:
        with postgres_schema(args.pg) as url:
            results.append(run_backend("postgresql", url, args))
    else:
        print("(no PostgreSQL URL: set EENGEZIN_TEST_PG or pass --pg)", file=sys.stderr)
    meta = {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "date": date.today().isoformat(), "loadavg_end": load_avg()}
    if args.json:
        print(json.dumps({"meta": meta, "results": results}, indent=2))
        return 0
    print(f"Python {meta['python']} on {meta['machine']}, {meta['cpus']} CPUs, "
          f"load average at the end {meta['loadavg_end']}")
    print_table(results, args)
    problems = [f"{r['backend']}: {label}: {c['lost']} lost, {c['failed']} failed, "
                f"{c['refused']} refused"
                for r in results for label, c in r["concurrent"].items()
                if isinstance(c, dict)
                and (c["lost"] or c["failed"] or c["refused"] or c.get("duplicated"))]
    for p in problems:
        print(f"PROBLEM {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
