"""The checker's reductions keep every finding.

The checker folds trajecten into abstract states and skips work it can prove changes
nothing: values that are overwritten before anything reads them, facts read only through
predicates on that fact, a recorder step to a strictly more permissive fact, and outcomes it
has seen before. Each test below builds a definition where a careless version of that
reduction would hide a real problem, and checks that the problem is still reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eengezin import Event, load_definition, new_traject, step
from eengezin.checker import check_definition, representative_payloads
from eengezin.checker.analysis import analysis_for
from eengezin.checker.parts import explore_states
from eengezin.checker.settings import AT, MAX_STATES
from eengezin.checker.stepping import Stepper
from eengezin.errors import UnknownEventError
from eengezin.process.step import perform
from eengezin.rules.predicates import PredicateRegistry

from conftest import is_deep, run_trace, write

# the start of both test processes below: the tracks a -> b -> klaar and a first event
PHASES = """\
version: "1"
start_event: begin
tracks:
  fase:
    initial: a
    states:
      a: {{}}
      b: {{}}
      klaar: {{final: true}}
events:
  begin:
    payload: {{}}
    when_in: {{fase: a}}
"""

# A process a -> b -> klaar. `vastleggen` records the fact `akkoord`; `afronden` (b -> klaar)
# needs it. {where} says where `vastleggen` is possible.
RECORDER = """\
id: vastleggen
""" + PHASES + """\
  vastleggen:
    payload: {{akkoord: boolean}}
    when_in: {{fase: {where}}}
    record:
      - set: {{fact: akkoord, value: true}}
        if: {{is_true: data.akkoord}}
      - unset: akkoord
        if: {{not: {{is_true: data.akkoord}}}}
  verder:
    payload: {{}}
    transitions: [{{track: fase, from: a, to: b}}]
  afronden:
    payload: {{}}
    transitions: [{{track: fase, from: b, to: klaar}}]
rules:
  - id: vastleggen.eerst_akkoord
    severity: block
    on: afronden
    require: {{is_true: facts.akkoord}}
    message: Eerst akkoord vastleggen.
    source: test
invariants:
  - id: vastleggen.einde
    reachable_final: true
    message: Het einde blijft bereikbaar.
    source: test
"""


def test_a_recorder_possible_everywhere_may_be_taken_first(tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path, "def.yaml", RECORDER.format(where="[a, b]")))
    analysis = analysis_for(definition)
    assert set(analysis.eager) == {"akkoord"}
    assert check_definition(definition).findings == ()


def test_a_recorder_possible_only_early_is_not_taken_first(tmp_path: Path) -> None:
    # moving on to b without recording akkoord is a dead end: in b it can no longer be
    # recorded, and afronden needs it. Recording first is the better choice, but the checker
    # must still see the path that skips it.
    definition = load_definition(write(tmp_path, "def.yaml", RECORDER.format(where="a")))
    assert analysis_for(definition).eager == {}
    result = check_definition(definition)
    (dead, *_rest) = [f for f in result.findings if f.kind == "doodlopend"]
    assert dead.trace is not None
    assert [e.name for e in dead.trace] == ["begin", "verder"]
    end = run_trace(definition, dead.trace)
    assert end.state["fase"] == "b" and "akkoord" not in end.facts


# `stap` moves a -> b -> c -> klaar. Entering b resets `teller`; in c, `afronden` needs it.
# {reset} is either the on_enter reset or nothing.
OVERWRITTEN = """\
id: overschreven
version: "1"
start_event: begin
tracks:
  fase:
    initial: a
    states:
      a: {{}}
      b:
        {reset}
      c: {{}}
      klaar: {{final: true}}
events:
  begin:
    payload: {{}}
    when_in: {{fase: a}}
  tellen:
    payload: {{}}
    when_in: {{fase: [a, c]}}
    record:
      - set: {{fact: teller, value: true}}
  naar_b:
    payload: {{}}
    transitions: [{{track: fase, from: a, to: b}}]
  naar_c:
    payload: {{}}
    transitions: [{{track: fase, from: b, to: c}}]
  afronden:
    payload: {{}}
    transitions: [{{track: fase, from: c, to: klaar}}]
