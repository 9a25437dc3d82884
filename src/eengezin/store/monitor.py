"""Verantwoording: the figures a region reports over a period (``eengezin monitor``).

The figures are the ``indicators:`` a definition declares (so every region gets its own),
computed over a period ``[van, tot]``: the trajecten active in it (started on or before
``tot`` and not ended before ``van``) and the events in it. They are given for each
definition and, within it, per ``gemeente`` (from the registration) and per organisation
(of the regisseur at the end of the period).

The computation is pure: :func:`compute_figures` takes a compiled definition and the
histories of its trajecten, from any store; :func:`compute_monitor` feeds it from a
:class:`~eengezin.store.SQLStore` through its query methods (``definitions``, ``ids``,
``history``). Each traject is replayed with the pure core to see its states, open
deadlines and facts over time.

Indicator kinds (see docs/definitions.md):

- ``count``: how many of the events happened in the period;
- ``share``: of the active trajecten, those whose latest event (up to ``tot``) has the
  field true, false, or none at all; the share with true against the ``target``;
- ``count_by``: per value of a payload field, the trajecten whose latest such event has it;
- ``deadlines``: per deadline id, met (on time) and missed (late, or open past its due
  day) in the period;
- ``levels``: per state of a track (in the definition's order), the trajecten that entered
  it in the period and those in it at ``tot``;
- ``phase_days``: per top-level state of a track, in the definition's order, the median
  days of the stays that ended in the period, and the stays still running at ``tot``;
- ``final_states``: the trajecten that reached each final state of the phase track;
- ``last_value``: the value of a fact when the event happened (e.g. the latest safety
  scale at closing): per value, and the median.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import EengezinError
from ..process import new_traject, step
from ..process.model import Definition, Indicator
from ..process.step import apply
from ..traject import Event, HistoryEntry, Traject

if TYPE_CHECKING:
    from ._sql import SQLStore

PHASE_TRACK = "regie"
NO_GROUP = "(onbekend)"


@attrs.frozen(slots=True)
class _Moment:
    """One accepted event of a replayed traject, with the traject before and after it."""

    entry: HistoryEntry
    before: Traject
    after: Traject


@attrs.frozen(slots=True)
class TrajectRun:
    """A traject replayed: its moments in order (events the definition now refuses are
    skipped: a figure never invents a state)."""

    id: str
    moments: tuple[_Moment, ...]

    @property
    def started(self) -> date | None:
        return self.moments[0].entry.at.date() if self.moments else None

    def ended(self, track: str, definition: Definition) -> date | None:
        """The day the track reached a final state, if it did."""
        finals = definition.tracks[track].finals if track in definition.tracks else frozenset()
        for m in self.moments:
            if m.after.state.get(track) in finals:
                return m.entry.at.date()
        return None

    def at(self, day: date) -> Traject | None:
        """The traject at the end of ``day`` (None before it started)."""
        current = None
        for m in self.moments:
            if m.entry.at.date() > day:
                break
            current = m.after
        return current

    def gemeente(self) -> str:
        if not self.moments:
            return NO_GROUP
        value = self.moments[0].entry.data.get("gemeente")
        return value if isinstance(value, str) and value else NO_GROUP

    def organisatie(self, day: date) -> str:
        traject = self.at(day)
        regisseur = traject.facts.get("regisseur") if traject is not None else None
        value = regisseur.get("organisatie") if isinstance(regisseur, dict) else None
        return value if isinstance(value, str) and value else NO_GROUP


def replay_history(definition: Definition, traject_id: str,
                   entries: Iterable[HistoryEntry]) -> TrajectRun:
    """Follow a stored log with the pure core. An entry that records its change is applied
    as recorded (no rule or host predicate runs, as when the store loads a traject); an
    entry without one is decided again, and skipped when that refuses it."""
    traject = new_traject(definition, traject_id)
    moments: list[_Moment] = []
    for entry in entries:
        if entry.event not in definition.events:
            continue
        if entry.change is not None:
            try:
                after = apply(definition, traject, entry)
            except EengezinError:
                continue
        else:
            outcome = step(definition, traject, Event(entry.event, entry.at, entry.data,
                                                      entry.actor))
            if not outcome.accepted:
                continue
            after = outcome.traject
        moments.append(_Moment(entry, traject, after))
        traject = after
    return TrajectRun(traject_id, tuple(moments))


def _field(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _label(value: Any) -> str:
    if value is True:
        return "ja"
    if value is False:
        return "nee"
    return NO_GROUP if value is None else str(value)


def _in(moment: _Moment, van: date, tot: date) -> bool:
    return van <= moment.entry.at.date() <= tot


def _indicator(ind: Indicator, definition: Definition, runs: Sequence[TrajectRun],
               van: date, tot: date) -> dict[str, Any]:
    out: dict[str, Any] = {"title": ind.title, "kind": ind.kind}
    events = set(ind.events)
    if ind.kind == "count":
        out["count"] = sum(1 for r in runs for m in r.moments
                           if m.entry.event in events and _in(m, van, tot))
    elif ind.kind in ("share", "count_by"):
        latest: dict[str, Any] = {}
        for r in runs:
            for m in r.moments:
                if m.entry.event in events and m.entry.at.date() <= tot:
                    latest[r.id] = _field(m.entry.data, ind.field or "")
        if ind.kind == "share":
            yes = sum(1 for v in latest.values() if v is True)
            no = len(latest) - yes
            share = yes / len(runs) if runs else None
            out.update(trajecten=len(runs), ja=yes, nee=no, niet_vastgelegd=len(runs) - len(latest),
                       share=None if share is None else round(share, 4), target=ind.target,
                       meets_target=None if share is None or ind.target is None
                       else share >= ind.target)
        else:
            counted = Counter(_label(v) for v in latest.values())
            out["values"] = dict(sorted(counted.items()))
    elif ind.kind == "deadlines":
        out["deadlines"] = _deadlines(definition, runs, van, tot)
    elif ind.kind == "levels":
        out["levels"] = _levels(definition, ind.track or "", runs, van, tot)
    elif ind.kind == "phase_days":
        out["phases"] = _phases(definition, ind.track or PHASE_TRACK, runs, van, tot)
    elif ind.kind == "final_states":
        track = ind.track or PHASE_TRACK
        finals = definition.tracks[track].finals
        reached: Counter[str] = Counter()
        for r in runs:
            for m in r.moments:
                state = m.after.state.get(track)
                if state in finals and m.before.state.get(track) != state and _in(m, van, tot):
                    reached[state] += 1
        out["states"] = {s: reached.get(s, 0) for s in sorted(finals)}
    elif ind.kind == "last_value":
        values = [m.before.facts.get(ind.fact or "") for r in runs for m in r.moments
                  if m.entry.event in events and _in(m, van, tot)]
        counted = Counter(_label(v) for v in values)
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        out["values"] = dict(sorted(counted.items()))
        out["median"] = statistics.median(numbers) if numbers else None
    return out


def _deadlines(definition: Definition, runs: Sequence[TrajectRun], van: date, tot: date
               ) -> dict[str, dict[str, int]]:
    figures = {d: {"gehaald": 0, "gemist": 0, "lopend": 0} for d in definition.deadlines}
    for r in runs:
        for m in r.moments:
            day = m.entry.at.date()
            if not van <= day <= tot:
                continue
            for did, open_deadline in m.before.deadlines.items():
                if did in m.after.deadlines and m.after.deadlines[did] == open_deadline:
                    continue  # still running
                spec = definition.deadlines.get(did)
                if spec is None or did not in figures:
                    continue
                if m.entry.event in spec.satisfied_by:
                    figures[did]["gehaald" if day <= open_deadline.due else "gemist"] += 1
                elif day > open_deadline.due:
                    figures[did]["gemist"] += 1  # cancelled, but only after it was due
        last = r.at(tot)
        for did, open_deadline in (last.deadlines.items() if last is not None else ()):
            if did in figures:
                figures[did]["gemist" if tot > open_deadline.due else "lopend"] += 1
    return figures


def process_order(definition: Definition, track_id: str, *, top: bool = False) -> list[str]:
    """The states of a track in the order of the process: breadth-first from the initial
    state along the events' transitions (a stored definition may have lost its file order;
    effects, which jump back, are left out).
    With ``top``, top-level states (phases) instead of leaves.

    >>> from eengezin import load_definition
    >>> process_order(load_definition("basis"), "regie", top=True)[:3]
    ['aanmelding', 'vraagverheldering', 'startoverleg']
    """
    track = definition.tracks[track_id]

    def name(path: str) -> str:
        return path.split(".", 1)[0] if top else path

    edges: dict[str, set[str]] = defaultdict(set)
    for spec in definition.events.values():
        moves = [(tr.sources, tr.target) for tr in spec.transitions if tr.track == track_id]
        for sources, target in moves:
            for source in sources:
                if name(source) != name(target):
                    edges[name(source)].add(name(target))
    start = name(track.initial)
    order, frontier = [start], [start]
    while frontier:
        following: list[str] = []
        for state in frontier:
            for nxt in sorted(edges[state]):
                if nxt not in order:
                    order.append(nxt)
                    following.append(nxt)
        frontier = following
    every = [p for p in track.nodes if (track.nodes[p].parent is None if top else p in track.leaves)]
    return order + sorted(p for p in every if p not in order)


def _levels(definition: Definition, track_id: str, runs: Sequence[TrajectRun], van: date,
            tot: date) -> dict[str, dict[str, int]]:
    track = definition.tracks[track_id]
    order = [p for p in process_order(definition, track_id) if p != track.initial]
    figures = {p: {"bereikt": 0, "nu": 0} for p in order}
    for r in runs:
        entered: set[str] = set()
        for m in r.moments:
            state = m.after.state.get(track_id)
            if state in figures and m.before.state.get(track_id) != state and _in(m, van, tot):
                entered.add(state)
        for state in entered:
            figures[state]["bereikt"] += 1
        last = r.at(tot)
        if last is not None and last.state.get(track_id) in figures:
            figures[last.state[track_id]]["nu"] += 1
    return figures


def _phases(definition: Definition, track_id: str, runs: Sequence[TrajectRun], van: date,
            tot: date) -> dict[str, dict[str, Any]]:
    track = definition.tracks[track_id]
    order = [p for p in process_order(definition, track_id, top=True)
             if not (not track.nodes[p].children and track.nodes[p].final)]
    stays: dict[str, list[float]] = defaultdict(list)
    running: Counter[str] = Counter()
    for r in runs:
        phase: str | None = None
        since: datetime | None = None
        for m in r.moments:
            if m.entry.at.date() > tot:
                break
            now = m.after.state.get(track_id, "").split(".", 1)[0]
            if now != phase:
                if phase is not None and since is not None and m.entry.at.date() >= van:
                    stays[phase].append((_aware(m.entry.at) - _aware(since)).total_seconds() / 86400)
                phase, since = now, m.entry.at
        if phase is not None and phase in order:
            running[phase] += 1
    return {p: {"median": round(statistics.median(stays[p]), 2) if stays[p] else None,
                "afgerond": len(stays[p]), "lopend": running.get(p, 0)} for p in order}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _active(run: TrajectRun, definition: Definition, van: date, tot: date) -> bool:
    started = run.started
    if started is None or started > tot:
        return False
    ended = run.ended(PHASE_TRACK, definition) if PHASE_TRACK in definition.tracks else None
    return ended is None or ended >= van


def _group(definition: Definition, runs: Sequence[TrajectRun], van: date, tot: date
           ) -> dict[str, Any]:
    return {"trajecten": len(runs),
            "indicators": {ind.id: _indicator(ind, definition, runs, van, tot)
                           for ind in definition.indicators}}


def compute_figures(definition: Definition, runs: Iterable[TrajectRun], van: date, tot: date
                    ) -> dict[str, Any]:
    """The figures of one definition over ``[van, tot]``: all active trajecten, then per
    gemeente and per organisation. Pure: feed it from any store.

    >>> from eengezin import load_definition
    >>> compute_figures(load_definition("basis"), [], date(2026, 1, 1), date(2026, 3, 31)
    ...                 )["trajecten"]
    0
    """
    active = [r for r in runs if _active(r, definition, van, tot)]
    figures = {"id": definition.id, "version": definition.version, "title": definition.title,
               **_group(definition, active, van, tot)}
    by_gemeente: dict[str, list[TrajectRun]] = defaultdict(list)
    by_organisatie: dict[str, list[TrajectRun]] = defaultdict(list)
    for r in active:
        by_gemeente[r.gemeente()].append(r)
        by_organisatie[r.organisatie(tot)].append(r)
    figures["per_gemeente"] = {g: _group(definition, rs, van, tot)
                               for g, rs in sorted(by_gemeente.items())}
    figures["per_organisatie"] = {o: _group(definition, rs, van, tot)
                                  for o, rs in sorted(by_organisatie.items())}
    return figures


@attrs.frozen(slots=True)
class Monitor:
    """The figures over one period, per definition."""

    van: date
    tot: date
    definitions: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        """The figures as a JSON-ready object (``eengezin monitor --json``)."""
        return {"van": self.van.isoformat(), "tot": self.tot.isoformat(),
                "definitions": list(self.definitions)}

    def to_text(self) -> str:
        """The figures as readable Dutch tables."""
        lines = [f"Monitor over {self.van.isoformat()} tot en met {self.tot.isoformat()}"]
        if not self.definitions:
            lines.append("Geen trajecten in deze periode.")
        for figures in self.definitions:
            lines.append("")
            lines.append(f"{figures['title']} ({figures['id']} v{figures['version']}): "
                         f"{figures['trajecten']} trajecten")
            lines.extend(_text_group(figures, "  "))
            for label, key in (("gemeente", "per_gemeente"), ("organisatie", "per_organisatie")):
                groups = figures[key]
                if len(groups) > 1 or NO_GROUP not in groups:
                    for name, group in groups.items():
                        lines.append(f"  Per {label}: {name} ({group['trajecten']} trajecten)")
                        lines.extend(_text_group(group, "    "))
        return "\n".join(lines) + "\n"


def _text_group(group: Mapping[str, Any], pad: str) -> list[str]:
    lines: list[str] = []
    for ind in group["indicators"].values():
        kind = ind["kind"]
        if kind == "count":
            lines.append(f"{pad}{ind['title']}: {ind['count']}")
        elif kind == "share":
            share = "—" if ind["share"] is None else f"{ind['share']:.0%}"
            target = ""
            if ind["target"] is not None and ind["meets_target"] is not None:
                verdict = "gehaald" if ind["meets_target"] else "niet gehaald"
                target = f"; doel minstens {ind['target']:.0%}: {verdict}"
            lines.append(f"{pad}{ind['title']}: {ind['ja']} van {ind['trajecten']} ({share}"
                         f"{target}); nee: {ind['nee']}, niet vastgelegd: "
                         f"{ind['niet_vastgelegd']}")
        elif kind in ("count_by", "last_value"):
            values = ", ".join(f"{k}: {v}" for k, v in ind["values"].items()) or "geen"
            median = f" (mediaan {ind['median']})" if ind.get("median") is not None else ""
            lines.append(f"{pad}{ind['title']}: {values}{median}")
        elif kind == "final_states":
            values = ", ".join(f"{k}: {v}" for k, v in ind["states"].items())
            lines.append(f"{pad}{ind['title']}: {values}")
        elif kind == "deadlines":
            lines.append(f"{pad}{ind['title']} (gehaald / gemist / lopend):")
            lines.extend(f"{pad}  {d:<40} {f['gehaald']:>4} / {f['gemist']:>4} / {f['lopend']:>4}"
                         for d, f in ind["deadlines"].items())
        elif kind == "levels":
            lines.append(f"{pad}{ind['title']} (bereikt / nu):")
            lines.extend(f"{pad}  {lvl:<40} {f['bereikt']:>4} / {f['nu']:>4}"
                         for lvl, f in ind["levels"].items())
        elif kind == "phase_days":
            lines.append(f"{pad}{ind['title']} (mediaan dagen, afgerond, lopend):")
            for phase, f in ind["phases"].items():
                median = "—" if f["median"] is None else f"{f['median']:.1f}"
                lines.append(f"{pad}  {phase:<40} {median:>7} {f['afgerond']:>5} {f['lopend']:>5}")
    return lines


def compute_monitor(store: SQLStore, *, van: date, tot: date,
                    progress: Callable[[str], None] | None = None) -> Monitor:
    """The figures over ``[van, tot]`` of every definition in ``store``.

    >>> # print(compute_monitor(open_store("trajecten.db"), van=date(2026, 1, 1),
    >>> #                       tot=date(2026, 3, 31)).to_text())
    """
    if van > tot:
        raise ValueError("van ligt na tot")
    per_definition: dict[tuple[str, str], tuple[Definition, list[TrajectRun]]] = {}
    for ref in store.definitions():
        try:
            definition = store.definition(ref)
        except EengezinError:
            continue  # cannot be compiled here (e.g. host predicates missing)
        _, runs = per_definition.setdefault((definition.id, definition.version),
                                            (definition, []))
        for tid in store.ids(definition=ref):
            runs.append(replay_history(definition, tid, store.history(tid)))
            if progress is not None:
                progress(tid)
    figures = tuple(compute_figures(d, runs, van, tot)
                    for _key, (d, runs) in sorted(per_definition.items()))
    return Monitor(van, tot, figures)
