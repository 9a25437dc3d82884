"""Loading definitions: YAML with positions, ``extends``, JSON Schema, compilation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..process.model import Definition
from ..rules.predicates import PredicateRegistry
from ._yaml import Locator
from ._yaml import load_yaml as parse_yaml
from .compiler import compile_definition
from .loader import RawDefinition, bundled_dir, bundled_ids, read_raw, schema

__all__ = ["Locator", "bundled_dir", "bundled_ids", "definition_from_tree", "definition_header",
           "load_definition",
           "parse_yaml", "schema"]


def definition_header(ref: str | Path) -> tuple[str, str, str]:
    """``(id, version, title)`` of a definition (for listings)."""
    d = load_definition(ref)
    return d.id, d.version, d.title


def definition_from_tree(tree: Any, name: str, predicates: PredicateRegistry | None = None
                         ) -> Definition:
    """Compile an already merged definition tree (as a store keeps it) without its files.

    ``name`` stands in for the file in error messages. Raises
    :class:`~eengezin.errors.DefinitionError`.
    """
    return compile_definition(RawDefinition(tree, Locator(), [name], name), predicates)

_cache: dict[tuple[str, float], Definition] = {}


def load_definition(ref: str | Path | Definition, *, predicates: PredicateRegistry | None = None
                    ) -> Definition:
    """Load a bundled id (``"basis"``) or a YAML path into a compiled, shareable definition.

    Raises :class:`~eengezin.errors.DefinitionError` listing every problem with
    ``file:line:col``. Bundled definitions loaded without host predicates are cached.

    >>> load_definition("basis").id
    'basis'
    """
    if isinstance(ref, Definition):
        return ref
    cacheable = predicates is None and isinstance(ref, str) and ref in bundled_ids()
    if cacheable:
        key = (str(ref), (bundled_dir() / f"{ref}.yaml").stat().st_mtime)
        if key in _cache:
            return _cache[key]
    definition = compile_definition(read_raw(ref), predicates)
    if cacheable:
        _cache[key] = definition
    return definition