rules:
  - id: overschreven.niet_geteld
    severity: block
    on: afronden
    require: {{not: {{is_true: facts.teller}}}}
    message: Afronden kan alleen zonder telling.
    source: test
invariants:
  - id: overschreven.einde
    reachable_final: true
    message: Het einde blijft bereikbaar.
    source: test
"""


def test_a_value_overwritten_before_it_is_read_is_not_told_apart(tmp_path: Path) -> None:
    reset = "on_enter: [{unset: teller}]"
    kept = check_definition(write(tmp_path, "kept.yaml", OVERWRITTEN.format(reset="{}")))
    cleared = check_definition(write(tmp_path, "reset.yaml", OVERWRITTEN.format(reset=reset)))
    # without the reset, counting in a is a dead end (afronden refuses forever in c) ...
    assert {f.kind for f in kept.findings} == {"doodlopend"}
    assert kept.findings[0].trace is not None
    assert [e.name for e in kept.findings[0].trace] == ["begin", "tellen"]
    # ... with it, counting in a or b leads to the same future: b and its successors are
    # one state each, and counting in c is still seen as the dead end it is
    assert {f.kind for f in cleared.findings} == {"doodlopend"}
    trace = cleared.findings[0].trace
    assert trace is not None and [e.name for e in trace][-1] == "tellen"
    assert cleared.states < kept.states


def test_a_fact_read_only_through_its_own_predicates_keeps_only_their_values() -> None:
    zl = analysis_for(load_definition("zuid-limburg"))
    # the plan is read by `present` checks only, and replaced as a whole
    assert "plan" in zl.closed
    # betrokkenen is merged into (put) and compared with payload ids: it keeps its shape
    assert "betrokkenen" not in zl.closed


@pytest.mark.parametrize("def_id", ["basis", "cjg", "hollands-midden"] if is_deep() else
                         ["basis", "cjg"])
def test_remembered_outcomes_equal_real_steps(def_id: str, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    # verify mode rebuilds the traject of every state reached through a remembered outcome
    # and compares its abstract state with the remembered one
    monkeypatch.setattr(Stepper, "verify", True)
    checked = check_definition(def_id)
    monkeypatch.setattr(Stepper, "verify", False)
    plain = check_definition(def_id)
    assert checked.findings == plain.findings == ()
    assert (checked.states, checked.transitions) == (plain.states, plain.transitions)


def test_remembered_outcomes_equal_real_steps_in_zuid_limburg(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the deep profile rebuilds every state of the whole check (about 28,000)
    monkeypatch.setattr(Stepper, "verify", True)
    whole = is_deep()
    result = check_definition("zuid-limburg", max_states=MAX_STATES if whole else 4_000)
    assert [f.kind for f in result.findings] == ([] if whole else ["onvolledig"])


def test_an_oral_consent_can_be_confirmed() -> None:
    # the consent payload varies its form together with the member it is about; before,
    # `mondeling` was cut off behind the list variants and the confirmation never fired
    definition = load_definition("zuid-limburg")
    traject = new_traject(definition, "t")
    for eid in ("aanmelden", "toestemming_vastleggen", "toestemming_bevestigen"):
        candidates = representative_payloads(definition, eid, traject)
        if eid == "toestemming_vastleggen":
            candidates = [p for p in candidates if p.get("vorm") == "mondeling"]
        for payload in candidates:
            out = step(definition, traject, Event(eid, AT, payload))
            if out.accepted:
                traject = out.traject
                break
        else:
            pytest.fail(f"no representative payload of {eid} is accepted")
    assert "toestemming_bevestigen" in traject.seen


def test_an_event_with_a_host_predicate_is_always_stepped_for_real(tmp_path: Path) -> None:
    # a host predicate may read any fact, so its outcome cannot be remembered per footprint
    registry = PredicateRegistry.with_builtins()

    @registry.register("wijk_heeft_capaciteit")
    def capaciteit(ctx: Any, params: Any) -> bool:
        return True

    path = write(tmp_path, "host.yaml", """\
