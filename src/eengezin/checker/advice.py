"""Finding ``advies_onmogelijk``: a rule names its way forward, but the way is shut.

A rule may name the events that resolve it (``next:``); a host offers them to the
professional who was refused. That advice is only worth something when the named events
can be taken where the rule blocks. This module looks at every reachable state the
explorer found: where an event is possible and one of its blocking rules names a ``next``
event that is not possible in that state, it checks (on the real traject, with the
explorer's representative payloads) whether the rule really blocks there and names that
event; if so, that is a finding, with the state's trace.

It knows nothing of how the explorer walks the space: the explorer hands it the states,
a test for "possible here" and the payloads to try (see :func:`impossible_advice`).

>>> from eengezin.checker import check_definition
>>> [f for f in check_definition("basis").findings if f.kind == "advies_onmogelijk"]
[]
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import datetime

import attrs

from ..process.model import Definition, Rule
from ..process.step import evaluate
from ..traject import Event, Traject

__all__ = ["Advice", "Adviser", "impossible_advice", "named_next", "rules_with_next"]


@attrs.frozen
class Advice:
    """A blocking rule whose ``next`` event is not possible in a reachable state."""

    rule: str
    event: str  # the event the rule refused
    missing: str  # the ``next`` event that cannot be taken there
    state: tuple[tuple[str, str], ...]
    key: Hashable  # the explorer's state, for the trace

    def message(self, definition: Definition) -> str:
        """A Dutch description for the definition's author (ids are the author's words)."""
        where = ", ".join(f"{t}={s}" for t, s in self.state)
        return (f"regel '{self.rule}' weigert '{self.event}' in {where} en noemt "
                f"'{self.missing}' als volgende stap, maar dat event kan daar niet")


def rules_with_next(definition: Definition) -> dict[str, tuple[Rule, ...]]:
    """Per event: its blocking rules that name ``next`` events (possibly conditionally)."""
    out: dict[str, tuple[Rule, ...]] = {}
    for eid, spec in definition.events.items():
        rules = tuple(r for r in spec.rules if r.severity == "block"
                      and (r.violation.next or r.next_when))
        if rules:
            out[eid] = rules
    return out


def named_next(rule: Rule) -> tuple[str, ...]:
    """The events ``rule`` names as ``next`` (conditional ones too)."""
    return tuple(e for e, _ in rule.next_when) if rule.next_when else rule.violation.next


Tracks = tuple[tuple[str, str], ...]
Verdicts = tuple[tuple[str, tuple[str, ...]], ...]


class Adviser:
    """Looks for ``advies_onmogelijk`` one reachable state at a time (see the module).

    ``possible(event, tracks)`` says whether an event is available with the tracks in
    ``tracks`` (sorted ``(track, leaf)`` pairs); ``payloads(event, traject, at)`` gives the
    payloads to try. ``footprint(event, key, traject, at)``, when given, names the part of a
    state the event's verdicts depend on (None: no such part is known); states with the same
    footprint share one evaluation. The footprint covers what the event's rules read, so
    the conditions of conditional ``next`` events are added to it here.
    """

    def __init__(self, definition: Definition,
                 possible: Callable[[str, Tracks], bool],
                 payloads: Callable[[str, Traject, datetime], Iterable[Mapping[str, object]]],
                 footprint: Callable[[str, Hashable, Callable[[], Traject], datetime],
                                     Hashable | None] | None = None) -> None:
        self.definition = definition
        self.possible = possible
        self.payloads = payloads
        self.footprint = footprint
        self.by_event = rules_with_next(definition)
        self.named = {eid: frozenset(n for r in rules for n in named_next(r))
                      for eid, rules in self.by_event.items()}
        self.found: dict[tuple[str, str], Advice] = {}
        self.shut: dict[Tracks, tuple[tuple[str, frozenset[str]], ...]] = {}
        self.verdicts: dict[Hashable, Verdicts] = {}

    def visit(self, key: Hashable, tracks: Tracks, concrete: Callable[[], Traject],
              at: datetime) -> None:
        """Look at one reachable, started state: ``key`` names it in the findings and
        ``concrete()`` gives its traject (built only when needed)."""
        if not self.by_event:
            return
        shut_here = self.shut.get(tracks)
        if shut_here is None:
            shut_list = []
            for eid in self.by_event:
                if self.possible(eid, tracks):
                    shut = frozenset(n for n in self.named[eid] if not self.possible(n, tracks))
                    if shut:
                        shut_list.append((eid, shut))
            shut_here = self.shut[tracks] = tuple(shut_list)
        found = self.found
        for eid, shut in shut_here:
            rules = self.by_event[eid]
            if all((r.id, n) in found for r in rules for n in shut):
                continue
            for rule_id, nexts in self.blocking(eid, key, concrete, at):
                for n in nexts:
                    if n in shut and (rule_id, n) not in found:
                        found[(rule_id, n)] = Advice(rule_id, eid, n, tracks, key)

    def blocking(self, eid: str, key: Hashable, concrete: Callable[[], Traject],
                  at: datetime) -> Verdicts:
        """The blocking rules (with their ``next`` events) of ``eid`` under every payload."""
        memo: Hashable | None = None
        if self.footprint is not None:
            memo = self.footprint(eid, key, concrete, at)
            if memo is not None:
                hit = self.verdicts.get((eid, memo))
                if hit is not None:
                    return hit
        traject = concrete()
        ids = {r.id for r in self.by_event[eid]}
        out: list[tuple[str, tuple[str, ...]]] = []
        for payload in self.payloads(eid, traject, at):
            verdict = evaluate(self.definition, traject, Event(eid, at, dict(payload)))
            out.extend((v.rule, v.next) for v in verdict.blocking if v.rule in ids and v.next)
        result = tuple(dict.fromkeys(out))
        if memo is not None:
            self.verdicts[(eid, memo)] = result
        return result

    def advice(self) -> list[Advice]:
        """Every (rule, missing event) pair found, at the first state that showed it."""
        return list(self.found.values())


def impossible_advice(
    definition: Definition,
    states: Iterable[tuple[Hashable, Mapping[str, str], Callable[[], Traject]]],
    possible: Callable[[str, Mapping[str, str]], bool],
    payloads: Callable[[str, Traject], Iterable[Mapping[str, object]]],
    at: datetime,
) -> list[Advice]:
    """Every (rule, missing event) pair once, at the first state in ``states`` that shows it.

    ``states`` yields (key, state per track, a function giving the traject) for every
    reachable, started state; ``possible(event, state)`` says whether an event is
    available there; ``payloads(event, traject)`` gives the payloads to try.
    The traject is only built where a named event is not possible. (:class:`Adviser` does
    the same one state at a time, sharing evaluations between states.)
    """
    adviser = Adviser(definition, lambda eid, tracks: possible(eid, dict(tracks)),
                      lambda eid, traject, _at: payloads(eid, traject))
    for key, state, concrete in states:
        adviser.visit(key, tuple(sorted(state.items())), concrete, at)
    return adviser.advice()
