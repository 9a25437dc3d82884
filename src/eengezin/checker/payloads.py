"""Representative payloads: the finite set of payloads an event is tried with.

Built from the event's payload type: a "full" payload, the minimal one, and variants that
change one thing at a time (each boolean flipped, each enum value, the bounds of an integer,
the literals the definition compares a field with, and the ids that already exist in the
traject's facts for fields that conditions compare).

Ids also flow through copies: a field copied into a fact path that conditions compare with
other fact paths (a betrokkene's ``voor``, a member's ``gezag``: a reference group, see
:func:`.reads.ref_groups`) takes a text of that group in the traject (a member's id, up to
:data:`MAX_REF_IDS`) and, within one list, the id of another element (a parent's
``gezag`` names a child registered in the same payload, up to :data:`MAX_SIBLINGS`). And
where a traject links two ids in one element (a voogd's id and the child in its ``voor``),
the fields the event compares get them, one way round (the child's id for ``over``, the
voogd's for ``van``). Every such choice of ids is a state of its own with all that follows
it, so the payloads take few: which ids they offer is a coverage choice, like the other
representatives, and changes nothing in how states are told apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import product
from typing import Any

from ..process.model import Definition, EventSpec
from .analysis_model import Analysis
from .reads import Gathered, texts_at, texts_of, values_at
from .settings import MAX_KNOWN_IDS, MAX_VARIANTS, REF, TEXT, TODAY
from .state import canon_value

REFS = "\x00refs"
"""In the ids :func:`event_known_ids` returns: the ids after it are those of the reference
groups the event copies into (for those fields only)."""
LINKS = "\x00links"
"""In the ids :func:`event_known_ids` returns: after it, pairs of ids an element of the
traject links (flattened: payload field, id, ..., then :data:`END` twice)."""
TAKEN = "\x00taken"
"""After :data:`REFS`: the ids after it are not offered, only kept out of new ids."""
END = "\x00end"
"""Ends one link among the linked ids."""
MAX_REF_IDS = 1
"""At most this many ids (of members that read differently) are offered to a copied
reference (a voogd's ``voor``): each one named is a state of its own, with all that follows
it, so every further one multiplies much of the search."""
MAX_SIBLINGS = 1
"""At most this many other elements of a payload's list a reference in its first element
names (a parent's ``gezag`` naming the child registered with it)."""
MAX_LINKS = 4
"""At most this many links (sets of linked ids) are tried per event and traject."""


class Payloads:
    """The finite set of payloads an event is tried with, for one traject."""

    def __init__(self, definition: Definition, reads: Gathered, known: Sequence[str], today: date
                 ) -> None:
        self.named: Mapping[str, Any] = definition.types
        self.reads = reads
        self.known, self.ref_ids, self.links, others = _split(known)
        self.today = today
        self.taken = {*self.known, *self.ref_ids, *others,
                      *(i for link in self.links for i in link.values())}
        self.first_taken = frozenset(self.taken)
        self.counter = 0
        self.expanding: list[str] = []
        self.align: str | None = None
        self.assign: Mapping[str, str] | None = None

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
        # a reference another event compares (a voogd's voor) aligned with each id it can
        # name, and the ids the traject links, one per compared field (a consent about the
        # child by its voogd); then one change from there (rol voogd). Their new ids are
        # those of the plain payload: a new element stays one element, whichever id it was
        # made with, and adds no element the plain payload would not
        plans: list[tuple[str | None, dict[str, str] | None]] = [
            (ident, None) for ident in self.ref_ids if ident not in self.known[:4]]
        plans.extend((None, assignment) for assignment in self.assignments())
        counter, taken = self.counter, self.taken
        for aligned_to, assignment in plans:
            self.align, self.assign = aligned_to, assignment
            self.counter, self.taken = 0, set(self.first_taken)
            try:
                aligned.append([p for p in self.gen(spec, "") if isinstance(p, dict)])
            finally:
                self.align = self.assign = None
        self.counter, self.taken = counter, taken
        # each aligned payload, then one change at a time from each of them (a consent given
        # orally needs the aligned "van" as much as the plain one does), then the plain changes;
        # a reference or link plan only with a change to a literal a condition compares the
        # field with (rol voogd, vorm mondeling): a field left out, a flag, a number, another
        # enum value change nothing in what the reference names, and the plain payloads try
        # those already
        firsts = [group[0] for group in aligned if group]
        own = len(aligned) - len(plans)
        changes = [p for i in range(1, max((len(g) for g in aligned), default=0))
                   for k, g in enumerate(aligned) if i < len(g) for p in (g[i],)
                   if self._literal_change(g[0], p, k >= own)]
        return _unique([*base[:1], *firsts, *changes, *base[1:]])

    def assignments(self) -> list[dict[str, str]]:
        """Per link (ids one element of the traject holds), the compared fields with the id
        each takes (:func:`_links`)."""
        return list(self.links)

    def _literal_change(self, first: Mapping[str, Any], other: Mapping[str, Any],
                        texts_only: bool = False) -> bool:
        """Does ``other`` differ from ``first`` only in values that are no ids (an enum value,
        a flag, a number, a date)? Only such changes are combined with an aligned payload.
        ``texts_only``: and every change sets a literal some condition compares the field
        with (rol voogd, vorm mondeling)."""
        for key in {*first, *other}:
            a, b = first.get(key), other.get(key)
            if a == b:
                continue
            if b is None or isinstance(b, (bool, int, float)):
                if texts_only:
                    return False
                continue
            if texts_only and b not in self.literals(key):
                return False
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

    def copied_ref(self, path: str) -> bool:
        """Is ``path`` copied into a reference group, and not compared by the event itself?"""
        full = "data." + path.removesuffix("[]") if path else "data"
        return full in self.reads.copied_refs and full not in self.reads.compared

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
        out.extend(self.siblings(default, item_path))
        if lo == 0:
            out.append([])
        if len(default) > max(lo, 1):
            out.append(default[: max(lo, 1)])
        out.extend(self.literals(path))
        return _unique(out)

    def siblings(self, default: list[Any], item_path: str) -> list[Any]:
        """``default`` with a reference of its first element set to the id of another
        element (a parent's ``gezag`` names a child of the same household), one at a time."""
        first = default[0] if default else None
        if not isinstance(first, dict) or len(default) < 2:
            return []
        refs = [name for name in first if self.copied_ref(f"{item_path}.{name}")]
        ids = _unique(v for element in default[1:] if isinstance(element, dict)
                      for name in refs if isinstance(v := element.get(name), str)
                      and v != TEXT)[:MAX_SIBLINGS]
        out: list[Any] = []
        for name in refs:
            current = first.get(name)
            if name == "id" or not isinstance(current, list | str):
                continue
            for ident in ids:
                out.append([{**first, name: [ident] if isinstance(current, list) else ident},
                            *default[1:]])
        return out

    def base(self, base: str, spec: Mapping[str, Any], path: str) -> list[Any]:
        lits = self.literals(path)
        if base in ("text", "string"):
            name = path.rsplit(".", 1)[-1]
            default = self.fresh() if name == "id" else TEXT
            if self.align is not None and name != "id" and self.referenced(path):
                default = self.align
            assigned = self.assign.get("data." + path.removesuffix("[]")) if self.assign else None
            if assigned is not None:
                default = assigned
            texts = [v for v in self.own_literals(path) if isinstance(v, str)]
            if texts and name != "id":
                # the value the event's own condition looks for (onderwerp: overleg) is the
                # likely one; a literal another event compares a copy with (rol: voogd) is
                # one variant, the plain text stays the default
                out: list[Any] = [texts[0], default, *lits]
            else:
                out = [default, *lits]
            if name != "id" and self.copied_ref(path):
                # a reference another event compares: the ids of its group (no fresh id, the
                # plain text already names nothing)
                return _unique([*out, *self.ref_ids])
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
    (signal ids for ``signaal_opheffen``, member ids for a consent), not every id around.
    Then, after :data:`REFS`, the ids of the reference groups it copies into (member ids
    for a betrokkene's ``voor``), and after :data:`LINKS` the pairs of ids elements of the
    traject link (for the fields it compares); both only where there are any. One flat
    tuple of texts, so that it can be remembered and compared as it is."""
    names = analysis.own_facts.get(event_id, analysis.event_facts.get(event_id, frozenset()))
    out = _known_ids({n: facts[n] for n in names if n in facts}, analysis.keyed_facts)
    groups = analysis.copy_refs.get(event_id, ())
    if groups:
        # what a copied reference can name: the ids in the group's other facts (a voor
        # names a member of the household); within the fact it is copied into, the other
        # elements of the same payload (:meth:`Payloads.siblings`)
        names = frozenset(n for k, target in groups for n in analysis.refs[k].facts
                          if n != target)
        refs = _known_ids({n: facts[n] for n in names if n in facts}, analysis.keyed_facts)
        for k, target in groups:
            for walk in analysis.refs[k].walks:
                if walk[0] != target:
                    refs.extend(t for t in texts_at(facts, walk) if t not in refs)
        refs = [t for t in refs if t != TEXT][:MAX_KNOWN_IDS]
        offered = _one_per_shape(analysis, [w for k, target in groups
                                            for w in analysis.refs[k].walks if w[0] != target],
                                 facts, refs)[:MAX_REF_IDS]
        if refs:
            # the others only stay out of the new ids the payloads make
            out = [*out, REFS, *offered, TAKEN, *(t for t in refs if t not in offered)]
    links = _links(analysis, event_id, facts)
    if links:
        out = [*out, LINKS, *(i for link in links for pair in (*link, (END, END)) for i in pair)]
    return tuple(out)


def _one_per_shape(analysis: Analysis, walks: Sequence[tuple[str, tuple[Any, ...]]],
                   facts: Mapping[str, Any], ids: list[str]) -> list[str]:
    """``ids`` without those that identify an element (at the end of one of ``walks``: a
    member's ``id``) that reads, apart from its references, as an element an earlier id
    identifies: naming either gives states that differ only in which of two alike members a
    reference names. A coverage choice: which ids the payloads offer, not how states are
    told apart."""
    shapes: dict[str, Any] = {}
    items = dict(analysis.fact_items)
    for fact, segments in walks:
        trie = items.get(fact)
        if trie is None or len(segments) < 2:
            continue
        trie = trie.get("[]", {}) if segments[0][1] else trie
        for name, many in segments[1:-1]:
            trie = trie.get(name, {})
            trie = trie.get("[]", {}) if many else trie
        plain = {key: sub for key, sub in trie.items()
                 if not (isinstance(sub, Mapping) and any(
                     m.startswith(REF) for m in sub.get("", ())))}
        field = segments[-1][0]
        for element in values_at(facts, (fact, segments[:-1])):
            if isinstance(element, Mapping) and isinstance(ident := element.get(field), str):
                shapes.setdefault(ident, canon_value(element, plain, analysis.cap))
    seen: set[str] = set()
    out: list[str] = []
    for ident in ids:
        shape = shapes.get(ident)
        if shape is not None:
            text = repr(shape)
            if text in seen:
                continue
            seen.add(text)
        out.append(ident)
    return out


def _links(analysis: Analysis, event_id: str, facts: Mapping[str, Any]
           ) -> list[tuple[tuple[str, str], ...]]:
    """Ids that one element holds at two or more paths the event's conditions compare with
    its payload (a voogd's id and its ``voor``, a member's id and its ``gezag``), where one of
    them is a reference (part of a reference group): per such combination, each compared
    payload field with the id it takes (``over`` the child a ``gezag`` names, ``van`` the
    member's own id; see :func:`.analysis._link_paths`), one way round only."""
    paths = analysis.link_paths.get(event_id, ())
    out: list[tuple[tuple[str, str], ...]] = []
    for _element, walk, names, takes in paths:
        used = sorted({t for _f, t in takes if t >= 0})
        for element in values_at(facts, walk):
            if not isinstance(element, Mapping):
                continue
            held = [[t for t in texts_of(element.get(names[i])) if t != TEXT] for i in used]
            for combination in product(*held):
                if len(set(combination)) < len(combination):
                    continue  # one id at two places links nothing
                chosen = dict(zip(used, combination, strict=True))
                link = tuple((field, chosen[t]) for field, t in takes if t >= 0)
                if link not in out:
                    out.append(link)
    return out[:MAX_LINKS]


def _split(known: Sequence[str]
           ) -> tuple[list[str], list[str], list[dict[str, str]], list[str]]:
    """:func:`event_known_ids`' tuple, taken apart: own ids, reference ids, linked ids (per
    link: payload field -> id), other ids new ones must differ from."""
    own, refs, flat = list(known), [], []
    if LINKS in own:
        at = own.index(LINKS)
        own, flat = own[:at], own[at + 1:]
    taken: list[str] = []
    if REFS in own:
        at = own.index(REFS)
        own, refs = own[:at], own[at + 1:]
        if TAKEN in refs:
            at = refs.index(TAKEN)
            refs, taken = refs[:at], refs[at + 1:]
    links: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for field, ident in zip(flat[::2], flat[1::2], strict=False):
        if field == END:
            links.append(current)
            current = {}
        else:
            current[field] = ident
    return own, refs, links, taken


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

