"""What a host builds a UI and an API on: plain data with shipped JSON Schemas, listeners,
threads, and the definition-mismatch and conflict errors with their attributes."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import jsonschema
import pytest

from eengezin import (
    ConflictError,
    Decision,
    DefinitionMismatchError,
    Engine,
    HistoryEntry,
    Traject,
    Verdict,
)
from eengezin.serialization import from_dict, json_schema, to_dict
from eengezin.store import MemoryStore

from conftest import AANMELDEN, AMS, REGISSEUR, Walk, signaal

AT = datetime(2026, 3, 2, 9, tzinfo=AMS)


def _validate(kind: str, data: object) -> None:
    jsonschema.Draft202012Validator(json_schema(kind),
                                    format_checker=jsonschema.FormatChecker()).validate(data)


def test_wire_data_validates_against_the_shipped_schemas_and_reads_back(walk: Walk):
    seen: list[Decision] = []
    walk.engine.add_listener(seen.append)
    walk.aangemeld()
    walk.fire("signaal_melden", signaal())
    walk.fire("vraag_verhelderen")
    refused = walk.fire("regie_niet_starten", {"reden": "x"}, expect=False)
    accepted = walk.fire("regie_starten", {"regisseur": REGISSEUR})
    for out in (refused, accepted):
        data = json.loads(json.dumps(to_dict(out)))  # plain JSON, as a web framework sends it
        _validate("Outcome", data)
        _validate("Verdict", to_dict(out.verdict))
        _validate("Traject", to_dict(out.traject))
        assert from_dict(to_dict(out.traject), Traject) == out.traject
        assert from_dict(to_dict(out.verdict), Verdict) == out.verdict
    assert accepted.entry is not None
    _validate("HistoryEntry", json.loads(json.dumps(to_dict(accepted.entry))))
    assert from_dict(to_dict(accepted.entry), HistoryEntry) == accepted.entry
    assert seen, "the listener got the decisions"
    for decision in seen:
        _validate("Decision", json.loads(json.dumps(to_dict(decision))))
        assert from_dict(to_dict(decision), Decision) == decision


def test_listener_gets_every_accepted_decision_with_its_changes(walk: Walk):
    seen: list[Decision] = []
    walk.engine.add_listener(seen.append)
    walk.aangemeld()
    walk.fire("vraag_verhelderen")
    walk.fire("regie_niet_starten", {}, expect=False)  # refused: no decision
    walk.fire("regie_starten", {"regisseur": REGISSEUR})
    assert [d.event for d in seen] == ["aanmelden", "vraag_verhelderen", "regie_starten"]
    assert [d.version for d in seen] == [1, 2, 3]
    moved = seen[-1].moved("regie")
    assert moved is not None and moved.before == "vraagverheldering"
    assert moved.after == "startoverleg.voorbereiding"
    assert moved.entered == ("startoverleg", "startoverleg.voorbereiding")
    assert moved.exited == ("vraagverheldering",)
    assert seen[-1].moved("veiligheid") is None


def test_a_failing_listener_does_not_undo_the_decision(walk: Walk):
    def broken(decision: Decision) -> None:
        raise RuntimeError("host bug")

    walk.engine.add_listener(broken)
    walk.aangemeld()
    assert walk.traject.version == 1


def test_errors_carry_attributes():
    store = MemoryStore()
    engine = Engine("basis", store=store)
    engine.start("T", AANMELDEN, at=AT)
    other = Engine("tests/data/basis-variant.yaml", store=store)
    with pytest.raises(DefinitionMismatchError) as info:
        other.fire("T", "notitie", {"tekst": "x"}, at=AT + timedelta(hours=1))
    assert info.value.traject_id == "T"
    assert info.value.expected is not None and info.value.actual == other.definition.ref
    stale = engine.load("T")
    engine.fire("T", "notitie", {"tekst": "x"}, at=AT + timedelta(hours=1))
    out = engine.fire(stale, "notitie", {"tekst": "y"}, at=AT + timedelta(hours=2))
    assert out.accepted and out.traject.version == 3  # a store engine always loads first
    first = engine.fire("T", "notitie", {"tekst": "z"}, at=AT + timedelta(hours=3))
    assert first.entry is not None
    with pytest.raises(ConflictError) as conflict:  # a writer that decided on version 1
        store.append(engine.definition, first.traject, [first.entry] * 3, expected_version=1)
    assert conflict.value.traject_id == "T"
    assert conflict.value.expected == 1 and conflict.value.actual == 4


def test_engine_and_a_shared_store_are_thread_safe():
    store = MemoryStore(outbox=True)
    engine = Engine("basis", store=store)
    engine.start("T", AANMELDEN, at=AT)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                out = engine.fire("T", "notitie", {"tekst": f"{n}-{i}"}, at=AT + timedelta(days=1))
                assert out.accepted
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert engine.load("T").version == 1 + 4 * 25
    texts = [e.data["tekst"] for e in engine.history("T")[1:]]
    assert sorted(texts) == sorted(f"{n}-{i}" for n in range(4) for i in range(25))
    assert store.outbox_size() == 101


def test_allowed_answers_a_ui_for_a_stored_traject():
    engine = Engine("basis", store=MemoryStore())
    engine.start("T", AANMELDEN, at=AT)
    allowed = engine.allowed("T", at=AT + timedelta(hours=1))
    assert allowed["vraag_verhelderen"].accepted
    assert not allowed["afsluiten"].accepted
    assert all(isinstance(v, Verdict) for v in allowed.values())


def _grown(n: int):  # type: ignore[no-untyped-def]
    from eengezin import Event, load_definition, new_traject, step

    basis = load_definition("basis")
    traject = step(basis, new_traject(basis, "T"), Event("aanmelden", AT, AANMELDEN)).traject
    for i in range(n - 1):
        traject = step(basis, traject, Event("notitie", AT + timedelta(seconds=i),
                                             {"tekst": "n"})).traject
    return basis, traject


def _work(basis, traject) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(Python calls, bytes allocated) of one accepted step: counted, never timed."""
    import sys
    import tracemalloc

    from eengezin import Event, step

    event = Event("notitie", AT + timedelta(days=30), {"tekst": "meting"})
    calls = 0

    def count(frame, what, arg):  # type: ignore[no-untyped-def]
        nonlocal calls
        if what == "call":
            calls += 1

    step(basis, traject, event)  # warm caches first
    sys.setprofile(count)
    try:
        step(basis, traject, event)
    finally:
        sys.setprofile(None)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        out = step(basis, traject, event)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    allocated = sum(s.size_diff for s in after.compare_to(before, "filename") if s.size_diff > 0)
    assert out.accepted
    return calls, allocated


