"""The fast compiled path (``step``) and the transitions machine decide alike.

On random event sequences over every bundled definition, each event goes to both
:func:`eengezin.step` and :func:`eengezin.process.machine.reference_next_state`; they
must give the same verdict (the same rule ids, in order), the same state per track,
the same facts and enter the same states. About half of the events are
chosen to be accepted (preferring those that move a track), so walks get deep into
the process; the others are events possible now or arbitrary events, with a payload
that the model checker would try, one drawn from the event's type, or none, so
refusals are exercised too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import event as note
from hypothesis import given, settings, target
from hypothesis import strategies as st

from eengezin import (
    Actor,
    DefinitionError,
    Event,
    Traject,
    available_events,
    bundled_ids,
    load_definition,
    new_traject,
    step,
)
from eengezin.checker import representative_payloads
from eengezin.process.machine import reference_next_state
from eengezin.process.model import Definition
from eengezin.testing._payloads import payload_strategy

from conftest import examples


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


def _key(state: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(state.items()))


def _progress(definition: Definition, traject: Traject, at: datetime,
              visited: set[tuple[tuple[str, str], ...]], recent: set[str]
              ) -> list[tuple[str, dict[str, Any]]]:
    """Events with a payload that ``step`` accepts now: those that lead to a state not visited
    yet if there are any, else those not accepted since the state last changed (``recent``:
    they record something new), else all of them. Steers walks deep into the process (the
    fast path only picks the input here; both paths are then judged on it)."""
    new_state: list[tuple[str, dict[str, Any]]] = []
    novel: list[tuple[str, dict[str, Any]]] = []
    accepted: list[tuple[str, dict[str, Any]]] = []
    for name in sorted(available_events(definition, traject, at)):
        for payload in representative_payloads(definition, name, traject, today=at.date())[:3]:
            out = step(definition, traject, Event(name, at, payload))
            if not out.accepted:
                continue
            if _key(out.traject.state) not in visited:
                new_state.append((name, payload))
            else:
                (accepted if name in recent else novel).append((name, payload))
    return new_state or novel or accepted


def test_basis_is_among_the_compared_definitions():
    assert "basis" in DEFINITIONS


@pytest.mark.parametrize("def_id", DEFINITIONS)
@settings(max_examples=examples(10, deep=200))  # the profile: derandomized, no deadline
@given(data=st.data())
def test_step_and_transitions_reference_agree(def_id: str, data: st.DataObject) -> None:
    definition = load_definition(def_id)
    all_events = sorted(definition.events)
    traject = new_traject(definition, "T-diff")
    ref_state, ref_facts = dict(traject.state), dict(traject.facts)
    at = datetime(2026, 3, 2, 9)
    visited = {_key(traject.state)}
    recent: set[str] = set()  # events accepted since the state last changed
    for _ in range(data.draw(st.integers(1, 60), label="length")):
        at += timedelta(hours=data.draw(st.integers(1, 96), label="hours"))
        today = at.date()
        pick = data.draw(st.integers(0, 19))
        progress = _progress(definition, traject, at, visited, recent) if pick < 9 else []
        if progress:  # an accepted event, preferably one that moves a track
            name, payload = data.draw(st.sampled_from(progress), label="progress")
        else:
            possible = sorted(available_events(definition, traject, at))
            if possible and pick < 17:
                name = data.draw(st.sampled_from(possible), label="event")
            else:
                name = data.draw(st.sampled_from(all_events), label="any event")
            payload = data.draw(st.one_of(
                st.sampled_from(representative_payloads(definition, name, traject, today=today)),
                payload_strategy(definition, name, today=today),
                st.just({}),
            ), label="payload")
        event = Event(name, at, payload, _actor(definition, data))

        fast = step(definition, traject, event)
        ref = reference_next_state(definition, ref_state, event, ref_facts,
                                   started=traject.started, seen=traject.seen,
                                   deadlines=traject.deadlines)

        assert fast.verdict.rule_ids == ref.verdict.rule_ids, name
        assert fast.accepted == ref.accepted
        assert dict(fast.traject.state) == dict(ref.state), name
        assert dict(fast.traject.facts) == dict(ref.facts), name
        assert sorted(fast.entered) == sorted(ref.entered), name
        if fast.traject.state != traject.state:
            recent.clear()
        elif fast.accepted:
            recent.add(name)
        traject, ref_state, ref_facts = fast.traject, dict(ref.state), dict(ref.facts)
        visited.add(_key(traject.state))
    target(float(len(visited)), label="distinct states visited")  # steer towards deep walks
    note(f"states visited: {len(visited) // 3 * 3}+")  # see --hypothesis-show-statistics
