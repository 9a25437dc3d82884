"""Findings drawn from an explored state space: dead ends, unreachable states and events
that are never accepted (with the rules that refused them)."""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Mapping, Sequence

from ..process.model import Definition, EventSpec, Invariant
from ..traject import Event
from .report import Finding
from .settings import SHOWN_DEAD_ENDS
from .state import AbstractState

Events = tuple[Event, ...]


def final_tracks(definition: Definition) -> list[str]:
    return [tid for tid, track in definition.tracks.items() if track.finals]


def dead_states(definition: Definition, states: Sequence[AbstractState],
                edges: tuple[Sequence[int], Sequence[int]], tracks: Sequence[str]) -> list[int]:
    """The numbers of the states from which no final state of ``tracks`` can be reached."""
    def is_final(key: AbstractState) -> bool:
        state = dict(key.tracks)
        return all(state.get(t) in definition.tracks[t].finals for t in tracks)

    # the edges backwards, as flat arrays: the sources of target n are
    # sources[start[n]:start[n + 1]] (no list per state for the garbage collector to walk)
    edge_sources, edge_targets = edges
    start = array("i", bytes(4 * (len(states) + 1)))
    for target in edge_targets:
        start[target + 1] += 1
    for n in range(len(states)):
        start[n + 1] += start[n]
    fill = array("i", start)
    sources = array("i", bytes(4 * len(edge_targets)))
    for source, target in zip(edge_sources, edge_targets, strict=True):
        sources[fill[target]] = source
        fill[target] += 1
    good = {n for n, key in enumerate(states) if is_final(key)}
    queue = deque(good)
    while queue:
        n = queue.popleft()
        for source in sources[start[n]:start[n + 1]]:
            if source not in good:
                good.add(source)
                queue.append(source)
    return [n for n in range(len(states)) if n not in good]


def dead_end_findings(definition: Definition, shown: Sequence[tuple[AbstractState, Events]],
                      total: int, tracks: Sequence[str], reachable_final: Sequence[Invariant]
                      ) -> list[Finding]:
    """The findings for the dead ends ``shown`` (the shallowest, each with its trace), out of
    ``total`` dead states."""
    if not total:
        return []
    subject = reachable_final[0].id if reachable_final else "doodlopend"
    ends = " of ".join(
        f"{t} in {'/'.join(sorted(definition.tracks[t].finals))}" for t in tracks)
    more = f" ({total} doodlopende toestanden in totaal)" if total > 1 else ""
    out: list[Finding] = []
    for key, events in shown[:SHOWN_DEAD_ENDS]:
        state = ", ".join(f"{t}={s}" for t, s in key.tracks)
        out.append(Finding(
            "doodlopend", subject,
            f"vanuit {state} is geen eindstaat ({ends}) meer bereikbaar{more}", events))
    return out


def unreachable(definition: Definition, leaves_seen: Mapping[str, set[str]]) -> list[Finding]:
    out: list[Finding] = []
    for tid, track in definition.tracks.items():
        for leaf in sorted(track.leaves - leaves_seen.get(tid, set())):
            out.append(Finding(
                "onbereikbaar", f"{tid}.{leaf}",
                f"staat '{leaf}' van track '{tid}' wordt door geen enkel traject bereikt"))
    return out


def never_accepted(definition: Definition, fired: set[str], leaves_seen: Mapping[str, set[str]],
                   refusals: Mapping[str, Mapping[str, int]]) -> list[Finding]:
    """One finding per event that was never accepted, naming why: the checks that refused
    it wherever it was possible (rules by their id), or the tracks whose states it needs
    are never reached."""
    out: list[Finding] = []
    for eid, spec in definition.events.items():
        if eid in fired:
            continue
        counts = refusals.get(eid)
        if counts:
            causes = tuple(sorted(counts, key=lambda code: (-counts[code], code)))
            rules = {r.id for r in definition.rules}
            named = ", ".join(f"regel {c}" if c in rules else c for c in causes)
            out.append(Finding(
                "nooit_mogelijk", eid,
                f"event '{eid}' wordt in geen enkele bereikbare toestand geaccepteerd: "
                f"steeds geweigerd door {named}", causes=causes))
            continue
        missing = _missing_states(definition, spec, leaves_seen)
        if missing:
            where = "; ".join(f"{t} komt nooit in {', '.join(sorted(s))}" for t, s in missing)
            out.append(Finding(
                "nooit_mogelijk", eid,
                f"event '{eid}' is in geen enkele bereikbare toestand mogelijk: {where}",
                causes=tuple(f"staat:{t}" for t, _ in missing)))
        else:
            out.append(Finding(
                "nooit_mogelijk", eid,
                f"event '{eid}' wordt in geen enkele bereikbare toestand geaccepteerd"))
    return out


def _missing_states(definition: Definition, spec: EventSpec,
                    leaves_seen: Mapping[str, set[str]]) -> list[tuple[str, frozenset[str]]]:
    """The tracks whose states ``spec`` needs, none of which is ever reached."""
    needs: dict[str, frozenset[str]] = {}
    if spec.available is not None:  # every track must be in one of its states
        needs = dict(spec.available)
    else:  # one transition's source is enough
        for tr in spec.transitions:
            needs[tr.track] = needs.get(tr.track, frozenset()) | tr.sources
    missing = [(t, leaves) for t, leaves in sorted(needs.items())
               if not leaves & leaves_seen.get(t, set())]
    if spec.available is None and len(missing) < len(needs):
        return []
    return missing
