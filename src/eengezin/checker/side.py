"""Side tracks: a track the rest of the process only waits for.

Zuid-limburg's stagnation ladder is the example. A professional reports stagnation (the
*entry*, possible only while the ladder rests in ``geen``). From then on the ladder moves
by its own events, which read nothing but the ladder and its own facts. The rest of the
process reads the ladder in one place only: ``afsluiten`` waits until it is back in
``geen``. Searching every state of the process next to every state of the ladder
multiplies the space by the ladder's size, and that product decides nothing new.

A track is a side track (:func:`side_tracks`) when:

- its events move no other track and write only its own facts, which nothing else reads
  or writes (nor an invariant, nor a deadline a condition reads, nor ``event_seen``);
- its events that read anything else (entries) are possible only in its initial state,
  *home*, and the others (internal) read only the track and its facts;
- every other event reads the track only where being home lets it through more: an
  ``in_state`` that lets an event through includes home, one that blocks excludes it, and
  no guard, record or effect reads it;
- it has no final state, and no invariant reads it.

Then the search keeps the track at home and never adds the states its events lead to
(:mod:`.explore`). Everything else it decides stays exact:

- every step the rest of the process takes with the track away it can also take with the
  track home, with the same effect, and the search with the track home is itself a real
  process: so it reaches exactly the other tracks' and facts' states;
- the track can always come home (checked below): then a state with the track away can
  finish exactly when the same state with the track home can, so dead ends are exact.

What the track's own events do is settled apart (:func:`excursions`): from every
distinct state an entry leads to, the internal events are explored on their own, since
they read nothing else. That walks every state the track can be in. It must lead home
from each (else the check searches again without side tracks), it tells which events
are accepted and which states are reached, and the advice of every rule is checked for
the states away from home (when in doubt, the search without side tracks decides).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from ..process.model import Definition, Rule
from ..process.step import step
from ..rules.footprint import Condition, Reads
from ..traject import Event, Traject
from .advice import named_next, rules_with_next
from .analysis_model import SideTrack
from .liveness import live
from .reads import required_states
from .state import AbstractState, abstract

if TYPE_CHECKING:
    from .analysis_model import Analysis
    from .stepping import Stepper

__all__ = ["ALL", "Excursions", "SideTrack", "away_masks", "excursions", "side_tracks"]

MAX_SIDE = 7
ALL = (1 << MAX_SIDE) - 1
"""An edge's flags when every side track could be away (time passing)."""


def _reads_track(reads: Reads, tid: str) -> bool:
    return any(t == tid for t, _ in reads.states) or any(
        p == f"state.{tid}" or p.startswith(f"state.{tid}.") for p in reads.paths)


def _steers(condition: Condition | None, tid: str) -> bool:
    """Does ``condition`` read track ``tid`` at all?"""
    return condition is not None and (condition.reads.opaque or _reads_track(condition.reads, tid))


def _permissive(condition: Condition | None, polarity: int, tid: str, home: str) -> bool:
    """Is home the state of ``tid`` that lets ``condition`` through the most? ``polarity``:
    +1 where the condition being true lets the event through, -1 where it blocks."""
    if condition is None:
        return True
    for unit, sign in condition.units(polarity):
        reads = unit.reads
        if reads.opaque:
            return False
        if not _reads_track(reads, tid):
            continue
        if unit.op != "in_state" or any(p.startswith("state.") for p in reads.paths):
            return False
        for t, leaves in reads.states:
            if t == tid and (home in leaves) != (sign > 0):
                return False
    return True


def side_tracks(definition: Definition, analysis: Analysis) -> tuple[SideTrack, ...]:
    """The side tracks of ``definition`` (see the module)."""
    if any(reads.opaque for reads in analysis.event_reads.values()):
        return ()
    found: list[SideTrack] = []
    for tid, track in definition.tracks.items():
        side = _side_track(definition, analysis, tid, track.initial)
        if side is not None and not track.finals:
            found.append(side)
    return tuple(found[:MAX_SIDE])


