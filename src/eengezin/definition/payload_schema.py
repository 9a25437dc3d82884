"""The JSON Schema of an event's payload, for hosts that build forms (``Engine.payload_schema``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..process.model import Definition

_BASE: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "text": {"type": "string", "minLength": 1, "pattern": r"\S"},
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "any": {},
    "object": {"type": "object"},
    "list": {"type": "array"},
}


def payload_json_schema(definition: Definition, event: str) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for the payload of ``event``; named types become
    ``$defs``. Relative date bounds (``max_years_back``…) depend on the event's date and are
    left to the engine's own check."""
    spec = definition.events[event]
    named: Mapping[str, Any] = definition.raw.get("types", {}) or {}
    used: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> dict[str, Any]:
        if isinstance(node, str):
            if node in _BASE:
                return dict(_BASE[node])
            if node in named:
                if node not in used:
                    used[node] = {}
                    used[node] = walk(named[node])
                return {"$ref": f"#/$defs/{node}"}
            return {}
        if isinstance(node, list) and len(node) == 1:
            return {"type": "array", "items": walk(node[0])}
        if isinstance(node, Mapping):
            if "enum" in node and len(node) <= 2:
                return {"enum": list(node["enum"])}
            if "type" in node and isinstance(node["type"], str):
                out = walk(node["type"])
                if node["type"] == "list":
                    out = {"type": "array", "items": walk(node.get("items", "any"))}
                    if "min_items" in node:
                        out["minItems"] = node["min_items"]
                    if "max_items" in node:
                        out["maxItems"] = node["max_items"]
                if "min" in node:
                    out["minimum"] = node["min"]
                if "max" in node:
                    out["maximum"] = node["max"]
                if "min_length" in node:
                    out["minLength"] = node["min_length"]
                if "description" in node:
                    out["description"] = node["description"]
                return out
            properties: dict[str, Any] = {}
            required: list[str] = []
            for key, value in node.items():
                name = str(key)
                if name.endswith("?"):
                    name = name[:-1]
                else:
                    required.append(name)
                properties[name] = walk(value)
            return {"type": "object", "properties": properties, "required": required}
        return {}

    body = walk(spec.payload_spec) if spec.payload_spec is not None else {"type": "object"}
    schema: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                              "title": spec.title, **body}
    if used:
        schema["$defs"] = used
    return schema
