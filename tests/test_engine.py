"""The traject API: fire, evaluate, allowed, payload checks, unknown events, logging, JSON."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from eengezin import (
    Actor,
    DefinitionMismatchError,
    Engine,
    Event,
    PredicateRegistry,
    SerializationError,
    UnknownEventError,
    evaluate,
    load_definition,
    new_traject,
    step,
    traject_from_json,
    traject_to_json,
)
from eengezin.errors import HostPredicateError, NaiveDatetimeError
from eengezin.serialization import traject_from_dict, traject_to_dict

from conftest import AANMELDEN, AMS, REGISSEUR, Walk, signaal

AT = datetime(2026, 3, 2, 9, tzinfo=AMS)


def test_start_creates_traject_and_its_first_log_entry(engine: Engine):
    out = engine.start("T-1", AANMELDEN, at=AT)
    assert out.accepted
    t = out.traject
    assert t.id == "T-1" and t.version == 1 and t.started
    entry = out.entry
    assert entry is not None and entry.version == 1
    assert (entry.event, entry.at, entry.data) == ("aanmelden", AT, AANMELDEN)
    assert entry.definition == engine.definition.ref
    assert len(entry.definition.hash) == 64
    assert t.facts["huishouden"] == AANMELDEN["huishouden"]


def test_first_event_must_be_aanmelden(engine: Engine):
    t = engine.new("T-1")
    out = engine.fire(t, "notitie", {"tekst": "x"}, at=AT)
    assert not out.accepted and out.traject is t
    assert out.verdict.rule_ids == ("traject.niet_gestart",)


def test_aanmelden_twice_is_refused(walk: Walk):
    walk.aangemeld()
    assert walk.refused("aanmelden", AANMELDEN) == {"traject.al_gestart"}


def test_unknown_event_raises_typed_error(walk: Walk):
    walk.aangemeld()
    with pytest.raises(UnknownEventError, match="bestaat_niet"):
        walk.engine.fire(walk.traject, "bestaat_niet", {}, at=AT)
    with pytest.raises(UnknownEventError):
        walk.engine.evaluate(walk.traject, "bestaat_niet", {}, at=AT)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"vraag": "x"}, "'huishouden' ontbreekt"),
        ({"huishouden": {"leden": []}, "vraag": "x"}, "minstens 1"),
        ({"huishouden": {"leden": [{"id": "a", "rol": "oom"}]}, "vraag": "x"}, "moet een van"),
        ({"huishouden": {"leden": [{"id": "a", "rol": "kind", "geboortedatum": "2026-13-01"}]},
          "vraag": "x"}, "geen geldige datum"),
        ({"huishouden": {"leden": [{"id": "a", "rol": "kind", "geboortedatum": "2027-06-01"}]},
          "vraag": "x"}, "maanden vooruit"),
        ({"huishouden": {"leden": [{"id": "a", "rol": "ouder", "geboortedatum": "1920-01-01"}]},
          "vraag": "x"}, "jaar terug"),
        ({"huishouden": {"leden": [{"id": "a", "rol": "ouder"}]}, "vraag": "  "}, "niet leeg"),
    ],
)
def test_invalid_payload_is_refused_with_clear_violation(engine: Engine, data, fragment):
    t = engine.new("T-1")
    out = engine.fire(t, "aanmelden", data, at=AT)
    assert not out.accepted and out.traject is t
    assert all(v.rule == "payload.ongeldig" for v in out.violations)
    assert any(fragment in v.message for v in out.violations), [v.message for v in out.violations]


def test_unborn_child_up_to_nine_months_is_valid(engine: Engine):
    data = {"huishouden": {"leden": [{"id": "a", "rol": "ouder"},
                                     {"id": "b", "rol": "kind", "geboortedatum": "2026-11-30"}]},
            "vraag": "zwangerschap"}
    assert engine.fire(engine.new("T"), "aanmelden", data, at=AT).accepted


def test_evaluate_changes_nothing(walk: Walk):
    walk.tot_vraagverheldering()
    before = walk.traject
    snapshot = traject_to_json(before)
    verdict = walk.engine.evaluate(before, "regie_starten", {"regisseur": REGISSEUR},
                                   at=walk.at + timedelta(hours=1))
    assert verdict.accepted
    assert traject_to_json(before) == snapshot
    assert walk.traject is before


def test_all_violations_are_listed(walk: Walk):
    walk.tot_afronding()
    walk.fire("signaal_melden", signaal())  # back to voortgangsoverleg.voorbereiding
    out = walk.fire("afsluiten", {"vervolg": True}, expect=False)
    rules = set(out.verdict.rule_ids)
    assert {"event.niet_mogelijk", "veiligheid.niet_afsluiten_bij_signalen",
            "afronding.afsluiting_geevalueerd"} <= rules


def test_warnings_never_block(walk: Walk):
    walk.aangemeld()
    out = walk.fire("vraag_verhelderen")
    assert out.accepted and out.verdict.warnings and not out.verdict.blocking
    assert out.entry is not None and out.entry.warnings == out.verdict.violations


def test_allowed_lists_possible_events_with_reasons(walk: Walk):
    walk.tot_vraagverheldering()
    walk.fire("signaal_melden", signaal())
    allowed = walk.engine.allowed(walk.traject, at=walk.at)
    assert set(allowed) == set(walk.engine.definition.events)  # every declared event, for a UI
    assert allowed["regie_starten"].accepted
    blocked = allowed["regie_niet_starten"]
    assert not blocked.accepted
    assert blocked.rule_ids == ("veiligheid.altijd_regie_bij_onveiligheid",)
    assert allowed["afsluiten"].rule_ids == ("event.niet_mogelijk",)  # not in this phase
    assert allowed["aanmelden"].rule_ids == ("event.niet_mogelijk",)
    as_other = walk.engine.allowed(walk.traject, at=walk.at, actor=Actor("x", "buurman"))
    roles = {name for name, v in as_other.items() if any(r.rule.startswith("rol.") for r in v.violations)}
    restricted = {n for n, spec in walk.engine.definition.events.items() if spec.roles is not None}
    assert roles == restricted


def test_clock_is_passed_in_or_taken_from_engine_clock():
    fixed = datetime(2030, 1, 1, 12, tzinfo=AMS)
    eng = Engine("basis", clock=lambda: fixed)
    out = eng.start("T", AANMELDEN)
    assert out.entry is not None and out.entry.at == fixed


def test_naive_moments_are_refused_with_a_clear_error(engine: Engine):
    with pytest.raises(NaiveDatetimeError, match="time zone"):
        engine.start("T", AANMELDEN, at=datetime(2026, 3, 2, 9))
    with pytest.raises(NaiveDatetimeError):
        Engine("basis", clock=lambda: datetime(2026, 3, 2, 9)).start("T", AANMELDEN)


def test_an_event_dated_before_the_last_one_is_refused_unless_backdated(walk: Walk):
    walk.aangemeld()
    earlier = walk.at - timedelta(days=1)
    out = walk.engine.fire(walk.traject, "notitie", {"tekst": "x"}, at=earlier)
    assert out.verdict.rule_ids == ("event.te_vroeg",) and out.traject is walk.traject
    out = walk.engine.fire(walk.traject, "notitie", {"tekst": "x"}, at=earlier, backdated=True)
    assert out.accepted and out.entry is not None and out.entry.backdated
    assert out.traject.last_at == walk.at  # the latest moment stays the reference


def test_terms_are_counted_on_the_amsterdam_calendar():
    # 23:30 UTC on 1 March is already 2 March in Amsterdam: the deadline starts on the 2nd
    basis = load_definition("basis")
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    out = step(basis, new_traject(basis, "T"), Event("aanmelden", late, AANMELDEN))
    assert out.accepted
    from eengezin.process.step import local_day

    assert local_day(basis, late) == date(2026, 3, 2)


def test_one_log_record_per_decision_and_silence_without_logging_config(walk: Walk, caplog, capsys):
    walk.aangemeld()
    with caplog.at_level(logging.INFO, logger="eengezin"):
        walk.fire("vraag_verhelderen")
        walk.fire("regie_niet_starten", {}, expect=False)
    records = [r for r in caplog.records if r.getMessage() == "eengezin.decision"]
    assert len(records) == 2
    assert records[0].traject == "T-test" and records[0].accepted is True
    assert records[1].event_id == "regie_niet_starten" and records[1].accepted is False
    assert records[1].rules == ["payload.ongeldig"]
    walk.fire("notitie", {"tekst": "Sanne de Vries, BSN 123456782, geboren 14-06-1988"})
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""  # the host configured nothing: nothing printed


def test_no_personal_data_in_log_records(walk: Walk, caplog):
    secret = {"tekst": "Sanne de Vries, BSN 123456782, geboren 14-06-1988"}
    with caplog.at_level(logging.DEBUG, logger="eengezin"):
        walk.aangemeld()
        walk.fire("notitie", secret)
        walk.fire("notitie", {"tekst": 3}, expect=False)
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for fragment in ("Sanne", "123456782", "1988", "Schulden"):
        assert fragment not in text


def test_a_failing_host_predicate_refuses_the_event_without_crashing(tmp_path):
    registry = PredicateRegistry.with_builtins()

    @registry.register("in_dienst")
    def in_dienst(ctx, params):
        raise RuntimeError("directory unreachable")

    path = tmp_path / "host.yaml"
    path.write_text(
        "id: host\nversion: '1'\nextends: basis\nrules:\n"
        "  - id: host.in_dienst\n    severity: block\n    on: vraag_verhelderen\n"
        "    require: {in_dienst: {}}\n    message: De regisseur is niet in dienst.\n"
        "    source: host\n", encoding="utf-8")
    eng = Engine(path, predicates=registry)
    t = eng.start("T", AANMELDEN, at=AT).traject
    out = eng.fire(t, "vraag_verhelderen", at=AT + timedelta(hours=1))
    assert not out.accepted and out.traject is t
    assert out.verdict.rule_ids == ("predicaat.fout",)
    assert isinstance(out.error, HostPredicateError) and out.error.predicate == "in_dienst"


def test_traject_of_another_definition_is_refused(walk: Walk):
    walk.aangemeld()
    other = Engine("tests/data/basis-variant.yaml")
    with pytest.raises(DefinitionMismatchError, match="migrate"):
        other.fire(walk.traject, "notitie", {"tekst": "x"}, at=AT)


def test_json_round_trip_and_schema_version(walk: Walk):
    walk.tot_voortgang()
    data = traject_to_dict(walk.traject)
    assert data["schema_version"] == 2
    assert traject_from_dict(data) == walk.traject
    assert traject_from_json(traject_to_json(walk.traject)) == walk.traject
    with pytest.raises(SerializationError, match="schema_version"):
        traject_from_dict({**data, "schema_version": 99})
    with pytest.raises(SerializationError):
        traject_from_json("{not json")
    with pytest.raises(SerializationError):
        traject_from_dict({"schema_version": 2, "id": 3})


def test_pure_step_does_not_touch_input():
    basis = load_definition("basis")
    t0 = new_traject(basis, "T")
    out = step(basis, t0, Event("aanmelden", AT, AANMELDEN))
    assert t0.version == 0 and t0.facts == {} and out.traject.version == 1
    assert evaluate(basis, out.traject, Event("vraag_verhelderen", AT)).accepted


def test_host_predicate_plugs_in(tmp_path):
    registry = PredicateRegistry.with_builtins()
    calls = []

    @registry.register("wijk_heeft_capaciteit")
    def capaciteit(ctx, params):
        calls.append(params)
        return ctx.facts.get("vraag") != "vol"

    path = tmp_path / "host.yaml"
    path.write_text(
        "id: host\nversion: '1'\nextends: basis\nrules:\n"
        "  - id: host.capaciteit\n    severity: block\n    on: regie_starten\n"
        "    require: {wijk_heeft_capaciteit: {wijk: noord}}\n"
        "    message: Geen capaciteit in de wijk.\n    source: host\n",
        encoding="utf-8",
    )
    eng = Engine(path, predicates=registry)
    t = eng.start("T", {**AANMELDEN, "vraag": "vol"}, at=AT).traject
    t = eng.fire(t, "vraag_verhelderen", at=AT).traject
    out = eng.fire(t, "regie_starten", {}, at=AT)
    assert [v.rule for v in out.verdict.blocking] == ["host.capaciteit"]
    assert calls[-1] == {"wijk": "noord"}


def test_history_keeps_its_own_copy_of_the_payload(engine: Engine):
    data = {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]}, "vraag": "hulp"}
    out = engine.start("T", data, at=AT)
    t = out.traject
    data["huishouden"]["leden"].append({"id": "x", "rol": "kind"})
    data["vraag"] = "iets anders"
    assert out.entry is not None and out.entry.data == {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]},
                                 "vraag": "hulp"}
    assert t.facts["huishouden"]["leden"] == [{"id": "m1", "rol": "ouder"}]
