"""The search: breadth-first over abstract states, from a new traject.

The checker drives the real rule engine (:func:`eengezin.process.step`) from a new traject.
Every traject it reaches is folded into an :class:`~.state.AbstractState`; each event is
tried with a small, finite set of representative payloads (:mod:`.payloads`), through a
:class:`~.stepping.Stepper` that remembers outcomes per footprint.

Time passes: every event of a traject happens at the same moment until the checker lets a
deadline run out. From a state with an open deadline that a condition reads with
``deadline_overdue``, one step is to wait until the day after its last day; the events
after it happen then (their moment is in the trace, so the trace replays as it is). Only
deadlines that something decisive reads as overdue are let run out: every other deadline
only warns.

Findings, each with the shortest event trace that shows it (breadth-first search keeps
parent pointers):

- ``invariant``: an ``always`` invariant is false in a reachable state;
- ``doodlopend`` (dead end): a reachable state from which no final state of the tracks
  that have final states can be reached (``reachable_final``);
- ``onbereikbaar`` (unreachable): a leaf state of a track no explored traject enters;
- ``nooit_mogelijk`` (never fires): an event that is never accepted, with the rules that
  refused it (:mod:`.findings`).

Reductions that drop no finding keep the space small (:mod:`.liveness`,
:mod:`.reductions`, :mod:`.stepping`, and ``docs/testing.md``).

The result is as good as the abstraction: the checker proves nothing about payloads
outside its representative set, and of trajecten folded into one abstract state it only
follows the first one reached (whose deadlines run out in their own order). It is a strong
net for the mistakes regions make (a removed safety rule, a phase without a way out), not
a proof.

The space is searched in parts, one per outcome of the start event (:mod:`.parts`); a
search with ``only`` covers one part.

>>> from eengezin.checker import check_definition
>>> result = check_definition("basis")
>>> result.sound, result.states > 100
(True, True)
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, cast

import attrs

from ..process.model import Definition
from ..process.step import new_traject, step
from ..rules.context import Context
from ..rules.predicates import Check
from ..traject import Event, Traject
from .advice import Adviser
from .analysis import analysis_for
from .analysis_model import Analysis
from .budget import Budget
from .nodes import Node, id_values, inherited, materialize, trace
from .payloads import Payloads, event_known_ids
from .reductions import Outcome, drop_worse, inert_events, more_permissive
from .report import Finding
from .settings import AT, MAX_VARIANTS, TODAY
from .side import ALL, Part, away_masks
from .state import AbstractState, abstract, deadline_parts
from .stepping import Remembered, Stepper


def _invariant_holds(definition: Definition, traject: Traject, condition: Check,
                     at: datetime) -> bool:
    ctx = Context(data={}, facts=traject.facts, state=traject.state, event="", at=at,
                  params=definition.params, seen=traject.seen, deadlines=traject.deadlines)
    return bool(condition(ctx))


def inert(definition: Definition) -> frozenset[str]:
    """Events that can never change what decides anything (notes, reminder actions, …).

    >>> from eengezin import load_definition
    >>> sorted(inert(load_definition("basis")))[:3]
    ['actie_vastleggen', 'afschalen', 'betrokkene_toevoegen']
    """
    return inert_events(definition, analysis_for(definition))


class Workbench:
    """What the searches of one process share, part after part (:mod:`.parts`): outcomes
    remembered per footprint, the adviser's verdicts per footprint and the invariants'
    verdicts per the part of a state they read. Each holds in any traject with that
    footprint, whichever part it is in."""

    def __init__(self, definition: Definition, analysis: Analysis) -> None:
        self.steps = steps = Stepper(definition, analysis)
        names = frozenset(steps.id_names)
        # events that may change a fact payload ids come from (all the others leave those
        # values as they were: a state reached by one of them shares its parent's)
        self.id_writers = frozenset(eid for eid in definition.events
                                    if analysis.written[eid] & names or eid in steps.uncached)
        # an event's footprint as bits: its fact positions, then its tracks; a state takes
        # over its parent's remembered outcomes for the events whose bits its step left alone
        width = len(analysis.fact_items)
        self.masks = {eid: sum(1 << i for i in steps.reads[eid])
                      | sum(1 << (width + j) for j in steps.tracks[eid])
                      for eid in definition.events}
        index = analysis.index()
        # facts whose very values (not only their folded form) payload ids come from: a step
        # that may write one changes those ids even where the folded value stays
        self.id_bits = {eid: sum(1 << index[n] for n in analysis.written[eid] & names
                                 if n in index) for eid in definition.events}
        self.adviser = Adviser(
            definition, lambda eid, tracks: steps.possible(eid, True, tracks),
            lambda eid, traject, at: steps.payloads_for(eid, traject, at),
            lambda eid, key, concrete, at: steps.footprint(
                eid, concrete, cast(AbstractState, key), at))
        self.invariants: dict[Any, bool] = {}


class _Search:
    """One breadth-first exploration of a definition's abstract states; with ``only``, of
    the states after those of the start event's outcomes that ``only`` numbers (in the
    order the new traject reaches them): one part of the space (:mod:`.parts`)."""

    def __init__(self, definition: Definition, analysis: Analysis, budget: Budget, *,
                 bench: Workbench | None = None, only: frozenset[int] | None = None) -> None:
        self.definition = definition
        self.analysis = analysis
        self.budget = budget
        self.only = only
        self.starts: dict[AbstractState, int] = {}  # the start's outcomes, numbered
        self.nodes: dict[AbstractState, Node] = {}
        self.states: list[AbstractState] = []  # by number
        # every edge as two numbers: flat arrays hold no objects for the garbage collector
        # to walk, and the search makes hundreds of thousands of edges
        self.sources = array("i")
        self.targets = array("i")
        # per edge, the side tracks (.side) it can also be taken with away from home (bits)
        self.flags = array("b")
        self.queue: deque[AbstractState] = deque()
        self.fired: set[str] = set()
        self.leaves_seen: dict[str, set[str]] = {tid: set() for tid in definition.tracks}
        self.transitions = 0
        self.incomplete = False
        self.progress: Callable[[int], None] | None = None
        self.bench = bench = bench if bench is not None else Workbench(definition, analysis)
        self.steps = steps = bench.steps
        steps.id_source = self.id_values
        steps.refusals, steps.accepted = {}, set()  # this search's own
        self.id_writers, self.masks, self.id_bits = bench.id_writers, bench.masks, bench.id_bits
        self.adviser = bench.adviser
        self.violated: dict[str, Finding] = {}  # invariant id -> its first violation
        # stop once all of these events were accepted (a search for witnesses only)
        self.until: frozenset[str] = frozenset()
        # side tracks (.side): their events' outcomes are not states of this search; each
        # distinct state of a track they lead to is kept, with a traject, to explore apart
        self.side_of = {eid: side for side in analysis.side for eid in side.events}
        index = analysis.index()
        self.side_facts = {side.track: tuple(index[f] for f in sorted(side.facts) if f in index)
                           for side in analysis.side}
        self.entries: dict[str, dict[Part, tuple[Traject, datetime]]] = {
            side.track: {} for side in analysis.side}
        self.entered: dict[str, set[int]] = {side.track: set() for side in analysis.side}
        self.away = away_masks(definition, analysis.side)
        self.waiting = (analysis.obligations.events if analysis.obligations is not None
                        else frozenset())
        self.always = [inv for inv in definition.invariants if inv.always is not None]
        self.watched = tuple(index[name] for name in sorted(analysis.always_live)
                             if name in index)

    def id_values(self, key: AbstractState) -> tuple[Any, ...]:
        """The values of the facts payload ids come from in ``key`` (:func:`.nodes.id_values`)."""
        return id_values(self.nodes, key, self.steps.id_names, self.id_writers,
                         lambda here: materialize(self.definition, self.analysis, self.nodes,
                                                  here, self.steps.verify))

    def reached(self, key: AbstractState, node: Node, new_key: AbstractState,
                new: Traject | None, event: Event | None, at: datetime) -> None:
        """Record the edge ``key -> new_key``; queue ``new_key`` the first time."""
        known = self.nodes.get(new_key)
        if known is None and self.only is not None and not node.number and (
                self.starts.setdefault(new_key, len(self.starts)) not in self.only):
            return  # a start of another part
        self.transitions += 1
        flag = ALL if event is None else self.away.get(event.name, 0)
        if known is not None:
            self.sources.append(node.number)
            self.targets.append(known.number)
            self.flags.append(flag)
            return
        if not self.budget.take():
            self.incomplete = True
            return
        self.sources.append(node.number)
        self.targets.append(len(self.states))
        self.flags.append(flag)
        self.nodes[new_key] = Node(new, key, event, node.depth + 1, at, len(self.states))
        node.pending += 1
        node.heirs += 1
        self.states.append(new_key)
        self.queue.append(new_key)
        for tid, state in new_key.tracks:
            self.leaves_seen[tid].add(state)

    def holds(self, key: AbstractState, concrete: Callable[[], Traject], at: datetime
              ) -> bool:
        """Do all invariants hold in ``key``? They read the tracks and the facts they name:
        their verdict is remembered per that part of the abstract state."""
        seen_here = (key.tracks, tuple(key.facts[i] for i in self.watched), key.deadlines,
                     key.overdue, key.seen)
        memo = self.bench.invariants
        ok = memo.get(seen_here)
        if ok is None:
            traject = concrete()
            ok = memo[seen_here] = all(
                _invariant_holds(self.definition, traject, inv.condition, at)
                for inv in self.always)
        return ok

    def holds_away(self, number: int, track: str, leaf: str) -> bool:
        """Do all invariants hold in state ``number`` with side track ``track`` in ``leaf``?"""
        key = self.states[number]
        node = self.nodes[key]
        moved = key._replace(tracks=tuple(
            (t, leaf if t == track else s) for t, s in key.tracks))

        def concrete() -> Traject:
            here = node.traject if node.traject is not None else materialize(
                self.definition, self.analysis, self.nodes, key, self.steps.verify)
            return attrs.evolve(here, state={**here.state, track: leaf})

        return self.holds(moved, concrete, node.at)

    def explore(self) -> None:
        """Search until every state reached is expanded (or the budget is spent); the
        invariants found false are in ``violated``."""
        definition, analysis, steps = self.definition, self.analysis, self.steps
        always = self.always
        root = new_traject(definition, "controle")
        root_key = abstract(root, analysis)
        self.nodes[root_key] = Node(root, None, None, 0, AT, 0)
        self.states.append(root_key)
        self.queue.append(root_key)
        for tid, state in root.state.items():
            self.leaves_seen[tid].add(state)
        inert = inert_events(definition, analysis)
        index = analysis.index()
        eager = [(index[name], signs, recorders)
                 for name, (signs, recorders) in analysis.eager.items() if name in index]
        worse = {eid: (i, signs) for i, signs, recorders in eager for eid in recorders}
        violated = self.violated
        nodes = self.nodes

        while self.queue:
            if self.progress is not None and not len(nodes) % 1000:
                self.progress(self.budget.used)
            key = self.queue.popleft()
            node = nodes[key]

            def concrete(key: AbstractState = key, node: Node = node) -> Traject:
                if node.traject is not None:
                    return node.traject
                return materialize(definition, analysis, nodes, key, steps.verify)

            if steps.verify:
                concrete()
            if node.depth and always and not self.holds(key, concrete, node.at):
                for inv in always:
                    if inv.id not in violated and not _invariant_holds(
                            definition, concrete(), inv.condition, node.at):
                        violated[inv.id] = Finding(
                            "invariant", inv.id, inv.message.strip(), trace(nodes, key))
            at = node.at
            if key.started:
                self.adviser.visit(key, key.tracks, concrete, at)
            better = more_permissive(steps, eager, concrete, key, at) if key.started else None
            if better is not None:
                # this state can do nothing its successor cannot: explore only that step
                event, new, new_key = better
                self.fired.add(event.name)
                self.reached(key, node, new_key, new, event, at)
            else:
                self.successors(key, node, concrete, inert, worse)
                self.wait(key, node, concrete)
            self.release(node)
            if self.until and self.until <= self.fired:
                return
            if node.parent is not None:
                parent = nodes[node.parent]
                parent.heirs -= 1
                if not parent.heirs:
                    parent.outcomes = None

    def successors(self, key: AbstractState, node: Node, concrete: Callable[[], Traject],
                   inert: frozenset[str], worse: Mapping[str, tuple[int, tuple[int, ...]]]
                   ) -> None:
        """Fire every event possible in ``key``; record the edges and the new states.

        An event whose footprint the step into ``key`` left as it was in the parent has the
        parent's remembered outcomes: the footprint (and so the memory's key) is the same.
        """
        nodes, steps, at = self.nodes, self.steps, node.at
        targets: dict[int, int] = {}  # states already reached, one edge each (its flags)
        inherited_ = inherited(nodes, key, node, self.id_bits)
        used: dict[str, Remembered] = {}
        masks, uncached, away = self.masks, steps.uncached, self.away
        observers = self.analysis.observers
        # a waiting event's footprint includes its clearers' (.obligations): never taken over
        waiting = self.waiting
        for eid in steps.possible_events(key.started, key.tracks):
            if (eid in inert or eid in observers) and eid in self.fired:
                continue  # a self-loop: it changes no abstract state
            if eid in self.side_of:
                self.excursion(eid, key, node.number, concrete, at)
                continue
            accepted = False
            remembered = None
            if (inherited_ is not None and not masks[eid] & inherited_[1]
                    and eid not in uncached and eid not in waiting):
                remembered = inherited_[0].get(eid)
            found: Iterable[Outcome]
            if remembered is not None:
                found = steps.replay(remembered, key)
                used[eid] = remembered
            else:
                found = steps.outcomes(eid, concrete, key, at)
            if eid in worse:
                found = drop_worse(self.analysis, list(found), key, *worse[eid])
                accepted = bool(found)
            flag = away.get(eid, 0)
            for payload, actor, new, new_key in found:
                accepted = True
                if new_key is key or new_key == key:
                    continue  # a step that changes nothing: no edge needed
                known = nodes.get(new_key)
                if known is not None:  # the usual case: only the edge is new
                    self.transitions += 1
                    targets[known.number] = targets.get(known.number, 0) | flag
                    continue
                self.reached(key, node, new_key, new, Event(eid, at, payload, actor), at)
            if remembered is None and steps.last is not None:
                used[eid] = steps.last
            if accepted:
                self.fired.add(eid)
        if node.heirs:
            node.outcomes = used
        for target, flag in targets.items():
            self.sources.append(node.number)
            self.targets.append(target)
            self.flags.append(flag)

    def excursion(self, eid: str, key: AbstractState, number: int,
                  concrete: Callable[[], Traject], at: datetime) -> None:
        """Fire a side track's event: keep each state of the track it leads to (.side)."""
        side = self.side_of[eid]
        found = self.entries[side.track]
        positions = self.side_facts[side.track]
        for payload, actor, new, new_key in list(self.steps.outcomes(eid, concrete, key, at)):
            self.fired.add(eid)
            part = (dict(new_key.tracks)[side.track], tuple(new_key.facts[i] for i in positions))
            if part[0] == side.home:
                continue
            self.entered[side.track].add(number)
            if part in found:
                continue
            if new is None:
                new = step(self.definition, concrete(), Event(eid, at, payload, actor)).traject
            found[part] = (new, at)

    def release(self, node: Node) -> None:
        """Drop trajecten no state still to be expanded can need: a state's traject serves
        to build its successors' (:func:`.nodes.materialize`); once each successor has its own,
        it can go. Fewer live objects keep the garbage collector's walks short."""
        if node.traject is None or node.parent is None:
            return
        if not node.pending:
            node.traject = None  # no successors of its own
        parent = self.nodes[node.parent]
        parent.pending -= 1
        if not parent.pending and parent.parent is not None:
            parent.traject = None

    def wait(self, key: AbstractState, node: Node, concrete: Any) -> None:
        """Let each open deadline that a condition reads as overdue run out, one at a time
        (and every deadline due no later with it)."""
        pending = [d for d in key.deadlines
                   if d in self.analysis.overdue_read and d not in key.overdue]
        if not pending:
            return
        traject: Traject = concrete()
        for did in pending:
            due = traject.deadlines[did].due
            later = datetime.combine(due + timedelta(days=1), AT.time())
            _open, overdue = deadline_parts(self.analysis, traject, later)
            self.reached(key, node, key._replace(overdue=overdue), traject, None, later)


def representative_payloads(definition: Definition, event_id: str,
                            traject: Traject | None = None, *, today: date = TODAY
                            ) -> list[dict[str, Any]]:
    """The payloads the checker tries ``event_id`` with in ``traject`` (first: the full one).

    >>> from eengezin import load_definition
    >>> basis = load_definition("basis")
    >>> [p["vorm"] for p in representative_payloads(basis, "toestemming_vastleggen")][:2]
    ['schriftelijk', 'schriftelijk']
    """
    spec = definition.events[event_id]
    if spec.payload_spec is None:
        return [{}]
    analysis = analysis_for(definition)
    facts = traject.facts if traject is not None else {}
    known = list(event_known_ids(analysis, event_id, facts))
    gen = Payloads(definition, analysis.event_reads[event_id], known, today)
    variants: list[dict[str, Any]] = gen.variants(spec.payload_spec)
    return variants[:MAX_VARIANTS]
