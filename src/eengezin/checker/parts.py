"""A check in parts: one per outcome of the start event, one after another or in parallel.

Every traject begins with the start event. Each distinct abstract state it can lead to (in
zuid-limburg: a household of another shape) starts a *part*: the states reachable from it.
The parts together are the whole space, so their findings together are the whole check's:

- a state's future is the same in every part that reaches it, so whether it is a dead end
  is decided in any one of them (the new traject, before the start, is a dead end only when
  it is one in every part);
- an event is never accepted when no part accepts it; a leaf is unreachable when no part
  reaches it; an invariant or an advice is broken when one part finds it broken, with the
  shortest trace among the parts that do.

A state that two parts reach is explored, and counted, in both. That is rare: what the
start event records differs between the parts, and in the bundled definitions nothing
overwrites it. Splitting costs almost nothing and bounds memory by the largest part
instead of the whole space; ``jobs`` searches parts in parallel processes (where the
platform can fork), which share the budget of states.

>>> result = check_definition("basis")
>>> result.sound, result.states > 100
(True, True)
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import attrs

from ..definition import load_definition
from ..process.model import Definition
from ..traject import Event
from .advice import named_next
from .analysis import analysis_for
from .analysis_model import Analysis
from .budget import Budget
from .explore import Workbench, _Search
from .findings import dead_end_findings, dead_states, final_tracks, never_accepted, unreachable
from .nodes import trace
from .report import CheckResult, Finding
from .settings import MAX_STATES, SHOWN_DEAD_ENDS
from .side import excursions
from .state import AbstractState

__all__ = ["PartResult", "check_definition", "explore_states", "merge"]

Shallow = tuple[int, AbstractState, tuple[Event, ...]]  # a dead end: depth, state, trace


@attrs.frozen
class PartResult:
    """What one part's search found, in plain data (it crosses process boundaries)."""

    states: int  # the new traject's state included
    transitions: int
    incomplete: bool
    fired: frozenset[str]
    refusals: dict[str, dict[str, int]]
    leaves_seen: dict[str, frozenset[str]]
    violated: tuple[Finding, ...]
    advice: tuple[tuple[tuple[str, str], Finding], ...]  # (rule, missing event) -> finding
    root: AbstractState
    root_dead: bool
    dead: int  # dead states other than the new traject's
    shallow: tuple[Shallow, ...]  # the shallowest dead ends
    # what the observers or side tracks do could not be settled (see check_definition)
    doubt: bool = False


def _result_of(search: _Search, advised: set[tuple[str, str]]) -> PartResult:
    """A finished search's findings; ``advised``: advice already reported by this process."""
    definition, nodes, states = search.definition, search.nodes, search.states
    advice = []
    for pair, found in search.adviser.found.items():
        if pair not in advised:
            advised.add(pair)
            key = cast(AbstractState, found.key)
            advice.append((pair, Finding("advies_onmogelijk", found.rule,
                                         found.message(definition), trace(nodes, key))))
    root_dead, dead = False, 0
    shallow: tuple[Shallow, ...] = ()
    tracks = final_tracks(definition)
    if tracks and not search.incomplete:
        numbers = dead_states(definition, states, (search.sources, search.targets), tracks)
        root_dead = bool(numbers) and numbers[0] == 0
        rest = sorted((n for n in numbers if n), key=lambda n: nodes[states[n]].depth)
        dead = len(rest)
        shallow = tuple((nodes[states[n]].depth, states[n], trace(nodes, states[n]))
                        for n in rest[:SHOWN_DEAD_ENDS])
    fired, leaves_seen = set(search.fired), search.leaves_seen
    doubt = _in_doubt(search) or bool(search.steps.doubts) or _advice_shut(search)
    if search.analysis.side and not search.incomplete:
        away = excursions(definition, search.analysis, search.steps, search.entries,
                          {key.tracks for key in states if key.started}, search.entered,
                          (search.sources, search.targets, search.flags), search.holds_away,
                          search.adviser.blocking)
        fired |= away.fired
        for tid, leaves in away.leaves.items():
            leaves_seen[tid] |= leaves
        doubt = doubt or not away.settled
    return PartResult(
        states=len(states), transitions=search.transitions, incomplete=search.incomplete,
        fired=frozenset(fired), refusals=search.steps.refusals,
        leaves_seen={t: frozenset(s) for t, s in leaves_seen.items()},
        violated=tuple(search.violated.values()), advice=tuple(advice), root=states[0],
        root_dead=root_dead, dead=dead, shallow=shallow, doubt=doubt)


