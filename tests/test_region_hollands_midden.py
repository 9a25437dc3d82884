"""Hollands Midden (PROCESS.md §3): every hm.* rule passes once and refuses once."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eengezin import Engine, Event, evaluate, load_definition

from conftest import AANMELDEN, REGISSEUR, Walk, signaal, toestemming

KRACHT = {"wie": "Sanne", "wat": "Ze brengt de kinderen elke dag naar school",
          "gevolgen": "De kinderen missen geen les"}
ZORG = {"wie": "Buurvrouw", "wat": "Er wordt 's avonds hard geschreeuwd", "sinds": "januari",
        "gevolgen": "De kinderen slapen slecht"}


def actie(wie: str = "Sanne") -> dict[str, str]:
    return {"wie": wie, "wat": "maakt een weekplanning", "wanneer": "voor 1 april"}


DOELENCHECK = ["veiligheidsafspraken_naleven", "onveiligheid_opheffen",
               "onderliggende_problematiek", "herstel_schade"]


def ondersteuningsplan(*, zorgen_bv: bool = False, doelencheck: bool = False) -> dict[str, Any]:
    doelen: list[dict[str, Any]] = [
        {"omschrijving": "Het gezin heeft rust in huis", "acties": [actie()]}]
    if doelencheck:
        doelen += [{"omschrijving": f"doel {s}", "soort": s, "acties": [actie("Rita")]}
                   for s in DOELENCHECK]
    return {
        "aanleiding": "'We redden het niet meer met de schulden,' zegt Sanne.",
        "krachten": [dict(KRACHT)],
        "zorgen": [dict(ZORG)],
        "eerdere_hulpverlening": [{"wat": "budgetcoaching", "door": "Humanitas",
                                   "wanneer": "2024", "resultaat": "tijdelijk overzicht"}],
        "integrale_analyse": "Geldstress en opvoedvragen versterken elkaar.",
        "gewenst_resultaat": "Rust in huis en overzicht over geld.",
        "zorgen_basiszorg_veiligheid": zorgen_bv,
        "doelen": doelen,
    }


def vvp(schaal: int = 4) -> dict[str, Any]:
    return {
        "krachten_bestaande_veiligheid": [{"wie": "Sanne", "wat": "Oma komt elke avond"}],
        "zorgen_onveiligheid": {"gebeurd": "ruzie met geschreeuw, wekelijks",
                                "schade": "kinderen angstig", "grootste_zorg": "geweld"},
        "complicerende_factoren": ["schulden"],
        "veiligheidsschaal": schaal,
        "veiligheidsafspraken": [{"wie": "Sanne", "wat": "belt oma bij ruzie", "waar": "thuis",
                                  "wanneer": "direct", "toezicht": "Rita", "nodig": "telefoon opgeladen",
                                  "bij_niet_nakomen": "melding bij Veilig Thuis"}],
    }


AFSLUITEN = {"afsluitdatum": "2026-06-01", "evaluatie": "doelen gehaald", "vervolg": False,
             "terecht_bij": "het wijkteam"}


@pytest.fixture(scope="module")
def hm() -> Engine:
    return Engine("hollands-midden")


@pytest.fixture
def walk(hm: Engine) -> Walk:
    return Walk(hm)


def tot_startoverleg(walk: Walk, *, criteria: list[str] | None = None) -> Walk:
    walk.fire("aanmelden", AANMELDEN)
    walk.fire("basischeck", {"basiszorg_voldoende": True, "acuut_onveilig": False})
    walk.fire("vraag_verhelderen", {} if criteria is None else {"criteria": criteria})
    walk.fire("regie_starten", {"regisseur": REGISSEUR})
    walk.fire("overleg_voorbereid")
    walk.fire("toestemming_vastleggen", toestemming())
    return walk


def met_vvp(walk: Walk) -> Walk:
    tot_startoverleg(walk)
    walk.fire("signaal_melden", signaal())
    walk.fire("veiligheidsplan_vaststellen", {"plan": vvp()})
    return walk


def tot_afronding(walk: Walk, *, vvp_schaal: int | None = None) -> Walk:
    tot_startoverleg(walk)
    if vvp_schaal is not None:
        walk.fire("signaal_melden", signaal())
        walk.fire("veiligheidsplan_vaststellen", {"plan": vvp()})
    walk.fire("plan_vaststellen", {"plan": ondersteuningsplan(doelencheck=vvp_schaal is not None)})
    walk.fire("startoverleg_afronden")
    walk.fire("plan_delen", {"met": ["m1"]})
    walk.fire("voortgangsoverleg_plannen")
    walk.fire("overleg_voorbereid")
    walk.fire("toestemming_vastleggen", toestemming("t2"))
    walk.fire("plan_evalueren", {"evaluatie": "gaat goed"})
    if vvp_schaal is not None:
        walk.fire("veiligheidsplan_evalueren", {"evaluatie": "afspraken nagekomen",
                                                "veiligheidsschaal": vvp_schaal})
        walk.fire("signaal_opheffen", {"id": "s1", "onderbouwing": "al maanden rustig"})
    walk.fire("afronden")
    return walk


def test_definition_has_the_seven_rules_with_seed_sources(hm: Engine):
    rules = {r.id: r for r in hm.definition.rules if r.id.startswith("hm.")}
    assert set(rules) == {
        "hm.plan_volledig", "hm.vvp_bij_zorgen", "hm.doelencheck",
        "hm.veiligheidsafspraken_compleet", "hm.veiligheidsschaal_afsluiten",
        "hm.regie_verplicht", "hm.bron_vermeld", "hm.veiligheidsafspraken_toelichting",
    }
    warn = {"hm.bron_vermeld", "hm.veiligheidsafspraken_toelichting"}
    assert {rules[i].severity for i in warn} == {"warn"}
    # a rule with warn_on is compiled once per severity: the last one seen is kept here
    blocking = {r.id for r in hm.definition.rules if r.id.startswith("hm.") and r.severity == "block"}
    assert blocking == set(rules) - warn
    for rule in rules.values():
        assert rule.source.startswith(("001", "000")), rule.id
    assert hm.definition.params["sluitniveau"] == 10


def test_criteria_are_listed_and_match_the_payload_enum(hm: Engine):
    criteria = hm.definition.raw["criteria"]
    assert len(criteria) == 10  # 001 §2.2 (1) + §2.3 (6) + §2.4 (3)
    assert hm.definition.raw["types"]["criterium"]["enum"] == list(criteria)


class TestPlanVolledig:
    def test_passes_with_every_section(self, walk: Walk):
        tot_startoverleg(walk)
        walk.fire("plan_vaststellen", {"plan": ondersteuningsplan()})
        assert walk.traject.facts["plan"]["aanleiding"].startswith("'We")

    def test_empty_earlier_help_list_means_none(self, walk: Walk):
        tot_startoverleg(walk)
        plan = ondersteuningsplan()
        plan["eerdere_hulpverlening"] = []
        walk.fire("plan_vaststellen", {"plan": plan})

    @pytest.mark.parametrize("section", [
        "aanleiding", "krachten", "zorgen", "eerdere_hulpverlening", "integrale_analyse",
        "gewenst_resultaat", "zorgen_basiszorg_veiligheid", "doelen"])
    def test_refuses_a_missing_section(self, walk: Walk, section: str):
        tot_startoverleg(walk)
        plan = ondersteuningsplan()
        del plan[section]
        assert walk.refused("plan_vaststellen", {"plan": plan}) == {"hm.plan_volledig"}

    @pytest.mark.parametrize("edit", [
        lambda p: p["doelen"][0].update(acties=[]),
        lambda p: p["doelen"][0]["acties"][0].pop("wanneer"),
        lambda p: p["doelen"][0].pop("omschrijving"),
        lambda p: p["krachten"][0].pop("gevolgen"),
        lambda p: p["eerdere_hulpverlening"][0].pop("resultaat"),
    ])
    def test_refuses_an_incomplete_doel_or_entry(self, walk: Walk, edit: Any):
        tot_startoverleg(walk)
        plan = ondersteuningsplan()
        edit(plan)
        assert walk.refused("plan_vaststellen", {"plan": plan}) == {"hm.plan_volledig"}

    def test_message_is_dutch_and_names_the_sections(self, hm: Engine):
        rule = next(r for r in hm.definition.rules if r.id == "hm.plan_volledig")
        assert "aanleiding" in rule.message and "wie, wat en wanneer" in rule.message


class TestVvpBijZorgen:
    def test_passes_without_concerns(self, walk: Walk):
        tot_startoverleg(walk)
        walk.fire("plan_vaststellen", {"plan": ondersteuningsplan(zorgen_bv=False)})
        walk.fire("startoverleg_afronden")
        assert walk.state["regie"] == "voortgang"

    def test_refuses_concerns_without_vvp(self, walk: Walk):
        tot_startoverleg(walk)
        walk.fire("plan_vaststellen", {"plan": ondersteuningsplan(zorgen_bv=True)})
        assert "hm.vvp_bij_zorgen" in walk.refused("startoverleg_afronden")

    def test_passes_concerns_with_vvp(self, walk: Walk):
        met_vvp(walk)
        walk.fire("plan_vaststellen",
                  {"plan": ondersteuningsplan(zorgen_bv=True, doelencheck=True)})
        walk.fire("startoverleg_afronden")


class TestDoelencheck:
    def test_no_check_without_vvp(self, walk: Walk):
        tot_startoverleg(walk)
        walk.fire("plan_vaststellen", {"plan": ondersteuningsplan(doelencheck=False)})

    def test_passes_with_the_four_goals(self, walk: Walk):
        met_vvp(walk)
        walk.fire("plan_vaststellen", {"plan": ondersteuningsplan(doelencheck=True)})

    @pytest.mark.parametrize("missing", DOELENCHECK)
    def test_refuses_when_one_goal_is_missing(self, walk: Walk, missing: str):
        met_vvp(walk)
        plan = ondersteuningsplan(doelencheck=True)
        plan["doelen"] = [d for d in plan["doelen"] if d.get("soort") != missing]
        assert walk.refused("plan_vaststellen", {"plan": plan}) == {"hm.doelencheck"}

    def test_checks_the_plan_in_force_when_vvp_comes_later(self, walk: Walk):
        tot_startoverleg(walk)
        walk.fire("plan_vaststellen", {"plan": ondersteuningsplan(doelencheck=False)})
        walk.fire("signaal_melden", signaal())
        walk.fire("veiligheidsplan_vaststellen", {"plan": vvp()})
        assert "hm.doelencheck" in walk.refused("startoverleg_afronden")
        walk.fire("plan_vaststellen", {"plan": ondersteuningsplan(doelencheck=True)})
        walk.fire("startoverleg_afronden")


class TestVeiligheidsafsprakenCompleet:
    def test_passes_when_complete(self, walk: Walk):
        met_vvp(walk)
        assert walk.state["veiligheid"] == "veiligheidsplan"

    @pytest.mark.parametrize("field", ["wie", "wat", "waar", "wanneer", "toezicht"])
    def test_refuses_a_missing_field(self, walk: Walk, field: str):
        tot_startoverleg(walk)
        walk.fire("signaal_melden", signaal())
        plan = vvp()
        del plan["veiligheidsafspraken"][0][field]
        assert walk.refused("veiligheidsplan_vaststellen", {"plan": plan}) == {
            "hm.veiligheidsafspraken_compleet"}

    def test_refuses_no_agreements(self, walk: Walk):
        tot_startoverleg(walk)
        walk.fire("signaal_melden", signaal())
        plan = vvp()
        plan["veiligheidsafspraken"] = []
        assert walk.refused("veiligheidsplan_vaststellen", {"plan": plan}) == {
            "hm.veiligheidsafspraken_compleet"}

    def test_reminds_what_is_needed_and_what_if_not_kept(self, walk: Walk):
        tot_startoverleg(walk)
        walk.fire("signaal_melden", signaal())
        plan = vvp()
        assert "hm.veiligheidsafspraken_toelichting" not in walk.warnings(
            "veiligheidsplan_vaststellen", {"plan": plan})
        del plan["veiligheidsafspraken"][0]["bij_niet_nakomen"]
        assert "hm.veiligheidsafspraken_toelichting" in walk.warnings(
            "veiligheidsplan_vaststellen", {"plan": plan})

    def test_scale_out_of_range_is_an_invalid_payload(self, walk: Walk):
        tot_startoverleg(walk)
        walk.fire("signaal_melden", signaal())
        assert walk.refused("veiligheidsplan_vaststellen", {"plan": vvp(11)}) == {
            "payload.ongeldig"}


class TestVeiligheidsschaalAfsluiten:
    def test_passes_at_ten(self, walk: Walk):
        tot_afronding(walk, vvp_schaal=10)
        walk.fire("afsluiten", AFSLUITEN)
        assert walk.state["regie"] == "gesloten"

    def test_refuses_below_ten(self, walk: Walk):
        tot_afronding(walk, vvp_schaal=9)
        assert walk.refused("afsluiten", AFSLUITEN) == {"hm.veiligheidsschaal_afsluiten"}

    def test_no_check_without_vvp(self, walk: Walk):
        tot_afronding(walk)
        walk.fire("afsluiten", AFSLUITEN)

    def test_the_level_is_a_parameter(self, tmp_path):
        region = tmp_path / "hm-acht.yaml"
        region.write_text("id: hm-acht\nextends: hollands-midden\nversion: '1'\n"
                          "params: {sluitniveau: 8}\n", "utf-8")
        walk = Walk(Engine(region))
        tot_afronding(walk, vvp_schaal=8)
        walk.fire("afsluiten", AFSLUITEN)


class TestGeenDoodlopendeFase6:
    """PROCESS.md 7.1: the stuck traject of issue 10 (scale 8) now has a way out."""

    def test_warns_at_afronden_and_names_the_way_back_at_afsluiten(self, walk: Walk):
        tot_startoverleg(walk)
        walk.fire("signaal_melden", signaal())
        walk.fire("veiligheidsplan_vaststellen", {"plan": vvp()})
        walk.fire("plan_vaststellen", {"plan": ondersteuningsplan(doelencheck=True)})
        walk.fire("startoverleg_afronden")
        walk.fire("plan_delen", {"met": ["m1"]})
        walk.fire("voortgangsoverleg_plannen")
        walk.fire("overleg_voorbereid")
        walk.fire("toestemming_vastleggen", toestemming("t2"))
        walk.fire("plan_evalueren", {"evaluatie": "gaat goed"})
        walk.fire("veiligheidsplan_evalueren", {"evaluatie": "rustig", "veiligheidsschaal": 8})
        walk.fire("signaal_opheffen", {"id": "s1", "onderbouwing": "al maanden rustig"})
        out = walk.fire("afronden")
        warned = [v for v in out.violations if v.rule == "hm.veiligheidsschaal_afsluiten"]
        assert warned and warned[0].severity == "warn"
        out = walk.fire("afsluiten", AFSLUITEN, expect=False)
        (blocked,) = out.verdict.blocking
        assert blocked.rule == "hm.veiligheidsschaal_afsluiten"
        assert blocked.next == ("terug_naar_voortgang",)
        walk.fire("terug_naar_voortgang", {"reden": "schaal is 8, nog niet veilig genoeg"})
        walk.fire("overleg_voorbereid")
        walk.fire("toestemming_vastleggen", toestemming("t3"))
        walk.fire("plan_evalueren", {"evaluatie": "doelen gehaald"})
        walk.fire("veiligheidsplan_evalueren", {"evaluatie": "veilig", "veiligheidsschaal": 10})
        assert "hm.veiligheidsschaal_afsluiten" not in walk.warnings("afronden")
        walk.fire("afsluiten", AFSLUITEN)
        assert walk.state["regie"] == "gesloten"


class TestDelenGedekt:
    def test_sharing_with_a_professional_without_consent_is_refused(self, walk: Walk):
        tot_afronding(walk)  # the consents of the overleggen name b1
        refused = walk.refused("plan_delen", {"met": ["m1", "b7"]})
        assert refused == {"toestemming.delen_gedekt"}

    def test_sharing_covered_by_consent_passes(self, walk: Walk):
        tot_afronding(walk)
        walk.fire("plan_delen", {"met": ["m1", "b1"]})


def test_start_with_only_a_vvp_passes_the_doelencheck(walk: Walk):
    met_vvp(walk)
    walk.fire("startoverleg_afronden")
    assert walk.state["regie"] == "voortgang"


class TestRegieVerplicht:
    def test_passes_without_criteria(self, walk: Walk):
        walk.fire("aanmelden", AANMELDEN)
        walk.fire("vraag_verhelderen", {"criteria": []})
        walk.fire("regie_niet_starten", {"reden": "enkelvoudige vraag"})
        assert walk.state["regie"] == "zonder_regie"

    @pytest.mark.parametrize("criterium", ["meldcode", "zorgmijdend", "weinig_veerkracht"])
    def test_refuses_when_recorded_at_vraagverheldering(self, walk: Walk, criterium: str):
        walk.fire("aanmelden", AANMELDEN)
        walk.fire("vraag_verhelderen", {"criteria": [criterium]})
        assert walk.refused("regie_niet_starten", {"reden": "x"}) == {"hm.regie_verplicht"}

    def test_refuses_after_kwetsbaarheid_vastleggen_and_latest_counts(self, walk: Walk):
        walk.fire("aanmelden", AANMELDEN)
        walk.fire("vraag_verhelderen")
        walk.fire("kwetsbaarheid_vastleggen", {"criteria": ["minder_zelfredzaam",
                                                           "moeite_met_hulpvraag"]})
        assert walk.refused("regie_niet_starten", {"reden": "x"}) == {"hm.regie_verplicht"}
        walk.fire("kwetsbaarheid_vastleggen", {"criteria": [], "toelichting": "herzien"})
        walk.fire("regie_niet_starten", {"reden": "x"})

    def test_unknown_criterion_is_an_invalid_payload(self, walk: Walk):
        walk.fire("aanmelden", AANMELDEN)
        assert walk.refused("kwetsbaarheid_vastleggen", {"criteria": ["arm"]}) == {
            "payload.ongeldig"}


class TestBronVermeld:
    def test_no_warning_with_speakers(self, walk: Walk):
        tot_startoverleg(walk)
        assert "hm.bron_vermeld" not in walk.warnings(
            "plan_vaststellen", {"plan": ondersteuningsplan()})

    @pytest.mark.parametrize("section", ["krachten", "zorgen"])
    def test_warns_without_speaker_but_accepts(self, walk: Walk, section: str):
        tot_startoverleg(walk)
        plan = copy.deepcopy(ondersteuningsplan())
        del plan[section][0]["wie"]
        assert "hm.bron_vermeld" in walk.warnings("plan_vaststellen", {"plan": plan})

    def test_warns_on_vvp_strengths_without_speaker(self, walk: Walk):
        tot_startoverleg(walk)
        walk.fire("signaal_melden", signaal())
        plan = vvp()
        del plan["krachten_bestaande_veiligheid"][0]["wie"]
        assert "hm.bron_vermeld" in walk.warnings("veiligheidsplan_vaststellen", {"plan": plan})


def test_base_rules_still_apply(walk: Walk):
    tot_startoverleg(walk)
    walk.fire("signaal_melden", signaal())
    # the basis rule: with open signals the safety plan comes first
    assert "veiligheid.veiligheidsplan_eerst" in walk.refused(
        "plan_vaststellen", {"plan": ondersteuningsplan(doelencheck=True)})


def test_definition_loads_by_id_and_extends_basis():
    definition = load_definition("hollands-midden")
    assert "veiligheid.altijd_regie_bij_onveiligheid" in {r.id for r in definition.rules}
    assert set(definition.tracks) == {"regie", "veiligheid"}


SECTIONS = ["aanleiding", "krachten", "zorgen", "eerdere_hulpverlening", "integrale_analyse",
            "gewenst_resultaat", "zorgen_basiszorg_veiligheid", "doelen"]


@pytest.fixture(scope="module")
def in_startoverleg(hm: Engine) -> Any:
    return tot_startoverleg(Walk(hm)).traject


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(missing=st.sets(st.sampled_from(SECTIONS)),
       emptied=st.sets(st.sampled_from(["krachten", "zorgen", "doelen"])))
def test_plan_volledig_refuses_exactly_incomplete_plans(
        hm: Engine, in_startoverleg: Any, missing: set[str], emptied: set[str]):
    plan = ondersteuningsplan()
    for section in missing:
        del plan[section]
    for section in emptied - missing:
        plan[section] = []
    verdict = evaluate(hm.definition, in_startoverleg,
                       Event("plan_vaststellen", datetime(2026, 3, 3, 9), {"plan": plan}))
    assert ("hm.plan_volledig" in verdict.rule_ids) is bool(missing | emptied)
