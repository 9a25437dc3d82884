"""Reductions that keep the abstract state space small and drop no finding.

- :func:`closed_facts`: a fact read only through predicates on that fact alone is kept as
  the truth of those predicates;
- :func:`eager`, :func:`more_permissive`, :func:`drop_worse`: a recorder step to a strictly
  more permissive fact is the only step explored from a state that offers it, and a step to
  a strictly less permissive one is not explored;
- :func:`inert_events`: events that can never change an abstract state are fired once;
- :func:`observed_facts`: facts that only events changing nothing else read are left out
  of the abstract state, and those events are settled apart.

Masking dead values is in :mod:`.liveness`; remembering outcomes per footprint in
:mod:`.stepping`. Each is explained in ``docs/testing.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..process.model import Definition
from ..rules.footprint import Condition
from ..rules.predicates import Check
from ..traject import Actor, Event, Traject
from .liveness import covers_live
from .reads import fact_of
from .settings import MASKED
from .state import AbstractState

if TYPE_CHECKING:
    from .analysis_model import Analysis
    from .stepping import Stepper

Outcome = tuple[Mapping[str, Any], Actor | None, Traject | None, AbstractState]
Eager = tuple[int, tuple[int, ...], tuple[str, ...]]  # fact position, signs, recorders


def closed_facts(definition: Definition, roots: Iterable[tuple[int, Condition | None]],
                 trie: Mapping[str, Any], steering: frozenset[str]
                 ) -> tuple[dict[str, tuple[Check, ...]], dict[str, tuple[set[int], ...]]]:
    """Facts every decisive condition reads only through predicates that look at that fact
    alone (``present: [facts.plan.tabblad_1.regisseur, ...]``), and that are only ever
    replaced as a whole. Such a fact decides nothing but the truth of those predicates, so
    the abstract state keeps just their values (a plan with one field missing and a plan
    with another field missing are the same to the rules). ``steering``: facts whose parts
    matter elsewhere (guards, records, effects), which never qualify."""
    units: dict[str, list[Condition]] = {}
    signs: dict[str, list[set[int]]] = {}
    spoiled: set[str] = set(steering)
    for polarity, root in roots:
        if root is None:
            continue
        for unit, sign in root.units(polarity):
            facts: set[str] = set()
            reads = unit.reads
            other = reads.opaque or reads.clock
            for text in reads.paths:
                head, _, rest = text.partition(".")
                if head == "facts" and rest:
                    facts.add(fact_of(text))
                elif head in ("item", "params"):
                    continue
                else:
                    other = True
            if len(facts) == 1 and not other:
                name = facts.pop()
                found = units.setdefault(name, [])
                texts = [u.text for u in found]
                if unit.text not in texts:
                    found.append(unit)
                    signs.setdefault(name, []).append(set())
                    texts.append(unit.text)
                signs[name][texts.index(unit.text)].add(sign)
            else:
                spoiled |= facts
    # merged into: the parts matter, not only the predicates
    for spec in definition.events.values():
        for rec in (*spec.records, *(r for e in spec.effects for r in e.records)):
            if rec.op not in ("set", "unset"):
                spoiled.add(rec.fact)
    for track in definition.tracks.values():
        for node in track.nodes.values():
            spoiled |= {r.fact for r in node.on_enter if r.op not in ("set", "unset")}
    out = {name: tuple(unit.check for unit in found) for name, found in units.items()
           if name not in spoiled and name in trie}
    return out, {name: tuple(signs[name]) for name in out}


def eager(definition: Definition, analysis: Analysis,
          polarities: Mapping[str, tuple[set[int], ...]]
          ) -> dict[str, tuple[tuple[int, ...], tuple[str, ...]]]:
    """Facts whose every read only lets events through more when a predicate is true (or
    only when it is false), with the events that record nothing else: ``fact -> (sign per
    predicate, recorders)``.

    A state where a recorder can make such a fact strictly more permissive can do
    everything it could do before, and the recorder takes it there, so the checker explores
    only that step from it (see :func:`dominates`). That is only sound when the recorder
    stays possible for as long as the fact can matter: from any state reached by skipping
    the recorder, it can still be fired to catch up. So a recorder qualifies only if it
    reads nothing that can change (no facts, no track states in its rules) and is available
    in every leaf from which a reader of the fact can still be reached. A recorder that is
    only possible in an early phase does not qualify: advancing without it can be a dead end.
    """
    out: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {}
    named = definition.types
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
                    or reads.opaque or reads.seen_events or reads.deadlines_read or reads.clock):
                continue
            if not covers_live(definition, analysis, name, eid):
                continue
            recorders.append(eid)
        # ids in the fact could change the payloads other events are tried with
        if any(_mentions_id(spec.payload_spec, named, 0) for eid, spec in definition.events.items()
               if name in analysis.written[eid]):
            continue
        if recorders:
            out[name] = (tuple(next(iter(sign)) for sign in signs), tuple(recorders))
    return out


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


def dominates(signs: tuple[int, ...], new: Any, old: Any) -> bool:
    """Is predicate vector ``new`` strictly more permissive than ``old``?"""
    if not isinstance(new, tuple) or not isinstance(old, tuple) or new == old:
        return False
    return all((n >= o) if sign > 0 else (n <= o) for sign, n, o in zip(signs, new, old, strict=True))


def drop_worse(analysis: Analysis, found: list[Outcome], key: AbstractState, i: int,
               signs: tuple[int, ...]) -> list[Outcome]:
    """A recorder step that only makes fact ``i`` strictly less permissive leads to a state
    this one can do everything of, and which the recorder can bring back here (it can also
    leave the fact as it is, and it reads nothing): that state needs no exploring of its
    own (see :func:`eager`)."""
    if not any(new_key == key for *_rest, new_key in found):
        return found
    parts = key.facts
    values = analysis.values[i]
    if parts[i] == MASKED:
        return found
    return [entry for entry in found
            if not (entry[3].same_but_fact(key, i)
                    and dominates(signs, values[parts[i]], values[entry[3].facts[i]]))]


def more_permissive(steps: Stepper, eager: Sequence[Eager], traject: Callable[[], Traject],
                    key: AbstractState, at: datetime
                    ) -> tuple[Event, Traject | None, AbstractState] | None:
    """A recorder step that changes one fact, and nothing else, into a strictly more
    permissive value (see :func:`eager`); None when there is none here."""
    parts = key.facts
    for i, signs, recorders in eager:
        if parts[i] == MASKED:
            continue
        current = steps.analysis.values[i][parts[i]]
        if current == tuple(sign > 0 for sign in signs):
            continue  # as permissive as it gets
        for eid in recorders:
            # consumed in full, so that the outcomes are remembered
            for payload, actor, new, new_key in list(steps.outcomes(eid, traject, key, at)):
                if (new_key.same_but_fact(key, i)
                        and dominates(signs, steps.analysis.values[i][new_key.facts[i]], current)):
                    return Event(eid, at, payload, actor), new, new_key
    return None


def inert_events(definition: Definition, analysis: Analysis) -> frozenset[str]:
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


def observed_facts(definition: Definition, analysis: Analysis
                   ) -> tuple[frozenset[str], frozenset[str]]:
    """Facts only *observers* read, and those observers: ``(facts, events)``.

    An observer is an event that changes nothing but such facts: it moves no track, starts
    or ends no deadline a condition reads, is not asked about by ``event_seen`` and writes
    no other decisive fact (sharing the plan, which only consent decides). Every other
    event reads none of these facts, in its conditions, its copies or its payload ids; nor
    does an invariant. So two trajecten that differ only in these facts have the same
    future outside them: the search can leave them out of the abstract state (they are
    masked like dead facts), and everything it decides stays exact except what the
    observers themselves do. That is settled apart (see ``check_definition`` in
    :mod:`.parts`): an observer accepted in a reachable traject is accepted; advice of an
    observer's rule is only in doubt where a ``next`` event it names is not possible.

    The greatest such set: start from every fact and drop what a non-observer reads until
    nothing changes (dropping facts can make an event a non-observer).
    """
    names = frozenset(analysis.fact_trie) - {"", "[]"}
    candidates = set(names - analysis.always_live)
    if any(reads.opaque for reads in analysis.event_reads.values()):
        return frozenset(), frozenset()  # a host predicate may read anything
    reads = {eid: analysis.event_reads[eid].facts() & names for eid in definition.events}
    moves = {eid for eid, spec in definition.events.items()
             if spec.transitions or any(e.moves for e in spec.effects)}
    fixed = {eid for eid, spec in definition.events.items()
             if eid == definition.start_event or eid in analysis.seen_events or any(
                 d.id in analysis.deadlines_read
                 for d in (*spec.deadline_starts, *spec.deadline_ends))}
    changed = True
    while changed:
        changed = False
        for eid in definition.events:
            if not reads[eid] & candidates:
                continue
            written = analysis.written[eid] & names
            if eid in moves or eid in fixed or not written <= candidates:
                candidates -= reads[eid]
                changed = True
    observers = frozenset(eid for eid in definition.events if reads[eid] & candidates)
    # facts nobody reads are dead anyway (:mod:`.liveness`); name only the observed ones
    observed = frozenset(candidates) & frozenset().union(
        *(reads[eid] for eid in observers))
    return observed, observers
