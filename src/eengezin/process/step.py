"""The pure core: ``step(definition, traject, event) -> Outcome``.

No clock, no I/O, no logging. A refused event returns the traject it was given.
Order of a decision:

1. the event must be declared (else :class:`UnknownEventError`);
2. it must be possible now: the traject is started by the start event only,
   and each track the event names must be in a state that allows it;
3. the actor's role, when the event restricts roles;
4. the payload must fit the event's type;
5. every rule on the event is checked, and overdue deadlines add warnings.
   All violations are collected; any ``block`` refuses the event.
6. If accepted: the event's records update the facts, its transitions move
   tracks, effects run in order, entered states run their ``on_enter``
   records, deadlines start or end, and the event is appended to the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from ..deadlines import add_term
from ..errors import HostPredicateError, ReplayError, UnknownEventError
from ..rules.context import Context
from ..rules.paths import MISSING
from ..rules.verdict import Verdict, Violation
from ..traject import MIGRATION_EVENT, Change, Event, HistoryEntry, OpenDeadline, Outcome, Traject
from .model import DeadlineSpec, Definition, EventSpec, Record

NOT_STARTED = "traject.niet_gestart"
ALREADY_STARTED = "traject.al_gestart"
NOT_AVAILABLE = "event.niet_mogelijk"
INVALID_PAYLOAD = "payload.ongeldig"
TOO_EARLY = "event.te_vroeg"
HOST_FAILED = "predicaat.fout"


def local_moment(definition: Definition, at: datetime) -> datetime:
    """``at`` as a naive wall-clock time on the definition's calendar (Europe/Amsterdam
    unless the definition sets ``timezone:``). A naive ``at`` is taken as already local."""
    if at.tzinfo is None:
        return at
    return at.astimezone(definition.timezone).replace(tzinfo=None)


def local_day(definition: Definition, at: datetime) -> date:
    """The calendar day of ``at`` on the definition's calendar (terms and werkdagen)."""
    if at.tzinfo is None:
        return at.date()
    return at.astimezone(definition.timezone).date()


def new_traject(definition: Definition, traject_id: str) -> Traject:
    """An empty traject, before its start event (``aanmelden``) was accepted.

    >>> from eengezin import load_definition
    >>> new_traject(load_definition("basis"), "T1").state["regie"]
    'aanmelding'
    """
    return Traject(id=traject_id, definition=definition.ref, state=dict(definition.initial_state))


def _context(traject: Traject, event: Event, definition: Definition) -> Context:
    actor = event.actor
    return Context(
        data=event.data,
        facts=traject.facts,
        state=traject.state,
        event=event.name,
        at=event.at,
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else None,
        params=definition.params,
        seen=traject.seen,
        deadlines=traject.deadlines,
    )


def _availability(spec: EventSpec, traject: Traject, definition: Definition) -> Violation | None:
    if spec.available is not None:
        state = traject.state
        for t, ok in spec.available:
            if state.get(t) not in ok:
                break
        else:
            return None  # the usual case, without building a list
        blocked = [(t, ok) for t, ok in spec.available if state.get(t) not in ok]
    else:
        if any(traject.state.get(tr.track) in tr.sources for tr in spec.transitions):
            return None
        blocked = [(tr.track, tr.sources) for tr in spec.transitions]
    if not blocked:
        return None
    track = blocked[0][0]
    title = definition.tracks[track].title if track in definition.tracks else track
    here = traject.state.get(track)
    node = definition.tracks[track].nodes.get(here or "") if track in definition.tracks else None
    return Violation(
        NOT_AVAILABLE,
        "block",
        f"'{spec.title}' kan nu niet: {title} staat in '{node.title if node else here}'",
    )


def availability(definition: Definition, traject: Traject, event: str) -> Violation | None:
    """Why ``event`` is not possible in the traject's current state (``event.niet_mogelijk``),
    or None when its tracks allow it. Payload, role and rules are not looked at."""
    spec = definition.events.get(event)
    if spec is None:
        raise UnknownEventError(event, definition.id)
    return _availability(spec, traject, definition)


