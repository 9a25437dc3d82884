"""Every rule of PROCESS.md §2.3 in `basis`: one case where it passes, one where it refuses."""

from __future__ import annotations

from conftest import PLAN, REGISSEUR, VEILIGHEIDSPLAN, Walk, signaal, toestemming

AFSLUITEN = {"afsluitdatum": "2026-06-01", "evaluatie": "doelen gehaald", "vervolg": False,
             "terecht_bij": "het wijkteam"}


def test_rule_sources_are_cited(engine):
    ids = {r.id for r in engine.definition.rules}
    required = {
        "veiligheid.altijd_regie_bij_onveiligheid", "veiligheid.niet_afsluiten_bij_signalen",
        "veiligheid.veiligheidsplan_eerst", "startoverleg.plan_vastgesteld", "overleg.toestemming",
        "voortgang.plan_gedeeld", "voortgangsoverleg.veiligheidsplan_geevalueerd",
        "regie.regisseur_aangewezen", "afronding.opvolger_bekend",
        "afronding.afsluiting_geevalueerd",
    }
    assert required <= ids
    assert "veiligheid.terug_naar_voortgangsoverleg" in {e.id for e in engine.definition.effects}
    for rule in engine.definition.rules:
        assert rule.source.startswith(("001", "002", "003", "DF")), rule.id
        assert rule.message and rule.message[0].isupper(), rule.id


class TestAltijdRegieBijOnveiligheid:
    def test_passes_without_signals(self, walk: Walk):
        walk.tot_vraagverheldering()
        walk.fire("regie_niet_starten", {"reden": "vraag is enkelvoudig"})
        assert walk.state["regie"] == "zonder_regie"

    def test_refuses_with_open_signal(self, walk: Walk):
        walk.tot_vraagverheldering()
        walk.fire("signaal_melden", signaal())
        assert "veiligheid.altijd_regie_bij_onveiligheid" in walk.refused(
            "regie_niet_starten", {"reden": "x"})

    def test_refuses_after_signal_was_lifted(self, walk: Walk):
        walk.aangemeld()
        walk.fire("signaal_melden", signaal())
        walk.fire("signaal_opheffen", {"id": "s1", "onderbouwing": "misverstand"})
        walk.fire("vraag_verhelderen")
        assert walk.state["veiligheid"] == "geen_signalen"
        assert "veiligheid.altijd_regie_bij_onveiligheid" in walk.refused(
            "regie_niet_starten", {"reden": "x"})

    def test_refuses_after_unsafe_basischeck(self, walk: Walk):
        walk.aangemeld()
        out = walk.fire("basischeck", {"basiszorg_voldoende": False, "acuut_onveilig": False})
        assert "veiligheid.signaal_uit_basischeck" in out.effects
        assert walk.state["veiligheid"] == "signalen"
        walk.fire("vraag_verhelderen")
        assert "veiligheid.altijd_regie_bij_onveiligheid" in walk.refused(
            "regie_niet_starten", {"reden": "x"})


class TestNietAfsluitenBijSignalen:
    def test_passes_without_signals(self, walk: Walk):
        walk.tot_afronding()
        walk.fire("afsluiten", AFSLUITEN)
        assert walk.state["regie"] == "gesloten"

    def test_refuses_with_open_signal(self, walk: Walk):
        walk.tot_voortgangsoverleg()
        walk.fire("signaal_melden", signaal())
        walk.fire("toestemming_vastleggen", toestemming("t2"))
        walk.fire("veiligheidsplan_vaststellen", {"plan": VEILIGHEIDSPLAN})
        walk.overleg_evalueren("t3")
        walk.fire("afronden")
        assert "veiligheid.niet_afsluiten_bij_signalen" in walk.refused("afsluiten", AFSLUITEN)
        walk.fire("signaal_opheffen", {"id": "s1", "onderbouwing": "veilig"})
        walk.fire("afsluiten", AFSLUITEN)
        assert walk.state == {"regie": "gesloten", "veiligheid": "geen_signalen"}


class TestTerugNaarVoortgangsoverleg:
    def test_no_move_outside_afronding(self, walk: Walk):
        walk.tot_voortgang()
        out = walk.fire("signaal_melden", signaal())
        assert out.effects == ()
        assert walk.state["regie"] == "voortgang"

    def test_signal_in_afronding_moves_back(self, walk: Walk):
        walk.tot_afronding()
        out = walk.fire("signaal_melden", signaal())
        assert out.effects == ("veiligheid.terug_naar_voortgangsoverleg",)
        assert walk.state == {"regie": "voortgangsoverleg.voorbereiding", "veiligheid": "signalen"}


