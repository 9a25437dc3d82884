"""What the checker knows about a definition before it explores, read from the compiled model.

:func:`analyse` walks every decisive condition of the compiled :class:`Definition` (blocking
rules, guarded transitions, record and effect conditions, deadline starts that something
decisive reads, ``always`` invariants) and adds up their footprints per event. From that it
builds the tries that say which parts of the facts and of each event's payload the abstract
state keeps, and it prepares the reductions (:mod:`.liveness`, :mod:`.reductions`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from ..process.model import Definition, Record
from ..rules.footprint import Condition, fact_names
from ..rules.paths import parse_path
from .analysis_model import Analysis, Link, Where
from .liveness import liveness
from .obligations import obligations
from .reads import (
    Gathered,
    RefGroup,
    build_trie,
    copied_literals,
    copied_path,
    fact_of,
    graft,
    merge_tries,
    record_paths,
    ref_groups,
    required_states,
    written_facts,
)
from .reductions import closed_facts, eager, observed_facts
from .settings import RAW, REF
from .side import side_tracks


class _Walk:
    """Adds up the footprints of the decisive conditions, per event and for all events."""

    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self.state_reads = Gathered()  # what decides acceptance or moves state
        self.event_reads = {eid: Gathered() for eid in definition.events}
        self.keyed: set[str] = set()
        self.roots: list[tuple[int, Condition | None]] = []  # with polarity
        self.uses: dict[tuple[str, str], list[Where]] = {}
        self.copies: list[tuple[str, str, str, str]] = []  # event, fact, op, data path copied
        # per condition: the events it decides and the paths it compares (``other:``)
        self.pairs: list[tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = []

    def condition(self, events: Iterable[str], condition: Condition | None, polarity: int = 0,
                  where: Where | None = None) -> None:
        # polarity +1: true lets the event through (a rule's require); -1: true blocks it
        # (a rule's if); 0: it steers what happens (guards, record and effect conditions).
        # where: the leaves in which this condition can matter at all (a rule's in_state if)
        events = list(events)
        self.roots.append((polarity, condition))
        if condition is None:
            return
        if condition.reads.compared:
            self.pairs.append((tuple(events), condition.reads.compared))
        for name in fact_names(condition.reads):
            for eid in events:
                self.uses.setdefault((name, eid), []).append(where or {})
        self.state_reads.condition(condition)
        for eid in events:
            if eid in self.event_reads:
                self.event_reads[eid].condition(condition)

    def records(self, events: Iterable[str], records: Iterable[Record]) -> None:
        events = list(events)
        for rec in records:
            self.condition(events, rec.condition)
            if rec.op == "put":
                self.keyed.add(rec.fact)
            if rec.op not in ("set", "put", "append"):
                continue
            source = rec.source
            if source is not None and (source == "data" or source.startswith("data.")):
                self.copies.extend((e, rec.fact, rec.op, source) for e in events)
            elif source is not None and source.startswith("facts."):
                for e in events:  # copying a fact reads it (for liveness)
                    if e in self.event_reads:
                        self.event_reads[e].paths.add(source)
            key = rec.key_source
            if key is not None and key.startswith("data"):
                for e in events:
                    if e in self.event_reads:
                        self.event_reads[e].paths.add(key)
                if rec.op == "put":
                    self.copies.extend((e, rec.fact, "key", key) for e in events)


def analyse(definition: Definition) -> Analysis:
    walk = _Walk(definition)
    for eid, spec in definition.events.items():
        for tr in spec.transitions:
            walk.condition([eid], tr.condition)
        walk.records([eid], spec.records)
    for rule in definition.rules:
        if rule.severity == "block":
            where = required_states(definition, rule.if_condition)
            walk.condition(rule.events, rule.if_condition, -1, where)
            walk.condition(rule.events, rule.require_condition, +1, where)
            # what a conditional ``next`` reads decides the advice a refusal gives, which
            # the checker checks (``advies_onmogelijk``): keep it in the state too
            for _next, cond in rule.next_when:
                if isinstance(cond, Condition):
                    walk.condition(rule.events, cond, 0, where)
    for effect in definition.effects:
        walk.condition(effect.events, effect.condition, 0,
                       required_states(definition, effect.condition))
        walk.records(effect.events, effect.records)
    for track in definition.tracks.values():
        for node in track.nodes.values():
            walk.records(definition.events, node.on_enter)
    state_reads = walk.state_reads
    invariant_reads = Gathered()
    for inv in definition.invariants:
        walk.roots.append((0, inv.always))
        if inv.always is not None and inv.always.reads.compared:
            walk.pairs.append(((), inv.always.reads.compared))
        state_reads.condition(inv.always)
        invariant_reads.condition(inv.always)
    # a deadline only warns; when it starts matters only if something decisive reads it
    # (deadline_open / deadline_overdue), so only then its start condition is read too
    walked: set[str] = set()
    while state_reads.deadlines_read - walked:
        for did in sorted(state_reads.deadlines_read - walked):
            walked.add(did)
            deadline = definition.deadlines.get(did)
            if deadline is not None:
                walk.condition(deadline.start_events, deadline.start_condition)
    return _build(definition, walk, invariant_reads)


def _build(definition: Definition, walk: _Walk, invariant_reads: Gathered) -> Analysis:
    state_reads, event_reads = walk.state_reads, walk.event_reads
    trie = build_trie(state_reads, "facts")
    bounds = state_reads.count_bounds
    caps: dict[str, int] = {}
    for path, bound in bounds.items():
        if path.startswith("facts."):
            name = fact_of(path)
            caps[name] = max(caps.get(name, 2), bound + 1)
    actor_events = frozenset(
        eid for eid, reads in event_reads.items()
        if reads.mentions_actor or definition.events[eid].roles is not None
    )
    # texts compared with one another across fact paths (ids and the references to them)
    groups = ref_groups(walk.pairs, frozenset(walk.keyed))
    for k, group in enumerate(groups):
        for path in group.paths:
            graft(trie, path, {"": frozenset({f"{REF}{k}"})})
    data_tries = {eid: build_trie(reads, "data") for eid, reads in event_reads.items()}
    own_facts = {eid: reads.facts() for eid, reads in event_reads.items()}
    copy_refs = _copied_refs(walk, groups, data_tries)
    for eid, fact, op, source in walk.copies:
        if fact not in trie or eid not in data_tries or op == "key":
            continue
        sub = trie[fact]
        if op in ("put", "append"):
            sub = merge_tries(sub.get("[]", {}), {"": sub.get("", frozenset())})
        graft(data_tries[eid], source, sub)
        # the literals another event's conditions compare the copy with are values worth
        # trying for the payload (a betrokkene with rol voogd); the fact trie keeps them,
        # and with the graft above so does the payload's
        event_reads[eid].add_copied(copied_literals(state_reads.literals, fact, op, source))
    analysis = Analysis(
        fact_trie=trie,
        data_tries=data_tries,
        keyed_facts=frozenset(walk.keyed),
        seen_events=tuple(sorted(state_reads.seen_events)),
        cap=max(2, max(bounds.values(), default=0) + 1),
        caps=caps,
        deadlines_read=frozenset(state_reads.deadlines_read),
        overdue_read=frozenset(state_reads.overdue_read),
        event_reads=event_reads,
        actor_events=actor_events,
        fact_items=tuple((n, sub) for n, sub in sorted(trie.items()) if n not in ("", "[]")),
    )
    analysis.refs = tuple(groups)
    analysis.ref_facts = {name: tuple(k for k, g in enumerate(groups) if name in g.facts)
                          for name in trie if any(name in g.facts for g in groups)}
    analysis.copy_refs = copy_refs
    analysis.link_paths = _link_paths(walk, groups)
    analysis.own_facts = own_facts
    analysis.written = {eid: _with_groups(written_facts(definition, spec), groups)
                        for eid, spec in definition.events.items()}
    analysis.codes = [{} for _ in analysis.fact_items]
    analysis.values = [[] for _ in analysis.fact_items]
    uses = walk.uses
    for eid, reads in event_reads.items():  # reads outside conditions (copies, keys)
        for name in reads.facts():
            uses.setdefault((name, eid), [{}])
    analysis.uses = {k: tuple(v) for k, v in uses.items()}
    analysis.closed, polarities = closed_facts(definition, walk.roots, trie, _steering(definition))
    analysis.params = definition.params
    liveness(definition, analysis, invariant_reads)
    analysis.eager = eager(definition, analysis, polarities)
    return analysis


def unreduced(analysis: Analysis) -> Analysis:
    """``analysis`` for a search that keeps every fact and track (:func:`analysis_for`)."""
    plain = attrs.evolve(analysis, observed=frozenset(), observers=frozenset(), side=(),
                         obligations=None,
                         live_cache={}, dead_cache={}, memo={},
                         codes=[{} for _ in analysis.fact_items],
                         values=[[] for _ in analysis.fact_items])
    return plain


def _copied_refs(walk: _Walk, groups: Sequence[RefGroup],
                 data_tries: dict[str, dict[str, Any]]
                 ) -> dict[str, tuple[tuple[int, str], ...]]:
    """Payload paths copied into a path of a reference group (a betrokkene's ``voor``, a
    member's ``gezag``): per event, the groups its payloads take ids from. Such a path is
    read like a path the event compares itself (its payloads get the ids of the group, the
    payload keeps them as they are), and the event reads the group's facts (its payloads
    depend on them). Per event: the groups, each with the fact copied into."""
    out: dict[str, set[tuple[int, str]]] = {}
    for eid, fact, op, source in walk.copies:
        reads = walk.event_reads.get(eid)
        if reads is None:
            continue
        for k, group in enumerate(groups):
            for path in group.paths:
                target = copied_path(path, fact, op, source) if fact_of(path) == fact else None
                if target is None:
                    continue
                reads.paths.add(target)
                reads.paths.update(group.paths)
                reads.copied_refs.add(target)
                graft(data_tries[eid], target, {"": frozenset({RAW})})
                out.setdefault(eid, set()).add((k, fact))
    return {eid: tuple(sorted(ks)) for eid, ks in out.items()}


def _link_paths(walk: _Walk, groups: Sequence[RefGroup]
                ) -> dict[str, tuple[Link, ...]]:
    """Per event that compares two or more payload fields with the facts: the elements
    (``facts.betrokkenen[]``) with two or more fields it compares them with, one of them a
    reference (``voor``), and per payload field the event compares (sorted) the element
    field whose id it takes (its number in the fields; -1: none). A payload field takes the id of the element field
    it is compared with; compared with more than one (``over`` with a member's ``id`` and
    its ``gezag``), the one fewest payload fields are compared with (``gezag``: the child it
    names; ``van`` then gets the member's own id). So each linked pair of ids is tried one
    way round only (:func:`.payloads._links`)."""
    references = {path for group in groups for path in group.paths}
    compared: dict[str, set[str]] = {}
    links: dict[str, dict[str, set[str]]] = {}  # event: fact path: data paths
    for events, pairs in walk.pairs:
        for a, b in pairs:
            for x, y in ((a, b), (b, a)):
                if x.startswith("data") and y.startswith("facts."):
                    for eid in events:
                        compared.setdefault(eid, set()).add(x)
                        links.setdefault(eid, {}).setdefault(y, set()).add(x)
    out: dict[str, tuple[Link, ...]] = {}
    for eid, by_path in links.items():
        if len(compared[eid]) < 2:
            continue
        fields = sorted(compared[eid])
        by_element: dict[str, list[str]] = {}
        for path in sorted(by_path):
            prefix, sep, name = path.rpartition("[].")
            if sep and "." not in name and "[" not in name:
                by_element.setdefault(prefix + "[]", []).append(name)
        found = []
        for prefix, names in by_element.items():
            if len(names) > 1 and any(f"{prefix}.{n}" in references for n in names):
                _root, segments = parse_path(prefix)
                with_ = [by_path[f"{prefix}.{n}"] for n in names]
                takes = tuple((field, min((i for i in range(len(names)) if field in with_[i]),
                                          key=lambda i: (len(with_[i]), i), default=-1))
                              for field in fields)
                if len({t for _f, t in takes if t >= 0}) > 1:
                    found.append((prefix, (segments[0][0], segments), tuple(names), takes))
        if found:
            out[eid] = tuple(found)
    return out


def _with_groups(written: frozenset[str], groups: Sequence[RefGroup]) -> frozenset[str]:
    """``written`` and every fact of a reference group it shares a fact with: which texts of
    a group occur twice depends on all its facts, so writing one may change the others'
    canonical values."""
    out = set(written)
    changed = True
    while changed:
        changed = False
        for group in groups:
            if out & set(group.facts) and not out >= set(group.facts):
                out |= set(group.facts)
                changed = True
    return frozenset(out)


def _steering(definition: Definition) -> frozenset[str]:
    """Facts read where what happens is decided beyond a rule or an invariant: transition
    guards, records (their conditions, what they copy, their keys), effects, ``on_enter``
    and deadline starts. Their parts can matter, not only the truth of a predicate."""
    conditions: list[Condition | None] = []
    records: list[Record] = []
    for spec in definition.events.values():
        conditions.extend(tr.condition for tr in spec.transitions)
        records.extend(spec.records)
    for effect in definition.effects:
        conditions.append(effect.condition)
        records.extend(effect.records)
    for track in definition.tracks.values():
        for node in track.nodes.values():
            records.extend(node.on_enter)
    conditions.extend(d.start_condition for d in definition.deadlines.values())
    conditions.extend(rec.condition for rec in records)
    out = {name for c in conditions if c is not None for name in fact_names(c.reads)}
    out |= {fact_of(p) for p in record_paths(records) if p.startswith("facts.")}
    return frozenset(out)


_analyses: dict[tuple[int, bool], tuple[weakref.ref[Definition], Analysis]] = {}


def analysis_for(definition: Definition, *, reduce: bool = True) -> Analysis:
    """The analysis of ``definition``, made once per loaded definition and forgotten with it.

    ``reduce``: leave the facts only observers read out of the abstract state
    (:func:`.reductions.observed_facts`), keep side tracks at home (:mod:`.side`) and
    obligations empty (:mod:`.obligations`); without it the search keeps every decisive
    fact and every track.
    """
    key = (id(definition), reduce)
    cached = _analyses.get(key)
    if cached is not None and cached[0]() is definition:
        return cached[1]
    if reduce:
        analysis = analyse(definition)
        analysis.observed, analysis.observers = observed_facts(definition, analysis)
        analysis.side = tuple(
            side for side in side_tracks(definition, analysis)
            if not side.facts & analysis.observed and not side.events & analysis.observers)
        analysis.obligations = obligations(definition, analysis, _steering(definition))
    else:
        analysis = unreduced(analysis_for(definition))
    _analyses[key] = (weakref.ref(definition), analysis)
    weakref.finalize(definition, _analyses.pop, key, None)
    return analysis