id: host
version: '1'
extends: basis
rules:
  - id: host.capaciteit
    severity: block
    on: regie_starten
    require: {wijk_heeft_capaciteit: {wijk: noord}}
    message: Geen capaciteit in de wijk.
    source: host
""")
    definition = load_definition(path, predicates=registry)
    stepper = Stepper(definition, analysis_for(definition))
    assert "regie_starten" in stepper.uncached
    assert "vraag_verhelderen" not in stepper.uncached
    assert check_definition(definition).findings == ()


# A process a -> b -> klaar: `vastleggen` (a -> b) records a member whose `rol` ({kind}) is
# optional. `melden` is refused for a member with rol `spoed`, read through {read}; {rest}
# adds rules.
LITERAL = """\
id: letterlijk
version: "1"
start_event: begin
tracks:
  fase:
    initial: a
    states:
      a: {{}}
      b: {{}}
      klaar: {{final: true}}
events:
  begin:
    payload: {{}}
    when_in: {{fase: a}}
  vastleggen:
    payload: {{rol?: {kind}}}
    transitions: [{{track: fase, from: a, to: b}}]
    record:
      - append: {{fact: leden, from: data}}
  melden:
    payload: {{}}
    when_in: {{fase: b}}
  afronden:
    payload: {{}}
    transitions: [{{track: fase, from: b, to: klaar}}]
rules:
  - id: letterlijk.niet_bij_spoed
    severity: block
    on: melden
    if: {{some: {{path: facts.leden, require: {read}}}}}
    require: {{in_state: {{fase: a}}}}
    message: Niet bij spoed.
    source: test
{rest}
invariants:
  - id: letterlijk.einde
    reachable_final: true
    message: Het einde blijft bereikbaar.
    source: test
