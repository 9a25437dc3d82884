"""Side tracks (``checker/side.py``): a ladder the rest of the process only waits for stays
home in the search, its own events are explored apart, and the check still finds exactly
what a search that keeps every track finds."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eengezin import load_definition
from eengezin.checker import check_definition, parts
from eengezin.checker.analysis import analysis_for
from eengezin.checker.analysis_model import Analysis
from eengezin.checker.parts import explore_states

from conftest import against_the_whole, findings, is_deep, write

# `ladder` leaves `geen` when something is reported in fase b, climbs to `twee`, and comes
# back by `opgelost`, which at `twee` needs the talk first. `klaar_maken` waits for it.
SIDE = """\
id: zijspoor
version: "1"
start_event: begin
tracks:
  fase:
    initial: a
    states:
      a: {{}}
      b: {{}}
      klaar: {{final: true}}
  ladder:
    initial: geen
    states:
      geen: {{}}
      een: {{}}
      twee: {{}}
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
  melden:
    payload: {{}}
    when_in: {{fase: b{entry_home}}}
    transitions: [{{track: ladder, from: geen, to: een}}]
    record:
      - unset: gesprek_gehouden
  opschalen:
    payload: {{}}
    when_in: {{ladder: een}}
    transitions: [{{track: ladder, from: een, to: twee}}]
  gesprek:
    payload: {{}}
    when_in: {{ladder: twee}}
    record:
      - set: {{fact: {talk_fact}, value: true}}
  opgelost:
    payload: {{}}
    when_in: {{ladder: [een, twee]}}
    transitions: [{{track: ladder, from: [een, twee], to: geen}}]
rules:
  - id: zijspoor.gesprek_eerst
    severity: block
    on: opgelost
    if: {{in_state: {{ladder: twee}}}}
    require: {{is_true: facts.gesprek_gehouden}}
    message: Eerst het gesprek.
    next: [gesprek]
    source: test
{close_rule}{read_elsewhere}invariants:
  - id: zijspoor.einde
    reachable_final: true
    message: Het einde blijft bereikbaar.
    source: test
  - id: zijspoor.nooit_klaar_tijdens_ladder
    always:
      not:
        all:
          - in_state: {{fase: klaar}}
          - not: {{in_state: {{ladder: geen}}}}
    message: Nooit klaar terwijl de ladder loopt.
    source: test
"""

CLOSE_RULE = """\
  - id: zijspoor.niet_klaar_tijdens_ladder
    severity: block
    on: klaar_maken
    require: {{in_state: {{ladder: geen}}}}
    message: Eerst de ladder afronden.
    next: [{advice}]
    source: test
"""
READ_ELSEWHERE = """\
  - id: zijspoor.na_gesprek
    severity: block
    on: naar_b
    require: {not: {is_true: facts.gesprek_gehouden}}
    message: Niet na een gesprek.
    source: test
