"""Named predicates: the only building blocks a definition's conditions may use.

A predicate is compiled once, when the definition loads, from its parameters
into a plain function ``Context -> bool``. Built-ins read the traject through
paths (see :mod:`eengezin.rules.paths`); a host adds its own from Python::

    registry = PredicateRegistry.with_builtins()

    @registry.register("heeft_indicatie")
    def heeft_indicatie(ctx, params):
        return ctx.facts.get("indicatie") is not None

An unknown predicate name in a definition is a load error, never a runtime surprise.

Every built-in declares what it reads when it is compiled: its factory returns
:class:`~eengezin.rules.footprint.Declared` (the check and its
:class:`~eengezin.rules.footprint.Reads`). Tools such as the model checker rely on it;
``tests/test_footprint.py`` fails for a built-in that declares nothing. A host predicate
declares nothing and counts as reading anything.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import date
from typing import Any, Protocol

from ..errors import HostPredicateError
from .context import Context
from .footprint import Condition, Declared, Reads
from .paths import MISSING, ROOTS, PathError, compile_getter, compile_single

Check = Callable[[Context], bool]
HostPredicate = Callable[[Context, Mapping[str, Any]], bool]


HOST_CALLS: ContextVar[list[str] | None] = ContextVar("eengezin_host_calls", default=None)
"""While set to a list, every host predicate call appends its name (``verify`` uses it to
tell a host predicate that now answers differently from a corrupt log)."""


class ConditionError(ValueError):
    """A condition or predicate parameter that cannot be compiled."""


class CompileEnv(Protocol):
    """What predicate factories may ask of the definition being compiled."""

    def check_state(self, track: str, state: str) -> None: ...
    def leaves_under(self, track: str, state: str) -> frozenset[str]: ...
    def compile_condition(self, spec: Any) -> Condition: ...
    def check_deadline(self, deadline_id: str) -> None: ...
    def check_event(self, event_id: str) -> None: ...
    def note_path(self, path: str) -> None: ...


Factory = Callable[[Any, CompileEnv], "Declared | Check"]
"""Compiles a predicate's parameters. Built-ins return :class:`Declared` (the check and what it
reads); a factory that returns a bare check is opaque: it may read anything."""


class PredicateRegistry:
    """Maps predicate names to factories; copy it before adding host predicates."""

    def __init__(self, factories: Mapping[str, Factory] | None = None) -> None:
        self._factories: dict[str, Factory] = dict(factories or {})

    @classmethod
    def with_builtins(cls) -> PredicateRegistry:
        return cls(BUILTINS)

    def names(self) -> frozenset[str]:
        return frozenset(self._factories)

    def get(self, name: str) -> Factory | None:
        return self._factories.get(name)

    def add_factory(self, name: str, factory: Factory) -> None:
        if name in self._factories or name in ("all", "any", "not"):
            raise ValueError(f"predicate {name!r} is already defined")
        self._factories[name] = factory

    def register(self, name: str) -> Callable[[HostPredicate], HostPredicate]:
        """Decorator: register a host predicate ``fn(ctx, params) -> bool`` under ``name``."""

        def deco(fn: HostPredicate) -> HostPredicate:
            def factory(params: Any, env: CompileEnv) -> Declared:
                frozen = dict(params) if isinstance(params, Mapping) else {"value": params}

                def check(ctx: Context) -> bool:
                    calls = HOST_CALLS.get()
                    if calls is not None:
                        calls.append(name)
                    try:
                        return bool(fn(ctx, frozen))
                    except Exception as exc:  # the host's code: never crash the caller
                        raise HostPredicateError(name, exc) from exc

                # it may read anything; the paths its parameters name are read for sure
                reads = Reads(paths=frozenset(_path_texts(params)), opaque=True)
                return Declared(check, reads)

            self.add_factory(name, factory)
            return fn

        return deco

    def copy(self) -> PredicateRegistry:
        return PredicateRegistry(self._factories)


# ---------------------------------------------------------------- helpers


def _mapping(params: Any, name: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(params, Mapping):
        raise ConditionError(f"{name} verwacht een mapping met {', '.join(required)}")
    missing = [k for k in required if k not in params]
    if missing:
        raise ConditionError(f"{name} mist {', '.join(missing)}")
    unknown = set(params) - set(required) - set(optional)
    if unknown:
        raise ConditionError(f"{name} kent {', '.join(sorted(unknown))} niet")
    return dict(params)


def _path(text: Any, env: CompileEnv) -> Callable[[Context], Any]:
    try:
        getter = compile_getter(text)
    except PathError as exc:
        raise ConditionError(str(exc)) from None
    env.note_path(text)
    return getter


def _single(text: Any, env: CompileEnv) -> Callable[[Context], Any]:
    try:
        getter = compile_single(text)
    except PathError as exc:
        raise ConditionError(str(exc)) from None
    env.note_path(text)
    return getter


def _filled(value: Any) -> bool:
    if value is None or value is MISSING:
        return False
    if isinstance(value, str | list | dict | tuple):
        return len(value) > 0
    return True


def _operand(params: dict[str, Any], env: CompileEnv, name: str) -> Callable[[Context], Any]:
    if ("value" in params) == ("other" in params):
        raise ConditionError(f"{name} verwacht precies één van 'value' en 'other'")
    if "other" in params:
        return _single(params["other"], env)
    value = params["value"]
    return lambda ctx: value


def _operand_reads(path: str, params: Mapping[str, Any]) -> Reads:
    """What ``path`` compared with ``value`` (a literal) or ``other`` (a path) reads."""
    if "other" in params:
        return Reads(paths=frozenset({path, params["other"]}),
                     compared=((path, params["other"]),))
    return Reads(paths=frozenset({path}), literals=((path, params["value"]),))


def _bounds(path: str, *bounds: Any) -> tuple[tuple[str, int], ...]:
    return tuple((path, b) for b in bounds if isinstance(b, int) and not isinstance(b, bool))


def _items(path: str) -> str:
    """The ``item`` a quantifier over ``path`` binds: an element of it."""
    return path if path.endswith("[]") else f"{path}[]"


def _path_texts(node: Any) -> Iterator[str]:
    """Every string in ``node`` that looks like a path (a host predicate's parameters)."""
    if isinstance(node, str):
        if node.split(".", 1)[0].removesuffix("[]") in ROOTS:
            yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _path_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _path_texts(value)


# ---------------------------------------------------------------- built-ins


def in_state(params: Any, env: CompileEnv) -> Declared:
    """``in_state: {regie: afronding}`` — true when each named track is in (a child of) the state."""
    if not isinstance(params, Mapping) or not params:
        raise ConditionError("in_state verwacht {track: staat of [staten]}")
    tests: list[tuple[str, frozenset[str]]] = []
    for track, states in params.items():
        names = [states] if isinstance(states, str) else states
        if not isinstance(names, list) or not all(isinstance(s, str) for s in names):
            raise ConditionError(f"in_state: staten van {track!r} moeten tekst zijn")
        leaves: set[str] = set()
        for state in names:
            env.check_state(track, state)
            leaves |= env.leaves_under(track, state)
        tests.append((track, frozenset(leaves)))
    reads = Reads(states=tuple(tests))
    if len(tests) == 1:
        (track, leaves_set), = tests
        return Declared(lambda ctx: ctx.state.get(track) in leaves_set, reads)
    return Declared(lambda ctx: all(ctx.state.get(t) in ls for t, ls in tests), reads)


def present(params: Any, env: CompileEnv) -> Declared:
    """``present: data.plan.doelen[].acties[].wie`` — filled in, for every element reached."""
    paths = [params] if isinstance(params, str) else params
    if not isinstance(paths, list) or not paths:
        raise ConditionError("present verwacht een pad of een lijst paden")
    getters = [_path(p, env) for p in paths]

    def check(ctx: Context) -> bool:
        for get in getters:
            leaves = get(ctx)
            if not leaves.complete or not leaves.values:
                return False
            for value in leaves.values:
                if not _filled(value):
                    return False
        return True

    return Declared(check, Reads(paths=frozenset(paths)))


def is_true(params: Any, env: CompileEnv) -> Declared:
    """``is_true: data.vervolg`` — the value is the boolean true (for every element reached)."""
    get = _path(params, env)

    def check(ctx: Context) -> bool:
        leaves = get(ctx)
        return leaves.complete and bool(leaves.values) and all(v is True for v in leaves.values)

    return Declared(check, Reads(paths=frozenset({params})))


def equals(params: Any, env: CompileEnv) -> Declared:
    """``equals: {path: data.onderwerp, value: overleg}`` or ``{path: …, other: facts.x}``."""
    p = _mapping(params, "equals", ("path",), ("value", "other"))
    get = _single(p["path"], env)
    other = _operand(p, env, "equals")
    reads = _operand_reads(p["path"], p)
    if "value" in p and isinstance(p["value"], str):
        # equal to this text or not: an absent value reads like any other text
        reads = Reads(paths=reads.paths, literals=reads.literals,
                      only_literals=frozenset({p["path"]}))
    return Declared(lambda ctx: (v := get(ctx)) is not MISSING and v == other(ctx), reads)


def one_of(params: Any, env: CompileEnv) -> Declared:
    """``one_of: {path: actor.role, values: [a, b]}``."""
    p = _mapping(params, "one_of", ("path", "values"))
    if not isinstance(p["values"], list):
        raise ConditionError("one_of: values moet een lijst zijn")
    get = _single(p["path"], env)
    values = list(p["values"])
    texts = all(isinstance(v, str) for v in values)
    reads = Reads(paths=frozenset({p["path"]}), literals=tuple((p["path"], v) for v in values),
                  only_literals=frozenset({p["path"]}) if texts else frozenset())
    return Declared(lambda ctx: get(ctx) in values, reads)


def contains(params: Any, env: CompileEnv) -> Declared:
    """``contains: {path: facts.signalen, other: data.id}`` — list member or mapping key."""
    p = _mapping(params, "contains", ("path",), ("value", "other"))
    get = _single(p["path"], env)
    other = _operand(p, env, "contains")

    def check(ctx: Context) -> bool:
        coll = get(ctx)
        if not isinstance(coll, list | dict):
            return False
        try:
            return other(ctx) in coll
        except TypeError:
            return False

    reads = _operand_reads(p["path"], p)
    # what the collection holds is looked up; anything that holds nothing reads alike
    return Declared(check, Reads(paths=reads.paths, literals=reads.literals,
                                 compared=reads.compared,
                                 only_members=frozenset({p["path"]})))


def count(params: Any, env: CompileEnv) -> Declared:
    """``count: {path: facts.signalen, min: 1}`` — number of elements (list, mapping or ``[]`` leaves)."""
    p = _mapping(params, "count", ("path",), ("min", "max"))
    lo, hi = p.get("min"), p.get("max")
    if lo is None and hi is None:
        raise ConditionError("count verwacht min en/of max")
    for bound in (lo, hi):
        if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool)):
            raise ConditionError("count: min en max moeten gehele getallen zijn")
    text = p["path"]
    iterating = isinstance(text, str) and text.endswith("[]")
    get = _path(text, env)

    def size(ctx: Context) -> int:
        leaves = get(ctx)
        if iterating:
            return len(leaves.values)
        if not leaves.values:
            return 0
        value = leaves.values[0]
        if isinstance(value, list | dict | str):
            return len(value)
        return 0 if value is None else 1

    def check(ctx: Context) -> bool:
        n = size(ctx)
        return (lo is None or n >= lo) and (hi is None or n <= hi)

    return Declared(check, Reads(paths=frozenset({text}), bounds=_bounds(text, lo, hi)))


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def compare(params: Any, env: CompileEnv) -> Declared:
    """``compare: {path: facts.schaal, op: ">=", value: 10}`` — numbers, or ISO dates as text."""
    p = _mapping(params, "compare", ("path", "op"), ("value", "other"))
    fn = _OPS.get(p["op"]) if isinstance(p["op"], str) else None
    if fn is None:
        raise ConditionError(f"compare: op moet een van {', '.join(_OPS)} zijn")
    get = _single(p["path"], env)
    other = _operand(p, env, "compare")

    def check(ctx: Context) -> bool:
        left, right = get(ctx), other(ctx)
        if left is MISSING or left is None or right is MISSING or right is None:
            return False
        try:
            return bool(fn(left, right))
        except TypeError:
            return False

    return Declared(check, _operand_reads(p["path"], p))


