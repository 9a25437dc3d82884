"""Which values are personal data: paths computed once per definition from its payload types.

A payload field is personal when its type says ``persoonsgegevens: true``, or, by default,
when its name is one of :data:`PERSONAL_NAMES` (names, contact data, birth dates, BSN, free
text) and its type does not say ``persoonsgegevens: false``. A field whose value is an
object or a list of objects is walked (only the personal fields inside are sealed); a
personal field is sealed whole.

From the payload paths of each event, and the definition's ``record`` steps (``set``,
``put``, ``append`` from ``data…``), the fact paths that hold the same values follow. A
store encrypts exactly these paths in log entries (``data`` and the recorded facts),
snapshots (facts) and outbox records (``data``).

>>> from eengezin.definition import load_definition
>>> paths = personal_paths(load_definition("basis"))
>>> ("huishouden", "leden", "[]", "naam") in paths.data["aanmelden"]
True
>>> ("huishouden", "leden", "[]", "naam") in paths.facts
True
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import attrs

from ..process.model import Definition

Path = tuple[str, ...]

PERSONAL_NAMES = frozenset({
    "naam", "voornaam", "voornamen", "achternaam", "roepnaam", "tussenvoegsel",
    "telefoon", "telefoonnummer", "mobiel", "email", "e_mail", "emailadres",
    "adres", "woonadres", "straat", "huisnummer", "postcode", "woonplaats",
    "geboortedatum", "bsn", "burgerservicenummer",
    "omschrijving", "toelichting", "tekst", "verslag", "notitie", "notities", "opmerking",
    "opmerkingen", "vraag", "samenvatting",
})
"""Field names that are personal by default (a type can say ``persoonsgegevens: false``)."""

PERSONAL_SUFFIXES = ("_naam", "_telefoon", "_email", "_adres", "_toelichting", "_omschrijving")

FLAG = "persoonsgegevens"
_MAX_DEPTH = 32


def is_personal_name(name: str) -> bool:
    low = name.lower()
    return low in PERSONAL_NAMES or low.endswith(PERSONAL_SUFFIXES)


@attrs.frozen(slots=True)
class PersonalPaths:
    """Personal paths per event payload (``data[event]``) and in the facts."""

    data: Mapping[str, frozenset[Path]]
    facts: frozenset[Path]

    def any(self) -> bool:
        return bool(self.facts) or any(self.data.values())


def _walk(spec: Any, types: Mapping[str, Any], prefix: Path, out: set[Path], depth: int,
          seen: frozenset[str]) -> None:
    """Collect the personal paths under a payload type ``spec`` (at ``prefix``)."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(spec, str):
        if spec in types and spec not in seen:
            _walk(types[spec], types, prefix, out, depth + 1, seen | {spec})
        return
    if isinstance(spec, list):
        if len(spec) == 1:
            _walk(spec[0], types, (*prefix, "[]"), out, depth + 1, seen)
        return
    if not isinstance(spec, Mapping) or "enum" in spec:
        return
    if "type" in spec:
        if spec.get("type") == "list" and "items" in spec:
            _walk(spec["items"], types, (*prefix, "[]"), out, depth + 1, seen)
        return
    for key, sub in spec.items():
        if not isinstance(key, str):
            continue
        name = key[:-1] if key.endswith("?") else key
        flag = sub.get(FLAG) if isinstance(sub, Mapping) else None
        path = (*prefix, name)
        if flag is True or (flag is None and is_personal_name(name)):
            out.add(path)
        elif flag is None:
            _walk(sub, types, path, out, depth + 1, seen)


def event_paths(definition: Definition, event: str) -> frozenset[Path]:
    """The personal paths of one event's payload."""
    spec = definition.events[event].payload_spec
    out: set[Path] = set()
    if isinstance(spec, Mapping) and FLAG in spec and spec.get("type") is not None:
        if spec.get(FLAG) is True:
            out.add(())
    else:
        _walk(spec, definition.types, (), out, 0, frozenset())
    return frozenset(out)


def _record_paths(op: str, fact: str, source: str | None, origin: frozenset[Path]
                  ) -> set[Path]:
    if source is None:
        return set()
    parts = tuple(p for p in source.split(".") if p)
    if not parts:
        return set()
    base = parts[1:]
    target: Path = (fact,) if op == "set" else (fact, "*") if op == "put" else (fact, "[]")
    found: set[Path] = set()
    for path in origin:
        if path[:len(base)] == base:
            found.add((*target, *path[len(base):]))
        elif base[:len(path)] == path:  # the source lies inside a personal value
            found.add(target)
    return found


_cache: dict[str, PersonalPaths] = {}
_lock = threading.Lock()


def personal_paths(definition: Definition) -> PersonalPaths:
    """The personal paths of ``definition`` (computed once per definition hash)."""
    known = _cache.get(definition.hash)
    if known is not None:
        return known
    data = {eid: event_paths(definition, eid) for eid in definition.events}
    facts: set[Path] = set()
    records: list[tuple[str, Any, frozenset[Path]]] = []
    for eid, spec in definition.events.items():
        for record in spec.records:
            records.append((eid, record, data[eid]))
        for effect in spec.effects:
            for record in effect.records:
                records.append((eid, record, data[eid]))
    for _eid, record, origin in records:
        if record.source and record.source.split(".")[0] == "data":
            facts |= _record_paths(record.op, record.fact, record.source, origin)
    for _ in range(3):  # facts copied from facts
        before = len(facts)
        for _eid, record, _origin in records:
            source = record.source
            if source and source.split(".")[0] == "facts":
                parts = source.split(".")[1:]
                fact_origin = frozenset(p[len(parts) - 1:] if len(parts) > 1 else p
                                        for p in facts if p[:1] == tuple(parts[:1]))
                facts |= _record_paths(record.op, record.fact, "facts." + ".".join(parts[1:])
                                       if len(parts) > 1 else "facts", fact_origin)
        if len(facts) == before:
            break
    found = PersonalPaths(data=data, facts=frozenset(facts))
    with _lock:
        _cache[definition.hash] = found
    return found


__all__ = ["PERSONAL_NAMES", "PersonalPaths", "event_paths", "is_personal_name",
           "personal_paths"]
