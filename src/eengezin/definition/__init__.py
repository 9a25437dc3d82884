"""Loading definitions: YAML with positions, ``extends``, JSON Schema, compilation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..process.model import Definition
from ..rules.predicates import PredicateRegistry
from .compiler import compile_definition
from .loader import bundled_dir, bundled_ids, read_raw, schema

__all__ = ["bundled_dir", "bundled_ids", "load_definition", "schema"]

_cache: dict[tuple[str, float], Definition] = {}


def load_definition(ref: str | Path | Definition, *, predicates: PredicateRegistry | None = None,
                    extends_roots: Sequence[str | Path] = ()) -> Definition:
    """Load a bundled id (``"basis"``) or a YAML path into a compiled, shareable definition.

    Raises :class:`~eengezin.errors.DefinitionError` listing every problem with
    ``file:line:col``. Bundled definitions loaded without host predicates are cached.
    ``extends:`` in a file names a bundled id or a file in that file's folder (or below
    it); ``extends_roots`` names further folders a host allows.

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
    roots = tuple(Path(r) for r in extends_roots)
    definition = compile_definition(read_raw(ref, extends_roots=roots), predicates)
    if cacheable:
        _cache[key] = definition
    return definition
