"""CJG 2012 (seed 004): written in YAML only; every cjg.* rule passes and refuses."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from eengezin import Engine
from eengezin.cli import main as cli

from conftest import AANMELDEN, REGISSEUR, Walk, toestemming

ROOT = Path(__file__).resolve().parents[1]


def gezinsplan() -> dict[str, Any]:
    return {
        "betrokkenen": [
            {"naam": "Sanne", "relatie": "moeder", "telefoon": "06-12345678"},
            {"naam": "Rita", "relatie": "maatschappelijk werk", "organisatie": "CJG",
             "email": "rita@cjg.example"},
        ],
        "doelen": [{"omschrijving": "Daan slaapt weer door",
                    "acties": [{"wie": "Sanne", "wat": "vast avondritueel",
                                "termijn": "binnen 4 weken"}]}],
    }


def betrokkene(bid: str) -> dict[str, Any]:
    return {"id": bid, "naam": f"naam {bid}", "relatie": "jeugdarts", "soort": "formeel"}


AFSLUITEN = {"afsluitdatum": "2026-06-01", "evaluatie": "doelen gehaald", "vervolg": False,
             "terecht_bij": "het wijkteam"}


@pytest.fixture(scope="module")
def cjg() -> Engine:
    return Engine("cjg")


@pytest.fixture
def walk(cjg: Engine) -> Walk:
    return Walk(cjg)


def tot_overleg(walk: Walk) -> Walk:
    walk.fire("aanmelden", AANMELDEN)
    walk.fire("basischeck", {"basiszorg_voldoende": True, "acuut_onveilig": False})
    walk.fire("vraag_verhelderen")
    walk.fire("regie_starten", {"regisseur": REGISSEUR})
    walk.fire("betrokkene_toevoegen", betrokkene("b1"))
    walk.fire("overleg_voorbereid")
    walk.fire("toestemming_vastleggen", toestemming())
    return walk


def tot_voortgang(walk: Walk) -> Walk:
    tot_overleg(walk)
    walk.fire("plan_vaststellen", {"plan": gezinsplan()})
    walk.fire("startoverleg_afronden", {"gezin_aanwezig": True})
    return walk


def tot_afronding(walk: Walk) -> Walk:
    return tot_voortgang(walk).voortgang_tot_afronding("goed")


def test_validates_with_the_cli():
    out = io.StringIO()
    assert cli(["validate", "cjg"], out) == 0
    assert "ok" in out.getvalue()


def test_written_without_python():
    text = (ROOT / "definitions" / "cjg.yaml").read_text("utf-8")
    assert "!!python" not in text and "import" not in text
    rules = Engine("cjg").definition.rules
    assert all(r.source.startswith(("001", "002", "003", "004", "DF")) for r in rules)
    assert {r.id for r in rules if r.id.startswith("cjg.")} == {
        "cjg.plan_betrokkenen", "cjg.doelen_acties_termijnen", "cjg.coordinator_met_gezin",
        "cjg.plan_naar_iedereen", "cjg.gezin_neemt_deel", "cjg.opschalen_na_leidinggevenden",
        "cjg.niet_afsluiten_tijdens_opschaling"}


class TestPlanBetrokkenen:
    def test_passes_with_names_and_contact_data(self, walk: Walk):
        tot_voortgang(walk)
        assert walk.state["regie"] == "voortgang"

    @pytest.mark.parametrize("edit", [
        lambda p: p.pop("betrokkenen"),
        lambda p: p["betrokkenen"][0].pop("naam"),
        lambda p: p["betrokkenen"][0].pop("telefoon"),
    ])
    def test_refuses_missing_name_or_contact(self, walk: Walk, edit: Any):
        tot_overleg(walk)
        plan = gezinsplan()
        edit(plan)
        assert walk.refused("plan_vaststellen", {"plan": plan}) == {"cjg.plan_betrokkenen"}


class TestDoelenActiesTermijnen:
    @pytest.mark.parametrize("field", ["wie", "wat", "termijn"])
    def test_refuses_an_action_without(self, walk: Walk, field: str):
        tot_overleg(walk)
        plan = gezinsplan()
        del plan["doelen"][0]["acties"][0][field]
        assert walk.refused("plan_vaststellen", {"plan": plan}) == {
            "cjg.doelen_acties_termijnen"}

    def test_refuses_a_plan_without_goals(self, walk: Walk):
        tot_overleg(walk)
        assert walk.refused("plan_vaststellen", {"plan": {**gezinsplan(), "doelen": []}}) == {
            "cjg.doelen_acties_termijnen"}

    def test_passes_complete(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("plan_vaststellen", {"plan": gezinsplan()})


class TestCoordinatorMetGezin:
    def test_refuses_a_coordinator_not_agreed_with_the_family(self, walk: Walk):
        tot_overleg(walk)
        assert walk.refused("regisseur_wijzigen", {"regisseur": REGISSEUR}) == {
            "cjg.coordinator_met_gezin"}

    def test_passes_when_agreed(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("regisseur_wijzigen", {"regisseur": REGISSEUR, "met_gezin_afgesproken": True})


class TestPlanNaarIedereen:
    def test_warns_when_someone_is_missing(self, walk: Walk):
        tot_voortgang(walk)
        assert "cjg.plan_naar_iedereen" in walk.warnings("plan_delen", {"met": ["m1"]})

    def test_silent_when_everyone_gets_a_copy(self, walk: Walk):
        tot_voortgang(walk)
        assert "cjg.plan_naar_iedereen" not in walk.warnings("plan_delen", {"met": ["m1", "b1"]})


class TestGezinNeemtDeel:
    def test_warns_without_the_family(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("plan_vaststellen", {"plan": gezinsplan()})
        assert "cjg.gezin_neemt_deel" in walk.warnings("startoverleg_afronden")

    def test_silent_with_the_family(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("plan_vaststellen", {"plan": gezinsplan()})
        assert "cjg.gezin_neemt_deel" not in walk.warnings("startoverleg_afronden",
                                                           {"gezin_aanwezig": True})


KNELPUNT = {"reden": "geen_overeenstemming", "toelichting": "geen plek bij de GGZ"}


class TestOpschaling:

    def test_two_steps_and_back(self, walk: Walk):
        tot_voortgang(walk)
        walk.fire("leidinggevende_inschakelen", KNELPUNT)
        assert walk.state["opschaling"] == "leidinggevenden"
        walk.fire("bestuurlijk_opschalen", {"toelichting": "leidinggevenden kwamen er niet uit"})
        assert walk.state["opschaling"] == "bestuurders"
        assert "event.niet_mogelijk" in walk.refused("bestuurlijk_opschalen",
                                                     {"toelichting": "x"})
        walk.fire("knelpunt_opgelost", {"resultaat": "plek per 1 mei"})
        assert walk.state["opschaling"] == "geen"
        assert walk.traject.facts["opschaling_resultaten"] == ["plek per 1 mei"]

    def test_board_level_only_after_the_managers(self, walk: Walk):
        tot_voortgang(walk)
        assert walk.refused("bestuurlijk_opschalen", {"toelichting": "x"}) == {
            "event.niet_mogelijk", "cjg.opschalen_na_leidinggevenden"}

    def test_no_closing_during_opschaling(self, walk: Walk):
        tot_afronding(walk)
        walk.fire("leidinggevende_inschakelen", {**KNELPUNT,
                                                 "reden": "aanbod_ontoereikend"})
        assert walk.refused("afsluiten", AFSLUITEN) == {"cjg.niet_afsluiten_tijdens_opschaling"}
        walk.fire("knelpunt_opgelost", {"resultaat": "aanbod gevonden"})
        walk.fire("afsluiten", AFSLUITEN)
        assert walk.state["regie"] == "gesloten"

    def test_unknown_reason_is_an_invalid_payload(self, walk: Walk):
        tot_voortgang(walk)
        assert walk.refused("leidinggevende_inschakelen",
                            {"reden": "zomaar", "toelichting": "x"}) == {"payload.ongeldig"}


def test_cjg_opschalen_na_leidinggevenden_guards_a_direct_board_step(tmp_path: Path):
    # a region that lets bestuurlijk_opschalen start from 'geen' still cannot skip the managers
    region = tmp_path / "cjg-direct.yaml"
    region.write_text(
        "id: cjg-direct\nextends: cjg\nversion: '1'\nevents:\n  bestuurlijk_opschalen:\n"
        "    when_in: {opschaling: [geen, leidinggevenden]}\n", "utf-8")
    walk = Walk(Engine(region))
    tot_voortgang(walk)
    assert walk.refused("bestuurlijk_opschalen", {"toelichting": "x"}) == {
        "cjg.opschalen_na_leidinggevenden"}


def test_run_a_scenario_with_the_cli(tmp_path: Path):
    lines = [
        {"event": "aanmelden", "at": "2026-03-02T09:00:00", "data": AANMELDEN},
        {"event": "vraag_verhelderen", "at": "2026-03-02T10:00:00"},
        {"event": "regie_starten", "at": "2026-03-02T11:00:00", "data": {"regisseur": REGISSEUR}},
        {"event": "regisseur_wijzigen", "at": "2026-03-02T12:00:00",
         "data": {"regisseur": REGISSEUR}},
    ]
    scenario = tmp_path / "s.jsonl"
    scenario.write_text("\n".join(json.dumps(x) for x in lines), "utf-8")
    out = io.StringIO()
    cli(["run", "cjg", "--events", str(scenario), "--json"], out)
    result = json.loads(out.getvalue())
    assert [s["accepted"] for s in result["steps"]] == [True, True, True, False]
    assert result["steps"][3]["violations"][0]["rule"] == "cjg.coordinator_met_gezin"
    assert result["final"]["state"]["opschaling"] == "geen"