"""


def text(*, trap: bool = False, guarded: bool = True, advice: str = "opgelost",
         entry_home: bool = True, read_elsewhere: bool = False) -> str:
    return SIDE.format(
        entry_home=", ladder: geen" if entry_home else "",
        # a talk that records another fact leaves `opgelost` at `twee` refused forever
        talk_fact="ander_gesprek" if trap else "gesprek_gehouden",
        close_rule=CLOSE_RULE.format(advice=advice) if guarded else "",
        read_elsewhere=READ_ELSEWHERE if read_elsewhere else "")


def home(analysis: Analysis) -> bool:
    """Does the search keep side tracks home?"""
    return bool(analysis.side)


def test_the_bundled_ladders_are_side_tracks() -> None:
    (zl,) = analysis_for(load_definition("zuid-limburg")).side
    assert (zl.track, zl.home) == ("escalatie", "geen")
    assert zl.facts == {"stagnatie_acties", "stagnatie_gesprek_gehouden"}
    assert zl.events - zl.internal == {"stagnatie_melden"}  # the entry reads the betrokkenen
    assert zl.invariants == {"zl.nooit_gesloten_tijdens_stagnatie"}
    (cjg,) = analysis_for(load_definition("cjg")).side
    assert cjg.track == "opschaling"
    for def_id in ("basis", "hollands-midden"):
        assert analysis_for(load_definition(def_id)).side == ()
    assert analysis_for(load_definition("zuid-limburg"), reduce=False).side == ()


def test_a_ladder_that_always_comes_home_is_searched_home(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    definition = load_definition(write(tmp_path, "side.yaml", text()))
    assert [s.track for s in analysis_for(definition).side] == ["ladder"]
    result, whole, kept = against_the_whole(definition, monkeypatch, home)
    assert result.findings == ()
    assert kept == [True] and result.states < whole.states


@pytest.mark.parametrize(("options", "why"), [
    ({"entry_home": False}, "an entry possible away from home"),
    ({"read_elsewhere": True}, "its fact read by another event"),
])
def test_what_is_not_a_side_track(tmp_path: Path, options: dict[str, bool], why: str) -> None:
    definition = load_definition(write(tmp_path, "not.yaml", text(**options)))  # type: ignore[arg-type]
    assert analysis_for(definition).side == (), why


@pytest.mark.parametrize(("options", "kinds"), [
    # stuck at `twee`: the ladder cannot come home, so `klaar` is out of reach there
    ({"trap": True}, {("doodlopend", "zijspoor.einde")}),
    # without the rule, closing with the ladder away breaks the invariant
    ({"guarded": False}, {("invariant", "zijspoor.nooit_klaar_tijdens_ladder")}),
    # the rule names an event that is only possible with the ladder home
    ({"advice": "melden"}, {("advies_onmogelijk", "zijspoor.niet_klaar_tijdens_ladder")}),
])
def test_what_the_ladder_does_away_from_home_is_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, object],
        kinds: set[tuple[str, str]]) -> None:
    definition = load_definition(write(tmp_path, "found.yaml", text(**options)))  # type: ignore[arg-type]
    assert analysis_for(definition).side != ()
    result, _whole, kept = against_the_whole(definition, monkeypatch, home)
    assert {(f.kind, f.subject) for f in result.findings} >= kinds
    # the search with the ladder home was not enough: the one that keeps it decided
    assert kept == [True, False]


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trap=st.booleans(), guarded=st.booleans(), advice=st.sampled_from(["opgelost", "melden"]),
       entry_home=st.booleans(), read_elsewhere=st.booleans())
def test_the_side_track_reduction_drops_no_finding(
        tmp_path: Path, trap: bool, guarded: bool, advice: str, entry_home: bool,
        read_elsewhere: bool) -> None:
    definition = load_definition(write(tmp_path, "any.yaml", text(
        trap=trap, guarded=guarded, advice=advice, entry_home=entry_home,
        read_elsewhere=read_elsewhere)))
    whole, _analysis, _states = explore_states(definition, reduce=False)
    assert findings(check_definition(definition)) == findings(whole)


@pytest.mark.skipif(not is_deep(), reason="seconds: the deep profile runs it")
def test_cjg_finds_what_the_search_that_keeps_every_track_finds() -> None:
    result = check_definition("cjg")
    whole, _analysis, _states = explore_states("cjg", reduce=False)
    assert findings(result) == findings(whole) == []
    assert result.states < whole.states


def test_the_command_line_can_search_without_the_reductions(
        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from eengezin.cli import main

    assert main(["check", "cjg", "--json"]) == 0
    reduced = json.loads(capsys.readouterr().out)
    assert main(["check", "cjg", "--no-reduce", "--json"]) == 0
    whole = json.loads(capsys.readouterr().out)
    # with its opschaling kept home, cjg (basis extended with that ladder, a few rules and
    # fields) has as many states as basis; without, every level lies next to the rest
    assert reduced["states"] == check_definition("basis").states < whole["states"]
    assert reduced["findings"] == whole["findings"] == []


def test_progress_counts_on_when_the_check_searches_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    definition = load_definition(write(tmp_path, "trap.yaml", text(trap=True)))
    reported: list[int] = []
    passed: list[object] = []
    search = parts._search

    def spy(definition, analysis, max_states, jobs, progress, *rest):  # type: ignore[no-untyped-def]
        passed.append(progress)
        found = search(definition, analysis, max_states, jobs, progress, *rest)
        if progress is not None:
            progress(1)  # as a search reports its first states
        return found

    monkeypatch.setattr(parts, "_search", spy)
    check_definition(definition, progress=reported.append)
    assert len(passed) == 2  # the ladder cannot come home: searched again
    first = explore_states(definition)[0].states
    assert reported == [1, first + 1]  # the second search counts on from the first