"""
ROLE_NEEDED = """\
  - id: letterlijk.rol_bekend
    severity: block
    on: afronden
    require: {every: {path: facts.leden, require: {present: item.rol}}}
    message: Leg de rol vast.
    source: test"""
ROLE = "{enum: [gewoon, spoed]}"
ROLES = "{type: list, items: " + ROLE + "}"
READS = {  # how `rol` is read, its payload type, a value that reads like none, and `spoed`
    "equals": ("{equals: {path: item.rol, value: spoed}}", ROLE, "gewoon", "spoed"),
    "one_of": ("{one_of: {path: item.rol, values: [spoed, dringend]}}", ROLE, "gewoon",
               "spoed"),
    # a text holds nothing to look into: it reads like no rol at all
    "contains": ("{contains: {path: item.rol, value: spoed}}", ROLES, [], ["spoed"]),
}


def _literal(how: str, rest: str, kind: str | None = None) -> str:
    read, own_kind, _none, _spoed = READS[how]
    return LITERAL.format(read=read, kind=kind or own_kind, rest=rest)


@pytest.mark.parametrize("how", sorted(READS))
def test_a_value_also_read_as_it_is_keeps_absent_apart_from_other_text(
        tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # `rol` is compared with a literal (or looked into) by one rule and must be present for
    # another: a member without a rol is a dead end, one with any rol is not
    text = _literal(how, ROLE_NEEDED, kind=ROLE)
    definition = load_definition(write(tmp_path, "def.yaml", text))
    result = check_definition(definition)
    assert [f.kind for f in result.findings] == ["doodlopend"]
    trace = result.findings[0].trace
    assert trace is not None and [(e.name, dict(e.data)) for e in trace] == [
        ("begin", {}), ("vastleggen", {})]
    # a careless version that let the comparison decide how `rol` is read would fold the
    # member without a rol into the one with some rol, and miss the dead end
    monkeypatch.setattr("eengezin.checker.reads.Gathered.only_literals",
                        lambda self, path: path in self.literal_reads)
    monkeypatch.setattr("eengezin.checker.reads.Gathered.only_members",
                        lambda self, path: path in self.member_reads)
    careless = check_definition(load_definition(write(tmp_path, "def2.yaml", text)))
    assert careless.findings == ()


@pytest.mark.parametrize("how", sorted(READS))
def test_a_value_read_only_against_literals_keeps_just_the_literals(tmp_path: Path, how: str
                                                                  ) -> None:
    from eengezin.checker.state import abstract

    definition = load_definition(write(tmp_path, "def.yaml", _literal(how, "")))
    assert check_definition(definition).findings == ()
    # only `melden`, which changes nothing, reads `rol`: the check leaves it out of the
    # state (an observed fact); how its value folds shows in the search that keeps it
    analysis = analysis_for(definition, reduce=False)
    assert analysis_for(definition).observers == {"melden"}

    def after(payload: dict[str, Any]) -> Any:
        trace = (Event("begin", AT, {}), Event("vastleggen", AT, payload))
        return abstract(run_trace(definition, trace), analysis)

    # no rol, an empty one and one that cannot match decide the same; `spoed` does not
    _read, _kind, none, spoed = READS[how]
    assert after({}) == after({"rol": none})
    assert after({"rol": spoed}) != after({})
    # the equality with a literal is kept, so a dead end behind it is still found
    blocked = _literal(how, "").replace("on: melden", "on: afronden")
    result = check_definition(write(tmp_path, "blocked.yaml", blocked))
    assert [f.kind for f in result.findings] == ["doodlopend"]
    trace = result.findings[0].trace
    assert trace is not None and trace[-1].name == "vastleggen" and "spoed" in trace[-1].data["rol"]


def test_reads_combine_to_only_literals_only_where_every_part_agrees() -> None:
    from eengezin.rules import Reads

    literal = Reads(paths=frozenset({"item.rol"}), only_literals=frozenset({"item.rol"}))
    member = Reads(paths=frozenset({"item.rol"}), only_members=frozenset({"item.rol"}))
    whole = Reads(paths=frozenset({"item.rol"}))
    assert (literal | literal).only_literals == {"item.rol"}
    assert (literal | whole).only_literals == frozenset()
    assert (whole | member).only_members == frozenset()
    assert (literal | member).only_literals == (literal | member).only_members == frozenset()
    inside = (literal | Reads(paths=frozenset({"facts.leden"}))).within("facts.leden[]")
    assert inside.only_literals == {"facts.leden[].rol"}
    assert inside.paths - inside.only_literals == {"facts.leden"}


# A process a -> b -> klaar in which `betrokkene_toevoegen` puts its payload into the keyed
# fact `betrokkenen`; its `rol` is free text. Only the rules of other events compare that
# rol with literals: {rules}.
COPIED = """\
id: vertegenwoordiging
""" + PHASES + """\
  betrokkene_toevoegen:
    payload: {{id: text, naam: text, rol?: string}}
    when_in: {{fase: a}}
    record:
      - put: {{fact: betrokkenen, key: data.id, from: data}}
  verder:
    payload: {{}}
    transitions: [{{track: fase, from: a, to: b}}]
  afronden:
    payload: {{}}
    transitions: [{{track: fase, from: b, to: klaar}}]
rules:
{rules}
invariants:
  - id: vertegenwoordiging.einde
    reachable_final: true
    message: Het einde blijft bereikbaar.
    source: test
