"""Find, read, validate and merge definition files (``extends``), keeping file positions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from ..errors import DefinitionError, DefinitionNotFoundError, Location, Problem
from ._yaml import MAX_BYTES, load_yaml
from .bundled import is_bundled_ref, resolve_source
from .raw import Locator, RawDefinition, suggest

LIST_SECTIONS = ("rules", "effects", "deadlines", "invariants", "indicators")
MAP_SECTIONS = ("types", "params", "roles", "criteria", "zgw")
MAX_EXTENDS = 16


def resolve_extends(ref: str, here: Path, roots: Sequence[Path] = ()) -> Path:
    """The file that ``extends: ref`` in the file ``here`` names.

    A bundled id, or a relative path to a file inside ``here``'s folder (or inside one of
    the ``roots`` a host allows). Absolute paths and paths that leave those folders
    (``../``, symbolic links) are refused; messages never show the target's content.
    """
    if Path(ref).is_absolute() or ref.startswith(("\\", "~")) or ":" in ref:
        raise DefinitionNotFoundError([Problem(Location(ref), "extends mag geen absoluut pad "
                                               "zijn: gebruik een pad naast dit bestand")])
    if is_bundled_ref(ref):
        return resolve_source(ref)
    if not ref.endswith((".yaml", ".yml")):
        raise DefinitionNotFoundError([Problem(Location(ref), "extends noemt een meegeleverde "
                                               "definitie of een .yaml-bestand")])
    allowed = [here.parent.resolve(), *(Path(r).resolve() for r in roots)]
    inside = False
    for base in allowed:
        candidate = (base / ref).resolve()
        if not any(candidate.is_relative_to(a) for a in allowed):
            continue
        inside = True
        if candidate.is_file():
            return candidate
    if not inside:
        raise DefinitionNotFoundError([Problem(Location(ref), "extends mag niet buiten de map van "
                                               "dit bestand verwijzen")])
    raise DefinitionNotFoundError([Problem(Location(ref), "bestand niet gevonden")])


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema of the definition format (shipped for editors, used for validation)."""
    text = resources.files("eengezin.definition").joinpath("schema.json").read_text("utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def _schema_problems(tree: Any, filename: str, locator: Locator) -> list[Problem]:
    import jsonschema  # loaded on first validation (a cached definition needs none)

    validator = jsonschema.Draft202012Validator(schema())
    problems: list[Problem] = []
    for err in validator.iter_errors(tree):
        path = list(err.absolute_path)
        loc = _locate(tree, path, filename, locator)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
            for key in sorted(set(err.instance) - set(known), key=str):
                problems.append(Problem(locator.where(err.instance, key, default=loc),
                                        _unknown_key(tree, path, key, sorted(known))))
            continue
        problems.append(Problem(loc, _schema_message(err, tree)))
    return problems


def _where(tree: Any, path: Sequence[Any]) -> str:
    """A readable position: ``deadlines[mb.huisbezoek_termijn].term`` for ``deadlines.3.term``;
    items without an id are counted from 1: ``transitions[#1]``."""
    out = ""
    node = tree
    for part in path:
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            item = node[part]
            ident = item.get("id") if isinstance(item, dict) else None
            out += f"[{ident}]" if isinstance(ident, str) and ident else f"[#{part + 1}]"
            node = item
            continue
        out += f".{part}" if out else str(part)
        node = node.get(part) if isinstance(node, dict) else None
    return out or "(bovenste niveau)"


def _unknown_key(tree: Any, path: Sequence[Any], key: Any, known: list[str]) -> str:
    where = _where(tree, path)
    allowed = f" (toegestaan: {', '.join(known)})" if known else ""
    return f"{where}: onbekende sleutel {str(key)!r}{suggest(str(key), known)}{allowed}"


_TYPES = {"string": "tekst", "integer": "geheel getal", "number": "getal", "boolean": "true/false",
          "object": "object (sleutel: waarde)", "array": "lijst", "null": "leeg"}


def _kind(value: Any) -> str:
    for name, kind in (("boolean", bool), ("integer", int), ("number", float), ("string", str),
                       ("array", list), ("object", dict)):
        if isinstance(value, kind):
            return _TYPES[name]
    return _TYPES["null"] if value is None else "iets anders"


def _schema_message(err: Any, tree: Any) -> str:
    where = _where(tree, list(err.absolute_path))
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return f"{where}: '{missing}' is verplicht"
    if err.validator == "type":
        wanted = err.validator_value if isinstance(err.validator_value, list) else [
            err.validator_value]
        shown = " of ".join(_TYPES.get(str(w), str(w)) for w in wanted)
        return f"{where}: verwacht {shown}, gevonden {_kind(err.instance)}"
    if err.validator == "enum":
        options: list[Any] = list(cast(Iterable[Any], err.validator_value))
        values = ", ".join(str(v) for v in options)
        hint = suggest(cast(str, err.instance), [str(v) for v in options])
        return f"{where}: moet een van {values} zijn{hint}"
    if err.validator == "pattern":
        return f"{where}: vorm klopt niet (kleine letters, cijfers, '_' en '-')"
    if err.validator in ("minItems", "minProperties"):
        return f"{where}: mag niet leeg zijn"
    if err.validator == "minLength":
        return f"{where}: mag niet leeg zijn"
    if err.validator in ("oneOf", "anyOf") and err.context:
        import jsonschema

        # prefer what is wrong inside the branch that has the right type (a mapping
        # with an unknown key says so, not only "not null")
        shaped = [e for e in err.context if e.validator != "type" or e.absolute_path != err.absolute_path]
        inner = jsonschema.exceptions.best_match(shaped or err.context)
        if inner is not None and inner.validator != "type":
            detail = _schema_message(inner, tree)
            return detail if inner.absolute_path != err.absolute_path else (
                f"{where}: {detail.split(': ', 1)[-1]}")
        return f"{where}: vorm klopt niet (zie docs/definitions.md)"
    return f"{where}: vorm klopt niet (zie docs/definitions.md)"


def _locate(tree: Any, path: list[Any], filename: str, locator: Locator) -> Location:
    node = tree
    best = locator.where(tree, default=Location(filename, 1, 1))
    for part in path:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        ):
            best = locator.where(node, part, default=best)
            node = node[part]
        else:
            break
    return best


