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

from .errors import SerializationError
from .traject import Traject

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
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        raise SerializationError(f"invalid traject: {exc}") from None


def traject_to_json(traject: Traject) -> str:
    """Serialize to a JSON string (lossless: ``traject_from_json`` gives an equal traject)."""
    return json.dumps(traject_to_dict(traject), ensure_ascii=False, sort_keys=True)


def traject_from_json(text: str | bytes) -> Traject:
    """Parse a JSON string made by :func:`traject_to_json`."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SerializationError(f"not JSON: {exc}") from None
    return traject_from_dict(data)
