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

from collections.abc import Mapping
from typing import Any

from ..deadlines import add_term
from ..errors import UnknownEventError
from ..rules.context import Context
from ..rules.paths import MISSING
from ..rules.verdict import Verdict, Violation
from ..traject import Event, HistoryEntry, OpenDeadline, Outcome, Traject
from .model import Definition, EventSpec, Record

NOT_STARTED = "traject.niet_gestart"
ALREADY_STARTED = "traject.al_gestart"
NOT_AVAILABLE = "event.niet_mogelijk"
INVALID_PAYLOAD = "payload.ongeldig"


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
        history=traject.history,
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
    return Violation(
        NOT_AVAILABLE,
        "block",
        f"'{spec.title}' kan nu niet: {title} staat in '{traject.state.get(track)}'",
    )


def event_possible(definition: Definition, traject: Traject, event_name: str) -> bool:
    """Whether the traject's state allows ``event_name`` now: the start event before the
    traject is started, any other event after, in a state of every track it names.

    Rules, role and payload are not asked (:func:`evaluate` does). Raises
    :class:`UnknownEventError` for an event the definition does not declare.

    >>> from eengezin import load_definition
    >>> basis = load_definition("basis")
    >>> t = new_traject(basis, "T1")
    >>> event_possible(basis, t, "aanmelden"), event_possible(basis, t, "signaal_melden")
    (True, False)
    """
    spec = definition.events.get(event_name)
    if spec is None:
        raise UnknownEventError(event_name, definition.id)
    if not traject.started or event_name == definition.start_event:
        return not traject.started and event_name == definition.start_event
    return _availability(spec, traject, definition) is None


def evaluate(definition: Definition, traject: Traject, event: Event) -> Verdict:
    """Every violation the event would meet now; changes nothing.

    Raises :class:`UnknownEventError` for an event the definition does not declare.
    """
    return _decide(definition, traject, event)[0]


def _decide(definition: Definition, traject: Traject, event: Event
            ) -> tuple[Verdict, Context | None]:
    """:func:`evaluate`, plus the context the rules read (None if no rule ran), so that
    :func:`step` need not build it twice."""
    spec = definition.events.get(event.name)
    if spec is None:
        raise UnknownEventError(event.name, definition.id)
    violations: list[Violation] = []
    if not traject.history:
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
    if spec.roles is not None and spec.role_violation is not None:
        role = event.actor.role if event.actor else None
        if role not in spec.roles:
            violations.append(spec.role_violation)
    if spec.validate is not None:
        errors: list[str] = []
        data = event.data
        if type(data) is dict:
            spec.validate(data, "", errors, event.at.date())
        elif not isinstance(data, Mapping):
            errors.append("de payload moet een object zijn")
        else:
            spec.validate(dict(data), "", errors, event.at.date())
        if errors:
            violations.extend(Violation(INVALID_PAYLOAD, "block", msg) for msg in errors)
            return Verdict(tuple(violations)), None  # rules cannot read an invalid payload
    ctx = _context(traject, event, definition)
    for rule in spec.rules:
        if rule.applies is not None and not rule.applies(ctx):
            continue
        if not rule.require(ctx):
            violations.append(rule.violation)
    if traject.deadlines:
        day = event.at.date()
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
) -> None:
    track = definition.tracks[track_id]
    old = state[track_id]
    if old == target:
        return
    old_chain = set(track.ancestors[old])
    for path in reversed(track.ancestors[target]):
        if path not in old_chain:
            entered.append(f"{track_id}:{path}")
    state[track_id] = target


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
    verdict, ctx = _decide(definition, traject, event)
    if not verdict.accepted:
        return Outcome(event=event, verdict=verdict, traject=traject)
    spec = definition.events[event.name]
    facts = dict(traject.facts)
    state = dict(traject.state)
    entered: list[str] = []
    if ctx is None:
        ctx = _context(traject, event, definition)
    # the history keeps its own copy: a caller mutating its payload later changes nothing
    data = _owned(event.data)
    ctx.data = data
    ctx.facts = facts
    ctx.state = state
    _apply_records(spec.records, facts, ctx)
    # at most one transition per track: the first whose source and guard match the state
    # the track had before this event (so 1->2 and 2->3 on one event never chain)
    before = dict(state)
    moved: set[str] = set()
    for tr in spec.transitions:
        if tr.track in moved or before[tr.track] not in tr.sources:
            continue
        if tr.when is None or tr.when(ctx):
            moved.add(tr.track)
            _move(definition, state, tr.track, tr.target, entered)
    applied: list[str] = []
    for effect in spec.effects:
        if effect.when is not None and not effect.when(ctx):
            continue
        applied.append(effect.id)
        _apply_records(effect.records, facts, ctx)
        for track_id, target in effect.moves:
            _move(definition, state, track_id, target, entered)
    for label in entered:
        track_id, path = label.split(":", 1)
        node = definition.tracks[track_id].nodes[path]
        if node.on_enter:
            _apply_records(node.on_enter, facts, ctx)
    deadlines = traject.deadlines
    if spec.deadline_ends or spec.deadline_starts:
        deadlines = dict(deadlines)
        for dspec in spec.deadline_ends:
            deadlines.pop(dspec.id, None)
        day = event.at.date()
        for dspec in spec.deadline_starts:
            if dspec.start_when is None or dspec.start_when(ctx):
                deadlines[dspec.id] = OpenDeadline(
                    dspec.id, day, add_term(day, dspec.amount, dspec.unit)
                )
    entry = HistoryEntry(
        event=event.name,
        at=event.at,
        data=data,
        actor=event.actor,
        definition=definition.ref,
        warnings=verdict.violations,
    )
    new = Traject(
        id=traject.id,
        definition=traject.definition,
        state=state,
        facts=facts,
        deadlines=deadlines,
        history=(*traject.history, entry),
    )
    return Outcome(event=event, verdict=verdict, traject=new, effects=tuple(applied),
                   entered=tuple(entered))


def replay(definition: Definition, traject_id: str, history: tuple[HistoryEntry, ...]) -> Traject:
    """Rebuild a traject from its history; every entry must be accepted again.

    Raises :class:`ValueError` if an entry would now be refused (the history does
    not belong to this definition).
    """
    traject = new_traject(definition, traject_id)
    for i, h in enumerate(history):
        out = step(definition, traject, Event(h.event, h.at, h.data, h.actor))
        if not out.accepted:
            ids = ", ".join(out.verdict.rule_ids)
            raise ValueError(f"history entry {i + 1} ({h.event}) is refused on replay: {ids}")
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
        if (name == definition.start_event) == bool(traject.history):
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
                violations.append(rule.violation)
        result[name] = Verdict(tuple(violations))
    return result