def _looks_like_definition(tree: Any) -> bool:
    return isinstance(tree, dict) and isinstance(tree.get("id"), str) and "version" in tree


def read_raw(ref: str | Path, *, extends_roots: Sequence[Path] = (),
             _chain: tuple[Path, ...] = ()) -> RawDefinition:
    """Read ``ref`` and everything it extends into one merged tree.

    Files named by ``extends:`` must be bundled ids or lie inside the extending file's
    folder or one of ``extends_roots``. Format problems are returned in ``problems`` when
    the tree can still be merged (the compiler adds its own); otherwise they are raised.
    """
    path = (resolve_source(ref) if not _chain else Path(ref)).resolve()
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise DefinitionError([Problem(Location(str(_chain[-1])), f"cyclus in extends: {cycle}")])
    if len(_chain) >= MAX_EXTENDS:
        raise DefinitionError([Problem(Location(str(path)), "extends is te diep genest")])
    filename = str(path)
    data = _read_bytes(path, filename)
    text = _decode(data, filename)
    locator = Locator()
    tree = load_yaml(text, filename, locator)
    if not isinstance(tree, dict):
        raise DefinitionError([Problem(Location(filename, 1, 1),
                                       "een definitie is een mapping (sleutel: waarde)")])
    problems = _schema_problems(tree, filename, locator)
    parent_ref = tree.get("extends")
    if "extends" in tree and (not isinstance(parent_ref, str) or not parent_ref):
        # without its base the rest cannot be checked: the format problem says why
        raise DefinitionError(_sorted(problems))
    if parent_ref is None:
        return RawDefinition(tree, locator, [filename], filename, _sorted(problems))
    try:
        parent_path = resolve_extends(parent_ref, path, extends_roots)
        parent = read_raw(parent_path, extends_roots=extends_roots, _chain=(*_chain, path))
    except DefinitionNotFoundError as exc:
        loc = locator.where(tree, "extends")
        raise DefinitionError(_sorted([*problems, *(Problem(loc, f"extends: {p.message}")
                                                    for p in exc.problems)])) from None
    except DefinitionError:
        if not parent_ref.endswith((".yaml", ".yml")) or _is_definition_file(parent_path):
            raise
        # not a definition at all: never show another file's content
        loc = locator.where(tree, "extends")
        raise DefinitionError([*problems, Problem(
            loc, "extends: dit bestand is geen definitie (id en version ontbreken)")]) from None
    if not is_bundled_ref(parent_ref) and not _looks_like_definition(parent.data):
        # not a definition at all: never show another file's content
        loc = locator.where(tree, "extends")
        raise DefinitionError([*problems, Problem(
            loc, "extends: dit bestand is geen definitie (id en version ontbreken)")])
    problems = [*parent.problems, *problems]
    parent.locator.merge(locator)
    # the merged events are noted in the locator that is returned (the parent's, which now
    # holds the child's positions too), so problems in them keep their file:line:col
    try:
        merged, merge_problems = _merge(parent.data, tree, parent.locator, filename)
    except (KeyError, TypeError, AttributeError, ValueError):
        if problems:  # the format problems explain why the files cannot be merged
            raise DefinitionError(_sorted(problems)) from None
        raise
    return RawDefinition(merged, parent.locator, [*parent.files, filename], filename,
                         _sorted([*problems, *merge_problems]))


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda p: (p.location, p.message))


