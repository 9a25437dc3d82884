"""Compile a merged definition tree into the frozen :class:`Definition` tables.

Every problem is collected with its file position before anything is raised,
so an author sees all of them at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import tzinfo
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from ..errors import DefinitionError, Location, Problem
from ..process.model import (
    DEFAULT_RETENTION_GROUND,
    DEFAULT_TIMEZONE,
    DeadlineSpec,
    Definition,
    Effect,
    EventSpec,
    Indicator,
    Invariant,
    Record,
    Retention,
    Rule,
    StateNode,
    Track,
    Transition,
)
from ..process.statechart import entry_chains
from ..rules.conditions import compile_condition
from ..rules.footprint import NOTHING, Condition
from ..rules.paths import PathError, compile_single, parse_path
from ..rules.predicates import Check, ConditionError, PredicateRegistry
from ..rules.verdict import Severity, Violation
from ..traject import DefinitionRef
from .payload import (
    ObjectType,
    PayloadType,
    TypeCompiler,
    TypeSpecError,
    event_validator,
    undeclared,
)
from .raw import RawDefinition, suggest
from .zgw import compile_zgw, without_zgw

ANY_ACTIVE = "*"


def _never(ctx: Any) -> bool:
    return False


_NEVER = Condition(_never, "never", NOTHING, text="false")


def _always(ctx: Any) -> bool:
    return True


def _check(condition: Condition | None) -> Check | None:
    return condition.check if condition is not None else None


class _Compiler:
    def __init__(self, raw: RawDefinition, registry: PredicateRegistry) -> None:
        self.raw = raw
        self.data = raw.data
        self.loc = raw.locator
        self.registry = registry
        self.problems: list[Problem] = []
        self.here = Location(raw.main_file, 1, 1)
        self.tracks: dict[str, Track] = {}
        self.fact_uses: list[tuple[str, Location]] = []
        self.facts_written: set[str] = set()
        self.reads_data = False
        self.initial_child: dict[tuple[str, str], str] = {}  # (track, compound) -> initial child
        self.data_reads: list[tuple[str, Location]] = []
        # format problems already found: parts that do not fit are skipped, not crashed on
        self.tolerant = bool(raw.problems)
        deadlines = self.data.get("deadlines", [])
        self.deadline_ids = {d.get("id") for d in deadlines if isinstance(d, dict)} if isinstance(
            deadlines, list) else set()
        events = self.data.get("events", {})
        self.event_ids = set(events) if isinstance(events, dict) else set()

    # ------------------------------------------------------------ helpers
    def problem(self, loc: Location, message: str) -> None:
        self.problems.append(Problem(loc, message))

    @contextmanager
    def at(self, obj: Any, key: Any = None) -> Iterator[None]:
        saved = self.here
        self.here = self.loc.where(obj, key, default=saved)
        try:
            yield
        finally:
            self.here = saved

    @contextmanager
    def part(self, obj: Any, key: Any = None) -> Iterator[None]:
        """Like :meth:`at`, for one item of a section: when the file has format problems,
        an item whose shape is wrong is skipped (its format problem is reported)."""
        saved = self.here
        self.here = self.loc.where(obj, key, default=saved)
        try:
            yield
        except (KeyError, TypeError, AttributeError, ValueError, IndexError):
            if not self.tolerant:
                raise
        finally:
            self.here = saved

    # CompileEnv protocol, used by predicate factories
    def check_state(self, track: str, state: str) -> None:
        if track not in self.tracks:
            raise ConditionError(f"onbekende track {track!r}{suggest(track, self.tracks)}")
        if state not in self.tracks[track].nodes:
            raise ConditionError(f"track {track!r} heeft geen staat {state!r}"
                                 f"{suggest(state, self.tracks[track].nodes)}")

    def leaves_under(self, track: str, state: str) -> frozenset[str]:
        return self.tracks[track].leaves_under(state)

    def compile_condition(self, spec: Any) -> Condition:
        return compile_condition(spec, self.registry, self)

    def check_deadline(self, deadline_id: str) -> None:
        if deadline_id not in self.deadline_ids:
            raise ConditionError(f"onbekende termijn {deadline_id!r}"
                                 f"{suggest(deadline_id, map(str, self.deadline_ids))}")

    def check_event(self, event_id: str) -> None:
        if event_id not in self.event_ids:
            raise ConditionError(f"onbekend event {event_id!r}{suggest(event_id, self.event_ids)}")

    def note_path(self, path: str) -> None:
        if path.startswith("facts."):
            self.fact_uses.append((path.split(".")[1].removesuffix("[]"), self.here))
        elif path == "data" or path.startswith("data."):
            self.reads_data = True
            self.data_reads.append((path, self.here))

    def check_data_reads(self, what: str, events: Iterable[str], parts: Mapping[str, Any]
                         ) -> None:
        """Every ``data.X`` read since the last call must be declared in the payload of at
        least one event in ``events`` (a rule on several events may read a field that only
        some of them carry), or a payload must allow undeclared fields."""
        reads, self.data_reads = self.data_reads, []
        trees = [(eid, parts[eid]["payload"]) for eid in events
                 if eid in parts and parts[eid].get("payload") is not None]
        if not trees:
            return
        for path, loc in reads:
            try:
                _root, segments = parse_path(path)
            except PathError:
                continue
            misses = [(eid, undeclared(tree, segments)) for eid, tree in trees]
            if any(miss is None for _eid, miss in misses):
                continue
            miss = misses[0][1]
            assert miss is not None
            key, known = miss
            names = " en ".join(repr(e) for e, _m in misses[:3]) + (
                " (en meer)" if len(misses) > 3 else "")
            noun = "event" if len(misses) == 1 else "events"
            self.problem(loc, f"{what} leest {path}, maar {noun} {names} declareert veld "
                              f"{key!r} niet in de payload{suggest(key, known)}")

    def condition(self, owner: Any, key: str) -> Condition | None:
        if key not in owner:
            return None
        with self.at(owner, key):
            try:
                return self.compile_condition(owner[key])
            except ConditionError as exc:
                self.problem(self.here, str(exc))
                return _NEVER

    def getter(self, owner: Any, key: str, text: Any) -> Callable[[Any], Any] | None:
        try:
            getter = compile_single(text)
        except PathError as exc:
            self.problem(self.loc.where(owner, key, default=self.here), str(exc))
            return None
        self.note_path(text)
        return getter

    # ------------------------------------------------------------ tracks
    def compile_tracks(self) -> None:
        for tid, spec in self.data.get("tracks", {}).items():
            with self.part(self.data["tracks"], tid):
                nodes: dict[str, StateNode] = {}
                ok = self._states(tid, spec, None, nodes)
                if not ok or not nodes:
                    continue
                top = [p for p, n in nodes.items() if n.parent is None]
                initial = spec["initial"]
                if initial not in top:
                    self.problem(self.loc.where(spec, "initial"),
                                 f"initiële staat {initial!r} bestaat niet in track {tid!r}"
                                 f"{suggest(initial, top)}")
                    continue
                # where entering each state settles comes from the statechart (transitions
                # enters a compound state through its initial child), not from a walk of our own
                chains = entry_chains(nodes, {p: self.initial_child[tid, p] for p, n in nodes.items()
                                              if n.children})
                nodes = {p: attrs.evolve(n, initial_leaf=chains[p][-1]) for p, n in nodes.items()}
                leaves = frozenset(p for p, n in nodes.items() if not n.children)
                ancestors: dict[str, tuple[str, ...]] = {}
                for leaf in leaves:
                    chain = [leaf]
                    while nodes[chain[-1]].parent is not None:
                        chain.append(cast(str, nodes[chain[-1]].parent))
                    ancestors[leaf] = tuple(chain)
                finals = frozenset(p for p in leaves if nodes[p].final)
                self.tracks[tid] = Track(
                    id=tid, title=spec.get("title", tid), initial=nodes[initial].initial_leaf,
                    nodes=nodes, leaves=leaves, finals=finals, ancestors=ancestors,
                )

    def _states(self, tid: str, spec: Mapping[str, Any], parent: str | None,
                nodes: dict[str, StateNode]) -> bool:
        states = spec.get("states") or {}
        ok = True
        for name, sub in states.items():
            sub = sub or {}
            loc = self.loc.where(states, name)
            if "." in name or not name:
                self.problem(loc, f"staatnaam {name!r} mag geen punt bevatten")
                ok = False
                continue
            path = f"{parent}.{name}" if parent else name
            children = sub.get("states") or {}
            if children:
                if sub.get("final"):
                    self.problem(loc, f"samengestelde staat {path!r} kan niet final zijn")
                ok = self._states(tid, sub, path, nodes) and ok
                init = sub.get("initial")
                if init is None or init not in children:
                    self.problem(loc, f"samengestelde staat {path!r} heeft een geldige 'initial' nodig")
                    ok = False
                    continue
                self.initial_child[tid, path] = f"{path}.{init}"
                initial_leaf = nodes[f"{path}.{init}"].initial_leaf if f"{path}.{init}" in nodes else path
            else:
                initial_leaf = path
            on_enter = tuple(self.records(sub.get("on_enter", []), sub, "on_enter"))
            nodes[path] = StateNode(
                path=path, title=sub.get("title", name), parent=parent,
                children=tuple(f"{path}.{c}" for c in children),
                final=bool(sub.get("final", False)), initial_leaf=initial_leaf, on_enter=on_enter,
            )
        return ok

    def state_set(self, track: str, names: Any, owner: Any, key: str) -> frozenset[str]:
        loc = self.loc.where(owner, key, default=self.here)
        t = self.tracks.get(track)
        if t is None:
            self.problem(loc, f"onbekende track {track!r}{suggest(track, self.tracks)}")
            return frozenset()
        items = [names] if isinstance(names, str) else list(names)
        result: set[str] = set()
        for name in items:
            if name == ANY_ACTIVE:
                result |= t.active
            elif name in t.nodes:
                result |= t.leaves_under(name)
            else:
                self.problem(loc, f"track {track!r} heeft geen staat {name!r}"
                                  f"{suggest(name, t.nodes)}")
        return frozenset(result)

    def target(self, track: str, name: str, owner: Any, key: str) -> str | None:
        t = self.tracks.get(track)
        loc = self.loc.where(owner, key, default=self.here)
        if t is None:
            self.problem(loc, f"onbekende track {track!r}{suggest(track, self.tracks)}")
            return None
        if name not in t.nodes:
            self.problem(loc, f"track {track!r} heeft geen staat {name!r}{suggest(name, t.nodes)}")
            return None
        return t.nodes[name].initial_leaf

    # ------------------------------------------------------------ records
    def records(self, items: list[Any], owner: Any, key: str) -> Iterator[Record]:
        for i, item in enumerate(items):
            with self.part(items, i):
                when = self.condition(item, "if")
                ops = [k for k in item if k != "if"]
                if len(ops) != 1:
                    self.problem(self.here, "een record heeft precies één van set/put/remove/append/unset")
                    continue
                op = ops[0]
                body = item[op]
                if op == "unset":
                    self.facts_written.add(body)
                    yield Record("unset", body, when=_check(when), condition=when)
                    continue
                fact = body["fact"]
                self.facts_written.add(fact)
                value: Callable[[Any], Any] | None = None
                source: str | None = None
                if "from" in body and "value" in body:
                    self.problem(self.here, f"{op}: gebruik 'from' of 'value', niet beide")
                    continue
                if "from" in body:
                    value = self.getter(body, "from", body["from"])
                    source = body["from"]
                elif "value" in body:
                    literal = body["value"]
                    value = (lambda lit: (lambda ctx: lit))(literal)
                elif op in ("set", "append", "put"):
                    value = self.getter(body, "fact", "data")
                    source = "data"
                keyget = self.getter(body, "key", body["key"]) if "key" in body else None
                key_source = body.get("key")
                if "key_value" in body:
                    keyget = (lambda lit: (lambda ctx: lit))(str(body["key_value"]))
                    key_source = None
                if op in ("put", "remove") and keyget is None:
                    self.problem(self.here, f"{op} heeft 'key' (pad) of 'key_value' nodig")
                    continue
                yield Record(op, fact, value=value, key=keyget, when=_check(when), condition=when,
                             source=source if value is not None else None,
                             key_source=key_source if keyget is not None else None)

    # ------------------------------------------------------------ events
    def compile_events(self, types: TypeCompiler) -> dict[str, dict[str, Any]]:
        parts: dict[str, dict[str, Any]] = {}
        events = self.data.get("events", {})
        roles_declared = set(self.data.get("roles", {}))
        for eid, spec in events.items():
            spec = spec or {}
            with self.part(events, eid):
                extra = spec.get("extra") == "allow"
                tree: PayloadType = ObjectType((), extra)
                if "payload" in spec:
                    try:
                        tree = types.compile(spec["payload"], extra=extra)
                    except TypeSpecError as exc:
                        self.problem(self.loc.where(spec, "payload"), str(exc))
                validate = event_validator(tree)
                available = None
                if "when_in" in spec:
                    available = tuple(
                        (track, self.state_set(track, names, spec["when_in"], track))
                        for track, names in spec["when_in"].items()
                    )
                transitions: list[Transition] = []
                for i, tr in enumerate(spec.get("transitions", [])):
                    with self.at(spec["transitions"], i):
                        sources = self.state_set(tr["track"], tr["from"], tr, "from")
                        target = self.target(tr["track"], tr["to"], tr, "to")
                        when = self.condition(tr, "when")
                        if target is not None:
                            transitions.append(Transition(tr["track"], sources, target,
                                                          _check(when), when, to=tr["to"]))
                if "when_in" not in spec and "transitions" not in spec:
                    self.problem(self.here, f"event {eid!r} heeft transitions of when_in nodig")
                self.data_reads = []
                records = tuple(self.records(spec.get("record", []), spec, "record"))
                self.check_data_reads(f"event {eid!r} (record)", [eid], {eid: {"payload": tree}})
                roles = spec.get("roles")
                role_violation = None
                if roles is not None:
                    if roles_declared:
                        for r in roles:
                            if r not in roles_declared:
                                self.problem(self.loc.where(spec, "roles"),
                                             f"onbekende rol {r!r}{suggest(r, roles_declared)}")
                    titles = [self.role_title(r) for r in roles]
                    who = " of ".join(f"de rol '{t}'" for t in titles) if titles else "niemand"
                    role_violation = Violation(
                        f"rol.{eid}", "block",
                        f"Alleen iemand met {who} mag '{spec.get('title', eid)}' doen.",
                        spec.get("role_source", "definitie: roles"),
                    )
                parts[eid] = dict(
                    id=eid, title=spec.get("title", eid), validate=validate, available=available,
                    transitions=tuple(transitions), records=records,
                    roles=frozenset(roles) if roles is not None else None,
                    role_violation=role_violation, payload_spec=spec.get("payload"),
                    payload=tree,
                    rules=[], effects=[], deadline_starts=[], deadline_ends=[],
                )
        return parts

    def next_list(self, spec: Any, parts: Mapping[str, Any]) -> list[tuple[str, Check | None]]:
        """``next: [event, {event: id, if: condition}, ...]``: the events that resolve a rule."""
        out: list[tuple[str, Check | None]] = []
        items = spec.get("next", [])
        for i, item in enumerate(items):
            name = item if isinstance(item, str) else item.get("event")
            if name not in parts:
                self.problem(self.loc.where(items, i, default=self.here), f"onbekend event {name!r}")
                continue
            cond = self.condition(item, "if") if isinstance(item, Mapping) else None
            out.append((name, cond))
        return out

    def role_title(self, role: str) -> str:
        spec = self.data.get("roles", {}).get(role)
        if isinstance(spec, Mapping) and isinstance(spec.get("title"), str):
            return str(spec["title"])
        return role.replace("_", " ")

    def event_list(self, owner: Any, key: str, parts: Mapping[str, Any]) -> tuple[str, ...]:
        names = owner.get(key, [])
        names = [names] if isinstance(names, str) else names
        for n in names:
            if n not in parts:
                self.problem(self.loc.where(owner, key, default=self.here),
                             f"onbekend event {n!r}{suggest(n, parts)}")
        return tuple(n for n in names if n in parts)

    def compile_rules(self, parts: dict[str, dict[str, Any]]) -> list[Rule]:
        out: list[Rule] = []
        seen: set[str] = set()
        rules = self.data.get("rules", [])
        for i, spec in enumerate(rules):
            with self.part(rules, i):
                rid = spec["id"]
                if rid in seen:
                    self.problem(self.here, f"regel-id {rid!r} komt twee keer voor")
                seen.add(rid)
                events = self.event_list(spec, "on", parts)
                self.reads_data = False
                self.data_reads = []
                applies = self.condition(spec, "if")
                require = self.condition(spec, "require") or _NEVER
                self.check_data_reads(f"regel {rid!r}", events, parts)
                reads_data = self.reads_data
                next_when = self.next_list(spec, parts)
                nexts = tuple(e for e, _ in next_when)
                if all(cond is None for _, cond in next_when):
                    next_when = []
                variants: tuple[tuple[Severity, str], ...] = (
                    (cast(Severity, spec["severity"]), "on"), ("warn", "warn_on"))
                for severity, key in variants:
                    if key == "warn_on":
                        if "warn_on" not in spec:
                            continue
                        events = self.event_list(spec, "warn_on", parts)
                    violation = Violation(rid, severity, spec["message"].strip(),
                                          spec["source"], nexts)
                    rule = Rule(rid, severity, violation.message, spec["source"], events,
                                _check(applies), require.check, violation, reads_data,
                                applies, require, tuple(next_when))
                    out.append(rule)
                    for e in events:
                        parts[e]["rules"].append(rule)
        return out

    def compile_effects(self, parts: dict[str, dict[str, Any]]) -> list[Effect]:
        out: list[Effect] = []
        effects = self.data.get("effects", [])
        for i, spec in enumerate(effects):
            with self.part(effects, i):
                events = self.event_list(spec, "on", parts)
                self.data_reads = []
                when = self.condition(spec, "if")
                moves: list[tuple[str, str]] = []
                move_to: list[tuple[str, str]] = []
                for track, state in spec.get("move", {}).items():
                    target = self.target(track, state, spec["move"], track)
                    if target is not None:
                        moves.append((track, target))
                        move_to.append((track, state))
                records = tuple(self.records(spec.get("record", []), spec, "record"))
                self.check_data_reads(f"effect {spec['id']!r}", events, parts)
                if not moves and not records:
                    self.problem(self.here, "een effect heeft move en/of record nodig")
                effect = Effect(spec["id"], events, _check(when), tuple(moves), records,
                                spec["source"], spec.get("description", ""), when,
                                move_to=tuple(move_to))
                out.append(effect)
                for e in events:
                    parts[e]["effects"].append(effect)
        return out

    def compile_deadlines(self, parts: dict[str, dict[str, Any]]) -> dict[str, DeadlineSpec]:
        out: dict[str, DeadlineSpec] = {}
        deadlines = self.data.get("deadlines", [])
        for i, spec in enumerate(deadlines):
            with self.part(deadlines, i):
                start = spec["start"]
                starts = self.event_list(start, "on", parts)
                self.data_reads = []
                when = self.condition(start, "if")
                self.check_data_reads(f"termijn {spec['id']!r}", starts, parts)
                ((unit, amount),) = spec["term"].items()
                if isinstance(amount, str):
                    name = amount.removeprefix("params.")
                    amount = self.data.get("params", {}).get(name)
                    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                        self.problem(self.loc.where(spec["term"], unit, default=self.here),
                                     f"termijn: parameter {name!r} is geen geheel getal >= 0")
                        amount = 0
                due_from = self.getter(spec, "due", spec["due"]) if "due" in spec else None
                ends = self.event_list(spec, "satisfied_by", parts)
                cancels = self.event_list(spec, "cancelled_by", parts)
                d = DeadlineSpec(
                    id=spec["id"], start_events=starts, start_when=_check(when), amount=amount,
                    unit=unit, start_condition=when,
                    satisfied_by=ends, cancelled_by=cancels,
                    violation=Violation(spec["id"], "warn", spec["message"].strip(), spec["source"]),
                    description=spec.get("description", ""), due_from=due_from,
                )
                out[d.id] = d
                for e in starts:
                    parts[e]["deadline_starts"].append(d)
                for e in (*ends, *cancels):
                    parts[e]["deadline_ends"].append(d)
        return out

    def compile_indicators(self, parts: dict[str, dict[str, Any]]) -> list[Indicator]:
        out: list[Indicator] = []
        items = self.data.get("indicators", [])
        seen: set[str] = set()
        for i, spec in enumerate(items):
            with self.at(items, i):
                if spec["id"] in seen:
                    self.problem(self.here, f"indicator-id {spec['id']!r} komt twee keer voor")
                seen.add(spec["id"])
                kind = spec["kind"]
                events = self.event_list(spec, "event", parts)
                if kind in ("count", "share", "count_by") and "event" not in spec:
                    self.problem(self.here, f"indicator van soort {kind!r} heeft 'event' nodig")
                if kind in ("share", "count_by") and "field" not in spec:
                    self.problem(self.here, f"indicator van soort {kind!r} heeft 'field' nodig")
                if kind == "last_value" and not ("fact" in spec and "event" in spec):
                    self.problem(self.here, "indicator 'last_value' heeft 'fact' en 'event' nodig")
                track = spec.get("track")
                if kind in ("levels", "phase_days") and track is None:
                    self.problem(self.here, f"indicator van soort {kind!r} heeft 'track' nodig")
                if track is not None and track not in self.tracks:
                    self.problem(self.loc.where(spec, "track", default=self.here),
                                 f"onbekende track {track!r}")
                out.append(Indicator(
                    id=spec["id"], title=spec["title"], kind=kind, events=events,
                    field=spec.get("field"), fact=spec.get("fact"), track=track,
                    target=spec.get("target"), source=spec.get("source", "")))
        return out

    def compile_invariants(self) -> list[Invariant]:
        out: list[Invariant] = []
        items = self.data.get("invariants", [])
        for i, spec in enumerate(items):
            with self.part(items, i):
                cond = self.condition(spec, "always")
                if cond is None and not spec.get("reachable_final"):
                    self.problem(self.here, "een invariant heeft 'always' of 'reachable_final' nodig")
                    continue
                out.append(Invariant(spec["id"], cond.check if cond is not None else _always,
                                     spec["message"], spec["source"], spec, cond,
                                     bool(spec.get("reachable_final"))))
        return out

    # ------------------------------------------------------------ all
    def compile(self) -> Definition:
        try:
            return self._compile()
        except (KeyError, TypeError, AttributeError, ValueError, IndexError):
            if not self.tolerant:
                raise
            # the format problems explain what could not be compiled
            raise DefinitionError(_sorted([*self.raw.problems, *self.problems])) from None

    def _compile(self) -> Definition:
        self.compile_tracks()
        if not self.tracks:
            self.problem(self.loc.where(self.data, "tracks", default=self.here),
                         "een definitie heeft minstens één track nodig")
        types = TypeCompiler(self.data.get("types", {}))
        for name in self.data.get("types", {}):
            try:
                types.named(name)
            except TypeSpecError as exc:
                self.problem(self.loc.where(self.data["types"], name), f"type {name!r}: {exc}")
        parts = self.compile_events(types)
        rules = self.compile_rules(parts)
        effects = self.compile_effects(parts)
        deadlines = self.compile_deadlines(parts)
        invariants = self.compile_invariants()
        indicators = self.compile_indicators(parts)
        start_event = self.data.get("start_event", "aanmelden")
        if start_event not in parts:
            self.problem(self.loc.where(self.data, "start_event", default=self.here),
                         f"start-event {start_event!r} bestaat niet")
        zgw = compile_zgw(self, start_event)
        for fact, loc in self.fact_uses:
            if fact not in self.facts_written:
                self.problem(loc, f"feit {fact!r} wordt nergens vastgelegd (record)")
        retention = self._retention()
        if self.problems or self.raw.problems:
            raise DefinitionError(_sorted([*self.raw.problems, *self.problems]))
        events = {
            eid: EventSpec(**{**p, "rules": tuple(p["rules"]), "effects": tuple(p["effects"]),
                              "deadline_starts": tuple(p["deadline_starts"]),
                              "deadline_ends": tuple(p["deadline_ends"])})
            for eid, p in parts.items()
        }
        # ZGW metadata is not process semantics: editing it needs no migration of trajecten
        canonical = json.dumps(without_zgw(self.data), sort_keys=True, ensure_ascii=False, default=str)
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        ref = DefinitionRef(str(self.data["id"]), str(self.data["version"]), digest)
        return Definition(
            id=ref.id, version=ref.version, title=self.data.get("title", ref.id), ref=ref,
            start_event=start_event, tracks=self.tracks, events=events, rules=tuple(rules),
            effects=tuple(effects), deadlines=deadlines, invariants=tuple(invariants),
            params=dict(self.data.get("params", {})), roles=_role_descriptions(self.data.get("roles", {})),
            source=self.raw.main_file, raw=self.data,
            initial_state={tid: t.initial for tid, t in self.tracks.items()},
            timezone=self._timezone(),
            types=dict(self.data.get("types", {})),
            retention=retention,
            zgw=zgw,
            indicators=tuple(indicators),
        )

    def _retention(self) -> Retention:
        """``bewaartermijn: {jaren: N, wettelijk: true|false, grondslag: tekst}`` (all
        optional; default 20 years after closing, statutory, Jeugdwet)."""
        spec = self.data.get("bewaartermijn")
        if spec is None:
            return Retention()
        where = self.loc.where(self.data, "bewaartermijn", default=self.here)
        if not isinstance(spec, Mapping):
            self.problem(where, "bewaartermijn verwacht jaren, wettelijk en grondslag")
            return Retention()
        unknown = set(spec) - {"jaren", "wettelijk", "grondslag"}
        if unknown:
            names = ", ".join(sorted(map(str, unknown)))
            self.problem(where, f"bewaartermijn: onbekende sleutel(s) {names}")
        years = spec.get("jaren", 20)
        statutory = spec.get("wettelijk", True)
        ground = spec.get("grondslag", DEFAULT_RETENTION_GROUND if statutory else "")
        if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= 200:
            self.problem(where, "bewaartermijn: jaren is een geheel getal van 0 tot 200")
            years = 20
        if not isinstance(statutory, bool):
            self.problem(where, "bewaartermijn: wettelijk is true of false")
            statutory = True
        if not isinstance(ground, str) or (statutory and not ground.strip()):
            self.problem(where, "bewaartermijn: een wettelijke termijn noemt zijn grondslag")
            ground = DEFAULT_RETENTION_GROUND
        return Retention(years=years, statutory=statutory, ground=ground)

    def _timezone(self) -> tzinfo:
        name = self.data.get("timezone", DEFAULT_TIMEZONE)
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(self.loc.where(self.data, "timezone", default=self.here),
                         "onbekende tijdzone (verwacht een IANA-naam zoals Europe/Amsterdam)")
            raise DefinitionError(self.problems) from None


def _role_descriptions(roles: Mapping[str, Any]) -> dict[str, str]:
    """Role id -> description; a role may be a string or ``{description, zgw}``."""
    return {rid: str(spec.get("description", "")) if isinstance(spec, Mapping) else str(spec)
            for rid, spec in roles.items()}


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda p: (p.location, p.message))


def compile_definition(raw: RawDefinition, registry: PredicateRegistry | None = None) -> Definition:
    """Compile a merged tree; raise :class:`DefinitionError` listing every problem."""
    return _Compiler(raw, registry or PredicateRegistry.with_builtins()).compile()
