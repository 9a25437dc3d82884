"""Hypothesis strategies over a definition: histories of events it can decide.

A history is a list of :class:`~eengezin.Event` values in time order; the first event
that is accepted is the definition's start event. The walk steers by the compiled
definition (:func:`steered_event`): each next event is one the state allows, chosen by
what it can do (move the process into a state not visited yet, make such a move less
blocked, end a track, bring a side track back to rest, record something new), with a
payload that satisfies its blocking rules when one of the kit's candidate payloads does
(:mod:`eengezin.testing._payloads`). So most events are accepted and walks reach the last
phases; about one in ten is an arbitrary event or payload, so refusals are in the mix too.

Shrinking works on the choices: a failing history shrinks towards fewer events, the
first event of each group, the first accepted payload and smaller time steps.

>>> from hypothesis import given
>>> @given(histories("basis", max_size=5))
... def test(events):
...     assert all(a.at <= b.at for a, b in zip(events, events[1:]))
>>> test()
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from hypothesis import strategies as st

from ..checker import inert_events
from ..definition import load_definition
from ..process.model import Definition, EventSpec
from ..process.step import availability, available_events, evaluate, new_traject, step
from ..rules.verdict import Verdict
from ..traject import Actor, Event, Traject
from ._payloads import candidate_payloads, payload_strategy, satisfying_payloads

__all__ = ["START", "DefinitionRef", "accepted_prefix", "actors_for", "event_for", "histories",
           "possible_events", "resolve"]

START = datetime(2026, 3, 2, 9, 0)
"""The moment the first event of a drawn history happens."""

DefinitionRef = Definition | str | Path
"""A loaded definition, a bundled id such as ``"basis"`` or a path to a YAML file."""

ACTOR_ID = "test"

T = TypeVar("T")


_INDEX: dict[int, st.SearchStrategy[int]] = {}


def _choose(draw: st.DrawFn, items: Sequence[T]) -> T:
    """One of ``items`` (shrinks towards the first); like ``st.sampled_from`` but without
    building a strategy per call (walks draw thousands of times)."""
    n = len(items)
    if n == 1:
        return items[0]
    strategy = _INDEX.get(n)
    if strategy is None:
        strategy = _INDEX[n] = st.integers(0, n - 1)
    return items[draw(strategy)]


_DIGIT = st.integers(0, 9)
_HOURS = st.integers(0, 72)


def resolve(definition: DefinitionRef) -> Definition:
    """The loaded definition for a :data:`DefinitionRef`.

    >>> resolve("basis").id
    'basis'
    """
    return load_definition(definition)


def possible_events(definition: Definition, traject: Traject, at: datetime = START
                    ) -> list[str]:
    """Ids of the events that the traject's state allows now: first those that no rule
    refuses already (rules that read the payload are not asked), then the others.

    >>> basis = resolve("basis")
    >>> possible_events(basis, new_traject(basis, "T"))
    ['aanmelden']
    """
    if not traject.started:
        return [definition.start_event]
    verdicts = available_events(definition, traject, at)
    ready = [eid for eid, verdict in verdicts.items() if verdict.accepted]
    return ready + [eid for eid, verdict in verdicts.items() if not verdict.accepted]


def event_possible(definition: Definition, traject: Traject, event_id: str) -> bool:
    """Whether the traject's state allows ``event_id`` now: the start event before the
    traject started, any other after, in a state of every track it names
    (:func:`eengezin.process.step.availability`); rules, role and payload are not asked.

    >>> basis = resolve("basis")
    >>> event_possible(basis, new_traject(basis, "T"), "aanmelden")
    True
    """
    if not traject.started or event_id == definition.start_event:
        return not traject.started and event_id == definition.start_event
    return availability(definition, traject, event_id) is None


def ready_count(definition: Definition, traject: Traject, at: datetime) -> int:
    """How many of :func:`possible_events` come first because no rule refuses them yet."""
    if not traject.started:
        return 1
    return sum(1 for v in available_events(definition, traject, at).values() if v.accepted)


def actors_for(definition: Definition, spec: EventSpec) -> list[Actor]:
    """The actors an event is tried with: one per allowed role, or one without a role
    (plus one per declared role when the definition has roles).

    >>> actors_for(resolve("basis"), resolve("basis").events["notitie"])
    [Actor(id='test', role=None)]
    """
    if spec.roles is not None:
        return [Actor(ACTOR_ID, role) for role in sorted(spec.roles)]
    return [Actor(ACTOR_ID), *(Actor(ACTOR_ID, role) for role in sorted(definition.roles))]


def _ancestors(leaf: str) -> list[str]:
    parts = leaf.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


class Walk:
    """Where a steered walk is: the traject, every ``(track, state)`` it has been in
    (compound states included), every combination of track states it has been in, and
    the events accepted since the process last moved (a track with a final state, such
    as ``regie``: side tracks such as ``veiligheid`` go back and forth)."""

    def __init__(self, definition: Definition, traject: Traject) -> None:
        self.definition = definition
        self.traject = traject
        self.main = [t for t, track in definition.tracks.items() if track.finals] or list(
            definition.tracks)
        self.visited: set[tuple[str, str]] = set()
        self.combinations: set[tuple[tuple[str, str], ...]] = set()
        self.recent: set[str] = set()
        self.idle: set[str] = set()  # accepted without moving any track since one last moved
        # moves an accepted event could have made and did not (an effect whose condition
        # did not hold), since the process last moved: not counted as moves again
        self.missed: set[tuple[str, str, str]] = set()
        self._visit(traject)

    def _visit(self, traject: Traject) -> None:
        self.visited.update((track, path) for track, leaf in traject.state.items()
                            for path in _ancestors(leaf))
        self.combinations.add(tuple(sorted(traject.state.items())))

    def accept(self, event: Event, traject: Traject) -> None:
        """Note that ``event`` was accepted and led to ``traject``."""
        promised = _targets(self.definition, self.traject, event.name)
        if any(traject.state[t] != self.traject.state[t] for t in self.main):
            self.recent.clear()
            self.missed.clear()
        else:
            self.recent.add(event.name)
            self.missed.update((event.name, track, target) for track, target in promised
                               if not _under(traject.state[track], target))
        if traject.state != self.traject.state:
            self.idle.clear()
        else:
            self.idle.add(event.name)
        self.traject = traject
        self._visit(traject)


def _under(leaf: str, path: str) -> bool:
    return leaf == path or leaf.startswith(path + ".")


def _targets(definition: Definition, traject: Traject, event_id: str) -> list[tuple[str, str]]:
    """``(track, state)`` the event can move a track to from where it is now."""
    spec = definition.events[event_id]
    targets = [(tr.track, tr.target) for tr in spec.transitions
               if traject.state.get(tr.track) in tr.sources]
    targets += [move for effect in spec.effects for move in effect.moves
                if traject.state.get(move[0]) != move[1]]
    return targets


def novel_moves(definition: Definition, walk: Walk, candidates: Sequence[str]
                ) -> tuple[list[str], list[str], list[str], list[str]]:
    """Those of ``candidates`` that can move a track (by a transition or an effect, read
    from the compiled model) into a state the walk has not been in, and those that can
    move the tracks into a combination of states the walk has not been in (a signal
    closed while the process waits to be closed): ``(main, side, ending, combined)``.
    ``main`` move the process (a track with final states) into a new state, ``side``
    only a side track (a signal, an escalation), ``ending`` only into a final state (a
    walk that ends early reaches less, so these get a share of their own)."""
    novel: list[str] = []
    side: list[str] = []
    ending: list[str] = []
    combined: list[str] = []
    state = walk.traject.state
    for event_id in candidates:
        targets = [(track, target) for track, target in _targets(definition, walk.traject, event_id)
                   if (event_id, track, target) not in walk.missed]
        new = [(track, target) for track, target in targets if (track, target) not in walk.visited]
        if new:
            if all(target in definition.tracks[track].finals for track, target in new):
                ending.append(event_id)
            elif any(track in walk.main for track, _target in new):
                novel.append(event_id)
            else:
                side.append(event_id)
        elif any(tuple(sorted({**state, track: target}.items())) not in walk.combinations
                 for track, target in targets):
            combined.append(event_id)
    return novel, side, ending, combined


@st.composite
def event_for(draw: st.DrawFn, definition: Definition, traject: Traject, event_id: str,
              at: datetime) -> Event:
    """One event ``event_id`` for ``traject`` at ``at``: mostly with a payload that the core
    accepts now (one that satisfies the blocking rules), else one that fits the payload type
    or a representative that the rules refuse."""
    spec = definition.events[event_id]
    actor = _choose(draw, actors_for(definition, spec))
    if spec.payload_spec is None:
        return Event(event_id, at, {}, actor)
    good = satisfying_payloads(definition, traject, event_id, at, actor)
    if good and draw(_DIGIT) < 9:
        return Event(event_id, at, copy.deepcopy(_choose(draw, good)), actor)
    payload = copy.deepcopy(draw(st.one_of(
        st.sampled_from(candidate_payloads(definition, event_id, traject, at.date())),
        payload_strategy(definition, event_id, today=at.date()),
    )))
    return Event(event_id, at, payload, actor)


def _blocks(verdict: Verdict) -> int:
    return sum(1 for v in verdict.violations if v.severity == "block")


def unblocking(definition: Definition, walk: Walk, at: datetime, blocked: Sequence[str],
               recorders: Sequence[str]) -> list[str]:
    """Those of ``recorders`` that, with one of the payloads the core accepts, leave the
    ``blocked`` events (possible now, refused by rules that do not read the payload) with
    fewer blocking violations, and the events possible now with no more in all: a step
    towards what holds the walk up. One step is looked
    ahead per recorder, so this is only asked when nothing new can be reached directly."""
    before = available_events(definition, walk.traject, at)
    base = sum(_blocks(before[e]) for e in blocked)
    total = sum(_blocks(v) for v in before.values())
    out: list[str] = []
    for event_id in recorders:
        spec = definition.events[event_id]
        actor = actors_for(definition, spec)[0]
        payloads = ([{}] if spec.payload_spec is None else
                    satisfying_payloads(definition, walk.traject, event_id, at, actor))
        for payload in payloads:  # the payloads the walk may draw for it (event_for)
            outcome = step(definition, walk.traject, Event(event_id, at, payload, actor))
            if not outcome.accepted:
                continue
            after = available_events(definition, outcome.traject, at)
            fewer = sum(_blocks(after[e]) if e in after else _blocks(before[e])
                        for e in blocked)
            # and no more refusals elsewhere: else two helpers can undo each other for ever
            # (a signal raised frees one event, closing it frees another)
            if fewer < base and sum(_blocks(v) for v in after.values()) <= total:
                out.append(event_id)
                break
    return out


@st.composite
def steered_event(draw: st.DrawFn, definition: Definition, walk: Walk, at: datetime
                  ) -> Event | None:
    """The next event of a walk that means to reach every state: an event possible now,
    chosen by what it can do (read from the compiled model), with a payload that satisfies
    its blocking rules when one of the kit's candidates does. None when nothing is possible.

    Three times in ten an event that can move a track into a state the walk has not been
    in, or else one that brings such a move closer (:func:`unblocking`); three times in ten
    one that ends a track (a final state); one time in ten one
    that takes a track without a final state back to its initial state (a signal closed)
    or else moves the tracks into a combination of states the walk has not been in; two
    times in ten one that records something a rule or a condition reads and that was not
    accepted since the process last moved; else any possible event. The events of the
    chosen group are tried, from a drawn one on, until one has a payload the core accepts;
    when none has, the next group is tried, and at last every possible event.
    """
    traject = walk.traject
    if not traject.started:
        candidates = [definition.start_event]
        ready = candidates
        verdicts: dict[str, Verdict] = {}
    else:
        verdicts = available_events(definition, traject, at)
        ready = [e for e, verdict in verdicts.items() if verdict.accepted]
        candidates = ready + [e for e, verdict in verdicts.items() if not verdict.accepted]
    if not candidates:
        return None
    inert = inert_events(definition)
    # an event accepted since a track last moved, that moved nothing, may only move with
    # another payload (an effect's condition): it is no longer counted as a move
    main, side, ending, combined = novel_moves(definition, walk,
                                               [e for e in ready if e not in walk.idle])
    novel = main + side
    # tracks without a final state (veiligheid, escalatie) come back to where they started
    # before the process can close: events that take them there get their own share
    settling = [e for e in ready if any(
        target == definition.tracks[track].initial and not definition.tracks[track].finals
        and traject.state[track] != target
        for track, target in _targets(definition, traject, e))]
    recorders = [e for e in ready if e not in inert and e not in novel]
    fresh = [e for e in recorders if e not in walk.recent]
    pick = draw(_DIGIT)
    group: list[str] = []
    if pick < 3:
        group = main or side
        if not group:
            # what holds up a move into a new state; else whatever is refused now
            blocked = [e for part in novel_moves(definition, walk, list(verdicts))[:3]
                       for e in part if not verdicts[e].accepted]
            helpers = fresh or recorders
            if blocked:
                group = unblocking(definition, walk, at, blocked, helpers)
            if not group:
                group = unblocking(definition, walk, at,
                                   [e for e, v in verdicts.items() if not v.accepted], helpers)
        groups = [group, settling, fresh, ending, combined, recorders]
    elif pick < 6:
        groups = [ending, novel, settling, fresh, combined, recorders]
    elif pick < 7:
        groups = [settling, side, combined, main, fresh, recorders]
    elif pick < 9:
        groups = [fresh, novel, combined, recorders]
    else:
        groups = []
    tried: set[str] = set()
    for group in [*groups, candidates]:
        todo = [e for e in group if e not in tried]
        if not todo:
            continue
        first = todo.index(_choose(draw, todo))
        order = todo[first:] + todo[:first]
        for event_id in order:
            tried.add(event_id)
            event = _accepted_event(draw, definition, traject, event_id, at)
            if event is not None:
                return event
    return draw(event_for(definition, traject, candidates[0], at))


def _accepted_event(draw: st.DrawFn, definition: Definition, traject: Traject, event_id: str,
                    at: datetime) -> Event | None:
    """``event_id`` with a drawn actor and a payload the core accepts now, if there is one."""
    spec = definition.events[event_id]
    actor = _choose(draw, actors_for(definition, spec))
    if spec.payload_spec is None:
        if evaluate(definition, traject, Event(event_id, at, {}, actor)).accepted:
            return Event(event_id, at, {}, actor)
        return None
    good = satisfying_payloads(definition, traject, event_id, at, actor)
    if not good:
        return None
    return Event(event_id, at, copy.deepcopy(_choose(draw, good)), actor)


@st.composite
def _history(draw: st.DrawFn, definition: Definition, min_size: int, max_size: int,
             refusals: bool, start: datetime) -> list[Event]:
    walk = Walk(definition, new_traject(definition, "H"))
    events: list[Event] = []
    at = start
    size = draw(st.integers(min_size, max_size))
    all_ids = sorted(definition.events)
    for _ in range(size):
        at = at + timedelta(hours=draw(_HOURS))
        stray = refusals and draw(_DIGIT) == 9
        event = None if stray else draw(steered_event(definition, walk, at))
        if event is None and not stray and len(events) >= min_size:
            break  # nothing is possible any more: the process has ended
        if event is None:
            event_id = _choose(draw, all_ids)
            payload = draw(st.one_of(
                st.just({}), payload_strategy(definition, event_id, today=at.date())))
            event = Event(event_id, at, payload, Actor(ACTOR_ID))
        events.append(event)
        outcome = step(definition, walk.traject, event)
        if outcome.accepted:
            walk.accept(event, outcome.traject)
    return events


def histories(definition: DefinitionRef, *, min_size: int = 0, max_size: int = 50,
              refusals: bool = True, start: datetime = START) -> st.SearchStrategy[list[Event]]:
    """Event sequences ``definition`` can decide: mostly accepted, some refused.

    ``definition`` is a loaded definition, a bundled id or a YAML path. With
    ``refusals=False`` every event is one the state allows (its rules may still refuse
    it). Events are ``start`` onwards, each 0 to 72 hours after the one before.

    >>> from hypothesis import given
    >>> @given(histories("basis", min_size=1, max_size=3, refusals=False))
    ... def test(events):
    ...     assert events[0].name == "aanmelden"
    >>> test()
    """
    loaded = resolve(definition)
    if min_size < 0 or max_size < min_size:
        raise ValueError("need 0 <= min_size <= max_size")
    return _history(loaded, min_size, max_size, refusals, start)


def accepted_prefix(definition: DefinitionRef, events: Sequence[Event]) -> Traject:
    """The traject after deciding ``events`` in order (refused ones change nothing).

    >>> accepted_prefix("basis", []).started
    False
    """
    loaded = resolve(definition)
    traject = new_traject(loaded, "H")
    for event in events:
        traject = step(loaded, traject, event).traject
    return traject
