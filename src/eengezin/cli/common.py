"""What the ``eengezin`` commands share: scenario lines, moments, JSON output, exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from .. import jsonio
from ..errors import InputError, UnknownEventError
from ..process import step
from ..process.model import DEFAULT_TIMEZONE, Definition
from ..process.status import deadline_statuses
from ..rules.verdict import Verdict, Violation
from ..traject import Actor, Event, Traject
from .base import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError

__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "UsageError", "decide", "definition_json",
           "dump_json", "final_json", "parse_moment", "print_step_text", "read_events",
           "read_scenario", "step_json", "to_event", "violation_json"]

UNKNOWN_EVENT = "event.onbekend"
LINE_KEYS = frozenset({"event", "at", "actor", "data"})


# ------------------------------------------------------------------ scenario lines


def parse_moment(text: str, what: str) -> datetime:
    """An ISO-8601 date or date-time; a value without an offset is Dutch local time
    (Europe/Amsterdam)."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise UsageError(f"{what}: geen geldig ISO-8601 tijdstip") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(DEFAULT_TIMEZONE))
    return moment


def dump_json(value: Any, out: TextIO, *, pretty: bool = False) -> None:
    """Write one JSON document: compact (the fast encoder) unless ``pretty``."""
    if pretty:
        out.write(json.dumps(value, ensure_ascii=False, indent=2, allow_nan=False, default=str) + "\n")
    else:
        out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                             default=str) + "\n")


def read_events(path_text: str) -> list[tuple[int, dict[str, Any]]]:
    """The scenario lines of a JSONL file (or ``-`` for stdin)."""
    if path_text == "-":
        return list(read_scenario(iter(sys.stdin.buffer), "-"))
    try:
        with Path(path_text).open("rb") as handle:
            return list(read_scenario(iter(handle), path_text))
    except OSError as exc:
        raise UsageError(f"{path_text}: kan niet lezen: {exc.strerror}") from None


def read_scenario(lines: Iterator[str | bytes], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, parsed object) per non-blank JSONL line; UsageError names the line."""
    for number, raw in enumerate(lines, start=1):
        where = f"{name}:{number}"
        try:
            text = jsonio.decode_line(raw) if isinstance(raw, bytes) else raw
            if not text.strip():
                continue
            obj = jsonio.loads(text)
        except InputError as exc:
            raise UsageError(f"{where}: {exc}") from None
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


def violation_json(v: Violation) -> dict[str, str]:
    return {"rule": v.rule, "severity": v.severity, "message": v.message, "source": v.source}


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


def print_step_text(out: TextIO, number: int, event: str, verdict: Verdict, traject: Traject) -> None:
    mark = "ok " if verdict.accepted else "NEE"
    state = "  ".join(f"{k}={v}" for k, v in traject.state.items())
    out.write(f"{number:>4}  {mark}  {event:<28} {state}\n")
    for v in verdict.violations:
        label = "blokkeert" if v.severity == "block" else "let op"
        out.write(f"            {label}: [{v.rule}] {v.message}\n")


