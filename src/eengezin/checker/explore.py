"""Model checker for process definitions (``eengezin check DEF``).

The checker explores the reachable state space of a definition by driving the
real rule engine (:func:`eengezin.process.step`) breadth-first from a new traject.
Every traject it reaches is folded into an *abstract state*: the state of each
track plus a canonical summary of the facts that decide something (the facts
read by blocking rules, effects, guarded transitions and records, invariants),
open deadlines and the events that ``event_seen`` asks about. The history itself
is not part of the abstract state, so the search ends.

Each event is tried with a small, finite set of representative payloads built
from its payload type: a "full" payload, the minimal one, and variants that
change one thing at a time (each boolean flipped, each enum value, the bounds of
an integer, the literals the definition compares a field with, and the ids that
already exist in the traject's facts for fields that conditions compare).

Findings, each with the shortest event trace that shows it (breadth-first
search keeps parent pointers):

- ``invariant``: an ``always`` invariant is false in a reachable state;
- ``doodlopend`` (dead end): a reachable state from which no final state of the
  tracks that have final states can be reached (``reachable_final``);
- ``onbereikbaar`` (unreachable): a leaf state of a track that no explored
  traject ever enters;
- ``nooit_mogelijk`` (never fires): an event that is never accepted.

Reductions that drop no finding keep the space small (each is explained where it is
built, and in ``docs/testing.md``): values overwritten before any read are masked
(:func:`_reach`, :func:`_live`); a fact read only through predicates on that fact
is kept as their truth (:func:`_closed_facts`); a recorder step to a strictly more
permissive fact is the only step explored from a state that offers it, and a step
to a strictly less permissive one is not explored (:func:`_eager`); an event's
outcome is remembered per footprint and trajecten are built on demand
(:class:`_Stepper`).

The result is as good as the abstraction: the checker proves nothing about
payloads outside its representative set, and it fires every event at one
moment (deadlines never run out). It is a strong net for the mistakes regions
make (a removed safety rule, a phase without a way out), not a proof.

>>> result = check_definition("basis")
>>> result.sound, result.states > 100
(True, True)
"""

from __future__ import annotations

import argparse
import gc
import json
import operator
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TextIO

import attrs

from ..definition import load_definition
from ..errors import DefinitionError
from ..process.model import Definition, EventSpec, Record
from ..process.step import _availability, new_traject, step
from ..rules.conditions import compile_condition
from ..rules.context import Context
from ..rules.paths import ROOTS, PathError, parse_path
from ..rules.predicates import BUILTINS, Check, ConditionError, PredicateRegistry
from ..traject import Actor, Event, Traject

__all__ = [
    "CheckResult",
    "Finding",
    "check_command",
    "check_definition",
    "inert_events",
    "representative_payloads",
    "result_json",
]

FindingKind = Literal["invariant", "doodlopend", "onbereikbaar", "nooit_mogelijk", "onvolledig",
                      "advies_onmogelijk"]  # advice hook: see advice.py

AT = datetime(2026, 3, 2, 9, 0)
"""The moment every explored event happens (deadlines never run out)."""
TODAY = AT.date()

MAX_STATES = 200_000
MAX_VARIANTS = 48
MAX_KNOWN_IDS = 8
SHOWN_DEAD_ENDS = 3
ACTOR_ID = "controle"
MASKED = -1  # a fact's number in an abstract state where nothing can read it any more
RAW = "\x00raw"  # in a trie: this value is compared with another path, keep it as it is

_EXIT_OK, _EXIT_FINDINGS, _EXIT_UNUSABLE = 0, 1, 2


@attrs.frozen
class Finding:
    """One thing wrong with a definition; ``trace`` is the shortest event sequence showing it."""

    kind: FindingKind
    subject: str
    message: str
    trace: tuple[Event, ...] | None = None


@attrs.frozen
class CheckResult:
    """What :func:`check_definition` found."""

    definition: str
    version: str
    states: int
    transitions: int
    seconds: float
    findings: tuple[Finding, ...]

    @property
    def sound(self) -> bool:
        """True when there are no findings."""
        return not self.findings


# ------------------------------------------------------------------ what the definition reads

_QUANTIFIERS = ("require", "where")
_PATH_ROOTS = ("data.", "facts.", "item.")


def _event_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _normal(path: str) -> str:
    """``data.plan.doelen[].acties[].wie`` without its root and with ``[]`` kept."""
    return path.split(".", 1)[1] if "." in path else ""


class _Reads:
    """Which paths and literals a condition tree mentions (``item.`` resolved to its list)."""

    def __init__(self) -> None:
        self.paths: set[str] = set()
        self.literals: dict[str, list[Any]] = {}
        self.compared: set[str] = set()  # data paths compared with another path
        self.seen_events: set[str] = set()
        self.count_bounds: dict[str, int] = {}
        self.deadlines_read: set[str] = set()
        self.mentions_actor = False
        self.in_state: list[tuple[str, tuple[str, ...]]] = []  # (track, states) tested
        self.state_paths: set[str] = set()  # tracks read through a ``state.`` path
        self.opaque = False  # a host predicate: it may read anything

    def condition(self, node: Any) -> None:
        """Walk one condition tree (``if``, ``require``, ``when``, ``always``)."""
        self._predicates(node)
        self.walk(node)

    def _predicates(self, node: Any) -> None:
        if node is None or node is True:
            return
        if isinstance(node, str):
            name, params = node, None
        elif isinstance(node, Mapping) and len(node) == 1:
            ((name, params),) = node.items()
        else:
            return
        if name in ("all", "any"):
            for part in params if isinstance(params, list) else []:
                self._predicates(part)
            return
        if name == "not":
            self._predicates(params)
            return
        if name not in BUILTINS:
            self.opaque = True
            return
        if name == "in_state" and isinstance(params, Mapping):
            for track, states in params.items():
                names = [states] if isinstance(states, str) else states
                if isinstance(names, list):
                    self.in_state.append((str(track), tuple(str(n) for n in names)))
        if isinstance(params, Mapping):
            for key in _QUANTIFIERS:
                if key in params:
                    self._predicates(params[key])

    def _resolve(self, text: str, item: str | None) -> str | None:
        if text.startswith("item.") or text == "item":
            if item is None:
                return None
            return item + text[4:]
        if text.startswith(("data.", "facts.")) or text in ("data", "facts"):
            return text
        if text.startswith("actor"):
            self.mentions_actor = True
        if text.startswith("state.") or text == "state":
            self.state_paths.add(text.split(".")[1] if "." in text else "*")
        return None

    def _literal(self, path: str | None, value: Any) -> None:
        if path is None:
            return
        bucket = self.literals.setdefault(path, [])
        if value not in bucket:
            bucket.append(value)

    def walk(self, node: Any, item: str | None = None) -> None:
        if isinstance(node, str):
            resolved = self._resolve(node, item)
            if resolved is not None:
                self.paths.add(resolved)
            return
        if isinstance(node, list):
            for sub in node:
                self.walk(sub, item)
            return
        if not isinstance(node, Mapping):
            return
        if "event_seen" in node:
            self.seen_events.update(_event_list(node["event_seen"]))
        if "actor_role" in node:
            self.mentions_actor = True
        for name in ("deadline_open", "deadline_overdue"):
            if isinstance(node.get(name), str):
                self.deadlines_read.add(node[name])
        for name in ("count", "count_where"):
            params = node.get(name)
            if isinstance(params, Mapping) and isinstance(params.get("path"), str):
                counted = self._resolve(params["path"], item)
                for bound in (params.get("min"), params.get("max")):
                    if counted and isinstance(bound, int) and not isinstance(bound, bool):
                        self.count_bounds[counted] = max(bound, self.count_bounds.get(counted, 0))
        raw_path = node.get("path")
        path = self._resolve(raw_path, item) if isinstance(raw_path, str) else None
        if path is not None:
            self.paths.add(path)
            if "value" in node:
                self._literal(path, node["value"])
            if isinstance(node.get("values"), list):
                for v in node["values"]:
                    self._literal(path, v)
            other = node.get("other")
            if isinstance(other, str):
                other_path = self._resolve(other, item)
                if other_path is not None:
                    self.paths.add(other_path)
                    for a, b in ((path, other_path), (other_path, path)):
                        if a.startswith("data") and not b.startswith("data"):
                            self.compared.add(a)
            if isinstance(node.get("key"), str) and path.startswith("facts"):
                key_path = f"{path.removesuffix('[]')}[].{node['key']}"
                self.paths.add(key_path)
        inner = None
        if path is not None and any(k in node for k in _QUANTIFIERS):
            inner = path if path.endswith("[]") else f"{path}[]"
        for key, value in node.items():
            if key in ("path", "other"):
                continue
            self.walk(value, inner if key in _QUANTIFIERS and inner is not None else item)


