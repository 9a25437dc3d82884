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
from ..process.model import Definition
from ..process.step import evaluate
from ..traject import Actor, Event, Traject

__all__ = ["TODAY", "WORDS", "candidate_payloads", "payload_strategy", "satisfying_payloads",
           "type_strategy"]

WORDS: tuple[str, ...] = (
    "m1", "k1", "r1", "r2", "s1", "s2", "b1", "basischeck", "overleg", "hulp",
)
"""The default vocabulary for ``string`` and ``text`` values."""

TODAY = date(2026, 3, 2)
"""The default event date that date bounds (``max_years_back``…) are measured from."""

_BASE = ("string", "text", "boolean", "integer", "number", "date", "datetime", "any",
         "object", "list")


def _years_back(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _months_ahead(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (as the payload check
    counts; the bounds drawn here only need to stay inside the check's)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


class _Types:
    def __init__(self, named: Mapping[str, Any], today: date, words: Sequence[str]) -> None:
        self.named_specs = named
        self.today = today
        self.words = st.sampled_from(tuple(words))
        self.named: dict[str, st.SearchStrategy[Any]] = {}

    def name(self, name: str) -> st.SearchStrategy[Any]:
        if name not in self.named:
            # deferred: a named type may refer to itself
            self.named[name] = st.deferred(lambda: self.build(self.named_specs[name]))
        return self.named[name]

    def build(self, spec: Any) -> st.SearchStrategy[Any]:
        if isinstance(spec, str):
            return self.base(spec, {}) if spec in _BASE else self.name(spec)
        if isinstance(spec, list):
            return st.lists(self.build(spec[0]), max_size=3)
        if isinstance(spec, Mapping):
            if "enum" in spec:
                return st.sampled_from(list(spec["enum"]))
            if "type" in spec:
                return self.base(spec["type"], spec)
            required = {k: self.build(v) for k, v in spec.items() if not k.endswith("?")}
            optional = {k[:-1]: self.build(v) for k, v in spec.items() if k.endswith("?")}
            return st.fixed_dictionaries(required, optional=optional)
        raise ValueError(f"unknown payload type {spec!r}")

    def base(self, base: str, spec: Mapping[str, Any]) -> st.SearchStrategy[Any]:
        if base == "list":
            item = self.build(spec["items"]) if "items" in spec else self.base("any", {})
            least = int(spec.get("min_items", 0))
            most = spec.get("max_items")
            return st.lists(item, min_size=least,
                            max_size=min(least + 3, most) if most is not None else least + 3)
        if base == "text":
            return st.one_of(self.words, st.text(min_size=1, max_size=8).filter(str.strip))
        if base == "string":
            return st.one_of(self.words, st.text(max_size=8))
        if base == "boolean":
            return st.booleans()
        if base == "integer":
            return st.integers(spec.get("min", -3), spec.get("max", 20))
        if base == "number":
            return st.floats(spec.get("min", -3), spec.get("max", 20), allow_nan=False)
        if base == "date":
            back, ahead = spec.get("max_years_back"), spec.get("max_months_ahead")
            lo = _years_back(self.today, int(back)) if back is not None else date(1990, 1, 1)
            hi = (_months_ahead(self.today, int(ahead)) if ahead is not None
                  else self.today + timedelta(days=365))
            return st.dates(lo, hi).map(date.isoformat)
        if base == "datetime":
            return st.dates(date(2020, 1, 1), self.today).map(lambda d: f"{d.isoformat()}T09:00:00")
        if base == "object":
            return st.dictionaries(self.words, self.words, max_size=2)
        return st.one_of(st.none(), st.booleans(), st.integers(0, 9), self.words)  # any


def type_strategy(spec: Any, named: Mapping[str, Any] | None = None, *, today: date = TODAY,
                  words: Sequence[str] = WORDS) -> st.SearchStrategy[Any]:
    """Values of the payload type ``spec``; ``named`` holds the definition's ``types``.

    >>> from hypothesis import find
    >>> find(type_strategy({"type": "integer", "min": 0, "max": 10}), lambda n: n > 4)
    5
    """
    return _Types(named or {}, today, words).build(spec)


_STRATEGIES: dict[tuple[int, str, date, tuple[str, ...]], tuple[Definition, Any]] = {}


def payload_strategy(definition: Definition, event_id: str, *, today: date = TODAY,
                     words: Sequence[str] = WORDS) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads for ``event_id`` that fit its declared type (``{}`` when it declares none).

    ``today`` is the date of the event the payload is for: date bounds such as
    ``max_months_ahead`` are measured from it.
    """
    spec = definition.events[event_id].payload_spec
    if spec is None:
        return st.just({})
    key = (id(definition), event_id, today, tuple(words))
    hit = _STRATEGIES.get(key)
    if hit is not None and hit[0] is definition:
        strategy: st.SearchStrategy[dict[str, Any]] = hit[1]
        return strategy
    strategy = _Types(definition.raw.get("types", {}), today, words).build(spec)
    if len(_STRATEGIES) >= _CACHE_SIZE:
        _STRATEGIES.clear()
    _STRATEGIES[key] = (definition, strategy)
    return strategy  # an object type always yields a dict


_CANDIDATES: dict[tuple[int, str, date, Any], tuple[Definition, list[dict[str, Any]]]] = {}
_CACHE_SIZE = 4096


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
                        actor: Actor | None, *, limit: int = 4, tries: int = 24
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
