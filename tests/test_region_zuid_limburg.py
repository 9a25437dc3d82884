"""Zuid-Limburg (PROCESS.md §4): every zl.* rule passes and refuses, the terms, the roles,
consent by age, and the stagnation ladder (with hypothesis)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from eengezin import Actor, Engine, Event, Traject, evaluate, step
from eengezin.deadlines import add_werkdagen

from conftest import AMS, REGISSEUR, Walk, toestemming

START = datetime(2026, 3, 2, 9, 0)  # Monday

OUDER = {"id": "m1", "naam": "Sanne", "geboortedatum": "1988-06-14", "rol": "ouder"}
KIND = {"id": "k1", "naam": "Daan", "geboortedatum": "2015-09-01", "rol": "kind"}


def aanmelding(*extra: dict[str, Any]) -> dict[str, Any]:
    return {"huishouden": {"leden": [OUDER, KIND, *extra]}, "vraag": "Opvoeden en schulden"}


def gezinsplan() -> dict[str, Any]:
    return {
        "tabblad_1": {"regisseur": "r1", "betrokkenen": ["b1", "b2"], "afstemming": "mail",
                      "afspraken": ["Rita belt elke maandag"]},
        "tabblad_2": {"doelen": [{"omschrijving": "Daan gaat weer elke dag naar school",
                                  "wie": ["Sanne", "Rita"], "wat": "ochtendritme oefenen",
                                  "start": "2026-03-09", "einde": "2026-05-01",
                                  "evaluatie": "op 1 mei in het overleg"}]},
        "tabblad_3": {"voorzieningen": [{"soort": "jeugdhulp", "omschrijving": "opvoedsteun"}]},
        "tabblad_4": {"instrument": "ZRM", "leefgebieden": [{"gebied": "Financiën", "score": 2}]},
        "tabblad_5": {"toestemming": ["t1"]},
    }


def betrokkene(bid: str, soort: str = "formeel") -> dict[str, Any]:
    return {"id": bid, "naam": f"naam {bid}", "relatie": "hulpverlener", "soort": soort}


AFSLUITEN = {"afsluitdatum": "2026-06-01", "evaluatie": "doelen gehaald", "vervolg": False,
             "zorg": "afgebouwd"}
GEMEENTE = Actor("g1", "gemeentelijk_aanspreekpunt")
REGISSEUR_ACTOR = Actor("r1", "regisseur")


@pytest.fixture(scope="module")
def zl() -> Engine:
    return Engine("zuid-limburg")


@pytest.fixture
def walk(zl: Engine) -> Walk:
    return Walk(zl, START)


def tot_vraagverheldering(walk: Walk, *extra: dict[str, Any], **vraag: Any) -> Walk:
    walk.fire("aanmelden", aanmelding(*extra))
    walk.fire("basischeck", {"basiszorg_voldoende": True, "acuut_onveilig": False})
    walk.fire("vraag_verhelderen", vraag)
    return walk


def tot_overleg(walk: Walk, *extra: dict[str, Any]) -> Walk:
    tot_vraagverheldering(walk, *extra)
    walk.fire("voorkeur_regisseur_vastleggen", {"voorkeur": "r1"})
    walk.fire("regie_starten", {"regisseur": REGISSEUR})
    walk.fire("betrokkene_toevoegen", betrokkene("b1"))
    walk.fire("overleg_voorbereid")
    walk.fire("toestemming_vastleggen", toestemming())
    return walk


def tot_voortgang(walk: Walk) -> Walk:
    tot_overleg(walk)
    walk.fire("familiegroepsplan_vastleggen", {"opgesteld": True})
    walk.fire("plan_vaststellen", {"plan": gezinsplan()})
    walk.fire("startoverleg_afronden")
    return walk


def tot_afronding(walk: Walk) -> Walk:
    return tot_voortgang(walk).voortgang_tot_afronding("loopt")


def on(walk: Walk, day: date) -> None:
    """Move the walk's clock to 9:00 on ``day`` (the next fire adds one hour)."""
    walk.at = datetime(day.year, day.month, day.day, 8, 0, tzinfo=AMS)


def deadline_ids(walk: Walk) -> set[str]:
    return set(walk.traject.deadlines)


def test_definition_has_every_zl_rule_of_process_md(zl: Engine):
    rules = {r.id for r in zl.definition.rules}
    deadlines = set(zl.definition.deadlines)
    assert {
        "zl.regie_nodig", "zl.familiegroepsplan_eerst", "zl.pleegouder_instemming",
        "zl.doel_termijnen", "zl.evaluatie_na_termijn", "zl.beschikking_basis",
        "zl.regisseur_keuze_gezin", "zl.handhaving_geen_regisseur", "zl.gedwongen_kader",
        "zl.toestemming_leeftijd", "zl.toestemming_specifiek", "zl.overmacht",
        "zl.afronding_casusregie", "zl.geen_afsluiting_bij_stagnatie",
    } <= rules
    assert {"zl.hulpverleningsplan_6_weken", "zl.schriftelijk_14_dagen",
            "zl.ronde_tafel_termijn"} <= deadlines
    for rule in zl.definition.rules:
        if rule.id.startswith("zl."):
            assert rule.source.startswith("003"), rule.id
    assert set(zl.definition.tracks) == {"regie", "veiligheid", "escalatie"}
    assert "gemeentelijk_aanspreekpunt" in zl.definition.roles


