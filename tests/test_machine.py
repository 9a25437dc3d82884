"""The definition laid out on transitions: names, separator, sharing, entry chains for the
compiler, and the reference decisions of the testing kit."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import attrs
import pytest
from transitions.extensions.nesting import HierarchicalMachine

from eengezin import DefinitionError, Event, Traject, load_definition, new_traject, step
from eengezin.process.model import Definition
from eengezin.process.statechart import (
    ROOT,
    SEPARATOR,
    MachineBuildError,
    Statechart,
    entry_chains,
    full_name,
)
from eengezin.testing.reference import ReferenceOutcome, reference_next_state, statechart_for

AT = datetime(2026, 3, 2, 9)
SIGNAAL = {"id": "s1", "soort": "vermoeden", "omschrijving": "ruzie", "wie": "buurvrouw"}


AANMELDEN = {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]}, "vraag": "hulp"}


@pytest.fixture(scope="module")
def basis():
    return load_definition("basis")


def _started(definition: Definition, state: dict[str, str], facts: dict | None = None) -> Traject:
    """A started traject in ``state`` with ``facts``."""
    traject = step(definition, new_traject(definition, "T"), Event("aanmelden", AT, AANMELDEN)).traject
    return attrs.evolve(traject, state=state, facts=facts or {})


def decide(definition: Definition, state: dict[str, str], event: Event,
           facts: dict | None = None) -> ReferenceOutcome:
    return reference_next_state(definition, _started(definition, state, facts), event)


def test_default_separator_splits_underscored_names():
    """Why we do not use transitions' default: ``geen_signalen`` turns into two states."""
    m = HierarchicalMachine(
        states=[{"name": "veiligheid", "children": ["geen_signalen", "signalen"],
                 "initial": "geen_signalen"}],
        initial="veiligheid", auto_transitions=False)
    assert "veiligheid_geen" in m.get_nested_state_names()


def test_every_state_keeps_its_name(basis):
    names = set(statechart_for(basis).state_names())
    expected = {ROOT} | {full_name(t.id, p) for t in basis.tracks.values() for p in t.nodes}
    expected |= {f"{ROOT}{SEPARATOR}{t}" for t in basis.tracks}
    assert names == expected
    assert full_name("veiligheid", "geen_signalen") in names
    assert not any(n.endswith(".geen") for n in names)


