"""The ``eengezin`` command line: list, validate, diagram, run (and more, registered below).

Contract: ../shared/PROCESS.md §6.1. User errors print a message (never a
traceback) and exit 2; ``validate`` exits 1 with ``file:line:col: message`` lines.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import structlog

from . import checker
from .definition import bundled_ids, load_definition
from .engine import deadline_statuses
from .errors import DefinitionError, EengezinError, UnknownEventError
from .process import new_traject, step
from .process.diagram import to_dot, to_mermaid
from .process.model import Definition
from .rules.verdict import Verdict, Violation
from .store import cli as store_cli
from .traject import Actor, Event, Traject

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
UNKNOWN_EVENT = "event.onbekend"
LINE_KEYS = frozenset({"event", "at", "actor", "data"})


class UsageError(EengezinError):
    """Bad input to the command line (exit 2)."""


# ------------------------------------------------------------------ scenario lines


def parse_moment(text: str, what: str) -> datetime:
    """An ISO-8601 date or date-time; a naive value is taken as given (local time)."""
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise UsageError(f"{what}: geen geldig ISO-8601 tijdstip: {text!r}") from None


def read_scenario(lines: Iterator[str], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, parsed object) per non-blank JSONL line; UsageError names the line."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{name}:{number}"
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            raise UsageError(f"{where}: ongeldige JSON: {exc.args[0]}") from None
        if not isinstance(obj, dict):
            raise UsageError(f"{where}: elke regel is een JSON-object")
        unknown = set(obj) - LINE_KEYS
        if unknown:
            raise UsageError(f"{where}: onbekende sleutel(s): {', '.join(sorted(unknown))}")
        if not isinstance(obj.get("event"), str) or not obj["event"]:
            raise UsageError(f"{where}: 'event' (tekst) ontbreekt")
        if "at" in obj and not isinstance(obj["at"], str):
            raise UsageError(f"{where}: 'at' moet een ISO-8601 tekst zijn")
        if "at" in obj:
            parse_moment(obj["at"], where)
        actor = obj.get("actor")
        if actor is not None and (
            not isinstance(actor, dict)
            or not isinstance(actor.get("id"), str)
            or not isinstance(actor.get("role", ""), str | type(None))
            or set(actor) - {"id", "role"}
        ):
            raise UsageError(f"{where}: 'actor' moet {{\"id\": tekst, \"role\": tekst}} zijn")
        if "data" in obj and not isinstance(obj["data"], dict):
            raise UsageError(f"{where}: 'data' moet een JSON-object zijn")
        yield number, obj


def to_event(obj: dict[str, Any], at: datetime) -> Event:
    actor = obj.get("actor")
    return Event(
        name=obj["event"],
        at=at,
        data=obj.get("data", {}),
        actor=Actor(actor["id"], actor.get("role")) if actor else None,
    )


def violation_json(v: Violation) -> dict[str, Any]:
    return {"rule": v.rule, "severity": v.severity, "message": v.message, "source": v.source,
            "next": list(v.next)}


def step_json(line: int, event: str, verdict: Verdict, traject: Traject) -> dict[str, Any]:
    """One entry of ``steps`` in the ``run --json`` output."""
    return {
        "line": line,
        "event": event,
        "accepted": verdict.accepted,
        "violations": [violation_json(v) for v in verdict.violations],
        "state": dict(traject.state),
    }


def definition_json(definition: Definition) -> dict[str, str]:
    return {"id": definition.id, "version": definition.version, "hash": definition.hash}


def decide(definition: Definition, traject: Traject, event: Event) -> tuple[Verdict, Traject]:
    """Step, but turn an unknown event into a refused verdict (the run goes on)."""
    try:
        out = step(definition, traject, event)
    except UnknownEventError:
        return Verdict((Violation(UNKNOWN_EVENT, "block",
                                  f"onbekend event {event.name!r} in definitie {definition.id!r}"),)
                       ), traject
    return out.verdict, out.traject


def final_json(definition: Definition, traject: Traject, at: datetime) -> dict[str, Any]:
    signalen = traject.facts.get("signalen")
    return {
        "state": dict(traject.state),
        "open_signals": len(signalen) if isinstance(signalen, dict) else 0,
        "deadlines": [
            {"id": d.id, "due": d.due.isoformat(), "overdue": d.overdue}
            for d in deadline_statuses(definition, traject.deadlines.values(), at)
        ],
    }


def print_step_text(out: TextIO, number: int, event: str, verdict: Verdict, traject: Traject,
                    definition: Definition | None = None) -> None:
    mark = "ok       " if verdict.accepted else "geweigerd"
    state = "  ".join(f"{k}={v}" for k, v in traject.state.items())
    out.write(f"{number:>4}  {mark}  {event:<28} {state}\n")
    for v in verdict.violations:
        label = "blokkeert" if v.severity == "block" else "let op"
        out.write(f"            {label}: [{v.rule}] {v.message}\n")
        if v.next:
            titles = [definition.events[n].title if definition is not None
                      and n in definition.events else n for n in v.next]
            out.write("            volgende stap: " + "; ".join(f"'{t}'" for t in titles) + "\n")


# ------------------------------------------------------------------ commands


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    rows = []
    for ref in bundled_ids():
        d = load_definition(ref)
        rows.append((d.id, d.version, d.title))
    if args.json:
        out.write(json.dumps([{"id": i, "version": v, "title": t} for i, v, t in rows],
                             ensure_ascii=False) + "\n")
        return EXIT_OK
    width = max((len(r[0]) for r in rows), default=2)
    for ident, version, title in rows:
        out.write(f"{ident:<{width}}  v{version:<4} {title}\n")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    try:
        d = load_definition(args.definition)
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
    d = load_definition(args.definition)
    out.write(to_mermaid(d) if args.format == "mermaid" else to_dot(d))
    return EXIT_OK


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    if args.store:
        return store_cli.cmd_run_stored(args, out)
    definition = load_definition(args.definition)
    start = parse_moment(args.at_start, "--at-start") if args.at_start else datetime.now(UTC)
    path = Path(args.events)
    try:
        handle = sys.stdin if args.events == "-" else path.open(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{args.events}: kan niet lezen: {exc.strerror}") from None
    with handle:
        scenario = list(read_scenario(iter(handle), args.events))
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
        out.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        accepted = sum(1 for s in steps if s["accepted"])
        out.write(f"\n{accepted} van {len(steps)} events geaccepteerd; eindstaat: "
                  + ", ".join(f"{k}={v}" for k, v in final["state"].items())
                  + f"; open signalen: {final['open_signals']}\n")
        for d in final["deadlines"]:
            out.write(f"termijn {d['id']}: uiterlijk {d['due']}"
                      + (" — VERLOPEN" if d["overdue"] else "") + "\n")
    return EXIT_OK


# ------------------------------------------------------------------ parser

Handler = Callable[[argparse.Namespace, TextIO], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eengezin",
        description="Workflow-engine voor 1Gezin1Plan1Regisseur: definities controleren, "
                    "tekenen en scenario's afspelen.",
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log elke beslissing (structlog) naar stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="meegeleverde definities: id, versie, titel")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("validate", help="controleer een definitie (exit 1 met file:line:col)")
    p.add_argument("definition", metavar="DEF", help="meegeleverd id of pad naar YAML")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("diagram", help="toestandsdiagram als Mermaid of DOT")
    p.add_argument("definition", metavar="DEF")
    p.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    p.set_defaults(handler=cmd_diagram)

    p = sub.add_parser("run", help="speel een scenario (JSONL) af")
    p.add_argument("definition", metavar="DEF")
    p.add_argument("--events", required=True, metavar="FILE.jsonl", help="'-' leest stdin")
    p.add_argument("--at-start", metavar="ISO", help="tijdstip voor regels zonder 'at'")
    p.add_argument("--traject", metavar="ID", help="traject-id")
    p.add_argument("--json", action="store_true", help="één JSON-object op stdout")
    store_cli.add_store_option(p, required=False)
    p.set_defaults(handler=cmd_run)

    # -- more commands register here (keep one line per module) --
    store_cli.register(sub)
    checker.register(sub)
    return parser


def _configure_logging(verbose: bool) -> None:
    level = logging.INFO if verbose else logging.WARNING
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def entry() -> int:
    """Console-script entry: configures logging for this process, then runs :func:`main`."""
    argv = sys.argv[1:]
    _configure_logging("-v" in argv or "--verbose" in argv)
    return main(argv)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the ``eengezin`` command in-process; returns the exit code.

    Logging is left as the caller configured it (:func:`entry` sets it up for the console).
    """
    stdout = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args, stdout)
    except DefinitionError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"{problem}\n")
        return EXIT_USAGE
    except EengezinError as exc:
        sys.stderr.write(f"eengezin: {exc}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
