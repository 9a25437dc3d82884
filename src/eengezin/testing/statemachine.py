"""A hypothesis state machine that fires a definition's events at one traject.

:func:`traject_state_machine` builds a :class:`~hypothesis.stateful.RuleBasedStateMachine`
class with one rule per event of the definition (``fire_<event>``), each guarded by a
precondition that the traject's state allows the event. Its invariants are the
definition's own ``always`` invariants, plus the engine's promises:

- a refused event returns the very traject it was given;
- the traject equals what :func:`eengezin.replay` rebuilds from its history.

A host subclasses the class to add its own ``@invariant()`` or ``@rule()`` methods and
runs it through its ``TestCase`` attribute; see ``docs/testing.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ..checker import inert_events
from ..process.model import Definition, Invariant
from ..process.step import availability, new_traject, replay, restore, step
from ..rules.context import Context
from ..traject import Actor, Event, HistoryEntry, Outcome, Traject
from ._payloads import payload_strategy
from .strategies import (
    ACTOR_ID,
    START,
    DefinitionRef,
    event_for,
    possible_events,
    ready_count,
    resolve,
)

__all__ = ["TrajectMachine", "invariant_holds", "traject_state_machine"]


def invariant_holds(definition: Definition, inv: Invariant, traject: Traject,
                    at: datetime = START) -> bool:
    """Whether the ``always`` condition of ``inv`` holds for ``traject``.

    ``reachable_final`` invariants are about the whole state space; the model checker
    (``eengezin check``) decides them, so they hold here.

    >>> basis = resolve("basis")
    >>> all(invariant_holds(basis, i, new_traject(basis, "T")) for i in basis.invariants)
    True
    """
    if not (isinstance(inv.raw, dict) and "always" in inv.raw):
        return True
    ctx = Context(data={}, facts=traject.facts, state=traject.state, event="", at=at,
                  params=definition.params, seen=traject.seen, deadlines=traject.deadlines)
    return bool(inv.condition(ctx))


class TrajectMachine(RuleBasedStateMachine):
    """Base of the generated machines: one traject, a clock, the last outcome.

    Attributes a subclass may read: ``definition``, ``traject`` (the current
    :class:`~eengezin.Traject`), ``outcomes`` (every :class:`~eengezin.Outcome` so far)
    and ``now`` (the moment of the last event).
    """

    definition: Definition

    def __init__(self) -> None:
        super().__init__()
        self.traject: Traject = new_traject(self.definition, "T-state-machine")
        self.outcomes: list[Outcome] = []
        self.log: list[HistoryEntry] = []
        self.now: datetime = START

    def decide(self, event: Event) -> Outcome:
        """Step the traject with ``event``; check the refusal promise; keep the outcome."""
        before = self.traject
        outcome = step(self.definition, before, event)
        if not outcome.accepted:
            assert outcome.traject is before, f"refused {event.name} changed the traject"
        self.traject = outcome.traject
        self.outcomes.append(outcome)
        if outcome.entry is not None:
            self.log.append(outcome.entry)
        return outcome

    @invariant()
    def state_equals_replay(self) -> None:
        """The traject is exactly what deciding its log again gives, and what applying the
        log as recorded gives."""
        rebuilt = replay(self.definition, self.traject.id, self.log)
        assert rebuilt == self.traject, (rebuilt.state, self.traject.state)
        assert restore(self.definition, self.traject.id, self.log) == self.traject

    @rule(data=st.data())
    def fire_next_step(self, data: st.DataObject) -> None:
        """An event that no rule refuses yet and that can move the process on, so runs get
        past the first phases (the per-event rules alone mostly pick side events)."""
        self.now = self.now + timedelta(hours=data.draw(st.integers(0, 72), label="uren"))
        ready = possible_events(self.definition, self.traject, self.now)
        ready = ready[:ready_count(self.definition, self.traject, self.now)]
        movers = [e for e in ready if e not in inert_events(self.definition)] or ready
        if not movers:
            return
        event_id = data.draw(st.sampled_from(movers), label="event")
        self.decide(data.draw(event_for(self.definition, self.traject, event_id, self.now),
                              label=event_id))

    @rule(data=st.data())
    def fire_any_event(self, data: st.DataObject) -> None:
        """Any event, possible now or not, with an empty or a drawn payload: refusals too
        (and a rule that is always available, also in a final state)."""
        self.now = self.now + timedelta(hours=data.draw(st.integers(0, 72), label="uren"))
        event_id = data.draw(st.sampled_from(sorted(self.definition.events)), label="event")
        payload = data.draw(st.one_of(
            st.just({}), payload_strategy(self.definition, event_id, today=self.now.date())),
            label="payload")
        self.decide(Event(event_id, self.now, payload, Actor(ACTOR_ID)))

    def describe(self) -> str:
        """The accepted events so far, for assertion messages."""
        return " -> ".join(h.event for h in self.log) or "(niets)"


def _possible(definition: Definition, event_id: str, traject: Traject) -> bool:
    if not traject.started or event_id == definition.start_event:
        return not traject.started and event_id == definition.start_event
    return availability(definition, traject, event_id) is None


def _name(text: str) -> str:
    return re.sub(r"\W", "_", text)


def _fire(event_id: str) -> Callable[..., Any]:
    def fire(self: TrajectMachine, data: st.DataObject) -> None:
        self.now = self.now + timedelta(hours=data.draw(st.integers(0, 72), label="uren"))
        event = data.draw(event_for(self.definition, self.traject, event_id, self.now),
                          label=event_id)
        self.decide(event)

    fire.__name__ = f"fire_{_name(event_id)}"
    fire.__doc__ = f"Fire ``{event_id}`` when the traject's state allows it."
    allowed = precondition(lambda self: _possible(self.definition, event_id, self.traject))
    return allowed(rule(data=st.data())(fire))


def _check(inv: Invariant) -> Callable[..., Any]:
    def check(self: TrajectMachine) -> None:
        assert invariant_holds(self.definition, inv, self.traject, self.now), (
            f"invariant {inv.id} geschonden: {inv.message.strip()} "
            f"(na {self.describe()}; staat {dict(self.traject.state)})")

    check.__name__ = f"invariant_{_name(inv.id)}"
    check.__doc__ = f"Definition invariant ``{inv.id}``."
    return invariant()(check)


def traject_state_machine(definition: DefinitionRef) -> type[TrajectMachine]:
    """A :class:`~hypothesis.stateful.RuleBasedStateMachine` class for ``definition``.

    ``definition`` is a loaded definition, a bundled id or a YAML path. Subclass the
    result to add invariants; run it with ``MyMachine.TestCase``.

    >>> Machine = traject_state_machine("basis")
    >>> "fire_signaal_melden" in dir(Machine), "invariant_veiligheid_nooit_gesloten_met_signalen" in dir(Machine)
    (True, True)
    """
    loaded = resolve(definition)
    namespace: dict[str, Any] = {"definition": loaded, "__doc__": (
        f"Fires the events of {loaded.id} v{loaded.version}; checks its invariants.")}
    for event_id in loaded.events:
        namespace[f"fire_{_name(event_id)}"] = _fire(event_id)
    for inv in loaded.invariants:
        if isinstance(inv.raw, dict) and "always" in inv.raw:
            namespace[f"invariant_{_name(inv.id)}"] = _check(inv)
    name = "".join(part.capitalize() for part in re.split(r"\W|_", loaded.id) if part)
    return type(f"{name}TrajectMachine", (TrajectMachine,), namespace)
