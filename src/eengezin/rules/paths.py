"""Paths into the data a condition can read, e.g. ``data.plan.doelen[].acties[].wie``.

Roots: ``data`` (the event's payload), ``facts`` (what the traject has recorded),
``actor`` (``id``, ``role``), ``event`` (``name``, ``at``, ``date``), ``state``
(track -> dotted state), ``params`` (the definition's parameters) and ``item``
(the element under test inside ``every``/``some``). A segment ending in ``[]``
iterates over a list (or a mapping's values).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ROOTS = frozenset({"data", "facts", "actor", "event", "state", "params", "item"})


class PathError(ValueError):
    """A path that is not well formed."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

Segment = tuple[str, bool]  # (key, iterate)


def parse_path(text: str) -> tuple[str, tuple[Segment, ...]]:
    """Split ``text`` into its root and segments; raise :class:`PathError` if malformed.

    >>> parse_path("data.leden[].id")
    ('data', (('leden', True), ('id', False)))
    """
    if not isinstance(text, str) or not text:
        raise PathError(f"pad moet tekst zijn, niet {text!r}")
    parts = text.split(".")
    root = parts[0]
    if root not in ROOTS:
        raise PathError(f"pad {text!r} begint niet met een van: {', '.join(sorted(ROOTS))}")
    segs: list[Segment] = []
    for part in parts[1:]:
        iterate = part.endswith("[]")
        key = part[:-2] if iterate else part
        if not key or not (key.replace("_", "a").isalnum()):
            raise PathError(f"ongeldig deel {part!r} in pad {text!r}")
        segs.append((key, iterate))
    return root, tuple(segs)


class Leaves:
    """The values a path reaches; ``complete`` is False when a step was missing or empty."""

    __slots__ = ("complete", "values")

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.complete = True


def compile_getter(text: str) -> Callable[[Any], Leaves]:
    """Compile a path into a function from a context to the values it reaches."""
    root, segs = parse_path(text)

    def walk(value: Any, i: int, out: Leaves) -> None:
        while i < len(segs):
            key, iterate = segs[i]
            value = value.get(key, MISSING) if isinstance(value, dict) else MISSING
            if value is MISSING or value is None:
                out.complete = False
                return
            i += 1
            if iterate:
                items = list(value.values()) if isinstance(value, dict) else value
                if not isinstance(items, list) or not items:
                    out.complete = False
                    return
                for item in items:
                    walk(item, i, out)
                return
        out.values.append(value)

    def get(ctx: Any) -> Leaves:
        out = Leaves()
        walk(ctx.root(root), 0, out)
        return out

    if any(iterate for _, iterate in segs):
        return get
    keys = tuple(key for key, _ in segs)

    def get_plain(ctx: Any) -> Leaves:
        # the same as ``get`` for a path without ``[]``, without the recursion (hot path)
        out = Leaves()
        value = ctx.root(root)
        for key in keys:
            value = value.get(key, MISSING) if isinstance(value, dict) else MISSING
            if value is MISSING or value is None:
                out.complete = False
                return out
        out.values.append(value)
        return out

    return get_plain


def compile_single(text: str) -> Callable[[Any], Any]:
    """Compile a path without ``[]`` into a function returning one value or MISSING."""
    root, segs = parse_path(text)
    if any(it for _, it in segs):
        raise PathError(f"pad {text!r} mag hier geen [] bevatten")
    keys = tuple(k for k, _ in segs)

    def get(ctx: Any) -> Any:
        value = ctx.root(root)
        for key in keys:
            if not isinstance(value, dict):
                return MISSING
            value = value.get(key, MISSING)
            if value is MISSING:
                return MISSING
        return value

    return get
