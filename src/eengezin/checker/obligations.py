"""Obligations: facts that hold what must still be done before something else may happen.

The meldcode is the example. Reporting a signal of abuse records, per signal, that an
afweging is still open (``afweging_open``); the afweging may leave a melding open
(``melding_open``); recording those steps takes the signal's key out again. The rest of
the process reads these facts in one place only: ``signaal_opheffen`` refuses while its
signal is still in one of them. Searching every state of the process next to every
combination of open steps multiplies the space, and that product decides nothing new.

A set of facts are obligations (:func:`obligations`) when:

- every condition that reads them is the ``require`` of a blocking rule, and reads them
  only as ``not contains`` with a payload field (``not: {contains: {path:
  facts.afweging_open, other: data.id}}``): a fact that holds nothing lets every event
  through at least as much as one that holds something, and which keys matter is named by
  the payload. Nothing else reads them: no guard, record, copy, effect, deadline, invariant
  or rule ``if``, and no ``next`` condition.
- none of them is a fact only observers read (:mod:`.reductions`) or a side track's fact
  (:mod:`.side`).

The events those rules refuse are the *waiting* events (``signaal_opheffen``). The events
that write the facts and nothing else decisive, move no track, start or end no deadline a
condition reads and are not asked about by ``event_seen`` are the *clearers*
(``afweging_vastleggen``, ``melding_veilig_thuis``).

The search then keeps the obligations empty (*home*): an outcome of a step that leaves
something in them is not added (:mod:`.stepping`). Everything else it decides stays exact,
given three things it checks as it goes; if one fails, the check searches again without
this reduction (``check_definition`` in :mod:`.parts`):

1. *Every outcome that leaves an obligation has a twin*: the same step with another payload
   that leaves none and does the same to everything else (reporting a signal of another
   kind). Then the search with the obligations home is itself a real process. And every
   step taken with obligations open can be taken with them home, with the same effect on
   the rest (home lets every rule through at least as much, and nothing else reads them):
   so the search reaches exactly the states of everything but the obligations.
2. *Obligations can always be met*: wherever a waiting event is accepted at home, every key
   of its payload that would make it refused is one a clearer can take out (with some
   payload, changing nothing else and putting nothing in), and with the other keys in
   every obligation it is still accepted. Clearers read no obligation, so what they do
   does not depend on what else the obligations hold. Then from any reachable traject the
   way to a final state from the same traject at home can be walked, meeting the
   obligations on the way: dead ends are exact. The waiting event's remembered outcomes
   are kept per footprint of the clearers too, so that this check, made when it is first
   stepped, holds wherever its outcomes are used again.
3. *Advice*: where a waiting event is possible, the events its obligation rules name as
   ``next`` are possible too (a rule blocks there only with obligations open, which the
   search does not visit).

Invariants do not read obligations, events refused at home are refused everywhere, and a
rule that reads them only makes an event more possible at home: so invariants, events
never accepted and unreachable states are exact as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..process.model import Definition
from ..rules.footprint import Condition, fact_names
from ..traject import Traject
from .analysis_model import Obligations

if TYPE_CHECKING:
    from .analysis_model import Analysis

__all__ = ["Obligations", "holds_any", "obligations", "payload_keys", "with_keys", "without"]


def _reads_any(condition: Condition | None, names: frozenset[str]) -> bool:
    return condition is not None and (condition.reads.opaque
                                      or bool(fact_names(condition.reads) & names))


def _misread(condition: Condition | None, names: frozenset[str]) -> frozenset[str]:
    """The facts of ``names`` that the ``require`` condition reads otherwise than as
    ``not contains`` with a payload field (see the module)."""
    if condition is None:
        return frozenset()
    found: set[str] = set()
    for unit, sign in condition.units(+1):
        reads = unit.reads
        if reads.opaque:
            return names
        read = fact_names(reads) & names
        if not read:
            continue
        if unit.op != "contains" or sign > 0 or len(read) > 1:
            found |= read
            continue
        (name,) = read
        path = f"facts.{name}"
        if path not in reads.only_members or any(
                p != path and not p.startswith("data") for p in reads.paths):
            found.add(name)
    return frozenset(found)


def obligations(definition: Definition, analysis: Analysis, steering: frozenset[str]
                ) -> Obligations | None:
    """The obligations of ``definition`` (see the module), or None. ``steering``: the facts
    guards, records, effects, ``on_enter`` and deadline starts read."""
    if any(reads.opaque for reads in analysis.event_reads.values()):
        return None
    names = frozenset(analysis.fact_trie) - {"", "[]"}
    excluded = (steering | analysis.always_live | analysis.observed | frozenset(analysis.eager)
                | frozenset().union(*(side.facts for side in analysis.side)))
    candidates = names - excluded
    for rule in definition.rules:
        # what a rule's ``if`` or a ``next`` condition reads is out
        candidates -= _if_reads(rule.if_condition, candidates)
        for _event, cond in rule.next_when:
            if cond is None:
                continue
            if not isinstance(cond, Condition):
                return None  # it may read anything
            candidates -= _if_reads(cond, candidates)
    for inv in definition.invariants:
        candidates -= _if_reads(inv.always, candidates)
    for rule in definition.rules:
        if rule.severity == "block":
            candidates -= _misread(rule.require_condition, candidates)
    waiting = [rule for rule in definition.rules
               if rule.severity == "block" and _reads_any(rule.require_condition, candidates)]
    rules = {rule.id for rule in waiting}
    events = {eid for rule in waiting for eid in rule.events}
    if not candidates or not rules:
        return None
    side_events = frozenset().union(*(side.events for side in analysis.side))
    if events & (analysis.observers | side_events):
        return None
    clearers = []
    for eid, spec in definition.events.items():
        written = analysis.written[eid] & names
        if not written & candidates or eid in events:
            continue
        if (written - candidates or spec.transitions or any(e.moves for e in spec.effects)
                or eid == definition.start_event or eid in analysis.seen_events
                or eid in analysis.observers or eid in side_events
                or any(d.id in analysis.deadlines_read
                       for d in (*spec.deadline_starts, *spec.deadline_ends))):
            continue
        clearers.append(eid)
    return Obligations(frozenset(candidates), frozenset(rules), frozenset(events),
                       tuple(clearers))


def _if_reads(condition: Condition | None, names: frozenset[str]) -> frozenset[str]:
    if condition is None:
        return frozenset()
    if condition.reads.opaque:
        return names
    return fact_names(condition.reads) & names


def holds_any(facts: Mapping[str, Any], names: Iterable[str]) -> bool:
    """Does one of the facts ``names`` hold something (a mapping or list with elements)?
    Anything else contains nothing, like an absent fact."""
    for name in names:
        value = facts.get(name)
        if isinstance(value, dict | list) and value:
            return True
    return False


def without(traject: Traject, names: frozenset[str]) -> Traject:
    """``traject`` with the facts ``names`` taken out (home)."""
    return attrs.evolve(traject, facts={k: v for k, v in traject.facts.items()
                                        if k not in names})


def with_keys(traject: Traject, names: frozenset[str], keys: Iterable[Any]) -> Traject:
    """``traject`` with every fact of ``names`` holding exactly ``keys``."""
    held = dict.fromkeys(keys, True)
    return attrs.evolve(traject, facts={**traject.facts, **{n: dict(held) for n in names}})


def payload_keys(payload: Any) -> frozenset[str]:
    """Every text in a payload: the keys an obligation rule can look up (keys are ids)."""
    return frozenset(_texts(payload))


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, str):
        yield value
