"""Safe YAML loading that remembers where every node came from.

ruamel.yaml's round-trip loader keeps line/column marks on every mapping and
sequence; we convert its tree into plain ``dict``/``list`` values (what the
rest of the code wants) and keep the marks in a side table keyed by object
identity. YAML 1.2 is used, so ``yes``/``no``/``on``/``off`` stay strings.
No tags are honoured: a definition is data, never code.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ..errors import DefinitionError, Location, Problem

MAX_DEPTH = 64
MAX_BYTES = 2_000_000
MAX_NODES = 200_000  # after alias expansion: a few aliases can stand for billions of nodes


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


def load_yaml(text: str, filename: str, locator: Locator) -> Any:
    """Parse ``text``; raise :class:`DefinitionError` with file:line:col on bad YAML."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise DefinitionError([Problem(Location(filename, 1, 1), "bestand is te groot (max 2 MB)")])
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(filename, mark.line + 1, mark.column + 1) if mark else Location(filename)
        msg = " ".join(x for x in (exc.context, exc.problem) if x) or "ongeldige YAML"
        raise DefinitionError([Problem(loc, f"YAML-fout: {msg}")]) from None
    except YAMLError as exc:
        raise DefinitionError([Problem(Location(filename), f"YAML-fout: {exc}")]) from None
    except RecursionError:
        raise DefinitionError(
            [Problem(Location(filename, 1, 1), "YAML is te diep genest")]
        ) from None
    return _plain(tree, filename, locator, Location(filename, 1, 1), 0, [MAX_NODES])


def _pos(pair: Any, fallback: Location, filename: str) -> Location:
    if isinstance(pair, tuple | list) and len(pair) == 2 and all(isinstance(x, int) for x in pair):
        return Location(filename, pair[0] + 1, pair[1] + 1)
    return fallback


def _tag(node: Any) -> str | None:
    tag = getattr(node, "tag", None)
    value = getattr(tag, "value", tag)
    return value if isinstance(value, str) and value else None


def _plain(node: Any, filename: str, locator: Locator, here: Location, depth: int,
           budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise DefinitionError([Problem(
            here, f"te veel knopen (meer dan {MAX_NODES}, ook na het uitvouwen van aliassen)")])
    if depth > MAX_DEPTH:
        raise DefinitionError([Problem(here, f"te diep genest (meer dan {MAX_DEPTH} niveaus)")])
    tag = _tag(node) if isinstance(node, CommentedMap | CommentedSeq | TaggedScalar) else None
    if tag is not None:
        raise DefinitionError([Problem(here, f"YAML-tags zoals {tag} zijn niet toegestaan")])
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        loc = Location(filename, node.lc.line + 1, node.lc.col + 1)
        locator.note(out, loc)
        for key, value in node.items():
            if not isinstance(key, str | int | bool | float) or isinstance(key, bool):
                raise DefinitionError([Problem(loc, f"sleutel {key!r} moet tekst zijn")])
            kline, kcol = node.lc.key(key)
            kloc = Location(filename, kline + 1, kcol + 1)
            vline, vcol = node.lc.value(key)
            vloc = Location(filename, vline + 1, vcol + 1)
            skey = str(key)
            locator.note_key(out, skey, kloc)
            out[skey] = _plain(value, filename, locator, vloc, depth + 1, budget)
        return out
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        loc = Location(filename, node.lc.line + 1, node.lc.col + 1)
        locator.note(items, loc)
        for i, value in enumerate(node):
            iloc = _pos(node.lc.item(i), loc, filename)
            locator.note_key(items, i, iloc)
            items.append(_plain(value, filename, locator, iloc, depth + 1, budget))
        return items
    if node is None or isinstance(node, bool | int | float):
        return node
    if isinstance(node, str):
        return str(node)  # drop ruamel's scalar string subclasses
    # dates, timestamps and anything tagged: keep as text so nothing executes or surprises
    return str(node)
