"""Compile a condition tree (``all``/``any``/``not`` over named predicates) into a function.

A condition is data::

    all:
      - present: facts.plan
      - any:
          - in_state: {veiligheid: geen_signalen}
          - in_state: {veiligheid: veiligheidsplan}

Each leaf is ``{predicate_name: parameters}`` or a bare predicate name. Nothing is
evaluated as code; names resolve against a :class:`PredicateRegistry` at load time.
The result is a :class:`~eengezin.rules.footprint.Condition`: callable, and carrying the
tree with what each predicate reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import reduce
from typing import Any

from .footprint import NOTHING, OPAQUE, Condition, Declared, Reads
from .predicates import CompileEnv, ConditionError, PredicateRegistry


def _always(ctx: Any) -> bool:
    return True


def _text(spec: Any) -> str:
    return json.dumps(spec, sort_keys=True, ensure_ascii=False, default=str)


def _union(parts: tuple[Condition, ...]) -> Reads:
    return reduce(lambda a, b: a | b.reads, parts, NOTHING)


def compile_condition(spec: Any, registry: PredicateRegistry, env: CompileEnv) -> Condition:
    """Compile ``spec``; raise :class:`ConditionError` for anything unknown or malformed."""
    if spec is True:
        return Condition(_always, "true", NOTHING, text="true")
    if isinstance(spec, str):
        name, params = spec, None
    elif isinstance(spec, Mapping) and len(spec) == 1:
        ((name, params),) = spec.items()
    else:
        raise ConditionError(
            "een voorwaarde is één predicaat {naam: parameters}, of all/any/not"
        )
    if name in ("all", "any"):
        if not isinstance(params, list) or not params:
            raise ConditionError(f"{name} verwacht een niet-lege lijst voorwaarden")
        parts = tuple(env.compile_condition(p) for p in params)
        if len(parts) == 1:
            return parts[0]
        checks = tuple(part.check for part in parts)
        # plain loops: conditions run for every rule of every event (hot path)
        if name == "all":

            def check_all(ctx: Any) -> bool:
                for part in checks:  # noqa: SIM110
                    if not part(ctx):
                        return False
                return True

            return Condition(check_all, "all", _union(parts), parts, _text(spec))

        def check_any(ctx: Any) -> bool:
            for part in checks:  # noqa: SIM110
                if part(ctx):
                    return True
            return False

        return Condition(check_any, "any", _union(parts), parts, _text(spec))
    if name == "not":
        inner = env.compile_condition(params)
        check = inner.check
        return Condition(lambda ctx: not check(ctx), "not", inner.reads, (inner,), _text(spec))
    factory = registry.get(name)
    if factory is None:
        known = ", ".join(sorted(registry.names()))
        raise ConditionError(f"onbekend predicaat {name!r} (bekend: all, any, not, {known})")
    made = factory(params, env)
    if isinstance(made, Declared):
        return Condition(made.check, name, made.reads, text=_text(spec))
    # a factory that declares nothing may read anything
    return Condition(made, name, OPAQUE, text=_text(spec))