def _quantifier(name: str, want_all: bool) -> Factory:
    def factory(params: Any, env: CompileEnv) -> Declared:
        p = _mapping(params, name, ("path", "require"))
        get = _single(p["path"], env)
        inner = env.compile_condition(p["require"])
        cond = inner.check

        def check(ctx: Context) -> bool:
            coll = get(ctx)
            items = list(coll.values()) if isinstance(coll, dict) else coll
            if not isinstance(items, list):
                return want_all  # nothing to check
            saved = ctx.item
            try:
                for item in items:
                    ctx.item = item
                    if cond(ctx) != want_all:
                        return not want_all
                return want_all
            finally:
                ctx.item = saved

        path = p["path"]
        return Declared(check, Reads(paths=frozenset({path})) | inner.reads.within(_items(path)))

    factory.__doc__ = (f"``{name}: {{path: facts.x, require: …}}`` — the condition holds for "
                       f"{'every' if want_all else 'some'} element (``item``) of a list or mapping.")
    return factory


def actor_role(params: Any, env: CompileEnv) -> Declared:
    """``actor_role: [gemeentelijk_aanspreekpunt]`` — the actor has one of these roles."""
    roles = [params] if isinstance(params, str) else params
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ConditionError("actor_role verwacht een rol of een lijst rollen")
    allowed = frozenset(roles)
    return Declared(lambda ctx: ctx.actor_role in allowed, Reads(actor=True))