def _side_track(definition: Definition, analysis: Analysis, tid: str, home: str
                ) -> SideTrack | None:
    names = frozenset(analysis.fact_trie) - {"", "[]"}
    if home not in definition.tracks[tid].leaves:
        return None
    moved = {eid: {tr.track for tr in spec.transitions}
             | {t for effect in spec.effects for t, _ in effect.moves}
             for eid, spec in definition.events.items()}
    events = {eid for eid, tracks in moved.items() if tid in tracks}
    if not events:
        return None
    # and every event possible only away from home (it happens during an excursion)
    events |= {eid for eid, spec in definition.events.items()
               if home not in dict(spec.available or ()).get(tid, {home})}
    while True:  # its facts, and every event that writes one of them
        facts = frozenset().union(*(analysis.written[e] & names for e in events))
        more = {eid for eid in definition.events if analysis.written[eid] & facts} - events
        if not more:
            break
        events |= more
    internal: set[str] = set()
    for eid in events:
        spec = definition.events[eid]
        reads = analysis.event_reads[eid]
        if (moved[eid] - {tid} or eid == definition.start_event or eid in analysis.seen_events
                or any(d.id in analysis.deadlines_read
                       for d in (*spec.deadline_starts, *spec.deadline_ends))):
            return None
        available = dict(spec.available or ())
        if (reads.facts() <= facts and set(available) <= {tid} and not reads.clock
                and {t for t, _ in reads.in_state} <= {tid} and reads.state_paths <= {tid}
                and not reads.deadlines_read and not reads.seen_events):
            internal.add(eid)
        elif not available.get(tid, frozenset()) or available[tid] - {home}:
            return None  # an entry possible away from home
    for eid, reads in analysis.event_reads.items():
        if eid not in events and reads.facts() & facts:
            return None
    if analysis.always_live & facts:
        return None
    if not _others_permissive(definition, analysis, frozenset(events), tid, home):
        return None
    invariants = frozenset(inv.id for inv in definition.invariants if _steers(inv.always, tid))
    return SideTrack(tid, home, facts, frozenset(events), frozenset(internal), invariants)


def _others_permissive(definition: Definition, analysis: Analysis, events: frozenset[str],
                       tid: str, home: str) -> bool:
    """Do the events that are not the track's read it only where home lets them through
    more (see the module)?"""
    for eid, spec in definition.events.items():
        if eid in events:
            continue
        allowed = dict(spec.available or ()).get(tid)
        if allowed is not None and home not in allowed:
            return False
        if any(_steers(tr.condition, tid) for tr in spec.transitions):
            return False
        if any(_steers(rec.condition, tid) for rec in spec.records):
            return False
    for effect in definition.effects:
        if _steers(effect.condition, tid) or any(_steers(r.condition, tid)
                                                 for r in effect.records):
            return False
    for track in definition.tracks.values():
        for node in track.nodes.values():
            if any(_steers(r.condition, tid) for r in node.on_enter):
                return False
    for deadline in definition.deadlines.values():
        if deadline.id in analysis.deadlines_read and _steers(deadline.start_condition, tid):
            return False
    for rule in definition.rules:
        if rule.severity != "block" or set(rule.events) <= events:
            continue
        if not (_permissive(rule.if_condition, -1, tid, home)
                and _permissive(rule.require_condition, +1, tid, home)):
            return False
        if any(isinstance(c, Condition) and _steers(c, tid) for _n, c in rule.next_when):
            return False
    return True


def away_masks(definition: Definition, sides: Iterable[SideTrack]) -> dict[str, int]:
    """Per event, the side tracks (as bits, in the order of ``sides``) with which it may
    also be taken while the track is away from home: an over-approximation (only an event
    that is not possible away, or that a rule without ``if`` requires home for, is not)."""
    out: dict[str, int] = {}
    for k, side in enumerate(sides):
        away = definition.tracks[side.track].leaves - {side.home}
        for eid, spec in definition.events.items():
            if eid in side.events:
                continue
            allowed = dict(spec.available or ()).get(side.track, away)
            if not allowed & away:
                continue
            if any(_requires_home(rule.require_condition, side) for rule in spec.rules
                   if rule.severity == "block" and rule.if_condition is None):
                continue
            out[eid] = out.get(eid, 0) | (1 << k)
    return out


