"""The checker lets time pass: a deadline running out is a step it takes, so rules on
overdue deadlines are checked, and never-possible events name the rules behind them."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

from eengezin import load_definition
from eengezin.checker import check_definition, write_report
from eengezin.checker.settings import AT
from eengezin.checker.stepping import Stepper

from conftest import run_trace, write

# Escalating is only allowed once the reaction term ran out, and the escalated state has no
# way out: a dead end that only exists after the deadline passed.
LATE = """\
id: termijn
version: "1"
start_event: begin
tracks:
  fase:
    initial: start
    states:
      start: {}
      wachten: {}
      geescaleerd: {}
      klaar: {final: true}
events:
  begin:
    payload: {}
    transitions: [{track: fase, from: start, to: wachten}]
  escaleren:
    payload: {}
    transitions: [{track: fase, from: wachten, to: geescaleerd}]
  afronden:
    payload: {}
    transitions: [{track: fase, from: wachten, to: klaar}]
{extra}
deadlines:
  - id: termijn.reactie
    start: {on: begin}
    term: {werkdagen: 5}
    satisfied_by: afronden
    message: De reactietermijn is verstreken.
    source: test
rules:
  - id: termijn.pas_na_afloop
    severity: block
    on: escaleren
    require: {deadline_overdue: termijn.reactie}
    message: Escaleren kan pas als de reactietermijn verstreken is.
    source: test
invariants:
  - id: termijn.einde_bereikbaar
    reachable_final: true
    message: Vanuit elke staat blijft het einde bereikbaar.
    source: test
"""


def test_a_dead_end_after_a_deadline_ran_out_is_found(tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path, "termijn.yaml", LATE.replace("{extra}", "")))
    result = check_definition(definition)
    assert [f.kind for f in result.findings] == ["doodlopend"]
    (dead,) = result.findings
    assert dead.trace is not None
    assert [e.name for e in dead.trace] == ["begin", "escaleren"]
    begin, escalate = dead.trace
    assert escalate.at > begin.at + timedelta(days=7)  # five working days, and one more
    end = run_trace(definition, dead.trace)  # the trace replays as it is
    assert end.state["fase"] == "geescaleerd"
    out = io.StringIO()
    write_report(result, out)
    assert f"escaleren [op {escalate.at.date().isoformat()}]" in out.getvalue()


def test_the_same_definition_with_a_way_out_is_sound(tmp_path: Path) -> None:
    extra = """\
  terugzetten:
    payload: {}
    transitions: [{track: fase, from: geescaleerd, to: klaar}]"""
    result = check_definition(write(tmp_path, "termijn.yaml", LATE.replace("{extra}", extra)))
    assert result.findings == ()


def test_time_only_passes_for_deadlines_read_as_overdue(tmp_path: Path) -> None:
    # with the rule reading whether the deadline is open instead, waiting changes nothing
    text = LATE.replace("{extra}", "").replace("deadline_overdue", "deadline_open")
    result = check_definition(write(tmp_path, "termijn.yaml", text))
    dead = [f for f in result.findings if f.kind == "doodlopend"]
    assert dead and dead[0].trace is not None
    assert all(e.at == AT for e in dead[0].trace)


# Two events refused by one rule wherever they are possible, a third by another.
BLOCKED = """\
id: geblokkeerd
version: "1"
start_event: begin
tracks:
  fase:
    initial: a
    states:
      a: {}
      b: {}
      c: {}
      klaar: {final: true}
events:
  begin:
    payload: {}
    when_in: {fase: a}
  naar_klaar:
    payload: {}
    transitions: [{track: fase, from: a, to: klaar}]
  naar_b:
    payload: {}
    transitions: [{track: fase, from: a, to: b}]
  naar_c:
    payload: {}
    transitions: [{track: fase, from: a, to: c}]
  via_b:
    payload: {}
    transitions: [{track: fase, from: b, to: klaar}]
rules:
  - id: geblokkeerd.nooit
    severity: block
    on: [naar_b, naar_c]
    require: {event_seen: via_b}
    message: Eerst via b.
    source: test
"""


def test_never_possible_events_name_the_rule_and_share_one_cause(tmp_path: Path) -> None:
    result = check_definition(write(tmp_path, "blok.yaml", BLOCKED))
    never = {f.subject: f for f in result.findings if f.kind == "nooit_mogelijk"}
    assert set(never) == {"naar_b", "naar_c", "via_b"}
    assert never["naar_b"].causes == never["naar_c"].causes == ("geblokkeerd.nooit",)
    assert "regel geblokkeerd.nooit" in never["naar_b"].message
    # via_b needs fase b, which is never reached
    assert never["via_b"].causes == ("staat:fase",)
    groups = [(causes, [f.subject for f in found]) for causes, found in result.groups()
              if found[0].kind == "nooit_mogelijk"]
    assert (("geblokkeerd.nooit",), ["naar_b", "naar_c"]) in groups
    out = io.StringIO()
    write_report(result, out)
    assert "[nooit_mogelijk] naar_b, naar_c: één oorzaak (geblokkeerd.nooit)" in out.getvalue()


def test_states_after_waiting_rebuild_to_the_same_abstract_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = """\
  terugzetten:
    payload: {}
    transitions: [{track: fase, from: geescaleerd, to: wachten}]"""
    path = write(tmp_path, "termijn.yaml", LATE.replace("{extra}", extra))
    monkeypatch.setattr(Stepper, "verify", True)
    checked = check_definition(path)
    monkeypatch.setattr(Stepper, "verify", False)
    plain = check_definition(path)
    assert checked.findings == plain.findings == ()
    assert (checked.states, checked.transitions) == (plain.states, plain.transitions)
    # waiting is a step: begin, wait, escalate, back, and the term stays overdue
    assert plain.states == 5
