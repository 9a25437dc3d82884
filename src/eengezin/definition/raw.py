"""The merged definition tree with its file positions, and name suggestions: what the
compiler needs, without the YAML parser (a definition compiled from the disk cache never
loads it)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import attrs

from ..errors import Location, Problem

__all__ = ["Locator", "RawDefinition", "suggest"]


class Locator:
    """Maps plain objects (and their keys or items) back to file positions."""

    def __init__(self) -> None:
        self._nodes: dict[int, Location] = {}
        self._keys: dict[tuple[int, object], Location] = {}
        self._keep: list[object] = []  # keeps ids stable while the locator lives

    def note(self, obj: object, loc: Location) -> None:
        self._keep.append(obj)
        self._nodes[id(obj)] = loc

    def note_key(self, obj: object, key: object, loc: Location) -> None:
        self._keys[(id(obj), key)] = loc

    def where(self, obj: object, key: object = None, *, default: Location | None = None) -> Location:
        """Location of ``obj[key]`` (or of ``obj`` itself when ``key`` is None)."""
        if key is not None:
            loc = self._keys.get((id(obj), key))
            if loc is not None:
                return loc
        loc = self._nodes.get(id(obj))
        if loc is not None:
            return loc
        if default is not None:
            return default
        return Location("<unknown>")

    def merge(self, other: Locator) -> None:
        self._nodes.update(other._nodes)
        self._keys.update(other._keys)
        self._keep.extend(other._keep)


def suggest(name: str, known: Iterable[str]) -> str:
    """`` (bedoelde u 'x'?)`` for the closest of ``known``, or ``""``.

    >>> suggest("plan_vaststelen", ["plan_vaststellen", "plan_delen"])
    " (bedoelde u 'plan_vaststellen'?)"
    """
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, [k for k in known if isinstance(k, str)], n=1,
                                      cutoff=0.75)
    return f" (bedoelde u {close[0]!r}?)" if close else ""


@attrs.define
class RawDefinition:
    """A merged definition tree plus the positions of its nodes.

    ``problems`` holds format problems (JSON Schema) found in a tree that could still be
    read: the compiler reports them together with its own, in one pass.
    """

    data: dict[str, Any]
    locator: Locator
    files: list[str]
    main_file: str
    problems: list[Problem] = attrs.field(factory=list)
