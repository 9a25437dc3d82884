"""Stepping: firing events for the checker, through the real core (:func:`step`).

An event's outcome depends only on the part of the abstract state it reads or writes (its
footprint: the facts its conditions read, the facts it writes, the tracks, the deadlines
and earlier events that conditions look at) and on the ids its payloads are built from. The first time
an event meets a footprint it is stepped for real; after that the remembered change is
applied to the abstract state directly, and the traject behind a new state is only built
when that state is expanded. An event whose real step changed a fact outside its footprint
is never remembered (a safety net for the analysis).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from ..process.model import Definition, EventSpec
from ..process.step import availability, step
from ..traject import Actor, Event, Traject
from .analysis_model import Analysis
from .obligations import holds_any, payload_keys, with_keys, without
from .payloads import Payloads, distinct, event_known_ids, valid
from .reads import has_raw
from .settings import ACTOR_ID, AT, MASKED
from .state import AbstractState, Tracks, abstract, assemble, deadline_parts, fact_parts

Outcome = tuple[Mapping[str, Any], Actor | None, Traject | None, AbstractState]
Remembered = list[tuple[Any, ...]]
"""An event's outcomes for one footprint: (payload, actor, changes nothing, tracks moved,
facts written, deadlines, overdue, seen)."""


class Stepper:
    """Fires events for the checker and remembers what they do (see the module docstring)."""

    verify = False  # tests: rebuild every remembered state and compare

    def __init__(self, definition: Definition, analysis: Analysis) -> None:
        self.definition = definition
        self.analysis = analysis
        index = analysis.index()
        self.reads: dict[str, tuple[int, ...]] = {}
        self.writes: dict[str, tuple[int, ...]] = {}
        # an observer's outcome depends on facts the abstract state leaves out, so what is
        # remembered for it is only where it was tried: accepted there means accepted in a
        # reachable traject, refused there may still be accepted elsewhere (which
        # .parts.check_definition settles)
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
        # the tracks an event's outcome depends on (what its conditions test, what it
        # moves) and the tracks it may move, as positions in the sorted track tuple of an
        # abstract state. Where it is available is not among them: that is decided apart
        # (:meth:`possible`) before a remembered outcome is used, so an event possible in
        # every phase is remembered once, not once per phase
        order = sorted(definition.tracks)
        self.tracks: dict[str, tuple[int, ...]] = {}
        self.moves: dict[str, tuple[int, ...]] = {}
        for eid, spec in definition.events.items():
            moved = {tr.track for tr in spec.transitions} | {
                t for effect in spec.effects for t, _ in effect.moves}
            reads = analysis.event_reads[eid]
            watched = set(moved) | {t for t, _ in reads.in_state} | reads.state_paths
            if reads.opaque or "*" in watched or eid == definition.start_event:
                watched = set(order)
            self.tracks[eid] = tuple(i for i, t in enumerate(order) if t in watched)
            self.moves[eid] = tuple(i for i, t in enumerate(order) if t in moved)
        self.pick_tracks = {eid: _picker(idx) for eid, idx in self.tracks.items()}
        self.pick_facts = {eid: _picker(idx) for eid, idx in self.reads.items()}
        # an event that reads the moment it happens (an age) is remembered per day, and so
        # is every event once the search let time pass
        self.dated = frozenset(eid for eid, reads in analysis.event_reads.items() if reads.clock)
        self.payloads: dict[tuple[str, tuple[str, ...], Any], list[dict[str, Any]]] = {}
        self.actors = {eid: actors(definition, spec, analysis)
                       for eid, spec in definition.events.items()}
        self.memory: dict[Any, Remembered] = {}
        self.last: Remembered | None = None
        """After :meth:`outcomes` ran to its end: the remembered outcomes it used or made
        (None for an event stepped for real every time)."""
        self.available: dict[Any, bool] = {}
        self.by_state: dict[Any, list[str]] = {}
        # ids from the facts shape an event's payloads only where its conditions compare
        # payload fields with facts (elsewhere an id reads like any other text)
        self.id_facts = {
            eid: tuple(sorted(analysis.event_facts.get(eid, frozenset())))
            if analysis.event_reads[eid].compared or has_raw(analysis.data_tries.get(eid, {}))
            else () for eid in definition.events}
        self.ids: dict[Any, tuple[tuple[Any, ...], tuple[str, ...]]] = {}
        self.ids_by_text: dict[tuple[str, str], tuple[str, ...]] = {}
        # a `put` whose key is a payload field adds an element or replaces one, depending
        # on whether the key is there already, which the folded fact need not show (a
        # consent's own id): per event, the facts it puts into so and the key's path, and
        # (in the footprint) which of the keys its payloads use are there already. Facts
        # the abstract state leaves out anyway (observed, obligations) need not
        skip = analysis.observed | (analysis.obligations.facts if analysis.obligations
                                    is not None else frozenset())
        self.put_keys: dict[str, tuple[tuple[str, str], ...]] = {}
        for eid, spec in definition.events.items():
            records = [*spec.records, *(r for effect in spec.effects for r in effect.records)]
            puts = tuple(sorted({(r.fact, r.key_source) for r in records
                                 if r.op == "put" and r.key_source is not None
                                 and r.key_source.split(".")[0] == "data"
                                 and r.fact in index and r.fact not in skip}))
            if puts:
                self.put_keys[eid] = puts
        self.put_values: dict[tuple[str, tuple[str, ...], Any], tuple[tuple[Any, ...], ...]] = {}
        # every fact some event takes ids from or puts into under a payload key, in one
        # order; the explorer may hand their values over without building the traject
        # (``id_source``)
        self.id_names: tuple[str, ...] = tuple(sorted(
            {n for names in self.id_facts.values() for n in names}
            | {f for puts in self.put_keys.values() for f, _path in puts}))
        self.id_pick = {eid: _picker(tuple(self.id_names.index(n) for n in names))
                        for eid, names in self.id_facts.items() if names}
        self.put_pick = {eid: _picker(tuple(self.id_names.index(f) for f, _path in puts))
                         for eid, puts in self.put_keys.items()}
        self.id_source: Callable[[AbstractState], tuple[Any, ...]] | None = None
        # why events that were never accepted were refused: event -> blocking code -> times
        self.refusals: dict[str, dict[str, int]] = {}
        self.accepted: set[str] = set()
        # the obligations the search keeps empty (.obligations), and the events whose
        # steps showed that it may not: an outcome that leaves one without a twin that
        # leaves none, or a waiting event whose obligations could not all be met
        self.obligations = analysis.obligations
        self.doubts: set[str] = set()

    def _payloads(self, eid: str, known: tuple[str, ...], at: datetime
                  ) -> list[dict[str, Any]]:
        day = at.date()
        cache_key = (eid, known, day)
        payloads = self.payloads.get(cache_key)
        if payloads is None:
            spec = self.definition.events[eid]
            if spec.payload_spec is None:
                payloads = [{}]
            else:
                gen = Payloads(self.definition, self.analysis.event_reads[eid], known, day)
                # an invalid payload is refused in every state: leave it out before choosing
                # one payload per reading, so that it cannot stand in for a valid one
                payloads = distinct([p for p in gen.variants(spec.payload_spec)
                                     if valid(spec, p, day)],
                                    self.analysis.data_tries[eid], self.analysis.cap)
            self.payloads[cache_key] = payloads
        return payloads

    def payloads_for(self, eid: str, traject: Traject, at: datetime) -> list[dict[str, Any]]:
        """The representative payloads of ``eid`` for a concrete traject (the advice check)."""
        return self._payloads(eid, self.known_ids(eid, lambda: traject), at)

    def possible(self, eid: str, started: bool, tracks: Tracks) -> bool:
        """Available in this state (it depends only on the tracks and on being started)."""
        memo_key = (eid, started, tracks)
        known = self.available.get(memo_key)
        if known is None:
            known = self.available[memo_key] = _possible(
                self.definition, self.definition.events[eid], started, dict(tracks))
        return known

    def possible_events(self, started: bool, tracks: Tracks) -> list[str]:
        """The events available in this state, in definition order."""
        memo_key = (started, tracks)
        events = self.by_state.get(memo_key)
        if events is None:
            events = self.by_state[memo_key] = [
                eid for eid in self.definition.events if self.possible(eid, started, tracks)]
        return events

    def known_ids(self, eid: str, concrete: Callable[[], Traject],
                  key: AbstractState | None = None) -> tuple[str, ...]:
        """:func:`event_known_ids`, remembered per identity of the facts it reads. With
        ``key`` and an ``id_source``, the values of those facts come from the source."""
        names = self.id_facts[eid]
        if not names:
            return ()
        if key is not None and self.id_source is not None:
            values = tuple(self.id_pick[eid](self.id_source(key)))
        else:
            traject = concrete()
            values = tuple(traject.facts.get(n) for n in names)
        memo_key = (eid, tuple(map(id, values)))
        hit = self.ids.get(memo_key)
        if hit is None or any(a is not b for a, b in zip(hit[0], values, strict=True)):
            # equal values in other objects (a traject rebuilt from its parent) have the
            # same ids; fact values are JSON-like, so equal texts mean equal values
            text = (eid, repr(values))
            known = self.ids_by_text.get(text)
            if known is None:
                facts = {n: v for n, v in zip(names, values, strict=True) if v is not None}
                known = self.ids_by_text[text] = event_known_ids(self.analysis, eid, facts)
            hit = (values, known)
            self.ids[memo_key] = hit  # keeps the values alive, so their ids stay unique
        return hit[1]

    def _present(self, eid: str, known: tuple[str, ...], concrete: Callable[[], Traject],
                 key: AbstractState, at: datetime) -> tuple[tuple[Any, ...], ...]:
        """Per fact ``eid`` puts into with a payload key: the keys its payloads use that
        are there already."""
        puts = self.put_keys[eid]
        values: tuple[Any, ...] | None = None
        if self.id_source is not None:
            try:
                values = tuple(self.put_pick[eid](self.id_source(key)))
            except KeyError:  # a state the search does not keep (a side track's walk)
                values = None
        if values is None:
            traject = concrete()
            values = tuple(traject.facts.get(f) for f, _path in puts)
        memo_key = (eid, known, at.date())
        used = self.put_values.get(memo_key)
        if used is None:
            payloads = self._payloads(eid, known, at)
            used = self.put_values[memo_key] = tuple(
                tuple(dict.fromkeys(k for p in payloads
                                    for k in _keys(_at(p, path.split(".")[1:]))))
                for _fact, path in puts)
        return tuple(tuple(k for k in keys if isinstance(value, dict | list) and k in value)
                     for keys, value in zip(used, values, strict=True))

    def _footprint(self, eid: str, known: tuple[str, ...], key: AbstractState,
                   at: datetime) -> tuple[Any, ...]:
        return (eid, known, key.started, self.pick_tracks[eid](key.tracks),
                self.pick_facts[eid](key.facts), key.deadlines, key.overdue, key.seen,
                # once time passed, payloads are built for the day (and ages change)
                at.date() if at is not AT or eid in self.dated else None)

    def footprint(self, eid: str, concrete: Callable[[], Traject], key: AbstractState,
                  at: datetime) -> tuple[Any, ...] | None:
        """What ``eid``'s verdicts in ``key`` depend on: its footprint (see the module; the
        analysis counts what the conditions of its rules' conditional ``next`` events read
        in it) and the ids its payloads are built from; None for an event that is stepped
        for real every time."""
        if eid in self.uncached:
            return None
        return self._base(eid, self.known_ids(eid, concrete, key), concrete, key, at)

    def _base(self, eid: str, known: tuple[str, ...], concrete: Callable[[], Traject],
              key: AbstractState, at: datetime) -> tuple[Any, ...]:
        """The footprint; for an event that puts under a payload key, with which of those
        keys are there already (:meth:`_present`); for a waiting event (.obligations), with
        the clearers' footprints and whether they are possible: whether its obligations can
        be met is checked when it is stepped for real, and depends on those."""
        base = self._footprint(eid, known, key, at)
        if eid in self.put_keys:
            base = (base, self._present(eid, known, concrete, key, at))
        obligations = self.obligations
        if obligations is not None and eid in obligations.events:
            base = (base, tuple(
                (self.possible(c, key.started, key.tracks),
                 self._footprint(c, self.known_ids(c, concrete, key), key, at))
                for c in obligations.clearers))
        return base

    def outcomes(self, eid: str, concrete: Callable[[], Traject], key: AbstractState,
                 at: datetime) -> Iterator[Outcome]:
        """Every distinct accepted step at moment ``at``: (payload, actor, traject after it
        or None, abstract state after it). Payloads that lead to the same abstract state
        count once."""
        if not self.possible(eid, key.started, key.tracks):
            return
        known = self.known_ids(eid, concrete, key)
        cached = eid not in self.uncached
        base = self._base(eid, known, concrete, key, at)
        self.last = None
        if cached:
            remembered = self.memory.get(base)
            if remembered is not None:
                self.last = remembered
                yield from self.replay(remembered, key)
                return
        yield from self._step(eid, concrete(), key, at, known, base, cached)

    def replay(self, remembered: Remembered, key: AbstractState) -> Iterator[Outcome]:
        """The outcomes ``remembered`` for a footprint, applied to ``key`` (which has it)."""
        analysis, tracks, facts = self.analysis, key.tracks, key.facts
        for payload, actor, same, moved, delta, new_deadlines, new_overdue, new_seen \
                in remembered:
            if same:  # changes nothing: the state itself, not built again
                yield payload, actor, None, key
                continue
            parts = list(facts)
            for i, code in delta:
                parts[i] = code
            new_tracks = tracks
            if moved:
                after = list(tracks)
                for i, entry in moved:
                    after[i] = entry
                new_tracks = tuple(after)
            yield payload, actor, None, assemble(analysis, True, new_tracks, parts,
                                                 new_deadlines, new_overdue, new_seen)

    def _step(self, eid: str, traject: Traject, key: AbstractState, at: datetime,
              known: tuple[str, ...], base: Any, cached: bool) -> Iterator[Outcome]:
        analysis = self.analysis
        tracks, seen = key.tracks, key.seen
        before: list[Any] | None = None
        found: dict[Any, tuple[Mapping[str, Any], Actor | None]] = {}
        writes = self.writes[eid]
        refusing = eid not in self.accepted
        obligations = self.obligations
        waiting = obligations is not None and eid in obligations.events
        away: list[Traject] = []  # outcomes that leave an obligation: they need a twin
        home: set[AbstractState] = set()
        for actor in self.actors[eid]:
            for payload in self._payloads(eid, known, at):
                outcome = step(self.definition, traject, Event(eid, at, payload, actor))
                if not outcome.accepted:
                    if refusing:
                        counts = self.refusals.setdefault(eid, {})
                        for v in outcome.verdict.violations:
                            if v.severity == "block":
                                counts[v.rule] = counts.get(v.rule, 0) + 1
                    continue
                if refusing:  # accepted once: its refusals explain nothing
                    self.accepted.add(eid)
                    self.refusals.pop(eid, None)
                    refusing = False
                new = outcome.traject
                if obligations is not None:
                    if holds_any(new.facts, obligations.facts):
                        away.append(new)
                        continue
                    if waiting and not self._met(eid, traject, payload, actor, at):
                        self.doubts.add(eid)
                parts = fact_parts(new, analysis)
                new_tracks = tuple(sorted(new.state.items()))
                new_deadlines, new_overdue = deadline_parts(analysis, new, at)
                new_seen = tuple(e for e in analysis.seen_events
                                 if e in seen or e == eid) if analysis.seen_events else ()
                if cached:
                    if before is None:
                        before = fact_parts(traject, analysis)
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
                             new_deadlines, new_overdue, new_seen) if cached else None
                if signature is not None:
                    if signature in found:
                        continue
                    found[signature] = (payload, actor)
                new_key = assemble(analysis, True, new_tracks, parts, new_deadlines,
                                   new_overdue, new_seen)
                home.add(new_key)
                yield payload, actor, new, new_key
        if away and obligations is not None:
            for new in away:
                if abstract(without(new, obligations.facts), analysis, at) not in home:
                    self.doubts.add(eid)  # no twin: the search at home may miss states
        if cached:
            # whether an outcome changes nothing depends only on the footprint (the facts it
            # writes, the tracks it moves, the deadlines and events seen are all in it), so
            # it is decided once, here
            self.memory[base] = self.last = [
                (payload, actor, _unchanged(key, *signature), *signature)
                for signature, (payload, actor) in found.items()]

    def _met(self, eid: str, traject: Traject, payload: Mapping[str, Any], actor: Actor | None,
             at: datetime) -> bool:
        """Can the obligations that would make waiting event ``eid`` (accepted in
        ``traject``, at home, with ``payload``) refused all be met, or do the others leave it
        accepted? (See :mod:`.obligations`, point 2.)"""
        obligations = self.obligations
        assert obligations is not None
        keys = payload_keys(payload)
        event = Event(eid, at, dict(payload), actor)
        if not keys or step(self.definition, with_keys(traject, obligations.facts, keys),
                            event).accepted:
            return True
        left = [k for k in sorted(keys, key=repr) if not self._clearable(traject, k, at)]
        return not left or step(self.definition, with_keys(traject, obligations.facts, left),
                                event).accepted

    def _clearable(self, traject: Traject, key: str, at: datetime) -> bool:
        """Does a clearer take ``key`` out of every obligation in ``traject``, putting
        nothing in and changing nothing else?"""
        obligations = self.obligations
        assert obligations is not None
        loaded = with_keys(traject, obligations.facts, (key,))
        here = abstract(traject, self.analysis, at)
        tracks = tuple(sorted(traject.state.items()))
        for cid in obligations.clearers:
            if not self.possible(cid, traject.started, tracks):
                continue
            # the ids it is tried with where the obligations are empty, and the key (before
            # the sections of the ids that are not offered to every field)
            known = self.known_ids(cid, lambda: traject)
            if key not in known:
                plain = next((i for i, k in enumerate(known) if k.startswith("\x00")),
                             len(known))
                known = (*known[:plain], key, *known[plain:])
            for actor in self.actors[cid]:
                for payload in self._payloads(cid, known, at):
                    outcome = step(self.definition, loaded, Event(cid, at, payload, actor))
                    if (outcome.accepted and not holds_any(outcome.traject.facts,
                                                           obligations.facts)
                            and abstract(without(outcome.traject, obligations.facts),
                                         self.analysis, at) == here):
                        return True
        return False


def _unchanged(key: AbstractState, moved: Sequence[tuple[int, Any]],
               delta: Sequence[tuple[int, int]], deadlines: tuple[str, ...],
               overdue: tuple[str, ...], seen: tuple[str, ...]) -> bool:
    """Does a remembered outcome leave ``key`` as it is? A fact masked in ``key`` stays
    masked when no track moves. The start event's outcome (``key`` not started) never does:
    it starts the traject."""
    facts, tracks = key.facts, key.tracks
    return (key.started and deadlines == key.deadlines and overdue == key.overdue and seen == key.seen
            and all(tracks[i] == entry for i, entry in moved)
            and all(facts[i] == code or facts[i] == MASKED for i, code in delta))


def _at(payload: Any, steps: Sequence[str]) -> Any:
    for name in steps:
        if not isinstance(payload, Mapping):
            return None
        payload = payload.get(name)
    return payload


def _keys(value: Any) -> list[str]:
    """The keys a ``put`` with this key value writes (each element of a list)."""
    if value is None or isinstance(value, dict):
        return []
    return [str(k) for k in value] if isinstance(value, list) else [str(value)]


def _picker(positions: tuple[int, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """``items -> tuple(items[i] for i in positions)``, done in C."""
    if not positions:
        return lambda items: ()
    if len(positions) == 1:
        (only,) = positions
        return lambda items: (items[only],)
    return operator.itemgetter(*positions)


def _possible(definition: Definition, spec: EventSpec, started: bool,
              state: Mapping[str, str]) -> bool:
    """Is ``spec`` available (started or not, and the tracks in ``state``)?"""
    if not started:
        return spec.id == definition.start_event
    if spec.id == definition.start_event:
        return False
    probe = Traject(id="", definition=definition.ref, state=state)
    return availability(definition, probe, spec.id) is None


def actors(definition: Definition, spec: EventSpec, analysis: Analysis) -> list[Actor | None]:
    """The actors an event is tried with: one per role where roles matter, else one."""
    if spec.id not in analysis.actor_events:
        return [Actor(ACTOR_ID)]
    roles = sorted(spec.roles) if spec.roles is not None else sorted(definition.roles)
    found: list[Actor | None] = [Actor(ACTOR_ID, role) for role in roles]
    if spec.roles is None:
        found.append(Actor(ACTOR_ID))
    return found