def _in_doubt(search: _Search) -> bool:
    """Is an observer possible, in a state this search reached, where an event one of its
    rules names as ``next`` is not? Whether that rule blocks there depends on the facts the
    search left out, so the search cannot settle that advice."""
    observers = search.analysis.observers
    if not observers:
        return False
    shut = search.adviser.shut
    combos = {key.tracks for key in search.states if key.started}
    return any(eid in observers for tracks in combos for eid, _named in shut.get(tracks, ()))


def _advice_shut(search: _Search) -> bool:
    """Is a waiting event possible, in a state this search reached, where an event one of
    its obligation rules names as ``next`` is not? Such a rule blocks only with an
    obligation open, which the search keeps empty (:mod:`.obligations`, point 3)."""
    obligations = search.analysis.obligations
    if obligations is None:
        return False
    named = {eid: frozenset(n for rule in search.definition.events[eid].rules
                            if rule.id in obligations.rules for n in named_next(rule))
             for eid in obligations.events}
    shut = search.adviser.shut
    combos = {key.tracks for key in search.states if key.started}
    return any(missing & named.get(eid, frozenset())
               for tracks in combos for eid, missing in shut.get(tracks, ()))


WITNESS_STATES = 20_000
"""How far the search for the observers' acceptance looks (see :func:`_witnesses`)."""


def _witnesses(definition: Definition, events: frozenset[str], max_states: int,
               states: int) -> frozenset[str]:
    """The observers ``events`` accepted in a breadth-first search that keeps every fact,
    stopped once all are, or after ``states`` states. The search that leaves their facts
    out keeps one traject per state and tries an observer once per part of the state it
    reads, so it may not show an observer accepted that is (a confirmation that needs an
    oral consent first): this looks for the ones the parts did not show."""
    plain = analysis_for(definition, reduce=False)
    search = _Search(definition, plain, Budget(min(max_states, states) - 1))
    search.until = events
    try:
        search.explore()
    finally:
        plain.memo.clear()
    return frozenset(events & search.fired)


def _settled(analysis: Analysis, parts: Sequence[PartResult]) -> bool:
    """Did a search with the reductions decide everything exactly? Everything but the
    observers and the side tracks is exact by construction. An observer accepted in a
    reachable traject is accepted (the parts count those :func:`_witnesses` found), and
    its advice is settled unless a part is in doubt. An observer never accepted needs its
    refusals over every value of the facts left out: not settled. A side track is settled
    unless a part is in doubt (:func:`.side.excursions`), and so are obligations (the
    stepper's checks and :func:`_advice_shut`)."""
    fired: set[str] = set().union(*(part.fired for part in parts))
    return analysis.observers <= fired and not any(part.doubt for part in parts)


def _shortest(found: dict[Any, Finding], key: Any, finding: Finding) -> None:
    known = found.get(key)
    if known is None or len(finding.trace or ()) < len(known.trace or ()):
        found[key] = finding