# ------------------------------------------------------------------ regie nodig
class TestRegieNodig:
    def test_passes_with_two_professionals(self, walk: Walk):
        tot_vraagverheldering(walk)
        for b in ("b1", "b2"):
            walk.fire("betrokkene_toevoegen", betrokkene(b))
        walk.fire("betrokkene_toevoegen", betrokkene("oma", "informeel"))
        walk.fire("regie_niet_starten", {"reden": "gezin regelt het zelf"})
        assert walk.state["regie"] == "zonder_regie"

    def test_refuses_with_three_professionals(self, walk: Walk):
        tot_vraagverheldering(walk)
        for b in ("b1", "b2", "b3"):
            walk.fire("betrokkene_toevoegen", betrokkene(b))
        assert walk.refused("regie_niet_starten", {"reden": "x"}) == {"zl.regie_nodig"}

    def test_refuses_when_a_gezinsplan_is_followed(self, walk: Walk):
        tot_vraagverheldering(walk, gezinsplan=True)
        assert walk.refused("regie_niet_starten", {"reden": "x"}) == {"zl.regie_nodig"}

    def test_refuses_on_a_verwijsindex_match(self, walk: Walk):
        tot_vraagverheldering(walk)
        walk.fire("verwijsindex_match_vastleggen", {"toelichting": "match met school"})
        assert walk.refused("regie_niet_starten", {"reden": "x"}) == {"zl.regie_nodig"}


# ------------------------------------------------------------------ the plan
class TestFamiliegroepsplanEerst:
    def test_refuses_plan_before_the_choice(self, walk: Walk):
        tot_overleg(walk)
        assert walk.refused("plan_vaststellen", {"plan": gezinsplan()}) == {
            "zl.familiegroepsplan_eerst"}

    @pytest.mark.parametrize("opgesteld", [True, False])
    def test_passes_after_the_choice(self, walk: Walk, opgesteld: bool):
        tot_overleg(walk)
        walk.fire("familiegroepsplan_vastleggen", {"opgesteld": opgesteld})
        walk.fire("plan_vaststellen", {"plan": gezinsplan()})