def evaluate(definition: Definition, traject: Traject, event: Event) -> Verdict:
    """Every violation the event would meet now; changes nothing.

    Raises :class:`UnknownEventError` for an event the definition does not declare.
    """
    return _decide_safely(definition, traject, event)[0]


def _host_failure(exc: HostPredicateError) -> Verdict:
    return Verdict((Violation(
        HOST_FAILED, "block",
        f"een controle van het eigen systeem ('{exc.predicate}') gaf een fout; probeer het "
        "later opnieuw of neem contact op met beheer",
    ),))


def _decide_safely(definition: Definition, traject: Traject, event: Event
                   ) -> tuple[Verdict, Context | None, HostPredicateError | None]:
    try:
        verdict, ctx = _decide(definition, traject, event)
    except HostPredicateError as exc:
        return _host_failure(exc), None, exc
    return verdict, ctx, None


def _decide(definition: Definition, traject: Traject, event: Event
            ) -> tuple[Verdict, Context | None]:
    """:func:`evaluate`, plus the context the rules read (None if no rule ran), so that
    :func:`step` need not build it twice."""
    spec = definition.events.get(event.name)
    if spec is None:
        raise UnknownEventError(event.name, definition.id)
    violations: list[Violation] = []
    if not traject.version:
        if event.name != definition.start_event:
            violations.append(Violation(
                NOT_STARTED, "block",
                f"het traject is nog niet aangemeld: eerst '{definition.start_event}'",
            ))
            return Verdict(tuple(violations)), None
    elif event.name == definition.start_event:
        violations.append(Violation(ALREADY_STARTED, "block", "het traject is al aangemeld"))
        return Verdict(tuple(violations)), None
    unavailable = _availability(spec, traject, definition)
    if unavailable is not None:
        violations.append(unavailable)
    last = traject.last_at
    if last is not None and not event.backdated and _earlier(definition, event.at, last):
        violations.append(Violation(
            TOO_EARLY, "block",
            "de datum ligt vóór de vorige gebeurtenis in dit traject; markeer een latere "
            "registratie als 'backdated'",
        ))
    if spec.roles is not None and spec.role_violation is not None:
        role = event.actor.role if event.actor else None
        if role not in spec.roles:
            violations.append(spec.role_violation)
    if spec.validate is not None:
        errors: list[str] = []
        data = event.data
        if type(data) is dict:
            spec.validate(data, "", errors, local_day(definition, event.at))
        elif not isinstance(data, Mapping):
            errors.append("de payload moet een object zijn")
        else:
            spec.validate(dict(data), "", errors, local_day(definition, event.at))
        if errors:
            violations.extend(Violation(INVALID_PAYLOAD, "block", msg) for msg in errors)
            return Verdict(tuple(violations)), None  # rules cannot read an invalid payload
    ctx = _context(traject, event, definition)
    for rule in spec.rules:
        if rule.applies is not None and not rule.applies(ctx):
            continue
        if not rule.require(ctx):
            violations.append(rule.violation_for(ctx))
    if traject.deadlines:
        day = local_day(definition, event.at)
        for open_deadline in traject.deadlines.values():
            if day > open_deadline.due:
                dspec = definition.deadlines.get(open_deadline.id)
                if dspec is not None:
                    violations.append(dspec.violation)
    return Verdict(tuple(violations)), ctx


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _owned(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars)."""
    # hot path (every accepted event): copy() clones a container in one C call (same size),
    # then only nested containers are replaced; scalars are shared, never visited one by one
    kind = type(value)
    if kind is dict:
        copied = value.copy()
        for k, v in value.items():
            if type(v) not in _SCALARS:
                copied[k] = _owned(v)
        return copied
    if kind is list:
        items = value.copy()
        for i, v in enumerate(value):
            if type(v) not in _SCALARS:
                items[i] = _owned(v)
        return items
    if kind in _SCALARS:
        return value
    if isinstance(value, list):
        return [_owned(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _owned(v) for k, v in value.items()}
    return value


def _apply_records(records: tuple[Record, ...], facts: dict[str, Any], ctx: Context) -> None:
    for rec in records:
        if rec.when is not None and not rec.when(ctx):
            continue
        op = rec.op
        if op == "unset":
            facts.pop(rec.fact, None)
            continue
        value = rec.value(ctx) if rec.value is not None else None
        if value is MISSING:
            value = None
        if op == "set":
            facts[rec.fact] = value
        elif op == "put":
            key = rec.key(ctx) if rec.key is not None else None
            if key is MISSING or key is None:
                continue
            old = facts.get(rec.fact)
            new = dict(old) if isinstance(old, dict) else {}
            if isinstance(key, list):  # a list of keys: put the value under each
                for k in key:
                    new[str(k)] = value
            else:
                new[str(key)] = value
            facts[rec.fact] = new
        elif op == "remove":
            key = rec.key(ctx) if rec.key is not None else None
            old = facts.get(rec.fact)
            if isinstance(old, dict) and key in old:
                new = dict(old)
                del new[key]
                facts[rec.fact] = new
            elif isinstance(old, list) and key in old:
                facts[rec.fact] = [x for x in old if x != key]
        elif op == "append":
            old = facts.get(rec.fact)
            facts[rec.fact] = [*old, value] if isinstance(old, list) else [value]


def apply_records(records: tuple[Record, ...], facts: dict[str, Any], ctx: Context) -> None:
    """Apply ``records`` in order to ``facts`` (changed in place), reading ``ctx``: the
    core's meaning of ``set``/``put``/``remove``/``append``/``unset``, for a reference
    decision that must record exactly as :func:`step` does."""
    _apply_records(records, facts, ctx)


def _move(
    definition: Definition, state: dict[str, str], track_id: str, target: str, entered: list[str],
    exited: list[str],
) -> None:
    track = definition.tracks[track_id]
    old = state[track_id]
    if old == target:
        return
    old_chain = track.ancestors[old]
    new_chain = track.ancestors[target]
    for path in old_chain:
        if path not in new_chain:
            exited.append(f"{track_id}:{path}")
    for path in reversed(new_chain):
        if path not in old_chain:
            entered.append(f"{track_id}:{path}")
    state[track_id] = target


def _due(dspec: DeadlineSpec, day: date, ctx: Context) -> date:
    """The last day of a deadline that starts on ``day``: a date the payload names
    (``due: data.evaluatie_op``), else the term after ``day``."""
    if dspec.due_from is not None:
        given = dspec.due_from(ctx)
        if isinstance(given, str):
            try:
                return date.fromisoformat(given)
            except ValueError:
                pass
    return add_term(day, dspec.amount, dspec.unit)


def step(definition: Definition, traject: Traject, event: Event) -> Outcome:
    """Decide ``event`` for ``traject``: the verdict and the traject after it.

    >>> from datetime import datetime
    >>> from eengezin import load_definition, Event
    >>> basis = load_definition("basis")
    >>> t = new_traject(basis, "T1")
    >>> out = step(basis, t, Event("aanmelden", datetime(2026, 1, 5, 9),
    ...            {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]}, "vraag": "hulp"}))
    >>> out.accepted, out.traject.state["regie"]
    (True, 'aanmelding')
    """
    verdict, ctx, error = _decide_safely(definition, traject, event)
    if not verdict.accepted:
        return Outcome(event=event, verdict=verdict, traject=traject, error=error)
    return _carry_out(definition, traject, event, verdict, ctx)


def perform(definition: Definition, traject: Traject, event: Event) -> Outcome:
    """Carry ``event`` out without deciding it: no rule, role or payload check runs.

    For tools that already know the event is accepted in a traject that reads alike (the
    model checker rebuilds states from steps it decided before, see
    :mod:`eengezin.checker.stepping`). Hosts use :func:`step`, which decides first.
    Raises :class:`UnknownEventError` for an event the definition does not declare.
    """
    if event.name not in definition.events:
        raise UnknownEventError(event.name, definition.id)
    return _carry_out(definition, traject, event, Verdict(()), None)


def _carry_out(definition: Definition, traject: Traject, event: Event, verdict: Verdict,
               ctx: Context | None) -> Outcome:
    """The accepted ``event``'s changes to ``traject`` (``ctx``: the rules' context, if any)."""
    spec = definition.events[event.name]
    old_facts = traject.facts
    facts = dict(old_facts)
    state = dict(traject.state)
    entered: list[str] = []
    exited: list[str] = []
    applied: list[str] = []
    if ctx is None:
        ctx = _context(traject, event, definition)
    # the history keeps its own copy: a caller mutating its payload later changes nothing
    data = _owned(event.data)
    ctx.data = data
    ctx.facts = facts
    ctx.state = state
    try:
        _apply_records(spec.records, facts, ctx)
        _transitions_and_effects(definition, spec, ctx, facts, state, entered, exited, applied)
    except HostPredicateError as exc:  # a guard or a record's condition asked the host
        return Outcome(event=event, verdict=_host_failure(exc), traject=traject, error=exc)
    deadlines = traject.deadlines
    started: tuple[OpenDeadline, ...] = ()
    ended: tuple[str, ...] = ()
    if spec.deadline_ends or spec.deadline_starts:
        deadlines = dict(deadlines)
        gone = [d.id for d in spec.deadline_ends if deadlines.pop(d.id, None) is not None]
        day = local_day(definition, event.at)
        fresh: list[OpenDeadline] = []
        try:
            for dspec in spec.deadline_starts:
                if dspec.start_when is None or dspec.start_when(ctx):
                    opened = OpenDeadline(dspec.id, day, _due(dspec, day, ctx))
                    deadlines[dspec.id] = opened
                    fresh.append(opened)
        except HostPredicateError as exc:
            return Outcome(event=event, verdict=_host_failure(exc), traject=traject, error=exc)
        started = tuple(fresh)
        ended = tuple(g for g in gone if g not in deadlines)
    moved_state = {t: s for t, s in state.items() if traject.state.get(t) != s}
    changed = {k: v for k, v in facts.items() if old_facts.get(k, _ABSENT) is not v}
    unset = tuple(k for k in old_facts if k not in facts)
    version = traject.version + 1
    entry = HistoryEntry(
        event=event.name,
        at=event.at,
        data=data,
        actor=event.actor,
        definition=definition.ref,
        warnings=verdict.violations,
        version=version,
        backdated=event.backdated,
        change=Change(moved_state, changed, unset, started, ended, tuple(applied)),
    )
    seen = traject.seen
    if event.name not in seen:
        seen = seen | {event.name}
    new = Traject(
        id=traject.id,
        definition=traject.definition,
        state=state,
        facts=facts,
        deadlines=deadlines,
        version=version,
        seen=seen,
        last_at=_later(definition, traject.last_at, event.at),
    )
    return Outcome(event=event, verdict=verdict, traject=new, effects=tuple(applied),
                   entered=tuple(entered), exited=tuple(exited), entry=entry)


_ABSENT = object()


def _transitions_and_effects(definition: Definition, spec: EventSpec, ctx: Context,
                             facts: dict[str, Any], state: dict[str, str], entered: list[str],
                             exited: list[str], applied: list[str]) -> None:
    # at most one transition per track: the first whose source and guard match the state
    # the track had before this event (so 1->2 and 2->3 on one event never chain)
    before = dict(state)
    moved: set[str] = set()
    for tr in spec.transitions:
        if tr.track in moved or before[tr.track] not in tr.sources:
            continue
        if tr.when is None or tr.when(ctx):
            moved.add(tr.track)
            _move(definition, state, tr.track, tr.target, entered, exited)
    for effect in spec.effects:
        if effect.when is not None and not effect.when(ctx):
            continue
        applied.append(effect.id)
        _apply_records(effect.records, facts, ctx)
        for track_id, target in effect.moves:
            _move(definition, state, track_id, target, entered, exited)
    for label in entered:
        track_id, path = label.split(":", 1)
        node = definition.tracks[track_id].nodes[path]
        if node.on_enter:
            _apply_records(node.on_enter, facts, ctx)


def apply(definition: Definition, traject: Traject, entry: HistoryEntry) -> Traject:
    """The traject after a logged entry, from what the entry recorded: no rule and no
    predicate (built-in or host) runs. This is how a store's log is trusted on load.

    An entry without a recorded change (written before eengezin 0.2) is decided again.
    Raises :class:`ReplayError` when the entry does not follow the traject (wrong version).
    """
    change = entry.change
    if entry.version and entry.version != traject.version + 1:
        raise ReplayError(traject.id, traject.version + 1, entry.event,
                          f"entry has version {entry.version}")
    if change is None:
        out = step(definition, traject, Event(entry.event, entry.at, entry.data, entry.actor,
                                              entry.backdated))
        if not out.accepted:
            raise ReplayError(traject.id, traject.version + 1, entry.event,
                              "refused: " + ", ".join(out.verdict.rule_ids))
        return out.traject
    if entry.event == MIGRATION_EVENT:  # a whole snapshot under the new definition
        return Traject(id=traject.id, definition=entry.definition, state=dict(change.state),
                       facts=dict(change.facts), deadlines={d.id: d for d in change.started},
                       version=traject.version + 1, seen=traject.seen,
                       last_at=traject.last_at)
    state = traject.state
    if change.state:
        state = {**state, **change.state}
    facts = traject.facts
    if change.facts or change.unset:
        facts = dict(facts)
        for key in change.unset:
            facts.pop(key, None)
        facts.update(change.facts)
    deadlines = traject.deadlines
    if change.started or change.ended:
        deadlines = dict(deadlines)
        for did in change.ended:
            deadlines.pop(did, None)
        for d in change.started:
            deadlines[d.id] = d
    seen = traject.seen if entry.event in traject.seen else traject.seen | {entry.event}
    return Traject(id=traject.id, definition=traject.definition, state=state, facts=facts,
                   deadlines=deadlines, version=traject.version + 1, seen=seen,
                   last_at=_later(definition, traject.last_at, entry.at))


def _later(definition: Definition, last: datetime | None, at: datetime) -> datetime:
    if last is None or not _earlier(definition, at, last):
        return at
    return last


def _earlier(definition: Definition, a: datetime, b: datetime) -> bool:
    """``a`` before ``b``; moments with and without a zone compare on the local calendar."""
    if (a.tzinfo is None) == (b.tzinfo is None):
        return a < b  # the usual case: one C comparison
    return local_moment(definition, a) < local_moment(definition, b)


def restore(definition: Definition, traject_id: str, entries: Iterable[HistoryEntry]) -> Traject:
    """Rebuild a traject by applying its log (trusting the recorded changes)."""
    traject = new_traject(definition, traject_id)
    for entry in entries:
        traject = apply(definition, traject, entry)
    return traject


def replay(definition: Definition, traject_id: str, history: Iterable[HistoryEntry | Event]) -> Traject:
    """Rebuild a traject by deciding every entry (or event) again; each must be accepted.

    Raises :class:`ReplayError` (an :class:`~eengezin.errors.EengezinError`) when one
    would now be refused: the history does not belong to this definition.
    """
    traject = new_traject(definition, traject_id)
    for h in history:
        event = h if isinstance(h, Event) else Event(h.event, h.at, h.data, h.actor, h.backdated)
        out = step(definition, traject, event)
        if not out.accepted:
            raise ReplayError(traject_id, traject.version + 1, event.name,
                              "refused: " + ", ".join(out.verdict.rule_ids))
        traject = out.traject
    return traject


def available_events(definition: Definition, traject: Traject, at: Any) -> dict[str, Verdict]:
    """Each event possible in the current state, with the rules that already decide it.

    Rules that read the payload (``data.…``) are left out: they depend on what is
    sent, and :func:`evaluate` reports them for a concrete payload. Role checks
    depend on the actor and are likewise left to :func:`evaluate`.
    """
    result: dict[str, Verdict] = {}
    for name, spec in definition.events.items():
        if (name == definition.start_event) == bool(traject.version):
            continue
        if _availability(spec, traject, definition) is not None:
            continue
        ctx = _context(traject, Event(name, at, {}), definition)
        violations: list[Violation] = []
        for rule in spec.rules:
            if rule.reads_data:
                continue
            if rule.applies is not None and not rule.applies(ctx):
                continue
            if not rule.require(ctx):
                violations.append(rule.violation_for(ctx))
        result[name] = Verdict(tuple(violations))
    return result
