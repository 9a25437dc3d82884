"""Payload types: a small, region-readable type language compiled into validators.

Forms (in YAML)::

    string | text | boolean | integer | number | date | datetime | any | object
    <name of an entry in the definition's ``types``>
    [T]                                   # a list of T
    {enum: [a, b]}                        # one of these values
    {type: integer, min: 0, max: 10}      # a base type with bounds
    {type: list, items: T, min_items: 1}
    {type: date, max_years_back: 100, max_months_ahead: 9}   # relative to the event's date
    {veld: T, optioneel_veld?: T}         # an object; a key ending in ? is optional

``text`` is a non-empty string. Fields not declared are allowed (payloads may carry more).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

Validator = Callable[[Any, str, list[str], date], None]

BASE = ("string", "text", "boolean", "integer", "number", "date", "datetime", "any", "object", "list")
TYPE_KEYS = frozenset(
    {"type", "min", "max", "items", "min_items", "max_items", "max_years_back", "max_months_ahead",
     "min_length", "description", "persoonsgegevens"}
)


class TypeSpecError(ValueError):
    """A type that cannot be compiled."""


def _label(path: str) -> str:
    return f"'{path}'" if path else "de payload"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@functools.lru_cache(maxsize=256)
def _months_ahead(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@functools.lru_cache(maxsize=256)
def _years_back(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class TypeCompiler:
    """Compiles type specs against the definition's named ``types``."""

    def __init__(self, named: Mapping[str, Any]) -> None:
        self._named_specs = named
        self._named: dict[str, Validator] = {}
        self._compiling: set[str] = set()

    def named(self, name: str) -> Validator:
        if name in self._named:
            return self._named[name]
        if name not in self._named_specs:
            raise TypeSpecError(f"onbekend type {name!r}")
        if name in self._compiling:
            # recursive type: resolve lazily at validation time
            return lambda v, p, e, d: self._named[name](v, p, e, d)
        self._compiling.add(name)
        try:
            self._named[name] = self.compile(self._named_specs[name])
        finally:
            self._compiling.discard(name)
        return self._named[name]

    def compile(self, spec: Any) -> Validator:
        if isinstance(spec, str):
            if spec in BASE:
                return self._base(spec, {})
            return self.named(spec)
        if isinstance(spec, list):
            if len(spec) != 1:
                raise TypeSpecError("een lijsttype is [T] met precies één elementtype")
            return self._list(self.compile(spec[0]), 0, None)
        if isinstance(spec, Mapping):
            if "enum" in spec:
                values = spec["enum"]
                if not isinstance(values, list) or not values:
                    raise TypeSpecError("enum verwacht een niet-lege lijst")
                allowed = list(values)
                shown = ", ".join(str(v) for v in allowed)

                def check_enum(v: Any, p: str, e: list[str], d: date) -> None:
                    if v not in allowed:
                        e.append(f"{_label(p)} moet een van {shown} zijn, niet {v!r}")

                return check_enum
            if "type" in spec:
                unknown = set(spec) - TYPE_KEYS
                if unknown:
                    raise TypeSpecError(f"onbekende sleutel(s) {', '.join(sorted(unknown))} in type")
                base = spec["type"]
                if base not in BASE:
                    raise TypeSpecError(f"onbekend basistype {base!r}")
                return self._base(base, spec)
            return self._object(spec)
        raise TypeSpecError(f"ongeldig type {spec!r}")

    def _object(self, spec: Mapping[str, Any]) -> Validator:
        fields: list[tuple[str, bool, Validator]] = []
        for key, sub in spec.items():
            optional = key.endswith("?")
            name = key[:-1] if optional else key
            if not name:
                raise TypeSpecError("lege veldnaam")
            fields.append((name, optional, self.compile(sub)))

        def check_object(v: Any, p: str, e: list[str], d: date) -> None:
            if not isinstance(v, dict):
                e.append(f"{_label(p)} moet een object zijn")
                return
            prefix = p + "." if p else ""
            for name, optional, check in fields:
                value = v.get(name)
                if value is None:  # absent or null
                    if not optional:
                        e.append(f"{_label(prefix + name)} ontbreekt")
                    continue
                check(value, prefix + name, e, d)

        return check_object

    def _list(self, item: Validator, lo: int, hi: int | None) -> Validator:
        def check_list(v: Any, p: str, e: list[str], d: date) -> None:
            if not isinstance(v, list):
                e.append(f"{_label(p)} moet een lijst zijn")
                return
            if len(v) < lo:
                e.append(f"{_label(p)} moet minstens {lo} element(en) hebben")
            if hi is not None and len(v) > hi:
                e.append(f"{_label(p)} mag hoogstens {hi} element(en) hebben")
            for i, x in enumerate(v):
                item(x, f"{p}[{i}]", e, d)

        return check_list

    def _base(self, base: str, spec: Mapping[str, Any]) -> Validator:
        for key in ("min_items", "max_items", "min_length", "max_years_back", "max_months_ahead"):
            bound = spec.get(key, 0)
            if not isinstance(bound, int) or isinstance(bound, bool) or bound < 0:
                raise TypeSpecError(f"{key} moet een geheel getal van 0 of meer zijn")
        for key in ("min", "max"):
            bound = spec.get(key, 0)
            if not isinstance(bound, int | float) or isinstance(bound, bool):
                raise TypeSpecError(f"{key} moet een getal zijn")
        if base == "list":
            items = self.compile(spec["items"]) if "items" in spec else self.compile("any")
            return self._list(items, int(spec.get("min_items", 0)), spec.get("max_items"))
        lo, hi = spec.get("min"), spec.get("max")
        min_length = int(spec.get("min_length", 1 if base == "text" else 0))
        back, ahead = spec.get("max_years_back"), spec.get("max_months_ahead")
        # one small closure per base type: validators run on every event (hot path)

        def check_any(v: Any, p: str, e: list[str], d: date) -> None:
            return

        def check_text(v: Any, p: str, e: list[str], d: date) -> None:
            if not isinstance(v, str):
                e.append(f"{_label(p)} moet tekst zijn")
            elif min_length and len(v.strip()) < min_length:
                e.append(f"{_label(p)} mag niet leeg zijn")

        def check_boolean(v: Any, p: str, e: list[str], d: date) -> None:
            if not isinstance(v, bool):
                e.append(f"{_label(p)} moet true of false zijn")

        def check_object(v: Any, p: str, e: list[str], d: date) -> None:
            if not isinstance(v, dict):
                e.append(f"{_label(p)} moet een object zijn")

        def check_number(v: Any, p: str, e: list[str], d: date) -> None:
            ok = _is_int(v) if base == "integer" else (
                isinstance(v, int | float) and not isinstance(v, bool))
            if not ok:
                e.append(f"{_label(p)} moet een {'geheel ' if base == 'integer' else ''}getal zijn")
                return
            if lo is not None and v < lo:
                e.append(f"{_label(p)} moet minstens {lo} zijn")
            if hi is not None and v > hi:
                e.append(f"{_label(p)} mag hoogstens {hi} zijn")

        def check_date(v: Any, p: str, e: list[str], d: date) -> None:
            if not isinstance(v, str):
                e.append(f"{_label(p)} moet een datum (JJJJ-MM-DD) zijn")
                return
            try:
                day = date.fromisoformat(v)
            except ValueError:
                e.append(f"{_label(p)} is geen geldige datum (JJJJ-MM-DD): {v!r}")
                return
            if len(v) != 10:
                e.append(f"{_label(p)} moet de vorm JJJJ-MM-DD hebben")
            if back is not None and day < _years_back(d, int(back)):
                e.append(f"{_label(p)} ligt meer dan {back} jaar terug")
            if ahead is not None and day > _months_ahead(d, int(ahead)):
                e.append(f"{_label(p)} ligt meer dan {ahead} maanden vooruit")

        def check_datetime(v: Any, p: str, e: list[str], d: date) -> None:
            if not isinstance(v, str):
                e.append(f"{_label(p)} moet een tijdstip (ISO 8601) zijn")
                return
            try:
                datetime.fromisoformat(v)
            except ValueError:
                e.append(f"{_label(p)} is geen geldig tijdstip (ISO 8601): {v!r}")

        checks: dict[str, Validator] = {
            "any": check_any, "string": check_text, "text": check_text,
            "boolean": check_boolean, "object": check_object, "integer": check_number,
            "number": check_number, "date": check_date, "datetime": check_datetime,
        }
        return checks[base]
