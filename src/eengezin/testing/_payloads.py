"""Payloads for the testing kit: drawn from a definition's payload types, and the ones
that satisfy an event's blocking rules now.

Every payload the kit sends is made here (one place, so that the payload type language
can be read from the compiled payload tree once it exists):

- :func:`payload_strategy` draws from the event's declared type;
- :func:`candidate_payloads` lists the model checker's representative payloads (full,
  minimal, one change at a time, the literals the rules compare with, the ids the
  traject already has);
- :func:`satisfying_payloads` keeps those of them that the core accepts now
  (:func:`eengezin.evaluate`: payload type, rules, role), so a walk can move on.

The type language is the one of :mod:`eengezin.definition.payload`; every form it
accepts has a generator here, so a payload drawn for an event passes that event's
payload check (the rules may still refuse it: that is what tests are for).

Free text is drawn mostly from a small vocabulary (``WORDS``), so ids collide the way
they do in real cases: a ``signaal_opheffen`` names a signal that was raised, a
``toestemming`` has ``onderwerp: overleg``, a successor is sometimes the current
regisseur. Pass ``words=`` to use another vocabulary.

>>> from hypothesis import find
>>> from eengezin import load_definition
>>> basis = load_definition("basis")
>>> find(payload_strategy(basis, "signaal_opheffen"), lambda payload: True)
{'id': 'm1', 'onderbouwing': 'm1'}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from ..checker import representative_payloads
from ..definition.payload import (
    AnyType,
    DateType,
    EnumType,
    FlagType,
    ListType,
    NumberType,
    ObjectType,
    PayloadType,
    ReferenceType,
    TextType,
    TypeCompiler,
)
from ..process.model import Definition
from ..process.step import evaluate
from ..traject import Actor, Event, Traject

__all__ = ["TODAY", "WORDS", "candidate_payloads", "payload_strategy", "satisfying_payloads",
           "tree_strategy", "type_strategy"]

WORDS: tuple[str, ...] = (
    "m1", "k1", "r1", "r2", "s1", "s2", "b1", "basischeck", "overleg", "hulp",
)
"""The default vocabulary for ``string`` and ``text`` values."""

TODAY = date(2026, 3, 2)
"""The default event date that date bounds (``max_years_back``…) are measured from."""


class _Trees:
    """One walk over a compiled payload tree, giving a strategy per node."""

    def __init__(self, today: date, words: Sequence[str]) -> None:
        self.today = today
        self.words = st.sampled_from(tuple(words))
        self.named: dict[str, st.SearchStrategy[Any]] = {}

    def build(self, node: PayloadType) -> st.SearchStrategy[Any]:
        if isinstance(node, ReferenceType):
            if node.name not in self.named:
                # deferred: a named type may refer to itself
                target = node
                self.named[node.name] = st.deferred(lambda: self.build(target.target))
            return self.named[node.name]
        if isinstance(node, EnumType):
            return st.sampled_from(list(node.values))
        if isinstance(node, ObjectType):
            if node.free:
                return st.dictionaries(self.words, self.words, max_size=2)
            required = {f.name: self.build(f.type) for f in node.fields if not f.optional}
            optional = {f.name: self.build(f.type) for f in node.fields if f.optional}
            return st.fixed_dictionaries(required, optional=optional)
        if isinstance(node, ListType):
            least, most = node.min_items, node.max_items
            return st.lists(self.build(node.items), min_size=least,
                            max_size=min(least + 3, most) if most is not None else least + 3)
        if isinstance(node, TextType):
            if node.min_length:
                return st.one_of(self.words, st.text(min_size=node.min_length, max_size=8)
                                 .filter(lambda t: len(t.strip()) >= node.min_length))
            return st.one_of(self.words, st.text(max_size=8))
        if isinstance(node, FlagType):
            return st.booleans()
        if isinstance(node, NumberType):
            lo = node.min if node.min is not None else -3
            hi = node.max if node.max is not None else 20
            if node.integer:
                return st.integers(int(lo), int(hi))
            return st.floats(lo, hi, allow_nan=False, allow_infinity=False)
        if isinstance(node, DateType):
            if node.with_time:
                return st.dates(date(2020, 1, 1), self.today).map(
                    lambda d: f"{d.isoformat()}T09:00:00")
            first, last = node.bounds(self.today)
            if node.max_years_back is None:
                first = max(first, date(1990, 1, 1))
            if node.max_months_ahead is None:
                last = min(last, self.today + timedelta(days=365))
            return st.dates(first, last).map(date.isoformat)
        assert isinstance(node, AnyType), node
        return st.one_of(st.none(), st.booleans(), st.integers(0, 9), self.words)


def tree_strategy(tree: PayloadType, *, today: date = TODAY, words: Sequence[str] = WORDS
                  ) -> st.SearchStrategy[Any]:
    """Values that fit the compiled payload type ``tree`` (e.g. ``EventSpec.payload``)."""
    return _Trees(today, words).build(tree)


def type_strategy(spec: Any, named: Mapping[str, Any] | None = None, *, today: date = TODAY,
                  words: Sequence[str] = WORDS) -> st.SearchStrategy[Any]:
    """Values of the payload type ``spec``; ``named`` holds the definition's ``types``.

    >>> from hypothesis import find
    >>> find(type_strategy({"type": "integer", "min": 0, "max": 10}), lambda n: n > 4)
    5
    """
    return tree_strategy(TypeCompiler(named or {}).compile(spec), today=today, words=words)


_CACHE_SIZE = 4096
_STRATEGIES: dict[tuple[int, str, date, tuple[str, ...]], tuple[Definition, Any]] = {}


def payload_strategy(definition: Definition, event_id: str, *, today: date = TODAY,
                     words: Sequence[str] = WORDS) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads for ``event_id`` that fit its declared type (``{}`` when it declares none).

    ``today`` is the date of the event the payload is for: date bounds such as
    ``max_months_ahead`` are measured from it. Kept per definition, event and day (a walk
    asks often, and building a strategy costs).
    """
    tree = definition.events[event_id].payload
    if tree is None or definition.events[event_id].payload_spec is None:
        return st.just({})
    key = (id(definition), event_id, today, tuple(words))
    hit = _STRATEGIES.get(key)
    if hit is not None and hit[0] is definition:
        cached: st.SearchStrategy[dict[str, Any]] = hit[1]
        return cached
    strategy = tree_strategy(tree, today=today, words=words)  # an object type yields a dict
    if len(_STRATEGIES) >= _CACHE_SIZE:
        _STRATEGIES.clear()
    _STRATEGIES[key] = (definition, strategy)
    return strategy


