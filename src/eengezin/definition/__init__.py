"""Loading definitions: YAML with positions, ``extends``, JSON Schema, compilation.

Names load on first use (``eengezin list`` needs no YAML parser).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._yaml import load_yaml as parse_yaml
    from .api import definition_from_tree, definition_header, load_definition
    from .bundled import bundled_dir, bundled_ids
    from .loader import schema
    from .raw import Locator

_EXPORTS = {
    "Locator": (".raw", "Locator"), "parse_yaml": ("._yaml", "load_yaml"),
    "definition_from_tree": (".api", "definition_from_tree"),
    "definition_header": (".api", "definition_header"),
    "load_definition": (".api", "load_definition"),
    "bundled_dir": (".bundled", "bundled_dir"), "bundled_ids": (".bundled", "bundled_ids"),
    "schema": (".loader", "schema"),
}

__all__ = ["Locator", "bundled_dir", "bundled_ids", "definition_from_tree", "definition_header",
           "load_definition", "parse_yaml", "schema"]


def __getattr__(name: str) -> Any:
    found = _EXPORTS.get(name)
    if found is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(found[0], __name__), found[1])
    globals()[name] = value
    return value