class TestVeiligheidsplanEerst:
    def test_passes_with_safety_plan(self, walk: Walk):
        walk.tot_vraagverheldering().startoverleg_met_signaal()
        walk.fire("plan_vaststellen", {"plan": PLAN})

    def test_refuses_plan_before_safety_plan(self, walk: Walk):
        walk.tot_vraagverheldering()
        walk.fire("signaal_melden", signaal())
        walk.fire("regie_starten", {"regisseur": REGISSEUR})
        walk.fire("overleg_voorbereid")
        walk.fire("toestemming_vastleggen", toestemming())
        assert walk.refused("plan_vaststellen", {"plan": PLAN}) == {"veiligheid.veiligheidsplan_eerst"}


class TestStartoverlegPlanVastgesteld:
    def test_refuses_without_plan(self, walk: Walk):
        walk.tot_startoverleg()
        assert "startoverleg.plan_vastgesteld" in walk.refused("startoverleg_afronden")

    def test_refuses_with_open_signal_and_no_safety_plan(self, walk: Walk):
        walk.tot_startoverleg()
        walk.fire("toestemming_vastleggen", toestemming())
        walk.fire("plan_vaststellen", {"plan": PLAN})
        walk.fire("signaal_melden", signaal())
        assert walk.refused("startoverleg_afronden") == {"startoverleg.plan_vastgesteld"}

    def test_passes_with_plan(self, walk: Walk):
        walk.tot_voortgang()
        assert walk.state["regie"] == "voortgang"


class TestOverlegToestemming:
    def test_refuses_plan_without_consent(self, walk: Walk):
        walk.tot_startoverleg()
        assert walk.refused("plan_vaststellen", {"plan": PLAN}) == {"overleg.toestemming"}

    def test_other_consent_is_not_consent_to_the_meeting(self, walk: Walk):
        walk.tot_startoverleg()
        walk.fire("toestemming_vastleggen", toestemming(onderwerp=None))
        assert walk.refused("plan_vaststellen", {"plan": PLAN}) == {"overleg.toestemming"}

    def test_consent_holds_for_one_meeting_only(self, walk: Walk):
        walk.tot_voortgangsoverleg()
        # consent of the startoverleg does not carry over to this voortgangsoverleg
        assert walk.refused("plan_evalueren", {"evaluatie": "x"}) == {"overleg.toestemming"}
        walk.fire("toestemming_vastleggen", toestemming("t2"))
        walk.fire("plan_evalueren", {"evaluatie": "x"})


class TestPlanGedeeld:
    def test_warns_when_not_shared(self, walk: Walk):
        walk.tot_voortgang()
        assert "voortgang.plan_gedeeld" in walk.warnings("voortgangsoverleg_plannen")
        assert walk.state["regie"] == "voortgangsoverleg.voorbereiding"

    def test_silent_when_shared(self, walk: Walk):
        walk.tot_voortgang()
        walk.fire("plan_delen", {"met": ["m1"]})
        assert "voortgang.plan_gedeeld" not in walk.warnings("voortgangsoverleg_plannen")


class TestVeiligheidsplanGeevalueerd:
    def _met_veiligheidsplan(self, walk: Walk) -> None:
        walk.tot_vraagverheldering().startoverleg_met_signaal()
        walk.fire("plan_vaststellen", {"plan": PLAN})
        walk.fire("startoverleg_afronden")
        walk.fire("plan_delen", {"met": ["m1"]})
        walk.fire("voortgangsoverleg_plannen")
        walk.fire("overleg_voorbereid")
        walk.fire("toestemming_vastleggen", toestemming("t2"))
        walk.fire("plan_evalueren", {"evaluatie": "x"})

    def test_refuses_leaving_without_evaluation(self, walk: Walk):
        self._met_veiligheidsplan(walk)
        assert walk.refused("voortgang_vervolgen") == {"voortgangsoverleg.veiligheidsplan_geevalueerd"}
        assert walk.refused("afronden") == {"voortgangsoverleg.veiligheidsplan_geevalueerd"}

    def test_passes_after_evaluation(self, walk: Walk):
        self._met_veiligheidsplan(walk)
        walk.fire("veiligheidsplan_evalueren", {"evaluatie": "ok", "veiligheidsschaal": 7})
        walk.fire("voortgang_vervolgen")
        assert walk.traject.facts["veiligheidsschaal"] == 7

    def test_evaluation_is_needed_again_in_the_next_meeting(self, walk: Walk):
        self._met_veiligheidsplan(walk)
        walk.fire("veiligheidsplan_evalueren", {"evaluatie": "ok"})
        walk.fire("voortgang_vervolgen")
        walk.fire("voortgangsoverleg_plannen")
        walk.fire("overleg_voorbereid")
        walk.fire("toestemming_vastleggen", toestemming("t3"))
        walk.fire("plan_evalueren", {"evaluatie": "x"})
        assert walk.refused("afronden") == {"voortgangsoverleg.veiligheidsplan_geevalueerd"}

    def test_no_safety_plan_no_requirement(self, walk: Walk):
        walk.tot_voortgangsoverleg()
        walk.fire("toestemming_vastleggen", toestemming("t2"))
        walk.fire("plan_evalueren", {"evaluatie": "x"})
        walk.fire("voortgang_vervolgen")


