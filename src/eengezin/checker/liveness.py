"""Liveness: which facts can still be read from a state.

A fact that no event still possible from a state reads (before it is overwritten) cannot
decide anything more; the abstract state masks its value (:func:`live`). Which leaves each
leaf of a track can still reach is computed once, ignoring guards (an over-approximation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ..process.model import Definition, Record
from .reads import Gathered, required_states

if TYPE_CHECKING:
    from .analysis_model import Analysis

Reach = dict[str, dict[str, frozenset[str]]]
Move = tuple[str, str, str, frozenset[str]]  # track, from leaf, to leaf, facts overwritten


def live(analysis: Analysis, state: Mapping[str, str]) -> frozenset[str]:
    """The facts some event still possible from the tracks in ``state`` can read."""
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

    result = frozenset(
        name for name, readers in analysis.fact_readers.items()
        if name in analysis.always_live or any(
            can_read(name, r, analysis.fact_reach.get(name, analysis.reach)) for r in readers)
    )
    analysis.live_cache[key] = result
    return result


def liveness(definition: Definition, analysis: Analysis, invariant_reads: Gathered) -> None:
    """Fill in which events read which facts, where each event can happen, and which
    leaves each leaf of a track can still reach (guards ignored: an over-approximation)."""
    readers: dict[str, set[str]] = {name: set() for name in analysis.fact_trie}
    for eid, reads in analysis.event_reads.items():
        for name in reads.facts():
            if name in readers:
                readers[name].add(eid)
    analysis.fact_readers = {k: frozenset(v) for k, v in readers.items()}
    analysis.event_facts = {eid: reads.facts() for eid, reads in analysis.event_reads.items()}
    analysis.always_live = invariant_reads.facts()
    # every move a track can make, with the facts it certainly overwrites on the way (the
    # event's own unconditional set/unset, an unconditional effect, an entered state's
    # on_enter): a value that is always overwritten before a reader can see it is dead
    moves: list[Move] = []
    for spec in definition.events.values():
        own = overwrites(spec.records)
        for tr in spec.transitions:
            for source in tr.sources:
                moves.append((tr.track, source, tr.target,
                              own | entry_overwrites(definition, tr.track, source, tr.target)))
        available = dict(spec.available or ())
        for effect in spec.effects:
            kills = own | (overwrites(effect.records) if effect.when is None else frozenset())
            required = required_states(definition, effect.condition)
            for tid, target in effect.moves:
                sources = available.get(tid, definition.tracks[tid].leaves)
                for leaf in sources & required.get(tid, sources):
                    moves.append((tid, leaf, target,
                                  kills | entry_overwrites(definition, tid, leaf, target)))
    analysis.reach = reach(definition, moves, None)
    killed = {fact for *_rest, kills in moves for fact in kills if fact in analysis.fact_trie}
    analysis.fact_reach = {fact: reach(definition, moves, fact) for fact in sorted(killed)}
    for eid, spec in definition.events.items():
        if spec.available is not None:
            analysis.constraints[eid] = tuple(spec.available)
        elif spec.transitions and len({tr.track for tr in spec.transitions}) == 1:
            origins: frozenset[str] = frozenset().union(*(tr.sources for tr in spec.transitions))
            analysis.constraints[eid] = ((spec.transitions[0].track, origins),)
        else:
            analysis.constraints[eid] = ()


def overwrites(records: Iterable[Record]) -> frozenset[str]:
    """Facts that ``records`` always replace as a whole (unconditional set or unset)."""
    return frozenset(r.fact for r in records if r.when is None and r.op in ("set", "unset"))


def entry_overwrites(definition: Definition, track: str, source: str, target: str
                     ) -> frozenset[str]:
    spec = definition.tracks[track]
    if source == target:
        return frozenset()
    entered = set(spec.ancestors[target]) - set(spec.ancestors[source])
    return frozenset().union(*(overwrites(spec.nodes[path].on_enter) for path in entered))


def reach(definition: Definition, moves: Sequence[Move], fact: str | None) -> Reach:
    """Per track, the leaves each leaf can reach (guards ignored: an over-approximation);
    with ``fact``, only along moves that leave its value in place."""
    graph: dict[str, dict[str, set[str]]] = {
        tid: {leaf: set() for leaf in track.leaves} for tid, track in definition.tracks.items()}
    for tid, source, target, kills in moves:
        if fact is None or fact not in kills:
            graph[tid].setdefault(source, set()).add(target)
    out: Reach = {}
    for tid, edges in graph.items():
        found: dict[str, frozenset[str]] = {}
        for leaf in edges:
            seen = {leaf}
            todo = [leaf]
            while todo:
                for nxt in edges.get(todo.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            found[leaf] = frozenset(seen)
        out[tid] = found
    return out


def covers_live(definition: Definition, analysis: Analysis, fact: str, eid: str) -> bool:
    """Is ``eid`` available in every leaf, per track, from which a reader of ``fact`` can
    still read it?"""
    found = analysis.fact_reach.get(fact, analysis.reach)
    for track, allowed in analysis.constraints.get(eid, ()):
        for leaf in definition.tracks[track].leaves - allowed:
            ahead = found[track].get(leaf, frozenset())
            for reader in analysis.fact_readers.get(fact, frozenset()):
                needs = dict(analysis.constraints.get(reader, ()))
                for where in analysis.uses.get((fact, reader), ({},)):
                    leaves = needs.get(track, definition.tracks[track].leaves)
                    if track in where:
                        leaves = leaves & where[track]
                    if ahead & leaves:
                        return False
    return True
