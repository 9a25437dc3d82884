"""Compile a condition tree (``all``/``any``/``not`` over named predicates) into a function.

A condition is data::

    all:
      - present: facts.plan
      - any:
          - in_state: {veiligheid: geen_signalen}
          - in_state: {veiligheid: veiligheidsplan}

Each leaf is ``{predicate_name: parameters}`` or a bare predicate name. Nothing is
evaluated as code; names resolve against a :class:`PredicateRegistry` at load time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .predicates import Check, CompileEnv, ConditionError, PredicateRegistry


def _always(ctx: Any) -> bool:
    return True


def compile_condition(spec: Any, registry: PredicateRegistry, env: CompileEnv) -> Check:
    """Compile ``spec``; raise :class:`ConditionError` for anything unknown or malformed."""
    if spec is True:
        return _always
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
        # plain loops: conditions run for every rule of every event (hot path)
        if name == "all":

            def check_all(ctx: Any) -> bool:
                for part in parts:  # noqa: SIM110
                    if not part(ctx):
                        return False
                return True

            return check_all

        def check_any(ctx: Any) -> bool:
            for part in parts:  # noqa: SIM110
                if part(ctx):
                    return True
            return False

        return check_any
    if name == "not":
        inner = env.compile_condition(params)
        return lambda ctx: not inner(ctx)
    factory = registry.get(name)
    if factory is None:
        known = ", ".join(sorted(registry.names()))
        raise ConditionError(f"onbekend predicaat {name!r} (bekend: all, any, not, {known})")
    return factory(params, env)