class TestRegisseurAangewezen:
    def test_refuses_without_regisseur(self, walk: Walk):
        walk.tot_vraagverheldering()
        walk.fire("regie_starten", {})
        walk.fire("overleg_voorbereid")
        walk.fire("toestemming_vastleggen", toestemming())
        walk.fire("plan_vaststellen", {"plan": PLAN})
        assert walk.refused("startoverleg_afronden") == {"regie.regisseur_aangewezen"}
        walk.fire("regisseur_wijzigen", {"regisseur": REGISSEUR})
        walk.fire("startoverleg_afronden")


class TestOpvolgerBekend:
    def test_refuses_without_successor(self, walk: Walk):
        walk.tot_afronding()
        rules = walk.refused("overdragen", {})
        assert rules == {"afronding.opvolger_bekend"}

    def test_refuses_current_regisseur_as_successor(self, walk: Walk):
        walk.tot_afronding()
        assert walk.refused("overdragen", {"opvolger": REGISSEUR}) == {"afronding.opvolger_bekend"}

    def test_message_points_to_manager(self, walk: Walk):
        walk.tot_afronding()
        out = walk.fire("overdragen", {}, expect=False)
        assert "manager" in out.violations[0].message

    def test_transfer_to_new_regisseur(self, walk: Walk):
        walk.tot_afronding()
        nieuw = {"id": "r2", "naam": "Ahmed", "soort": "professional"}
        walk.fire("overdragen", {"opvolger": nieuw})
        assert walk.state["regie"] == "voortgang"
        assert walk.traject.facts["regisseur"] == nieuw
        assert walk.traject.facts["vorige_regisseurs"] == [REGISSEUR]


class TestAfsluitingGeevalueerd:
    def test_refuses_without_evaluation(self, walk: Walk):
        walk.tot_afronding()
        assert walk.refused("afsluiten", {"afsluitdatum": "2026-06-01", "vervolg": False}) == {
            "afronding.afsluiting_geevalueerd"}

    def test_refuses_follow_up_without_aftercare(self, walk: Walk):
        walk.tot_afronding()
        data = {**AFSLUITEN, "vervolg": True, "nazorg": [{"wie": "Rita", "wat": "nabellen"}]}
        assert walk.refused("afsluiten", data) == {"afronding.afsluiting_geevalueerd"}

    def test_passes_follow_up_with_aftercare(self, walk: Walk):
        walk.tot_afronding()
        walk.fire("afsluiten", {**AFSLUITEN, "vervolg": True, "nazorg": [
            {"wie": "Rita", "wat": "nabellen", "wanneer": "over 3 maanden",
             "hoe_vaak": "eenmalig"}]})
        assert walk.state["regie"] == "gesloten"


class TestReminders:
    def test_advisory_actions_warn_but_never_block(self, walk: Walk):
        walk.aangemeld()
        assert walk.warnings("vraag_verhelderen") == {"aanmelding.basischeck_gedaan"}
        assert walk.warnings("regie_starten", {"regisseur": REGISSEUR}) == {
            "vraagverheldering.werkwijze_uitgelegd", "vraagverheldering.folder_overhandigd"}
        assert walk.warnings("overleg_voorbereid") == {
            "startoverleg.netwerk_geinventariseerd", "overleg.betrokkenen_uitgenodigd",
            "overleg.locatie_gereserveerd"}

    def test_recorded_actions_silence_reminders(self, walk: Walk):
        walk.tot_vraagverheldering()
        walk.fire("actie_vastleggen", {"actie": "werkwijze_uitgelegd"})
        walk.fire("actie_vastleggen", {"actie": "folder_overhandigd"})
        assert walk.warnings("regie_starten", {"regisseur": REGISSEUR}) == set()
        walk.fire("betrokkene_toevoegen", {"id": "b1", "naam": "Huisarts", "relatie": "huisarts",
                                           "soort": "formeel"})
        walk.fire("actie_vastleggen", {"actie": "betrokkenen_uitgenodigd"})
        walk.fire("actie_vastleggen", {"actie": "locatie_gereserveerd"})
        assert walk.warnings("overleg_voorbereid") == set()