def merge(definition: Definition, parts: Sequence[PartResult], max_states: int,
          seconds: float) -> CheckResult:
    """The whole check's result from its parts' (see the module)."""
    findings: list[Finding] = []
    invariants: dict[str, Finding] = {}
    advice: dict[tuple[str, str], Finding] = {}
    for part in parts:
        for finding in part.violated:
            _shortest(invariants, finding.subject, finding)
        for pair, finding in part.advice:
            _shortest(advice, pair, finding)
    findings.extend(sorted(invariants.values(), key=lambda f: len(f.trace or ())))
    findings.extend(advice.values())
    if any(part.incomplete for part in parts):
        # with part of the space unexplored, dead ends and unreachable states would be
        # guesses
        findings.append(Finding(
            "onvolledig", definition.id,
            f"meer dan {max_states} abstracte toestanden: de verkenning is "
            "afgebroken; alleen invariant-schendingen en adviezen zijn gecontroleerd"))
    else:
        tracks = final_tracks(definition)
        if tracks:
            root_dead = all(part.root_dead for part in parts)
            shown: list[Shallow] = [(0, parts[0].root, ())] if root_dead else []
            shown += sorted((s for part in parts for s in part.shallow), key=lambda s: s[0])
            findings.extend(dead_end_findings(
                definition, [(key, events) for _depth, key, events in shown],
                sum(part.dead for part in parts) + root_dead, tracks,
                [inv for inv in definition.invariants if inv.reachable_final]))
        seen: dict[str, set[str]] = {tid: set() for tid in definition.tracks}
        fired: set[str] = set()
        refusals: dict[str, dict[str, int]] = {}
        for part in parts:
            fired |= part.fired
            for tid, leaves in part.leaves_seen.items():
                seen[tid] |= leaves
            for eid, counts in part.refusals.items():
                into = refusals.setdefault(eid, {})
                for code, n in counts.items():
                    into[code] = into.get(code, 0) + n
        findings.extend(unreachable(definition, seen))
        findings.extend(never_accepted(definition, fired, seen, refusals))
    return CheckResult(
        definition=definition.id, version=definition.version,
        states=1 + sum(part.states - 1 for part in parts),
        transitions=sum(part.transitions for part in parts), seconds=seconds,
        findings=tuple(findings), parts=len(parts))


def check_definition(ref: str | Path | Definition, *, max_states: int = MAX_STATES,
                     progress: Callable[[int], None] | None = None, jobs: int = 1,
                     reduce: bool = True) -> CheckResult:
    """Explore ``ref`` (a bundled id, a YAML path or a loaded definition) and report findings.

    The space is searched in parts (see the module); ``jobs`` > 1 searches that many parts
    at a time in processes of their own, where the platform can fork (elsewhere one after
    another). ``max_states`` bounds the abstract states of the whole check. ``progress`` is
    called with the number of states reached so far, every thousand states or so.
    ``reduce=False`` searches without observed facts, side tracks and obligations (the same
    findings, more states: for comparing). Raises :class:`~eengezin.errors.DefinitionError` when the
    definition cannot be loaded.

    Observers (:func:`.reductions.observed_facts`), side tracks (:mod:`.side`) and
    obligations (:mod:`.obligations`) are settled during and after the search; where they
    cannot be, the check searches again without them, so the findings are always those of
    the search that keeps everything.

    >>> check_definition("basis").findings
    ()
    """
    definition = load_definition(ref)
    started = time.perf_counter()
    analysis = analysis_for(definition, reduce=reduce)
    parts = _search(definition, analysis, max_states, jobs, progress)
    complete = not any(part.incomplete for part in parts)
    missing = analysis.observers - set().union(*(part.fired for part in parts))
    if complete and missing:
        # observers the parts' trajecten did not show accepted: look further
        found = _witnesses(definition, frozenset(missing), max_states, WITNESS_STATES)
        parts[0] = attrs.evolve(parts[0], fired=parts[0].fired | found)
    if ((analysis.observers or analysis.side or analysis.obligations) and complete
            and not _settled(analysis, parts)):
        # what the observers or side tracks do is not settled: search again, keeping every
        # fact and track (exact, and as slow as without the reductions); the progress counts
        # on from the first search
        done = sum(part.states for part in parts)
        parts = _search(definition, analysis_for(definition, reduce=False), max_states, jobs,
                        None if progress is None else lambda n: progress(done + n))
    return merge(definition, parts, max_states, time.perf_counter() - started)


def _search(definition: Definition, analysis: Analysis, max_states: int, jobs: int,
            progress: Callable[[int], None] | None) -> list[PartResult]:
    """Every part's result (see :func:`check_definition`)."""
    try:
        bench = Workbench(definition, analysis)
        probe = _Search(definition, analysis, Budget(0), bench=bench, only=frozenset())
        probe.explore()
        count = len(probe.starts)
        if not count:  # the start event is never accepted: the new traject is all there is
            return [_result_of(probe, set())]
        if jobs > 1 and count > 1 and "fork" in multiprocessing.get_all_start_methods():
            return _parallel(definition, analysis, bench, count, max_states, jobs, progress)
        return _one_by_one(definition, analysis, bench, count, max_states, progress)
    finally:
        analysis.memo.clear()


