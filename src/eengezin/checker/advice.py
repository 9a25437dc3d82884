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

__all__ = ["Advice", "impossible_advice", "rules_with_next"]


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


def _named(rule: Rule) -> tuple[str, ...]:
    return tuple(e for e, _ in rule.next_when) if rule.next_when else rule.violation.next


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
    The traject is only built where a named event is not possible.
    """
    by_event = rules_with_next(definition)
    if not by_event:
        return []
    named = {eid: frozenset(n for r in rules for n in _named(r)) for eid, rules in by_event.items()}
    found: dict[tuple[str, str], Advice] = {}
    for key, state, concrete in states:
        for eid, rules in by_event.items():
            if not possible(eid, state):
                continue
            shut = {n for n in named[eid] if not possible(n, state)}
            if not shut or all((r.id, n) in found for r in rules for n in shut):
                continue
            traject = concrete()
            ids = {r.id for r in rules}
            for payload in payloads(eid, traject):
                verdict = evaluate(definition, traject, Event(eid, at, dict(payload)))
                for v in verdict.blocking:
                    if v.rule not in ids:
                        continue
                    for n in v.next:
                        if n in shut and (v.rule, n) not in found:
                            found[(v.rule, n)] = Advice(
                                v.rule, eid, n, tuple(sorted(state.items())), key)
    return list(found.values())
