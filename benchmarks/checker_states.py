"""What a definition's abstract state space is made of: which facts multiply it.

Run:

    .venv/bin/python benchmarks/checker_states.py zuid-limburg [--max-states N] [--group a,b]
        [--part K] [--no-reduce]

It explores like ``eengezin check`` (complete unless ``--max-states`` stops it), in one search
over the whole space or, with ``--part K``, over part K alone (one per outcome of the start
event, numbered from 0; ``eengezin.checker.parts``), and prints:

- the states, the time and the findings;
- per decisive fact: how many distinct canonical values it takes, in how many states it is
  masked (dead), and how many states are left when the fact is left out of every state
  (``without``: the smaller, the more that fact multiplies the space);
- the track combinations with the most states;
- with ``--group``: the value combinations of those facts, each with the set of states the
  rest of the abstract state takes next to it. Combinations with the same set are
  candidates for one equivalence class (only candidates: equal reachable sets do not prove
  that the states behave alike; a sound reduction must show that).

It only reports. It explores with the check's reductions (facts only observers read left
out, side tracks home, obligations empty; ``--no-reduce``: without them) and does not settle
what those leave out, so the observers and the side tracks' own events may show up as never
accepted here. Zuid-limburg in one search takes about 5 s (28,000 states; without the
reductions minutes and 6 GB, 5.1 million), one part under a second (``--part 1``: about
2,800 states); ``--max-states 10000`` gives a first picture, biased to the early phases
(the search is breadth first).
"""

from __future__ import annotations

import argparse
import collections
import time
from collections.abc import Sequence

from eengezin.checker.parts import explore_states
from eengezin.checker.state import AbstractState

Rest = tuple[object, ...]


def _without(states: Sequence[AbstractState], i: int) -> int:
    return len({(s.tracks, s.facts[:i] + s.facts[i + 1:], s.deadlines, s.overdue, s.seen)
                for s in states})


def _short(value: object, width: int = 150) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("definition")
    parser.add_argument("--max-states", type=int, default=2_000_000)
    parser.add_argument("--group", default="", help="facts, comma-separated")
    parser.add_argument("--part", type=int, default=None, help="only this part (from 0)")
    parser.add_argument("--no-reduce", action="store_true",
                        help="without observed facts and side tracks")
    parser.add_argument("--no-without", action="store_true",
                        help="skip the per-fact 'without' count (slow on big spaces)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result, analysis, states = explore_states(args.definition, max_states=args.max_states,
                                              part=args.part, reduce=not args.no_reduce)
    seconds = time.perf_counter() - started
    print(f"{result.definition}: {len(states)} states, {result.transitions} transitions, "
          f"{seconds:.1f} s, findings: {[f.kind for f in result.findings]}")
    names = [name for name, _sub in analysis.fact_items]
    print(f"\n{'fact':32s} {'values':>6s} {'masked':>9s} {'without':>9s}")
    for i, name in enumerate(names):
        counts = collections.Counter(s.facts[i] for s in states)
        masked = counts.pop(-1, 0)
        without = "" if args.no_without else str(_without(states, i))
        print(f"{name:32s} {len(counts):6d} {masked:9d} {without:>9s}")
    combos = collections.Counter(s.tracks for s in states)
    print(f"\n{len(combos)} track combinations; the largest:")
    for tracks, n in combos.most_common(8):
        print(f"  {n:8d}  {', '.join(leaf for _track, leaf in tracks)}")
    if args.group:
        unknown = [g for g in args.group.split(",") if g not in names]
        if unknown:
            parser.error(f"not a decisive fact of {result.definition}: {', '.join(unknown)}")
        group = [names.index(g) for g in args.group.split(",")]
        rest = [i for i in range(len(names)) if i not in group]
        beside: dict[tuple[int, ...], set[Rest]] = collections.defaultdict(set)
        for s in states:
            beside[tuple(s.facts[i] for i in group)].add(
                (s.tracks, tuple(s.facts[i] for i in rest), s.deadlines, s.overdue, s.seen))
        classes: dict[frozenset[Rest], list[tuple[int, ...]]] = collections.defaultdict(list)
        for combo, seen in beside.items():
            classes[frozenset(seen)].append(combo)
        print(f"\n{args.group}: {len(beside)} value combinations, {len(classes)} distinct "
              f"sets of the rest; with one state per class: "
              f"{sum(len(seen_rest) for seen_rest in classes)} states")
        for seen_rest, members in sorted(classes.items(), key=lambda kv: -len(kv[0])):
            print(f"  {len(seen_rest):8d} rest states beside {members}")
        for pos in group:
            print(f"\n  values of {names[pos]}:")
            for code, value in enumerate(analysis.values[pos]):
                print(f"    {code}: {_short(value)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
