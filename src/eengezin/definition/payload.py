"""Payload types: a small, region-readable type language, compiled once into a typed tree.

Forms (in YAML)::

    string | text | boolean | integer | number | date | datetime | any | object
    <name of an entry in the definition's ``types``>
    [T]                                   # a list of T
    {enum: [a, b]}                        # one of these values
    {type: integer, min: 0, max: 10}      # a base type with bounds
    {type: list, items: T, min_items: 1}
    {type: date, max_years_back: 100, max_months_ahead: 9}   # relative to the event's date
    {veld: T, optioneel_veld?: T}         # an object; a key ending in ? is optional

``text`` is a non-empty string. An object refuses fields it does not declare; an event
opts in to undeclared top-level fields with ``extra: allow`` (the free-form base type
``object`` accepts any fields).

The compiler turns each form into one node of a typed tree (frozen attrs classes):

=================  ==========================================================
:class:`TextType`  ``string`` and ``text`` (``min_length``)
:class:`EnumType`  ``{enum: [...]}``
:class:`NumberType` ``integer`` and ``number`` (``min``, ``max``)
:class:`DateType`  ``date`` and ``datetime`` (relative bounds)
:class:`FlagType`  ``boolean``
:class:`ListType`  ``[T]`` and ``{type: list}``
:class:`ObjectType` ``{veld: T}`` and the free-form ``object``
:class:`ReferenceType` a name from ``types`` (may be recursive)
:class:`AnyType`   ``any``
=================  ==========================================================

Validation is a walk over the tree: every node has ``check(value, path, errors, day)``.
Other walks (representative payloads for the checker, hypothesis strategies in the
testing kit) dispatch on the node classes, e.g. with ``match``. Messages name the field
and what was expected, never the submitted value.

>>> tree = TypeCompiler({}).compile({"naam": "text", "leeftijd?": {"type": "integer", "min": 0}})
>>> errors: list[str] = []
>>> tree.check({"naam": "", "leeftijd": -1, "bsn": "123"}, "", errors, date(2026, 3, 2))
>>> errors
["'naam' mag niet leeg zijn", "'leeftijd' moet minstens 0 zijn", "'bsn' is geen veld van deze payload"]
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar

import attrs

Validator = Callable[[Any, str, list[str], date], None]
"""``validate(value, path, errors, day)``: appends a Dutch message per problem to ``errors``."""

BASE = ("string", "text", "boolean", "integer", "number", "date", "datetime", "any", "object", "list")
TYPE_KEYS = frozenset(
    {"type", "min", "max", "items", "min_items", "max_items", "max_years_back", "max_months_ahead",
     "min_length", "description", "persoonsgegevens"}
)

MIN_DAY = date(1900, 1, 1)
"""The earliest date a payload (or an event) may carry."""
MAX_DAY = date(2200, 12, 31)
"""The latest date a payload (or an event) may carry."""
MAX_DEPTH = 32
"""How deep a free-form (``any``, ``object``, undeclared) value or a recursive type may nest."""

_MIN_YEAR, _MAX_YEAR = MIN_DAY.year, MAX_DAY.year
_RANGE = f"tussen {MIN_DAY.year} en {MAX_DAY.year}"
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


class TypeSpecError(ValueError):
    """A type that cannot be compiled."""


def _label(path: str) -> str:
    return f"'{path}'" if path else "de payload"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@functools.lru_cache(maxsize=256)
def months_ahead(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the last day of a shorter month; ``date.max``
    when past the calendar).

    >>> months_ahead(date(2026, 1, 31), 1)
    datetime.date(2026, 2, 28)
    >>> months_ahead(date(9999, 12, 30), 9)
    datetime.date(9999, 12, 31)
    """
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    if year > date.max.year:
        return date.max
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    return date(year, month, 28)  # pragma: no cover - every month has a 28th


