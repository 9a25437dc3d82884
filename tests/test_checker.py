"""The model checker: bundled definitions are sound, broken ones are caught with a trace."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from eengezin import Event, bundled_ids, load_definition
from eengezin.checker import CheckResult, Finding, check_definition
from eengezin.cli import main
from eengezin.cli.check import check_command, cpus
from eengezin.process.model import Definition
from eengezin.rules.context import Context
from eengezin.traject import Actor, Traject

from conftest import is_deep, run_trace, write


def holds(definition: Definition, invariant_id: str, traject: Traject) -> bool:
    (inv,) = [i for i in definition.invariants if i.id == invariant_id]
    ctx = Context(data={}, facts=traject.facts, state=traject.state, event="",
                  at=traject.last_at,  # type: ignore[arg-type]
                  params=definition.params, seen=traject.seen, deadlines=traject.deadlines)
    return inv.condition(ctx)


def of_kind(result: CheckResult, kind: str) -> list[Finding]:
    return [f for f in result.findings if f.kind == kind]


# ------------------------------------------------------------------ bundled definitions


# Zuid-Limburg with section 7 of PROCESS.md (meldcode per signal, consent by age, gezag and
# representatives, consent on every sharing) has about 28,000 abstract states in 10 parts
# (one per household the start records) once consent that only sharing reads is left out,
# the stagnation ladder is searched apart and the meldcode's open steps stay empty (5.1
# million without): checked whole in about five seconds of CPU with no findings. The deep
# profile also checks it without the reductions, to compare (CI runs both). What multiplies
# the space: docs/testing.md.
@pytest.mark.parametrize("def_id", sorted(bundled_ids()))
def test_bundled_definitions_are_sound(def_id: str) -> None:
    result = check_definition(def_id)
    assert result.findings == ()
    assert result.sound
    # every leaf of every track is reached, so the exploration is more than the start state
    leaves = sum(len(t.leaves) for t in load_definition(def_id).tracks.values())
    assert result.states >= leaves


@pytest.mark.skipif(not is_deep(), reason="minutes of CPU: the deep profile checks it whole")
def test_zuid_limburg_without_the_reductions_finds_the_same() -> None:
    # observed facts left out, the ladder searched apart, obligations empty: the same
    # findings, more than 100 times fewer states
    reduced = check_definition("zuid-limburg", jobs=cpus())
    whole = check_definition("zuid-limburg", jobs=cpus(), reduce=False)
    assert reduced.findings == whole.findings == ()
    assert whole.states > 5_000_000 and whole.states > 100 * reduced.states


def test_cli_check_prints_states_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "basis"]) == 0
    out = capsys.readouterr().out
    assert "abstracte toestanden verkend" in out
    assert "geen bevindingen" in out


# ------------------------------------------------------------------ invariant violation

NO_SAFETY_RULE = """\
id: zonder-veiligheidsregel
extends: basis
version: "1"
remove:
  rules: [veiligheid.niet_afsluiten_bij_signalen]
"""


def test_removed_safety_rule_violates_invariant_with_shortest_trace(tmp_path: Path) -> None:
    path = write(tmp_path, "kapot.yaml", NO_SAFETY_RULE)
    definition = load_definition(path)
    result = check_definition(definition)
    (finding,) = [f for f in of_kind(result, "invariant")
                  if f.subject == "veiligheid.nooit_gesloten_met_signalen"]
    assert finding.trace is not None
    assert finding.trace[0].name == "aanmelden"
    assert finding.trace[-1].name == "afsluiten"
    end = run_trace(definition, finding.trace)
    assert end.state["regie"] == "gesloten"
    assert end.state["veiligheid"] != "geen_signalen"
    assert not holds(definition, finding.subject, end)
    # shortest: no proper prefix of the trace violates the invariant already
    for i in range(1, len(finding.trace)):
        assert holds(definition, finding.subject, run_trace(definition, finding.trace[:i]))
    # and it cannot be shorter than the phases it has to pass through:
    # aanmelden, (signal), vraag_verhelderen, regie_starten, overleg_voorbereid, …, afsluiten
    assert len(finding.trace) <= 16


def test_cli_exit_1_with_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "kapot.yaml", NO_SAFETY_RULE)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "[invariant] veiligheid.nooit_gesloten_met_signalen" in out
    assert "kortste spoor" in out
    assert "afsluiten" in out.split("kortste spoor")[1]


def test_removed_regie_rule_violates_the_zonder_regie_invariant(tmp_path: Path) -> None:
    path = write(tmp_path, "kapot.yaml", """\
id: altijd-mogen-stoppen
extends: basis
version: "1"
remove:
  rules: [veiligheid.altijd_regie_bij_onveiligheid]
""")
    definition = load_definition(path)
    result = check_definition(definition)
    (finding,) = [f for f in of_kind(result, "invariant")
                  if f.subject == "veiligheid.nooit_zonder_regie_na_signaal"]
    assert finding.trace is not None
    end = run_trace(definition, finding.trace)
    assert end.state["regie"] == "zonder_regie"
    assert end.facts.get("signaal_ooit") is True


# ------------------------------------------------------------------ standalone definitions

# A small process: a -> b -> klaar, with a trap state `vast` (no way out), a state
# `nergens` no event leads to, and an event that a rule always refuses.
SMALL = """\
id: klein
version: "1"
start_event: begin
tracks:
  fase:
    initial: a
    states:
      a: {}
      b: {}
      vast: {}
      nergens: {}
      klaar: {final: true}