@attrs.define
class _Analysis:
    """What the checker needs to know about a definition before it explores."""

    fact_trie: dict[str, Any]
    data_tries: dict[str, dict[str, Any]]
    keyed_facts: frozenset[str]
    seen_events: tuple[str, ...]
    cap: int
    caps: dict[str, int]
    deadlines_read: frozenset[str]
    event_reads: dict[str, _Reads]
    actor_events: frozenset[str]
    fact_items: tuple[tuple[str, Any], ...] = ()
    fact_readers: dict[str, frozenset[str]] = attrs.Factory(dict)
    always_live: frozenset[str] = frozenset()
    reach: dict[str, dict[str, frozenset[str]]] = attrs.Factory(dict)
    fact_reach: dict[str, dict[str, dict[str, frozenset[str]]]] = attrs.Factory(dict)
    closed: dict[str, tuple[Check, ...]] = attrs.Factory(dict)
    eager: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = attrs.Factory(dict)
    params: Mapping[str, Any] = attrs.Factory(dict)
    constraints: dict[str, tuple[tuple[str, frozenset[str]], ...]] = attrs.Factory(dict)
    live_cache: dict[Any, frozenset[str]] = attrs.Factory(dict)
    dead_cache: dict[Any, tuple[int, ...]] = attrs.Factory(dict)
    event_facts: dict[str, frozenset[str]] = attrs.Factory(dict)
    memo: dict[tuple[str, int], tuple[Any, int]] = attrs.Factory(dict)
    codes: list[dict[Any, int]] = attrs.Factory(list)  # per fact position: canon -> number
    values: list[list[Any]] = attrs.Factory(list)  # per fact position: number -> canon
    written: dict[str, frozenset[str]] = attrs.Factory(dict)  # event -> facts it may write
    uses: dict[tuple[str, str], tuple[Mapping[str, frozenset[str]], ...]] = attrs.Factory(dict)


def _records(items: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping):
                yield item