def event_seen(params: Any, env: CompileEnv) -> Declared:
    """``event_seen: signaal_melden`` — the event was accepted earlier in this traject."""
    if not isinstance(params, str):
        raise ConditionError("event_seen verwacht een event-id")
    env.check_event(params)
    return Declared(lambda ctx: params in ctx.seen, Reads(seen=frozenset({params})))


def deadline_open(params: Any, env: CompileEnv) -> Declared:
    """``deadline_open: zl.ronde_tafel_termijn`` — the deadline is running."""
    if not isinstance(params, str):
        raise ConditionError("deadline_open verwacht een termijn-id")
    env.check_deadline(params)
    return Declared(lambda ctx: params in ctx.deadlines, Reads(deadlines=frozenset({params})))


def deadline_overdue(params: Any, env: CompileEnv) -> Declared:
    """``deadline_overdue: id`` — the deadline is running and its last day has passed."""
    if not isinstance(params, str):
        raise ConditionError("deadline_overdue verwacht een termijn-id")
    env.check_deadline(params)

    def check(ctx: Context) -> bool:
        d = ctx.deadlines.get(params)
        return d is not None and ctx.at.date() > d.due

    ids = frozenset({params})
    return Declared(check, Reads(deadlines=ids, overdue=ids, clock=True))


