"""Hypothesis strategies over a definition: histories of events it can decide.

A history is a list of :class:`~eengezin.Event` values in time order; the first event
that is accepted is the definition's start event. Each next event is chosen among those possible in the state the
history has reached so far (decided by the real :func:`eengezin.step`), with a payload
taken from the model checker's representative payloads (full, minimal, one change at a
time, ids that exist in the traject) or drawn from the event's payload type. So most
events are accepted and walks get deep into the process; about one in ten is an
arbitrary event or payload, so refusals are in the mix too.

Shrinking works on the choices: a failing history shrinks towards fewer events, earlier
events in the definition's order, the first (full) representative payload and smaller
time steps.

>>> from hypothesis import given
>>> @given(histories("basis", max_size=5))
... def test(events):
...     assert all(a.at <= b.at for a, b in zip(events, events[1:]))
>>> test()
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from ..checker import inert_events, representative_payloads
from ..definition import load_definition
from ..process.model import Definition, EventSpec
from ..process.step import available_events, new_traject, step
from ..traject import Actor, Event, Traject
from ._payloads import payload_strategy

__all__ = ["START", "DefinitionRef", "accepted_prefix", "actors_for", "event_for", "histories",
           "possible_events", "resolve"]

START = datetime(2026, 3, 2, 9, 0)
"""The moment the first event of a drawn history happens."""

DefinitionRef = Definition | str | Path
"""A loaded definition, a bundled id such as ``"basis"`` or a path to a YAML file."""

ACTOR_ID = "test"


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


@st.composite
def event_for(draw: st.DrawFn, definition: Definition, traject: Traject, event_id: str,
              at: datetime) -> Event:
    """One event ``event_id`` for ``traject`` at ``at``, with a payload that mostly fits."""
    spec = definition.events[event_id]
    choices: list[Any] = representative_payloads(definition, event_id, traject, today=at.date())
    payload = draw(st.one_of(
        st.sampled_from(choices),
        payload_strategy(definition, event_id, today=at.date()),
    ) if spec.payload_spec is not None else st.just({}))
    actor = draw(st.sampled_from(actors_for(definition, spec)))
    return Event(event_id, at, payload, actor)


@st.composite
def _history(draw: st.DrawFn, definition: Definition, min_size: int, max_size: int,
             refusals: bool, start: datetime) -> list[Event]:
    traject = new_traject(definition, "H")
    inert = inert_events(definition)
    events: list[Event] = []
    at = start
    size = draw(st.integers(min_size, max_size))
    all_ids = sorted(definition.events)
    for _ in range(size):
        at = at + timedelta(hours=draw(st.integers(0, 72)))
        stray = refusals and draw(st.integers(0, 9)) == 9
        candidates = possible_events(definition, traject, at)
        if stray or not candidates:
            event_id = draw(st.sampled_from(all_ids))
            payload = draw(st.one_of(
                st.just({}), payload_strategy(definition, event_id, today=at.date())))
            event = Event(event_id, at, payload, Actor(ACTOR_ID))
        else:
            # three times in four an event that no rule refuses yet and that can move the
            # process on (not a note or a reminder action), so walks get deep
            movers = [e for e in candidates[:ready_count(definition, traject, at)]
                      if e not in inert]
            pool = movers if movers and draw(st.integers(0, 3)) < 3 else candidates
            event_id = draw(st.sampled_from(pool))
            event = draw(event_for(definition, traject, event_id, at))
        events.append(event)
        outcome = step(definition, traject, event)
        if outcome.accepted:
            traject = outcome.traject
    return events


def histories(definition: DefinitionRef, *, min_size: int = 0, max_size: int = 25,
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