class TestHulpverleningsplanZesWeken:
    def test_started_only_when_the_family_declines(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("familiegroepsplan_vastleggen", {"opgesteld": True})
        assert "zl.hulpverleningsplan_6_weken" not in deadline_ids(walk)

    def test_met_in_time(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("familiegroepsplan_vastleggen", {"opgesteld": False})
        due = walk.traject.deadlines["zl.hulpverleningsplan_6_weken"].due
        assert due == walk.at.date() + timedelta(weeks=6)
        on(walk, due)
        out = walk.fire("plan_vaststellen", {"plan": gezinsplan()})
        assert "zl.hulpverleningsplan_6_weken" not in out.verdict.rule_ids
        assert "zl.hulpverleningsplan_6_weken" not in deadline_ids(walk)

    def test_warns_when_late(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("familiegroepsplan_vastleggen", {"opgesteld": False})
        due = walk.traject.deadlines["zl.hulpverleningsplan_6_weken"].due
        on(walk, due + timedelta(days=1))
        out = walk.fire("plan_vaststellen", {"plan": gezinsplan()})
        assert out.accepted
        assert "zl.hulpverleningsplan_6_weken" in {v.rule for v in out.verdict.warnings}

    def test_a_second_refusal_does_not_reset_the_term(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("familiegroepsplan_vastleggen", {"opgesteld": False})
        first = walk.traject.deadlines["zl.hulpverleningsplan_6_weken"]
        on(walk, walk.at.date() + timedelta(days=10))
        walk.fire("familiegroepsplan_vastleggen", {"opgesteld": False})
        assert walk.traject.deadlines["zl.hulpverleningsplan_6_weken"] == first


class TestSchriftelijkVeertienDagen:
    def test_met_by_putting_it_in_writing(self, walk: Walk):
        tot_voortgang(walk)
        walk.fire("plan_schriftelijk_verzoeken", {"door": "ouder"})
        due = walk.traject.deadlines["zl.schriftelijk_14_dagen"].due
        assert due == walk.at.date() + timedelta(days=14)
        on(walk, due)
        out = walk.fire("plan_op_schrift_stellen")
        assert out.verdict.violations == ()
        assert "zl.schriftelijk_14_dagen" not in deadline_ids(walk)

    def test_listed_as_overdue_and_warned_after_14_days(self, walk: Walk, zl: Engine):
        tot_voortgang(walk)
        walk.fire("plan_schriftelijk_verzoeken", {"door": "jeugdige"})
        due = walk.traject.deadlines["zl.schriftelijk_14_dagen"].due
        status = {d.id: d for d in zl.deadlines(walk.traject, at=due)}
        assert status["zl.schriftelijk_14_dagen"].overdue is False
        status = {d.id: d for d in zl.deadlines(walk.traject, at=due + timedelta(days=1))}
        assert status["zl.schriftelijk_14_dagen"].overdue is True
        on(walk, due + timedelta(days=1))
        assert "zl.schriftelijk_14_dagen" in walk.warnings("notitie", {"tekst": "nog niet"})

    def test_wrong_requester_is_an_invalid_payload(self, walk: Walk):
        tot_voortgang(walk)
        assert walk.refused("plan_schriftelijk_verzoeken", {"door": "buurman"}) == {
            "payload.ongeldig"}


PLEEGOUDER = {"id": "p1", "naam": "Joke", "geboortedatum": "1970-01-01", "rol": "pleegouder"}


class TestPleegouderInstemming:

    def test_refuses_without_consent_of_the_pleegouder(self, walk: Walk):
        tot_overleg(walk, PLEEGOUDER)
        walk.fire("familiegroepsplan_vastleggen", {"opgesteld": True})
        assert walk.refused("plan_vaststellen", {"plan": gezinsplan()}) == {
            "zl.pleegouder_instemming"}
        assert walk.refused("plan_vaststellen", {"plan": gezinsplan(),
                                                 "pleegouder_instemming": ["m1"]}) == {
            "zl.pleegouder_instemming"}

    def test_passes_with_consent(self, walk: Walk):
        tot_overleg(walk, PLEEGOUDER)
        walk.fire("familiegroepsplan_vastleggen", {"opgesteld": True})
        walk.fire("plan_vaststellen", {"plan": gezinsplan(), "pleegouder_instemming": ["p1"]})

    def test_no_pleegzorg_no_requirement(self, walk: Walk):
        tot_voortgang(walk)  # household without pleegouder, no instemming sent


class TestDoelTermijnen:
    @pytest.mark.parametrize("field", ["wie", "wat", "start", "einde", "evaluatie"])
    def test_refuses_a_doel_without(self, walk: Walk, field: str):
        tot_overleg(walk)
        walk.fire("familiegroepsplan_vastleggen", {"opgesteld": True})
        plan = gezinsplan()
        del plan["tabblad_2"]["doelen"][0][field]
        assert walk.refused("plan_vaststellen", {"plan": plan}) == {"zl.doel_termijnen"}

    def test_refuses_empty_wie_and_no_doelen(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("familiegroepsplan_vastleggen", {"opgesteld": True})
        plan = gezinsplan()
        plan["tabblad_2"]["doelen"][0]["wie"] = []
        assert walk.refused("plan_vaststellen", {"plan": plan}) == {"zl.doel_termijnen"}
        plan["tabblad_2"]["doelen"] = []
        assert walk.refused("plan_vaststellen", {"plan": plan}) == {"zl.doel_termijnen"}

    def test_passes_complete(self, walk: Walk):
        tot_voortgang(walk)
        assert walk.traject.facts["plan"]["tabblad_2"]["doelen"][0]["einde"] == "2026-05-01"

    def test_a_bad_date_is_an_invalid_payload(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("familiegroepsplan_vastleggen", {"opgesteld": True})
        plan = gezinsplan()
        plan["tabblad_2"]["doelen"][0]["einde"] = "1 mei"
        assert walk.refused("plan_vaststellen", {"plan": plan}) == {"payload.ongeldig"}


class TestEvaluatieNaTermijn:
    DOEL = "Daan gaat weer elke dag naar school"

    def test_silent_before_the_end_date(self, walk: Walk):
        tot_voortgang(walk)
        walk.fire("plan_delen", {"met": ["m1"]})
        on(walk, date(2026, 5, 1))
        assert "zl.evaluatie_na_termijn" not in walk.warnings("voortgangsoverleg_plannen")

    def test_warns_after_the_end_date_until_evaluated(self, walk: Walk):
        tot_voortgang(walk)
        walk.fire("plan_delen", {"met": ["m1"]})
        on(walk, date(2026, 5, 2))
        assert "zl.evaluatie_na_termijn" in walk.warnings("voortgangsoverleg_plannen")
        walk.fire("overleg_voorbereid")
        walk.fire("toestemming_vastleggen", toestemming("t2"))
        walk.fire("doel_evalueren", {"doel": self.DOEL, "behaald": True})
        assert "zl.evaluatie_na_termijn" not in walk.warnings(
            "plan_evalueren", {"evaluatie": "doel gehaald"})


class TestEvaluatieNietBehaald:
    DOEL = "Daan gaat weer elke dag naar school"

    def test_warns_when_unmet_without_explanation(self, walk: Walk):
        tot_voortgang(walk)
        assert "zl.evaluatie_niet_behaald" in walk.warnings(
            "doel_evalueren", {"doel": self.DOEL, "behaald": False})

    def test_silent_with_explanation_or_when_met(self, walk: Walk):
        tot_voortgang(walk)
        assert "zl.evaluatie_niet_behaald" not in walk.warnings("doel_evalueren", {
            "doel": self.DOEL, "behaald": False, "volgens_plan": False,
            "toelichting": "school had geen plek", "bereikt": "drie dagen per week"})
        assert "zl.evaluatie_niet_behaald" not in walk.warnings(
            "doel_evalueren", {"doel": self.DOEL, "behaald": True})


class TestBeschikkingBasis:
    def test_passes_with_tabbladen_1_to_3(self, walk: Walk):
        tot_voortgang(walk)
        walk.fire("beschikking_aanvragen", {"voorziening": "opvoedsteun"})

    def test_refuses_without_plan(self, walk: Walk):
        tot_overleg(walk)
        assert walk.refused("beschikking_aanvragen", {}) == {"zl.beschikking_basis"}

    @pytest.mark.parametrize("edit", [
        lambda p: p.pop("tabblad_1"),
        lambda p: p["tabblad_1"].pop("afstemming"),
        lambda p: p.pop("tabblad_3"),
        lambda p: p["tabblad_3"]["voorzieningen"][0].pop("omschrijving"),
    ])
    def test_refuses_with_tabblad_1_or_3_incomplete(self, walk: Walk, edit: Any):
        # tabblad 2 cannot be incomplete in an adopted plan: zl.doel_termijnen guards it
        tot_overleg(walk)
        walk.fire("familiegroepsplan_vastleggen", {"opgesteld": True})
        plan = gezinsplan()
        edit(plan)
        walk.fire("plan_vaststellen", {"plan": plan})
        assert walk.refused("beschikking_aanvragen", {}) == {"zl.beschikking_basis"}


# ------------------------------------------------------------------ ronde tafel
class TestRondeTafelTermijn:
    def test_due_after_15_werkdagen_and_met(self, walk: Walk):
        tot_overleg(walk)
        on(walk, date(2026, 4, 20))
        walk.fire("ronde_tafel_initieren", {"door": "r1"})
        # 27 April (Koningsdag) and 5 May (Bevrijdingsdag) are no working days
        assert walk.traject.deadlines["zl.ronde_tafel_termijn"].due == date(2026, 5, 13)
        on(walk, date(2026, 5, 13))
        out = walk.fire("ronde_tafel_houden", {"verslag": "afspraken gemaakt"})
        assert "zl.ronde_tafel_termijn" not in out.verdict.rule_ids
        assert "zl.ronde_tafel_termijn" not in deadline_ids(walk)

    def test_warns_the_day_after(self, walk: Walk):
        tot_overleg(walk)
        on(walk, date(2026, 4, 20))
        walk.fire("ronde_tafel_initieren", {})
        on(walk, date(2026, 5, 14))
        out = walk.fire("ronde_tafel_houden", {})
        assert out.accepted and "zl.ronde_tafel_termijn" in {v.rule for v in out.verdict.warnings}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)))
def test_overdue_appears_exactly_after_the_last_working_day(zl: Engine, start: date):
    walk = Walk(zl, datetime(start.year, start.month, start.day, 7, 0))
    walk.fire("aanmelden", aanmelding())
    walk.fire("ronde_tafel_initieren", {})
    due = walk.traject.deadlines["zl.ronde_tafel_termijn"].due
    assert due == add_werkdagen(start, 15)
    for day, overdue in ((due, False), (due + timedelta(days=1), True)):
        listed = {d.id: d.overdue for d in zl.deadlines(walk.traject, at=day)}
        assert listed["zl.ronde_tafel_termijn"] is overdue
        verdict = zl.evaluate(walk.traject, "notitie", {"tekst": "x"},
                              at=datetime(day.year, day.month, day.day, 23, 59, tzinfo=AMS))
        assert ("zl.ronde_tafel_termijn" in verdict.rule_ids) is overdue


# ------------------------------------------------------------------ who is regisseur
class TestRegisseurKeuzeGezin:
    def test_warns_without_recorded_preference(self, walk: Walk):
        tot_vraagverheldering(walk)
        assert "zl.regisseur_keuze_gezin" in walk.warnings("regie_starten",
                                                           {"regisseur": REGISSEUR})

    def test_silent_when_the_family_choice_is_followed(self, walk: Walk):
        tot_vraagverheldering(walk)
        walk.fire("voorkeur_regisseur_vastleggen", {"voorkeur": "r1"})
        assert "zl.regisseur_keuze_gezin" not in walk.warnings("regie_starten",
                                                               {"regisseur": REGISSEUR})

    def test_warns_on_another_choice_without_reason(self, walk: Walk):
        tot_vraagverheldering(walk)
        walk.fire("voorkeur_regisseur_vastleggen", {"voorkeur": "oma"})
        assert "zl.regisseur_keuze_gezin" in walk.warnings("regie_starten",
                                                           {"regisseur": REGISSEUR})

    def test_silent_on_another_choice_with_reason(self, walk: Walk):
        tot_vraagverheldering(walk)
        walk.fire("voorkeur_regisseur_vastleggen", {"voorkeur": "oma"})
        assert "zl.regisseur_keuze_gezin" not in walk.warnings("regie_starten", {
            "regisseur": REGISSEUR, "reden_afwijking": "oma woont te ver weg"})


POLITIE = {"id": "p9", "naam": "Agent Bos", "soort": "professional", "organisatie": "Politie",
           "handhaving": "politie"}


class TestHandhavingGeenRegisseur:
    def test_refuses_an_enforcement_party_as_regisseur(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("handhaving_vastleggen", {"overwogen": True})
        assert walk.refused("regisseur_wijzigen", {"regisseur": POLITIE}) == {
            "zl.handhaving_geen_regisseur"}

    def test_passes_temporarily(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("handhaving_vastleggen", {"overwogen": True})
        walk.fire("regisseur_wijzigen", {"regisseur": POLITIE, "tijdelijk": True,
                                         "reden_afwijking": "voortraject"})
        assert walk.traject.facts["regisseur_tijdelijk"] is True

    def test_passes_when_no_measure_is_considered(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("regisseur_wijzigen", {"regisseur": POLITIE})

    def test_applies_to_regie_starten(self, walk: Walk):
        tot_vraagverheldering(walk)
        walk.fire("handhaving_vastleggen", {"overwogen": True})
        assert walk.refused("regie_starten", {"regisseur": POLITIE}) == {
            "zl.handhaving_geen_regisseur"}


VOOGD = {"id": "v1", "naam": "Els", "soort": "professional", "functie": "gezinsvoogd"}
ANDER = {"id": "a1", "naam": "Piet", "soort": "professional", "functie": "jeugdarts"}


class TestGedwongenKader:

    def test_warns_when_not_the_voogd(self, walk: Walk):
        tot_vraagverheldering(walk)
        walk.fire("kader_vastleggen", {"kader": "gedwongen", "maatregel": "OTS"})
        walk.fire("voorkeur_regisseur_vastleggen", {})
        assert "zl.gedwongen_kader" in walk.warnings("regie_starten", {"regisseur": ANDER})

    def test_silent_for_the_voogd(self, walk: Walk):
        tot_vraagverheldering(walk)
        walk.fire("kader_vastleggen", {"kader": "gedwongen"})
        walk.fire("voorkeur_regisseur_vastleggen", {})
        assert "zl.gedwongen_kader" not in walk.warnings("regie_starten",
                                                         {"regisseur": VOOGD})

    def test_silent_in_a_voluntary_frame(self, walk: Walk):
        tot_vraagverheldering(walk)
        walk.fire("kader_vastleggen", {"kader": "vrijwillig"})
        assert "zl.gedwongen_kader" not in walk.warnings("regie_starten",
                                                         {"regisseur": ANDER})


# ------------------------------------------------------------------ consent
def consent(over: str, van: list[str], vorm: str = "schriftelijk", cid: str = "c1"
            ) -> dict[str, Any]:
    return {"id": cid, "van": van, "over": over, "doel": "afstemming met school",
            "informatie": "schoolverzuim", "met": ["b1"], "vorm": vorm}


class TestToestemmingLeeftijd:
    def test_child_under_12_needs_a_parent(self, walk: Walk):
        tot_overleg(walk)  # k1 is 10 in March 2026
        assert walk.refused("toestemming_vastleggen", consent("k1", ["k1"])) == {
            "zl.toestemming_leeftijd"}
        walk.fire("toestemming_vastleggen", consent("k1", ["m1"]))

    def test_adult_consents_themself(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("toestemming_vastleggen", consent("m1", ["m1"]))

    def test_unknown_member_is_refused(self, walk: Walk):
        tot_overleg(walk)
        assert walk.refused("toestemming_vastleggen", consent("x9", ["m1"])) == {
            "zl.toestemming_leeftijd"}

    def test_unborn_child_needs_a_parent(self, walk: Walk):
        ongeboren = {"id": "u1", "geboortedatum": "2026-08-01", "rol": "kind"}
        tot_overleg(walk, ongeboren)
        assert walk.refused("toestemming_vastleggen", consent("u1", ["u1"])) == {
            "zl.toestemming_leeftijd"}
        walk.fire("toestemming_vastleggen", consent("u1", ["m1"]))

    def test_child_without_birth_date_is_refused(self, walk: Walk):
        tot_overleg(walk, {"id": "k2", "rol": "kind"})
        assert walk.refused("toestemming_vastleggen", consent("k2", ["m1", "k2"])) == {
            "zl.toestemming_leeftijd"}

    def test_adult_without_birth_date_consents_themself(self, walk: Walk):
        tot_overleg(walk, {"id": "o1", "rol": "volwassene"})
        walk.fire("toestemming_vastleggen", consent("o1", ["o1"]))


def _birthday(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February: the birthday counts on 1 March
        return date(born.year + years, 3, 1)


@pytest.fixture(scope="module")
def zl_def(zl: Engine) -> Any:
    return zl.definition


def _household_with(zl: Engine, born: date, at: datetime) -> Traject:
    leden = [{"id": "m1", "geboortedatum": "1965-05-05", "rol": "ouder"},
             {"id": "j1", "geboortedatum": born.isoformat(), "rol": "jongere"}]
    out = step(zl.definition, zl.new("T-c"), Event(
        "aanmelden", at - timedelta(days=1), {"huishouden": {"leden": leden}, "vraag": "x"}))
    assert out.accepted
    return out.traject


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    born=st.dates(min_value=date(2000, 1, 1), max_value=date(2015, 12, 31)),
    turning=st.sampled_from([12, 16]),
    offset=st.integers(min_value=-3, max_value=3),
    van=st.sampled_from([["m1"], ["j1"], ["m1", "j1"]]),
)
def test_consent_verdicts_around_the_12th_and_16th_birthday(
        zl: Engine, born: date, turning: int, offset: int, van: list[str]):
    day = _birthday(born, turning) + timedelta(days=offset)
    at = datetime(day.year, day.month, day.day, 12, 0, tzinfo=AMS)
    traject = _household_with(zl, born, at)
    verdict = evaluate(zl.definition, traject,
                       Event("toestemming_vastleggen", at, consent("j1", van)))
    age = turning if offset >= 0 else turning - 1
    parent, self_ = "m1" in van, "j1" in van
    expected = parent if age < 12 else (parent and self_) if age < 16 else self_
    assert ("zl.toestemming_leeftijd" not in verdict.rule_ids) is expected, (age, van)


class TestToestemmingSpecifiek:
    @pytest.mark.parametrize("field", ["doel", "informatie", "met"])
    def test_refuses_general_consent(self, walk: Walk, field: str):
        tot_overleg(walk)
        data = consent("m1", ["m1"])
        del data[field]
        assert walk.refused("toestemming_vastleggen", data) == {"zl.toestemming_specifiek"}

    def test_refuses_empty_recipients(self, walk: Walk):
        tot_overleg(walk)
        data = {**consent("m1", ["m1"]), "met": []}
        assert walk.refused("toestemming_vastleggen", data) == {"zl.toestemming_specifiek"}

    def test_oral_consent_opens_a_deadline_for_written_confirmation(self, walk: Walk):
        tot_overleg(walk)
        on(walk, date(2026, 4, 23))  # Thursday
        walk.fire("toestemming_vastleggen", consent("m1", ["m1"], "mondeling", "c1"))
        due = walk.traject.deadlines["zl.toestemming_schriftelijk"].due
        assert due == date(2026, 5, 1)  # 5 werkdagen from Thursday; Koningsdag 27 April skipped
        walk.fire("toestemming_vastleggen", consent("m1", ["m1"], "mondeling", "c2"))
        assert walk.traject.deadlines["zl.toestemming_schriftelijk"].due == due  # no reset
        walk.fire("toestemming_bevestigen", {"id": "c1"})
        assert "zl.toestemming_schriftelijk" in deadline_ids(walk)  # c2 still open
        walk.fire("toestemming_bevestigen", {"id": "c2"})
        assert "zl.toestemming_schriftelijk" not in deadline_ids(walk)

    def test_written_consent_opens_nothing(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("toestemming_vastleggen", consent("m1", ["m1"]))
        assert "zl.toestemming_schriftelijk" not in deadline_ids(walk)

    def test_unconfirmed_oral_consent_warns_when_overdue(self, walk: Walk):
        tot_overleg(walk)
        on(walk, date(2026, 4, 23))
        walk.fire("toestemming_vastleggen", consent("m1", ["m1"], "mondeling"))
        on(walk, date(2026, 5, 1))
        assert "zl.toestemming_schriftelijk" not in walk.warnings("notitie", {"tekst": "x"})
        on(walk, date(2026, 5, 2))
        assert "zl.toestemming_schriftelijk" in walk.warnings("notitie", {"tekst": "x"})

    def test_confirmation_needs_a_known_oral_consent(self, walk: Walk):
        tot_overleg(walk)
        walk.fire("toestemming_vastleggen", consent("m1", ["m1"]))  # written
        assert walk.refused("toestemming_bevestigen", {"id": "c1"}) == {
            "zl.toestemming_bevestiging_bekend"}
        assert walk.refused("toestemming_bevestigen", {"id": "nope"}) == {
            "zl.toestemming_bevestiging_bekend"}


OVERMACHT: dict[str, Any] = {
    "over": "k1", "besluit": "delen", "met": ["b1"],
    "antwoorden": {"doel": "veiligheid van Daan", "zonder_delen_mogelijk": "nee",
                   "toestemming_gevraagd": "gevraagd, geweigerd",
                   "belangenafweging": "risico op mishandeling weegt zwaarder",
                   "benodigde_informatie": "alleen de signalen"},
    "teambespreking": {"datum": "2026-03-02", "team": "jeugdteam"},
    "verwijsindex_geregistreerd": True,
}


class TestOvermacht:
    def test_passes_with_five_answers_and_team(self, walk: Walk):
        tot_overleg(walk)
        out = walk.fire("overmacht_vastleggen", OVERMACHT)
        assert out.verdict.violations == ()

    @pytest.mark.parametrize("answer", sorted(OVERMACHT["antwoorden"]))
    def test_refuses_a_missing_answer(self, walk: Walk, answer: str):
        tot_overleg(walk)
        data = {**OVERMACHT, "antwoorden": {k: v for k, v in OVERMACHT["antwoorden"].items()
                                            if k != answer}}
        assert walk.refused("overmacht_vastleggen", data) == {"zl.overmacht"}

    def test_refuses_without_team_discussion(self, walk: Walk):
        tot_overleg(walk)
        data = {k: v for k, v in OVERMACHT.items() if k != "teambespreking"}
        assert walk.refused("overmacht_vastleggen", data) == {"zl.overmacht"}

    def test_warns_without_verwijsindex_for_a_minor_only(self, walk: Walk):
        tot_overleg(walk)
        data = {k: v for k, v in OVERMACHT.items() if k != "verwijsindex_geregistreerd"}
        assert "zl.overmacht_verwijsindex" in walk.warnings("overmacht_vastleggen", data)
        assert "zl.overmacht_verwijsindex" not in walk.warnings(
            "overmacht_vastleggen", {**data, "over": "m1"})


def test_birth_date_limits_of_the_household(walk: Walk):
    # aanmelden on 2 March 2026: 9 months ahead is 2 December 2026, 100 years back 2 March 1926
    ok = [{"id": "u", "geboortedatum": "2026-12-02", "rol": "kind"},
          {"id": "o", "geboortedatum": "1926-03-02", "rol": "volwassene"}]
    for bad in ({"id": "u", "geboortedatum": "2026-12-03", "rol": "kind"},
                {"id": "o", "geboortedatum": "1926-03-01", "rol": "volwassene"},
                {"id": "x", "geboortedatum": "2026-02-30", "rol": "kind"}):
        assert walk.refused("aanmelden", aanmelding(bad)) == {"payload.ongeldig"}
    walk.fire("aanmelden", aanmelding(*ok))


# ------------------------------------------------------------------ closing
class TestAfrondingCasusregie:
    def test_passes_when_care_is_reduced(self, walk: Walk):
        tot_afronding(walk)
        walk.fire("afsluiten", AFSLUITEN)
        assert walk.state["regie"] == "gesloten"

    def test_passes_when_handed_to_a_ketenpartner(self, walk: Walk):
        tot_afronding(walk)
        walk.fire("afsluiten", {**AFSLUITEN, "zorg": "overgedragen", "ketenpartner": "GGZ"})

    def test_refuses_without_reason(self, walk: Walk):
        tot_afronding(walk)
        data = {k: v for k, v in AFSLUITEN.items() if k != "zorg"}
        assert walk.refused("afsluiten", data) == {"zl.afronding_casusregie"}
        assert walk.refused("afsluiten", {**AFSLUITEN, "zorg": "overgedragen"}) == {
            "zl.afronding_casusregie"}


# ------------------------------------------------------------------ stagnation ladder
STAGNATIE = {"betreft": "b1", "omschrijving": "levert geen opvoedsteun zoals afgesproken"}


def escalate(walk: Walk, to: int) -> None:
    walk.fire("stagnatie_melden", STAGNATIE)
    for _ in range(to - 1):
        walk.fire("opschalen_stagnatie", {"poging": "gesprek, geen nieuwe afspraak"})


class TestLadder:
    def test_one_level_at_a_time(self, walk: Walk):
        tot_voortgang(walk)
        walk.fire("stagnatie_melden", STAGNATIE)
        for level in (2, 3, 4):
            walk.fire("opschalen_stagnatie", {"poging": "lukte niet"})
            assert walk.state["escalatie"] == f"niveau_{level}"
        assert walk.refused("opschalen_stagnatie", {"poging": "x"}) == {"event.niet_mogelijk"}

    def test_stagnation_needs_a_known_betrokkene(self, walk: Walk):
        tot_voortgang(walk)
        assert walk.refused("stagnatie_melden", {**STAGNATIE, "betreft": "zz"}) == {
            "zl.stagnatie_betrokkene_bekend"}

    def test_opschalen_needs_the_failed_attempt(self, walk: Walk):
        tot_voortgang(walk)
        walk.fire("stagnatie_melden", STAGNATIE)
        assert walk.refused("opschalen_stagnatie", {}) == {"payload.ongeldig"}

    def test_level_1_resolved_with_new_agreements(self, walk: Walk):
        tot_voortgang(walk)
        escalate(walk, 1)
        assert walk.refused("stagnatie_opgelost", {"resultaat": "opgelost"}) == {
            "zl.stagnatie_niveau_1_resultaat"}
        walk.fire("stagnatie_opgelost", {"resultaat": "opgelost", "afspraken": ["elke week"]})
        assert walk.state["escalatie"] == "geen"

    def test_level_2_needs_an_internal_plan(self, walk: Walk):
        tot_voortgang(walk)
        escalate(walk, 2)
        assert walk.refused("stagnatie_opgelost", {"resultaat": "x", "afspraken": ["a"]}) == {
            "zl.stagnatie_niveau_2_resultaat"}
        walk.fire("stagnatie_opgelost", {"resultaat": "x", "intern_plan": "manager belt"})

    def test_level_3_meeting_within_two_weeks_then_commitment_in_5_werkdagen(self, walk: Walk):
        tot_voortgang(walk)
        on(walk, date(2026, 4, 14))
        escalate(walk, 3)
        assert walk.traject.deadlines["zl.stagnatie_gesprek_2_weken"].due == date(2026, 4, 28)
        resolved = {"resultaat": "x", "afspraken": ["a"], "commitment": True}
        assert walk.refused("stagnatie_opgelost", resolved) == {
            "zl.stagnatie_niveau_3_resultaat"}
        on(walk, date(2026, 4, 22))
        walk.fire("stagnatie_gesprek_houden", {"datum": "2026-04-22"})
        assert "zl.stagnatie_gesprek_2_weken" not in deadline_ids(walk)
        # 5 werkdagen after Wednesday 22 April, Koningsdag skipped: Thursday 30 April
        assert walk.traject.deadlines["zl.stagnatie_commitment_niveau_3"].due == date(2026, 4, 30)
        assert walk.refused("stagnatie_opgelost", {**resolved, "commitment": False}) == {
            "zl.stagnatie_niveau_3_resultaat"}
        walk.fire("stagnatie_opgelost", resolved)
        assert walk.state["escalatie"] == "geen" and not walk.traject.deadlines

    def test_level_4_terms_role_and_result(self, walk: Walk):
        tot_voortgang(walk)
        on(walk, date(2026, 4, 20))
        escalate(walk, 4)
        due = {d: walk.traject.deadlines[d].due for d in walk.traject.deadlines}
        assert due == {"zl.stagnatie_acties_1_week": date(2026, 4, 27),
                       "zl.stagnatie_commitment_niveau_4": date(2026, 4, 28)}
        acties = {"acties": ["directeur belt"], "resultaat": "zorg start", "termijn": "1 week"}
        assert walk.refused("stagnatie_acties_vastleggen", acties, actor=REGISSEUR_ACTOR) == {
            "rol.stagnatie_acties_vastleggen"}
        resolved = {"resultaat": "zorg gestart", "afspraken": ["start 1 mei"], "commitment": True}
        assert walk.refused("stagnatie_opgelost", resolved, actor=GEMEENTE) == {
            "zl.stagnatie_niveau_4_resultaat"}
        walk.fire("stagnatie_acties_vastleggen", acties, actor=GEMEENTE)
        assert walk.refused("stagnatie_opgelost", resolved, actor=REGISSEUR_ACTOR) == {
            "zl.stagnatie_niveau_4_gemeente"}
        assert walk.refused("stagnatie_opgelost", resolved) == {"zl.stagnatie_niveau_4_gemeente"}
        walk.fire("stagnatie_opgelost", resolved, actor=GEMEENTE)
        assert walk.state["escalatie"] == "geen" and not walk.traject.deadlines

    def test_level_4_terms_warn_when_overdue(self, walk: Walk):
        tot_voortgang(walk)
        on(walk, date(2026, 4, 20))
        escalate(walk, 4)
        on(walk, date(2026, 4, 29))
        warned = walk.warnings("notitie", {"tekst": "wacht op gemeente"})
        assert {"zl.stagnatie_acties_1_week", "zl.stagnatie_commitment_niveau_4"} <= warned

    def test_roles_are_not_needed_below_level_4(self, walk: Walk):
        tot_voortgang(walk)
        escalate(walk, 3)
        walk.fire("stagnatie_gesprek_houden", {})
        walk.fire("stagnatie_opgelost", {"resultaat": "x", "afspraken": ["a"],
                                         "commitment": True}, actor=REGISSEUR_ACTOR)


class TestGeenAfsluitingBijStagnatie:
    def test_refuses_while_escalated_and_passes_after(self, walk: Walk):
        tot_voortgang(walk)
        escalate(walk, 1)
        walk.fire("plan_delen", {"met": ["m1"]})
        walk.fire("voortgangsoverleg_plannen")
        walk.fire("overleg_voorbereid")
        walk.fire("toestemming_vastleggen", toestemming("t2"))
        walk.fire("plan_evalueren", {"evaluatie": "stagneert"})
        walk.fire("afronden")
        assert walk.refused("afsluiten", AFSLUITEN) == {"zl.geen_afsluiting_bij_stagnatie"}
        walk.fire("stagnatie_opgelost", {"resultaat": "ok", "afspraken": ["nieuw"]})
        walk.fire("afsluiten", AFSLUITEN)


# hypothesis: random walks over the ladder
LADDER_EVENTS = st.sampled_from([
    *[("stagnatie_melden", STAGNATIE)] * 3,
    *[("opschalen_stagnatie", {"poging": "lukte niet"})] * 4,
    ("opschalen_stagnatie", {}),
    ("stagnatie_gesprek_houden", {}),
    ("stagnatie_acties_vastleggen", {"acties": ["a"], "resultaat": "r", "termijn": "t"}),
    ("stagnatie_opgelost", {"resultaat": "opgelost"}),
    ("stagnatie_opgelost", {"resultaat": "opgelost", "afspraken": ["a"]}),
    ("stagnatie_opgelost", {"resultaat": "opgelost", "intern_plan": "p"}),
    ("stagnatie_opgelost", {"resultaat": "opgelost", "afspraken": ["a"], "commitment": True}),
    ("afsluiten", AFSLUITEN),
])
ACTORS = st.sampled_from([None, REGISSEUR_ACTOR, GEMEENTE, Actor("l1", "leidinggevende")])


@pytest.fixture(scope="module")
def in_afronding(zl: Engine) -> Traject:
    walk = Walk(zl, START)
    tot_afronding(walk)
    return walk.traject


LEVEL = {"geen": 0, "niveau_1": 1, "niveau_2": 2, "niveau_3": 3, "niveau_4": 4}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(moves=st.lists(st.tuples(LADDER_EVENTS, ACTORS), max_size=25))
def test_ladder_never_skips_a_level_and_never_ends_without_a_result(
        zl: Engine, in_afronding: Traject, moves: list[Any]):
    traject = in_afronding
    at = START + timedelta(days=30)
    highest = 0
    for (name, data), actor in moves:
        at += timedelta(hours=5)
        out = step(zl.definition, traject, Event(name, at, data, actor))
        before, after = LEVEL[traject.state["escalatie"]], LEVEL[out.traject.state["escalatie"]]
        if not out.accepted:
            assert out.traject is traject
            continue
        if after != before:
            if after == 0:
                assert name == "stagnatie_opgelost"
                results = out.traject.facts["stagnatie_resultaten"]
                assert len(results) == len(traject.facts.get("stagnatie_resultaten", [])) + 1
                if before == 4:
                    assert actor == GEMEENTE
            else:
                assert after == before + 1
        if out.traject.state["regie"] == "gesloten":
            assert after == 0
            event("closed")
        highest = max(highest, after)
        traject = out.traject
    event(f"highest level reached: {highest}")


# ------------------------------------------------------------------ generic predicates used here
def test_find_and_count_where_parameters_are_checked_at_load(tmp_path: Any):
    from eengezin import DefinitionError, load_definition

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad\nextends: zuid-limburg\nversion: '1'\nrules:\n"
        "  - id: x.find\n    severity: warn\n    on: notitie\n"
        "    require: {find: {path: facts.huishouden.leden, other: data.over}}\n"
        "    message: m\n    source: s\n"
        "  - id: x.count\n    severity: warn\n    on: notitie\n"
        "    require: {count_where: {path: facts.betrokkenen, where: {is_true: item.x}}}\n"
        "    message: m\n    source: s\n", "utf-8")
    with pytest.raises(DefinitionError) as err:
        load_definition(bad)
    messages = {(p.location.line, p.message) for p in err.value.problems}
    assert messages == {(8, "find mist key"), (14, "count_where verwacht min en/of max")}


def test_find_restores_the_outer_item(tmp_path: Any):
    region = tmp_path / "nested.yaml"
    region.write_text(
        "id: nested\nextends: zuid-limburg\nversion: '1'\nrules:\n"
        "  - id: x.nested\n    severity: block\n    on: notitie\n"
        "    require:\n      every:\n        path: facts.huishouden.leden\n"
        "        require:\n          all:\n"
        "            - find: {path: facts.huishouden.leden, key: id, value: k1,\n"
        "                     require: {equals: {path: item.rol, value: kind}}}\n"
        "            - one_of: {path: item.rol, values: [ouder, kind]}\n"
        "    message: m\n    source: s\n", "utf-8")
    engine = Engine(region)
    walk = Walk(engine, START)
    walk.fire("aanmelden", aanmelding())
    walk.fire("notitie", {"tekst": "ouder en kind"})
    # a member whose own role fails must be caught although find looked at k1 meanwhile
    walk = Walk(engine, START)
    walk.fire("aanmelden", aanmelding({"id": "o1", "rol": "volwassene"}))
    assert walk.refused("notitie", {"tekst": "x"}) == {"x.nested"}


def test_plan_terms_end_with_the_traject(walk: Walk):
    tot_vraagverheldering(walk)
    walk.fire("familiegroepsplan_vastleggen", {"opgesteld": False})
    walk.fire("ronde_tafel_initieren", {})
    assert deadline_ids(walk) == {"zl.hulpverleningsplan_6_weken", "zl.ronde_tafel_termijn"}
    walk.fire("regie_niet_starten", {"reden": "gezin redt het met het netwerk"})
    assert deadline_ids(walk) == set()


def test_run_prints_open_and_overdue_deadlines(tmp_path: Any):
    import io
    import json

    from eengezin.cli import main as cli

    lines = [
        {"event": "aanmelden", "at": "2026-04-20T09:00:00", "data": aanmelding()},
        {"event": "ronde_tafel_initieren", "at": "2026-04-20T10:00:00", "data": {}},
        {"event": "plan_schriftelijk_verzoeken", "at": "2026-05-01T10:00:00",
         "data": {"door": "ouder"}},
        {"event": "notitie", "at": "2026-05-14T09:00:00", "data": {"tekst": "nog geen tafel"}},
    ]
    scenario = tmp_path / "zl.jsonl"
    scenario.write_text("\n".join(json.dumps(x) for x in lines), "utf-8")
    out = io.StringIO()
    assert cli(["run", "zuid-limburg", "--events", str(scenario), "--json"], out) == 0
    result = json.loads(out.getvalue())
    assert [(v["rule"], v["severity"]) for v in result["steps"][3]["violations"]] == [
        ("zl.ronde_tafel_termijn", "warn")]
    assert result["final"]["deadlines"] == [
        {"id": "zl.ronde_tafel_termijn", "due": "2026-05-13", "overdue": True},
        {"id": "zl.schriftelijk_14_dagen", "due": "2026-05-15", "overdue": False},
    ]
    assert result["final"]["state"]["escalatie"] == "geen"


def test_level_3_terms_warn_when_overdue(walk: Walk):
    tot_voortgang(walk)
    on(walk, date(2026, 4, 14))
    escalate(walk, 3)
    on(walk, date(2026, 4, 28))
    assert "zl.stagnatie_gesprek_2_weken" not in walk.warnings("notitie", {"tekst": "x"})
    on(walk, date(2026, 4, 29))
    out = walk.fire("stagnatie_gesprek_houden", {})
    assert "zl.stagnatie_gesprek_2_weken" in {v.rule for v in out.verdict.warnings}
    # 5 werkdagen from Wednesday 29 April: 30 April, 1, 4, 6, 7 May (5 May is a holiday)
    assert walk.traject.deadlines["zl.stagnatie_commitment_niveau_3"].due == date(2026, 5, 7)
    on(walk, date(2026, 5, 8))
    assert "zl.stagnatie_commitment_niveau_3" in walk.warnings("notitie", {"tekst": "x"})


def test_handhaving_can_be_withdrawn(walk: Walk):
    tot_overleg(walk)
    walk.fire("handhaving_vastleggen", {"overwogen": True})
    assert walk.refused("regisseur_wijzigen", {"regisseur": POLITIE}) == {
        "zl.handhaving_geen_regisseur"}
    walk.fire("handhaving_vastleggen", {"overwogen": False, "toelichting": "van de baan"})
    walk.fire("regisseur_wijzigen", {"regisseur": POLITIE})
