"""Loading definitions: the cached path, the full path (YAML with positions, ``extends``,
JSON Schema, compilation), and compiling a tree a store kept."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import DefinitionError
from ..process.model import Definition
from ..rules.predicates import PredicateRegistry
from . import cache
from .bundled import bundled_ids, resolve_source
from .compiler import compile_definition
from .raw import Locator, RawDefinition

__all__ = ["definition_from_tree", "definition_header", "load_definition"]


def definition_header(ref: str | Path) -> tuple[str, str, str]:
    """``(id, version, title)`` of a definition (for listings), from the disk cache when
    its files are unchanged (no parsing, no compiling)."""
    header = cache.header(resolve_source(ref).resolve())
    if header is not None:
        return header
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


def load_definition(ref: str | Path | Definition, *, predicates: PredicateRegistry | None = None,
                    extends_roots: Sequence[str | Path] = ()) -> Definition:
    """Load a bundled id (``"basis"``) or a YAML path into a compiled, shareable definition.

    Raises :class:`~eengezin.errors.DefinitionError` listing every problem with
    ``file:line:col``. Bundled definitions loaded without host predicates are kept in
    memory; every definition that loaded cleanly is also cached on disk as its merged tree
    (see :mod:`eengezin.definition.cache`), so the YAML is parsed once per change.
    ``extends:`` in a file names a bundled id or a file in that file's folder (or below
    it); ``extends_roots`` names further folders a host allows.

    >>> load_definition("basis").id
    'basis'
    """
    if isinstance(ref, Definition):
        return ref
    main = resolve_source(ref).resolve()
    cacheable = predicates is None and isinstance(ref, str) and ref in bundled_ids()
    if cacheable:
        key = (str(ref), main.stat().st_mtime)
        if key in _cache:
            return _cache[key]
    # a host that widens where `extends` may look always reads the files (the cache entry
    # was made under the default rules)
    definition = None if extends_roots else _from_disk_cache(main, predicates)
    if definition is None:
        from .loader import read_raw  # the YAML parser loads only when the files are read

        raw = read_raw(ref, extends_roots=tuple(Path(r) for r in extends_roots))
        definition = compile_definition(raw, predicates)
        if not extends_roots:
            cache.store(main, raw.files, raw.data, {"id": definition.id,
                                                    "version": definition.version,
                                                    "title": definition.title})
    if cacheable:
        _cache[key] = definition
    return definition


def _from_disk_cache(main: Path, predicates: PredicateRegistry | None) -> Definition | None:
    entry = cache.lookup(main)
    if entry is None:
        return None
    try:
        return compile_definition(RawDefinition(entry["tree"], Locator(), [str(main)], str(main)),
                                  predicates)
    except (DefinitionError, KeyError, TypeError, ValueError):
        return None  # e.g. host predicates that differ: read the YAML again, with positions