def _requires_home(condition: Condition | None, side: SideTrack) -> bool:
    if condition is None:
        return False
    return any(unit.op == "in_state" and any(
        t == side.track and leaves <= {side.home} for t, leaves in unit.reads.states)
        for unit in condition.conjuncts())


def away_states(entered: Iterable[int], edges: tuple[Sequence[int], Sequence[int], Sequence[int]],
                bit: int) -> set[int]:
    """The states the search reached (by number) that the process can be in while the side
    track with flag ``bit`` is away: those where an entry took it away, and every state
    reached from them by steps that can be taken with it away."""
    sources, targets, flags = edges
    after: dict[int, list[int]] = {}
    for source, target, flag in zip(sources, targets, flags, strict=True):
        if flag & bit:
            after.setdefault(source, []).append(target)
    found = set(entered)
    todo = deque(found)
    while todo:
        for target in after.get(todo.popleft(), ()):
            if target not in found:
                found.add(target)
                todo.append(target)
    return found


@attrs.define
class Excursions:
    """What the side tracks' own events did, explored apart (see :func:`excursions`)."""

    fired: set[str] = attrs.Factory(set)
    leaves: dict[str, set[str]] = attrs.Factory(dict)
    settled: bool = True


Part = tuple[str, tuple[int, ...]]  # the track's leaf, its facts' codes


def _part(side: SideTrack, positions: tuple[int, ...], key: AbstractState) -> Part:
    return dict(key.tracks)[side.track], tuple(key.facts[i] for i in positions)


def excursions(definition: Definition, analysis: Analysis, steps: Stepper,
               starts: Mapping[str, dict[Part, tuple[Traject, datetime]]],
               combos: Iterable[tuple[tuple[str, str], ...]],
               entered: Mapping[str, set[int]],
               graph: tuple[Sequence[int], Sequence[int], Sequence[int]],
               holds_away: Callable[[int, str, str], bool],
               verdicts: Callable[[str, AbstractState, Callable[[], Traject], datetime],
                                  Iterable[tuple[str, tuple[str, ...]]]]) -> Excursions:
    """Explore what each side track does after the entries the search saw (``starts``:
    per track, each distinct state they led to, with a traject in it), with its internal
    events alone; ``combos``: the tracks of every state the search reached. ``entered``:
    per track, the states where an entry took it away; ``graph``: the search's edges with
    their flags (see :func:`away_states`); ``holds_away(state, track, leaf)``: do the
    invariants hold in that state with the track in that leaf? ``verdicts(event, key,
    traject, at)``: the blocking rules with their ``next`` events (:class:`.advice.Adviser`).
    """
    out = Excursions()
    index = analysis.index()
    combos = list(combos)
    advised = rules_with_next(definition)
    for k, side in enumerate(analysis.side):
        positions = tuple(index[f] for f in sorted(side.facts) if f in index)
        reached: dict[Part, tuple[Traject, datetime]] = dict(starts.get(side.track, {}))
        edges: dict[Part, set[Part]] = {part: set() for part in reached}
        todo = deque(reached)
        while todo:
            part = todo.popleft()
            traject, at = reached[part]
            key = abstract(traject, analysis, at)

            def concrete(traject: Traject = traject) -> Traject:
                return traject

            for eid in steps.possible_events(True, key.tracks):
                if eid not in side.internal:
                    continue
                if eid in advised and out.settled:
                    # what its rules advise depends only on the track: is the advice
                    # possible next to every state of the rest the search reached?
                    for _rule, nexts in verdicts(eid, key, concrete, at):
                        if not _possible_beside(steps, side, part[0], eid, nexts, combos):
                            out.settled = False
                for payload, actor, new, new_key in list(
                        steps.outcomes(eid, concrete, key, at)):
                    out.fired.add(eid)
                    after = _part(side, positions, new_key)
                    edges[part].add(after)
                    if after not in reached and after[0] != side.home:
                        if new is None:
                            new = step(definition, traject, Event(eid, at, payload, actor)).traject
                        reached[after] = (new, at)
                        edges[after] = set()
                        todo.append(after)
        leaves = {leaf for leaf, _codes in reached}
        out.leaves[side.track] = leaves
        if not _home_always(side, edges) or not _dead_at_home(analysis, side, combos):
            out.settled = False
        if not _advice_settled(definition, steps, side, leaves, combos):
            out.settled = False
        if side.invariants and out.settled:
            away = sorted(leaves - {side.home})
            out.settled = all(holds_away(n, side.track, leaf)
                              for n in sorted(away_states(entered.get(side.track, ()), graph,
                                                          1 << k))
                              for leaf in away)
    return out