def age_between(params: Any, env: CompileEnv) -> Declared:
    """``age_between: {birth: item.geboortedatum, min: 12, max: 16}`` — age in whole years at the
    event's date is ``>= min`` and ``< max`` (birthdays exact; an unborn person is younger than 0)."""
    p = _mapping(params, "age_between", ("birth",), ("min", "max"))
    get = _single(p["birth"], env)
    lo, hi = p.get("min"), p.get("max")

    def check(ctx: Context) -> bool:
        raw = get(ctx)
        if not isinstance(raw, str):
            return False
        try:
            born = date.fromisoformat(raw)
        except ValueError:
            return False
        age = age_on(born, ctx.at.date())
        return (lo is None or age >= lo) and (hi is None or age < hi)

    return Declared(check, Reads(paths=frozenset({p["birth"]}), clock=True,
                                 dated=frozenset({p["birth"]})))


def age_on(born: date, day: date) -> int:
    """Whole years of age on ``day`` (negative before birth); 29 Feb birthdays count on 1 March.

    >>> age_on(date(2014, 3, 1), date(2026, 3, 1)), age_on(date(2014, 3, 1), date(2026, 2, 28))
    (12, 11)
    """
    years = day.year - born.year
    if (day.month, day.day) < (born.month, born.day):
        years -= 1
    return years


def _elements(coll: Any) -> list[Any]:
    if isinstance(coll, dict):
        return list(coll.values())
    return list(coll) if isinstance(coll, list) else []


