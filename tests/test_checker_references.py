"""Ids that flow through copies: consent by a voogd or by a holder of gezag is explored.

A consent rule looks up the member a consent is about (``find ... other: data.over``) and
then looks for that id in a betrokkene's ``voor`` or a member's ``gezag`` (``contains ...
other: data.over``), and for the one who consents in ``data.van``. Those lists are filled by
other events (``betrokkene_toevoegen``, ``aanmelden``). Before ids flowed through copies, the
checker only ever filled them with plain text, so a branch behind a representative or a
holder of gezag was never taken. Each test below builds a process where a finding exists
only on such a branch; each was run once against the code before this change (commit
2b8bdbb) and failed there as its comment says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eengezin import Event, load_definition, new_traject, step
from eengezin.checker import check_definition, representative_payloads
from eengezin.checker.analysis import analysis_for
from eengezin.checker.settings import AT
from eengezin.checker.state import abstract

from conftest import run_trace, write

# A household registers (members with a rol and, for a parent, the minors over whom they
# hold gezag); betrokkenen can be added (a voogd names the minors it represents in voor);
# `toestemming` (a -> b) records a consent about a member; `afronden` (b -> klaar) ends.
# @WHO@: who may consent about the member; @RECORD@: what the consent records.
PROCESS = """\
id: vertegenwoordiging
version: "1"
start_event: aanmelden
types:
  lid:
    id: text
    rol: {enum: [ouder, kind]}
    gezag?: [string]
tracks:
  fase:
    initial: a
    states:
      a: {}
      b: {}
      klaar: {final: true}
events:
  aanmelden:
    payload:
      leden: {type: list, items: lid, min_items: 2}
    when_in: {fase: a}
    record:
      - set: {fact: leden, from: data.leden}
  betrokkene_toevoegen:
    payload: {id: text, naam: text, rol?: string, voor?: [string]}
    when_in: {fase: a}
    record:
      - put: {fact: betrokkenen, key: data.id, from: data}
  toestemming:
    payload:
      over: text
      van: {type: list, items: text, min_items: 1}
    transitions: [{track: fase, from: a, to: b}]
    record: @RECORD@
  afronden:
    payload: {}
    transitions: [{track: fase, from: b, to: klaar}]
rules:
  - id: vertegenwoordiging.bevoegd
    severity: block
    on: toestemming
    require:
      all:
        - find: {path: facts.leden, key: id, other: data.over}
        - any: @WHO@
    message: Alleen wie bevoegd is stemt in.
    source: test
  - id: vertegenwoordiging.niet_bijzonder
    severity: block
    on: afronden
    require: {not: {is_true: facts.bijzonder}}
    message: Na deze toestemming kan het traject niet worden afgerond.
    source: test
invariants:
  - id: vertegenwoordiging.einde
    reachable_final: true
    message: Het einde blijft bereikbaar.
    source: test
