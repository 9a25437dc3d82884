"""The one cattrs converter: trajecten to and from JSON, with a schema version.

>>> from eengezin import Engine
>>> from datetime import datetime, timezone
>>> e = Engine("basis")
>>> t = e.start("T-1", {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]}, "vraag": "?"},
...             at=datetime(2026, 1, 5, 9, tzinfo=timezone.utc)).traject
>>> traject_from_json(traject_to_json(t)) == t
True
"""

from __future__ import annotations

import json
import typing
from datetime import date, datetime
from typing import Any

import cattrs
from cattrs.preconf.json import make_converter as _make_json_converter

from . import jsonio
from .decision import Decision
from .errors import InputError, SerializationError
from .rules.verdict import Verdict
from .traject import HistoryEntry, Outcome, Traject

SCHEMA_VERSION = 2
"""2: the traject is a snapshot without its history (``version``, ``seen``, ``last_at``)."""


def _is_set_type(t: Any) -> bool:
    return t is frozenset or t is set or typing.get_origin(t) in (frozenset, set)


def make_converter() -> cattrs.Converter:
    """A converter that turns trajecten into JSON-ready dicts and back."""
    conv = _make_json_converter()
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    conv.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))
    conv.register_unstructure_hook(date, lambda d: d.isoformat())
    conv.register_structure_hook(date, lambda v, _: date.fromisoformat(v))
    # sets as sorted lists: equal trajecten give equal JSON text
    conv.register_unstructure_hook_func(_is_set_type, lambda v: sorted(v))
    return conv


converter = make_converter()


def traject_to_dict(traject: Traject) -> dict[str, Any]:
    """A JSON-ready dict with ``schema_version``."""
    data: dict[str, Any] = converter.unstructure(traject)
    return {"schema_version": SCHEMA_VERSION, **data}


def traject_from_dict(data: Any) -> Traject:
    """Read a dict made by :func:`traject_to_dict`; raise :class:`SerializationError`."""
    if not isinstance(data, dict):
        raise SerializationError("a serialized traject is a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SerializationError(
            f"unsupported schema_version {version!r} (this eengezin reads {SCHEMA_VERSION})"
        )
    body = {k: v for k, v in data.items() if k != "schema_version"}
    try:
        return converter.structure(body, Traject)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, RecursionError):
        raise SerializationError("invalid traject: fields do not match the traject schema"
                                 ) from None


def traject_to_json(traject: Traject) -> str:
    """Serialize to a JSON string (lossless: ``traject_from_json`` gives an equal traject).

    Raises :class:`SerializationError` for data JSON cannot hold faithfully (NaN, infinities,
    lone surrogates, nesting past :data:`eengezin.jsonio.MAX_DEPTH`)."""
    try:
        data = traject_to_dict(traject)
        text = json.dumps(data, ensure_ascii=False, sort_keys=True, allow_nan=False)
        text.encode("utf-8")
    except (ValueError, UnicodeEncodeError, RecursionError, TypeError):
        raise SerializationError("traject holds data that JSON cannot hold (NaN, infinity, "
                                 "lone surrogates or nesting too deep)") from None
    if jsonio.depth(text) > jsonio.MAX_DEPTH + 8:  # + the traject's own levels
        raise SerializationError("traject data nests too deep")
    return text


def traject_from_json(text: str | bytes, *, max_depth: int = jsonio.MAX_DEPTH) -> Traject:
    """Parse a JSON string made by :func:`traject_to_json` (nesting bounded by ``max_depth``)."""
    try:
        data = jsonio.loads(text, max_depth=max_depth)
    except InputError as exc:
        raise SerializationError(f"not JSON: {exc}") from None
    return traject_from_dict(data)


# ---------------------------------------------------------------- wire format for hosts

WIRE_TYPES: dict[str, type] = {
    "Traject": Traject, "Verdict": Verdict, "Outcome": Outcome, "HistoryEntry": HistoryEntry,
    "Decision": Decision,
}


def to_dict(value: Traject | Verdict | Outcome | HistoryEntry | Decision) -> dict[str, Any]:
    """Plain JSON-ready data that a web framework can send as is; it validates against the
    JSON Schema of its type (:func:`json_schema`). An outcome also carries ``accepted``;
    a verdict ``accepted`` and each violation ``next``.

    >>> from eengezin import Verdict, Violation
    >>> to_dict(Verdict((Violation("r.x", "warn", "Let op."),)))["accepted"]
    True
    """
    if isinstance(value, Traject):
        return traject_to_dict(value)
    if isinstance(value, Verdict):
        return _verdict(value)
    if isinstance(value, Outcome):
        return {
            "accepted": value.accepted,
            "duplicate": value.duplicate,
            "attempts": value.attempts,
            "event": {"name": value.event.name, "at": value.event.at.isoformat(),
                      "actor": _actor(value.event.actor), "backdated": value.event.backdated},
            "verdict": _verdict(value.verdict),
            "traject": traject_to_dict(value.traject),
            "effects": list(value.effects),
            "entered": list(value.entered),
            "exited": list(value.exited),
            "entry": None if value.entry is None else _plain(value.entry),
        }
    if isinstance(value, HistoryEntry | Decision):
        return _plain(value)
    raise TypeError(f"to_dict does not know {type(value).__name__}")


def from_dict(data: Any, kind: type[_T]) -> _T:
    """Read data made by :func:`to_dict` back (Traject, HistoryEntry, Decision, Verdict);
    raise :class:`SerializationError`."""
    if kind is Traject:
        return typing.cast(_T, traject_from_dict(data))
    if not isinstance(data, dict):
        raise SerializationError(f"a serialized {kind.__name__} is a JSON object")
    body = data
    if kind is Verdict:
        body = {"violations": [{k: v for k, v in item.items() if k in _VIOLATION_KEYS}
                               for item in data.get("violations", [])]}
    try:
        return converter.structure(body, kind)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, AttributeError,
            RecursionError):
        raise SerializationError(f"invalid {kind.__name__}") from None


_T = typing.TypeVar("_T")
_VIOLATION_KEYS = frozenset({"rule", "severity", "message", "source"})


def _plain(value: Any) -> dict[str, Any]:
    data: dict[str, Any] = converter.unstructure(value)
    return data


def _actor(actor: Any) -> dict[str, Any] | None:
    return None if actor is None else {"id": actor.id, "role": actor.role}


def _verdict(verdict: Verdict) -> dict[str, Any]:
    return {"accepted": verdict.accepted,
            "violations": [{"rule": v.rule, "severity": v.severity, "message": v.message,
                            "source": v.source, "next": list(getattr(v, "next", ()))}
                           for v in verdict.violations]}


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``to_dict``'s output for ``kind``: one of
    ``Traject``, ``Verdict``, ``Outcome``, ``HistoryEntry``, ``Decision``. Shipped in the
    package (``eengezin/schemas/``) for hosts that generate clients or validate."""
    from importlib import resources

    if kind not in WIRE_TYPES:
        raise KeyError(f"no schema for {kind!r} (known: {', '.join(sorted(WIRE_TYPES))})")
    text = resources.files("eengezin").joinpath("schemas", f"{kind}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
