"""Hypothesis strategies for event payloads, read from a definition's payload types.

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
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

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

__all__ = ["TODAY", "WORDS", "payload_strategy", "tree_strategy", "type_strategy"]

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


def payload_strategy(definition: Definition, event_id: str, *, today: date = TODAY,
                     words: Sequence[str] = WORDS) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads for ``event_id`` that fit its declared type (``{}`` when it declares none).

    ``today`` is the date of the event the payload is for: date bounds such as
    ``max_months_ahead`` are measured from it.
    """
    tree = definition.events[event_id].payload
    if tree is None or definition.events[event_id].payload_spec is None:
        return st.just({})
    return tree_strategy(tree, today=today, words=words)  # an object type yields a dict
