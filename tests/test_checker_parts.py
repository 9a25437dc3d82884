"""The check in parts (one per outcome of the start event) finds what one search over the
whole space finds, one after another or in parallel, within one budget."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from eengezin import load_definition
from eengezin.checker import CheckResult, check_definition, parts
from eengezin.checker.budget import Budget
from eengezin.checker.parts import explore_states
from eengezin.cli import main

from conftest import is_deep, run_trace, write

# Three kinds of household at the start, each its own part: only in part `vast` does
# `vastlopen` lead into a trap, only part `zeldzaam` accepts `zeldzaam_iets` and breaks an
# invariant, and part `plat` has neither.
PARTED = """\
id: delen
version: "1"
start_event: begin
tracks:
  fase:
    initial: a
    states:
      a: {}
      b: {}
      vast: {}
      klaar: {final: true}
events:
  begin:
    payload: {soort: {enum: [plat, vast, zeldzaam]}}
    when_in: {fase: a}
    record:
      - set: {fact: soort, from: data.soort}
  naar_b:
    payload: {}
    transitions: [{track: fase, from: a, to: b}]
  klaar_maken:
    payload: {}
    transitions: [{track: fase, from: b, to: klaar}]
  vastlopen:
    payload: {}
    transitions: [{track: fase, from: b, to: vast}]
  zeldzaam_iets:
    payload: {}
    when_in: {fase: b}
    record:
      - set: {fact: gezien, value: true}
rules:
  - id: delen.alleen_vast
    severity: block
    on: vastlopen
    require: {equals: {path: facts.soort, value: vast}}
    message: Alleen bij soort vast.
    source: test
  - id: delen.alleen_zeldzaam
    severity: block
    on: zeldzaam_iets
    require: {equals: {path: facts.soort, value: zeldzaam}}
    message: Alleen bij soort zeldzaam.
    source: test
invariants:
  - id: delen.einde
    reachable_final: true
    message: Het einde blijft bereikbaar.
    source: test
  - id: delen.nooit_gezien
    always: {not: {is_true: facts.gezien}}
    message: Nooit gezien.
    source: test
"""


def summary(result: CheckResult) -> list[tuple[str, str, int | None]]:
    return sorted((f.kind, f.subject, None if f.trace is None else len(f.trace))
                  for f in result.findings)


def test_the_parts_together_find_what_one_search_finds(tmp_path: Path) -> None:
    path = write(tmp_path, "delen.yaml", PARTED)
    definition = load_definition(path)
    whole, _analysis, _states = explore_states(definition)
    parted = check_definition(definition)
    assert summary(parted) == summary(whole)
    kinds = {(f.kind, f.subject) for f in parted.findings}
    # the trap of one part, the invariant of another; the event only one part accepts is
    # not reported as never accepted, and neither is the new traject a dead end
    assert ("doodlopend", "delen.einde") in kinds
    assert ("invariant", "delen.nooit_gezien") in kinds
    assert not [f for f in parted.findings if f.kind == "nooit_mogelijk"]
    (dead,) = [f for f in parted.findings if f.kind == "doodlopend"]
    assert dead.trace is not None
    assert [e.name for e in dead.trace] == ["begin", "naar_b", "vastlopen"]
    assert run_trace(definition, dead.trace).state["fase"] == "vast"
    # once `soort` can no longer be read it is masked, so the whole space has one `klaar`
    # state; the three parts reach it each and count it each
    assert parted.states == whole.states + 2


def test_one_part_can_be_explored_alone(tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path, "delen.yaml", PARTED))
    alone = [explore_states(definition, part=k) for k in range(3)]
    # the new traject is every part's; its outcomes of the start event are one per part
    assert 1 + sum(result.states - 1 for result, _a, _s in alone) == (
        check_definition(definition).states)
    (_result, analysis, states), *_rest = alone
    soort = [name for name, _sub in analysis.fact_items].index("soort")
    started = [state for state in states if state.started and state.facts[soort] >= 0]
    assert len({analysis.values[soort][state.facts[soort]] for state in started}) == 1


def test_an_event_no_part_accepts_is_reported_with_the_rules_of_every_part(
        tmp_path: Path) -> None:
    text = PARTED.replace("require: {equals: {path: facts.soort, value: zeldzaam}}",
                          "require: {equals: {path: facts.soort, value: geen}}")
    result = check_definition(write(tmp_path, "delen.yaml", text))
    (never,) = [f for f in result.findings if f.kind == "nooit_mogelijk"]
    assert never.subject == "zeldzaam_iets"
    assert never.causes == ("delen.alleen_zeldzaam",)


def test_the_new_traject_is_a_dead_end_only_when_no_part_reaches_the_end(
        tmp_path: Path) -> None:
    # part `vast` can never finish, so within it even the new traject is a dead end; the
    # other parts finish, so the new traject is not one
    text = PARTED.replace("invariants:", """\
  - id: delen.niet_klaar_als_vast
    severity: block
    on: klaar_maken
    require: {not: {equals: {path: facts.soort, value: vast}}}
    message: Niet bij soort vast.
    source: test
