"""The reference decision for the differential test: the statechart semantics of an event
decided on ``transitions``, everything else by the core.

:func:`eengezin.step` decides an event from compiled tables. :func:`reference_next_state`
decides it again on the definition's :class:`~eengezin.process.statechart.Statechart`:
whether the state allows the event (a trigger in the current state of each track),
which transition fires (transitions' guards are the compiled conditions), which states
are entered and in which order (``on_enter`` callbacks), and how effects move the
parallel tracks. The payload check, the role check, the rules and overdue deadlines are
the core's own (:func:`eengezin.evaluate`), and so are the records
(:func:`eengezin.process.step.apply_records`): the comparison in
``tests/test_differential.py`` checks only the statechart semantics.

It is slow (a lock and full transitions triggers per call) and meant for tests only.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any

import attrs

from ..errors import UnknownEventError
from ..process.model import Definition
from ..process.statechart import Guard, Statechart
from ..process.step import ALREADY_STARTED, NOT_AVAILABLE, NOT_STARTED, apply_records, evaluate
from ..rules.context import Context
from ..rules.predicates import Check
from ..rules.verdict import Verdict, Violation
from ..traject import Event, Traject

__all__ = ["ReferenceOutcome", "reference_next_state", "statechart_for"]


@attrs.frozen(slots=True)
class ReferenceOutcome:
    """What the reference decided for one event."""

    verdict: Verdict
    state: Mapping[str, str]
    facts: Mapping[str, Any]
    entered: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.verdict.accepted


class _Reference:
    """One statechart per definition, with the decision under way (under a lock)."""

    def __init__(self, definition: Definition) -> None:
        self.lock = threading.Lock()
        self.ctx: Context | None = None
        self.accepted = False
        self.entered: list[tuple[str, str]] = []
        self.chart = Statechart(definition, guard=self._guard, allowed=self._allowed,
                                entered=self._enter)

    def _allowed(self, event_data: Any) -> bool:
        return self.accepted

    def _guard(self, check: Check) -> Guard:
        def guard(event_data: Any) -> bool:
            assert self.ctx is not None
            return bool(check(self.ctx))

        return guard

    def _enter(self, track: str, path: str) -> None:
        self.entered.append((track, path))


_references: dict[int, _Reference] = {}
_references_lock = threading.Lock()


def _reference(definition: Definition) -> _Reference:
    key = id(definition)
    with _references_lock:
        found = _references.get(key)
        if found is not None and found.chart.definition is definition:
            return found
        built = _Reference(definition)
        _references[key] = built
        weakref.finalize(definition, _references.pop, key, None)
        return built


def statechart_for(definition: Definition) -> Statechart:
    """The one statechart the reference decides ``definition`` on, built on first use.

    Cached per definition *object*, not per content hash: two loads of the same YAML
    with different host predicates have the same hash but different guards.

    >>> from eengezin import load_definition
    >>> basis = load_definition("basis")
    >>> statechart_for(basis) is statechart_for(basis)
    True
    """
    return _reference(definition).chart


def reference_next_state(definition: Definition, traject: Traject, event: Event
                         ) -> ReferenceOutcome:
    """Decide ``event`` for ``traject`` with the statechart semantics of transitions: the
    verdict, the next state per track, the facts and the states entered (``track:path``).

    >>> from datetime import datetime
    >>> from eengezin import load_definition, new_traject, step
    >>> basis, at = load_definition("basis"), datetime(2026, 1, 5)
    >>> gezin = {"leden": [{"id": "m1", "rol": "ouder"}]}
    >>> start = Event("aanmelden", at, {"huishouden": gezin, "vraag": "hulp"})
    >>> traject = step(basis, new_traject(basis, "T"), start).traject
    >>> traject = step(basis, traject, Event("vraag_verhelderen", at)).traject
    >>> out = reference_next_state(basis, traject, Event("regie_starten", at))
    >>> out.state["regie"], out.entered
    ('startoverleg.voorbereiding', ('regie:startoverleg', 'regie:startoverleg.voorbereiding'))
    """
    spec = definition.events.get(event.name)
    if spec is None:
        raise UnknownEventError(event.name, definition.id)
    ref = _reference(definition)
    chart = ref.chart
    state = traject.state
    core = evaluate(definition, traject, event)
    if {NOT_STARTED, ALREADY_STARTED} & set(core.rule_ids):
        verdict = core  # the start event: a question of the traject, not of the statechart
    else:
        # availability is the statechart's: the core's answer is replaced, in its place
        violations = [v for v in core.violations if v.rule != NOT_AVAILABLE]
        blocked = chart.blocked_by(spec, state)
        if blocked is not None:
            violations.insert(0, Violation(NOT_AVAILABLE, "block", f"niet mogelijk in {blocked}"))
        verdict = Verdict(tuple(violations))
    if not verdict.accepted:
        return ReferenceOutcome(verdict, dict(state), dict(traject.facts))
    actor = event.actor
    facts = dict(traject.facts)
    ctx = Context(
        data=event.data, facts=facts, state=state, event=event.name, at=event.at,
        actor_id=actor.id if actor else None, actor_role=actor.role if actor else None,
        params=definition.params, seen=traject.seen, deadlines=traject.deadlines,
    )
    with ref.lock:
        chart.load(state)
        ref.accepted = True
        ref.entered = []
        ref.ctx = ctx
        try:
            apply_records(spec.records, facts, ctx)
            if chart.handles(spec.id, state):  # (transitions logs a warning otherwise)
                chart.fire(spec.id)
            ctx.state = chart.read()
            for effect in spec.effects:
                if effect.when is not None and not effect.when(ctx):
                    continue
                apply_records(effect.records, facts, ctx)
                for track_id, _target in effect.moves:
                    chart.fire(chart.effect_trigger(effect.id, track_id))
                ctx.state = chart.read()
            for track_id, path in ref.entered:
                apply_records(definition.tracks[track_id].nodes[path].on_enter, facts, ctx)
            new_state = chart.read()
            entered = tuple(f"{t}:{p}" for t, p in ref.entered)
        finally:
            ref.ctx = None
            ref.accepted = False
    return ReferenceOutcome(verdict, new_state, facts, entered)
