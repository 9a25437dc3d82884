"""Find, read, validate and merge definition files (``extends``), keeping file positions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from ..errors import DefinitionError, DefinitionNotFoundError, Location, Problem
from ._yaml import Locator, load_yaml
from .bundled import bundled_dir, bundled_ids

LIST_SECTIONS = ("rules", "effects", "deadlines", "invariants")
MAP_SECTIONS = ("types", "params", "roles", "criteria")
MAX_EXTENDS = 16


def resolve_source(ref: str | Path, relative_to: Path | None = None) -> Path:
    """A bundled id (``basis``) or a path; raise :class:`DefinitionNotFoundError`."""
    text = str(ref)
    if isinstance(ref, str) and "/" not in text and "\\" not in text and not text.endswith(
        (".yaml", ".yml")
    ):
        path = bundled_dir() / f"{text}.yaml"
        if path.is_file():
            return path
        known = ", ".join(bundled_ids())
        raise DefinitionNotFoundError(
            [Problem(Location(text), f"onbekende definitie {text!r} (meegeleverd: {known})")]
        )
    path = Path(text)
    if not path.is_absolute() and relative_to is not None:
        candidate = relative_to / path
        if candidate.is_file():
            return candidate
    if path.is_file():
        return path
    raise DefinitionNotFoundError([Problem(Location(text), "bestand niet gevonden")])


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema of the definition format (shipped for editors, used for validation)."""
    text = resources.files("eengezin.definition").joinpath("schema.json").read_text("utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


@attrs.define
class RawDefinition:
    """A merged definition tree plus the positions of its nodes."""

    data: dict[str, Any]
    locator: Locator
    files: list[str]
    main_file: str


def _schema_problems(tree: Any, filename: str, locator: Locator) -> list[Problem]:
    import jsonschema  # loaded on first validation (a cached definition needs none)

    validator = jsonschema.Draft202012Validator(schema())
    problems: list[Problem] = []
    for err in sorted(validator.iter_errors(tree), key=lambda e: list(map(str, e.absolute_path))):
        loc = _locate(tree, list(err.absolute_path), filename, locator)
        problems.append(Problem(loc, _schema_message(err)))
    return problems


def _schema_message(err: Any) -> str:
    where = ".".join(str(p) for p in err.absolute_path) or "(bovenste niveau)"
    if err.validator == "additionalProperties":
        known = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
        instance = err.instance if isinstance(err.instance, dict) else {}
        extra = sorted(set(instance) - set(known))
        return f"{where}: onbekende sleutel(s) {', '.join(map(repr, extra))}"
    if err.validator == "required":
        return f"{where}: {err.message.replace('is a required property', 'is verplicht')}"
    if err.validator == "type":
        return f"{where}: verwacht {err.validator_value}, gevonden {type(err.instance).__name__}"
    if err.validator == "enum":
        return f"{where}: moet een van {err.validator_value} zijn"
    if err.validator == "oneOf" and err.context:
        import jsonschema

        inner = jsonschema.exceptions.best_match(err.context)
        if inner is not None and inner.validator != "type":
            detail = _schema_message(inner)
            return detail if inner.absolute_path else f"{where}: {detail.split(': ', 1)[-1]}"
        return f"{where}: vorm klopt niet (zie docs/definitions.md)"
    return f"{where}: {err.message}"


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


def read_raw(ref: str | Path, *, _chain: tuple[Path, ...] = (), relative_to: Path | None = None
             ) -> RawDefinition:
    """Read ``ref`` and everything it extends into one merged tree."""
    path = resolve_source(ref, relative_to).resolve()
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise DefinitionError([Problem(Location(str(_chain[-1])), f"cyclus in extends: {cycle}")])
    if len(_chain) >= MAX_EXTENDS:
        raise DefinitionError([Problem(Location(str(path)), "extends is te diep genest")])
    filename = str(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([Problem(Location(filename), f"kan bestand niet lezen: {exc}")]) from None
    locator = Locator()
    tree = load_yaml(text, filename, locator)
    if not isinstance(tree, dict):
        raise DefinitionError([Problem(Location(filename, 1, 1), "een definitie is een mapping")])
    problems = _schema_problems(tree, filename, locator)
    if problems:
        raise DefinitionError(problems)
    parent_ref = tree.get("extends")
    if parent_ref is None:
        return RawDefinition(tree, locator, [filename], filename)
    try:
        parent = read_raw(parent_ref, _chain=(*_chain, path), relative_to=path.parent)
    except DefinitionNotFoundError as exc:
        loc = locator.where(tree, "extends")
        raise DefinitionError([Problem(loc, p.message) for p in exc.problems]) from None
    parent.locator.merge(locator)
    # the merged events are noted in the locator that is returned (the parent's, which now
    # holds the child's positions too), so problems in them keep their file:line:col
    merged, problems = _merge(parent.data, tree, parent.locator, filename)
    if problems:
        raise DefinitionError(problems)
    return RawDefinition(merged, parent.locator, [*parent.files, filename], filename)


def _ids(items: list[Any]) -> Iterator[str]:
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            yield item["id"]


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
        out["tracks"] = {**out.get("tracks", {}), **child["tracks"]}
    if "events" in child:
        events = dict(out.get("events", {}))
        for eid, spec in child["events"].items():
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