"""
HAS_REPRESENTATIVE = ("{some: {path: facts.betrokkenen, "
                      "require: {one_of: {path: item.rol, values: [voogd, jeugdbeschermer]}}}}")
BLOCKED_BY_REPRESENTATIVE = f"""\
  - id: vertegenwoordiging.niet_afronden
    severity: block
    on: afronden
    require: {{not: {HAS_REPRESENTATIVE}}}
    message: Met een voogd of jeugdbeschermer kan het traject niet worden afgerond.
    source: test"""
NEEDS_REPRESENTATIVE = f"""\
  - id: vertegenwoordiging.eerst_voogd
    severity: block
    on: verder
    require: {HAS_REPRESENTATIVE}
    message: Voeg eerst de voogd of jeugdbeschermer toe.
    source: test"""


def test_a_literal_compared_with_a_copy_is_tried_in_the_payload_it_came_from(
        tmp_path: Path) -> None:
    # with a voogd or jeugdbeschermer among the betrokkenen the process can no longer end.
    # Before literals were carried through copies, the checker only ever added betrokkenen
    # with rol "tekst" or none, and reported nothing (verified against the old code).
    definition = load_definition(write(tmp_path, "def.yaml",
                                       COPIED.format(rules=BLOCKED_BY_REPRESENTATIVE)))
    roles = {p.get("rol") for p in representative_payloads(definition, "betrokkene_toevoegen")}
    assert {"voogd", "jeugdbeschermer"} <= roles
    # the payload type's own default stays first: the plain betrokkene is the usual one
    assert representative_payloads(definition, "betrokkene_toevoegen")[0]["rol"] == "tekst"
    result = check_definition(definition)
    assert {f.kind for f in result.findings} == {"doodlopend"}
    trace = result.findings[0].trace
    assert trace is not None
    assert [e.name for e in trace] == ["begin", "betrokkene_toevoegen", "verder"]
    assert trace[1].data["rol"] in ("voogd", "jeugdbeschermer")
    end = run_trace(definition, trace)
    assert end.state["fase"] == "b" and len(end.facts["betrokkenen"]) == 1


def test_a_branch_behind_a_literal_in_a_copy_is_explored(tmp_path: Path) -> None:
    # moving on needs a voogd or jeugdbeschermer among the betrokkenen. Before literals were
    # carried through copies, the checker never added one and reported every state a dead
    # end, `verder` never accepted and b and klaar unreachable (verified against the old code)
    definition = load_definition(write(tmp_path, "def.yaml",
                                       COPIED.format(rules=NEEDS_REPRESENTATIVE)))
    result = check_definition(definition)
    assert result.findings == ()


def test_the_consent_rules_make_a_voogd_a_payload_of_betrokkene_toevoegen() -> None:
    # zuid-limburg blocks a consent unless it comes from those with gezag or from a voogd or
    # jeugdbeschermer among the betrokkenen (in basis the same rule only warns, so nothing
    # decisive compares the rol there and no payload is added for it)
    definition = load_definition("zuid-limburg")
    for eid in ("betrokkene_toevoegen", "betrokkene_wijzigen"):
        roles = [p.get("rol") for p in representative_payloads(definition, eid)]
        assert "voogd" in roles and "jeugdbeschermer" in roles
    analysis = analysis_for(definition)
    assert analysis.event_reads["betrokkene_toevoegen"].copied_literals["data.rol"] == [
        "voogd", "jeugdbeschermer"]
    # the fact keeps which of the literals a betrokkene has, so these are distinct states
    rol = analysis.fact_trie["betrokkenen"]["[]"]["rol"][""]
    assert {"voogd", "jeugdbeschermer"} <= rol


@pytest.mark.parametrize(("fact", "op", "source", "expected"), [
    # put/append: the copy is one element of the fact
    ("leden", "put", "data", {("data.rol", "voogd"), ("data", "x")}),
    ("leden", "append", "data.lid", {("data.lid.rol", "voogd"), ("data.lid", "x")}),
    # set: the copy is the fact; a path through a list inside it stays a list path
    ("plan", "set", "data.plan", {("data.plan.doelen[].soort", "herstel"), ("data.plan", "y")}),
    # a fact whose name only starts like another's takes nothing of it
    ("pla", "set", "data", set()),
])
def test_copied_literals_follow_the_copy_into_the_fact(fact: str, op: str, source: str,
                                                       expected: set[tuple[str, str]]) -> None:
    from eengezin.checker.reads import copied_literals

    literals = {
        "facts.leden[].rol": ["voogd"],
        "facts.leden": ["x"],  # contains: the fact holds "x"
        "facts.plan.doelen[].soort": ["herstel"],
        "facts.plan": ["y"],
        "facts.planning.soort": ["z"],
        "data.rol": ["eigen"],
    }
    assert set(copied_literals(literals, fact, op, source)) == expected


# `afronden` needs a minor; the household registers one birth date. The checker tries an
# adult's birth date too, and must keep it apart from a child's: before birth dates read
# for an age were kept as they are, both folded into "some date" and the adult's dead end
# was never seen (3 states, no finding).
AGE = """\
id: leeftijd
version: "1"
start_event: aanmelden
tracks:
  fase:
    initial: aangemeld
    states:
      aangemeld: {}
      klaar: {final: true}
