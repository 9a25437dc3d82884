"""A hypothesis state machine that fires a definition's events at one traject.

:class:`TrajectMachine` is a :class:`~hypothesis.stateful.RuleBasedStateMachine`; a
subclass that sets the class attribute ``definition`` gets one rule per event of that
definition (``fire_<event>``, guarded by a precondition that the traject's state allows
the event), a steered rule that moves the process on (``fire_next_step``), a rule that
fires anything (``fire_any_event``), and as invariants the definition's own ``always``
invariants plus the engine's promises:

- a refused event returns the very traject it was given;
- the traject equals what deciding its accepted events again, from a new traject, gives.

A host adds its own ``@invariant()`` or ``@rule()`` methods in that subclass and runs it
through its ``TestCase`` attribute; see ``docs/testing.md``. The subclass is a plain
class statement, so it passes ``mypy --strict`` (a base computed by a function call does
not). :func:`traject_state_machine` builds the same class from a definition reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ..process.model import Definition, Invariant
from ..process.step import new_traject, replay, restore, step
from ..rules.context import Context
from ..traject import Actor, Event, HistoryEntry, Outcome, Traject
from ._payloads import payload_strategy
from .strategies import (
    ACTOR_ID,
    START,
    DefinitionRef,
    Walk,
    event_for,
    event_possible,
    resolve,
    steered_event,
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
    if inv.always is None:
        return True
    ctx = Context(data={}, facts=traject.facts, state=traject.state, event="", at=at,
                  params=definition.params, seen=traject.seen, deadlines=traject.deadlines)
    return bool(inv.condition(ctx))


_GENERATED = "_eengezin_generated"


class TrajectMachine(RuleBasedStateMachine):
    """Fires the events of the class attribute ``definition`` at one traject.

    Subclass it and set ``definition`` (a loaded :class:`~eengezin.Definition`); the
    subclass gets the definition's rules and invariants when the class is made::

        class HostMachine(TrajectMachine):
            definition = load_definition("basis")

    Attributes a subclass may read: ``definition``, ``traject`` (the current
    :class:`~eengezin.Traject`), ``outcomes`` (every :class:`~eengezin.Outcome` so far),
    ``accepted`` (the accepted events, in order) and ``now`` (the moment of the last event).
    """

    definition: ClassVar[Definition]
    steering: ClassVar[int] = 12
    """How many rules draw a steered next step (``fire_next_step``, ``fire_next_step_2``, …).
    Hypothesis picks among the enabled rules alike, so with about ten events possible at a
    time, twelve steered rules give the steered step about half of the draws: 100 runs of
    100 steps reach every state of every bundled definition, with the single events still
    in the mix."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        given = cls.__dict__.get("definition")
        if given is None:
            return  # a subclass of a machine that already has its definition
        loaded = resolve(given)
        cls.definition = loaded
        _install(cls, loaded)

    def __init__(self) -> None:
        super().__init__()
        self.traject: Traject = new_traject(self.definition, "T-state-machine")
        self.outcomes: list[Outcome] = []
        self.accepted: list[Event] = []
        self.log: list[HistoryEntry] = []
        self._checked = -1  # len(self.accepted) when the replay promise was last checked
        self.now: datetime = START
        self._walk = Walk(self.definition, self.traject)

    def decide(self, event: Event) -> Outcome:
        """Step the traject with ``event``; check the refusal promise; keep the outcome."""
        before = self.traject
        outcome = step(self.definition, before, event)
        if not outcome.accepted:
            assert outcome.traject is before, f"refused {event.name} changed the traject"
        else:
            self.accepted.append(event)
            if outcome.entry is not None:
                self.log.append(outcome.entry)
            if self._walk.traject is not before:  # the traject was set from outside
                self._walk = Walk(self.definition, before)
            self._walk.accept(event, outcome.traject)
        self.traject = outcome.traject
        self.outcomes.append(outcome)
        return outcome

    @invariant()
    def state_equals_replay(self) -> None:
        """The traject is exactly what deciding its accepted events again gives, and what
        applying their log entries as recorded gives."""
        if self._checked == len(self.accepted) and self.traject is self._walk.traject:
            return  # nothing was accepted since the last check
        self._checked = len(self.accepted)
        rebuilt = replay(self.definition, self.traject.id, self.accepted)
        assert rebuilt == self.traject, (rebuilt.state, self.traject.state)
        assert restore(self.definition, self.traject.id, self.log) == self.traject
        assert self.traject.version == len(self.accepted)

    @rule(data=st.data())
    def fire_next_step(self, data: st.DataObject) -> None:
        """An event chosen to move the process on (see ``steered_event`` in
        :mod:`eengezin.testing.strategies`: into states not visited yet, with a payload that
        satisfies the blocking rules), so runs reach the late phases."""
        self.steer(data)

    def steer(self, data: st.DataObject) -> None:
        """Draw and decide one steered event (the body of ``fire_next_step``)."""
        self.now = self.now + timedelta(hours=data.draw(st.integers(0, 72), label="uren"))
        if self._walk.traject is not self.traject:
            self._walk = Walk(self.definition, self.traject)
        event = data.draw(steered_event(self.definition, self._walk, self.now), label="event")
        if event is not None:
            self.decide(event)

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
        return " -> ".join(e.name for e in self.accepted) or "(niets)"


