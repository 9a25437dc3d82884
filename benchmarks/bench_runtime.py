"""Benchmark: the runtime around the core (issue 9's figures). Reports only; asserts nothing.

    .venv/bin/python benchmarks/bench_runtime.py            # all sections
    .venv/bin/python benchmarks/bench_runtime.py --quick    # smaller sizes (a smoke run)

Sections:

1. **Step cost by history length**: the CPU time of one accepted ``notitie`` on a traject
   that already has 10, 1,000, 10,000 and 100,000 accepted events (the snapshot carries no
   history, so it should be flat).
2. **``eengezin run basis`` on a 25k-event scenario** against the same replay hand-built on
   ``transitions`` (read the JSONL, parse each line and its moment, fire the trigger on the
   statechart of ``bench_engine.py``: both tracks as parallel regions, a guard on every move),
   and against transitions deciding the same events with the same rules (the reference of
   ``eengezin.testing.reference``: transitions' statechart, the core's rules), alternating,
   median of 3, wall clock and CPU time of the child process.
3. **Start-up**: ``eengezin --help`` and ``eengezin list`` against ``python -c pass``, with a
   cold and a warm definition cache, median of 5.
4. **Creating 100,000 trajecten** (``step`` of ``aanmelden``, kept alive): CPU time at
   10k/50k/100k and the time the garbage collector took, in a fresh process each.

Every figure is printed with the machine's load average: compare figures of one run only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
EENGEZIN = str(Path(PY).with_name("eengezin"))
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUSEHOLD = {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}, {"id": "k1", "rol": "kind"}]},
             "vraag": "hulp bij schulden"}


def load() -> str:
    a, b, c = os.getloadavg()
    return f"load {a:.2f} {b:.2f} {c:.2f}"


# ---------------------------------------------------------------- 1. step by history length


def step_by_history(sizes: list[int]) -> None:
    from eengezin import Event, load_definition, new_traject, step

    basis = load_definition("basis")
    print(f"\n1. one accepted event on a traject with N events of history ({load()})")
    print(f"   {'N':>8}  {'µs per step (best of 5 × 2,000)':>34}  {'snapshot bytes':>14}")
    base: float | None = None
    for size in sizes:
        traject = step(basis, new_traject(basis, "T"), Event("aanmelden", AT, HOUSEHOLD)).traject
        moment = AT
        for i in range(size - 1):
            moment = AT + timedelta(seconds=i)
            traject = step(basis, traject, Event("notitie", moment, {"tekst": "n"})).traject
        assert traject.version == size
        event = Event("notitie", moment + timedelta(seconds=1), {"tekst": "meting"})
        best = float("inf")
        for _ in range(5):
            start = time.process_time()
            for _ in range(2000):
                step(basis, traject, event)
            best = min(best, (time.process_time() - start) / 2000)
        from eengezin.serialization import traject_to_json

        base = base or best
        print(f"   {size:>8,}  {best * 1e6:>25.1f} ({best / base:4.2f}×)  "
              f"{len(traject_to_json(traject)):>14,}")


# ---------------------------------------------------------------- 2. run vs transitions


def scenario(path: Path, events: int) -> None:
    lines = [{"event": "aanmelden", "at": "2026-03-02T09:00:00+01:00", "data": HOUSEHOLD},
             {"event": "vraag_verhelderen"},
             {"event": "regie_starten", "data": {"regisseur": {"id": "r1", "naam": "Rita",
                                                               "soort": "professional"}}},
             {"event": "overleg_voorbereid"}]
    i = 0
    while len(lines) < events:
        i += 1
        lines.append({"event": "notitie", "at": f"2026-03-03T09:{i % 60:02d}:00+01:00",
                      "data": {"tekst": f"gesprek {i}"}})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


TRANSITIONS_REPLAY = r'''
import json, sys
from datetime import datetime
sys.path.insert(0, sys.argv[2])
from bench_engine import Case, hsm          # the statechart of benchmarks/bench_engine.py:
from eengezin import load_definition       # both tracks as parallel regions, a guard per move
basis = load_definition("basis")
machine = hsm(basis)
regie = basis.tracks["regie"]
for leaf in sorted(regie.leaves - regie.finals):  # events that stay in place, as in eengezin
    for trigger in ("notitie", "aanmelden", "basischeck"):
        machine.add_transition(trigger, f"t.regie.{leaf}", None, conditions="guard")
model = Case()
machine.add_model(model)
at = None
for number, line in enumerate(open(sys.argv[1], encoding="utf-8"), start=1):
    obj = json.loads(line)
    if "at" in obj:
        at = datetime.fromisoformat(obj["at"])
    try:
        model.trigger(obj["event"], data=obj.get("data", {}), at=at)
    except Exception:
        pass  # a trigger the state does not allow: refused, the replay goes on
print(json.dumps({"state": model.state, "lines": number}))
'''


RULES_REPLAY = r'''
import json, sys
from datetime import datetime
import attrs
from eengezin import Event, load_definition, new_traject
from eengezin.testing.reference import reference_next_state
basis = load_definition("basis")
traject = new_traject(basis, "T")
at = None
for number, line in enumerate(open(sys.argv[1], encoding="utf-8"), start=1):
    obj = json.loads(line)
    if "at" in obj:
        at = datetime.fromisoformat(obj["at"])
    event = Event(obj["event"], at, obj.get("data", {}))
    out = reference_next_state(basis, traject, event)
    if out.accepted:
        traject = attrs.evolve(traject, state=out.state, facts=out.facts,
                               version=traject.version + 1, seen=traject.seen | {event.name},
                               last_at=at)
print(json.dumps({"state": dict(traject.state), "lines": number}))
'''


def run_against_transitions(events: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.jsonl"
        scenario(path, events)
        script = Path(tmp) / "replay.py"
        script.write_text(TRANSITIONS_REPLAY, encoding="utf-8")
        rules_script = Path(tmp) / "rules_replay.py"
        rules_script.write_text(RULES_REPLAY, encoding="utf-8")
        rules: list[float] = []
        rules_cpu: list[float] = []
        ours: list[float] = []
        theirs: list[float] = []
        ours_cpu: list[float] = []
        theirs_cpu: list[float] = []
        subprocess.run([EENGEZIN, "run", "basis", "--events", str(path), "--json"],
                       check=True, capture_output=True)  # warm the definition cache
        for _ in range(3):
            cpu = _child_cpu()
            start = time.perf_counter()
            subprocess.run([EENGEZIN, "run", "basis", "--events", str(path), "--json"],
                           check=True, capture_output=True)
            ours.append(time.perf_counter() - start)
            ours_cpu.append(_child_cpu() - cpu)
            cpu = _child_cpu()
            start = time.perf_counter()
            subprocess.run([PY, str(script), str(path), str(ROOT / "benchmarks")], check=True,
                           capture_output=True)
            theirs.append(time.perf_counter() - start)
            theirs_cpu.append(_child_cpu() - cpu)
            cpu = _child_cpu()
            start = time.perf_counter()
            subprocess.run([PY, str(rules_script), str(path)], check=True, capture_output=True)
            rules.append(time.perf_counter() - start)
            rules_cpu.append(_child_cpu() - cpu)
    a, b = statistics.median(ours), statistics.median(theirs)
    ac, bc = statistics.median(ours_cpu), statistics.median(theirs_cpu)
    r, rc = statistics.median(rules), statistics.median(rules_cpu)
    print(f"\n2. a {events:,}-event scenario, whole command, median of 3 alternating ({load()})")
    print(f"   eengezin run basis --json : {a:6.2f} s wall, {ac:5.2f} s CPU")
    print(f"   transitions replay        : {b:6.2f} s wall, {bc:5.2f} s CPU")
    print(f"   ratio                     : {a / b:6.2f}× wall, {ac / bc:4.2f}× CPU  (goal ≤ 0.4×)")
    print(f"   transitions deciding the same rules (eengezin.testing.reference): {r:6.2f} s wall, "
          f"{rc:5.2f} s CPU; ratio {a / r:4.2f}× wall, {ac / rc:4.2f}× CPU")


def _child_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- 3. start-up


def timed(cmd: list[str], env: dict[str, str]) -> float:
    """CPU time of the command (user + system): steady on a busy machine, unlike wall time."""
    start = _child_cpu()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return _child_cpu() - start


def startup() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "EENGEZIN_CACHE_DIR": cache}
        base = statistics.median(timed([PY, "-c", "pass"], env) for _ in range(5))
        rows = []
        for label, cmd in (("eengezin --help", [EENGEZIN, "--help"]),
                           ("eengezin list", [EENGEZIN, "list"])):
            cold = []
            for _ in range(3):
                for entry in Path(cache).rglob("*"):
                    if entry.is_file():
                        entry.unlink()
                cold.append(timed(cmd, env))
            warm = [timed(cmd, env) for _ in range(5)]
            rows.append((label, statistics.median(cold), statistics.median(warm)))
    print(f"\n3. start-up, median CPU time ({load()}); python -c pass = {base * 1000:.0f} ms")
    for label, cold_s, warm_s in rows:
        print(f"   {label:<16} cold cache {cold_s * 1000:5.0f} ms (+{(cold_s - base) * 1000:4.0f})"
              f"   warm cache {warm_s * 1000:5.0f} ms (+{(warm_s - base) * 1000:4.0f})  "
              "(goal ≤ +150 ms)")


# ---------------------------------------------------------------- 4. many trajecten

CREATE = r'''
import gc, json, sys, time
from datetime import datetime, timezone
from eengezin import Event, load_definition, new_traject, step
basis = load_definition("basis")
n = int(sys.argv[1])
gc_time = 0.0
started = {}
def on_gc(phase, info):
    global gc_time
    if phase == "start":
        started["t"] = time.process_time()
    else:
        gc_time += time.process_time() - started.pop("t", time.process_time())
gc.callbacks.append(on_gc)
at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
keep = []
cpu = time.process_time()
for i in range(n):
    data = {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}, {"id": "k1", "rol": "kind"}]},
            "vraag": "hulp"}
    keep.append(step(basis, new_traject(basis, f"T-{i}"), Event("aanmelden", at, data)).traject)
cpu = time.process_time() - cpu
print(json.dumps({"cpu": cpu, "gc": gc_time}))
'''


def many(sizes: list[int]) -> None:
    print(f"\n4. trajecten created with aanmelden, kept alive, fresh process each ({load()})")
    for size in sizes:
        out = subprocess.run([PY, "-c", CREATE, str(size)], check=True, capture_output=True,
                             text=True)
        figures = json.loads(out.stdout)
        print(f"   {size:>8,}: {figures['cpu']:5.2f} s CPU  ({figures['cpu'] / size * 1e6:5.1f} µs "
              f"each), of which garbage collection {figures['gc']:4.2f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args(argv)
    print(f"eengezin runtime benchmark, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"{load()}")
    if args.quick:
        step_by_history([10, 1000])
        run_against_transitions(2000)
        startup()
        many([2000])
        return
    step_by_history([10, 1000, 10_000, 100_000])
    run_against_transitions(25_000)
    startup()
    many([10_000, 50_000, 100_000])


if __name__ == "__main__":
    main()
