"""Benchmark: eengezin's pure ``step`` against transitions and a raw dict-table FSM.

Not a test: it measures and prints a table (figures and targets: docs/performance.md).

    .venv/bin/python benchmarks/bench_engine.py            # about a minute
    .venv/bin/python benchmarks/bench_engine.py --quick    # smaller counts, for a smoke run
    .venv/bin/python benchmarks/bench_engine.py --full     # also 100,000 transitions models (slow)

What is compared, on the states of the bundled ``basis`` definition:

* **eengezin** — ``step(definition, traject, event)`` on a frozen traject: payload
  check, every rule, records, moves, history entry, new snapshot.
* **transitions HSM** — one shared ``HierarchicalMachine`` with the same nested states
  and both tracks as parallel regions, a guard (condition) on each transition, models
  registered in it (transitions' own way). Separator ``.`` as in eengezin.
* **transitions Machine** — a flat ``Machine`` over the leaves of the ``regie`` track.
* **dict FSM** — ``table[(state, event)] -> (guard, target)`` and a dict per traject:
  the floor of what Python can do.

Timings are CPU time of this process (``time.process_time``), the best of several
repeats, taken without tracemalloc: on a shared machine, CPU time is far less
disturbed by other processes than wall-clock time. Memory is measured separately
with tracemalloc (bytes still allocated while the objects are alive).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import transitions
from transitions import Machine

from eengezin import Event, Traject, load_definition, new_traject, step
from eengezin.process.model import Definition
from eengezin.process.statechart import DottedMachine

AT = datetime(2026, 3, 2, 9, 0)
CLOCK = time.process_time
REGISSEUR = {"id": "r1", "naam": "Rita", "soort": "professional", "organisatie": "Sociaal team"}
PLAN = {"doelen": [{"omschrijving": "Overzicht over geldzaken",
                    "acties": [{"wie": "schuldhulp", "wat": "budgetplan", "wanneer": "april"}]}]}
TOESTEMMING = {"id": "t1", "van": ["m1"], "over": "m1", "doel": "overleg",
               "informatie": "gezinssituatie", "met": ["b1"], "vorm": "schriftelijk",
               "onderwerp": "overleg"}


def aanmelden_payload(i: int) -> dict[str, Any]:
    """A fresh two-member household, as a host would decode it from a request."""
    return {
        "huishouden": {"leden": [
            {"id": f"m{i}", "naam": "Sanne", "geboortedatum": "1988-06-14", "rol": "ouder"},
            {"id": f"k{i}", "naam": "Daan", "geboortedatum": "2015-09-01", "rol": "kind"},
        ]},
        "vraag": "Schulden en opvoedvragen",
    }


# The 13-event happy path: aanmelding -> … -> gesloten, no warnings.
WALK: list[tuple[str, dict[str, Any]]] = [
    ("aanmelden", aanmelden_payload(0)),
    ("basischeck", {"basiszorg_voldoende": True, "acuut_onveilig": False}),
    ("vraag_verhelderen", {}),
    ("regie_starten", {"regisseur": REGISSEUR}),
    ("overleg_voorbereid", {}),
    ("toestemming_vastleggen", TOESTEMMING),
    ("plan_vaststellen", {"plan": PLAN}),
    ("startoverleg_afronden", {}),
    ("plan_delen", {"met": ["m1"]}),
    ("voortgangsoverleg_plannen", {}),
    ("overleg_voorbereid", {}),
    ("afronden", {}),
    ("afsluiten", {"afsluitdatum": "2026-06-01", "evaluatie": "doelen gehaald", "vervolg": False}),
]


def best(fn: Callable[[], Any], number: int, repeat: int = 5) -> float:
    """Seconds per call: the best of ``repeat`` runs of ``number`` calls."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = CLOCK()
        for _ in range(number):
            fn()
        times.append(CLOCK() - start)
    return min(times) / number