_CANDIDATES: dict[tuple[int, str, date, Any], tuple[Definition, list[dict[str, Any]]]] = {}


def _ids(value: Any, out: list[str], depth: int = 0) -> None:
    """The ids in a fact value: every mapping's keys and ``id`` values, in order."""
    if depth > 8:
        return
    if isinstance(value, Mapping):
        out.extend(str(key) for key in value)
        ident = value.get("id")
        if isinstance(ident, str):
            out.append(ident)
        for sub in value.values():
            _ids(sub, out, depth + 1)
    elif isinstance(value, list):
        for sub in value:
            _ids(sub, out, depth + 1)


_ID_KEYS: dict[int, tuple[Any, Any]] = {}


def _id_key(traject: Traject | None) -> Any:
    """What the representative payloads of a traject depend on: the ids in each fact."""
    if traject is None:
        return ()
    facts = traject.facts
    hit = _ID_KEYS.get(id(facts))
    if hit is not None and hit[0] is facts:
        return hit[1]
    key: list[tuple[str, tuple[str, ...]]] = []
    for name in sorted(traject.facts):
        found: list[str] = []
        _ids(traject.facts[name], found)
        if found:
            key.append((name, tuple(found)))
    if len(_ID_KEYS) >= _CACHE_SIZE:
        _ID_KEYS.clear()
    _ID_KEYS[id(facts)] = (facts, tuple(key))  # holds the facts: their id stays unique
    return _ID_KEYS[id(facts)][1]


def candidate_payloads(definition: Definition, event_id: str, traject: Traject | None,
                       today: date) -> list[dict[str, Any]]:
    """The payloads worth trying for ``event_id`` in ``traject`` (first: the full one).

    These are the model checker's representative payloads: built from the payload type,
    with the literals the definition's conditions compare a field with and the ids the
    traject's facts already hold. They depend only on the ids in the facts, so they are
    kept per set of ids (building them takes milliseconds; a walk asks often).

    >>> from eengezin import load_definition
    >>> basis = load_definition("basis")
    >>> any(p.get("onderwerp") == "overleg"
    ...     for p in candidate_payloads(basis, "toestemming_vastleggen", None, TODAY))
    True
    """
    key = (id(definition), event_id, today, _id_key(traject))
    hit = _CANDIDATES.get(key)
    if hit is not None and hit[0] is definition:
        return hit[1]
    found = representative_payloads(definition, event_id, traject, today=today)
    if len(_CANDIDATES) >= _CACHE_SIZE:
        _CANDIDATES.clear()
    _CANDIDATES[key] = (definition, found)
    return found


def satisfying_payloads(definition: Definition, traject: Traject, event_id: str, at: datetime,
                        actor: Actor | None, *, limit: int = 4, tries: int = 48
                        ) -> list[dict[str, Any]]:
    """Up to ``limit`` of the :func:`candidate_payloads` (the first ``tries`` of them) that
    the core accepts for ``event_id`` from ``actor`` at ``at``: they fit the payload type
    and no blocking rule refuses them. Empty when none does (or the event is not possible).
    """
    found: list[dict[str, Any]] = []
    for payload in candidate_payloads(definition, event_id, traject, at.date())[:tries]:
        if evaluate(definition, traject, Event(event_id, at, payload, actor)).accepted:
            found.append(payload)
            if len(found) >= limit:
                break
    return found