def _state_nodes(states: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(states, Mapping):
        for sub in states.values():
            if isinstance(sub, Mapping):
                yield sub
                yield from _state_nodes(sub.get("states"))


def _analyse(definition: Definition) -> _Analysis:
    raw = definition.raw
    state_reads = _Reads()  # what decides acceptance or moves state
    event_reads: dict[str, _Reads] = {eid: _Reads() for eid in definition.events}
    keyed: set[str] = set()

    roots: list[tuple[int, Any]] = []  # every decisive condition, with its polarity

    uses: dict[tuple[str, str], list[Mapping[str, frozenset[str]]]] = {}

    def for_events(events: Iterable[str], node: Any, polarity: int = 0,
                   where: Mapping[str, frozenset[str]] | None = None) -> None:
        # polarity +1: true lets the event through (a rule's require); -1: true blocks it
        # (a rule's if); 0: it steers what happens (guards, record and effect conditions).
        # where: the leaves in which this condition can matter at all (a rule's in_state if)
        roots.append((polarity, node))
        for name in _facts_in(node):
            for eid in events:
                uses.setdefault((name, eid), []).append(where or {})
        state_reads.condition(node)
        for eid in events:
            if eid in event_reads:
                event_reads[eid].condition(node)

    copies: list[tuple[str, str, str, str]] = []  # event, fact, op, data path copied

    def records(events: Iterable[str], items: Any) -> None:
        for rec in _records(items):
            for_events(events, rec.get("if"))
            if "put" in rec and isinstance(rec["put"], Mapping):
                keyed.add(str(rec["put"].get("fact")))
            for op in ("set", "put", "append"):
                body = rec.get(op)
                if not isinstance(body, Mapping):
                    continue
                source = body.get("from", "data" if "value" not in body else None)
                if isinstance(source, str) and (source == "data" or source.startswith("data.")):
                    copies.extend((e, str(body.get("fact")), op, source) for e in events)
                elif isinstance(source, str) and source.startswith("facts."):
                    for e in events:  # copying a fact reads it (for liveness)
                        if e in event_reads:
                            event_reads[e].paths.add(source)
                key = body.get("key")
                if isinstance(key, str) and key.startswith("data"):
                    for e in events:
                        event_reads[e].paths.add(key) if e in event_reads else None

    for eid, spec in (raw.get("events") or {}).items():
        if not isinstance(spec, Mapping):
            continue
        for tr in spec.get("transitions") or []:
            if isinstance(tr, Mapping):
                for_events([eid], tr.get("when"))
        records([eid], spec.get("record"))
    for rule in raw.get("rules") or []:
        if isinstance(rule, Mapping) and rule.get("severity") == "block":
            events = _event_list(rule.get("on"))
            where = _required_states(definition, rule.get("if"))
            for_events(events, rule.get("if"), -1, where)
            for_events(events, rule.get("require"), +1, where)
    for effect in raw.get("effects") or []:
        if isinstance(effect, Mapping):
            events = _event_list(effect.get("on"))
            for_events(events, effect.get("if"), 0, _required_states(definition, effect.get("if")))
            records(events, effect.get("record"))
    for track in (raw.get("tracks") or {}).values():
        if isinstance(track, Mapping):
            for node in _state_nodes(track.get("states")):
                records(definition.events, node.get("on_enter"))
    invariant_reads = _Reads()
    for inv in definition.invariants:
        roots.append((0, inv.raw.get("always") if isinstance(inv.raw, Mapping) else None))
        state_reads.condition(inv.raw.get("always") if isinstance(inv.raw, Mapping) else None)
        invariant_reads.condition(inv.raw.get("always") if isinstance(inv.raw, Mapping) else None)
    # a deadline only warns; when it starts matters only if something decisive reads it
    # (deadline_open / deadline_overdue), so only then its start condition is read too
    walked: set[str] = set()
    while state_reads.deadlines_read - walked:
        for deadline in raw.get("deadlines") or []:
            if not isinstance(deadline, Mapping) or deadline.get("id") in walked:
                continue
            if deadline.get("id") in state_reads.deadlines_read:
                walked.add(str(deadline.get("id")))
                start = deadline.get("start")
                if isinstance(start, Mapping):
                    for_events(_event_list(start.get("on")), start.get("if"))
        walked |= state_reads.deadlines_read - {
            d.get("id") for d in raw.get("deadlines") or [] if isinstance(d, Mapping)}

    trie = _build_trie(state_reads, "facts")
    bounds = state_reads.count_bounds
    caps: dict[str, int] = {}
    for path, bound in bounds.items():
        if path.startswith("facts."):
            name = path.split(".")[1].removesuffix("[]")
            caps[name] = max(caps.get(name, 2), bound + 1)
    actor_events = frozenset(
        eid for eid, reads in event_reads.items()
        if reads.mentions_actor or definition.events[eid].roles is not None
    )
    data_tries = {eid: _build_trie(reads, "data") for eid, reads in event_reads.items()}
    for eid, fact, op, source in copies:
        if fact not in trie or eid not in data_tries:
            continue
        sub = trie[fact]
        if op in ("put", "append"):
            sub = _merge_tries(sub.get("[]", {}), {"": sub.get("", frozenset())})
        _graft(data_tries[eid], source, sub)
    analysis = _Analysis(
        fact_trie=trie,
        data_tries=data_tries,
        keyed_facts=frozenset(keyed),
        seen_events=tuple(sorted(state_reads.seen_events)),
        cap=max(2, max(bounds.values(), default=0) + 1),
        caps=caps,
        deadlines_read=frozenset(state_reads.deadlines_read),
        event_reads=event_reads,
        actor_events=actor_events,
        fact_items=tuple((n, sub) for n, sub in sorted(trie.items()) if n not in ("", "[]")),
    )
    analysis.written = {eid: _written_facts(definition, spec)
                        for eid, spec in definition.events.items()}
    analysis.codes = [{} for _ in analysis.fact_items]
    analysis.values = [[] for _ in analysis.fact_items]
    for eid, reads in event_reads.items():  # reads outside conditions (copies, keys)
        for path in reads.paths:
            if path.startswith("facts."):
                name = path.split(".")[1].removesuffix("[]")
                uses.setdefault((name, eid), [{}])
    analysis.uses = {k: tuple(v) for k, v in uses.items()}
    analysis.closed, polarities = _closed_facts(definition, roots, trie)
    analysis.params = definition.params
    _liveness(definition, analysis, event_reads, invariant_reads)
    analysis.eager = _eager(definition, analysis, polarities)
    return analysis


def _build_trie(reads: _Reads, root: str) -> dict[str, Any]:
    """A tree of the paths under ``root`` that are read; ``""`` marks a whole read, with the
    literals it is compared with."""
    trie: dict[str, Any] = {}
    for path in sorted(reads.paths):
        if path != root and not path.startswith(root + "."):
            continue
        lits = frozenset(v for v in reads.literals.get(path, []) if isinstance(v, str))
        if path in reads.compared:
            lits |= {RAW}
        _graft(trie, path, {"": lits})
    return trie


def _graft(trie: dict[str, Any], path: str, sub: Mapping[str, Any]) -> None:
    try:
        _root, segments = parse_path(path)
    except PathError:
        return
    node = trie
    for name, iterate in segments:
        node = node.setdefault(name, {})
        if iterate:
            node = node.setdefault("[]", {})
    merged = _merge_tries(node, sub)
    node.clear()
    node.update(merged)


def _merge_tries(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(a)
    for key, value in b.items():
        if key == "":
            out[""] = frozenset(out.get("", frozenset())) | frozenset(value)
        elif key in out:
            out[key] = _merge_tries(out[key], value)
        else:
            out[key] = value
    return out


# ------------------------------------------------------------------ abstraction


def _shallow(value: Any, literals: frozenset[str], cap: int, keyed: bool) -> Any:
    raw = RAW in literals
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if raw or value in literals:
            return ("=", value)
        return "·" if value.strip() else ""
    if isinstance(value, list):
        members = sorted({("=", v) for v in value
                          if isinstance(v, str) and (raw or v in literals)})
        return ("L", min(len(value), cap), tuple(members))
    if isinstance(value, Mapping):
        if keyed:
            return ("M", min(len(value), cap))
        return ("D", bool(value))
    return type(value).__name__


def _canon(value: Any, trie: Mapping[str, Any], cap: int, keyed: bool = False) -> Any:
    """The part of ``value`` that ``trie`` says is read, with collections counted up to ``cap``."""
    parts: list[Any] = []
    if "" in trie:
        parts.append(_shallow(value, trie[""], cap, keyed))
    for key, sub in sorted(trie.items()):
        if key == "":
            continue
        if key == "[]":
            items: list[Any] = []
            if isinstance(value, Mapping):
                items = list(value.values())
            elif isinstance(value, list):
                items = value
            counted: dict[str, int] = {}
            for item in items:
                text = repr(_canon(item, sub, cap))
                counted[text] = min(cap, counted.get(text, 0) + 1)
            parts.append(("[]", tuple(sorted(counted.items()))))
        else:
            child = value.get(key) if isinstance(value, Mapping) else None
            parts.append((key, _canon(child, sub, cap)))
    return tuple(parts)


def _live(analysis: _Analysis, state: Mapping[str, str]) -> frozenset[str]:
    key = tuple(sorted(state.items()))
    cached = analysis.live_cache.get(key)
    if cached is not None:
        return cached

    def can_read(name: str, eid: str, reach: Mapping[str, Mapping[str, frozenset[str]]]) -> bool:
        # the event can still happen somewhere its reading of the fact matters
        for where in analysis.uses.get((name, eid), ({},)):
            needs = dict(analysis.constraints.get(eid, ()))
            for t, leaves in where.items():
                needs[t] = needs[t] & leaves if t in needs else leaves
            if all(reach[t].get(state.get(t, ""), frozenset()) & allowed
                   for t, allowed in needs.items() if t in reach):
                return True
        return False

    live = frozenset(
        name for name, readers in analysis.fact_readers.items()
        if name in analysis.always_live or any(
            can_read(name, r, analysis.fact_reach.get(name, analysis.reach)) for r in readers)
    )
    analysis.live_cache[key] = live
    return live


def _liveness(definition: Definition, analysis: _Analysis, event_reads: Mapping[str, _Reads],
              invariant_reads: _Reads) -> None:
    """Fill in which events read which facts, where each event can happen, and which
    leaves each leaf of a track can still reach (guards ignored: an over-approximation)."""
    readers: dict[str, set[str]] = {name: set() for name in analysis.fact_trie}
    for eid, reads in event_reads.items():
        for path in reads.paths:
            if path.startswith("facts."):
                name = path.split(".")[1].removesuffix("[]")
                if name in readers:
                    readers[name].add(eid)
    analysis.fact_readers = {k: frozenset(v) for k, v in readers.items()}
    analysis.event_facts = {
        eid: frozenset(p.split(".")[1].removesuffix("[]") for p in reads.paths
                       if p.startswith("facts."))
        for eid, reads in event_reads.items()}
    analysis.always_live = frozenset(
        p.split(".")[1].removesuffix("[]") for p in invariant_reads.paths
        if p.startswith("facts."))
    # every move a track can make, with the facts it certainly overwrites on the way (the
    # event's own unconditional set/unset, an unconditional effect, an entered state's
    # on_enter): a value that is always overwritten before a reader can see it is dead
    moves: list[tuple[str, str, str, frozenset[str]]] = []
    raw_effects = {str(e.get("id")): e for e in definition.raw.get("effects") or []
                   if isinstance(e, Mapping)}
    for spec in definition.events.values():
        own = _overwrites(spec.records)
        for tr in spec.transitions:
            for source in tr.sources:
                moves.append((tr.track, source, tr.target,
                              own | _entry_overwrites(definition, tr.track, source, tr.target)))
        available = dict(spec.available or ())
        for effect in spec.effects:
            kills = own | (_overwrites(effect.records) if effect.when is None else frozenset())
            required = _required_states(definition, raw_effects.get(effect.id, {}).get("if"))
            for tid, target in effect.moves:
                sources = available.get(tid, definition.tracks[tid].leaves)
                for leaf in sources & required.get(tid, sources):
                    moves.append((tid, leaf, target,
                                  kills | _entry_overwrites(definition, tid, leaf, target)))
    analysis.reach = _reach(definition, moves, None)
    killed = {fact for *_rest, kills in moves for fact in kills if fact in analysis.fact_trie}
    analysis.fact_reach = {fact: _reach(definition, moves, fact) for fact in sorted(killed)}
    for eid, spec in definition.events.items():
        if spec.available is not None:
            analysis.constraints[eid] = tuple(spec.available)
        elif spec.transitions and len({tr.track for tr in spec.transitions}) == 1:
            origins: frozenset[str] = frozenset().union(*(tr.sources for tr in spec.transitions))
            analysis.constraints[eid] = ((spec.transitions[0].track, origins),)
        else:
            analysis.constraints[eid] = ()


def _facts_in(node: Any) -> set[str]:
    return {text.split(".")[1].removesuffix("[]") for text in _path_strings(node)
            if text.startswith("facts.") and len(text.split(".")) > 1}


def _required_states(definition: Definition, condition: Any) -> dict[str, frozenset[str]]:
    """Per track, the leaves ``condition`` can be true in, read from its ``in_state`` tests
    at the top level (directly or inside ``all``); tracks it does not restrict are left out."""
    out: dict[str, frozenset[str]] = {}
    for unit in _conjuncts(condition):
        params = unit.get("in_state") if isinstance(unit, Mapping) else None
        if not isinstance(params, Mapping):
            continue
        for track, states in params.items():
            names = [states] if isinstance(states, str) else states
            if track not in definition.tracks or not isinstance(names, list):
                continue
            spec = definition.tracks[track]
            leaves = frozenset().union(*(spec.leaves_under(str(n)) for n in names
                                         if str(n) in spec.nodes))
            out[track] = out[track] & leaves if track in out else leaves
    return out


def _conjuncts(node: Any) -> Iterator[Any]:
    if isinstance(node, Mapping) and len(node) == 1 and isinstance(node.get("all"), list):
        for part in node["all"]:
            yield from _conjuncts(part)
    elif node is not None:
        yield node


def _overwrites(records: Iterable[Record]) -> frozenset[str]:
    """Facts that ``records`` always replace as a whole (unconditional set or unset)."""
    return frozenset(r.fact for r in records if r.when is None and r.op in ("set", "unset"))


def _entry_overwrites(definition: Definition, track: str, source: str, target: str
                      ) -> frozenset[str]:
    spec = definition.tracks[track]
    if source == target:
        return frozenset()
    entered = set(spec.ancestors[target]) - set(spec.ancestors[source])
    return frozenset().union(*(_overwrites(spec.nodes[path].on_enter) for path in entered))


def _reach(definition: Definition, moves: Sequence[tuple[str, str, str, frozenset[str]]],
           fact: str | None) -> dict[str, dict[str, frozenset[str]]]:
    """Per track, the leaves each leaf can reach (guards ignored: an over-approximation);
    with ``fact``, only along moves that leave its value in place."""
    graph: dict[str, dict[str, set[str]]] = {
        tid: {leaf: set() for leaf in track.leaves} for tid, track in definition.tracks.items()}
    for tid, source, target, kills in moves:
        if fact is None or fact not in kills:
            graph[tid].setdefault(source, set()).add(target)
    out: dict[str, dict[str, frozenset[str]]] = {}
    for tid, edges in graph.items():
        reach: dict[str, frozenset[str]] = {}
        for leaf in edges:
            seen = {leaf}
            todo = [leaf]
            while todo:
                for nxt in edges.get(todo.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            reach[leaf] = frozenset(seen)
        out[tid] = reach
    return out


class _Env:
    """Just enough of a compiler environment to compile one predicate of a definition."""

    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self.registry = PredicateRegistry.with_builtins()

    def check_state(self, track: str, state: str) -> None:
        pass

    def leaves_under(self, track: str, state: str) -> frozenset[str]:
        return self.definition.tracks[track].leaves_under(state)

    def compile_condition(self, spec: Any) -> Check:
        return compile_condition(spec, self.registry, self)

    def check_deadline(self, deadline_id: str) -> None:
        pass

    def check_event(self, event_id: str) -> None:
        pass

    def note_path(self, path: str) -> None:
        pass


def _units(node: Any, polarity: int = 0) -> Iterator[tuple[Any, int]]:
    """The predicates of a condition (``all``, ``any`` and ``not`` opened up), each with
    its polarity (``not`` turns it round)."""
    if isinstance(node, Mapping) and len(node) == 1:
        ((name, params),) = node.items()
        if name in ("all", "any") and isinstance(params, list):
            for part in params:
                yield from _units(part, polarity)
            return
        if name == "not":
            yield from _units(params, -polarity)
            return
        yield node, polarity


def _path_strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        if node.split(".", 1)[0].removesuffix("[]") in ROOTS:
            yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _path_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _path_strings(value)


def _closed_facts(definition: Definition, roots: Iterable[tuple[int, Any]],
                  trie: Mapping[str, Any]
                  ) -> tuple[dict[str, tuple[Check, ...]], dict[str, tuple[set[int], ...]]]:
    """Facts every decisive condition reads only through predicates that look at that fact
    alone (``present: [facts.plan.tabblad_1.regisseur, ...]``), and that are only ever
    replaced as a whole. Such a fact decides nothing but the truth of those predicates, so
    the abstract state keeps just their values (a plan with one field missing and a plan
    with another field missing are the same to the rules)."""
    units: dict[str, list[Any]] = {}
    signs: dict[str, list[set[int]]] = {}
    spoiled: set[str] = set()
    for polarity, root in roots:
        for unit, sign in _units(root, polarity):
            facts: set[str] = set()
            other = False
            for text in _path_strings(unit):
                head, _, rest = text.partition(".")
                if head == "facts" and rest:
                    facts.add(rest.split(".")[0].removesuffix("[]"))
                elif head in ("item", "params"):
                    continue
                else:
                    other = True
            if len(facts) == 1 and not other:
                name = facts.pop()
                found = units.setdefault(name, [])
                if unit not in found:
                    found.append(unit)
                    signs.setdefault(name, []).append(set())
                signs[name][found.index(unit)].add(sign)
            else:
                spoiled |= facts
    # merged into or copied from: the parts matter, not only the predicates
    raw = definition.raw
    for text in _path_strings([raw.get("events"), raw.get("effects"), raw.get("tracks"),
                               raw.get("deadlines")]):
        if text.startswith("facts."):
            spoiled.add(text.split(".")[1].removesuffix("[]"))
    for spec in definition.events.values():
        for rec in (*spec.records, *(r for e in spec.effects for r in e.records)):
            if rec.op not in ("set", "unset"):
                spoiled.add(rec.fact)
    for track in definition.tracks.values():
        for node in track.nodes.values():
            spoiled |= {r.fact for r in node.on_enter if r.op not in ("set", "unset")}
    env = _Env(definition)
    out: dict[str, tuple[Check, ...]] = {}
    for name, found in units.items():
        if name in spoiled or name not in trie:
            continue
        try:
            out[name] = tuple(env.compile_condition(unit) for unit in found)
        except (ConditionError, KeyError):
            continue
    return out, {name: tuple(signs[name]) for name in out}


def _eager(definition: Definition, analysis: _Analysis,
           polarities: Mapping[str, tuple[set[int], ...]]
           ) -> dict[str, tuple[tuple[int, ...], tuple[str, ...]]]:
    """Facts whose every read only lets events through more when a predicate is true (or
    only when it is false), with the events that record nothing else: ``fact -> (sign per
    predicate, recorders)``.

    A state where a recorder can make such a fact strictly more permissive can do
    everything it could do before, and the recorder takes it there, so the checker explores
    only that step from it (see :func:`_dominates`). That is only sound when the recorder
    stays possible for as long as the fact can matter: from any state reached by skipping
    the recorder, it can still be fired to catch up. So a recorder qualifies only if it
    reads nothing that can change (no facts, no track states in its rules) and is available
    in every leaf from which a reader of the fact can still be reached. A recorder that is
    only possible in an early phase does not qualify: advancing without it can be a dead end.
    """
    out: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {}
    named = definition.raw.get("types") or {}
    for name, signs in polarities.items():
        if name in analysis.always_live or name in analysis.keyed_facts:
            continue
        if any(len(sign) != 1 or 0 in sign for sign in signs):
            continue
        recorders = []
        for eid, spec in definition.events.items():
            written = {f for f in analysis.written[eid] if f in analysis.fact_trie}
            if written != {name} or eid == definition.start_event:
                continue
            if spec.transitions or any(e.moves for e in spec.effects):
                continue
            if eid in analysis.seen_events or any(
                    d.id in analysis.deadlines_read
                    for d in (*spec.deadline_starts, *spec.deadline_ends)):
                continue
            reads = analysis.event_reads[eid]
            if (analysis.event_facts.get(eid) or reads.in_state or reads.state_paths
                    or reads.opaque or reads.seen_events or reads.deadlines_read):
                continue
            if not _covers_live(definition, analysis, name, eid):
                continue
            recorders.append(eid)
        # ids in the fact could change the payloads other events are tried with
        if any(_mentions_id(spec.payload_spec, named, 0) for eid, spec in definition.events.items()
               if name in analysis.written[eid]):
            continue
        if recorders:
            out[name] = (tuple(next(iter(sign)) for sign in signs), tuple(recorders))
    return out


def _covers_live(definition: Definition, analysis: _Analysis, fact: str, eid: str) -> bool:
    """Is ``eid`` available in every leaf, per track, from which a reader of ``fact`` can
    still read it?"""
    reach = analysis.fact_reach.get(fact, analysis.reach)
    for track, allowed in analysis.constraints.get(eid, ()):
        for leaf in definition.tracks[track].leaves - allowed:
            ahead = reach[track].get(leaf, frozenset())
            for reader in analysis.fact_readers.get(fact, frozenset()):
                needs = dict(analysis.constraints.get(reader, ()))
                for where in analysis.uses.get((fact, reader), ({},)):
                    leaves = needs.get(track, definition.tracks[track].leaves)
                    if track in where:
                        leaves = leaves & where[track]
                    if ahead & leaves:
                        return False
    return True


def _mentions_id(spec: Any, named: Mapping[str, Any], depth: int) -> bool:
    if depth > 12:
        return True
    if isinstance(spec, str):
        return spec in named and _mentions_id(named[spec], named, depth + 1)
    if isinstance(spec, list):
        return any(_mentions_id(item, named, depth + 1) for item in spec)
    if isinstance(spec, Mapping):
        return any(str(key).removesuffix("?") == "id" or _mentions_id(value, named, depth + 1)
                   for key, value in spec.items())
    return False


def _dominates(signs: tuple[int, ...], new: Any, old: Any) -> bool:
    """Is predicate vector ``new`` strictly more permissive than ``old``?"""
    if not isinstance(new, tuple) or not isinstance(old, tuple) or new == old:
        return False
    return all((n >= o) if sign > 0 else (n <= o) for sign, n, o in zip(signs, new, old, strict=True))


def _fact_parts(traject: Traject, analysis: _Analysis) -> list[int]:
    """The canonical value of every decisive fact, before masking what is dead, each as a
    small number (one table per fact), so that abstract states hash and compare quickly."""
    memo = analysis.memo
    parts: list[int] = []
    for position, (name, sub) in enumerate(analysis.fact_items):
        value = traject.facts.get(name)
        hit = memo.get((name, id(value)))
        if hit is None or hit[0] is not value:
            # trajecten share unchanged fact values, so most lookups hit; the memo keeps
            # the value alive, which keeps its id unique
            tests = analysis.closed.get(name)
            if tests is not None:
                ctx = Context(data={}, facts={name: value} if value is not None else {},
                              state={}, event="", at=AT, params=analysis.params)
                canon: Any = tuple(bool(test(ctx)) for test in tests)
            else:
                canon = _canon(value, sub, analysis.caps.get(name, 2),
                               name in analysis.keyed_facts)
            codes = analysis.codes[position]
            code = codes.get(canon)
            if code is None:
                code = codes[canon] = len(analysis.values[position])
                analysis.values[position].append(canon)
            hit = (value, code)
            memo[(name, id(value))] = hit
        parts.append(hit[1])
    return parts


def _assemble(analysis: _Analysis, started: bool, tracks: tuple[tuple[str, str], ...],
              parts: Sequence[Any], deadlines: tuple[str, ...], seen: tuple[str, ...]) -> Any:
    """The abstract state; a fact that no event still possible from here reads cannot decide
    anything more, so its value is masked."""
    if started:
        dead = analysis.dead_cache.get(tracks)
        if dead is None:
            live = _live(analysis, dict(tracks))
            dead = analysis.dead_cache[tracks] = tuple(
                i for i, (name, _sub) in enumerate(analysis.fact_items) if name not in live)
        if dead:
            masked = list(parts)
            for i in dead:
                masked[i] = MASKED
            parts = masked
    return (started, tracks, tuple(parts), deadlines, seen)


def _abstract(traject: Traject, analysis: _Analysis) -> Any:
    seen = tuple(
        e for e in analysis.seen_events if any(h.event == e for h in traject.history)
    ) if analysis.seen_events else ()
    return _assemble(
        analysis, traject.started, tuple(sorted(traject.state.items())),
        _fact_parts(traject, analysis),
        tuple(sorted(d for d in traject.deadlines if d in analysis.deadlines_read)), seen)


# ------------------------------------------------------------------ representative payloads


class _Payloads:
    """The finite set of payloads an event is tried with, for one traject."""

    def __init__(self, definition: Definition, reads: _Reads, known: Sequence[str], today: date
                 ) -> None:
        self.named: Mapping[str, Any] = definition.raw.get("types") or {}
        self.reads = reads
        self.known = list(known)
        self.today = today
        self.taken = set(known)
        self.counter = 0
        self.expanding: list[str] = []
        self.align: str | None = None

    def variants(self, spec: Any) -> list[dict[str, Any]]:
        """The payloads for ``spec``: full, minimal, one change at a time, then one per known
        id with every compared text field set to that id (fields that must agree)."""
        base = [p for p in self.gen(spec, "") if isinstance(p, dict)]
        aligned: list[list[dict[str, Any]]] = []
        for ident in self.known[:4]:
            self.align = ident
            try:
                aligned.append([p for p in self.gen(spec, "") if isinstance(p, dict)])
            finally:
                self.align = None
        # each aligned payload, then one change at a time from each of them (a consent given
        # orally needs the aligned "van" as much as the plain one does), then the plain changes
        firsts = [group[0] for group in aligned if group]
        changes = [p for i in range(1, max((len(g) for g in aligned), default=0))
                   for g in aligned if i < len(g) for p in (g[i],)
                   if self._literal_change(g[0], p)]
        return _unique([*base[:1], *firsts, *changes, *base[1:]])

    def _literal_change(self, first: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
        """Does ``other`` differ from ``first`` only in values that are no ids (an enum value,
        a flag, a number, a date)? Only such changes are combined with an aligned payload."""
        for key in {*first, *other}:
            a, b = first.get(key), other.get(key)
            if a == b:
                continue
            if b is None or isinstance(b, (bool, int, float)):
                continue
            if isinstance(b, str) and b not in self.taken and b != "tekst":
                continue
            return False
        return True

    def fresh(self) -> str:
        while True:
            self.counter += 1
            candidate = f"n{self.counter}"
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate

    def referenced(self, path: str) -> bool:
        path = path.removesuffix("[]")
        full = f"data.{path}" if path else "data"
        return any(p == full or p.startswith(full + ".") or p.startswith(full + "[]")
                   for p in self.reads.paths)

    def literals(self, path: str) -> list[Any]:
        return list(self.reads.literals.get(f"data.{path}" if path else "data", []))

    def gen(self, spec: Any, path: str) -> list[Any]:
        if isinstance(spec, str):
            if spec in self.named:
                if spec in self.expanding or len(self.expanding) > 12:
                    return [None]
                self.expanding.append(spec)
                try:
                    return self.gen(self.named[spec], path)
                finally:
                    self.expanding.pop()
            return self.base(spec, {}, path)
        if isinstance(spec, list) and len(spec) == 1:
            return self.listing(spec[0], 0, None, path)
        if isinstance(spec, Mapping):
            if "enum" in spec and isinstance(spec["enum"], list) and spec["enum"]:
                return list(spec["enum"])
            if "type" in spec:
                base = spec["type"]
                if base == "list":
                    hi = spec.get("max_items")
                    return self.listing(spec.get("items", "any"), int(spec.get("min_items", 0)),
                                        int(hi) if isinstance(hi, int) else None, path)
                return self.base(str(base), spec, path)
            return self.obj(spec, path)
        return [None]

    def obj(self, spec: Mapping[str, Any], path: str) -> list[Any]:
        fields: list[tuple[str, bool, list[Any]]] = []
        for key, sub in spec.items():
            optional = key.endswith("?")
            name = key[:-1] if optional else key
            sub_path = f"{path}.{name}" if path else name
            fields.append((name, optional, self.gen(sub, sub_path)))
        full = {name: alts[0] for name, _opt, alts in fields if alts[0] is not None}
        out: list[Any] = [full]
        out.append({name: alts[0] for name, opt, alts in fields if not opt and alts[0] is not None})
        # round robin over the fields: when the variants are cut at MAX_VARIANTS, every
        # field keeps its first alternatives (an enum late in the payload is not lost
        # behind a list field with many variants)
        for name, optional, _alts in fields:
            if optional:
                out.append({k: v for k, v in full.items() if k != name})
        depth = max((len(alts) for _n, _o, alts in fields), default=0)
        for i in range(1, depth):
            for name, _optional, alts in fields:
                if i < len(alts):
                    out.append({**full, name: alts[i]})
        out.extend(self.literals(path))
        return _unique(out)

    def listing(self, item: Any, lo: int, hi: int | None, path: str) -> list[Any]:
        item_path = f"{path}[]"
        alts = self.gen(item, item_path)
        resolved = item
        while isinstance(resolved, str) and resolved in self.named:
            resolved = self.named[resolved]
        spread: list[Any] = []
        spread_field: str | None = None
        if isinstance(resolved, Mapping) and "enum" in resolved:
            spread = list(alts)
            alts = alts[:1]
        elif isinstance(resolved, Mapping) and isinstance(alts[0], dict):
            for key, sub in resolved.items():
                name = key.removesuffix("?")
                target = sub
                while isinstance(target, str) and target in self.named:
                    target = self.named[target]
                if isinstance(target, Mapping) and isinstance(target.get("enum"), list):
                    spread = [{**(self.gen(item, item_path)[0] if i else alts[0]), name: v}
                              for i, v in enumerate(target["enum"])]
                    spread_field = name
                    break
        size = max(lo, 1)
        default = spread if len(spread) >= size else [
            self.gen(item, item_path)[0] if i else alts[0] for i in range(size)
        ]
        if hi is not None:
            default = default[:hi]
        out: list[Any] = [default]
        for alt in alts[1:]:
            if spread_field is not None:
                # vary one element, keep the spread of the enum field (one element per value)
                if isinstance(alt, dict) and alt.get(spread_field) == default[0].get(spread_field):
                    out.append([alt, *default[1:]])
            else:
                out.append([alt, *default[1:]])
        if lo == 0:
            out.append([])
        if len(default) > max(lo, 1):
            out.append(default[: max(lo, 1)])
        out.extend(self.literals(path))
        return _unique(out)

    def base(self, base: str, spec: Mapping[str, Any], path: str) -> list[Any]:
        lits = self.literals(path)
        if base in ("text", "string"):
            name = path.rsplit(".", 1)[-1]
            default = self.fresh() if name == "id" else "tekst"
            if self.align is not None and name != "id" and self.referenced(path):
                default = self.align
            texts = [v for v in lits if isinstance(v, str)]
            if texts and name != "id":
                # the value a condition looks for (onderwerp: overleg) is the likely one
                out: list[Any] = [texts[0], default, *lits]
            else:
                out = [default, *lits]
            if self.referenced(path) or name == "id":
                out.extend(self.known)
                if name != "id":
                    out.append(self.fresh())
            return _unique(out)
        if base == "boolean":
            return _unique([True, False, *lits])
        if base in ("integer", "number"):
            lo, hi = spec.get("min"), spec.get("max")
            values = [v for v in (hi, lo) if isinstance(v, int | float) and not isinstance(v, bool)]
            if not values:
                values = [1, 0]
            return _unique([*values, *(v for v in lits if isinstance(v, int | float))])
        if base == "date":
            days = [self.today, _shift(self.today, 5), _shift(self.today, 14),
                    _shift(self.today, 40), self.today + timedelta(days=30)]
            return _unique([d.isoformat() for d in days] + lits)
        if base == "datetime":
            return [datetime.combine(self.today, datetime.min.time()).isoformat()]
        if base == "object":
            return [{}]
        if base == "list":
            return self.listing("any", 0, None, path)
        return ["tekst", *lits]  # any


def _shift(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: set[str] = set()
    out: list[Any] = []
    for v in values:
        text = json.dumps(v, sort_keys=True, default=str)
        if text not in seen:
            seen.add(text)
            out.append(v)
    return out


def _known_ids(facts: Mapping[str, Any], keyed: frozenset[str]) -> list[str]:
    found: list[str] = []

    def visit(value: Any, depth: int) -> None:
        if depth > 6 or len(found) >= MAX_KNOWN_IDS * 4:
            return
        if isinstance(value, Mapping):
            ident = value.get("id")
            if isinstance(ident, str) and ident not in found:
                found.append(ident)
            for sub in value.values():
                visit(sub, depth + 1)
        elif isinstance(value, list):
            for sub in value:
                visit(sub, depth + 1)

    for name in sorted(facts):
        value = facts[name]
        if name in keyed and isinstance(value, Mapping):
            for key in value:
                if isinstance(key, str) and key not in found:
                    found.append(key)
        visit(value, 0)
    return found[:MAX_KNOWN_IDS]


def _event_known_ids(analysis: _Analysis, event_id: str, facts: Mapping[str, Any]
                     ) -> tuple[str, ...]:
    """The ids a payload of ``event_id`` may refer to: those in the facts its conditions read
    (signal ids for ``signaal_opheffen``, member ids for a consent), not every id around."""
    names = analysis.event_facts.get(event_id, frozenset())
    return tuple(_known_ids({n: facts[n] for n in names if n in facts}, analysis.keyed_facts))


def representative_payloads(definition: Definition, event_id: str,
                            traject: Traject | None = None, *, today: date = TODAY
                            ) -> list[dict[str, Any]]:
    """The payloads the checker tries ``event_id`` with in ``traject`` (first: the full one).

    >>> basis = load_definition("basis")
    >>> [p["vorm"] for p in representative_payloads(basis, "toestemming_vastleggen")][:2]
    ['schriftelijk', 'schriftelijk']
    """
    spec = definition.events[event_id]
    if spec.payload_spec is None:
        return [{}]
    analysis = _analysis_for(definition)
    facts = traject.facts if traject is not None else {}
    known = list(_event_known_ids(analysis, event_id, facts))
    gen = _Payloads(definition, analysis.event_reads[event_id], known, today)
    return gen.variants(spec.payload_spec)[:MAX_VARIANTS]


_analyses: dict[int, tuple[Definition, _Analysis]] = {}


def _analysis_for(definition: Definition) -> _Analysis:
    cached = _analyses.get(id(definition))
    if cached is not None and cached[0] is definition:
        return cached[1]
    analysis = _analyse(definition)
    _analyses[id(definition)] = (definition, analysis)
    return analysis


def _distinct(payloads: Sequence[dict[str, Any]], trie: Mapping[str, Any], cap: int
              ) -> list[dict[str, Any]]:
    """One payload per distinct reading: payloads that every condition and every read fact
    sees alike lead to the same abstract state, so trying one of them is enough."""
    seen: set[Any] = set()
    out: list[dict[str, Any]] = []
    for payload in payloads:
        signature = _canon(payload, trie, cap)
        if signature not in seen:
            seen.add(signature)
            out.append(payload)
    return out[:MAX_VARIANTS]


def _actors(definition: Definition, spec: EventSpec, analysis: _Analysis) -> list[Actor | None]:
    if spec.id not in analysis.actor_events:
        return [Actor(ACTOR_ID)]
    roles = sorted(spec.roles) if spec.roles is not None else sorted(definition.roles)
    actors: list[Actor | None] = [Actor(ACTOR_ID, role) for role in roles]
    if spec.roles is None:
        actors.append(Actor(ACTOR_ID))
    return actors


# ------------------------------------------------------------------ exploration


def _possible(definition: Definition, spec: EventSpec, started: bool,
              state: Mapping[str, str]) -> bool:
    """Is ``spec`` available (started or not, and the tracks in ``state``)?"""
    if not started:
        return spec.id == definition.start_event
    if spec.id == definition.start_event:
        return False
    probe = Traject(id="", definition=definition.ref, state=state)
    return _availability(spec, probe, definition) is None


def _invariant_holds(definition: Definition, traject: Traject, condition: Any) -> bool:
    ctx = Context(data={}, facts=traject.facts, state=traject.state, event="", at=AT,
                  params=definition.params, history=traject.history, deadlines=traject.deadlines)
    return bool(condition(ctx))


@attrs.define
class _Node:
    traject: Traject | None  # None until expanded when reached through a remembered outcome
    parent: Any
    event: Event | None
    depth: int


def _trace(nodes: Mapping[Any, _Node], key: Any) -> tuple[Event, ...]:
    events: list[Event] = []
    node = nodes[key]
    while node.event is not None:
        events.append(node.event)
        node = nodes[node.parent]
    return tuple(reversed(events))


def _inert_events(definition: Definition, analysis: _Analysis) -> frozenset[str]:
    """Events that can never change an abstract state: no transitions, effects or deadlines,
    and they record only facts nothing decisive reads. One accepted firing says all."""
    inert: set[str] = set()
    for eid, spec in definition.events.items():
        if spec.transitions or spec.effects or spec.deadline_starts or spec.deadline_ends:
            continue
        if eid == definition.start_event or eid in analysis.seen_events:
            continue
        if any(rec.fact in analysis.fact_trie for rec in spec.records):
            continue
        inert.add(eid)
    return frozenset(inert)


def inert_events(definition: Definition) -> frozenset[str]:
    """Events that can never change what decides anything (notes, reminder actions, …).

    >>> sorted(inert_events(load_definition("basis")))[:3]
    ['actie_vastleggen', 'afschalen', 'betrokkene_toevoegen']
    """
    return _inert_events(definition, _analysis_for(definition))


def _final_tracks(definition: Definition) -> list[str]:
    return [tid for tid, track in definition.tracks.items() if track.finals]


class _Stepper:
    """Fires events for the checker and remembers what they do.

    An event's outcome depends only on the part of the abstract state it reads or writes
    (its footprint: the facts its conditions read, the facts it writes, the tracks, the
    deadlines and history conditions look at) and on the ids its payloads are built from.
    The first time an event meets a footprint it is stepped for real; after that the
    remembered change is applied to the abstract state directly, and the traject behind a
    new state is only built when that state is expanded. An event whose real step changed
    a fact outside its footprint is never remembered (a safety net for the analysis).
    """

    verify = False  # tests: rebuild every remembered state and compare

    def __init__(self, definition: Definition, analysis: _Analysis) -> None:
        self.definition = definition
        self.analysis = analysis
        index = {name: i for i, (name, _sub) in enumerate(analysis.fact_items)}
        self.reads: dict[str, tuple[int, ...]] = {}
        self.writes: dict[str, tuple[int, ...]] = {}
        self.uncached: set[str] = set()
        for eid in definition.events:
            read = analysis.event_facts.get(eid, frozenset())
            if any(name not in index for name in read) or analysis.event_reads[eid].opaque:
                # a read the abstraction does not keep, or a host predicate that may read
                # anything: step it for real every time
                self.uncached.add(eid)
            written = analysis.written[eid]
            self.reads[eid] = tuple(sorted(index[n] for n in read | written if n in index))
            self.writes[eid] = tuple(sorted(index[n] for n in written if n in index))
        # the tracks an event's outcome depends on (where it is available, what its
        # conditions test, what it moves) and the tracks it may move, as positions in the
        # sorted track tuple of an abstract state
        order = sorted(definition.tracks)
        self.tracks: dict[str, tuple[int, ...]] = {}
        self.moves: dict[str, tuple[int, ...]] = {}
        for eid, spec in definition.events.items():
            moved = {tr.track for tr in spec.transitions} | {
                t for effect in spec.effects for t, _ in effect.moves}
            reads = analysis.event_reads[eid]
            watched = set(moved) | {t for t, _ in spec.available or ()}
            watched |= {t for t, _ in reads.in_state} | reads.state_paths
            if reads.opaque or "*" in watched or eid == definition.start_event:
                watched = set(order)
            self.tracks[eid] = tuple(i for i, t in enumerate(order) if t in watched)
            self.moves[eid] = tuple(i for i, t in enumerate(order) if t in moved)
        self.pick_tracks = {eid: _picker(idx) for eid, idx in self.tracks.items()}
        self.pick_facts = {eid: _picker(idx) for eid, idx in self.reads.items()}
        self.payloads: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
        self.actors = {eid: _actors(definition, spec, analysis)
                       for eid, spec in definition.events.items()}
        self.memory: dict[Any, Any] = {}
        self.available: dict[Any, bool] = {}
        self.by_state: dict[Any, list[str]] = {}
        # ids from the facts shape an event's payloads only where its conditions compare
        # payload fields with facts (elsewhere an id reads like any other text)
        self.id_facts = {
            eid: tuple(sorted(analysis.event_facts.get(eid, frozenset())))
            if analysis.event_reads[eid].compared or _has_raw(analysis.data_tries.get(eid, {}))
            else () for eid in definition.events}
        self.ids: dict[Any, tuple[tuple[Any, ...], tuple[str, ...]]] = {}

    def _payloads(self, eid: str, known: tuple[str, ...]) -> list[dict[str, Any]]:
        cache_key = (eid, known)
        payloads = self.payloads.get(cache_key)
        if payloads is None:
            spec = self.definition.events[eid]
            if spec.payload_spec is None:
                payloads = [{}]
            else:
                gen = _Payloads(self.definition, self.analysis.event_reads[eid], known, TODAY)
                # an invalid payload is refused in every state: leave it out before choosing
                # one payload per reading, so that it cannot stand in for a valid one
                payloads = _distinct([p for p in gen.variants(spec.payload_spec)
                                      if _valid(spec, p)],
                                     self.analysis.data_tries[eid], self.analysis.cap)
            self.payloads[cache_key] = payloads
        return payloads

    def possible(self, eid: str, started: bool, tracks: Any) -> bool:
        """Available in this state (it depends only on the tracks and on being started)."""
        memo_key = (eid, started, tracks)
        known = self.available.get(memo_key)
        if known is None:
            known = self.available[memo_key] = _possible(
                self.definition, self.definition.events[eid], started, dict(tracks))
        return known

    def possible_events(self, started: bool, tracks: Any) -> list[str]:
        """The events available in this state, in definition order."""
        memo_key = (started, tracks)
        events = self.by_state.get(memo_key)
        if events is None:
            events = self.by_state[memo_key] = [
                eid for eid in self.definition.events if self.possible(eid, started, tracks)]
        return events

    def known_ids(self, eid: str, concrete: Callable[[], Traject]) -> tuple[str, ...]:
        """:func:`_event_known_ids`, remembered per identity of the facts it reads."""
        names = self.id_facts[eid]
        if not names:
            return ()
        traject = concrete()
        values = tuple(traject.facts.get(n) for n in names)
        memo_key = (eid, tuple(map(id, values)))
        hit = self.ids.get(memo_key)
        if hit is None or any(a is not b for a, b in zip(hit[0], values, strict=True)):
            hit = (values, _event_known_ids(self.analysis, eid, traject.facts))
            self.ids[memo_key] = hit  # keeps the values alive, so their ids stay unique
        return hit[1]

    def outcomes(self, eid: str, concrete: Callable[[], Traject], key: Any
                 ) -> Iterator[tuple[Mapping[str, Any], Actor | None, Traject | None, Any]]:
        """Every distinct accepted step: (payload, actor, traject after it or None, abstract
        state after it). Payloads that lead to the same abstract state count once."""
        started, tracks, facts, deadlines, seen = key
        if not self.possible(eid, started, tracks):
            return
        definition = self.definition
        analysis = self.analysis
        known = self.known_ids(eid, concrete)
        cached = eid not in self.uncached
        base = (eid, known, started, self.pick_tracks[eid](tracks), self.pick_facts[eid](facts),
                deadlines, seen)
        if cached:
            remembered = self.memory.get(base)
            if remembered is not None:
                for payload, actor, moved, delta, new_deadlines, new_seen in remembered:
                    parts = list(facts)
                    for i, code in delta:
                        parts[i] = code
                    new_tracks = tracks
                    if moved:
                        after = list(tracks)
                        for i, entry in moved:
                            after[i] = entry
                        new_tracks = tuple(after)
                    yield payload, actor, None, _assemble(analysis, True, new_tracks, parts,
                                                          new_deadlines, new_seen)
                return
        before: list[Any] | None = None
        found: dict[Any, tuple[Mapping[str, Any], Actor | None]] = {}
        writes = self.writes[eid]
        traject = concrete()
        for actor in self.actors[eid]:
            for payload in self._payloads(eid, known):
                outcome = step(definition, traject, Event(eid, AT, payload, actor))
                if not outcome.accepted:
                    continue
                new = outcome.traject
                parts = _fact_parts(new, analysis)
                new_tracks = tuple(sorted(new.state.items()))
                new_deadlines = tuple(sorted(d for d in new.deadlines
                                             if d in analysis.deadlines_read))
                new_seen = tuple(e for e in analysis.seen_events
                                 if e in seen or e == eid) if analysis.seen_events else ()
                if cached:
                    if before is None:
                        before = _fact_parts(traject, analysis)
                    if any(old != now and i not in writes
                           for i, (old, now) in enumerate(zip(before, parts, strict=True))):
                        self.uncached.add(eid)  # the analysis missed a write: step it always
                        cached = False
                if cached and any(old != now and i not in self.moves[eid]
                                  for i, (old, now) in enumerate(zip(tracks, new_tracks,
                                                                     strict=True))):
                    self.uncached.add(eid)  # moved a track the analysis did not expect
                    cached = False
                signature = (tuple((i, new_tracks[i]) for i in self.moves[eid]),
                             tuple((i, parts[i]) for i in writes),
                             new_deadlines, new_seen) if cached else None
                if signature is not None:
                    if signature in found:
                        continue
                    found[signature] = (payload, actor)
                yield payload, actor, new, _assemble(analysis, True, new_tracks, parts,
                                                     new_deadlines, new_seen)
        if cached:
            self.memory[base] = [(payload, actor, *signature)
                                 for signature, (payload, actor) in found.items()]


_UNKNOWN: Any = object()


def _picker(positions: tuple[int, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """``items -> tuple(items[i] for i in positions)``, done in C."""
    if not positions:
        return lambda items: ()
    if len(positions) == 1:
        (only,) = positions
        return lambda items: (items[only],)
    return operator.itemgetter(*positions)


def _has_raw(trie: Mapping[str, Any]) -> bool:
    return any(RAW in value if key == "" else _has_raw(value) for key, value in trie.items())


def _valid(spec: EventSpec, payload: dict[str, Any]) -> bool:
    if spec.validate is None:
        return True
    errors: list[str] = []
    spec.validate(payload, "", errors, TODAY)
    return not errors


def _drop_worse(analysis: _Analysis, found: list[tuple[Any, Any, Any, Any]], key: Any, i: int,
                signs: tuple[int, ...]) -> list[tuple[Any, Any, Any, Any]]:
    """A recorder step that only makes fact ``i`` strictly less permissive leads to a state
    this one can do everything of, and which the recorder can bring back here (it can also
    leave the fact as it is, and it reads nothing): that state needs no exploring of its
    own (see :func:`_eager`)."""
    if not any(new_key == key for *_rest, new_key in found):
        return found
    parts = key[2]
    values = analysis.values[i]
    if parts[i] == MASKED:
        return found
    return [entry for entry in found
            if not (entry[3][1] == key[1] and entry[3][3:] == key[3:]
                    and entry[3][2][:i] == parts[:i] and entry[3][2][i + 1:] == parts[i + 1:]
                    and entry[3][2][i] != MASKED
                    and _dominates(signs, values[parts[i]], values[entry[3][2][i]]))]


def _materialize(definition: Definition, analysis: _Analysis, nodes: Mapping[Any, _Node],
                 key: Any, verify: bool) -> Traject:
    """The traject behind ``key``: states reached through remembered outcomes get theirs
    only when something needs it, by replaying the steps from the nearest ancestor that has
    one."""
    chain = []
    here = key
    while nodes[here].traject is None:
        chain.append(here)
        here = nodes[here].parent
    traject = nodes[here].traject
    assert traject is not None
    for child in reversed(chain):
        node = nodes[child]
        assert node.event is not None
        traject = node.traject = step(definition, traject, node.event).traject
        if verify and _abstract(traject, analysis) != child:
            raise AssertionError(f"remembered outcome differs after {node.event.name}")
    return traject


def _more_permissive(steps: _Stepper, eager: Sequence[tuple[int, tuple[int, ...], tuple[str, ...]]],
                     traject: Callable[[], Traject], key: Any
                     ) -> tuple[Event, Traject | None, Any] | None:
    """A recorder step that changes one fact, and nothing else, into a strictly more
    permissive value (see :func:`_eager`); None when there is none here."""
    parts = key[2]
    for i, signs, recorders in eager:
        if parts[i] == MASKED:
            continue
        current = steps.analysis.values[i][parts[i]]
        if current == tuple(sign > 0 for sign in signs):
            continue  # as permissive as it gets
        for eid in recorders:
            # consumed in full, so that the outcomes are remembered
            for payload, actor, new, new_key in list(steps.outcomes(eid, traject, key)):
                after = new_key[2]
                if (new_key[1] == key[1] and new_key[3:] == key[3:]
                        and after[:i] == parts[:i] and after[i + 1:] == parts[i + 1:]
                        and after[i] != MASKED
                        and _dominates(signs, steps.analysis.values[i][after[i]], current)):
                    return Event(eid, AT, payload, actor), new, new_key
    return None


def _written_facts(definition: Definition, spec: EventSpec) -> frozenset[str]:
    """Every fact ``spec`` may write: its records, its effects' records, and the
    ``on_enter`` records of every state it may enter."""
    out = {r.fact for r in spec.records}
    targets: list[tuple[str, str]] = [(tr.track, tr.target) for tr in spec.transitions]
    for effect in spec.effects:
        out |= {r.fact for r in effect.records}
        targets.extend(effect.moves)
    for tid, target in targets:
        track = definition.tracks[tid]
        for path in track.ancestors[target]:
            out |= {r.fact for r in track.nodes[path].on_enter}
    return frozenset(out)


def check_definition(ref: str | Path | Definition, *, max_states: int = MAX_STATES) -> CheckResult:
    """Explore ``ref`` (a bundled id, a YAML path or a loaded definition) and report findings.

    Raises :class:`~eengezin.errors.DefinitionError` when the definition cannot be loaded.

    >>> check_definition("basis").findings
    ()
    """
    definition = load_definition(ref)
    # the search allocates millions of small tuples and frees almost none of them until it
    # ends; Python's cycle collector would walk them over and over (a third of the time)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _check(definition, max_states)
    finally:
        if collecting:
            gc.enable()


def _check(definition: Definition, max_states: int) -> CheckResult:
    started = time.perf_counter()
    analysis = _analysis_for(definition)
    analysis.memo.clear()
    always = [inv for inv in definition.invariants
              if isinstance(inv.raw, Mapping) and "always" in inv.raw]
    reachable_final = [inv for inv in definition.invariants
                       if isinstance(inv.raw, Mapping) and inv.raw.get("reachable_final")]
    root = new_traject(definition, "controle")
    root_key = _abstract(root, analysis)
    nodes: dict[Any, _Node] = {root_key: _Node(root, None, None, 0)}
    edges: dict[Any, set[Any]] = {}
    queue: deque[Any] = deque([root_key])
    fired: set[str] = set()
    violated: dict[str, Finding] = {}
    leaves_seen: dict[str, set[str]] = {tid: set() for tid in definition.tracks}
    transitions = 0
    incomplete = False
    for tid, state in root.state.items():
        leaves_seen[tid].add(state)
    inert = _inert_events(definition, analysis)
    steps = _Stepper(definition, analysis)
    index = {name: i for i, (name, _sub) in enumerate(analysis.fact_items)}
    eager = [(index[name], signs, recorders)
             for name, (signs, recorders) in analysis.eager.items() if name in index]
    worse = {eid: (i, signs) for i, signs, recorders in eager for eid in recorders}

    invariant_memo: dict[Any, bool] = {}
    watched = tuple(index[name] for name in sorted(analysis.always_live) if name in index)

    while queue:
        key = queue.popleft()
        node = nodes[key]

        def concrete(key: Any = key, node: _Node = node) -> Traject:
            if node.traject is not None:
                return node.traject
            return _materialize(definition, analysis, nodes, key, steps.verify)

        if steps.verify:
            concrete()
        if node.depth and always:
            # invariants read the tracks and the facts they name: their verdict is remembered
            # per that part of the abstract state
            seen_here = (key[1], tuple(key[2][i] for i in watched), key[3], key[4])
            ok = invariant_memo.get(seen_here)
            if ok is None:
                ok = invariant_memo[seen_here] = all(
                    _invariant_holds(definition, concrete(), inv.condition) for inv in always)
            if not ok:
                for inv in always:
                    if inv.id not in violated and not _invariant_holds(
                            definition, concrete(), inv.condition):
                        violated[inv.id] = Finding(
                            "invariant", inv.id, inv.message.strip(), _trace(nodes, key))
        successors = edges.setdefault(key, set())
        better = _more_permissive(steps, eager, concrete, key) if key[0] else None
        if better is not None:
            # this state can do nothing its successor cannot: explore only that step
            event, new, new_key = better
            fired.add(event.name)
            transitions += 1
            successors.add(new_key)
            if new_key not in nodes:
                if len(nodes) >= max_states:
                    incomplete = True
                else:
                    nodes[new_key] = _Node(new, key, event, node.depth + 1)
                    queue.append(new_key)
            continue
        for eid in steps.possible_events(key[0], key[1]):
            if eid in inert and eid in fired:
                continue  # a self-loop: it changes no abstract state
            accepted = False
            found: Iterable[tuple[Any, Any, Any, Any]] = steps.outcomes(eid, concrete, key)
            if eid in worse:
                found = _drop_worse(analysis, list(found), key, *worse[eid])
                accepted = True if found else accepted
            for payload, actor, new, new_key in found:
                accepted = True
                transitions += 1
                successors.add(new_key)
                if new_key in nodes:
                    continue
                if len(nodes) >= max_states:
                    incomplete = True
                    continue
                nodes[new_key] = _Node(new, key, Event(eid, AT, payload, actor), node.depth + 1)
                queue.append(new_key)
                for tid, state in new_key[1]:
                    leaves_seen.setdefault(tid, set()).add(state)
            if accepted:
                fired.add(eid)

    findings: list[Finding] = list(violated.values())
    # --- advice hook (advies_onmogelijk): the logic lives in advice.py; explored states are
    # reachable, so it also runs on an incomplete exploration ---
    from functools import partial

    from .advice import impossible_advice
    findings.extend(Finding("advies_onmogelijk", a.rule, a.message(definition), _trace(nodes, a.key))
                    for a in impossible_advice(
                        definition,
                        ((k, dict(k[1]), partial(_materialize, definition, analysis, nodes, k, False))
                         for k in nodes if k[0]),
                        lambda eid, state: steps.possible(eid, True, tuple(sorted(state.items()))),
                        lambda eid, t: steps._payloads(eid, steps.known_ids(eid, lambda: t)),
                        AT))
    # --- end of advice hook ---
    if incomplete:
        # with part of the space unexplored, dead ends and unreachable states would be guesses
        findings.append(Finding(
            "onvolledig", definition.id,
            f"meer dan {max_states} abstracte toestanden: de verkenning is afgebroken; "
            "alleen invariant-schendingen zijn gecontroleerd"))
        analysis.memo.clear()
        return CheckResult(
            definition=definition.id, version=definition.version, states=len(nodes),
            transitions=transitions, seconds=time.perf_counter() - started,
            findings=tuple(findings))
    final_tracks = _final_tracks(definition)
    if final_tracks:
        findings.extend(_dead_ends(definition, nodes, edges, final_tracks, reachable_final))
    for tid, track in definition.tracks.items():
        for leaf in sorted(track.leaves - leaves_seen.get(tid, set())):
            findings.append(Finding(
                "onbereikbaar", f"{tid}.{leaf}",
                f"staat '{leaf}' van track '{tid}' wordt door geen enkel traject bereikt"))
    for eid in definition.events:
        if eid not in fired:
            findings.append(Finding(
                "nooit_mogelijk", eid,
                f"event '{eid}' wordt in geen enkele bereikbare toestand geaccepteerd"))
    analysis.memo.clear()
    return CheckResult(
        definition=definition.id, version=definition.version, states=len(nodes),
        transitions=transitions, seconds=time.perf_counter() - started, findings=tuple(findings),
    )


def _dead_ends(definition: Definition, nodes: Mapping[Any, _Node], edges: Mapping[Any, set[Any]],
               final_tracks: Sequence[str], reachable_final: Sequence[Any]) -> list[Finding]:
    def is_final(key: Any) -> bool:
        state = dict(key[1])
        return all(state.get(t) in definition.tracks[t].finals for t in final_tracks)

    reverse: dict[Any, list[Any]] = {}
    for source, targets in edges.items():
        for target in targets:
            reverse.setdefault(target, []).append(source)
    good = {key for key in nodes if is_final(key)}
    queue = deque(good)
    while queue:
        key = queue.popleft()
        for source in reverse.get(key, ()):
            if source not in good:
                good.add(source)
                queue.append(source)
    dead = sorted((k for k in nodes if k not in good), key=lambda k: nodes[k].depth)
    if not dead:
        return []
    subject = reachable_final[0].id if reachable_final else "doodlopend"
    ends = " of ".join(
        f"{t} in {'/'.join(sorted(definition.tracks[t].finals))}" for t in final_tracks)
    out: list[Finding] = []
    for key in dead[:SHOWN_DEAD_ENDS]:
        state = ", ".join(f"{t}={s}" for t, s in key[1])
        more = f" ({len(dead)} doodlopende toestanden in totaal)" if len(dead) > 1 else ""
        out.append(Finding(
            "doodlopend", subject,
            f"vanuit {state} is geen eindstaat ({ends}) meer bereikbaar{more}",
            _trace(nodes, key)))
    return out


# ------------------------------------------------------------------ report


def format_event(event: Event) -> str:
    """One trace line: the event id and its payload as compact JSON."""
    data = json.dumps(dict(event.data), ensure_ascii=False, sort_keys=True, default=str)
    role = f" (rol {event.actor.role})" if event.actor is not None and event.actor.role else ""
    return f"{event.name}{role} {data}" if event.data else f"{event.name}{role}"


def write_report(result: CheckResult, out: TextIO) -> None:
    """Write ``result`` for a definition author (Dutch, one finding per block)."""
    out.write(f"{result.definition} v{result.version}: {result.states} abstracte toestanden "
              f"verkend, {result.transitions} overgangen ({result.seconds:.2f} s)\n")
    if result.sound:
        out.write("geen bevindingen\n")
        return
    for finding in result.findings:
        out.write(f"\n[{finding.kind}] {finding.subject}: {finding.message}\n")
        if finding.trace is not None:
            out.write(f"  kortste spoor ({len(finding.trace)} events):\n")
            for i, event in enumerate(finding.trace, start=1):
                out.write(f"  {i:3}. {format_event(event)}\n")
    out.write(f"\n{len(result.findings)} bevinding(en)\n")


def result_json(result: CheckResult) -> dict[str, Any]:
    """``result`` as JSON data (``eengezin check --json``), traces included.

    >>> data = result_json(check_definition("basis"))
    >>> data["sound"], data["findings"], data["states"] > 100
    (True, [], True)
    """
    def event_json(event: Event) -> dict[str, Any]:
        actor = event.actor
        return {
            "event": event.name,
            "at": event.at.isoformat(),
            "data": json.loads(json.dumps(dict(event.data), default=str)),
            "actor": None if actor is None else {"id": actor.id, "role": actor.role},
        }

    return {
        "definition": {"id": result.definition, "version": result.version},
        "sound": result.sound,
        "states": result.states,
        "transitions": result.transitions,
        "seconds": round(result.seconds, 3),
        "findings": [
            {"kind": f.kind, "subject": f.subject, "message": f.message,
             "trace": None if f.trace is None else [event_json(e) for e in f.trace]}
            for f in result.findings
        ],
    }


def check_command(ref: str, out: TextIO, err: TextIO | None = None, *,
                  max_states: int = MAX_STATES, as_json: bool = False) -> int:
    """Run ``eengezin check DEF``: 0 sound, 1 with findings, 2 for an unusable definition.

    >>> import io
    >>> check_command("basis", io.StringIO())
    0
    """
    try:
        result = check_definition(ref, max_states=max_states)
    except DefinitionError as exc:
        stream = err if err is not None else out
        for problem in exc.problems:
            stream.write(f"{problem}\n")
        return _EXIT_UNUSABLE
    if as_json:
        out.write(json.dumps(result_json(result), ensure_ascii=False, indent=2) + "\n")
    else:
        write_report(result, out)
    return _EXIT_OK if result.sound else _EXIT_FINDINGS


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """The ``check`` subcommand handler."""
    return check_command(args.definition, out, sys.stderr, max_states=args.max_states,
                         as_json=args.json)


def register(sub: Any) -> None:
    """Add ``eengezin check DEF`` to the command line's subparsers."""
    p = sub.add_parser("check", help="modelcontrole: onbereikbare staten, doodlopende paden, "
                                     "invarianten (exit 1 met kortste spoor)")
    p.add_argument("definition", metavar="DEF", help="meegeleverd id of pad naar YAML")
    p.add_argument("--max-states", type=int, default=MAX_STATES, metavar="N",
                   help=f"stop na N abstracte toestanden (standaard {MAX_STATES})")
    p.add_argument("--json", action="store_true",
                   help="één JSON-object op stdout: toestanden, bevindingen met hun spoor")
    p.set_defaults(handler=cmd_check)