invariants:""")
    path = write(tmp_path, "delen.yaml", text)
    result = check_definition(path)
    whole, _analysis, _states = explore_states(load_definition(path))
    dead = [f for f in result.findings if f.kind == "doodlopend"]
    assert [f.message for f in dead] == [f.message for f in whole.findings
                                         if f.kind == "doodlopend"]
    assert dead[0].trace is not None and [e.name for e in dead[0].trace] == ["begin"]
    assert dead[0].trace[0].data == {"soort": "vast"}
    # no part alone is the whole: every part counted, the new traject once
    assert "doodlopende toestanden in totaal" in dead[0].message


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="parts run in parallel only where the platform can fork")
@pytest.mark.parametrize("def_id", [
    pytest.param("zuid-limburg", marks=pytest.mark.skipif(
        not is_deep(), reason="seconds: the deep profile runs it")),
    "delen"])
def test_parts_in_parallel_give_the_same_result(tmp_path: Path, def_id: str) -> None:
    ref = write(tmp_path, "delen.yaml", PARTED) if def_id == "delen" else def_id
    alone = check_definition(ref)
    together = check_definition(ref, jobs=2)
    assert (together.states, together.transitions) == (alone.states, alone.transitions)
    assert summary(together) == summary(alone)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="parts run in parallel only where the platform can fork")
def test_a_part_that_fails_in_a_worker_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    explore = parts._Search.explore

    def broken(search: parts._Search) -> None:
        if search.only == frozenset({1}):
            raise RuntimeError("deel 1 kapot")
        explore(search)

    monkeypatch.setattr(parts._Search, "explore", broken)  # the workers are forked: theirs too
    with pytest.raises(RuntimeError, match="deel 1 kapot"):
        check_definition("zuid-limburg", jobs=2, max_states=3_000)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_budget_too_small_for_the_whole_still_looks_into_every_part(
        jobs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[int]] = []
    merge = parts.merge

    def recorded(definition: object, found: list[parts.PartResult], *args: object) -> object:
        seen.append([part.states for part in found])
        return merge(definition, found, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(parts, "merge", recorded)
    progress: list[int] = []
    result = check_definition("zuid-limburg", max_states=3_000, jobs=jobs,
                              progress=progress.append)
    (sizes,) = seen
    assert len(sizes) == 10  # one part per household `aanmelden` records
    assert all(size > 100 for size in sizes)  # the new traject and the start of each part
    # the budget bounds the whole check, which says it is incomplete and no more: no
    # invariant is broken and no advice is impossible in the states explored
    assert result.states == 1 + sum(size - 1 for size in sizes) <= 3_000
    assert [f.kind for f in result.findings] == ["onvolledig"]
    assert progress == sorted(progress)


def test_a_shared_budget_gives_back_what_a_part_did_not_use() -> None:
    shared = multiprocessing.get_context().Array("q", [0, 0])
    first, second = Budget(3_000, shared=shared), Budget(3_000, shared=shared)
    assert all(first.take() for _ in range(10))
    assert shared[0] > 10  # taken a chunk at a time
    first.give_back()
    assert shared[0] == 10
    assert sum(second.take() for _ in range(5_000)) == 2_990
    assert not first.take()


@pytest.mark.parametrize("shared", [False, True])
def test_a_budget_keeps_states_back_for_the_parts_not_begun(shared: bool) -> None:
    counts = multiprocessing.get_context().Array("q", [0, 3]) if shared else None
    budget = Budget(100, parts=3, reserve=10, shared=counts)
    budget.begin_part()
    assert sum(budget.take() for _ in range(200)) == 80  # 10 for each of the two to come
    budget.begin_part()
    assert sum(budget.take() for _ in range(200)) == 10
    budget.begin_part()
    assert sum(budget.take() for _ in range(200)) == 10
    assert budget.used == 100


def test_a_part_running_next_to_another_keeps_its_reserve() -> None:
    counts = multiprocessing.get_context().Array("q", [0, 3])
    first = Budget(100, parts=3, reserve=10, shared=counts)
    second = Budget(100, parts=3, reserve=10, shared=counts)
    first.begin_part()
    second.begin_part()
    # all but the reserves of the part running next to it and of the one not begun
    assert sum(first.take() for _ in range(200)) == 80
    assert sum(second.take() for _ in range(200)) == 10  # its own reserve
    first.give_back()
    second.give_back()
    assert counts[0] == 90  # the reserve of the part not begun is still there


def test_check_takes_jobs_on_the_command_line(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "delen.yaml", PARTED)
    assert main(["check", str(path), "--jobs", "2", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["parts"] == 3
    assert {f["kind"] for f in data["findings"]} == {"doodlopend", "invariant"}
    assert main(["check", str(path), "--jobs", "1"]) == 1
    assert "abstracte toestanden verkend in 3 delen" in capsys.readouterr().out
    assert main(["check", "cjg", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "geen bevindingen" in out and "delen" not in out  # one part: not mentioned
