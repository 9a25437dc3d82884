"""Host tests over the definition a region uses."""

from hypothesis import given, settings
from hypothesis.stateful import invariant

from eengezin import load_definition, new_traject, replay, step
from eengezin.testing import histories, traject_state_machine

DEFINITION = load_definition("basis")  # or "hollands-midden", or a path to your YAML


@settings(max_examples=50, deadline=None)
@given(histories(DEFINITION))
def test_history_replays_to_the_same_traject(events):
    traject = new_traject(DEFINITION, "T-1")
    log = []
    for event in events:
        out = step(DEFINITION, traject, event)
        traject = out.traject
        if out.entry is not None:
            log.append(out.entry)
    assert replay(DEFINITION, "T-1", log) == traject


class HostMachine(traject_state_machine(DEFINITION)):
    """The definition's invariants, plus what this host relies on."""

    @invariant()
    def regisseur_has_a_name(self):
        regisseur = self.traject.facts.get("regisseur")
        assert regisseur is None or regisseur.get("naam")

    @invariant()
    def open_signals_are_on_record(self):
        if self.traject.state["veiligheid"] != "geen_signalen":
            assert self.traject.facts.get("signalen")


TestHostMachine = HostMachine.TestCase
TestHostMachine.settings = settings(max_examples=20, stateful_step_count=40, deadline=None)


# ---------------------------------------------------------------- the kit itself
# Everything above is the example of docs/testing.md, verbatim (a test below checks that).

from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import Phase  # noqa: E402
from hypothesis.stateful import run_state_machine_as_test  # noqa: E402

from eengezin import Traject  # noqa: E402
from eengezin.testing import TrajectMachine, accepted_prefix  # noqa: E402

from conftest import examples  # noqa: E402


def test_docs_example_is_this_file() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "testing.md").read_text("utf-8")
    example = doc.split("```python\n")[-1].split("```")[0]
    assert example in Path(__file__).read_text("utf-8")


def test_histories_are_mostly_accepted() -> None:
    verdicts: Counter[bool] = Counter()

    @settings(max_examples=examples(30, deep=300), database=None)
    @given(histories("basis", min_size=10, max_size=25))
    def walk(events) -> None:
        traject = new_traject(DEFINITION, "T")
        for event in events:
            out = step(DEFINITION, traject, event)
            verdicts[out.accepted] += 1
            traject = out.traject

    walk()
    # mostly accepted, and refusals do occur
    assert verdicts[True] > 2 * verdicts[False] > 0


@settings(max_examples=30, deadline=None)
@given(histories("basis", min_size=1, max_size=20, refusals=False))
def test_without_refusals_the_first_event_starts_the_traject(events) -> None:
    assert events[0].name == DEFINITION.start_event
    assert step(DEFINITION, new_traject(DEFINITION, "T"), events[0]).accepted
    assert accepted_prefix(DEFINITION, events).started


def test_histories_reach_deep_into_the_process() -> None:
    # Counts the regie states each history passes through, not only where it ends: a transit
    # state such as vraagverheldering is rarely the last one, and asserting on last states made
    # this test depend on luck. Derandomized by the profile, so every run sees the same histories.
    reached: Counter[str] = Counter()

    @settings(max_examples=examples(30, deep=500), database=None)
    @given(histories("basis", min_size=25, max_size=40, refusals=False))
    def walk(events) -> None:
        traject, passed = new_traject(DEFINITION, "T"), set()
        for event in events:
            traject = step(DEFINITION, traject, event).traject
            passed.add(traject.state["regie"])
        reached.update(passed)
        reached["histories"] += 1

    walk()
    runs = reached.pop("histories")
    assert reached["aanmelding"] == runs  # refusals=False: every history starts the traject
    assert reached["vraagverheldering"] >= runs // 2
    assert reached["startoverleg.overleg"] >= runs // 4
    assert len(reached) >= 5


def test_histories_accept_a_path_and_a_loaded_definition(tmp_path: Path) -> None:
    path = tmp_path / "eigen.yaml"
    path.write_text('id: eigen\nextends: basis\nversion: "1"\n', encoding="utf-8")

    @settings(max_examples=5, deadline=None)
    @given(histories(path, max_size=5), histories(DEFINITION, max_size=5))
    def run(a, b) -> None:
        assert isinstance(a, list) and isinstance(b, list)

    run()
    with pytest.raises(ValueError):
        histories("basis", min_size=3, max_size=1)


def test_state_machine_carries_the_definition_invariants() -> None:
    machine_class = traject_state_machine("basis")
    assert issubclass(machine_class, TrajectMachine)
    names = dir(machine_class)
    assert "invariant_veiligheid_nooit_gesloten_met_signalen" in names
    assert "invariant_veiligheid_nooit_zonder_regie_na_signaal" in names
    assert {f"fire_{e}" for e in DEFINITION.events} <= set(names)


def test_state_machine_invariant_fails_on_a_forbidden_traject() -> None:
    machine = traject_state_machine("basis")()
    bad = Traject(id="X", definition=DEFINITION.ref,
                  state={"regie": "gesloten", "veiligheid": "signalen"},
                  facts={"signalen": {"s1": {"id": "s1"}}})
    machine.traject = bad
    with pytest.raises(AssertionError, match="nooit_gesloten_met_signalen"):
        machine.invariant_veiligheid_nooit_gesloten_met_signalen()
    with pytest.raises(AssertionError):
        machine.state_equals_replay()  # a traject that its (empty) history does not explain


def test_a_host_invariant_that_is_wrong_is_found() -> None:
    class Wrong(traject_state_machine("basis")):
        @invariant()
        def never_vraagverheldering(self) -> None:
            assert self.traject.state["regie"] != "vraagverheldering"

    with pytest.raises(AssertionError):
        run_state_machine_as_test(Wrong, settings=settings(
            max_examples=200, stateful_step_count=10, deadline=None, database=None,
            phases=[Phase.generate]))
