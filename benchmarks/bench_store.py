"""Storage benchmark: durable appends, loading a long history, the overdue-deadline query.

Run (SQLite always; PostgreSQL when a URL is given or EENGEZIN_TEST_PG is set):

    export EENGEZIN_TEST_PG=$(bash .ci/postgres.sh | tail -1)   # optional
    .venv/bin/python benchmarks/bench_store.py [--pg URL] [--trajecten 100000] [--json]

It only reports; nothing asserts a time. Figures go into docs/performance.md ("Storage").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from eengezin import Definition, Event, load_definition, new_traject, step
from eengezin.store import SQLStore, open_store
from eengezin.store.testing import postgres_schema
from eengezin.traject import Traject

ROOT = Path(__file__).resolve().parents[1]
TERMIJNEN = ROOT / "tests" / "data" / "store" / "termijnen.yaml"
AANMELDEN = {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}, {"id": "k1", "rol": "kind"}]},
             "vraag": "Schulden en opvoedvragen"}
T0 = datetime(2026, 1, 5, 9)


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def chain(definition: Definition, tid: str, notes: int) -> list[Traject]:
    """The traject after aanmelden and after each of ``notes`` notes (decided in memory)."""
    traject = step(definition, new_traject(definition, tid), Event("aanmelden", T0, AANMELDEN)
                   ).traject
    out = [traject]
    for i in range(notes):
        traject = step(definition, traject, Event("notitie", T0 + timedelta(minutes=i + 1),
                                                   {"tekst": f"notitie {i}"})).traject
        out.append(traject)
    return out


def bench_appends(store: SQLStore, definition: Definition, n: int) -> dict[str, float]:
    """Sequential durable appends of one event each (one transaction, one commit each)."""
    steps = chain(definition, "append-bench", n)
    start = time.perf_counter()
    for i, traject in enumerate(steps):
        store.append(definition, traject, expected_version=i)
    elapsed = time.perf_counter() - start
    return {"appends": len(steps), "seconds": round(elapsed, 3),
            "per_second": round(len(steps) / elapsed, 1)}


def bench_load(store: SQLStore, definition: Definition, events: int) -> dict[str, float]:
    """Load and full rebuild of a traject with ``events`` history entries."""
    steps = chain(definition, "load-bench", events - 1)
    store.import_trajecten(definition, [steps[-1]])
    assert store.load("load-bench", definition) == steps[-1]
    load = timed(lambda: store.load("load-bench", definition), 7)
    rebuild = timed(lambda: store.rebuild("load-bench"), 3)
    # worst case between snapshots: the last snapshot is snapshot_every - 1 entries back
    tail = store.snapshot_every - 1
    worst = chain(definition, "load-bench-tail", events - 1)
    store.import_trajecten(definition, [worst[events - 1 - tail]])
    for i in range(events - tail, events):
        store.append(definition, worst[i], expected_version=i)
    assert store.load("load-bench-tail", definition) == worst[-1]
    load_tail = timed(lambda: store.load("load-bench-tail", definition), 7)
    return {"events": events, "load_ms_median": round(statistics.median(load) * 1000, 1),
            "tail": tail, "load_tail_ms_median": round(statistics.median(load_tail) * 1000, 1),
            "rebuild_ms_median": round(statistics.median(rebuild) * 1000, 1)}


def many(definition: Definition, count: int) -> Iterator[Traject]:
    """``count`` trajecten registered over two years, each with a 5-werkdagen deadline."""
    for i in range(count):
        at = T0 + timedelta(minutes=i * 104 * 7 * 24 * 60 / count)
        yield step(definition, new_traject(definition, f"T-{i:06d}"),
                   Event("aanmelden", at, AANMELDEN)).traject


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


def run_backend(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    basis = load_definition("basis")
    termijnen = load_definition(TERMIJNEN)
    with open_store(url) as store:
        out: dict[str, Any] = {"backend": name}
        print(f"[{name}] appends …", file=sys.stderr)
        out["appends"] = bench_appends(store, basis, args.appends)
        print(f"[{name}] load 1,000-event history …", file=sys.stderr)
        out["load"] = bench_load(store, basis, 1000)
        print(f"[{name}] {args.trajecten:,} trajecten + overdue query …", file=sys.stderr)
        out["overdue"] = bench_overdue(store, termijnen, args.trajecten)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pg", default=os.environ.get("EENGEZIN_TEST_PG"),
                        help="PostgreSQL URL (default: $EENGEZIN_TEST_PG)")
    parser.add_argument("--trajecten", type=int, default=100_000)
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    with sqlite_url() as url:
        results.append(run_backend("sqlite", url, args))
    if args.pg:
        with postgres_schema(args.pg) as url:
            results.append(run_backend("postgresql", url, args))
    else:
        print("(no PostgreSQL URL: set EENGEZIN_TEST_PG or pass --pg)", file=sys.stderr)
    meta = {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "date": date.today().isoformat()}
    if args.json:
        print(json.dumps({"meta": meta, "results": results}, indent=2))
        return 0
    print(f"Python {meta['python']} on {meta['machine']}, {meta['cpus']} CPUs")
    print("| backend | durable appends/s | load 1,000 events (snapshot at 1,000) | "
          "load 1,000 events (snapshot + 99 replayed) | full replay | "
          f"first 100 overdue | overdue ~1% | overdue ~10% of {args.trajecten:,} |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        o = r["overdue"]
        print(f"| {r['backend']} | {r['appends']['per_second']:,.0f} | "
              f"{r['load']['load_ms_median']} ms | {r['load']['load_tail_ms_median']} ms | "
              f"{r['load']['rebuild_ms_median']} ms | "
              f"{o['first_100_overdue']['ms_median']} ms | "
              f"{o['overdue_1pct']['ms_median']} ms ({o['overdue_1pct']['rows']:,} rows) | "
              f"{o['overdue_10pct']['ms_median']} ms ({o['overdue_10pct']['rows']:,} rows) |")
        if "plan" in o:
            print(f"  sqlite plan: {o['plan']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
