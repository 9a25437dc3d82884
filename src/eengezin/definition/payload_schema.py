"""The JSON Schema of an event's payload, for hosts that build forms (``Engine.payload_schema``).

A walk over the compiled payload type tree (:mod:`eengezin.definition.payload`), like
validation, the checker's representative payloads and the hypothesis strategies.
"""

from __future__ import annotations

from typing import Any

from ..process.model import Definition
from .payload import (
    AnyType,
    DateType,
    EnumType,
    FlagType,
    ListType,
    NumberType,
    ObjectType,
    PayloadType,
    ReferenceType,
    TextType,
)


def payload_json_schema(definition: Definition, event: str) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for the payload of ``event``; named types become
    ``$defs``. Relative date bounds (``max_years_back``…) depend on the event's date: they
    are described, and left to the engine's own check."""
    spec = definition.events[event]
    defs: dict[str, dict[str, Any]] = {}

    def walk(node: PayloadType) -> dict[str, Any]:
        if isinstance(node, ReferenceType):
            if node.name not in defs:
                defs[node.name] = {}
                defs[node.name] = walk(node.table[node.name])
            return {"$ref": f"#/$defs/{node.name}"}
        if isinstance(node, TextType):
            out: dict[str, Any] = {"type": "string"}
            if node.min_length:
                out.update(minLength=node.min_length, pattern=r"\S")
            return out
        if isinstance(node, EnumType):
            return {"enum": list(node.values)}
        if isinstance(node, NumberType):
            out = {"type": "integer" if node.integer else "number"}
            if node.min is not None:
                out["minimum"] = node.min
            if node.max is not None:
                out["maximum"] = node.max
            return out
        if isinstance(node, DateType):
            out = {"type": "string", "format": "date-time" if node.with_time else "date"}
            bounds = []
            if node.max_years_back is not None:
                bounds.append(f"at most {node.max_years_back} years before the event")
            if node.max_months_ahead is not None:
                bounds.append(f"at most {node.max_months_ahead} months after the event")
            if bounds:
                out["description"] = "; ".join(bounds)
            return out
        if isinstance(node, FlagType):
            return {"type": "boolean"}
        if isinstance(node, ListType):
            out = {"type": "array", "items": walk(node.items)}
            if node.min_items:
                out["minItems"] = node.min_items
            if node.max_items is not None:
                out["maxItems"] = node.max_items
            return out
        if isinstance(node, ObjectType):
            return {"type": "object",
                    "properties": {f.name: walk(f.type) for f in node.fields},
                    "required": [f.name for f in node.fields if not f.optional],
                    "additionalProperties": node.extra}
        if isinstance(node, AnyType):
            return {}
        return {}

    tree = spec.payload
    body = walk(tree) if tree is not None else {"type": "object", "properties": {},
                                                 "additionalProperties": False}
    schema: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                              "title": spec.title, **body}
    if defs:
        schema["$defs"] = defs
    return schema
