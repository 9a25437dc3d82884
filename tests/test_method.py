"""PROCESS.md section 7 in basis: the way back from fase 6, rules that name their way forward,
the meldcode, consent on sharing, a start with only a safety plan, evaluation and aftercare.

Each rule: one test that it refuses (or warns), one that it lets the right case pass.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from eengezin import Engine, Event, evaluate, load_definition
from eengezin.errors import DefinitionError

from conftest import AMS, PLAN, REGISSEUR, VEILIGHEIDSPLAN, Walk, signaal, toestemming, write

AFSLUITEN = {"afsluitdatum": "2026-06-01", "evaluatie": "doelen gehaald", "vervolg": False,
             "terecht_bij": "het wijkteam"}


def afweging(sid: str = "s1", *, vermoeden: bool = True, acuut: bool = False,
             mogelijk: bool = True, geaccepteerd: bool = True) -> dict[str, object]:
    return {"signaal": sid, "vermoeden": vermoeden, "acuut_of_structureel": acuut,
            "hulp_mogelijk": mogelijk, "hulp_geaccepteerd": geaccepteerd,
            "toelichting": "besproken met de aandachtsfunctionaris"}


def violation(walk: Walk, event: str, data: dict[str, object], rule: str):
    out = walk.fire(event, data, expect=None)
    found = [v for v in out.violations if v.rule == rule]
    assert found, [v.rule for v in out.violations]
    if not out.accepted:
        walk.traject = out.traject
    return found[0]


# ------------------------------------------------------------------ 7.1 next and the way back


class TestTerugNaarVoortgang:
    def test_goes_back_from_afronding_to_the_preparation_of_a_voortgangsoverleg(self, walk: Walk):
        walk.tot_afronding()
        walk.fire("terug_naar_voortgang", {"reden": "het gezin wil nog een periode doorgaan"})
        assert walk.state["regie"] == "voortgangsoverleg.voorbereiding"
        # on_enter of the overleg ran: consent and evaluation are asked again
        assert "overleg_toestemming" not in walk.traject.facts

    def test_refused_outside_afronding_and_without_a_reason(self, walk: Walk):
        walk.tot_voortgang()
        assert walk.refused("terug_naar_voortgang", {"reden": "x"}) == {"event.niet_mogelijk"}
        walk.fire("plan_delen", {"met": ["m1"]})
        walk.fire("voortgangsoverleg_plannen")
        walk.fire("overleg_voorbereid")
        walk.overleg_evalueren()
        walk.fire("afronden")
        assert walk.refused("terug_naar_voortgang", {}) == {"payload.ongeldig"}


def test_a_refusal_names_the_way_forward(walk: Walk):
    walk.tot_vraagverheldering()
    walk.startoverleg_met_signaal()
    walk.fire("plan_vaststellen", {"plan": PLAN})
    walk.fire("startoverleg_afronden")
    walk.fire("plan_delen", {"met": ["m1"]})
    walk.fire("voortgangsoverleg_plannen")
    walk.fire("overleg_voorbereid")
    walk.overleg_evalueren()
    walk.fire("afronden")
    v = violation(walk, "afsluiten", AFSLUITEN, "veiligheid.niet_afsluiten_bij_signalen")
    assert v.blocks and v.next == ("terug_naar_voortgang",)
    walk.fire("terug_naar_voortgang", {"reden": "signaal staat nog open"})
    assert walk.state["regie"] == "voortgangsoverleg.voorbereiding"


def test_conditional_next_follows_the_state(walk: Walk):
    walk.tot_startoverleg()
    walk.fire("toestemming_vastleggen", toestemming())
    v = violation(walk, "startoverleg_afronden", {}, "startoverleg.plan_vastgesteld")
    assert v.next == ("plan_vaststellen",)
    walk.fire("signaal_melden", signaal())
    v = violation(walk, "startoverleg_afronden", {}, "startoverleg.plan_vastgesteld")
    assert v.next == ("veiligheidsplan_vaststellen",)


def test_next_names_only_declared_events(tmp_path: Path):
    path = write(tmp_path, "regio.yaml", """\
id: regio
version: "1"
extends: basis
rules:
  - id: regio.volgende
    severity: block
    on: afsluiten
    require: {present: data.evaluatie}
    message: Evalueer eerst.
    next: [evalueer_maar]
    source: regio