events:
  aanmelden:
    payload: {geboortedatum: date}
    when_in: {fase: aangemeld}
    record:
      - set: {fact: geboortedatum, from: data.geboortedatum}
  afronden:
    payload: {}
    transitions: [{track: fase, from: aangemeld, to: klaar}]
rules:
  - id: leeftijd.minderjarig
    severity: block
    on: afronden
    require: {age_between: {birth: facts.geboortedatum, max: 18}}
    message: Alleen voor een minderjarige.
    source: test
invariants:
  - id: leeftijd.einde
    reachable_final: true
    message: Het einde blijft bereikbaar.
    source: test
"""


def test_birth_dates_read_for_an_age_are_kept_apart(tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path, "leeftijd.yaml", AGE))
    findings = check_definition(definition).findings
    assert [f.kind for f in findings] == ["doodlopend"]
    (trace,) = [f.trace for f in findings]
    born = trace[0].data["geboortedatum"]
    # the dead end is an adult's registration, and it replays as one
    assert int(born[:4]) <= AT.year - 18
    traject = run_trace(definition, trace)
    assert not step(definition, traject, Event("afronden", AT)).accepted


@pytest.mark.parametrize("def_id", ["basis", "cjg", "hollands-midden"] if is_deep() else
                         ["basis"])
def test_outcomes_taken_over_from_the_parent_change_nothing(
        def_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # a state takes over its parent's remembered outcomes where its step left an event's
    # footprint alone; looking every outcome up again must give the same search
    from eengezin.checker import explore

    taken_over = check_definition(def_id)
    monkeypatch.setattr(explore, "inherited", lambda *args, **kwargs: None)
    looked_up = check_definition(def_id)
    assert (taken_over.states, taken_over.transitions, taken_over.findings) == (
        looked_up.states, looked_up.transitions, looked_up.findings)


def test_perform_carries_out_what_step_accepted() -> None:
    definition = load_definition("basis")
    traject = new_traject(definition, "T")
    for event in (Event("aanmelden", AT, {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]},
                                          "vraag": "hulp"}),
                  Event("vraag_verhelderen", AT, {})):
        decided = step(definition, traject, event)
        assert decided.accepted
        carried = perform(definition, traject, event)
        assert carried.traject == decided.traject
        traject = decided.traject
    # perform decides nothing: a refused event is carried out anyway (tools only)
    refused = Event("afsluiten", AT, {"reden": "x"})
    assert not step(definition, traject, refused).accepted
    assert perform(definition, traject, refused).traject.version == traject.version + 1
    with pytest.raises(UnknownEventError):
        perform(definition, traject, Event("bestaat_niet", AT, {}))


@pytest.mark.skipif(not is_deep(), reason="seconds: the deep profile runs it")
def test_remembered_puts_equal_real_steps_without_the_reductions(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a `put` under a payload key adds an element or replaces one, depending on whether the
    # key is there already (a consent's own id), which the folded fact need not show: that
    # is part of the footprint. Without it, zuid-limburg's first part searched without the
    # reductions (where consents are kept) used a replacing consent for an adding one
    # within its first 50,000 states, and verify mode saw the rebuilt state differ
    monkeypatch.setattr(Stepper, "verify", True)
    result, _analysis, _states = explore_states("zuid-limburg", part=0, reduce=False,
                                                max_states=60_000)
    assert [f.kind for f in result.findings] == ["onvolledig"]
