"""Obligations (``checker/obligations.py``): what must still be done before a signal may be
lifted (the meldcode's open afweging and melding) stays empty in the search, and the check
still finds exactly what a search that keeps every fact finds."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eengezin import load_definition
from eengezin.checker import check_definition
from eengezin.checker.analysis import analysis_for
from eengezin.checker.analysis_model import Analysis
from eengezin.checker.parts import explore_states

from conftest import against_the_whole, findings, is_deep, write

# A signal of the kind `zwaar` leaves an afweging open (`open`); `afwegen` takes it out
# again, and `opheffen` waits for that. `klaar_maken` waits until no signal is open.
OBLIGATIONS = """\
id: plichten
version: "1"
start_event: begin
tracks:
  fase:
    initial: a
    states:
      a: {{}}
      b: {{}}
      klaar: {{final: true}}
  veilig:
    initial: geen
    states:
      geen: {{}}
      open: {{}}
events:
  begin:
    payload: {{}}
    when_in: {{fase: a}}
  naar_b:
    payload: {{}}
    when_in: {{fase: a}}
    transitions: [{{track: fase, from: a, to: b}}]
  klaar_maken:
    payload: {{}}
    transitions: [{{track: fase, from: b, to: klaar}}]
  melden:
    payload:
      id: text
      soort: {{enum: [zwaar, licht]}}
    when_in: {{fase: [a, b]}}
    transitions: [{{track: veilig, from: geen, to: open}}]
    record:
      - put: {{fact: signalen, key: data.id, from: data}}
      - put: {{fact: open, key: data.id, value: true}}
{entry_if}  afwegen:
    payload:
      signaal: text
      toelichting: text
    when_in: {{fase: [a, b], veilig: open}}
    record:
      - remove: {{fact: {cleared}, key: data.signaal}}
  opheffen:
    payload:
      id: text
    when_in: {{fase: [a, b], veilig: open}}
    record:
      - remove: {{fact: signalen, key: data.id}}
      - remove: {{fact: open, key: data.id}}
    transitions:
      - track: veilig
        from: open
        to: geen
        when: {{count: {{path: facts.signalen, max: 0}}}}
rules:
  - id: plichten.signaal_bekend
    severity: block
    on: [afwegen, opheffen]
    require:
      any:
        - contains: {{path: facts.signalen, other: data.signaal}}
        - contains: {{path: facts.signalen, other: data.id}}
    message: Onbekend signaal.
    source: test
  - id: plichten.eerst_afwegen
    severity: block
    on: opheffen
    require:
      not: {{contains: {{path: facts.open, other: data.id}}}}
    message: Eerst de afweging.
    next: [{advice}]
    source: test
  - id: plichten.niet_klaar_met_signalen
    severity: block
    on: klaar_maken
    require: {{in_state: {{veilig: geen}}}}
    message: Eerst de signalen opheffen.
    next: [opheffen]
    source: test
{read_elsewhere}invariants:
  - id: plichten.einde
    reachable_final: true
    message: Het einde blijft bereikbaar.
    source: test
"""

ENTRY_IF = """\
        if: {equals: {path: data.soort, value: zwaar}}
"""
READ_ELSEWHERE = """\
  - id: plichten.open_leeg
    severity: block
    on: naar_b
    require: {count: {path: facts.open, max: 0}}
    message: Niet met een open afweging.
    source: test
"""


def text(*, twin: bool = True, trap: bool = False, advice: str = "afwegen",
         read_elsewhere: bool = False) -> str:
    return OBLIGATIONS.format(
        # without the `if`, every signal leaves an afweging open: no twin at home
        entry_if=ENTRY_IF if twin else "",
        # an afweging that takes out another fact never meets the obligation
        cleared="ander" if trap else "open",
        advice=advice,
        read_elsewhere=READ_ELSEWHERE if read_elsewhere else "")


def empty(analysis: Analysis) -> bool:
    """Does the search keep obligations empty?"""
    return analysis.obligations is not None


def test_the_meldcode_steps_are_obligations_in_every_bundled_definition() -> None:
    for def_id in ("basis", "cjg", "hollands-midden", "zuid-limburg"):
        found = analysis_for(load_definition(def_id)).obligations
        assert found is not None, def_id
        assert found.facts == {"afweging_open", "melding_open"}
        assert found.events == {"signaal_opheffen"}
        assert found.rules == {"meldcode.afweging_voor_opheffen", "meldcode.melden"}
        assert set(found.clearers) == {"afweging_vastleggen", "melding_veilig_thuis"}
    assert analysis_for(load_definition("basis"), reduce=False).obligations is None


def test_obligations_that_can_always_be_met_stay_empty(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    definition = load_definition(write(tmp_path, "ok.yaml", text()))
    found = analysis_for(definition).obligations
    assert found is not None
    assert (found.facts, found.events, found.clearers) == ({"open"}, {"opheffen"}, ("afwegen",))
    result, whole, kept = against_the_whole(definition, monkeypatch, empty)
    assert result.findings == ()
    assert kept == [True] and result.states < whole.states


@pytest.mark.parametrize(("options", "why"), [
    ({"read_elsewhere": True}, "counted by another rule, not looked up by a key"),
])
def test_what_is_not_an_obligation(tmp_path: Path, options: dict[str, bool], why: str) -> None:
    definition = load_definition(write(tmp_path, "not.yaml", text(**options)))  # type: ignore[arg-type]
    assert analysis_for(definition).obligations is None, why


@pytest.mark.parametrize(("options", "kinds"), [
    # every signal leaves an afweging open: a search that keeps it empty is no real process
    ({"twin": False}, set()),
    # the afweging takes out the wrong fact: a signal of the kind `zwaar` can never be lifted
    ({"trap": True}, {("doodlopend", "plichten.einde")}),
    # the rule names an event that is not possible in fase b, where it blocks
    ({"advice": "naar_b"}, {("advies_onmogelijk", "plichten.eerst_afwegen")}),
])
def test_what_open_obligations_do_is_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, object],
        kinds: set[tuple[str, str]]) -> None:
    definition = load_definition(write(tmp_path, "found.yaml", text(**options)))  # type: ignore[arg-type]
    assert analysis_for(definition).obligations is not None
    result, _whole, kept = against_the_whole(definition, monkeypatch, empty)
    assert {(f.kind, f.subject) for f in result.findings} >= kinds
    # the search with the obligations empty was not enough: the one that keeps them decided
    assert kept == [True, False]


@settings(max_examples=24, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(twin=st.booleans(), trap=st.booleans(),
       advice=st.sampled_from(["afwegen", "naar_b", "melden"]), read_elsewhere=st.booleans())
def test_the_obligation_reduction_drops_no_finding(
        tmp_path: Path, twin: bool, trap: bool, advice: str, read_elsewhere: bool) -> None:
    definition = load_definition(write(tmp_path, "any.yaml", text(
        twin=twin, trap=trap, advice=advice, read_elsewhere=read_elsewhere)))
    whole, _analysis, _states = explore_states(definition, reduce=False)
    assert findings(check_definition(definition)) == findings(whole)


@pytest.mark.skipif(not is_deep(), reason="seconds: the deep profile runs it")
def test_hollands_midden_finds_what_the_search_that_keeps_every_fact_finds() -> None:
    result = check_definition("hollands-midden")
    whole, _analysis, _states = explore_states("hollands-midden", reduce=False)
    assert findings(result) == findings(whole) == []
    assert result.states * 5 < whole.states