RESERVE = 1_000
"""States kept back for each part not begun yet (at most an equal share of the budget), so
that a budget too small for the whole check still looks at the start of every part."""


def _budget(max_states: int, count: int, shared: Any = None) -> Budget:
    """The budget of a check in ``count`` parts (the new traject's state is every part's)."""
    total = max_states - 1
    return Budget(total, parts=count, reserve=min(RESERVE, total // count), shared=shared)


def _search_part(definition: Definition, analysis: Analysis, budget: Budget, bench: Workbench,
                 i: int, advised: set[tuple[str, str]],
                 progress: Callable[[int], None] | None = None) -> PartResult:
    """Search part ``i`` with what this process shares between its parts (``bench``, and
    ``advised``: the advice it reported already)."""
    budget.begin_part()
    search = _Search(definition, analysis, budget, bench=bench, only=frozenset({i}))
    search.progress = progress
    search.explore()
    budget.give_back()
    result = _result_of(search, advised)
    del search
    analysis.memo.clear()  # the next part shares no fact values with this one
    return result


def _one_by_one(definition: Definition, analysis: Analysis, bench: Workbench, count: int,
                max_states: int, progress: Callable[[int], None] | None) -> list[PartResult]:
    budget = _budget(max_states, count)
    advised: set[tuple[str, str]] = set()
    return [_search_part(definition, analysis, budget, bench, i, advised, progress)
            for i in range(count)]


# what the worker processes need, set in the parent before it forks (each worker has its
# own copy, which it uses for every part it searches)
_JOB: tuple[Definition, Analysis, Budget, Workbench, set[tuple[str, str]]] | None = None


def _part(i: int) -> PartResult:
    """Search part ``i`` in a worker process."""
    assert _JOB is not None
    return _search_part(*_JOB[:4], i, _JOB[4])


def _parallel(definition: Definition, analysis: Analysis, bench: Workbench, count: int,
              max_states: int, jobs: int, progress: Callable[[int], None] | None
              ) -> list[PartResult]:
    global _JOB
    context = multiprocessing.get_context("fork")
    shared = context.Array("q", [0, count])  # states taken, parts not begun
    _JOB = (definition, analysis, _budget(max_states, count, shared), bench, set())
    try:
        # leaving the pool terminates its workers: at the end, and at once when a part
        # failed or the check was interrupted
        with context.Pool(processes=min(jobs, count)) as pool:
            results = [pool.apply_async(_part, (i,)) for i in range(count)]
            while True:
                for result in results:
                    if result.ready() and not result.successful():
                        result.get()  # raises what the worker raised
                waiting = [result for result in results if not result.ready()]
                if not waiting:
                    return [result.get() for result in results]
                waiting[0].wait(0.25)
                if progress is not None:
                    progress(int(shared[0]))
    finally:
        _JOB = None


def explore_states(ref: str | Path | Definition, *, max_states: int = MAX_STATES,
                   part: int | None = None, reduce: bool = True
                   ) -> tuple[CheckResult, Analysis, list[AbstractState]]:
    """One search over the whole space (or, with ``part``, over that part alone, numbered
    from 0 in the order the start event reaches them): what it found, the analysis and
    every abstract state reached, in the order reached, for measuring what the space is
    made of (``benchmarks/checker_states.py``). ``analysis.values[i][code]`` is the
    canonical value behind code ``code`` of fact ``analysis.fact_items[i]``. ``reduce``:
    use the check's reductions, as the check does first (observed facts left out, side
    tracks home, obligations empty; what those leave out may then need the search without,
    which this does not do).

    >>> result, analysis, states = explore_states("basis")
    >>> len(states) == result.states, states[0].started
    (True, False)
    """
    definition = load_definition(ref)
    analysis = analysis_for(definition, reduce=reduce)
    started = time.perf_counter()
    search = _Search(definition, analysis, Budget(max_states - 1),
                     only=None if part is None else frozenset({part}))
    try:
        search.explore()
        found = _result_of(search, set())
        return (merge(definition, [found], max_states, time.perf_counter() - started),
                analysis, search.states)
    finally:
        analysis.memo.clear()