def test_step_work_and_memory_do_not_depend_on_history_length():
    short, long = _grown(10), _grown(1000)
    calls_short, bytes_short = _work(*short)
    calls_long, bytes_long = _work(*long)
    assert calls_long == calls_short
    assert bytes_long <= bytes_short * 1.1 + 512
    from eengezin.serialization import traject_to_json

    assert abs(len(traject_to_json(long[1])) - len(traject_to_json(short[1]))) < 16


def test_payload_schemas_agree_with_the_engines_own_check():
    """Whatever the engine's payload check accepts, the published JSON Schema accepts too."""
    from datetime import date

    import jsonschema
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from eengezin import load_definition
    from eengezin.testing._payloads import payload_strategy

    def _agree(definition, name, validator) -> None:  # type: ignore[no-untyped-def]
        tree = definition.events[name].payload

        @settings(max_examples=3, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.data())
        def agree(data: st.DataObject) -> None:
            payload = data.draw(payload_strategy(definition, name, today=date(2026, 3, 2)))
            errors: list[str] = []
            tree.check(payload, "", errors, date(2026, 3, 2))
            if not errors:
                assert not list(validator.iter_errors(payload)), (definition.id, name)

        agree()

    checked = 0
    for ref in ("basis", "hollands-midden", "zuid-limburg", "cjg"):
        definition = load_definition(ref)
        engine = Engine(definition)
        for name, spec in sorted(definition.events.items()):
            if spec.payload is None:
                continue
            schema = engine.payload_schema(name)
            validator = jsonschema.Draft202012Validator(schema)

            _agree(definition, name, validator)
            checked += 1
    assert checked > 40