""")
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    text = str(info.value)
    assert "regio.yaml:10:" in text and "onbekend event 'evalueer_maar'" in text


# ------------------------------------------------------------------ 7.2 only a safety plan


class TestStartMetAlleenVeiligheidsplan:
    def test_a_safety_plan_alone_completes_the_startoverleg(self, walk: Walk):
        walk.tot_vraagverheldering()
        walk.startoverleg_met_signaal()
        walk.fire("startoverleg_afronden")
        assert walk.state["regie"] == "voortgang"

    def test_without_signals_the_plan_is_needed(self, walk: Walk):
        walk.tot_startoverleg()
        walk.fire("toestemming_vastleggen", toestemming())
        assert walk.refused("startoverleg_afronden") == {"startoverleg.plan_vastgesteld"}

    def test_plan_in_vervolg_reminds_until_the_plan_is_adopted(self, walk: Walk):
        walk.tot_vraagverheldering()
        walk.startoverleg_met_signaal()
        walk.fire("startoverleg_afronden")
        assert "plan.in_vervolg" in walk.warnings("voortgangsoverleg_plannen")
        walk.fire("overleg_voorbereid")
        walk.fire("toestemming_vastleggen", toestemming("t2"))
        walk.fire("plan_vaststellen", {"plan": PLAN})
        walk.fire("veiligheidsplan_evalueren", {"evaluatie": "ok"})
        walk.fire("plan_evalueren", {"evaluatie": "net gestart"})
        walk.fire("voortgang_vervolgen")
        assert "plan.in_vervolg" not in walk.warnings("voortgangsoverleg_plannen")


# ------------------------------------------------------------------ 7.3 the meldcode


class TestMeldcode:
    def _signaal_in_voortgang(self, walk: Walk, soort: str = "kindermishandeling") -> Walk:
        walk.tot_voortgang()
        walk.fire("signaal_melden", signaal("s1", soort))
        return walk

    def test_a_signal_of_abuse_is_weighed_before_it_is_lifted(self, walk: Walk):
        self._signaal_in_voortgang(walk)
        v = violation(walk, "signaal_opheffen", {"id": "s1", "onderbouwing": "x"},
                      "meldcode.afweging_voor_opheffen")
        assert v.blocks and v.next == ("afweging_vastleggen",)
        walk.fire("afweging_vastleggen", afweging())
        walk.fire("signaal_opheffen", {"id": "s1", "onderbouwing": "hulp loopt"})
        assert walk.state["veiligheid"] == "geen_signalen"

    def test_other_signals_need_no_afweging(self, walk: Walk):
        self._signaal_in_voortgang(walk, "acute_onveiligheid")
        walk.fire("signaal_opheffen", {"id": "s1", "onderbouwing": "opgelost"})

    @pytest.mark.parametrize(("acuut", "mogelijk", "geaccepteerd"),
                             [(True, True, True), (False, False, True), (False, True, False)])
    def test_the_meldnormen_require_a_melding(self, walk: Walk, acuut: bool, mogelijk: bool,
                                              geaccepteerd: bool):
        self._signaal_in_voortgang(walk)
        walk.fire("afweging_vastleggen", afweging(acuut=acuut, mogelijk=mogelijk,
                                                  geaccepteerd=geaccepteerd))
        v = violation(walk, "signaal_opheffen", {"id": "s1", "onderbouwing": "x"},
                      "meldcode.melden")
        assert v.next == ("melding_veilig_thuis",)
        walk.fire("melding_veilig_thuis", {"signaal": "s1", "datum": "2026-03-05",
                                           "toelichting": "gemeld"})
        walk.fire("signaal_opheffen", {"id": "s1", "onderbouwing": "Veilig Thuis neemt over"})

    def test_no_melding_when_help_is_possible_and_accepted_or_no_suspicion(self, walk: Walk):
        self._signaal_in_voortgang(walk)
        walk.fire("signaal_melden", signaal("s2", "vermoeden"))
        walk.fire("afweging_vastleggen", afweging())
        walk.fire("afweging_vastleggen", afweging("s2", vermoeden=False, acuut=True))
        walk.fire("signaal_opheffen", {"id": "s1", "onderbouwing": "hulp loopt"})
        walk.fire("signaal_opheffen", {"id": "s2", "onderbouwing": "geen vermoeden"})

    def test_steps_2_and_3_before_the_afweging(self, walk: Walk):
        self._signaal_in_voortgang(walk)
        v = violation(walk, "afweging_vastleggen", afweging(), "meldcode.stappen")
        assert v.severity == "warn"
        assert v.next == ("collegiale_consultatie", "gesprek_betrokkene")
        walk.fire("collegiale_consultatie", {"signaal": "s1", "met": "aandachtsfunctionaris",
                                             "advies": "gesprek voeren"})
        walk.fire("gesprek_betrokkene", {"signaal": "s1", "niet_gevoerd_omdat": "onveilig"})
        assert "meldcode.stappen" not in walk.warnings("afweging_vastleggen", afweging())

    def test_the_conversation_or_why_not(self, walk: Walk):
        self._signaal_in_voortgang(walk)
        assert walk.refused("gesprek_betrokkene", {"signaal": "s1"}) == {
            "meldcode.gesprek_of_reden"}
        walk.fire("gesprek_betrokkene", {"signaal": "s1", "met": ["m1"], "verslag": "gesproken"})

    def test_steps_name_an_open_signal(self, walk: Walk):
        self._signaal_in_voortgang(walk)
        assert walk.refused("afweging_vastleggen", afweging("s9")) == {"meldcode.signaal_bekend"}

    def test_kindcheck_for_a_signal_about_an_adult_with_children(self, walk: Walk):
        walk.tot_voortgang()
        walk.fire("signaal_melden", {**signaal("s1", "huiselijk_geweld"), "over": "m1"})
        walk.fire("plan_delen", {"met": ["m1"]})
        walk.fire("voortgangsoverleg_plannen")
        out = walk.fire("overleg_voorbereid")
        kindcheck = [v for v in out.violations if v.rule == "meldcode.kindcheck"]
        assert kindcheck and kindcheck[0].next == ("kindcheck_vastleggen",)
        walk.fire("kindcheck_vastleggen", {"signaal": "s1", "kinderen": ["k1"],
                                           "uitkomst": "Daan is veilig bij oma"})
        walk.fire("toestemming_vastleggen", toestemming("t2"))
        walk.fire("plan_evalueren", {"evaluatie": "ok"})
        walk.fire("voortgang_vervolgen")
        walk.fire("voortgangsoverleg_plannen")
        assert "meldcode.kindcheck" not in walk.warnings("overleg_voorbereid")

    def test_no_kindcheck_for_a_signal_about_the_child(self, walk: Walk):
        walk.tot_voortgang()
        walk.fire("signaal_melden", {**signaal("s1", "kindermishandeling"), "over": "k1"})
        walk.fire("plan_delen", {"met": ["m1"]})
        walk.fire("voortgangsoverleg_plannen")
        assert "meldcode.kindcheck" not in walk.warnings("overleg_voorbereid")


# ------------------------------------------------------------------ 7.4 consent


class TestToestemming:
    def test_sharing_without_covering_consent_warns_in_basis(self, walk: Walk):
        walk.tot_voortgang()
        v = violation(walk, "plan_delen", {"met": ["m1", "b9"]}, "toestemming.delen_gedekt")
        assert v.severity == "warn" and v.next == ("toestemming_vastleggen",)
        # b1 is named by the consent of the startoverleg; household members need none
        assert "toestemming.delen_gedekt" not in walk.warnings("plan_delen", {"met": ["m1", "b1"]})

    def test_an_overleg_consent_that_names_no_one_does_not_count(self, walk: Walk):
        walk.tot_startoverleg()
        walk.fire("toestemming_vastleggen", {**toestemming(), "met": []})
        assert walk.refused("plan_vaststellen", {"plan": PLAN}) == {"overleg.toestemming"}
        walk.fire("toestemming_vastleggen", toestemming("t2"))
        walk.fire("plan_vaststellen", {"plan": PLAN})

    def test_consent_about_a_child_comes_from_gezag_in_basis_as_a_warning(self, walk: Walk):
        walk.tot_startoverleg()
        data = {**toestemming("t9", None), "over": "k1", "van": ["k1"]}  # Daan is 10
        assert "toestemming.bevoegd" in walk.warnings("toestemming_vastleggen", data)
        # gezag is not recorded for Daan: his parent consents
        data = {**toestemming("t9", None), "over": "k1", "van": ["m1"]}
        assert "toestemming.bevoegd" not in walk.warnings("toestemming_vastleggen", data)


def test_once_gezag_is_recorded_only_its_holders_consent():
    walk = Walk(Engine("basis"))
    leden = [{"id": "m1", "geboortedatum": "1988-06-14", "rol": "ouder", "gezag": ["k1"]},
             {"id": "p2", "geboortedatum": "1986-01-01", "rol": "ouder"},
             {"id": "k1", "geboortedatum": "2015-09-01", "rol": "kind"}]
    walk.fire("aanmelden", {"huishouden": {"leden": leden}, "vraag": "x"})
    data = {**toestemming("t9", None), "over": "k1", "van": ["m1"]}
    assert "toestemming.bevoegd" not in walk.warnings("toestemming_vastleggen", data)
    data = {**toestemming("t9", None), "over": "k1", "van": ["p2"]}
    assert "toestemming.bevoegd" in walk.warnings("toestemming_vastleggen", data)


# ------------------------------------------------------------------ 7.5 evaluation and aftercare


class TestEvaluatie:
    def test_the_evaluation_deadline_runs_to_the_given_date_or_three_months(self, walk: Walk):
        walk.tot_startoverleg()
        walk.fire("toestemming_vastleggen", toestemming())
        walk.fire("plan_vaststellen", {"plan": PLAN})
        started = walk.traject.deadlines["plan.evaluatie"]
        assert started.due == date(2026, 6, 2)  # three months after 2 March
        walk.fire("plan_vaststellen", {"plan": PLAN, "evaluatie_op": "2026-04-15"})
        assert walk.traject.deadlines["plan.evaluatie"].due == date(2026, 4, 15)

    def test_each_evaluation_starts_the_next_and_a_late_one_warns(self, walk: Walk):
        walk.tot_voortgang()
        walk.fire("plan_delen", {"met": ["m1"]})
        walk.fire("voortgangsoverleg_plannen")
        walk.fire("overleg_voorbereid")
        walk.fire("toestemming_vastleggen", toestemming("t2"))
        walk.at = datetime(2026, 7, 1, 9, tzinfo=AMS)
        v = violation(walk, "plan_evalueren", {"evaluatie": "te laat", "evaluatie_op": "2026-09-01"},
                      "plan.evaluatie")
        assert v.severity == "warn"
        assert walk.traject.deadlines["plan.evaluatie"].due == date(2026, 9, 1)

    def test_afronden_needs_the_plan_evaluated(self, walk: Walk):
        walk.tot_voortgangsoverleg()
        walk.fire("toestemming_vastleggen", toestemming("t2"))
        v = violation(walk, "afronden", {}, "voortgangsoverleg.plan_geevalueerd")
        assert v.blocks and v.next == ("plan_evalueren",)
        assert "voortgangsoverleg.plan_geevalueerd" in walk.warnings("voortgang_vervolgen")
        walk.fire("voortgangsoverleg_plannen")
        walk.fire("overleg_voorbereid")
        walk.overleg_evalueren("t3")
        walk.fire("afronden")

    def test_closing_always_says_where_the_household_can_go(self, walk: Walk):
        walk.tot_afronding()
        data = {k: v for k, v in AFSLUITEN.items() if k != "terecht_bij"}
        assert walk.refused("afsluiten", data) == {"afronding.afsluiting_geevalueerd"}
        walk.fire("afsluiten", AFSLUITEN)

    def test_aftercare_says_how_often(self, walk: Walk):
        walk.tot_afronding()
        nazorg = {"wie": "Rita", "wat": "belt na", "wanneer": "juni"}
        assert walk.refused("afsluiten", {**AFSLUITEN, "vervolg": True, "nazorg": [nazorg]}) == {
            "afronding.afsluiting_geevalueerd"}
        walk.fire("afsluiten", {**AFSLUITEN, "vervolg": True,
                                "nazorg": [{**nazorg, "hoe_vaak": "maandelijks"}]})


def test_evaluate_reports_next_without_changing_anything():
    basis = load_definition("basis")
    walk = Walk(Engine(basis))
    walk.tot_startoverleg()
    verdict = evaluate(basis, walk.traject, Event("plan_vaststellen", datetime(2026, 3, 3),
                                                  {"plan": PLAN}))
    assert [(v.rule, v.next) for v in verdict.blocking] == [
        ("overleg.toestemming", ("toestemming_vastleggen",))]
    assert VEILIGHEIDSPLAN and REGISSEUR  # shared fixtures stay importable
