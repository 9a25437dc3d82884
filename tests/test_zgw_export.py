"""ZGW metadata in definitions, and the zaaktype export validated against the Catalogi API."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from eengezin import load_definition
from eengezin.errors import DefinitionError
from eengezin.zgw.export import URN_PREFIX, ZgwExportError, mapping_markdown, zaaktype_requests
from eengezin.zgw.schemas import problems

from conftest import write

BUNDLED = ["basis", "hollands-midden", "zuid-limburg", "cjg"]
CATALOGUS = "https://catalogi.example.nl/api/v1/catalogussen/7d5a6b3e-0000-4000-8000-000000000001"
SELECTIELIJST = {
    "selectielijstklasse": "https://selectielijst.example.nl/api/v1/resultaten/1",
    "resultaattypeomschrijving": "https://selectielijst.example.nl/api/v1/resultaattypeomschrijvingen/1",
}


def export(definition: str) -> list:  # type: ignore[type-arg]
    return zaaktype_requests(load_definition(definition), CATALOGUS, begin_geldigheid=date(2026, 1, 1),
                             **SELECTIELIJST)


def test_defaults_come_from_the_definition() -> None:
    basis = load_definition("basis")
    model = basis.zgw
    assert model is not None and model.track == "regie"
    assert [s.key for s in model.statustypen] == [
        "aanmelding", "vraagverheldering", "startoverleg", "voortgang", "voortgangsoverleg", "afronding", "eind"]
    assert [s.volgnummer for s in model.statustypen] == [1, 2, 3, 4, 5, 6, 7]
    assert model.eindstatus.omschrijving == "Afgesloten" and model.eindstatus.informeren
    assert model.statustype("startoverleg").omschrijving == basis.tracks["regie"].nodes["startoverleg"].title
    # nested states belong to their phase; final states to the eindstatus
    assert model.phase_of["startoverleg.overleg"] == "startoverleg"
    assert model.phase_of["voortgangsoverleg.voorbereiding"] == "voortgangsoverleg"
    assert model.phase_of["gesloten"] == model.phase_of["zonder_regie"] == "eind"
    assert {r.state for r in model.resultaattypen} == set(basis.tracks["regie"].finals)
    assert all(r.archiefactietermijn == "P20Y" and r.archiefnominatie == "vernietigen"
               for r in model.resultaattypen)
    assert [(r.key, r.omschrijving_generiek) for r in model.roltypen] == [
        ("regisseur", "zaakcoordinator"), ("huishoudlid", "belanghebbende")]
    assert {(i.event, i.omschrijving) for i in model.informatieobjecttypen} == {
        ("plan_vaststellen", "Plan"), ("veiligheidsplan_vaststellen", "Veiligheidsplan")}


def test_bundled_blocks_override_the_defaults() -> None:
    basis = load_definition("basis").zgw
    assert basis is not None
    assert basis.resultaattype_for("zonder_regie").omschrijving == "Zonder 1Gezin1Plan1Regisseur"  # type: ignore[union-attr]
    hm = load_definition("hollands-midden").zgw
    assert hm is not None
    assert {i.omschrijving for i in hm.informatieobjecttypen} == {"Ondersteuningsplan", "Veilig Verder Plan"}
    zl = load_definition("zuid-limburg")
    assert zl.zgw is not None
    assert zl.zgw.roltype("gemeentelijk_aanspreekpunt").omschrijving_generiek == "beslisser"
    assert zl.zgw.roltype("professional").omschrijving_generiek == "behandelaar"
    # a role with a zgw block keeps its description for the rest of the library
    assert zl.roles["gemeentelijk_aanspreekpunt"].startswith("Aanspreekpunt van de gemeente")


REGION = """
id: regio
version: "1"
title: Regio
zgw:
  identificatie: REGIO-1G1P1R
  verantwoordelijke: Gemeente Voorbeeld
  eindstatus: {omschrijving: Traject beëindigd, informeren: false}
roles:
  regisseur:
    description: De procesregisseur.
    zgw: {omschrijving: Procesregisseur}
types:
  regioplan: {doelen: [string]}
tracks:
  regie:
    initial: aanmelding
    states:
      aanmelding: {title: Aanmelding, zgw: {statustype: {omschrijving: Aangemeld, informeren: true}}}
      afgerond:
        {title: Afgerond, final: true, zgw: {resultaattype: {omschrijving: Klaar,
         archiefnominatie: blijvend_bewaren, archiefactietermijn: P5Y}}}
events:
  aanmelden: {when_in: {regie: aanmelding}}
  plan_vaststellen:
    payload: {plan: regioplan}
    when_in: {regie: aanmelding}
    zgw: {informatieobjecttype: {omschrijving: Regioplan, vertrouwelijkheidaanduiding: zaakvertrouwelijk}}
  afsluiten:
    transitions: [{track: regie, from: aanmelding, to: afgerond}]
