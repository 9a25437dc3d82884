"""Safe YAML loading that remembers where every node came from, with budgets while parsing.

The text is read as a stream of parser events (libyaml's C parser from
``ruamel.yaml.clib`` when installed, ruamel's pure-Python parser otherwise) and turned
into plain ``dict``/``list`` values directly, with the line/column marks kept in a side
table keyed by object identity. Because the tree is built event by event, the budgets
hold *while* parsing: a file stops being read at the first node past
:data:`MAX_NODES` (aliases count as the size of what they stand for), the first level
past :data:`MAX_DEPTH`, or an integer of more than :data:`MAX_DIGITS` digits. Files
larger than :data:`MAX_BYTES` are refused before parsing.

Scalars are resolved as YAML 1.2 (core schema), so ``yes``/``no``/``on``/``off`` stay
strings and dates stay text. No tags are honoured: a definition is data, never code.
Errors are :class:`DefinitionError` with file:line:col and a plain Dutch message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml import events as ev
from ruamel.yaml.error import YAMLError

from ..errors import DefinitionError, Location, Problem
from .raw import Locator

try:  # libyaml's parser: about a hundred times faster than the pure one
    from _ruamel_yaml import CParser as _CParser  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - depends on the platform
    _CParser = None

MAX_DEPTH = 64
MAX_BYTES = 2_000_000
MAX_NODES = 50_000  # after alias expansion: a few aliases can stand for billions of nodes
MAX_DIGITS = 30
# the pure-Python parser is about fifty times slower than libyaml: what it reads is bounded
# further (bundled definitions hold about 30,000 characters and 2,000 nodes)
MAX_SLOW_CHARS = 200_000
MAX_SLOW_NODES = 15_000


# ------------------------------------------------------------------ scalars (YAML 1.2 core)

_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?(?:0b[0-1_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9_]+)")
_FLOAT = re.compile(r"""[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?""", re.X)
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


def _plain_scalar(text: str) -> Any:
    """The value of a plain (unquoted) scalar under the YAML 1.2 core schema."""
    if text in _NULLS:
        return None
    if text in _BOOL:
        return _BOOL[text]
    first = text[0]
    if first in "0123456789-+.":
        if _INT.fullmatch(text):
            digits = text.replace("_", "").lstrip("+-")
            if not digits:
                return text
            if len(digits) > MAX_DIGITS:
                raise _Refused(f"getal is te lang (hoogstens {MAX_DIGITS} cijfers)")
            sign = -1 if text.startswith("-") else 1
            base = {"0b": 2, "0o": 8, "0x": 16}.get(digits[:2], 10)
            try:
                return sign * int(digits[2:] if base != 10 else digits, base)
            except ValueError:
                return text
        if _FLOAT.fullmatch(text):
            if len(text) > 100:
                raise _Refused("getal is te lang (hoogstens 100 tekens)")
            value = float(text.replace("_", ""))
            if not math.isfinite(value):
                raise _Refused("getal is te groot")
            return value
        if _SPECIAL_FLOAT.fullmatch(text):
            raise _Refused("oneindig en NaN zijn geen toegestane getallen")
    return text


# ------------------------------------------------------------------ YAML errors in Dutch

_DUTCH: tuple[tuple[str, str], ...] = (
    ("mapping values are not allowed", "hier mag geen ':' staan: zet een waarde met een dubbele "
                                       "punt tussen aanhalingstekens, of controleer de inspringing"),
    ("did not find expected key", "inspringing klopt niet: hier verwacht ik een sleutel op "
                                  "dezelfde hoogte als de sleutels erboven"),
    ("expected <block end>", "inspringing klopt niet: deze regel springt anders in dan de "
                             "regels erboven"),
    ("did not find expected '-' indicator", "inspringing klopt niet: hier verwacht ik een "
                                            "lijstitem ('- ') op dezelfde hoogte"),
    ("sequence entries are not allowed", "hier mag geen lijstitem ('- ') staan: controleer de "
                                         "inspringing"),
    ("block sequence entries are not allowed", "hier mag geen lijstitem ('- ') staan: "
                                               "controleer de inspringing"),
    ("could not find expected ':'", "er ontbreekt een ':' na de sleutel"),
    ("mapping keys are not allowed", "hier mag geen sleutel staan: controleer de inspringing"),
    ("expected ',' or ']'", "een lijst tussen [ ] is niet goed afgesloten: ontbreekt een ',' "
                            "of ']'?"),
    ("expected ',' or '}'", "een object tussen { } is niet goed afgesloten: ontbreekt een ',' "
                            "of '}'?"),
    ("found unexpected end of stream", "het bestand houdt onverwacht op: ontbreekt een "
                                       "afsluitend aanhalingsteken of haakje?"),
    ("found unknown escape character", "onbekende escape (\\) in tekst tussen dubbele "
                                       "aanhalingstekens: gebruik enkele aanhalingstekens"),
    ("found character '\\t'", "tabs zijn niet toegestaan om in te springen: gebruik spaties"),
    ("cannot start any token", "dit teken kan hier niet staan (een tab, of een teken als @ of "
                               "`): zet de waarde tussen aanhalingstekens"),
    ("did not find expected <document start>", "na het einde van de definitie staat nog tekst "
                                               "(een haakje te veel?)"),
    ("did not find expected node content", "hier ontbreekt een waarde"),
    ("expected the node content", "hier ontbreekt een waarde"),
    ("found unexpected document separator", "een definitie is één YAML-document"),
    ("found undefined alias", "onbekende alias (*naam): het anker (&naam) ontbreekt"),
    ("found duplicate anchor", "dit anker (&naam) komt twee keer voor"),
    ("while scanning an anchor", "ongeldige naam voor een anker of alias"),
    ("while scanning an alias", "ongeldige naam voor een anker of alias"),
    ("while scanning a directive", "ongeldige regel met % (YAML-directief)"),
    ("while scanning a tag", "YAML-tags (!) zijn niet toegestaan"),
)


def _dutch(exc: YAMLError) -> str:
    text = " ".join(str(x) for x in (getattr(exc, "context", None), getattr(exc, "problem", None))
                    if x)
    for english, dutch in _DUTCH:
        if english in text:
            return dutch
    if exc.__class__.__name__ == "ReaderError":
        return "het bestand bevat een teken dat in YAML niet mag (een stuurteken?)"
    return "de YAML klopt hier niet"


def _error_location(exc: YAMLError, text: str, filename: str) -> Location:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None and isinstance(getattr(mark, "line", None), int):
        return Location(filename, mark.line + 1, mark.column + 1)
    position = getattr(exc, "position", None)
    if isinstance(position, int) and 0 <= position <= len(text):
        line = text.count("\n", 0, position) + 1
        return Location(filename, line, position - (text.rfind("\n", 0, position) + 1) + 1)
    return Location(filename, 1, 1)


# ------------------------------------------------------------------ the event stream


def _events(text: str, fast: bool) -> Iterator[Any]:
    if fast and _CParser is not None:
        parser = _CParser(text)
        try:
            while True:
                event = parser.get_event()
                yield event
                if isinstance(event, ev.StreamEndEvent):
                    return
        finally:
            parser.dispose()
    else:
        yield from YAML(typ="safe", pure=True).parse(text)


class _Frame:
    __slots__ = ("anchor", "height", "is_map", "key", "key_loc", "loc", "merges", "obj", "size")

    def __init__(self, obj: Any, loc: Location, anchor: str | None) -> None:
        self.obj = obj
        self.loc = loc
        self.anchor = anchor
        self.is_map = isinstance(obj, dict)
        self.key: Any = _NO_KEY
        self.key_loc = loc
        self.merges: list[tuple[Any, Location]] = []
        self.size = 1
        self.height = 1


_NO_KEY = object()
_MERGE = object()


def count_nodes(text: str, *, max_nodes: int = MAX_NODES) -> int:
    """How many nodes ``text`` holds, aliases expanded (stops counting past ``max_nodes``).

    >>> count_nodes("a: &x [1, 2]\\nb: *x\\n")
    9
    """
    builder = _Builder("<count>", Locator(), max_nodes)
    try:
        builder.build(text)
    except DefinitionError:
        return max_nodes + 1
    return builder.nodes


def load_yaml(text: str, filename: str, locator: Locator, *, max_nodes: int = MAX_NODES,
              max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text``; raise :class:`DefinitionError` with file:line:col on bad YAML or a
    budget exceeded (checked while parsing, so a refusal never reads the rest)."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise DefinitionError([Problem(Location(filename, 1, 1),
                                       "het bestand bevat tekens die geen geldige Unicode zijn")]
                              ) from None
    if size > MAX_BYTES:
        raise DefinitionError([Problem(Location(filename, 1, 1),
                                       f"bestand is te groot (hoogstens {MAX_BYTES // 1_000_000} MB)")])
    return _Builder(filename, locator, max_nodes, max_depth).build(text)


class _Builder:
    """Plain values from parser events, with positions and budgets."""

    def __init__(self, filename: str, locator: Locator, max_nodes: int,
                 max_depth: int = MAX_DEPTH) -> None:
        self.filename = filename
        self.locator = locator
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self._reset()

    def _reset(self) -> None:
        self.nodes = 0
        self.anchors: dict[str, tuple[Any, int, int]] = {}
        self.open_anchors: set[str] = set()
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0

    def fail(self, loc: Location, message: str) -> DefinitionError:
        return DefinitionError([Problem(loc, message)])

    def at(self, event: Any) -> Location:
        mark = event.start_mark
        return Location(self.filename, mark.line + 1, mark.column + 1)

    def build(self, text: str) -> Any:
        """The plain tree of ``text``. libyaml reads YAML 1.1 syntax, which refuses a few
        things YAML 1.2 allows (``{naam?: text}``: a ``?`` in a flow collection); a text with
        a ``?`` that libyaml refuses is read again by ruamel's YAML 1.2 parser when it is at
        most :data:`MAX_SLOW_CHARS` long, with at most :data:`MAX_SLOW_NODES` nodes (that
        parser is slow)."""
        if _CParser is not None:
            try:
                return self._build(text, fast=True)
            except YAMLError as exc:
                if "?" not in text or len(text) > MAX_SLOW_CHARS:
                    raise self._syntax_error(exc, text) from None
                self._reset()
                self.max_nodes = min(self.max_nodes, MAX_SLOW_NODES)
        try:
            return self._build(text, fast=False)
        except YAMLError as exc:
            raise self._syntax_error(exc, text) from None

    def _syntax_error(self, exc: YAMLError, text: str) -> DefinitionError:
        loc = _error_location(exc, text, self.filename)
        message = _dutch(exc)
        mark = getattr(exc, "problem_mark", None)
        index = getattr(mark, "index", None)
        if isinstance(index, int) and 0 <= index < len(text) and text[index] == "\t":
            message = "tabs zijn niet toegestaan om in te springen: gebruik spaties"
        return self.fail(loc, f"YAML-fout: {message}")

    def _build(self, text: str, *, fast: bool) -> Any:
        try:
            for event in _events(text, fast):
                self.handle(event)
        except (ValueError, UnicodeError, RecursionError, MemoryError):
            raise self.fail(Location(self.filename, 1, 1),
                            "YAML-fout: het bestand kan niet gelezen worden") from None
        return self.root

    def spend(self, count: int, loc: Location) -> None:
        self.nodes += count
        if self.nodes > self.max_nodes:
            raise self.fail(loc, f"te veel knopen (meer dan {self.max_nodes}, ook na het "
                                 "uitvouwen van aliassen)")

    def handle(self, event: Any) -> None:
        if type(event) is ev.ScalarEvent:
            mark = event.start_mark
            loc = Location(self.filename, mark.line + 1, mark.column + 1)
            self.nodes += 1
            if self.nodes > self.max_nodes:
                self.spend(0, loc)
            if event.tag is not None:
                self.no_tag(event, loc)
            key_position = bool(self.stack) and self.stack[-1].is_map and (
                self.stack[-1].key is _NO_KEY)
            if not event.style and event.implicit and event.implicit[0]:
                if key_position and event.value == "<<":
                    self.add(_MERGE, loc, 1, 0, event.anchor)
                    return
                try:
                    value = _plain_scalar(event.value)
                except _Refused as exc:
                    raise self.fail(loc, exc.message) from None
            else:
                value = str(event.value)
            self.add(value, loc, 1, 0, event.anchor)
        elif isinstance(event, ev.MappingStartEvent | ev.SequenceStartEvent):
            loc = self.at(event)
            self.spend(1, loc)
            self.no_tag(event, loc)
            if len(self.stack) >= self.max_depth:
                raise self.fail(loc, f"te diep genest (meer dan {self.max_depth} niveaus)")
            obj: Any = {} if isinstance(event, ev.MappingStartEvent) else []
            self.locator.note(obj, loc)
            if event.anchor:
                self.open_anchors.add(event.anchor)
            self.stack.append(_Frame(obj, loc, event.anchor))
        elif isinstance(event, ev.MappingEndEvent | ev.SequenceEndEvent):
            frame = self.stack.pop()
            if frame.is_map:
                self.apply_merges(frame)
            if frame.anchor:
                self.open_anchors.discard(frame.anchor)
            self.add(frame.obj, frame.loc, frame.size, frame.height, frame.anchor, stored=True)
        elif isinstance(event, ev.AliasEvent):
            loc = self.at(event)
            name = event.anchor
            if name in self.open_anchors:
                raise self.fail(loc, "een alias mag niet naar zichzelf verwijzen")
            if name not in self.anchors:
                raise self.fail(loc, "onbekende alias (*naam): het anker (&naam) ontbreekt")
            value, size, height = self.anchors[name]
            self.spend(size, loc)
            if len(self.stack) + height > self.max_depth:
                raise self.fail(loc, f"te diep genest (meer dan {self.max_depth} niveaus)")
            self.add(value, loc, size, height, None, stored=True)
        elif isinstance(event, ev.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self.fail(self.at(event), "YAML-fout: een definitie is één YAML-document")

    def no_tag(self, event: Any, loc: Location) -> None:
        if event.tag is not None:
            raise self.fail(loc, "YAML-tags (zoals !!python of !include) zijn niet toegestaan")

    def add(self, value: Any, loc: Location, size: int, height: int, anchor: str | None,
            *, stored: bool = False) -> None:
        if anchor:
            self.anchors[anchor] = (value, size, height)
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        frame.size += size
        frame.height = max(frame.height, height + 1)
        if not frame.is_map:
            items: list[Any] = frame.obj
            self.locator.note_key(items, len(items), loc)
            items.append(value)
            return
        if frame.key is _NO_KEY:
            if value is not _MERGE and (isinstance(value, dict | list) or value is None
                                        or isinstance(value, bool)):
                raise self.fail(loc, "een sleutel moet tekst zijn")
            frame.key = value if value is _MERGE else str(value)
            frame.key_loc = loc
            return
        key, frame.key = frame.key, _NO_KEY
        if key is _MERGE:
            frame.merges.append((value, loc))
            return
        out: dict[str, Any] = frame.obj
        if key in out:
            raise self.fail(frame.key_loc, f"YAML-fout: sleutel {key!r} komt twee keer voor")
        out[key] = value
        self.locator.note_key(out, key, frame.key_loc)

    def apply_merges(self, frame: _Frame) -> None:
        out: dict[str, Any] = frame.obj
        for value, loc in frame.merges:
            sources = value if isinstance(value, list) else [value]
            for source in sources:
                if not isinstance(source, dict):
                    raise self.fail(loc, "'<<' voegt alleen objecten samen")
                for key, item in source.items():
                    if key not in out:
                        out[key] = item
                        self.locator.note_key(out, key, self.locator.where(source, key,
                                                                           default=loc))