def _possible_beside(steps: Stepper, side: SideTrack, leaf: str, eid: str,
                     nexts: Iterable[str], combos: Iterable[tuple[tuple[str, str], ...]]
                     ) -> bool:
    for combo in combos:
        away = tuple(sorted({**dict(combo), side.track: leaf}.items()))
        if steps.possible(eid, True, away) and not all(
                steps.possible(n, True, away) for n in nexts):
            return False
    return True


def _home_always(side: SideTrack, edges: Mapping[Part, set[Part]]) -> bool:
    """Can every state the track reached come home by its internal events?"""
    back: dict[Part, set[Part]] = {}
    for source, targets in edges.items():
        for target in targets:
            back.setdefault(target, set()).add(source)
    good = {p for p in edges if p[0] == side.home} | {
        t for targets in edges.values() for t in targets if t[0] == side.home}
    todo = deque(good)
    while todo:
        for source in back.get(todo.popleft(), ()):
            if source not in good:
                good.add(source)
                todo.append(source)
    return all(part in good for part in edges)


def _dead_at_home(analysis: Analysis, side: SideTrack,
                  combos: Iterable[tuple[tuple[str, str], ...]]) -> bool:
    """Is every fact of the track dead whenever it is home? Then a state back home is the
    state the search kept, whatever the excursion left in those facts."""
    return not any(live(analysis, dict(combo)) & side.facts for combo in combos)


def _advice_settled(definition: Definition, steps: Stepper, side: SideTrack,
                    leaves: Iterable[str], combos: Iterable[tuple[tuple[str, str], ...]]
                    ) -> bool:
    """Is there no rule with ``next`` whose advice could differ with the track away? The
    search checked advice with the track home. With it away, an event possible there whose
    rule names an event that is not possible there (and was possible at home, or the rule
    reads the track) could be a finding nobody looked for: in doubt. (The internal events'
    advice is checked during the excursions, on what their rules really advise.)"""
    by_event = rules_with_next(definition)
    combos = list(combos)
    for leaf in leaves:
        if leaf == side.home:
            continue
        for combo in combos:
            home = dict(combo)
            away = tuple(sorted({**home, side.track: leaf}.items()))
            for eid, rules in by_event.items():
                if eid in side.internal or not steps.possible(eid, True, away):
                    continue  # an internal event's advice is checked where it happens
                for rule in rules:
                    if not _applies(rule, dict(away), definition):
                        continue
                    reads_track = _steers(rule.if_condition, side.track) or _steers(
                        rule.require_condition, side.track)
                    for named in named_next(rule):
                        if steps.possible(named, True, away):
                            continue
                        if (reads_track or eid in side.events
                                or not steps.possible(eid, True, combo)
                                or steps.possible(named, True, combo)):
                            return False
    return True


def _applies(rule: Rule, state: Mapping[str, str], definition: Definition) -> bool:
    """Can ``rule``'s ``if`` be true with the tracks in ``state`` (its ``in_state`` tests)?"""
    where = required_states(definition, rule.if_condition)
    return all(state.get(t) in leaves for t, leaves in where.items())