"""


def _region(tmp_path: Path, text: str = REGION) -> Path:
    return write(tmp_path, "regio.yaml", text)


def test_blocks_on_states_events_roles_and_the_definition(tmp_path: Path) -> None:
    definition = load_definition(_region(tmp_path))
    model = definition.zgw
    assert model is not None
    assert model.zaaktype.identificatie == "REGIO-1G1P1R"
    assert model.zaaktype.verantwoordelijke == "Gemeente Voorbeeld"
    assert [(s.key, s.omschrijving, s.informeren) for s in model.statustypen] == [
        ("aanmelding", "Aangemeld", True), ("eind", "Traject beëindigd", False)]
    (result,) = model.resultaattypen
    assert (result.omschrijving, result.archiefnominatie, result.archiefactietermijn) == (
        "Klaar", "blijvend_bewaren", "P5Y")
    assert model.roltype("regisseur").omschrijving == "Procesregisseur"
    plan = next(i for i in model.informatieobjecttypen if i.event == "plan_vaststellen")
    assert (plan.omschrijving, plan.vertrouwelijkheidaanduiding) == ("Regioplan", "zaakvertrouwelijk")
    assert definition.roles["regisseur"] == "De procesregisseur."


def test_zgw_blocks_do_not_change_the_definition_hash(tmp_path: Path) -> None:
    with_blocks = load_definition(_region(tmp_path))
    plain = REGION.replace(", zgw: {statustype: {omschrijving: Aangemeld, informeren: true}}", "")
    without = load_definition(write(tmp_path, "regio2.yaml", plain))
    assert with_blocks.zgw != without.zgw
    assert with_blocks.hash == without.hash


@pytest.mark.parametrize(("change", "expected"), [
    # a key the block does not know: the schema names it, with its line
    ("informeren: true}}}", "informeren: true, kleur: rood}}}"),
    # the eindstatus must come last
    ("eindstatus: {omschrijving: Traject beëindigd, informeren: false}",
     "eindstatus: {omschrijving: Traject beëindigd, volgnummer: 1}"),
    # a resultaattype omschrijving has at most 30 characters in the Catalogi API
    ("{title: Afgerond, final: true, zgw: {resultaattype: {omschrijving: Klaar,",
     "{title: Afgerond met een titel die te lang is voor ZGW, final: true, zgw: {resultaattype: {"),
])
def test_bad_blocks_are_located_errors(tmp_path: Path, change: str, expected: str) -> None:
    assert change in REGION
    with pytest.raises(DefinitionError) as info:
        load_definition(_region(tmp_path, REGION.replace(change, expected)))
    assert info.value.problems
    for problem in info.value.problems:
        assert problem.location.file.endswith("regio.yaml") and problem.location.line > 1
        assert "zgw" in problem.message or "kleur" in problem.message


@pytest.mark.parametrize("definition", BUNDLED)
def test_every_exported_body_validates_against_the_catalogi_api(definition: str) -> None:
    requests = export(definition)
    model = load_definition(definition).zgw
    assert model is not None
    kinds = [r.resource for r in requests]
    # creation order: catalogue-wide types, the zaaktype, then what hangs under it
    assert kinds.index("zaaktypen") > max(i for i, k in enumerate(kinds) if k == "informatieobjecttypen")
    assert kinds.count("statustypen") == len(model.statustypen)
    assert kinds.count("roltypen") == len(model.roltypen)
    assert kinds.count("resultaattypen") == len(model.resultaattypen)
    assert kinds[-len(model.informatieobjecttypen):] == ["zaaktype-informatieobjecttypen"] * len(
        model.informatieobjecttypen)
    made: set[str] = set()
    for req in requests:
        assert problems("catalogi", req.schema, dict(req.body)) == [], req.key
        refs = {v for v in req.body.values() if isinstance(v, str) and v.startswith(URN_PREFIX)}
        assert refs <= made, req.key  # a body only points at what was created before it
        made.add(req.ref)
    eind = [r.body for r in requests if r.resource == "statustypen"]
    assert max(eind, key=lambda b: b["volgnummer"])["omschrijving"] == model.eindstatus.omschrijving


def test_the_validator_refuses_what_the_catalogi_api_refuses() -> None:
    statustype = next(dict(r.body) for r in export("basis") if r.resource == "statustypen")
    assert problems("catalogi", "StatusType", statustype) == []
    assert problems("catalogi", "StatusType", {**statustype, "omschrijving": "x" * 81}) == [
        "omschrijving: maxLength 80"]
    assert problems("catalogi", "StatusType", {**statustype, "zaaktype": "geen url"}) == [
        "zaaktype: format 'uri'"]
    missing = {k: v for k, v in statustype.items() if k != "volgnummer"}
    assert problems("catalogi", "StatusType", missing) == ["(body): 'volgnummer' is a required property"]


def test_resultaattypen_need_a_selectielijst() -> None:
    with pytest.raises(ZgwExportError, match="selectielijstklasse"):
        zaaktype_requests(load_definition("basis"), CATALOGUS, begin_geldigheid=date(2026, 1, 1))


def test_cli_zaaktype(capsys: pytest.CaptureFixture[str]) -> None:
    from eengezin.cli import main

    args = ["zgw", "zaaktype", "hollands-midden", "--catalogus", CATALOGUS,
            "--selectielijstklasse", SELECTIELIJST["selectielijstklasse"],
            "--resultaattypeomschrijving", SELECTIELIJST["resultaattypeomschrijving"],
            "--begin-geldigheid", "2026-01-01"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["catalogus"] == CATALOGUS and out["definition"]["id"] == "hollands-midden"
    assert [r["key"] for r in out["requests"]] == [r.key for r in export("hollands-midden")]
    assert all(problems("catalogi", r["schema"], r["body"]) == [] for r in out["requests"])
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "POST /statustypen" in text and "Veilig Verder Plan" in text
    assert main(args[:5]) == 1
    assert "selectielijstklasse" in capsys.readouterr().err


def test_docs_show_the_current_mapping() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "zgw.md").read_text("utf-8")
    block = text.split("<!-- mapping:start -->\n", 1)[1].split("<!-- mapping:end -->", 1)[0]
    expected = "".join(f"### {d}\n\n{mapping_markdown(load_definition(d))}\n" for d in BUNDLED)
    # after changing a definition, regenerate the block with mapping_markdown (see docs/zgw.md)
    assert block == expected