def traced(build: Callable[[int], Any], count: int) -> float:
    """Bytes per object still alive after ``build(i)`` for ``i`` in ``range(count)``."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    keep = [build(i) for i in range(count)]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del keep
    gc.collect()
    return (after - before) / count


# ---------------------------------------------------------------- eengezin

def walk_events(start: datetime = AT) -> list[Event]:
    return [Event(name, start + timedelta(hours=i), data) for i, (name, data) in enumerate(WALK)]


def eengezin_before(definition: Definition, event: str) -> Traject:
    """The traject of the happy path just before ``event`` (its first occurrence)."""
    traject = new_traject(definition, "T-bench")
    for ev in walk_events():
        if ev.name == event:
            return traject
        out = step(definition, traject, ev)
        assert out.accepted, (ev.name, out.verdict.rule_ids)
        traject = out.traject
    raise ValueError(event)


def eengezin_walk(definition: Definition, events: list[Event]) -> Traject:
    traject = new_traject(definition, "T-walk")
    for ev in events:
        traject = step(definition, traject, ev).traject
    return traject


def eengezin_start(definition: Definition, i: int, payload: dict[str, Any]) -> Traject:
    return step(definition, new_traject(definition, f"T-{i}"),
                Event("aanmelden", AT, payload)).traject


# ---------------------------------------------------------------- transitions

class Case:
    """A transitions model: one per case, registered in the shared machine."""

    state: Any

    def __init__(self) -> None:
        self.facts: dict[str, Any] = {}

    def guard(self, *args: Any, **kwargs: Any) -> bool:
        return True


def _region(definition: Definition, tid: str) -> dict[str, Any]:
    track = definition.tracks[tid]

    def node(path: str) -> dict[str, Any] | str:
        n = track.nodes[path]
        name = path.rsplit(".", 1)[-1]
        if not n.children:
            return name
        init = n.initial_leaf[len(path) + 1:].split(".", 1)[0]
        return {"name": name, "children": [node(c) for c in n.children], "initial": init}

    top = [p for p, n in track.nodes.items() if n.parent is None]
    return {"name": tid, "children": [node(p) for p in top],
            "initial": track.initial.split(".", 1)[0]}


def _walk_transitions(definition: Definition) -> list[tuple[str, str, str | None]]:
    """(trigger, source, dest) in the ``regie`` track for the 13-event walk; dest None = internal."""
    out: list[tuple[str, str, str | None]] = []
    seen = set()
    state = "aanmelding"
    for name, _ in WALK:
        spec = definition.events[name]
        moves = [t for t in spec.transitions if t.track == "regie" and state in t.sources]
        target = moves[0].target if moves else None
        if (name, state) not in seen:
            out.append((name, state, target))
            seen.add((name, state))
        state = target or state
    return out


def hsm(definition: Definition) -> DottedMachine:
    machine = DottedMachine(
        model=None, states=[{"name": "t", "parallel": [_region(definition, t)
                                                        for t in definition.tracks]}],
        initial="t", auto_transitions=False)
    for trigger, source, dest in _walk_transitions(definition):
        machine.add_transition(trigger, f"t.regie.{source}", f"t.regie.{dest}" if dest else None,
                               conditions="guard")
    machine.add_transition("terug", "t.regie.voortgang", "t.regie.startoverleg.overleg",
                           conditions="guard")
    return machine


def hsm_regie(definition: Definition) -> DottedMachine:
    """The ``regie`` track alone as a HierarchicalMachine: nested states, no parallel regions."""
    machine = DottedMachine(model=None, states=_region(definition, "regie")["children"],
                            initial="aanmelding", auto_transitions=False)
    for trigger, source, dest in _walk_transitions(definition):
        machine.add_transition(trigger, source, dest, conditions="guard")
    machine.add_transition("terug", "voortgang", "startoverleg.overleg", conditions="guard")
    return machine


def flat(definition: Definition) -> Machine:
    leaves = sorted(definition.tracks["regie"].leaves)
    machine = Machine(model=None, states=leaves, initial="aanmelding", auto_transitions=False)
    for trigger, source, dest in _walk_transitions(definition):
        machine.add_transition(trigger, source, dest, conditions="guard")
    machine.add_transition("terug", "voortgang", "startoverleg.overleg", conditions="guard")
    return machine


def hsm_initial() -> list[str]:
    return ["t.regie.aanmelding", "t.veiligheid.geen_signalen"]


# ---------------------------------------------------------------- dict FSM

def dict_table(definition: Definition) -> dict[tuple[str, str], tuple[Callable[[Any], bool], str]]:
    def guard(case: Any) -> bool:
        return True

    table = {(source, trigger): (guard, dest or source)
             for trigger, source, dest in _walk_transitions(definition)}
    table[("voortgang", "terug")] = (guard, "startoverleg.overleg")
    return table


def dict_fire(table: Any, case: dict[str, Any], event: str) -> dict[str, Any]:
    guard, target = table[(case["regie"], event)]
    if not guard(case):
        return case
    return {**case, "regie": target}


# ---------------------------------------------------------------- report

def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:8.2f} µs"


def fmt_kb(size: float) -> str:
    return f"{size / 1024:8.2f} KB"


def row(label: str, *cells: str) -> None:
    print(f"| {label:<44} | " + " | ".join(f"{c:>16}" for c in cells) + " |")


def create_in_fresh_process(size: int) -> dict[str, float]:
    """Create ``size`` live trajecten in this (fresh) interpreter; CPU seconds per phase."""
    basis = load_definition("basis")
    gc_spent = [0.0, 0.0]  # total, start of the running collection

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_spent[1] = CLOCK()
        else:
            gc_spent[0] += CLOCK() - gc_spent[1]

    start = CLOCK()
    bare = [new_traject(basis, f"T-{i}") for i in range(size)]
    bare_took = CLOCK() - start
    del bare
    gc.collect()
    gc.callbacks.append(on_gc)
    start = CLOCK()
    made = [eengezin_start(basis, i, aanmelden_payload(i)) for i in range(size)]
    total = CLOCK() - start
    gc.callbacks.remove(on_gc)
    del made
    gc.collect()
    start = CLOCK()
    built = [aanmelden_payload(i) for i in range(size)]
    payloads_only = CLOCK() - start
    del built
    return {"bare": bare_took, "total": total, "payloads": payloads_only, "gc": gc_spent[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--full", action="store_true", help="100,000 transitions models too")
    parser.add_argument("--create", type=int, help=argparse.SUPPRESS)  # one size, in a subprocess
    args = parser.parse_args()
    if args.create:
        print(json.dumps(create_in_fresh_process(args.create)))
        return
    quick = args.quick
    n_event = 2_000 if quick else 20_000
    live = 10_000 if quick else 100_000
    t_models = 2_000 if quick else (100_000 if args.full else 10_000)

    basis = load_definition("basis")
    print(f"Python {platform.python_version()} ({platform.python_implementation()}), "
          f"transitions {transitions.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}")
    print()
    row("benchmark", "eengezin", "transitions HSM", "transitions flat", "dict FSM")
    print("|" + "-" * 46 + "|" + "|".join(["-" * 18] * 4) + "|")

    # --- one guarded event ------------------------------------------------------------
    before = eengezin_before(basis, "startoverleg_afronden")
    ev = Event("startoverleg_afronden", AT + timedelta(days=1))
    assert step(basis, before, ev).accepted
    e_event = best(lambda: step(basis, before, ev), n_event)

    m_hsm = hsm(basis)
    case = Case()
    m_hsm.add_model(case, initial=["t.regie.startoverleg.overleg", "t.veiligheid.geen_signalen"])

    def hsm_cycle() -> None:
        case.trigger("startoverleg_afronden")
        case.trigger("terug")

    assert case.state[0] == "t.regie.startoverleg.overleg"
    hsm_cycle()
    assert case.state[0] == "t.regie.startoverleg.overleg"
    h_event = best(hsm_cycle, n_event // 2) / 2

    m_one = hsm_regie(basis)
    ocase = Case()
    m_one.add_model(ocase, initial="startoverleg.overleg")

    def one_cycle() -> None:
        ocase.trigger("startoverleg_afronden")
        ocase.trigger("terug")

    one_cycle()
    assert ocase.state == "startoverleg.overleg", ocase.state
    o_event = best(one_cycle, n_event // 2) / 2

    m_flat = flat(basis)
    fcase = Case()
    m_flat.add_model(fcase, initial="startoverleg.overleg")

    def flat_cycle() -> None:
        fcase.trigger("startoverleg_afronden")
        fcase.trigger("terug")

    f_event = best(flat_cycle, n_event // 2) / 2

    table = dict_table(basis)
    dcase = {"regie": "startoverleg.overleg", "veiligheid": "geen_signalen"}
    d_event = best(lambda: dict_fire(table, dcase, "startoverleg_afronden"), n_event)
    row("one guarded event (startoverleg_afronden)",
        fmt_us(e_event), fmt_us(h_event), fmt_us(f_event), fmt_us(d_event))
    row("  transitions HSM, regie track only (no parallel)", "", fmt_us(o_event), "", "")

    others = {}
    for name in ("aanmelden", "basischeck", "regie_starten", "plan_vaststellen"):
        t = eengezin_before(basis, name)
        event = next(e for e in walk_events() if e.name == name)
        others[name] = best(lambda t=t, event=event: step(basis, t, event), n_event)
        row(f"  eengezin: {name} (payload, rules, records)", fmt_us(others[name]), "", "", "")

    # --- creating a traject -----------------------------------------------------------
    e_new = best(lambda: new_traject(basis, "T"), n_event)
    payloads = [aanmelden_payload(i) for i in range(n_event)]
    it = iter(range(10**9))
    e_start = best(lambda: eengezin_start(basis, 0, payloads[next(it) % n_event]), n_event)

    def add_models(machine: Any, count: int, initial: Any) -> tuple[float, float]:
        """(seconds for ``count`` adds, seconds per add for the last 1,000)."""
        models = [Case() for _ in range(count)]
        gc.collect()
        start = CLOCK()
        for m in models[:-1000]:
            machine.add_model(m, initial=initial)
        mid = CLOCK()
        for m in models[-1000:]:
            machine.add_model(m, initial=initial)
        end = CLOCK()
        return end - start, (end - mid) / 1000

    h_total, h_last = add_models(hsm(basis), t_models, hsm_initial())
    f_total, f_last = add_models(flat(basis), t_models, "aanmelding")
    d_new = best(lambda: {"regie": "aanmelding", "veiligheid": "geen_signalen", "facts": {}},
                 n_event)
    row("create: empty traject / bare model (1st)", fmt_us(e_new), "", "", fmt_us(d_new))
    row("create: + aanmelden (2-member household)", fmt_us(e_start), "", "", "")
    row(f"create: add_model, per add at {t_models:,} models", "", fmt_us(h_last),
        fmt_us(f_last), "")
    row(f"create: {t_models:,} models/trajecten, total", f"{e_start * t_models:8.3f} s",
        f"{h_total:8.3f} s", f"{f_total:8.3f} s", f"{d_new * t_models:8.3f} s")

    # --- 13-event walk ------------------------------------------------------------------
    events = walk_events()
    final = eengezin_walk(basis, events)
    assert final.state["regie"] == "gesloten" and len(final.history) == 13
    e_walk = best(lambda: eengezin_walk(basis, events), n_event // 13)
    triggers = [name for name, _ in WALK]
    wcase = Case()
    m_walk = hsm(basis)
    m_walk.add_model(wcase, initial=hsm_initial())

    def hsm_walk() -> None:
        m_walk.set_state(hsm_initial(), wcase)
        for trig in triggers:
            wcase.trigger(trig)

    hsm_walk()
    assert wcase.state[0] == "t.regie.gesloten", wcase.state
    h_walk = best(hsm_walk, n_event // 13)
    fw = Case()
    m_fw = flat(basis)
    m_fw.add_model(fw, initial="aanmelding")

    def flat_walk() -> None:
        m_fw.set_state("aanmelding", fw)
        for trig in triggers:
            fw.trigger(trig)

    flat_walk()
    assert fw.state == "gesloten", fw.state
    f_walk = best(flat_walk, n_event // 13)

    def dict_walk() -> dict[str, Any]:
        c: dict[str, Any] = {"regie": "aanmelding", "veiligheid": "geen_signalen"}
        for trig in triggers:
            c = dict_fire(table, c, trig)
        return c

    assert dict_walk()["regie"] == "gesloten"
    d_walk = best(dict_walk, n_event // 13)
    row("13-event walk (aanmelden … afsluiten)", fmt_us(e_walk), fmt_us(h_walk), fmt_us(f_walk),
        fmt_us(d_walk))

    # --- memory --------------------------------------------------------------------------
    e_mem = traced(lambda i: eengezin_start(basis, i, aanmelden_payload(i)), live)
    e_mem_bare = traced(lambda i: new_traject(basis, f"T-{i}"), live)
    m_mem = hsm(basis)
    h_mem = traced(lambda i: m_mem.add_model(Case(), initial=hsm_initial()) or None, t_models)
    f_mem_machine = flat(basis)
    f_mem = traced(lambda i: f_mem_machine.add_model(Case(), initial="aanmelding") or None,
                   t_models)
    d_mem = traced(lambda i: {"regie": "aanmelding", "veiligheid": "geen_signalen",
                              "facts": aanmelden_payload(i)}, live)
    row(f"memory per live traject, {live:,} live", fmt_kb(e_mem), "", "", fmt_kb(d_mem))
    row("  of which: empty traject (before aanmelden)", fmt_kb(e_mem_bare), "", "", "")
    row(f"memory per bare model, {t_models:,} registered", "", fmt_kb(h_mem), fmt_kb(f_mem), "")

    # --- linear creation ---------------------------------------------------------------
    print()
    print("Creating N live trajecten, each size in a fresh interpreter (the cyclic GC's state")
    print("depends on what ran before). net = new_traject + aanmelden (two-member household), with")
    print("the time to build the N payloads subtracted; each payload is built just before its")
    print("traject, as a host decodes it from a request. gc = time in the cyclic garbage collector")
    print("(gc.callbacks). bare = new_traject only, like a bare transitions model. CPU seconds.")
    print(f"  {'N':>7}  {'bare':>7}  {'net':>7}  {'µs each':>7}  {'of it gc':>8}  "
          f"{'net - gc':>8}  {'µs each':>7}")
    sizes = (1_000, 5_000, 10_000) if quick else (10_000, 50_000, 100_000)
    net_at: dict[int, float] = {}
    for size in sizes:
        res = json.loads(subprocess.run(
            [sys.executable, __file__, "--create", str(size)],
            check=True, capture_output=True, text=True).stdout)
        net = res["total"] - res["payloads"]
        net_at[size] = net
        print(f"  {size:>7,}  {res['bare']:6.3f}s  {net:6.3f}s  {net / size * 1e6:7.2f}  "
              f"{res['gc']:7.3f}s  {net - res['gc']:7.3f}s  {(net - res['gc']) / size * 1e6:7.2f}")

    print()
    print("Targets (issue 2, part 10):")
    worst = max([e_event, *others.values()])
    for label, ref in (("HSM, both tracks parallel", h_event), ("HSM, regie track only", o_event)):
        print(f"  per event ≤ 0.5 × transitions {label}: guarded event "
              f"{e_event / ref:.2f} ×, slowest event ({worst * 1e6:.2f} µs) {worst / ref:.2f} × -> "
              f"{'met' if worst / ref <= 0.5 else 'MISSED'}")
    print(f"  per event ≤ 16 µs (0.5 × the issue's 33 µs): slowest event {worst * 1e6:.2f} µs -> "
          f"{'met' if worst <= 16e-6 else 'MISSED'}")
    print(f"  memory ≤ 4 KB per live traject after aanmelden: {e_mem / 1024:.2f} KB -> "
          f"{'met' if e_mem <= 4096 else 'MISSED'}")
    largest = max(net_at)
    scaled = net_at[largest] * 100_000 / largest
    print(f"  100,000 created ≤ 2 s: {scaled:.2f} s (net, gc included, measured at {largest:,}) -> "
          f"{'met' if scaled <= 2 else 'MISSED'}")
    smallest = min(net_at)
    growth = (net_at[largest] / largest) / (net_at[smallest] / smallest)
    print(f"  linear: µs per traject at {largest:,} / at {smallest:,} = {growth:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
