"""``eengezin list``, ``validate``, ``diagram`` and ``run`` (in memory, or ``--store``)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from ..definition.bundled import bundled_dir, bundled_ids, quick_header
from ..definition.cache import header
from .base import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    from ..process.model import Definition


def _header(ref: str) -> tuple[str, str, str]:
    from ..definition import definition_header

    return definition_header(ref)


def _dump(value: Any, out: TextIO, pretty: bool) -> None:
    if pretty:
        out.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")


def _load(ref: str) -> Definition:
    from ..definition import load_definition

    return load_definition(ref)



def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    rows = []
    for ref in bundled_ids():
        # from the disk cache when the files did not change: no YAML parsing at all
        path = bundled_dir() / f"{ref}.yaml"
        rows.append(header(path) or quick_header(path) or _header(ref))
    if args.json:
        _dump([{"id": i, "version": v, "title": t} for i, v, t in rows], out, args.pretty)
        return EXIT_OK
    width = max((len(r[0]) for r in rows), default=2)
    for ident, version, title in rows:
        out.write(f"{ident:<{width}}  v{version:<4} {title}\n")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    from ..errors import DefinitionError

    try:
        d = _load(args.definition)
    except DefinitionError as exc:
        for problem in exc.problems:
            out.write(f"{problem}\n")
        return EXIT_FINDINGS
    out.write(
        f"{d.source}: ok — {d.id} v{d.version}: {len(d.tracks)} tracks, {len(d.events)} events, "
        f"{len(d.rules)} regels, {len(d.effects)} effecten, {len(d.deadlines)} termijnen\n"
    )
    return EXIT_OK


def cmd_diagram(args: argparse.Namespace, out: TextIO) -> int:
    from ..process.diagram import to_dot, to_mermaid

    d = _load(args.definition)
    out.write(to_mermaid(d) if args.format == "mermaid" else to_dot(d))
    return EXIT_OK


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    if args.store:
        from .store import cmd_run_stored

        return cmd_run_stored(args, out)
    from ..process import new_traject
    from .common import (
        decide,
        definition_json,
        dump_json,
        final_json,
        parse_moment,
        print_step_text,
        read_events,
        step_json,
        to_event,
    )

    definition = _load(args.definition)
    start = parse_moment(args.at_start, "--at-start") if args.at_start else datetime.now(UTC)
    scenario = read_events(args.events)
    traject = new_traject(definition, args.traject or "scenario")
    at = start
    steps: list[dict[str, Any]] = []
    if not args.json:
        out.write(f"{definition.id} v{definition.version} — {definition.title}\n")
    for number, obj in scenario:
        if "at" in obj:
            at = parse_moment(obj["at"], f"{args.events}:{number}")
        verdict, traject = decide(definition, traject, to_event(obj, at))
        steps.append(step_json(number, obj["event"], verdict, traject))
        if not args.json:
            print_step_text(out, number, obj["event"], verdict, traject, definition)
    final = final_json(definition, traject, at)
    if args.json:
        result = {
            "definition": definition_json(definition),
            "steps": steps,
            "final": final,
        }
        dump_json(result, out, pretty=args.pretty)
    else:
        accepted = sum(1 for s in steps if s["accepted"])
        out.write(f"\n{accepted} van {len(steps)} events geaccepteerd; eindstaat: "
                  + ", ".join(f"{k}={v}" for k, v in final["state"].items())
                  + f"; open signalen: {final['open_signals']}\n")
        for d in final["deadlines"]:
            out.write(f"termijn {d['id']}: uiterlijk {d['due']}"
                      + (" — VERLOPEN" if d["overdue"] else "") + "\n")
    return EXIT_OK


