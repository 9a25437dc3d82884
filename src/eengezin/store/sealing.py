"""Seal (encrypt) and open the personal values of entries, snapshots and decisions.

The engine and the core work on plaintext; a store seals on the way in and opens on the way
out, with the traject's :class:`~eengezin.store.crypto.Sealer` and the personal paths of
the definition an entry or snapshot was written under (kept in the store next to the
definition, so reading needs no compiled definition).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..decision import Decision
from ..process.model import Definition
from ..traject import HistoryEntry, Traject
from .crypto import Sealer, build_trie, transform
from .personal import personal_paths


@attrs.frozen(slots=True)
class Tries:
    """The personal paths of one definition as tries: per event payload, and in the facts."""

    data: Mapping[str, Any]
    facts: Mapping[str, Any]

    @classmethod
    def of(cls, definition: Definition) -> Tries:
        paths = personal_paths(definition)
        return cls({e: build_trie(p) for e, p in paths.data.items() if p},
                   build_trie(paths.facts))


def tries_to_json(definition: Definition) -> str:
    paths = personal_paths(definition)
    return json.dumps({"data": {e: sorted(list(p) for p in v) for e, v in paths.data.items() if v},
                       "facts": sorted(list(p) for p in paths.facts)},
                      sort_keys=True, ensure_ascii=False)


def tries_from_json(text: str) -> Tries:
    try:
        raw = json.loads(text or "{}")
        data = {str(e): build_trie(tuple(map(str, p)) for p in v)
                for e, v in dict(raw.get("data", {})).items()}
        return Tries(data, build_trie(tuple(map(str, p)) for p in raw.get("facts", [])))
    except (ValueError, TypeError, AttributeError):
        from .errors import StoreCorruptError

        raise StoreCorruptError("unreadable list of personal paths") from None


def _facts(facts: Mapping[str, Any], trie: Mapping[str, Any], fn: Callable[[Any], Any]
           ) -> Mapping[str, Any]:
    out: Mapping[str, Any] = transform(facts, trie, fn)
    return out


def _entry(entry: HistoryEntry, tries: Tries, fn: Callable[[Any], Any]) -> HistoryEntry:
    trie = tries.data.get(entry.event)
    data = transform(entry.data, trie, fn) if trie else entry.data
    change = entry.change
    if change is not None and change.facts and tries.facts:
        change = attrs.evolve(change, facts=_facts(change.facts, tries.facts, fn))
    if data is entry.data and change is entry.change:
        return entry
    return attrs.evolve(entry, data=data, change=change)


def seal_entry(entry: HistoryEntry, tries: Tries, sealer: Sealer) -> HistoryEntry:
    return _entry(entry, tries, sealer.seal)


def open_entry(entry: HistoryEntry, tries: Tries, sealer: Sealer) -> HistoryEntry:
    return _entry(entry, tries, sealer.open)


def _traject(traject: Traject, tries: Tries, fn: Callable[[Any], Any]) -> Traject:
    if not tries.facts or not traject.facts:
        return traject
    facts = _facts(traject.facts, tries.facts, fn)
    return traject if facts is traject.facts else attrs.evolve(traject, facts=facts)


def seal_traject(traject: Traject, tries: Tries, sealer: Sealer) -> Traject:
    return _traject(traject, tries, sealer.seal)


def open_traject(traject: Traject, tries: Tries, sealer: Sealer) -> Traject:
    return _traject(traject, tries, sealer.open)


def _decision(decision: Decision, tries: Tries, fn: Callable[[Any], Any]) -> Decision:
    trie = tries.data.get(decision.event)
    if not trie:
        return decision
    return attrs.evolve(decision, data=transform(decision.data, trie, fn))


def seal_decision(decision: Decision, tries: Tries, sealer: Sealer) -> Decision:
    return _decision(decision, tries, sealer.seal)


def open_decision(decision: Decision, tries: Tries, sealer: Sealer) -> Decision:
    return _decision(decision, tries, sealer.open)


__all__ = ["Tries", "open_decision", "open_entry", "open_traject", "seal_decision",
           "seal_entry", "seal_traject", "tries_from_json", "tries_to_json"]
