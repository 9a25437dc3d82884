"""Representative payloads: the finite set of payloads an event is tried with.

Built from the event's payload type: a "full" payload, the minimal one, and variants that
change one thing at a time (each boolean flipped, each enum value, the bounds of an integer,
the literals the definition compares a field with, and the ids that already exist in the
traject's facts for fields that conditions compare).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from ..process.model import Definition, EventSpec
from .analysis_model import Analysis
from .reads import Gathered
from .settings import MAX_KNOWN_IDS, MAX_VARIANTS, TODAY
from .state import canon_value


class Payloads:
    """The finite set of payloads an event is tried with, for one traject."""

    def __init__(self, definition: Definition, reads: Gathered, known: Sequence[str], today: date
                 ) -> None:
        self.named: Mapping[str, Any] = definition.types
        self.reads = reads
        self.known = list(known)
        self.today = today
        self.taken = set(known)
        self.counter = 0
        self.expanding: list[str] = []
        self.align: str | None = None

    def variants(self, spec: Any) -> list[dict[str, Any]]:
        """The payloads for ``spec``: full, minimal, one change at a time, then one per known
        id with every compared text field set to that id (fields that must agree)."""
        base = [p for p in self.gen(spec, "") if isinstance(p, dict)]
        aligned: list[list[dict[str, Any]]] = []
        for ident in self.known[:4]:
            self.align = ident
            try:
                aligned.append([p for p in self.gen(spec, "") if isinstance(p, dict)])
            finally:
                self.align = None
        # each aligned payload, then one change at a time from each of them (a consent given
        # orally needs the aligned "van" as much as the plain one does), then the plain changes
        firsts = [group[0] for group in aligned if group]
        changes = [p for i in range(1, max((len(g) for g in aligned), default=0))
                   for g in aligned if i < len(g) for p in (g[i],)
                   if self._literal_change(g[0], p)]
        return _unique([*base[:1], *firsts, *changes, *base[1:]])

    def _literal_change(self, first: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
        """Does ``other`` differ from ``first`` only in values that are no ids (an enum value,
        a flag, a number, a date)? Only such changes are combined with an aligned payload."""
        for key in {*first, *other}:
            a, b = first.get(key), other.get(key)
            if a == b:
                continue
            if b is None or isinstance(b, (bool, int, float)):
                continue
            if isinstance(b, str) and b not in self.taken and b != "tekst":
                continue
            return False
        return True

    def fresh(self) -> str:
        while True:
            self.counter += 1
            candidate = f"n{self.counter}"
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate

    def referenced(self, path: str) -> bool:
        path = path.removesuffix("[]")
        full = f"data.{path}" if path else "data"
        return any(p == full or p.startswith(full + ".") or p.startswith(full + "[]")
                   for p in self.reads.paths)

    def literals(self, path: str) -> list[Any]:
        """The literals conditions compare the field with: the event's own, then those
        other events compare the fact it is copied into with."""
        full = f"data.{path}" if path else "data"
        return _unique([*self.reads.literals.get(full, []),
                        *self.reads.copied_literals.get(full, [])])

    def own_literals(self, path: str) -> list[Any]:
        return list(self.reads.literals.get(f"data.{path}" if path else "data", []))

    def gen(self, spec: Any, path: str) -> list[Any]:
        if isinstance(spec, str):
            if spec in self.named:
                if spec in self.expanding or len(self.expanding) > 12:
                    return [None]
                self.expanding.append(spec)
                try:
                    return self.gen(self.named[spec], path)
                finally:
                    self.expanding.pop()
            return self.base(spec, {}, path)
        if isinstance(spec, list) and len(spec) == 1:
            return self.listing(spec[0], 0, None, path)
        if isinstance(spec, Mapping):
            if "enum" in spec and isinstance(spec["enum"], list) and spec["enum"]:
                return list(spec["enum"])
            if "type" in spec:
                base = spec["type"]
                if base == "list":
                    hi = spec.get("max_items")
                    return self.listing(spec.get("items", "any"), int(spec.get("min_items", 0)),
                                        int(hi) if isinstance(hi, int) else None, path)
                return self.base(str(base), spec, path)
            return self.obj(spec, path)
        return [None]

    def obj(self, spec: Mapping[str, Any], path: str) -> list[Any]:
        fields: list[tuple[str, bool, list[Any]]] = []
        for key, sub in spec.items():
            optional = key.endswith("?")
            name = key[:-1] if optional else key
            sub_path = f"{path}.{name}" if path else name
            fields.append((name, optional, self.gen(sub, sub_path)))
        full = {name: alts[0] for name, _opt, alts in fields if alts[0] is not None}
        out: list[Any] = [full]
        out.append({name: alts[0] for name, opt, alts in fields if not opt and alts[0] is not None})
        # round robin over the fields: when the variants are cut at MAX_VARIANTS, every
        # field keeps its first alternatives (an enum late in the payload is not lost
        # behind a list field with many variants)
        for name, optional, _alts in fields:
            if optional:
                out.append({k: v for k, v in full.items() if k != name})
        depth = max((len(alts) for _n, _o, alts in fields), default=0)
        for i in range(1, depth):
            for name, _optional, alts in fields:
                if i < len(alts):
                    out.append({**full, name: alts[i]})
        out.extend(self.literals(path))
        return _unique(out)

    def listing(self, item: Any, lo: int, hi: int | None, path: str) -> list[Any]:
        item_path = f"{path}[]"
        alts = self.gen(item, item_path)
        resolved = item
        while isinstance(resolved, str) and resolved in self.named:
            resolved = self.named[resolved]
        spread: list[Any] = []
        spread_field: str | None = None
        if isinstance(resolved, Mapping) and "enum" in resolved:
            spread = list(alts)
            alts = alts[:1]
        elif isinstance(resolved, Mapping) and isinstance(alts[0], dict):
            for key, sub in resolved.items():
                name = key.removesuffix("?")
                target = sub
                while isinstance(target, str) and target in self.named:
                    target = self.named[target]
                if isinstance(target, Mapping) and isinstance(target.get("enum"), list):
                    spread = [{**(self.gen(item, item_path)[0] if i else alts[0]), name: v}
                              for i, v in enumerate(target["enum"])]
                    spread_field = name
                    break
        size = max(lo, 1)
        default = spread if len(spread) >= size else [
            self.gen(item, item_path)[0] if i else alts[0] for i in range(size)
        ]
        if hi is not None:
            default = default[:hi]
        out: list[Any] = [default]
        for alt in alts[1:]:
            if spread_field is not None:
                # vary one element, keep the spread of the enum field (one element per value)
                if isinstance(alt, dict) and alt.get(spread_field) == default[0].get(spread_field):
                    out.append([alt, *default[1:]])
            else:
                out.append([alt, *default[1:]])
        if lo == 0:
            out.append([])
        if len(default) > max(lo, 1):
            out.append(default[: max(lo, 1)])
        out.extend(self.literals(path))
        return _unique(out)

    def base(self, base: str, spec: Mapping[str, Any], path: str) -> list[Any]:
        lits = self.literals(path)
        if base in ("text", "string"):
            name = path.rsplit(".", 1)[-1]
            default = self.fresh() if name == "id" else "tekst"
            if self.align is not None and name != "id" and self.referenced(path):
                default = self.align
            texts = [v for v in self.own_literals(path) if isinstance(v, str)]
            if texts and name != "id":
                # the value the event's own condition looks for (onderwerp: overleg) is the
                # likely one; a literal another event compares a copy with (rol: voogd) is
                # one variant, the plain text stays the default
                out: list[Any] = [texts[0], default, *lits]
            else:
                out = [default, *lits]
            if self.referenced(path) or name == "id":
                out.extend(self.known)
                if name != "id":
                    out.append(self.fresh())
            return _unique(out)
        if base == "boolean":
            return _unique([True, False, *lits])
        if base in ("integer", "number"):
            lo, hi = spec.get("min"), spec.get("max")
            values = [v for v in (hi, lo) if isinstance(v, int | float) and not isinstance(v, bool)]
            if not values:
                values = [1, 0]
            return _unique([*values, *(v for v in lits if isinstance(v, int | float))])
        if base == "date":
            days = [self.today, _shift(self.today, 5), _shift(self.today, 14),
                    _shift(self.today, 40), self.today + timedelta(days=30)]
            return _unique([d.isoformat() for d in days] + lits)
        if base == "datetime":
            return [datetime.combine(self.today, datetime.min.time()).isoformat()]
        if base == "object":
            return [{}]
        if base == "list":
            return self.listing("any", 0, None, path)
        return ["tekst", *lits]  # any


def _shift(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: set[str] = set()
    out: list[Any] = []
    for v in values:
        text = json.dumps(v, sort_keys=True, default=str)
        if text not in seen:
            seen.add(text)
            out.append(v)
    return out


def _known_ids(facts: Mapping[str, Any], keyed: frozenset[str]) -> list[str]:
    found: list[str] = []

    def visit(value: Any, depth: int) -> None:
        if depth > 6 or len(found) >= MAX_KNOWN_IDS * 4:
            return
        if isinstance(value, Mapping):
            ident = value.get("id")
            if isinstance(ident, str) and ident not in found:
                found.append(ident)
            for sub in value.values():
                visit(sub, depth + 1)
        elif isinstance(value, list):
            for sub in value:
                visit(sub, depth + 1)

    for name in sorted(facts):
        value = facts[name]
        if name in keyed and isinstance(value, Mapping):
            for key in value:
                if isinstance(key, str) and key not in found:
                    found.append(key)
        visit(value, 0)
    return found[:MAX_KNOWN_IDS]


def event_known_ids(analysis: Analysis, event_id: str, facts: Mapping[str, Any]
                     ) -> tuple[str, ...]:
    """The ids a payload of ``event_id`` may refer to: those in the facts its conditions read
    (signal ids for ``signaal_opheffen``, member ids for a consent), not every id around."""
    names = analysis.event_facts.get(event_id, frozenset())
    return tuple(_known_ids({n: facts[n] for n in names if n in facts}, analysis.keyed_facts))


def distinct(payloads: Sequence[dict[str, Any]], trie: Mapping[str, Any], cap: int
              ) -> list[dict[str, Any]]:
    """One payload per distinct reading: payloads that every condition and every read fact
    sees alike lead to the same abstract state, so trying one of them is enough."""
    seen: set[Any] = set()
    out: list[dict[str, Any]] = []
    for payload in payloads:
        signature = canon_value(payload, trie, cap)
        if signature not in seen:
            seen.add(signature)
            out.append(payload)
    return out[:MAX_VARIANTS]

def valid(spec: EventSpec, payload: dict[str, Any], today: date = TODAY) -> bool:
    """Does ``payload`` fit the event's payload type (on ``today``)?"""
    if spec.validate is None:
        return True
    errors: list[str] = []
    spec.validate(payload, "", errors, today)
    return not errors

