"""Properties of the engine over the basis definition, on histories from eengezin.testing."""

from __future__ import annotations

from hypothesis import given, settings, target

from eengezin import (
    Event,
    load_definition,
    new_traject,
    replay,
    step,
    traject_from_json,
    traject_to_json,
)
from eengezin.process.step import restore
from eengezin.store.codec import entry_from_json, entry_to_json
from eengezin.testing import histories
from eengezin.testing.strategies import START

from conftest import examples

BASIS = load_definition("basis")
# derandomized, no deadline: the profile in conftest.py
SETTINGS = settings(max_examples=examples(30, deep=300))


def walk(events: list[Event]):  # type: ignore[no-untyped-def]
    """Yield (traject before, outcome) for each event, in order."""
    traject = new_traject(BASIS, "T-prop")
    for event in events:
        out = step(BASIS, traject, event)
        yield traject, out
        traject = out.traject


@SETTINGS
@given(histories(BASIS))
def test_a_refused_event_returns_the_same_snapshot(events: list[Event]) -> None:
    for before, out in walk(events):
        if not out.accepted:
            assert out.traject is before
            assert any(v.severity == "block" for v in out.violations)
        else:
            assert out.traject.version == before.version + 1
            assert out.entry is not None and out.entry.event == out.event.name
            assert out.entry.version == out.traject.version


@SETTINGS
@given(histories(BASIS))
def test_state_equals_replay_of_its_log(events: list[Event]) -> None:
    traject = new_traject(BASIS, "T-prop")
    log = []
    for _before, out in walk(events):
        traject = out.traject
        if out.entry is not None:
            log.append(out.entry)
    assert replay(BASIS, "T-prop", log) == traject  # deciding the log again
    assert restore(BASIS, "T-prop", log) == traject  # applying the log as recorded
    assert restore(BASIS, "T-prop", [entry_from_json(entry_to_json(e)) for e in log]) == traject


@SETTINGS
@given(histories(BASIS))
def test_snapshot_size_does_not_grow_with_its_history(events: list[Event]) -> None:
    traject = new_traject(BASIS, "T-prop")
    for _before, out in walk(events):
        traject = out.traject
    for _ in range(200):  # 200 more notes: the log grows, the snapshot does not
        out = step(BASIS, traject, Event("notitie", traject.last_at or START, {"tekst": "x"}))
        if not out.accepted:
            return
        grown = out.traject
        assert len(grown.seen) <= len(BASIS.events)
        traject = grown
    assert len(traject_to_json(traject)) < 20_000


DEPTH = {"aanmelding": 1, "vraagverheldering": 2, "startoverleg.voorbereiding": 3,
         "startoverleg.overleg": 4, "voortgang": 5, "voortgangsoverleg.voorbereiding": 6,
         "voortgangsoverleg.overleg": 7, "afronding": 8, "gesloten": 9, "zonder_regie": 2}


@settings(SETTINGS, max_examples=examples(30, deep=500))
@given(histories(BASIS, max_size=60))
def test_never_closed_with_open_signals(events: list[Event]) -> None:
    deepest = 0
    for _before, out in walk(events):
        state = out.traject.state
        deepest = max(deepest, DEPTH[state["regie"]])
        if state["regie"] == "gesloten":
            assert state["veiligheid"] == "geen_signalen"
            assert not out.traject.facts.get("signalen")
    target(deepest, label="fase")  # steer the search towards afronding and gesloten


@SETTINGS
@given(histories(BASIS))
def test_json_round_trip_is_lossless(events: list[Event]) -> None:
    for _before, out in walk(events):
        text = traject_to_json(out.traject)
        again = traject_from_json(text)
        assert again == out.traject
        assert traject_to_json(again) == text