@functools.lru_cache(maxsize=256)
def years_back(day: date, years: int) -> date:
    """``day`` minus ``years`` years (28 February for 29 February; ``date.min`` when before
    the calendar).

    >>> years_back(date(2024, 2, 29), 1)
    datetime.date(2023, 2, 28)
    """
    if day.year - years < date.min.year:
        return date.min
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _valid_text(v: str) -> bool:
    """No lone surrogates (text that cannot be stored as UTF-8)."""
    if v.isascii():
        return True
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_free(value: Any, path: str, errors: list[str], depth: int = 0) -> None:
    """Check a free-form value: JSON data only (text, finite numbers, flags, null, lists,
    objects with text keys), valid Unicode, at most :data:`MAX_DEPTH` levels deep."""
    if depth > MAX_DEPTH:
        errors.append(f"{_label(path)} is te diep genest (hoogstens {MAX_DEPTH} niveaus)")
        return
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        if not _valid_text(value):
            errors.append(f"{_label(path)} bevat tekens die geen geldige Unicode zijn")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            errors.append(f"{_label(path)} moet een eindig getal zijn")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_free(item, f"{path}[{i}]", errors, depth + 1)
        return
    if isinstance(value, Mapping):
        prefix = path + "." if path else ""
        for key, item in value.items():
            if not isinstance(key, str) or not _valid_text(key):
                errors.append(f"{_label(path)} heeft een veldnaam die geen geldige tekst is")
                continue
            check_free(item, prefix + _shown_name(key), errors, depth + 1)
        return
    errors.append(f"{_label(path)} moet JSON-gegevens bevatten (tekst, getal, lijst of object)")


def _shown_name(key: str) -> str:
    """A submitted field name as it may appear in a message (an identifier, or a stand-in)."""
    return key if _FIELD_NAME.fullmatch(key) else "<veld>"


# ------------------------------------------------------------------ the tree


def _fast_check(node: PayloadType) -> Validator:
    """``node.check``, or for a reference to a type compiled before it, the target's check:
    the hot path skips the reference node."""
    if isinstance(node, ReferenceType) and node._check is not None:
        return node._check
    return node.check


class PayloadType:
    """A node of the compiled payload type tree (abstract)."""

    __slots__ = ()
    kind: ClassVar[str] = ""

    def check(self, value: Any, path: str, errors: list[str], day: date) -> None:
        """Append a Dutch message to ``errors`` per problem of ``value`` at ``path``;
        ``day`` is the event's date (relative date bounds are measured from it)."""
        raise NotImplementedError


@attrs.frozen(slots=True)
class AnyType(PayloadType):
    """``any``: any JSON value (still finite, valid Unicode and not too deep)."""

    kind: ClassVar[str] = "any"

    def check(self, value: Any, path: str, errors: list[str], day: date) -> None:
        t = type(value)
        if value is None or t is int or t is bool or (t is str and value.isascii()):
            return
        check_free(value, path, errors)


@attrs.frozen(slots=True)
class TextType(PayloadType):
    """``string`` (``min_length`` 0) and ``text`` (non-empty: ``min_length`` 1).

    ``min_length`` counts characters after stripping surrounding blanks."""

    kind: ClassVar[str] = "text"
    min_length: int = 0

    def check(self, value: Any, path: str, errors: list[str], day: date) -> None:
        if type(value) is not str:
            errors.append(f"{_label(path)} moet tekst zijn")
        elif not value.isascii() and not _valid_text(value):
            errors.append(f"{_label(path)} bevat tekens die geen geldige Unicode zijn")
        elif self.min_length and len(value.strip()) < self.min_length:
            errors.append(f"{_label(path)} mag niet leeg zijn")


