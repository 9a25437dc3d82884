"""Facts only observers read are left out of the checker's abstract state, and the check
still finds exactly what a search that keeps them finds (``checker/reductions.py``,
``observed_facts``; ``checker/parts.py``, how the observers are settled)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eengezin import load_definition
from eengezin.checker import check_definition, parts
from eengezin.checker.analysis import analysis_for
from eengezin.checker.parts import explore_states

from conftest import findings, is_deep, write

# `bevestigen` reads only the consent `toestemming` records and changes nothing else: an
# observer. The search that leaves the consent out keeps one traject per state, whose
# consent is whatever the first path to it recorded.
OBSERVED = """\
id: waarnemen
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
  naar_b:
    payload: {{}}
    transitions: [{{track: fase, from: a, to: b}}]
  klaar_maken:
    payload: {{}}
    transitions: [{{track: fase, from: b, to: klaar}}]
  toestemming:
    payload: {{soort: {{enum: [schriftelijk, mondeling]}}}}
    when_in: {{fase: {consent_in}}}
    record:
      - set: {{fact: toestemming, from: data.soort}}
  bevestigen:
    payload: {{}}
    when_in: {{fase: {confirm_in}}}
{confirm_moves}    record:
      - set: {{fact: bevestigd, value: true}}
rules:
  - id: waarnemen.regel
    severity: block
    on: bevestigen
    {rule}
    message: Er is geen passende toestemming.
    source: test
{next}{invariants}"""

RULES = {
    # accepted only after an oral consent, which no first path records
    "mondeling": "require: {equals: {path: facts.toestemming, value: mondeling}}",
    # refused after a written consent only: accepted in the state the search keeps
    "niet_schriftelijk": "require: {not: {equals: {path: facts.toestemming, value: schriftelijk}}}",
    # a value no payload gives: never accepted
    "telefonisch": "require: {equals: {path: facts.toestemming, value: telefonisch}}",
}
INVARIANT = """\
invariants:
  - id: waarnemen.nooit_telefonisch
    always: {not: {equals: {path: facts.toestemming, value: telefonisch}}}
    message: Nooit telefonisch.
    source: test
"""


def text(rule: str = "mondeling", *, consent_in: str = "[a, b]", confirm_in: str = "[a, b]",
         advice: bool = False, moves: bool = False, invariant: bool = False) -> str:
    return OBSERVED.format(
        rule=RULES[rule], consent_in=consent_in, confirm_in=confirm_in,
        confirm_moves="    transitions: [{track: fase, from: b, to: b}]\n" if moves else "",
        next="    next: [toestemming]\n" if advice else "",
        invariants=INVARIANT if invariant else "")



def test_observed_facts_of_the_bundled_definitions() -> None:
    zl = analysis_for(load_definition("zuid-limburg"))
    assert zl.observed == {"toestemmingen", "toestemming_voor", "overmacht_voor"}
    assert zl.observers == {"plan_delen", "toestemming_bevestigen"}
    hm = analysis_for(load_definition("hollands-midden"))
    assert hm.observed == {"toestemming_voor", "huishouden"}
    assert hm.observers == {"plan_delen"}
    # the search that keeps every fact
    assert analysis_for(load_definition("zuid-limburg"), reduce=False).observers == set()


def test_a_fact_something_else_reads_is_kept(tmp_path: Path) -> None:
    # an invariant reads it, or the reader moves a track: it decides more than the observer
    for options in ({"invariant": True}, {"moves": True}):
        definition = load_definition(write(tmp_path, "kept.yaml", text(**options)))
        analysis = analysis_for(definition)
        assert analysis.observed == set() and analysis.observers == set()
    definition = load_definition(write(tmp_path, "observed.yaml", text()))
    analysis = analysis_for(definition)
    assert analysis.observed == {"toestemming"} and analysis.observers == {"bevestigen"}


def test_an_observer_accepted_only_off_the_kept_paths_is_found_accepted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    definition = load_definition(write(tmp_path, "observed.yaml", text("mondeling")))
    reduced, _analysis, _states = explore_states(definition)
    # the search that leaves the consent out never meets an oral one ...
    assert [f.subject for f in reduced.findings if f.kind == "nooit_mogelijk"] == ["bevestigen"]
    whole, _analysis, _states = explore_states(definition, reduce=False)
    assert whole.findings == () and reduced.states < whole.states
    # ... so the check first looks for trajecten that accept the observers, keeping the
    # consent, and the search does not try them again
    found: list[frozenset[str]] = []
    witnesses = parts._witnesses

    def spy(*args: Any) -> frozenset[str]:
        found.append(witnesses(*args))
        return found[-1]

    monkeypatch.setattr(parts, "_witnesses", spy)
    result = check_definition(definition)
    assert result.findings == () and found == [{"bevestigen"}]
    assert result.states == reduced.states  # no second search of the whole space


def test_an_observer_never_accepted_is_reported_with_its_causes(tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path, "never.yaml", text("telefonisch")))
    result = check_definition(definition)
    whole, _analysis, _states = explore_states(definition, reduce=False)
    assert findings(result) == findings(whole)
    assert [(f.kind, f.subject, f.causes) for f in result.findings] == [
        ("nooit_mogelijk", "bevestigen", ("waarnemen.regel",))]
    assert result.states == whole.states  # settled by the search that keeps the consent


def test_advice_the_kept_traject_does_not_show_is_still_found(tmp_path: Path) -> None:
    # in fase b the rule blocks after a written consent and names `toestemming`, which is
    # only possible in fase a; the traject the reduced search keeps has no consent at all
    definition = load_definition(write(tmp_path, "advice.yaml", text(
        "niet_schriftelijk", consent_in="a", advice=True)))
    reduced, _analysis, _states = explore_states(definition)
    assert not [f for f in reduced.findings if f.kind == "advies_onmogelijk"]
    result = check_definition(definition)
    whole, _analysis, _states = explore_states(definition, reduce=False)
    assert findings(result) == findings(whole)
    assert [f.subject for f in result.findings if f.kind == "advies_onmogelijk"] == [
        "waarnemen.regel"]


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=st.sampled_from(sorted(RULES)), consent_in=st.sampled_from(["a", "b", "[a, b]"]),
       confirm_in=st.sampled_from(["a", "b", "[a, b]"]), advice=st.booleans(),
       moves=st.booleans(), invariant=st.booleans())
def test_the_reduction_drops_no_finding(tmp_path: Path, rule: str, consent_in: str,
                                        confirm_in: str, advice: bool, moves: bool,
                                        invariant: bool) -> None:
    if moves and "b" not in confirm_in:
        confirm_in = "[a, b]"  # its transition leaves from b
    definition = load_definition(write(tmp_path, "any.yaml", text(
        rule, consent_in=consent_in, confirm_in=confirm_in, advice=advice, moves=moves,
        invariant=invariant)))
    whole, _analysis, _states = explore_states(definition, reduce=False)
    assert findings(check_definition(definition)) == findings(whole)


@pytest.mark.skipif(not is_deep(), reason="seconds: the deep profile runs it")
def test_hollands_midden_finds_what_the_search_that_keeps_everything_finds() -> None:
    result = check_definition("hollands-midden")
    whole, _analysis, _states = explore_states("hollands-midden", reduce=False)
    assert findings(result) == findings(whole) == []
    assert result.states < whole.states