def _is_definition_file(path: Path) -> bool:
    """Does ``path`` hold a mapping with ``id`` and ``version``? (Errors in such a file are
    shown; a file that is no definition is never quoted.)"""
    try:
        tree = load_yaml(_decode(_read_bytes(path, str(path)), str(path)), str(path), Locator())
    except DefinitionError:
        return False
    return _looks_like_definition(tree)


def _read_bytes(path: Path, filename: str) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise DefinitionError([Problem(Location(filename),
                                       f"kan bestand niet lezen ({exc.strerror or 'fout'})")]
                              ) from None
    if len(data) > MAX_BYTES:
        raise DefinitionError([Problem(Location(filename, 1, 1),
                                       f"bestand is te groot (hoogstens {MAX_BYTES // 1_000_000} MB)")])
    return data


def _decode(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DefinitionError([Problem(Location(filename, line, col),
                                       "het bestand is geen geldige UTF-8-tekst")]) from None


def _ids(items: list[Any]) -> Iterator[str]:
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            yield item["id"]


def _has_base(base: dict[str, Any], owner: Any, section: str, noun: str, key: str,
              locator: Locator, problems: list[Problem]) -> bool:
    """Whether ``add:`` on ``section.key`` has something in the base to add to (else a
    problem, with a near-match suggestion)."""
    if isinstance(base.get(key), dict):
        return True
    problems.append(Problem(locator.where(owner, key), f"{section}.{key}: add: de basis heeft "
                                                       f"geen {noun} {key!r}{suggest(key, base)}"))
    return False


def _merge(base: dict[str, Any], child: dict[str, Any], locator: Locator, filename: str
           ) -> tuple[dict[str, Any], list[Problem]]:
    problems: list[Problem] = []
    out: dict[str, Any] = {k: v for k, v in base.items() if k not in ("extends",)}
    for key in ("id", "version", "title", "description", "start_event", "bewaartermijn"):
        if key in child:
            out[key] = child[key]
    removals = child.get("remove", {})
    for section, ids in removals.items():
        current = out.get(section)
        for rid in ids:
            loc = locator.where(removals[section], ids.index(rid))
            if isinstance(current, dict) and rid in current:
                current = {k: v for k, v in current.items() if k != rid}
            elif isinstance(current, list) and rid in set(_ids(current)):
                current = [x for x in current if not (isinstance(x, dict) and x.get("id") == rid)]
            else:
                problems.append(Problem(loc, f"remove: {section} heeft geen {rid!r} om te verwijderen"))
                continue
            out[section] = current
    for section in MAP_SECTIONS:
        if section in child:
            out[section] = {**out.get(section, {}), **child[section]}
    if "tracks" in child:
        tracks = dict(out.get("tracks", {}))
        for tid, spec in child["tracks"].items():
            if isinstance(spec, dict) and "add" in spec:
                if not _has_base(tracks, child["tracks"], "tracks", "track", tid, locator,
                                 problems):
                    continue
                tracks[tid] = _add_states(tracks[tid], spec["add"], locator)
            else:
                tracks[tid] = spec
        out["tracks"] = tracks
    if "events" in child:
        events = dict(out.get("events", {}))
        for eid, spec in child["events"].items():
            if isinstance(spec, dict) and "add" in spec:
                if not _has_base(events, child["events"], "events", "event", eid, locator,
                                 problems):
                    continue
                spec = {**_add_to_event(events[eid], spec["add"], locator),
                        **{k: v for k, v in spec.items() if k != "add"}}
                locator.note(spec, locator.where(child["events"], eid))
            if eid in events and isinstance(events[eid], dict) and isinstance(spec, dict):
                merged = {**events[eid], **spec}
                locator.note(merged, locator.where(spec))
                for k in spec:
                    locator.note_key(merged, k, locator.where(spec, k))
                for k in events[eid]:
                    if k not in spec:
                        locator.note_key(merged, k, locator.where(events[eid], k))
                events[eid] = merged
            else:
                events[eid] = spec
        out["events"] = events
    for section in LIST_SECTIONS:
        if section not in child:
            continue
        items = list(out.get(section, []))
        index = {iid: i for i, iid in enumerate(_ids(items))}
        own: set[str] = set()
        for pos, item in enumerate(child[section]):
            iid = item.get("id") if isinstance(item, dict) else None
            if isinstance(iid, str):
                if iid in own:
                    problems.append(Problem(locator.where(child[section], pos),
                                            f"{section}: id {iid!r} komt twee keer voor"))
                    continue
                own.add(iid)
            if iid in index:
                items[index[iid]] = item
            else:
                index[str(iid)] = len(items)
                items.append(item)
        out[section] = items
    return out, problems


def _add_states(base: dict[str, Any], add: dict[str, Any], locator: Locator) -> dict[str, Any]:
    """``base`` (a track or a state) with the states of ``add`` merged in: new states are
    added, existing ones get their own ``states`` merged the same way and other keys
    replaced. The base is not changed."""
    out = {**base, **{k: v for k, v in add.items() if k != "states"}}
    for k in add:
        if k != "states":
            locator.note_key(out, k, locator.where(add, k))
    for k in base:
        if k not in add:
            locator.note_key(out, k, locator.where(base, k))
    locator.note(out, locator.where(base))
    states = dict(base.get("states") or {})
    for name, sub in (add.get("states") or {}).items():
        current = states.get(name)
        if isinstance(current, dict) and isinstance(sub, dict):
            states[name] = _add_states(current, sub, locator)
        else:
            states[name] = sub
    out["states"] = states
    base_states = base.get("states") or {}
    added = add.get("states") or {}
    for name in states:
        source = added if name in added else base_states
        locator.note_key(states, name, locator.where(source, name))
    locator.note(states, locator.where(base_states, default=locator.where(added)))
    return out


def _add_to_event(base: dict[str, Any], add: dict[str, Any], locator: Locator) -> dict[str, Any]:
    """``base`` with the lists of ``add`` (``transitions``, ``record``, ``roles``) appended and
    its ``when_in`` merged per track."""
    out = dict(base)
    for key in ("transitions", "record", "roles"):
        if key in add:
            items = [*(base.get(key) or []), *add[key]]
            source = base.get(key) or []
            for i in range(len(items)):
                owner, j = (source, i) if i < len(source) else (add[key], i - len(source))
                locator.note_key(items, i, locator.where(owner, j))
            locator.note(items, locator.where(add[key]))
            out[key] = items
            locator.note_key(out, key, locator.where(add, key))
    if "when_in" in add:
        when_in = dict(base.get("when_in") or {})
        for track, names in add["when_in"].items():
            old = when_in.get(track, [])
            old_list = [old] if isinstance(old, str) else list(old)
            new_list = [names] if isinstance(names, str) else list(names)
            when_in[track] = [*old_list, *(n for n in new_list if n not in old_list)]
            locator.note_key(when_in, track, locator.where(add["when_in"], track))
        out["when_in"] = when_in
        locator.note_key(out, "when_in", locator.where(add, "when_in"))
    for k in base:
        if k not in add:
            locator.note_key(out, k, locator.where(base, k))
    return out