"""
VOOGD = """{some: {path: facts.betrokkenen, require: {all: [
      {one_of: {path: item.rol, values: [voogd]}},
      {contains: {path: item.voor, other: data.over}},
      {contains: {path: data.van, other: item.id}}]}}}"""
GEZAG = """{some: {path: facts.leden, require: {all: [
      {contains: {path: item.gezag, other: data.over}},
      {contains: {path: data.van, other: item.id}}]}}}"""
OUDER = """{some: {path: facts.leden, require: {all: [
      {equals: {path: item.rol, value: ouder}},
      {contains: {path: data.van, other: item.id}}]}}}"""
NOTHING = "[{unset: bijzonder}]"


def process(tmp_path: Path, who: list[str], special: str | None = None) -> Any:
    record = NOTHING if special is None else (
        f"[{{set: {{fact: bijzonder, value: true}}, if: {special}}}]")
    text = PROCESS.replace("@WHO@", "[" + ", ".join(who) + "]").replace("@RECORD@", record)
    return load_definition(write(tmp_path, "vertegenwoordiging.yaml", text))


@pytest.mark.parametrize("who", [VOOGD, GEZAG], ids=["voogd", "gezag"])
def test_a_consent_only_a_representative_can_give_is_explored(tmp_path: Path, who: str
                                                              ) -> None:
    # only a voogd (a betrokkene whose voor names the member) or a holder of gezag over the
    # member may consent. Before: `toestemming` was never accepted (nooit_mogelijk), b and
    # klaar were unreachable and every state a dead end
    definition = process(tmp_path, [who])
    result = check_definition(definition)
    if who == VOOGD:  # a voogd can be added at any time
        assert result.findings == ()
        return
    # a household registered without anyone holding gezag stays so: a real dead end, and
    # the only one
    assert {f.kind for f in result.findings} == {"doodlopend"}
    for finding in result.findings:
        assert finding.trace is not None and [e.name for e in finding.trace] == ["aanmelden"]
        leden = finding.trace[0].data["leden"]
        ids = {m["id"] for m in leden}
        assert not any(set(m.get("gezag", ())) & ids for m in leden)


@pytest.mark.parametrize(("who", "fired"), [(VOOGD, "betrokkene_toevoegen"),
                                            (GEZAG, "aanmelden")], ids=["voogd", "gezag"])
def test_a_dead_end_behind_a_representatives_consent_is_found(tmp_path: Path, who: str,
                                                              fired: str) -> None:
    # a parent may always consent; a consent by a voogd or a holder of gezag records
    # `bijzonder`, after which the process cannot end. Before: no finding at all (the
    # checker only ever took the parent's consent)
    definition = process(tmp_path, [OUDER, who], special=who)
    result = check_definition(definition)
    assert [f.kind for f in result.findings] == ["doodlopend"]
    trace = result.findings[0].trace
    assert trace is not None and trace[-1].name == "toestemming"
    assert fired in [e.name for e in trace]
    end = run_trace(definition, trace)
    assert end.facts["bijzonder"] is True and end.state["fase"] == "b"
    consent = trace[-1].data
    about = consent["over"]
    assert about in {m["id"] for m in end.facts["leden"]}
    if who == VOOGD:
        (voogd,) = [b for b in end.facts["betrokkenen"].values() if b.get("rol") == "voogd"]
        assert voogd["voor"] == [about] and consent["van"] == [voogd["id"]]
    else:
        (holder,) = [m for m in end.facts["leden"] if about in m.get("gezag", [])]
        assert holder["id"] != about and consent["van"] == [holder["id"]]


def test_a_parents_gezag_names_a_child_of_the_same_household(tmp_path: Path) -> None:
    definition = process(tmp_path, [GEZAG])
    payloads = representative_payloads(definition, "aanmelden")
    households = [p["leden"] for p in payloads]
    # the plain household first; a variant where the parent holds gezag over the child
    # (members are spread over the roles: the parent first)
    assert households[0][0].get("gezag") == ["tekst"]
    assert any(leden[0].get("gezag") == [leden[1]["id"]] for leden in households
               if len(leden) > 1)


def test_which_member_a_reference_names_is_kept_not_its_text(tmp_path: Path) -> None:
    definition = process(tmp_path, [OUDER, VOOGD])
    analysis = analysis_for(definition)
    traject = new_traject(definition, "t")
    leden = [{"id": "m1", "rol": "ouder"}, {"id": "m2", "rol": "kind"}]
    traject = step(definition, traject, Event("aanmelden", AT, {"leden": leden})).traject

    def with_voogd(voor: list[str], ident: str = "b1") -> Any:
        event = Event("betrokkene_toevoegen", AT,
                      {"id": ident, "naam": "x", "rol": "voogd", "voor": voor})
        return abstract(step(definition, traject, event).traject, analysis)

    # a voor that names the child and one that names the parent differ from each other
    # and from one that names nobody (the rules read the rol: the two members differ);
    # texts that name nobody read alike, and so do ids that differ only in their spelling
    assert len({with_voogd(["m2"]), with_voogd(["m1"]), with_voogd(["iemand"])}) == 3
    assert with_voogd(["iemand"]) == with_voogd(["niemand"])
    assert with_voogd(["m2"]) == with_voogd(["m2"], ident="b9")


def test_zuid_limburg_offers_a_voogd_for_a_member_of_the_household() -> None:
    # the consent rule of zuid-limburg compares a betrokkene's voor with the member a
    # consent is about: with a household registered, betrokkene_toevoegen is tried with a
    # voor that names a member, and with a voogd that does. Before: voor was only ever
    # ["tekst"] or absent
    definition = load_definition("zuid-limburg")
    traject = new_traject(definition, "t")
    registered = representative_payloads(definition, "aanmelden", traject)[0]
    traject = step(definition, traject, Event("aanmelden", AT, registered)).traject
    members = {m["id"] for m in traject.facts["huishouden"]["leden"]}
    payloads = representative_payloads(definition, "betrokkene_toevoegen", traject)
    named = [p for p in payloads if set(p.get("voor") or ()) & members]
    assert named
    assert any(p.get("rol") == "voogd" for p in named)
    # the betrokkene stays one new betrokkene, whichever member it represents
    assert len({p["id"] for p in payloads}) == 1
    assert not {p["id"] for p in payloads} & members
