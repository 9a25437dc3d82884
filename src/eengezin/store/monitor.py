"""The Zuid-Limburg monitor figures, computed from a store's indexes (no full replay).

- share of trajecten with a familiegroepsplan (the region aims for at least half), from
  the latest ``familiegroepsplan_vastleggen {opgesteld}`` entry of each traject, over the
  trajecten whose definition declares that event (seed 003 §1, Definities);
- stagnations per level of the ``escalatie`` track: how often each level was reached, and
  how many trajecten are at it now (seed 003 Deel II);
- median days per phase: time spent in each top-level state of the ``regie`` track,
  over completed stays (a stay still running is counted as ``ongoing``).

Everything is derived generically from stored state changes and entries, so another
region's definition with the same event and track ids gets the same figures.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import EengezinError

if TYPE_CHECKING:
    from ._sql import SQLStore

PLAN_EVENT = "familiegroepsplan_vastleggen"
PLAN_TARGET = 0.5
ESCALATION_TRACK = "escalatie"
PHASE_TRACK = "regie"


@attrs.frozen(slots=True)
class PhaseFigure:
    """Days spent in one phase: median over completed stays."""

    median_days: float | None
    completed: int
    ongoing: int


@attrs.frozen(slots=True)
class LevelFigure:
    """One stagnation level: how often it was reached, and how many trajecten are at it."""

    reached: int
    current: int


@attrs.frozen(slots=True)
class Monitor:
    """The monitor figures at one moment."""

    at: datetime
    trajecten: int
    applicable: int
    with_plan: int
    without_plan: int
    not_recorded: int
    target: float
    levels: dict[str, LevelFigure]
    phases: dict[str, PhaseFigure]

    @property
    def share(self) -> float | None:
        """Share of applicable trajecten with a familiegroepsplan (None when there are none)."""
        return self.with_plan / self.applicable if self.applicable else None

    @property
    def meets_target(self) -> bool | None:
        """Whether the share reaches the region's target."""
        share = self.share
        return None if share is None else share >= self.target

    def to_json(self) -> dict[str, Any]:
        """The figures as a JSON-ready object (``eengezin monitor --json``)."""
        return {
            "at": self.at.isoformat(),
            "trajecten": self.trajecten,
            "familiegroepsplan": {
                "event": PLAN_EVENT,
                "applicable": self.applicable,
                "with_plan": self.with_plan,
                "without_plan": self.without_plan,
                "not_recorded": self.not_recorded,
                "share": None if self.share is None else round(self.share, 4),
                "target": self.target,
                "meets_target": self.meets_target,
            },
            "stagnations": {
                "track": ESCALATION_TRACK,
                "levels": {k: {"reached": v.reached, "current": v.current}
                           for k, v in self.levels.items()},
            },
            "days_per_phase": {
                "track": PHASE_TRACK,
                "phases": {k: {"median": v.median_days, "completed": v.completed,
                               "ongoing": v.ongoing} for k, v in self.phases.items()},
            },
        }

    def to_text(self) -> str:
        """The figures as Dutch text for professionals."""
        lines = [f"Monitor op {self.at:%Y-%m-%d %H:%M} — {self.trajecten} trajecten"]
        if self.applicable:
            share = self.share or 0.0
            verdict = "gehaald" if self.meets_target else "niet gehaald"
            lines.append(
                f"Familiegroepsplan: {self.with_plan} van {self.applicable} trajecten "
                f"({share:.0%}; doel minstens {self.target:.0%}: {verdict}); "
                f"afgezien: {self.without_plan}, nog niet vastgelegd: {self.not_recorded}")
        else:
            lines.append("Familiegroepsplan: geen trajecten onder een definitie met "
                         f"'{PLAN_EVENT}'")
        if self.levels:
            lines.append("Stagnaties per niveau (ooit bereikt / nu):")
            lines.extend(f"  {level:<12} {fig.reached:>5} / {fig.current}"
                         for level, fig in self.levels.items())
        else:
            lines.append(f"Stagnaties: geen (track '{ESCALATION_TRACK}' komt niet voor)")
        lines.append("Dagen per fase (mediaan over afgeronde periodes):")
        for phase, pf in self.phases.items():
            median = "—" if pf.median_days is None else f"{pf.median_days:.1f}"
            lines.append(f"  {phase:<20} {median:>7}  (afgerond {pf.completed}, "
                         f"lopend {pf.ongoing})")
        return "\n".join(lines) + "\n"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def compute_monitor(store: SQLStore, *, at: datetime | None = None,
                    target: float = PLAN_TARGET) -> Monitor:
    """Compute the monitor figures from ``store`` at moment ``at`` (default: now).

    >>> # print(compute_monitor(open_store("trajecten.db")).to_text())
    """
    moment = _aware(at) if at is not None else datetime.now(UTC)
    total = store.count()

    applicable = 0
    for ref, count in store.definitions().items():
        try:
            declares = PLAN_EVENT in store.definition(ref).events
        except EengezinError:
            declares = True  # cannot tell (e.g. host predicates missing): count it
        if declares:
            applicable += count
    latest: dict[str, bool] = {}
    for traject_id, _seq, entry in store.entries(PLAN_EVENT):
        latest[traject_id] = entry.data.get("opgesteld") is True
    with_plan = sum(1 for v in latest.values() if v)
    without_plan = len(latest) - with_plan

    reached: dict[str, int] = defaultdict(int)
    initial: dict[str, str] = {}
    for change in store.state_changes(ESCALATION_TRACK):
        first = initial.setdefault(change.traject_id, change.state)
        if change.state != first:
            reached[change.state] += 1
    declared, initial_states = _levels(store)
    initial_states |= set(initial.values())
    current = {k: v for k, v in store.counts(ESCALATION_TRACK).items()
               if k not in initial_states}
    names = [*declared, *sorted((set(reached) | set(current)) - set(declared))]
    levels = {level: LevelFigure(reached.get(level, 0), current.get(level, 0))
              for level in names}

    stays: dict[str, list[float]] = defaultdict(list)
    ongoing: dict[str, int] = defaultdict(int)
    order: list[str] = []
    previous: tuple[str, str, datetime] | None = None
    for change in store.state_changes(PHASE_TRACK):
        phase = change.state.split(".", 1)[0]
        if phase not in order:
            order.append(phase)
        if previous is not None and previous[0] == change.traject_id:
            if previous[1] == phase:
                continue
            days = (_aware(change.at) - _aware(previous[2])).total_seconds() / 86400
            stays[previous[1]].append(days)
        elif previous is not None:
            ongoing[previous[1]] += 1
        previous = (change.traject_id, phase, change.at)
    if previous is not None:
        ongoing[previous[1]] += 1
    declared, finals = _phases(store)
    phases = {
        phase: PhaseFigure(
            round(statistics.median(stays[phase]), 2) if stays[phase] else None,
            len(stays[phase]), ongoing.get(phase, 0))
        for phase in [*declared, *(p for p in order if p not in declared)] if phase not in finals
    }
    return Monitor(at=moment, trajecten=total, applicable=applicable, with_plan=with_plan,
                   without_plan=without_plan, not_recorded=max(applicable - len(latest), 0),
                   target=target, levels=levels, phases=phases)


def _levels(store: SQLStore) -> tuple[list[str], set[str]]:
    """The escalation levels the stored definitions declare (in their order), and the
    tracks' initial states (no stagnation)."""
    levels: list[str] = []
    initials: set[str] = set()
    for ref in store.definitions():
        try:
            track = store.definition(ref).tracks.get(ESCALATION_TRACK)
        except EengezinError:
            continue
        if track is None:
            continue
        initials.add(track.initial)
        for path in track.nodes:
            if path in track.leaves and path != track.initial and path not in levels:
                levels.append(path)
    return levels, initials


def _phases(store: SQLStore) -> tuple[list[str], set[str]]:
    """The phases (top-level states of the phase track) the stored definitions declare, in
    their order, and those that are final."""
    phases: list[str] = []
    finals: set[str] = set()
    for ref in store.definitions():
        try:
            track = store.definition(ref).tracks.get(PHASE_TRACK)
        except EengezinError:
            continue
        if track is None:
            continue
        finals.update(path for path in track.finals if "." not in path)
        phases.extend(p for p, node in track.nodes.items()
                      if node.parent is None and p not in phases)
    return phases, finals