def _install(cls: type[TrajectMachine], definition: Definition) -> None:
    """Give ``cls`` a rule per event and an invariant per ``always`` invariant of
    ``definition``; rules made for another definition higher up are switched off, and a
    method the class itself defines under the same name is kept."""
    wanted: dict[str, Callable[..., Any]] = {}
    for event_id in definition.events:
        wanted[f"fire_{_name(event_id)}"] = _fire(event_id)
    for inv in definition.invariants:
        if inv.always is not None:
            wanted[f"invariant_{_name(inv.id)}"] = _check(inv)
    for i in range(2, cls.steering + 1):
        wanted[f"fire_next_step_{i}"] = _steered(i)
    for name in dir(cls):
        if name not in wanted and getattr(getattr(cls, name, None), _GENERATED, False):
            setattr(cls, name, None)
    for name, method in wanted.items():
        if name not in cls.__dict__:
            setattr(method, _GENERATED, True)
            setattr(cls, name, method)


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
    allowed = precondition(lambda self: event_possible(self.definition, self.traject, event_id))
    return allowed(rule(data=st.data())(fire))


def _steered(i: int) -> Callable[..., Any]:
    def fire(self: TrajectMachine, data: st.DataObject) -> None:
        self.steer(data)

    fire.__name__ = f"fire_next_step_{i}"
    fire.__doc__ = "Another draw of ``fire_next_step`` (see ``TrajectMachine.steering``)."
    return rule(data=st.data())(fire)


def _check(inv: Invariant) -> Callable[..., Any]:
    def check(self: TrajectMachine) -> None:
        assert invariant_holds(self.definition, inv, self.traject, self.now), (
            f"invariant {inv.id} geschonden: {inv.message.strip()} "
            f"(na {self.describe()}; staat {dict(self.traject.state)})")

    check.__name__ = f"invariant_{_name(inv.id)}"
    check.__doc__ = f"Definition invariant ``{inv.id}``."
    return invariant()(check)


def traject_state_machine(definition: DefinitionRef) -> type[TrajectMachine]:
    """A :class:`TrajectMachine` subclass for ``definition`` (a loaded definition, a bundled
    id or a YAML path), for a quick test: ``traject_state_machine("basis").TestCase``.

    To add invariants, subclass :class:`TrajectMachine` and set ``definition`` instead
    (that passes ``mypy --strict``; a base made by this function does not).

    >>> Machine = traject_state_machine("basis")
    >>> "fire_signaal_melden" in dir(Machine), "invariant_veiligheid_nooit_gesloten_met_signalen" in dir(Machine)
    (True, True)
    """
    loaded = resolve(definition)
    name = "".join(part.capitalize() for part in re.split(r"\W|_", loaded.id) if part)
    doc = f"Fires the events of {loaded.id} v{loaded.version}; checks its invariants."
    return type(f"{name}TrajectMachine", (TrajectMachine,), {"definition": loaded, "__doc__": doc})