events:
  begin:
    payload: {}
    when_in: {fase: a}
  naar_b:
    payload: {}
    transitions: [{track: fase, from: a, to: b}]
  klaar_maken:
    payload: {}
    transitions: [{track: fase, from: b, to: klaar}]
{extra}
invariants:
  - id: klein.einde_bereikbaar
    reachable_final: true
    message: Vanuit elke staat blijft het einde bereikbaar.
    source: test
"""


def small(tmp_path: Path, extra: str) -> Path:
    return write(tmp_path, "klein.yaml", SMALL.replace("{extra}", extra))


def test_sound_small_definition(tmp_path: Path) -> None:
    result = check_definition(small(tmp_path, "").as_posix())
    # `vast` and `nergens` are declared but nothing leads there
    assert {f.subject for f in of_kind(result, "onbereikbaar")} == {"fase.vast", "fase.nergens"}
    assert of_kind(result, "doodlopend") == []
    assert of_kind(result, "nooit_mogelijk") == []


def test_dead_end_is_found_with_the_shortest_trace(tmp_path: Path) -> None:
    path = small(tmp_path, """\
  vastlopen:
    payload: {}
    transitions:
      - {track: fase, from: [a, b], to: vast}
""")
    definition = load_definition(path)
    result = check_definition(definition)
    dead = of_kind(result, "doodlopend")
    assert dead, result.findings
    assert dead[0].subject == "klein.einde_bereikbaar"  # named after the reachable_final invariant
    assert dead[0].trace is not None
    # a -> vast directly is shorter than a -> b -> vast
    assert [e.name for e in dead[0].trace] == ["begin", "vastlopen"]
    assert run_trace(definition, dead[0].trace).state["fase"] == "vast"
    assert check_command(str(path), io.StringIO()) == 1


def test_unreachable_state_is_reported(tmp_path: Path) -> None:
    result = check_definition(small(tmp_path, ""))
    unreachable = {f.subject for f in of_kind(result, "onbereikbaar")}
    assert "fase.nergens" in unreachable
    assert "fase.b" not in unreachable and "fase.klaar" not in unreachable


def test_never_firing_event_is_reported(tmp_path: Path) -> None:
    path = small(tmp_path, """\
  overslaan:
    payload: {}
    transitions: [{track: fase, from: a, to: klaar}]
rules:
  - id: klein.nooit
    severity: block
    on: overslaan
    require: {in_state: {fase: b}}
    message: Kan alleen vanuit b, maar het event kan alleen vanuit a.
    source: test
""")
    result = check_definition(path)
    assert [f.subject for f in of_kind(result, "nooit_mogelijk")] == ["overslaan"]


def test_warning_rules_never_stop_an_event(tmp_path: Path) -> None:
    path = small(tmp_path, """\
rules:
  - id: klein.herinnering
    severity: warn
    on: naar_b
    require: {in_state: {fase: b}}
    message: Alleen een herinnering.
    source: test
""")
    result = check_definition(path)
    assert of_kind(result, "nooit_mogelijk") == []


def test_payload_dependent_event_fires_with_the_right_payload(tmp_path: Path) -> None:
    # `b` can only be left with an explicit yes; the checker must find that payload
    path = small(tmp_path, """\
  besluiten:
    payload:
      akkoord: boolean
      reden?: string
    transitions: [{track: fase, from: b, to: klaar}]
rules:
  - id: klein.akkoord
    severity: block
    on: besluiten
    require: {is_true: data.akkoord}
    message: Alleen met akkoord.
    source: test
""")
    result = check_definition(path)
    assert of_kind(result, "nooit_mogelijk") == []


def test_unusable_definition_exits_2_with_positions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "stuk.yaml", "id: stuk\nversion: '1'\ntracks:\n  fase: [1, 2\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path.resolve()}:" in err or f"{path}:" in err
    assert err.count(":") >= 3  # file:line:col: message
    stream = io.StringIO()
    assert check_command(str(path), stream, stream) == 2
    assert "YAML" in stream.getvalue()


def test_state_budget_stops_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    result = check_definition("basis", max_states=20)
    assert [f.kind for f in result.findings] == ["onvolledig"]
    assert result.states == 20
    assert main(["check", "basis", "--max-states", "20"]) == 1
    assert "[onvolledig]" in capsys.readouterr().out


def test_cli_check_json_gives_findings_with_replayable_traces(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "kapot.yaml", NO_SAFETY_RULE)
    assert main(["check", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["definition"] == {"id": "zonder-veiligheidsregel", "version": "1"}
    assert data["sound"] is False and data["states"] > 100
    (finding,) = [f for f in data["findings"] if f["kind"] == "invariant"]
    assert finding["subject"] == "veiligheid.nooit_gesloten_met_signalen"
    definition = load_definition(path)
    trace = tuple(
        Event(e["event"], datetime.fromisoformat(e["at"]), e["data"],
              None if e["actor"] is None else Actor(e["actor"]["id"], e["actor"]["role"]))
        for e in finding["trace"])
    end = run_trace(definition, trace)
    assert not holds(definition, finding["subject"], end)
    assert main(["check", "basis", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_a_json_trace_replays_with_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "kapot.yaml", NO_SAFETY_RULE)
    main(["check", str(path), "--json"])
    (finding,) = [f for f in json.loads(capsys.readouterr().out)["findings"]
                  if f["kind"] == "invariant"]
    scenario = tmp_path / "spoor.jsonl"
    scenario.write_text("".join(json.dumps(e) + "\n" for e in finding["trace"]), encoding="utf-8")
    assert main(["run", str(path), "--events", str(scenario), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert all(s["accepted"] for s in result["steps"])
    # closed with a signal still open (since PROCESS.md 7.2 the shortest way there has a
    # safety plan in force)
    last = result["steps"][-1]["state"]
    assert last["regie"] == "gesloten" and last["veiligheid"] != "geen_signalen"