def find(params: Any, env: CompileEnv) -> Declared:
    """``find`` — look up the element of a list (or mapping) whose field ``key`` equals a value,
    then test ``require`` on it with ``item`` set to that element. False when nothing matches.

    The household member a consent is about, younger than 12::

        find:
          path: facts.huishouden.leden
          key: id
          other: data.over            # or value: m1
          require: {age_between: {birth: item.geboortedatum, max: 12}}

    Without ``require`` it is true when a matching element exists.
    """
    p = _mapping(params, "find", ("path", "key"), ("value", "other", "require"))
    if not isinstance(p["key"], str) or not p["key"]:
        raise ConditionError("find: key moet een veldnaam zijn")
    key = p["key"]
    get = _single(p["path"], env)
    wanted = _operand(p, env, "find")
    inner = env.compile_condition(p["require"]) if "require" in p else None
    cond = inner.check if inner is not None else None

    def check(ctx: Context) -> bool:
        target = wanted(ctx)
        if target is MISSING or target is None:
            return False
        for element in _elements(get(ctx)):
            if isinstance(element, dict) and element.get(key) == target:
                if cond is None:
                    return True
                saved = ctx.item
                ctx.item = element
                try:
                    return cond(ctx)
                finally:
                    ctx.item = saved
        return False

    path = p["path"]
    # what is compared is the key of each element, not the collection
    keyed = f"{_items(path)}.{key}"
    reads = _operand_reads(keyed, p) | Reads(paths=frozenset({path, keyed}))
    if inner is not None:
        reads = reads | inner.reads.within(_items(path))
    return Declared(check, reads)


def count_where(params: Any, env: CompileEnv) -> Declared:
    """``count_where`` — how many elements of a list (or mapping) meet ``where``, within
    ``min``/``max``; ``item`` is the element under test. More than two professionals::

        count_where:
          path: facts.betrokkenen
          where: {equals: {path: item.soort, value: formeel}}
          min: 3
    """
    p = _mapping(params, "count_where", ("path", "where"), ("min", "max"))
    lo, hi = p.get("min"), p.get("max")
    if lo is None and hi is None:
        raise ConditionError("count_where verwacht min en/of max")
    for bound in (lo, hi):
        if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool)):
            raise ConditionError("count_where: min en max moeten gehele getallen zijn")
    get = _single(p["path"], env)
    inner = env.compile_condition(p["where"])
    cond = inner.check

    def check(ctx: Context) -> bool:
        saved = ctx.item
        n = 0
        try:
            for element in _elements(get(ctx)):
                ctx.item = element
                if cond(ctx):
                    n += 1
        finally:
            ctx.item = saved
        return (lo is None or n >= lo) and (hi is None or n <= hi)

    path = p["path"]
    reads = Reads(paths=frozenset({path}), bounds=_bounds(path, lo, hi))
    return Declared(check, reads | inner.reads.within(_items(path)))


def _flat(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, list | dict):  # a mapping counts with its keys
            out.extend(value)
        elif value is not MISSING and value is not None:
            out.append(value)
    return out


def all_in(params: Any, env: CompileEnv) -> Declared:
    """``all_in`` — every value at ``path`` (a list, or the leaves of a ``[]`` path) is among
    the values at ``other`` or at one of the ``also`` paths (lists there are flattened, a
    mapping counts with its keys).
    Every recipient of the plan is covered by a recorded consent or is a household member::

        all_in:
          path: data.met
          other: facts.toestemmingen[].met
          also: [facts.huishouden.leden[].id]

    True when ``path`` holds nothing.
    """
    p = _mapping(params, "all_in", ("path", "other"), ("also",))
    also = p.get("also", [])
    if not isinstance(also, list) or not all(isinstance(a, str) for a in also):
        raise ConditionError("all_in: also moet een lijst paden zijn")
    get = _path(p["path"], env)
    pools = [_path(text, env) for text in (p["other"], *also)]

    def check(ctx: Context) -> bool:
        wanted = _flat(get(ctx).values)
        if not wanted:
            return True
        known: set[Any] = set()
        for pool in pools:
            for value in _flat(pool(ctx).values):
                if isinstance(value, str | int):
                    known.add(value)
        return all(isinstance(w, str | int) and w in known for w in wanted)

    others = (p["other"], *also)
    return Declared(check, Reads(paths=frozenset({p["path"], *others}),
                                 compared=tuple((p["path"], o) for o in others)))


BUILTINS: dict[str, Factory] = {
    "in_state": in_state,
    "present": present,
    "is_true": is_true,
    "equals": equals,
    "one_of": one_of,
    "contains": contains,
    "count": count,
    "compare": compare,
    "every": _quantifier("every", True),
    "some": _quantifier("some", False),
    "actor_role": actor_role,
    "event_seen": event_seen,
    "deadline_open": deadline_open,
    "deadline_overdue": deadline_overdue,
    "age_between": age_between,
    "find": find,
    "count_where": count_where,
    "all_in": all_in,
}