def test_separator_cannot_occur_in_a_state_name(tmp_path: Path):
    path = tmp_path / "punt.yaml"
    path.write_text(
        "id: punt\nversion: '1'\ntracks:\n  regie:\n    initial: open\n    states:\n"
        "      open: {}\n      'a.b': {final: true}\nevents:\n  aanmelden:\n"
        "    when_in: {regie: open}\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    assert any("punt" in p.message for p in info.value.problems)


def test_a_track_id_with_the_separator_is_refused(basis):
    tracks = {("re" + SEPARATOR + "gie" if k == "regie" else k): v
              for k, v in basis.tracks.items()}
    with pytest.raises(MachineBuildError):
        Statechart(attrs.evolve(basis, tracks=tracks), guard=lambda check: check,
                   allowed=lambda data: True, entered=lambda track, path: None)


def test_one_statechart_per_definition_with_one_scratch_model(basis):
    chart = statechart_for(basis)
    assert statechart_for(basis) is chart
    traject = new_traject(basis, "T")
    for _ in range(20):
        reference_next_state(basis, traject, Event("aanmelden", AT, {}))
    assert len(chart.machine.models) == 1
    other = load_definition(Path(basis.source))
    assert statechart_for(other) is not chart


def test_entry_chains_descend_through_the_initial_child(basis):
    regie = basis.tracks["regie"]
    initials = {"startoverleg": "startoverleg.voorbereiding",
                "voortgangsoverleg": "voortgangsoverleg.voorbereiding"}
    chains = entry_chains(regie.nodes, initials)
    assert chains["startoverleg"] == ("startoverleg", "startoverleg.voorbereiding")
    assert chains["startoverleg.overleg"] == ("startoverleg", "startoverleg.overleg")
    assert chains["afronding"] == ("afronding",)
    # another initial child: transitions settles there, and the compiler would follow
    other = entry_chains(regie.nodes, {**initials, "startoverleg": "startoverleg.overleg"})
    assert other["startoverleg"] == ("startoverleg", "startoverleg.overleg")
    assert {p: chains[p][-1] for p in regie.nodes} == {
        p: n.initial_leaf for p, n in regie.nodes.items()}


def test_tracks_are_parallel_regions(basis):
    start = {"regie": "aanmelding", "veiligheid": "geen_signalen"}
    out = decide(basis, start, Event("signaal_melden", AT, SIGNAAL))
    assert out.accepted
    assert out.state == {"regie": "aanmelding", "veiligheid": "signalen"}
    assert out.facts["signalen"] == {"s1": SIGNAAL}


def test_compound_target_enters_its_initial_child(basis):
    out = decide(basis, {"regie": "vraagverheldering", "veiligheid": "geen_signalen"},
                               Event("regie_starten", AT))
    assert out.state["regie"] == "startoverleg.voorbereiding"
    assert set(out.entered) == {"regie:startoverleg", "regie:startoverleg.voorbereiding"}


def test_effect_moves_the_other_track_back(basis):
    out = decide(basis, {"regie": "afronding", "veiligheid": "geen_signalen"},
                               Event("signaal_melden", AT, SIGNAAL))
    assert out.state == {"regie": "voortgangsoverleg.voorbereiding", "veiligheid": "signalen"}


def test_on_enter_records_run_on_entering_the_compound_state(basis):
    facts = {"overleg_toestemming": True, "plan_geevalueerd": True}
    out = decide(basis, {"regie": "voortgang", "veiligheid": "geen_signalen"},
                               Event("voortgangsoverleg_plannen", AT), facts)
    assert "overleg_toestemming" not in out.facts and "plan_geevalueerd" not in out.facts


def test_guard_on_transition_reads_facts_after_records(basis):
    state = {"regie": "voortgang", "veiligheid": "signalen"}
    two = {"signalen": {"s1": SIGNAAL, "s2": {**SIGNAAL, "id": "s2"}}}
    one_left = decide(basis, state, Event("signaal_opheffen", AT,
                                    {"id": "s1", "onderbouwing": "opgelost"}), two)
    assert one_left.accepted and one_left.state["veiligheid"] == "signalen"
    none_left = decide(basis, state, Event("signaal_opheffen", AT,
                                     {"id": "s2", "onderbouwing": "opgelost"}), one_left.facts)
    assert none_left.state["veiligheid"] == "geen_signalen"


def test_refused_event_moves_nothing(basis):
    state = {"regie": "afronding", "veiligheid": "signalen"}
    facts = {"signalen": {"s1": SIGNAAL}}
    out = decide(basis, state, Event("afsluiten", AT, {}), facts)
    assert not out.accepted
    assert "veiligheid.niet_afsluiten_bij_signalen" in out.verdict.rule_ids
    assert out.state == state and out.facts == facts


def test_unavailable_event_is_refused_by_the_machine(basis):
    out = decide(basis, {"regie": "aanmelding", "veiligheid": "geen_signalen"},
                               Event("afronden", AT))
    assert not out.accepted
    assert [v.rule for v in out.verdict.blocking] == ["event.niet_mogelijk"]


def test_reference_agrees_with_step_on_a_start(basis):
    traject = new_traject(basis, "T")
    data = {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]}, "vraag": "hulp"}
    fast = step(basis, traject, Event("aanmelden", AT, data))
    ref = reference_next_state(basis, traject, Event("aanmelden", AT, data))
    assert fast.accepted and ref.accepted
    assert dict(fast.traject.state) == ref.state and dict(fast.traject.facts) == ref.facts


def test_the_compiler_takes_initial_leaves_from_the_statechart(tmp_path: Path, monkeypatch):
    """The compiled targets follow what ``entry_chains`` (transitions) answers: told that
    entering ``startoverleg`` settles in its ``overleg``, the compiled definition goes there."""
    from eengezin.definition import compiler

    real = compiler.entry_chains

    def other_child(nodes, initials):
        chains = real(nodes, initials)
        if "startoverleg" in chains:
            chains["startoverleg"] = ("startoverleg", "startoverleg.overleg")
        return chains

    monkeypatch.setattr(compiler, "entry_chains", other_child)
    source = Path(load_definition("basis").source).read_text(encoding="utf-8")
    path = tmp_path / "basis.yaml"
    path.write_text(source + "\n# a copy, compiled afresh\n", encoding="utf-8")
    changed = load_definition(path)
    regie_starten = changed.events["regie_starten"].transitions[0]
    assert regie_starten.to == "startoverleg"
    assert regie_starten.target == "startoverleg.overleg"
    assert load_definition("basis").events["regie_starten"].transitions[0].target == (
        "startoverleg.voorbereiding")
