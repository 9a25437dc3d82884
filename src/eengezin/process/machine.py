"""The definition compiled onto ``transitions``: one shared HierarchicalMachine, and a
reference decision path that runs on it.

Why both this and :func:`eengezin.process.step`? ``transitions`` gives us the
statechart semantics (nested states entered through their initial child, parallel
regions that each handle an event, guards, ``on_enter`` callbacks) and diagrams, but
its models are heavy: a model registered in a machine costs kilobytes and
``add_model`` is O(n) in the number of models. A traject therefore stays plain data
and :func:`~eengezin.process.step` decides events from the compiled tables. This
module keeps the two honest: :func:`reference_next_state` decides the same event
through the transitions machine, and a hypothesis test (``tests/test_differential.py``)
checks that both agree on random histories.

Layout of the machine::

    traject                      (root, parallel)
    ├── regie                    (one region per track)
    │   ├── aanmelding
    │   ├── startoverleg
    │   │   ├── voorbereiding    -> full name "traject.regie.startoverleg.voorbereiding"
    …

The separator is ``"."``. transitions' default is ``"_"``, which silently turns a
state named ``geen_signalen`` into ``geen`` -> ``signalen``; the definition compiler
refuses a ``.`` in a state name, so ``.`` can never occur inside one of our ids.

The machine is built once per :class:`~eengezin.process.model.Definition` object and
shared. It has exactly one model: a scratch *probe* that is loaded with a traject's
state for the length of one decision (under a lock), never one model per traject.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from transitions.extensions.nesting import HierarchicalMachine, NestedState

from ..errors import EengezinError, UnknownEventError
from ..rules.context import Context
from ..rules.predicates import Check
from ..rules.verdict import Verdict, Violation
from ..traject import Event, OpenDeadline
from .model import Definition, EventSpec, Track
from .step import ALREADY_STARTED, INVALID_PAYLOAD, NOT_AVAILABLE, NOT_STARTED, _apply_records

SEPARATOR = "."
ROOT = "traject"
ANY_ACTIVE = "*"
_AVAILABLE = "?"  # prefix of the triggers that encode ``when_in`` (availability only)
_EFFECT = "!"  # prefix of the triggers that carry out an effect's move


class MachineBuildError(EengezinError):
    """A definition that cannot be laid out as a transitions machine."""


class DottedState(NestedState):
    """A transitions state whose nested names are joined with ``.`` instead of ``_``."""

    separator = SEPARATOR


class DottedMachine(HierarchicalMachine):
    """A HierarchicalMachine over :class:`DottedState`."""

    state_cls = DottedState


class _Probe:
    """The one scratch model of a machine; holds the decision under way."""

    state: Any  # set by transitions

    def __init__(self) -> None:
        self.ctx: Context | None = None
        self.accepted = False
        self.entered: list[tuple[str, str]] = []


@attrs.frozen(slots=True)
class ReferenceOutcome:
    """What the reference path decided for one event."""

    verdict: Verdict
    state: Mapping[str, str]
    facts: Mapping[str, Any]
    entered: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.verdict.accepted


def full_name(track: str, path: str) -> str:
    """The transitions name of a dotted state ``path`` in ``track``.

    >>> full_name("regie", "startoverleg.voorbereiding")
    'traject.regie.startoverleg.voorbereiding'
    """
    return SEPARATOR.join((ROOT, track, path))


def split_name(name: str) -> tuple[str, str]:
    """Inverse of :func:`full_name`.

    >>> split_name("traject.veiligheid.geen_signalen")
    ('veiligheid', 'geen_signalen')
    """
    root, track, path = name.split(SEPARATOR, 2)
    if root != ROOT:
        raise ValueError(f"{name!r} is not a state of this machine")
    return track, path


def _flatten(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    out: list[str] = []
    for item in value:
        out.extend(_flatten(item))
    return out


class TransitionsMachine:
    """A definition laid out as one transitions HierarchicalMachine (see module docs).

    Build it with :func:`machine_for`, which caches one per definition.
    """

    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self.probe = _Probe()
        self.lock = threading.Lock()
        for tid in definition.tracks:
            if SEPARATOR in tid:
                raise MachineBuildError(f"track id {tid!r} contains {SEPARATOR!r}")
        self.machine = DottedMachine(
            model=self.probe,
            states=[{"name": ROOT, "parallel": [self._region(t) for t in definition.tracks.values()]}],
            initial=ROOT,
            auto_transitions=False,
            ignore_invalid_triggers=True,
            send_event=True,
            model_attribute="state",
        )
        raw_events = definition.raw.get("events", {})
        for eid, spec in definition.events.items():
            self._add_event(spec, raw_events.get(eid) or {})
        for raw_effect in definition.raw.get("effects", []):
            self._add_effect(raw_effect)

    # ------------------------------------------------------------ layout
    def _region(self, track: Track) -> dict[str, Any]:
        top = [n for n in track.nodes.values() if n.parent is None]
        return {"name": track.id, "children": [self._node(track, n.path) for n in top],
                "initial": self._initial_child(track, None, track.initial)}

    def _initial_child(self, track: Track, parent: str | None, leaf: str) -> str:
        prefix = f"{parent}." if parent else ""
        rest = leaf[len(prefix):]
        return rest.split(".", 1)[0]

    def _node(self, track: Track, path: str) -> dict[str, Any]:
        node = track.nodes[path]
        name = path.rsplit(".", 1)[-1]
        spec: dict[str, Any] = {"name": name, "final": node.final,
                                "on_enter": [self._enter_callback(track.id, path)]}
        if node.children:
            spec["children"] = [self._node(track, c) for c in node.children]
            spec["initial"] = self._initial_child(track, path, node.initial_leaf)
        return spec

    def _enter_callback(self, track: str, path: str) -> Callable[[Any], None]:
        def entered(event_data: Any) -> None:
            self.probe.entered.append((track, path))

        return entered

    def _names(self, track_id: str, names: Any) -> list[str]:
        """transitions names for a ``from``/``when_in`` value; compound states stay compound."""
        track = self.definition.tracks[track_id]
        items = [names] if isinstance(names, str) else list(names)
        out: list[str] = []
        for name in items:
            if name == ANY_ACTIVE:
                for node in track.nodes.values():
                    if node.parent is not None:
                        continue
                    if track.leaves_under(node.path) <= track.active:
                        out.append(full_name(track_id, node.path))
                    else:  # a compound state with a final child: list its active leaves
                        out.extend(full_name(track_id, leaf)
                                   for leaf in sorted(track.leaves_under(node.path) & track.active))
            else:
                out.append(full_name(track_id, name))
        return out

    def _verdict_allows(self, event_data: Any) -> bool:
        return self.probe.accepted

    def _guard(self, check: Check) -> Callable[[Any], bool]:
        def guard(event_data: Any) -> bool:
            assert self.probe.ctx is not None
            return check(self.probe.ctx)

        return guard

    def _add_event(self, spec: EventSpec, raw: Mapping[str, Any]) -> None:
        raw_transitions = raw.get("transitions", [])
        if len(raw_transitions) != len(spec.transitions):
            raise MachineBuildError(f"event {spec.id!r}: compiled and raw transitions differ")
        for compiled, tr in zip(spec.transitions, raw_transitions, strict=True):
            conditions: list[str | Callable[..., bool | None]] = [self._verdict_allows]
            if compiled.when is not None:
                conditions.append(self._guard(compiled.when))
            self.machine.add_transition(
                spec.id, self._names(tr["track"], tr["from"]), full_name(tr["track"], tr["to"]),
                conditions=conditions,
            )
        for track_id, names in (raw.get("when_in") or {}).items():
            self.machine.add_transition(_AVAILABLE + spec.id, self._names(track_id, names), None)

    def _add_effect(self, raw: Mapping[str, Any]) -> None:
        for track_id, target in (raw.get("move") or {}).items():
            track = self.definition.tracks[track_id]
            leaf = track.nodes[target].initial_leaf
            sources = [full_name(track_id, s) for s in sorted(track.leaves) if s != leaf]
            self.machine.add_transition(
                f"{_EFFECT}{raw['id']}{SEPARATOR}{track_id}", sources, full_name(track_id, target),
                conditions=[self._verdict_allows],
            )

    # ------------------------------------------------------------ queries
    def state_names(self) -> list[str]:
        """Every state of the machine by its full name (compound states included)."""
        return list(self.machine.get_nested_state_names())

    def _load(self, state: Mapping[str, str]) -> None:
        self.machine.set_state([full_name(t, state[t]) for t in self.definition.tracks], self.probe)

    def _read(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in _flatten(self.probe.state):
            track, path = split_name(name)
            out[track] = path
        return out

    def _has_trigger(self, trigger: str, track: str, path: str) -> bool:
        return trigger in self.machine.get_triggers(full_name(track, path))

    def _handled(self, trigger: str, state: Mapping[str, str]) -> bool:
        return any(self._has_trigger(trigger, t, state[t]) for t in self.definition.tracks)

    def available(self, spec: EventSpec, state: Mapping[str, str]) -> str | None:
        """None when ``spec`` may happen in ``state``, else the first track that stops it."""
        when_in = self.definition.raw.get("events", {}).get(spec.id, {}).get("when_in")
        if when_in:
            for track in when_in:
                if not self._has_trigger(_AVAILABLE + spec.id, track, state[track]):
                    return str(track)
            return None
        if self._handled(spec.id, state):
            return None
        return spec.transitions[0].track if spec.transitions else next(iter(self.definition.tracks))

    # ------------------------------------------------------------ deciding
    def decide(self, state: Mapping[str, str], facts: Mapping[str, Any], event: Event, *,
               started: bool, seen: frozenset[str] = frozenset(),
               deadlines: Mapping[str, OpenDeadline] | None = None) -> ReferenceOutcome:
        """See :func:`reference_next_state`."""
        definition = self.definition
        spec = definition.events.get(event.name)
        if spec is None:
            raise UnknownEventError(event.name, definition.id)
        actor = event.actor
        ctx = Context(
            data=event.data, facts=facts, state=state, event=event.name, at=event.at,
            actor_id=actor.id if actor else None, actor_role=actor.role if actor else None,
            params=definition.params, seen=seen, deadlines=deadlines or {},
        )
        violations = self._violations(spec, state, event, ctx, started, deadlines or {})
        verdict = Verdict(tuple(violations))
        with self.lock:
            self._load(state)
            self.probe.accepted = verdict.accepted
            self.probe.entered = []
            new_facts = dict(facts)
            ctx.facts = new_facts
            self.probe.ctx = ctx
            if verdict.accepted:
                _apply_records(spec.records, new_facts, ctx)
            if self._handled(spec.id, state):  # (transitions logs a warning otherwise)
                self.machine.trigger_event(self.probe, spec.id)
            ctx.state = self._read()
            if verdict.accepted:
                for effect in spec.effects:
                    if effect.when is not None and not effect.when(ctx):
                        continue
                    _apply_records(effect.records, new_facts, ctx)
                    for track_id, _ in effect.moves:
                        self.machine.trigger_event(
                            self.probe, f"{_EFFECT}{effect.id}{SEPARATOR}{track_id}")
                    ctx.state = self._read()
                for track_id, path in self.probe.entered:
                    _apply_records(definition.tracks[track_id].nodes[path].on_enter, new_facts, ctx)
            new_state = self._read()
            entered = tuple(f"{t}:{p}" for t, p in self.probe.entered)
            self.probe.ctx = None
        if not verdict.accepted:
            return ReferenceOutcome(verdict, dict(state), dict(facts))
        return ReferenceOutcome(verdict, new_state, new_facts, entered)

    def _violations(self, spec: EventSpec, state: Mapping[str, str], event: Event, ctx: Context,
                    started: bool, deadlines: Mapping[str, OpenDeadline]) -> list[Violation]:
        definition = self.definition
        is_start = event.name == definition.start_event
        if not started and not is_start:
            return [Violation(NOT_STARTED, "block", "niet gestart")]
        if started and is_start:
            return [Violation(ALREADY_STARTED, "block", "al gestart")]
        out: list[Violation] = []
        blocked_by = self.available(spec, state)
        if blocked_by is not None:
            out.append(Violation(NOT_AVAILABLE, "block", f"niet mogelijk in {blocked_by}"))
        role = event.actor.role if event.actor else None
        if spec.roles is not None and spec.role_violation is not None and role not in spec.roles:
            out.append(spec.role_violation)
        if spec.validate is not None:
            errors: list[str] = []
            if isinstance(event.data, Mapping):
                spec.validate(dict(event.data), "", errors, event.at.date())
            else:
                errors.append("geen object")
            if errors:
                out.extend(Violation(INVALID_PAYLOAD, "block", e) for e in errors)
                return out
        out.extend(rule.violation_for(ctx) for rule in spec.rules
                   if (rule.applies is None or rule.applies(ctx)) and not rule.require(ctx))
        day = event.at.date()
        out.extend(definition.deadlines[d.id].violation for d in deadlines.values()
                   if day > d.due and d.id in definition.deadlines)
        return out


_machines: dict[int, TransitionsMachine] = {}
_machines_lock = threading.Lock()


def machine_for(definition: Definition) -> TransitionsMachine:
    """The one transitions machine of ``definition``, built on first use and then shared.

    Cached per definition *object*, not per content hash: two loads of the same YAML
    with different host predicates have the same hash but different guards.

    >>> from eengezin import load_definition
    >>> basis = load_definition("basis")
    >>> machine_for(basis) is machine_for(basis)
    True
    """
    key = id(definition)
    with _machines_lock:
        found = _machines.get(key)
        if found is not None and found.definition is definition:
            return found
        built = TransitionsMachine(definition)
        _machines[key] = built
        weakref.finalize(definition, _machines.pop, key, None)
        return built


def reference_next_state(
    definition: Definition,
    state: Mapping[str, str],
    event: Event,
    facts: Mapping[str, Any] | None = None,
    *,
    started: bool = True,
    seen: frozenset[str] = frozenset(),
    deadlines: Mapping[str, OpenDeadline] | None = None,
) -> ReferenceOutcome:
    """Decide ``event`` on the transitions machine: the verdict, next state per track and facts.

    The reference for :func:`eengezin.process.step`, used by the differential tests;
    it is slow (a lock and a full transitions trigger per call) and not meant for
    production. Guards are our compiled conditions; every transition is also guarded
    by the rules verdict, so a refused event moves nothing. ``started`` says whether
    the start event was accepted before; ``seen`` and ``deadlines`` are only read by
    predicates and overdue warnings.

    >>> from datetime import datetime
    >>> from eengezin import load_definition
    >>> basis = load_definition("basis")
    >>> out = reference_next_state(basis, {"regie": "vraagverheldering",
    ...                                    "veiligheid": "geen_signalen"},
    ...                            Event("regie_starten", datetime(2026, 1, 5)))
    >>> out.accepted, out.state["regie"]
    (True, 'startoverleg.voorbereiding')
    """
    return machine_for(definition).decide(
        state, facts or {}, event, started=started, seen=seen, deadlines=deadlines)
