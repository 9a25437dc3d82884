"""``eengezin check`` finding ``advies_onmogelijk``: a rule names a way forward (``next``) that
cannot be taken where the rule blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from eengezin import load_definition
from eengezin.checker import check_definition
from eengezin.checker.stepping import Stepper

from conftest import run_trace, write

SMALL = """\
id: advies
version: "1"
tracks:
  fase:
    initial: open
    states:
      open: {}
      controle: {}
      dicht: {final: true}
events:
  aanmelden:
    payload: {}
    when_in: {fase: open}
  naar_controle:
    payload: {}
    transitions: [{track: fase, from: open, to: controle}]
  terug:
    payload: {}
    transitions: [{track: fase, from: controle, to: open}]
  goedkeuren:
    payload: {}
    when_in: {fase: open}
    record: [{set: {fact: goedgekeurd, value: true}}]
  sluiten:
    payload: {}
    transitions: [{track: fase, from: controle, to: dicht}]
rules:
  - id: advies.goedgekeurd
    severity: block
    on: sluiten
    require: {is_true: facts.goedgekeurd}
    message: Keur eerst goed.
    next: [NEXT]
    source: test
"""


def test_a_next_event_that_cannot_be_taken_where_the_rule_blocks_is_found(tmp_path: Path):
    path = write(tmp_path, "advies.yaml", SMALL.replace("NEXT", "goedkeuren"))
    result = check_definition(path)
    found = [f for f in result.findings if f.kind == "advies_onmogelijk"]
    assert len(found) == 1
    finding = found[0]
    assert finding.subject == "advies.goedgekeurd" and "goedkeuren" in finding.message
    # the trace replays to a state where the rule blocks and the advice is impossible
    traject = run_trace(load_definition(path), finding.trace or ())
    assert traject.state["fase"] == "controle" and not traject.facts.get("goedgekeurd")


def test_a_next_event_that_can_be_taken_is_no_finding(tmp_path: Path):
    path = write(tmp_path, "advies.yaml", SMALL.replace("NEXT", "terug"))
    assert [f for f in check_definition(path).findings if f.kind == "advies_onmogelijk"] == []


def test_bundled_basis_has_no_impossible_advice():
    assert [f for f in check_definition("basis").findings if f.kind == "advies_onmogelijk"] == []


def test_the_dead_end_of_issue_10_is_found(tmp_path: Path):
    """"Evalueer het plan" while evaluating is not possible in fase 6: the advice is found."""
    path = write(tmp_path, "regio.yaml", """\
id: regio
version: "1"
extends: basis
rules:
  - id: veiligheid.niet_afsluiten_bij_signalen
    severity: block
    on: afsluiten
    require: {in_state: {veiligheid: geen_signalen}}
    message: Er staan nog signalen open; evalueer het veiligheidsplan.
    next: [veiligheidsplan_evalueren]
    source: 002 fase 6 toelichting
""")
    found = [f for f in check_definition(path).findings if f.kind == "advies_onmogelijk"]
    assert [(f.subject, "veiligheidsplan_evalueren" in f.message) for f in found] == [
        ("veiligheid.niet_afsluiten_bij_signalen", True)]
    traject = run_trace(load_definition(path), found[0].trace or ())
    assert traject.state["regie"] == "afronding" and traject.state["veiligheid"] != "geen_signalen"


# SMALL with a fact `extern` that only the conditions of the rule's `next` events read
CONDITIONAL = SMALL.replace("""  naar_controle:""", """  extern:
    payload: {}
    when_in: {fase: open}
    record: [{set: {fact: extern, value: true}}]
  naar_controle:""").replace("""    next: [NEXT]""", """    next:
      - {event: terug, if: {not: {is_true: facts.extern}}}
      - {event: goedkeuren, if: {is_true: facts.extern}}""")


def test_a_fact_only_a_conditional_next_reads_is_kept_apart(tmp_path: Path) -> None:
    """`extern` is read only by the condition of a `next` event: with it the advice names
    `goedkeuren`, which is impossible in `controle`. A state that folded `extern` away (or
    an evaluation shared between states that differ in it) would only see the first state
    reached, where the advice is `terug`, and miss the finding."""
    result = check_definition(write(tmp_path, "advies.yaml", CONDITIONAL))
    (finding,) = [f for f in result.findings if f.kind == "advies_onmogelijk"]
    assert "goedkeuren" in finding.message
    traject = run_trace(load_definition(tmp_path / "advies.yaml"), finding.trace or ())
    assert traject.facts.get("extern") is True and traject.state["fase"] == "controle"


@pytest.mark.parametrize("text", [SMALL.replace("NEXT", "goedkeuren"), CONDITIONAL])
def test_advice_shared_per_footprint_equals_advice_per_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = write(tmp_path, "advies.yaml", text)
    shared = check_definition(path)
    monkeypatch.setattr(Stepper, "footprint", lambda *args, **kwargs: None)
    alone = check_definition(path)
    assert [(f.kind, f.subject, f.message, f.trace) for f in shared.findings] == [
        (f.kind, f.subject, f.message, f.trace) for f in alone.findings]
    assert shared.findings
