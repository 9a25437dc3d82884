"""Walks through the whole process: all phases, the 4<->5 loop, unsafety from phases 1, 2, 4, 6,
transfer, and the invariants of the result."""

from __future__ import annotations

from eengezin import replay, traject_from_json, traject_to_json

from conftest import PLAN, REGISSEUR, VEILIGHEIDSPLAN, Walk, signaal, toestemming

AFSLUITEN = {"afsluitdatum": "2026-06-01", "evaluatie": "doelen gehaald", "vervolg": False}


def _check_history(walk: Walk) -> None:
    t = walk.traject
    log = [o.entry for o in walk.outcomes if o.entry is not None]
    assert replay(walk.engine.definition, t.id, log) == t
    assert traject_from_json(traject_to_json(t)) == t
    accepted = [o for o in walk.outcomes if o.accepted]
    assert [h.event for h in log] == [o.event.name for o in accepted]
    assert [h.version for h in log] == list(range(1, t.version + 1))
    for h in log:
        assert h.definition == walk.engine.definition.ref


def test_all_phases_with_loop_between_4_and_5(walk: Walk):
    walk.tot_voortgangsoverleg()
    seen = [walk.state["regie"]]
    for n in range(3):  # three rounds of voortgang <-> voortgangsoverleg
        walk.overleg_evalueren(f"t-loop-{n}")
        walk.fire("voortgang_vervolgen")
        seen.append(walk.state["regie"])
        walk.fire("voortgangsoverleg_plannen")
        walk.fire("overleg_voorbereid")
        seen.append(walk.state["regie"])
    walk.overleg_evalueren("t-final")
    walk.fire("afronden")
    walk.fire("afsluiten", AFSLUITEN)
    assert seen == ["voortgangsoverleg.overleg", "voortgang", "voortgangsoverleg.overleg"] * 1 + [
        "voortgang", "voortgangsoverleg.overleg", "voortgang", "voortgangsoverleg.overleg"]
    assert walk.state == {"regie": "gesloten", "veiligheid": "geen_signalen"}
    _check_history(walk)


def test_every_phase_is_visited_in_order(walk: Walk):
    walk.tot_afronding()
    walk.fire("afsluiten", AFSLUITEN)
    states = [o.traject.state["regie"] for o in walk.outcomes if o.accepted]
    order = ["aanmelding", "vraagverheldering", "startoverleg.voorbereiding",
             "startoverleg.overleg", "voortgang", "voortgangsoverleg.voorbereiding",
             "voortgangsoverleg.overleg", "afronding", "gesloten"]
    firsts = [states.index(s) for s in order]
    assert firsts == sorted(firsts)


def test_unsafety_in_phase_1(walk: Walk):
    walk.aangemeld()
    out = walk.fire("basischeck", {"basiszorg_voldoende": True, "acuut_onveilig": True})
    assert walk.state == {"regie": "aanmelding", "veiligheid": "signalen"}
    assert "basischeck" in walk.traject.facts["signalen"]
    assert out.effects == ("veiligheid.signaal_uit_basischeck",
                           "veiligheid.naar_signalen_uit_basischeck")
    walk.fire("vraag_verhelderen")
    assert walk.refused("regie_niet_starten", {"reden": "x"})
    walk.fire("regie_starten", {"regisseur": REGISSEUR})
    walk.fire("overleg_voorbereid")
    walk.fire("toestemming_vastleggen", toestemming())
    walk.fire("veiligheidsplan_vaststellen", {"plan": VEILIGHEIDSPLAN})
    walk.fire("plan_vaststellen", {"plan": PLAN})
    walk.fire("startoverleg_afronden")
    assert walk.state == {"regie": "voortgang", "veiligheid": "veiligheidsplan"}
    walk.fire("signaal_opheffen", {"id": "basischeck", "onderbouwing": "basiszorg hersteld"})
    assert walk.state["veiligheid"] == "geen_signalen"
    assert "veiligheidsplan" in walk.traject.facts  # the plan stays on record
    _check_history(walk)


def test_unsafety_in_phase_2(walk: Walk):
    walk.tot_vraagverheldering()
    walk.fire("signaal_melden", signaal("s1", "kindermishandeling"))
    walk.fire("signaal_melden", signaal("s2", "vermoeden"))
    assert walk.refused("regie_niet_starten", {"reden": "x"}) == {
        "veiligheid.altijd_regie_bij_onveiligheid"}
    walk.fire("regie_starten", {"regisseur": REGISSEUR})
    walk.fire("signaal_opheffen", {"id": "s1", "onderbouwing": "onderzocht"})
    assert walk.state["veiligheid"] == "signalen"  # s2 is still open
    walk.fire("signaal_opheffen", {"id": "s2", "onderbouwing": "onderzocht"})
    assert walk.state["veiligheid"] == "geen_signalen"
    _check_history(walk)


def test_unsafety_in_phase_4(walk: Walk):
    walk.tot_voortgang()
    walk.fire("signaal_melden", signaal())
    assert walk.state == {"regie": "voortgang", "veiligheid": "signalen"}
    walk.fire("veiligheidsplan_vaststellen", {"plan": VEILIGHEIDSPLAN})
    assert walk.state["veiligheid"] == "veiligheidsplan"
    walk.fire("signaal_melden", signaal("s2"))
    assert walk.state["veiligheid"] == "veiligheidsplan"  # a new signal keeps the plan in force
    _check_history(walk)


def test_unsafety_in_phase_6_goes_back_to_phase_5(walk: Walk):
    walk.tot_afronding()
    walk.fire("signaal_melden", signaal())
    assert walk.state == {"regie": "voortgangsoverleg.voorbereiding", "veiligheid": "signalen"}
    walk.fire("overleg_voorbereid")
    walk.fire("toestemming_vastleggen", toestemming("t9"))
    walk.fire("veiligheidsplan_vaststellen", {"plan": VEILIGHEIDSPLAN})
    walk.fire("plan_evalueren", {"evaluatie": "x"})
    walk.fire("veiligheidsplan_evalueren", {"evaluatie": "x"})
    walk.fire("afronden")
    assert walk.refused("afsluiten", AFSLUITEN) == {"veiligheid.niet_afsluiten_bij_signalen"}
    walk.fire("signaal_opheffen", {"id": "s1", "onderbouwing": "veilig"})
    walk.fire("afsluiten", AFSLUITEN)
    _check_history(walk)


def test_transfer_then_close(walk: Walk):
    walk.tot_afronding()
    walk.fire("actie_vastleggen", {"actie": "overdracht_gecommuniceerd"})
    out = walk.fire("overdragen", {"opvolger": {"id": "r2", "naam": "Ahmed", "soort": "netwerk"}})
    assert out.verdict.violations == ()
    assert walk.state["regie"] == "voortgang"
    walk.fire("voortgangsoverleg_plannen")
    walk.fire("overleg_voorbereid")
    walk.overleg_evalueren("t5")
    walk.fire("afronden")
    walk.fire("afsluiten", AFSLUITEN)
    _check_history(walk)


def test_final_states_accept_nothing(walk: Walk):
    walk.tot_vraagverheldering()
    walk.fire("regie_niet_starten", {"reden": "enkelvoudige vraag"})
    assert not any(v.accepted for v in walk.engine.allowed(walk.traject, at=walk.at).values())
    assert "event.niet_mogelijk" in walk.refused("notitie", {"tekst": "x"})
    assert "event.niet_mogelijk" in walk.refused("signaal_melden", signaal())
