"""The traject API: fire, evaluate, allowed, payload checks, unknown events, logging, JSON."""

from __future__ import annotations

from datetime import datetime

import pytest
import structlog

from eengezin import (
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
from eengezin.serialization import traject_from_dict, traject_to_dict

from conftest import AMS, AANMELDEN, REGISSEUR, Walk, signaal

AT = datetime(2026, 3, 2, 9, tzinfo=AMS)


def test_start_creates_traject_with_history(engine: Engine):
    out = engine.start("T-1", AANMELDEN, at=AT)
    assert out.accepted
    t = out.traject
    assert t.id == "T-1" and t.version == 1 and t.started
    entry = t.history[0]
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
    verdict = walk.engine.evaluate(before, "regie_starten", {"regisseur": REGISSEUR}, at=AT)
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
    assert walk.traject.history[-1].warnings == out.verdict.violations


def test_allowed_lists_possible_events_with_reasons(walk: Walk):
    walk.tot_vraagverheldering()
    walk.fire("signaal_melden", signaal())
    allowed = walk.engine.allowed(walk.traject, at=AT)
    assert "regie_starten" in allowed and allowed["regie_starten"].accepted
    blocked = allowed["regie_niet_starten"]
    assert not blocked.accepted
    assert blocked.rule_ids == ("veiligheid.altijd_regie_bij_onveiligheid",)
    assert "afsluiten" not in allowed  # not possible in this phase
    assert "aanmelden" not in allowed


def test_clock_is_passed_in_or_taken_from_engine_clock():
    fixed = datetime(2030, 1, 1, 12)
    eng = Engine("basis", clock=lambda: fixed)
    t = eng.start("T", AANMELDEN).traject
    assert t.history[0].at == fixed


def test_one_log_event_per_decision(walk: Walk):
    walk.aangemeld()
    with structlog.testing.capture_logs() as logs:
        walk.fire("vraag_verhelderen")
        walk.fire("regie_niet_starten", {}, expect=False)
    assert [entry["event"] for entry in logs] == ["eengezin.decision"] * 2
    assert logs[0]["traject"] == "T-test" and logs[0]["accepted"] is True
    assert logs[1]["event_id"] == "regie_niet_starten" and logs[1]["accepted"] is False
    assert logs[1]["rules"] == ["payload.ongeldig"]


def test_traject_of_another_definition_is_refused(walk: Walk):
    walk.aangemeld()
    other = Engine("tests/data/basis-variant.yaml")
    with pytest.raises(DefinitionMismatchError, match="migrate"):
        other.fire(walk.traject, "notitie", {"tekst": "x"}, at=AT)


def test_json_round_trip_and_schema_version(walk: Walk):
    walk.tot_voortgang()
    data = traject_to_dict(walk.traject)
    assert data["schema_version"] == 1
    assert traject_from_dict(data) == walk.traject
    assert traject_from_json(traject_to_json(walk.traject)) == walk.traject
    with pytest.raises(SerializationError, match="schema_version"):
        traject_from_dict({**data, "schema_version": 99})
    with pytest.raises(SerializationError):
        traject_from_json("{not json")
    with pytest.raises(SerializationError):
        traject_from_dict({"schema_version": 1, "id": 3})


def test_pure_step_does_not_touch_input():
    basis = load_definition("basis")
    t0 = new_traject(basis, "T")
    out = step(basis, t0, Event("aanmelden", AT, AANMELDEN))
    assert t0.history == () and out.traject.history
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
    t = engine.start("T", data, at=AT).traject
    data["huishouden"]["leden"].append({"id": "x", "rol": "kind"})
    data["vraag"] = "iets anders"
    assert t.history[0].data == {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]},
                                 "vraag": "hulp"}
    assert t.facts["huishouden"]["leden"] == [{"id": "m1", "rol": "ouder"}]
