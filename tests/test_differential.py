"""The fast compiled path (``step``) and the transitions machine decide alike.

On random event sequences over every bundled definition, each event goes to both
:func:`eengezin.step` and :func:`eengezin.process.machine.reference_next_state`; they
must give the same verdict (the same rule ids, in order), the same state per track,
the same facts and enter the same states. Most events are picked among those
possible now and carry a payload drawn from the event's type, so walks get deep
into the process; the rest are arbitrary events or empty payloads, so refusals are
exercised too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from eengezin import (
    Actor,
    DefinitionError,
    Event,
    available_events,
    bundled_ids,
    load_definition,
    new_traject,
    step,
)
from eengezin.process.machine import reference_next_state
from eengezin.process.model import Definition
from eengezin.testing._payloads import payload_strategy


def _loadable() -> list[str]:
    ids = []
    for def_id in sorted(bundled_ids()):
        try:
            load_definition(def_id)
        except DefinitionError:  # a definition still being written; its own tests say so
            continue
        ids.append(def_id)
    return ids


DEFINITIONS = _loadable()


def _actor(definition: Definition, data: st.DataObject) -> Actor | None:
    roles = sorted(definition.roles)
    if not roles:
        return data.draw(st.sampled_from([None, Actor("u1")]))
    return data.draw(st.one_of(st.just(None), st.sampled_from(roles).map(lambda r: Actor("u1", r))))


def test_basis_is_among_the_compared_definitions():
    assert "basis" in DEFINITIONS


@pytest.mark.parametrize("def_id", DEFINITIONS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_step_and_transitions_reference_agree(def_id: str, data: st.DataObject) -> None:
    definition = load_definition(def_id)
    all_events = sorted(definition.events)
    traject = new_traject(definition, "T-diff")
    ref_state, ref_facts = dict(traject.state), dict(traject.facts)
    at = datetime(2026, 3, 2, 9)
    visited: set[tuple[str, ...]] = set()
    for _ in range(data.draw(st.integers(1, 40), label="length")):
        at += timedelta(hours=data.draw(st.integers(1, 96), label="hours"))
        possible = sorted(available_events(definition, traject, at))
        if possible and data.draw(st.integers(0, 9)) < 8:
            name = data.draw(st.sampled_from(possible), label="event")
        else:
            name = data.draw(st.sampled_from(all_events), label="any event")
        payload = data.draw(st.one_of(
            payload_strategy(definition, name, today=at.date()),
            payload_strategy(definition, name, today=at.date()),
            payload_strategy(definition, name, today=at.date()),
            st.just({}),
        ), label="payload")
        event = Event(name, at, payload, _actor(definition, data))

        fast = step(definition, traject, event)
        ref = reference_next_state(definition, ref_state, event, ref_facts,
                                   started=traject.started, history=traject.history,
                                   deadlines=traject.deadlines)

        assert fast.verdict.rule_ids == ref.verdict.rule_ids, name
        assert fast.accepted == ref.accepted
        assert dict(fast.traject.state) == dict(ref.state), name
        assert dict(fast.traject.facts) == dict(ref.facts), name
        assert sorted(fast.entered) == sorted(ref.entered), name
        traject, ref_state, ref_facts = fast.traject, dict(ref.state), dict(ref.facts)
        visited.add(tuple(sorted(traject.state.items())))
    target(float(len(visited)), label="distinct states visited")  # steer towards deep walks
