"""What a definition reads, gathered from the compiled model.

Every compiled condition carries its footprint (:class:`eengezin.rules.footprint.Reads`,
declared by the predicates themselves); :class:`Gathered` adds up the footprints of the
conditions that matter for one event (or for all of them), and the tries built from it say
which parts of the facts and of a payload the abstraction must keep.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from ..process.model import Definition, EventSpec, Record
from ..rules.footprint import Condition, Reads
from ..rules.paths import PathError, Segment, parse_path
from .settings import LITERALS, MEMBERS, RAW, WHOLE

_KEPT = ("data", "facts")


def _kept(path: str) -> bool:
    """A path into the payload or the facts (the parts the abstraction keeps)."""
    head = path.split(".", 1)[0]
    return head in _KEPT


def fact_of(path: str) -> str:
    """``facts.plan.doelen[]`` -> ``plan``."""
    return path.split(".")[1].removesuffix("[]")


class Gathered:
    """The footprints of some conditions, added up (``item.`` already resolved)."""

    def __init__(self) -> None:
        self.paths: set[str] = set()  # data and facts paths
        self.literals: dict[str, list[Any]] = {}
        # literals that other events' conditions compare a fact with, for the payload paths
        # copied into that fact (see :func:`copied_literals`): tried as payload values too
        self.copied_literals: dict[str, list[Any]] = {}
        # paths some predicate reads only as equal to a text literal or not, and paths
        # something reads more of: a path is compared with literals only if it is in the
        # first and not in the second (a path added to ``paths`` directly, such as a copied
        # fact or a record's key, is in neither: it is read as it is)
        self.literal_reads: set[str] = set()
        self.member_reads: set[str] = set()
        self.deep_reads: set[str] = set()
        self.compared: set[str] = set()  # data paths compared with a path outside the payload
        # data paths copied into a reference path that other events compare (a betrokkene's
        # ``voor``): their payloads take the ids of the reference group
        self.copied_refs: set[str] = set()
        # paths read against the moment of the event (a birth date for an age): their value
        # is kept as it is, since one date and another read differently
        self.dated: set[str] = set()
        self.seen_events: set[str] = set()
        self.count_bounds: dict[str, int] = {}
        self.deadlines_read: set[str] = set()
        self.overdue_read: set[str] = set()
        self.mentions_actor = False
        self.in_state: list[tuple[str, frozenset[str]]] = []  # (track, leaves) tested
        self.state_paths: set[str] = set()  # tracks read through a ``state.`` path
        self.opaque = False  # a host predicate: it may read anything
        self.clock = False

    def condition(self, condition: Condition | None) -> None:
        if condition is not None:
            self.add(condition.reads)

    def add(self, reads: Reads) -> None:
        self.literal_reads |= reads.only_literals
        self.member_reads |= reads.only_members
        self.deep_reads |= reads.paths - reads.only_literals - reads.only_members
        for path in reads.paths:
            if _kept(path):
                self.paths.add(path)
            elif path.startswith("actor"):
                self.mentions_actor = True
            elif path == "state" or path.startswith("state."):
                self.state_paths.add(path.split(".")[1] if "." in path else "*")
        for path, value in reads.literals:
            if _kept(path):
                bucket = self.literals.setdefault(path, [])
                if value not in bucket:
                    bucket.append(value)
        for a, b in reads.compared:
            if _kept(a) and _kept(b):
                for x, y in ((a, b), (b, a)):
                    if x.startswith("data") and not y.startswith("data"):
                        self.compared.add(x)
        for path, bound in reads.bounds:
            if _kept(path):
                self.count_bounds[path] = max(bound, self.count_bounds.get(path, 0))
        self.seen_events |= reads.seen
        self.deadlines_read |= reads.deadlines
        self.overdue_read |= reads.overdue
        self.mentions_actor = self.mentions_actor or reads.actor
        self.in_state.extend(reads.states)
        self.opaque = self.opaque or reads.opaque
        self.clock = self.clock or reads.clock
        self.dated |= {path for path in reads.dated if _kept(path)}

    def add_copied(self, literals: Iterable[tuple[str, Any]]) -> None:
        for path, value in literals:
            bucket = self.copied_literals.setdefault(path, [])
            if value not in bucket:
                bucket.append(value)

    def only_literals(self, path: str) -> bool:
        """Is ``path`` read only as being equal to one of its text literals, or to none?"""
        return (path in self.literal_reads and path not in self.deep_reads
                and path not in self.member_reads)

    def only_members(self, path: str) -> bool:
        """Is ``path`` read only as a collection in which values are looked up?"""
        return (path in self.member_reads and path not in self.deep_reads
                and path not in self.literal_reads)

    def facts(self) -> frozenset[str]:
        return frozenset(fact_of(p) for p in self.paths if p.startswith("facts."))


def required_states(definition: Definition, condition: Condition | None
                    ) -> dict[str, frozenset[str]]:
    """Per track, the leaves ``condition`` can be true in, read from its ``in_state`` tests
    at the top level (directly or inside ``all``); tracks it does not restrict are left out."""
    out: dict[str, frozenset[str]] = {}
    if condition is None:
        return out
    for unit in condition.conjuncts():
        if unit.op != "in_state":
            continue
        for track, leaves in unit.reads.states:
            if track in definition.tracks:
                out[track] = out[track] & leaves if track in out else leaves
    return out


def written_facts(definition: Definition, spec: EventSpec) -> frozenset[str]:
    """Every fact ``spec`` may write: its records, its effects' records, and the
    ``on_enter`` records of every state it may enter."""
    out = {r.fact for r in spec.records}
    targets: list[tuple[str, str]] = [(tr.track, tr.target) for tr in spec.transitions]
    for effect in spec.effects:
        out |= {r.fact for r in effect.records}
        targets.extend(effect.moves)
    for tid, target in targets:
        track = definition.tracks[tid]
        for path in track.ancestors[target]:
            out |= {r.fact for r in track.nodes[path].on_enter}
    return frozenset(out)


def record_paths(records: Iterable[Record]) -> Iterable[str]:
    """The paths records read outside their conditions (copied values, keys)."""
    for rec in records:
        if rec.source is not None:
            yield rec.source
        if rec.key_source is not None:
            yield rec.key_source


def copied_literals(literals: Mapping[str, Iterable[Any]], fact: str, op: str, source: str
                    ) -> Iterable[tuple[str, Any]]:
    """The literals ``literals`` (fact path -> values) compares the copy of ``source`` in
    ``fact`` with, as ``(payload path, value)``: ``put``/``append`` make ``source`` an element
    of the fact (``facts.F[].x`` is ``source.x``; a value looked up in the fact itself is
    one element), ``set`` makes it the fact (``facts.F.x`` is ``source.x``).

    >>> list(copied_literals({"facts.leden[].rol": ["voogd"]}, "leden", "put", "data"))
    [('data.rol', 'voogd')]
    """
    whole = f"facts.{fact}"
    prefix = f"{whole}[]" if op in ("put", "append") else whole
    for path, values in literals.items():
        if path == prefix or path.startswith((prefix + ".", prefix + "[")):
            target = source + path[len(prefix):]
        elif path == whole:  # put/append: the fact holds the copied value
            target = source
        else:
            continue
        for value in values:
            yield target, value


def copied_path(path: str, fact: str, op: str, source: str) -> str | None:
    """The payload path that ``op`` copies from ``source`` into fact path ``path``, or None
    (the inverse of what :func:`copied_literals` does for one path).

    >>> copied_path("facts.betrokkenen[].voor", "betrokkenen", "put", "data")
    'data.voor'
    >>> copied_path("facts.huishouden.leden[].gezag", "huishouden", "set", "data.huishouden")
    'data.huishouden.leden[].gezag'
    """
    whole = f"facts.{fact}"
    if op == "key":  # put's key: the keys of the fact (a list of keys puts each)
        return source if path == whole else None
    prefix = f"{whole}[]" if op in ("put", "append") else whole
    if path == prefix or path.startswith((prefix + ".", prefix + "[")):
        return source + path[len(prefix):]
    return None


# ------------------------------------------------------------------ references


class RefGroup(NamedTuple):
    """Fact paths whose texts conditions compare with one another (directly, or each with
    the same payload field): member ids, a member's ``gezag``, a betrokkene's ``voor``."""

    paths: tuple[str, ...]
    """The fact paths, sorted (``facts.huishouden.leden[].gezag``)."""
    facts: tuple[str, ...]
    """The facts they are in, sorted."""
    walks: tuple[tuple[str, tuple[Segment, ...]], ...]
    """Per path: its fact and the segments below it, in the order of ``paths``."""


Pairs = Iterable[tuple[Sequence[str], Iterable[tuple[str, str]]]]


def ref_groups(pairs: Pairs, keyed: frozenset[str] = frozenset()) -> list[RefGroup]:
    """The groups of fact paths whose texts are compared with one another.

    ``pairs``: per condition, the events it decides and its compared pairs (``other:``).
    Two paths are linked when a pair compares them; a payload path links everything it is
    compared with, within one event (``find`` a member by ``data.over`` and look for
    ``data.over`` in a ``voor``: the member id and the ``voor`` are linked). A group is kept
    when it links at least two fact paths, or a fact path with itself (only then does the
    abstract state need to know which texts are equal; a fact path compared with payload
    fields alone is read symmetrically: the payloads take their ids from the traject).

    The keys of a fact that ``put`` builds (``keyed``: the signals, the consents per
    recipient) are left out: such a fact grows with every ``put`` (a new signal per
    ``signaal_melden``), and telling its keys apart would keep every one of them, where the
    abstract state counts elements only up to the largest count a rule asks for. They stay
    counted, as before.
    """
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(node: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    self_linked: set[tuple[str, str]] = set()
    for events, compared in pairs:
        for a, b in compared:
            sides = [_nodes(a, events), _nodes(b, events)]
            if not sides[0] or not sides[1]:
                continue
            if sides[0][0][0] == "" and sides[1][0][0] == "":
                self_linked.add(sides[0][0])
            for x in sides[0]:
                for y in sides[1]:
                    parent[find(x)] = find(y)
    members: dict[tuple[str, str], set[str]] = {}
    for node in list(parent):
        if node[0] != "":
            continue
        name = fact_of(node[1])
        if name in keyed and node[1].removesuffix("[]") == f"facts.{name}":
            continue  # the keys of a fact put builds
        members.setdefault(find(node), set()).add(node[1])
    linked = {find(node) for node in self_linked}
    groups: list[RefGroup] = []
    for root, paths in sorted(members.items(), key=lambda item: sorted(item[1])):
        if len(paths) < 2 and root not in linked:
            continue
        ordered = tuple(sorted(paths))
        walks = []
        for path in ordered:
            _root, segments = parse_path(path)
            walks.append((segments[0][0], segments))
        groups.append(RefGroup(ordered, tuple(sorted({fact_of(p) for p in ordered})),
                               tuple(walks)))
    return groups


def _nodes(path: str, events: Sequence[str]) -> list[tuple[str, str]]:
    """The graph nodes of ``path``: a fact path is one node, a payload path one per event."""
    head = path.split(".", 1)[0].removesuffix("[]")
    if head == "facts" and "." in path:
        try:
            parse_path(path)
        except PathError:
            return []
        return [("", path)]
    if head == "data":
        return [(eid, path) for eid in events]
    return []


def values_at(facts: Mapping[str, Any], walk: tuple[str, tuple[Segment, ...]]
              ) -> Iterator[Any]:
    """The values a fact path reaches (``[]`` goes through a list or a mapping's values)."""

    def visit(value: Any, i: int) -> Iterator[Any]:
        if i:
            value = value.get(segments[i][0]) if isinstance(value, Mapping) else None
        if value is None:
            return
        if segments[i][1]:
            if isinstance(value, Mapping):
                value = list(value.values())
            if not isinstance(value, list):
                return
            for item in value:
                if i + 1 == len(segments):
                    yield item
                else:
                    yield from visit(item, i + 1)
        elif i + 1 == len(segments):
            yield value
        else:
            yield from visit(value, i + 1)

    fact, segments = walk
    if fact in facts and segments:
        yield from visit(facts[fact], 0)


def texts_of(value: Any) -> Iterator[str]:
    """The texts a value holds as a reference: itself, a list's texts, a mapping's keys."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | Mapping):
        yield from (v for v in value if isinstance(v, str))


def texts_at(facts: Mapping[str, Any], walk: tuple[str, tuple[Segment, ...]]) -> Iterator[str]:
    """The texts at a path of a :class:`RefGroup`, in the order of the facts."""
    for value in values_at(facts, walk):
        yield from texts_of(value)


# ------------------------------------------------------------------ tries


def build_trie(reads: Gathered, root: str) -> dict[str, Any]:
    """A tree of the paths under ``root`` that are read; ``""`` marks a whole read, with the
    literals it is compared with."""
    trie: dict[str, Any] = {}
    for path in sorted(reads.paths):
        if path != root and not path.startswith(root + "."):
            continue
        lits = frozenset(v for v in reads.literals.get(path, []) if isinstance(v, str))
        if path in reads.compared or path in reads.dated:
            lits |= {RAW}
        # how the value is read; merged tries keep every marker, and a value marked in more
        # than one way is kept as it is
        if lits and reads.only_literals(path):
            lits |= {LITERALS}
        elif reads.only_members(path):
            lits |= {MEMBERS}
        else:
            lits |= {WHOLE}
        graft(trie, path, {"": lits})
    return trie


def graft(trie: dict[str, Any], path: str, sub: Mapping[str, Any]) -> None:
    try:
        _root, segments = parse_path(path)
    except PathError:
        return
    node = trie
    for name, iterate in segments:
        node = node.setdefault(name, {})
        if iterate:
            node = node.setdefault("[]", {})
    merged = merge_tries(node, sub)
    node.clear()
    node.update(merged)


def merge_tries(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(a)
    for key, value in b.items():
        if key == "":
            out[""] = frozenset(out.get("", frozenset())) | frozenset(value)
        elif key in out:
            out[key] = merge_tries(out[key], value)
        else:
            out[key] = value
    return out


def has_raw(trie: Mapping[str, Any]) -> bool:
    return any(RAW in value if key == "" else has_raw(value) for key, value in trie.items())