@attrs.frozen(slots=True)
class EnumType(PayloadType):
    """``{enum: [a, b]}``: one of ``values``."""

    kind: ClassVar[str] = "enum"
    values: tuple[Any, ...]
    _flags: bool = attrs.field(init=False, eq=False, repr=False)
    _texts: frozenset[str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_flags", any(type(v) is bool for v in self.values))
        object.__setattr__(self, "_texts", frozenset(v for v in self.values if type(v) is str))

    def check(self, value: Any, path: str, errors: list[str], day: date) -> None:
        if type(value) is str and value in self._texts:  # the common case (hot path)
            return
        ok = value in self.values
        if ok and (self._flags or type(value) is bool):  # 1 == True: compare flags apart
            ok = any(v == value and (type(v) is bool) == (type(value) is bool)
                     for v in self.values)
        if not ok:
            shown = ", ".join(str(v) for v in self.values)
            errors.append(f"{_label(path)} moet een van {shown} zijn")


@attrs.frozen(slots=True)
class NumberType(PayloadType):
    """``integer`` (``integer=True``) and ``number``, with optional bounds."""

    kind: ClassVar[str] = "number"
    integer: bool = False
    min: int | float | None = None
    max: int | float | None = None

    def check(self, value: Any, path: str, errors: list[str], day: date) -> None:
        t = type(value)
        if t is int:
            pass
        elif t is float and not self.integer:
            if not math.isfinite(value):
                errors.append(f"{_label(path)} moet een eindig getal zijn")
                return
        else:
            errors.append(f"{_label(path)} moet een {'geheel ' if self.integer else ''}getal zijn")
            return
        if self.min is not None and value < self.min:
            errors.append(f"{_label(path)} moet minstens {self.min} zijn")
        if self.max is not None and value > self.max:
            errors.append(f"{_label(path)} mag hoogstens {self.max} zijn")


@attrs.frozen(slots=True)
class DateType(PayloadType):
    """``date`` (``JJJJ-MM-DD``) and ``datetime`` (``with_time``, ISO 8601), always within
    :data:`MIN_DAY`..:data:`MAX_DAY`, optionally bounded relative to the event's date."""

    kind: ClassVar[str] = "date"
    with_time: bool = False
    max_years_back: int | None = None
    max_months_ahead: int | None = None

    def bounds(self, day: date) -> tuple[date, date]:
        """The earliest and latest allowed date for an event on ``day``."""
        lo, hi = MIN_DAY, MAX_DAY
        if self.max_years_back is not None:
            lo = max(lo, years_back(day, self.max_years_back))
        if self.max_months_ahead is not None:
            hi = min(hi, months_ahead(day, self.max_months_ahead))
        return lo, hi

    def check(self, value: Any, path: str, errors: list[str], day: date) -> None:
        if self.with_time:
            self._check_datetime(value, path, errors)
            return
        if type(value) is not str:
            errors.append(f"{_label(path)} moet een datum (JJJJ-MM-DD) zijn")
            return
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            errors.append(f"{_label(path)} is geen geldige datum (JJJJ-MM-DD)")
            return
        if len(value) != 10:
            errors.append(f"{_label(path)} moet de vorm JJJJ-MM-DD hebben")
        if not MIN_DAY <= parsed <= MAX_DAY:
            errors.append(f"{_label(path)} moet {_RANGE} liggen")
            return
        back, ahead = self.max_years_back, self.max_months_ahead
        if back is not None and parsed < years_back(day, back):
            errors.append(f"{_label(path)} ligt meer dan {back} jaar terug")
        if ahead is not None and parsed > months_ahead(day, ahead):
            errors.append(f"{_label(path)} ligt meer dan {ahead} maanden vooruit")

    def _check_datetime(self, value: Any, path: str, errors: list[str]) -> None:
        if type(value) is not str:
            errors.append(f"{_label(path)} moet een tijdstip (ISO 8601) zijn")
            return
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            errors.append(f"{_label(path)} is geen geldig tijdstip (ISO 8601)")
            return
        if not MIN_DAY <= moment.date() <= MAX_DAY:
            errors.append(f"{_label(path)} moet {_RANGE} liggen")


@attrs.frozen(slots=True)
class FlagType(PayloadType):
    """``boolean``: ``true`` or ``false``."""

    kind: ClassVar[str] = "flag"

    def check(self, value: Any, path: str, errors: list[str], day: date) -> None:
        if type(value) is not bool:
            errors.append(f"{_label(path)} moet true of false zijn")


@attrs.frozen(slots=True)
class ListType(PayloadType):
    """``[T]`` and ``{type: list, items: T, min_items, max_items}``."""

    kind: ClassVar[str] = "list"
    items: PayloadType
    min_items: int = 0
    max_items: int | None = None
    _item_check: Validator = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_item_check", _fast_check(self.items))

    def check(self, value: Any, path: str, errors: list[str], day: date) -> None:
        if type(value) is not list:
            errors.append(f"{_label(path)} moet een lijst zijn")
            return
        if len(value) < self.min_items:
            errors.append(f"{_label(path)} moet minstens {self.min_items} element(en) hebben")
        if self.max_items is not None and len(value) > self.max_items:
            errors.append(f"{_label(path)} mag hoogstens {self.max_items} element(en) hebben")
        check = self._item_check
        for i, item in enumerate(value):
            check(item, f"{path}[{i}]", errors, day)


@attrs.frozen(slots=True)
class Field:
    """One declared field of an :class:`ObjectType`."""

    name: str
    type: PayloadType
    optional: bool = False


@attrs.frozen(slots=True)
class ObjectType(PayloadType):
    """An object with declared ``fields``; ``extra`` allows undeclared fields (checked as
    free-form values). The base type ``object`` is ``ObjectType((), extra=True)``."""

    kind: ClassVar[str] = "object"
    fields: tuple[Field, ...] = ()
    extra: bool = False
    _names: frozenset[str] = attrs.field(init=False, eq=False, repr=False)
    _plan: tuple[tuple[str, bool, Validator], ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_names", frozenset(f.name for f in self.fields))
        # bound checks, looked up once: this runs for every event (hot path)
        object.__setattr__(self, "_plan", tuple((f.name, f.optional, _fast_check(f.type))
                                                for f in self.fields))

    @property
    def free(self) -> bool:
        """True for the free-form ``object`` (no declared fields, anything allowed)."""
        return self.extra and not self.fields

    def field(self, name: str) -> Field | None:
        """The declared field ``name`` (or None)."""
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def check(self, value: Any, path: str, errors: list[str], day: date) -> None:
        if type(value) is not dict:
            if not isinstance(value, Mapping):
                errors.append(f"{_label(path)} moet een object zijn")
                return
            value = dict(value)
        prefix = path + "." if path else ""
        for name, optional, check in self._plan:
            item = value.get(name)
            if item is None:  # absent or null
                if not optional:
                    errors.append(f"{_label(prefix + name)} ontbreekt")
                continue
            check(item, prefix + name, errors, day)
        if not self._names.issuperset(value):
            self._undeclared(value, path, prefix, errors)

    def _undeclared(self, value: dict[Any, Any], path: str, prefix: str, errors: list[str]
                    ) -> None:
        for key in value:
            if key in self._names:
                continue
            if not isinstance(key, str) or not _valid_text(key):
                errors.append(f"{_label(path)} heeft een veldnaam die geen geldige tekst is")
            elif self.extra:
                check_free(value[key], prefix + _shown_name(key), errors, 1)
            else:
                where = "deze payload" if not path else _label(path)
                errors.append(f"{_label(prefix + _shown_name(key))} is geen veld van {where}")


@attrs.frozen(slots=True)
class ReferenceType(PayloadType):
    """A name from the definition's ``types``; ``target`` is the named type's tree (names
    may refer to themselves through lists and objects, so walkers must bound their depth)."""

    kind: ClassVar[str] = "reference"
    name: str
    table: Mapping[str, PayloadType] = attrs.field(eq=False, repr=False, hash=False)
    recursive: bool = False
    _check: Validator | None = attrs.field(init=False, eq=False, repr=False, default=None)

    def __attrs_post_init__(self) -> None:
        # a reference to a type compiled before it checks straight through (hot path)
        if not self.recursive and self.name in self.table:
            object.__setattr__(self, "_check", self.table[self.name].check)

    @property
    def target(self) -> PayloadType:
        """The tree of the named type."""
        return self.table[self.name]

    def check(self, value: Any, path: str, errors: list[str], day: date) -> None:
        direct = self._check
        if direct is not None:
            direct(value, path, errors, day)
            return
        if path.count(".") + path.count("[") > MAX_DEPTH:
            errors.append(f"{_label(path)} is te diep genest (hoogstens {MAX_DEPTH} niveaus)")
            return
        self.table[self.name].check(value, path, errors, day)


def resolve(node: PayloadType) -> PayloadType:
    """``node`` with references followed to the named type they stand for."""
    seen = 0
    while isinstance(node, ReferenceType):
        node = node.target
        seen += 1
        if seen > 64:  # pragma: no cover - the compiler refuses reference-only cycles
            raise TypeSpecError("type verwijst alleen naar zichzelf")
    return node


def walk(node: PayloadType, path: str = "") -> Iterator[tuple[str, PayloadType]]:
    """Every (path, node) below ``node``, references followed once per name on a path.

    Paths use ``.`` for fields and ``[]`` for list items: ``huishouden.leden[].naam``.
    """
    yield from _walk(node, path, frozenset())


def _walk(node: PayloadType, path: str, names: frozenset[str]
          ) -> Iterator[tuple[str, PayloadType]]:
    yield path, node
    if isinstance(node, ReferenceType):
        if node.name not in names:
            yield from _walk(node.target, path, names | {node.name})
    elif isinstance(node, ListType):
        yield from _walk(node.items, f"{path}[]", names)
    elif isinstance(node, ObjectType):
        for f in node.fields:
            yield from _walk(f.type, f"{path}.{f.name}" if path else f.name, names)


def undeclared(tree: PayloadType, segments: Sequence[tuple[str, bool]]
               ) -> tuple[str, tuple[str, ...]] | None:
    """The first segment of a ``data`` path that ``tree`` does not declare, with the field
    names that are declared there; None when the path may be present.

    ``segments`` are ``(key, iterate)`` pairs as :func:`eengezin.rules.paths.parse_path`
    gives them (``data.leden[].naam`` -> ``(("leden", True), ("naam", False))``).

    >>> tree = TypeCompiler({}).compile({"leden": [{"naam": "text"}]})
    >>> undeclared(tree, (("leden", True), ("naam", False))) is None
    True
    >>> undeclared(tree, (("leden", True), ("naaam", False)))
    ('naaam', ('naam',))
    """
    node = tree
    for key, iterate in segments:
        node = resolve(node)
        if isinstance(node, AnyType):
            return None
        if isinstance(node, ListType) and key.isdigit():
            node = node.items
            continue
        if not isinstance(node, ObjectType):
            return key, ()
        found = node.field(key)
        if found is None:
            if node.extra:
                return None
            return key, tuple(f.name for f in node.fields)
        node = found.type
        if iterate:
            node = resolve(node)
            if isinstance(node, ListType):
                node = node.items
            elif isinstance(node, AnyType) or (isinstance(node, ObjectType) and node.free):
                return None
    return None


def event_validator(tree: PayloadType) -> Validator:
    """The check run for every event: the event's date within :data:`MIN_DAY`..
    :data:`MAX_DAY`, then ``tree``."""
    check = _fast_check(tree)

    def validate(value: Any, path: str, errors: list[str], day: date) -> None:
        if not _MIN_YEAR <= day.year <= _MAX_YEAR:
            errors.append(f"de datum van het event moet {_RANGE} liggen")
            return
        check(value, path, errors, day)

    return validate


# ------------------------------------------------------------------ the compiler


def _suggest(name: str, known: Iterable[Any]) -> str:
    close = difflib.get_close_matches(name, [k for k in known if isinstance(k, str)], n=1,
                                      cutoff=0.75)
    return f" (bedoelde u {close[0]!r}?)" if close else ""


class TypeCompiler:
    """Compiles type specs into :class:`PayloadType` trees against the named ``types``."""

    def __init__(self, named: Mapping[str, Any]) -> None:
        self._named_specs = named
        self.table: dict[str, PayloadType] = {}
        # names being compiled, with the number of lists/objects entered when they started
        self._compiling: dict[str, int] = {}
        self._nesting = 0

    def named(self, name: str) -> PayloadType:
        """The tree of the named type ``name`` (compiled once)."""
        if name in self.table:
            return self.table[name]
        if name not in self._named_specs:
            raise TypeSpecError(f"onbekend type {name!r}{_suggest(name, self._named_specs)}")
        self._compiling[name] = self._nesting
        try:
            tree = self.compile(self._named_specs[name])
        finally:
            del self._compiling[name]
        self.table[name] = tree
        return tree

    def _reference(self, name: str) -> PayloadType:
        if name not in self._named_specs:
            known = [*self._named_specs, *BASE]
            raise TypeSpecError(f"onbekend type {name!r}{_suggest(name, known)}")
        if name in self._compiling:
            if self._nesting == self._compiling[name]:
                raise TypeSpecError(f"type {name!r} verwijst alleen naar zichzelf")
            return ReferenceType(name, self.table, recursive=True)
        self.named(name)
        return ReferenceType(name, self.table)

    def compile(self, spec: Any, *, extra: bool = False) -> PayloadType:
        """The tree for ``spec``; ``extra`` allows undeclared fields in a top-level object."""
        if isinstance(spec, str):
            if spec in BASE:
                return self._base(spec, {})
            return self._reference(spec)
        if isinstance(spec, list):
            if len(spec) != 1:
                raise TypeSpecError("een lijsttype is [T] met precies één elementtype")
            return ListType(self._inner(spec[0]))
        if isinstance(spec, Mapping):
            if "enum" in spec:
                values = spec["enum"]
                if not isinstance(values, list) or not values:
                    raise TypeSpecError("enum verwacht een niet-lege lijst")
                for v in values:
                    if not isinstance(v, str | int | float | bool) or (isinstance(v, float) and (
                            not math.isfinite(v))):
                        raise TypeSpecError("enum verwacht tekst, getallen of true/false")
                return EnumType(tuple(values))
            if "type" in spec:
                unknown = set(spec) - TYPE_KEYS
                if unknown:
                    raise TypeSpecError(
                        f"onbekende sleutel(s) {', '.join(sorted(map(str, unknown)))} in type "
                        f"(toegestaan: {', '.join(sorted(TYPE_KEYS))})")
                base = spec["type"]
                if base not in BASE:
                    raise TypeSpecError(f"onbekend basistype {base!r} "
                                        f"(toegestaan: {', '.join(BASE)})")
                return self._base(base, spec)
            return self._object(spec, extra)
        raise TypeSpecError("ongeldig type: verwacht een naam, [T] of een object")

    def _inner(self, spec: Any) -> PayloadType:
        # inside a list or an object a named type may refer back to itself
        self._nesting += 1
        try:
            return self.compile(spec)
        finally:
            self._nesting -= 1

    def _object(self, spec: Mapping[str, Any], extra: bool) -> ObjectType:
        fields: list[Field] = []
        for key, sub in spec.items():
            key = str(key)
            optional = key.endswith("?")
            name = key[:-1] if optional else key
            if not name:
                raise TypeSpecError("lege veldnaam")
            fields.append(Field(name, self._inner(sub), optional))
        return ObjectType(tuple(fields), extra)

    def _base(self, base: str, spec: Mapping[str, Any]) -> PayloadType:
        for key in ("min_items", "max_items", "min_length", "max_years_back", "max_months_ahead"):
            bound = spec.get(key, 0)
            if not isinstance(bound, int) or isinstance(bound, bool) or not 0 <= bound <= 10**6:
                raise TypeSpecError(f"{key} moet een geheel getal van 0 tot 1000000 zijn")
        for key in ("min", "max"):
            bound = spec.get(key, 0)
            if not isinstance(bound, int | float) or isinstance(bound, bool) or (
                    isinstance(bound, float) and not math.isfinite(bound)):
                raise TypeSpecError(f"{key} moet een eindig getal zijn")
        if base == "list":
            items = self._inner(spec["items"]) if "items" in spec else AnyType()
            return ListType(items, int(spec.get("min_items", 0)), spec.get("max_items"))
        if base in ("string", "text"):
            return TextType(int(spec.get("min_length", 1 if base == "text" else 0)))
        if base in ("integer", "number"):
            return NumberType(base == "integer", spec.get("min"), spec.get("max"))
        if base in ("date", "datetime"):
            return DateType(base == "datetime", spec.get("max_years_back"),
                            spec.get("max_months_ahead"))
        if base == "boolean":
            return FlagType()
        if base == "object":
            return ObjectType((), extra=True)
        return AnyType()
