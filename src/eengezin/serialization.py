"""The one cattrs converter: trajecten to and from JSON, with a schema version.

>>> from eengezin import Engine
>>> from datetime import datetime
>>> e = Engine("basis")
>>> t = e.start("T-1", {"huishouden": {"leden": [{"id": "m1", "rol": "ouder"}]}, "vraag": "?"},
...             at=datetime(2026, 1, 5, 9)).traject
>>> traject_from_json(traject_to_json(t)) == t
True
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import cattrs
from cattrs.preconf.json import make_converter as _make_json_converter

from . import jsonio
from .errors import InputError, SerializationError
from .traject import Traject

SCHEMA_VERSION = 1


def make_converter() -> cattrs.Converter:
    """A converter that turns trajecten into JSON-ready dicts and back."""
    conv = _make_json_converter()
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    conv.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))
    conv.register_unstructure_hook(date, lambda d: d.isoformat())
    conv.register_structure_hook(date, lambda v, _: date.fromisoformat(v))
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
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        raise SerializationError(f"invalid traject: {exc}") from None


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
