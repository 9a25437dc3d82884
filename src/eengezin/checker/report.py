"""What the checker found, and how it is shown: findings, the result, text and JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal, TextIO

import attrs

from ..traject import Event
from .settings import TODAY

FindingKind = Literal["invariant", "doodlopend", "onbereikbaar", "nooit_mogelijk", "onvolledig",
                      "advies_onmogelijk"]


@attrs.frozen
class Finding:
    """One thing wrong with a definition; ``trace`` is the shortest event sequence showing it.

    ``causes`` names what explains it, where the checker knows: for an event that is never
    accepted, the rules (and other checks, by their code) that refused it in every reachable
    state where it was possible, most frequent first, or ``staat:TRACK`` for each track
    whose required states are never reached. Findings with the same causes share one
    explanation and are shown together.
    """

    kind: FindingKind
    subject: str
    message: str
    trace: tuple[Event, ...] | None = None
    causes: tuple[str, ...] = ()


@attrs.frozen
class CheckResult:
    """What :func:`~eengezin.checker.check_definition` found."""

    definition: str
    version: str
    states: int
    transitions: int
    seconds: float
    findings: tuple[Finding, ...]
    parts: int = 1
    """The parts the space was searched in: one per outcome of the start event
    (:mod:`~eengezin.checker.parts`)."""

    @property
    def sound(self) -> bool:
        """True when there are no findings."""
        return not self.findings

    def groups(self) -> Iterator[tuple[tuple[str, ...], tuple[Finding, ...]]]:
        """The findings in order, those of one kind with the same (non-empty) set of causes
        together: ``(causes, findings)``, causes sorted; a finding without causes stands
        alone."""
        seen: dict[tuple[str, tuple[str, ...]], list[Finding]] = {}
        order: list[tuple[tuple[str, ...], list[Finding]]] = []
        for finding in self.findings:
            if finding.causes:
                causes = tuple(sorted(set(finding.causes)))
                key = (finding.kind, causes)
                if key in seen:
                    seen[key].append(finding)
                    continue
                seen[key] = [finding]
                order.append((causes, seen[key]))
            else:
                order.append(((), [finding]))
        for causes, found in order:
            yield causes, tuple(found)


def format_event(event: Event) -> str:
    """One trace line: the event id and its payload as compact JSON (and its day, once the
    checker let time pass)."""
    data = json.dumps(dict(event.data), ensure_ascii=False, sort_keys=True, default=str)
    role = f" (rol {event.actor.role})" if event.actor is not None and event.actor.role else ""
    day = f" [op {event.at.date().isoformat()}]" if event.at.date() != TODAY else ""
    return f"{event.name}{role}{day} {data}" if event.data else f"{event.name}{role}{day}"


def write_report(result: CheckResult, out: TextIO) -> None:
    """Write ``result`` for a definition author (Dutch, one block per finding, findings with
    one cause in one block)."""
    parts = f" in {result.parts} delen" if result.parts > 1 else ""
    out.write(f"{result.definition} v{result.version}: {result.states} abstracte toestanden "
              f"verkend{parts}, {result.transitions} overgangen ({result.seconds:.2f} s)\n")
    if result.sound:
        out.write("geen bevindingen\n")
        return
    for causes, group in result.groups():
        if len(group) > 1:
            subjects = ", ".join(f.subject for f in group)
            out.write(f"\n[{group[0].kind}] {subjects}: één oorzaak ({', '.join(causes)})\n")
            for finding in group:
                out.write(f"  - {finding.subject}: {finding.message}\n")
            continue
        finding = group[0]
        out.write(f"\n[{finding.kind}] {finding.subject}: {finding.message}\n")
        if finding.trace is not None:
            out.write(f"  kortste spoor ({len(finding.trace)} events):\n")
            for i, event in enumerate(finding.trace, start=1):
                out.write(f"  {i:3}. {format_event(event)}\n")
    out.write(f"\n{len(result.findings)} bevinding(en)\n")


def result_json(result: CheckResult) -> dict[str, Any]:
    """``result`` as JSON data (``eengezin check --json``), traces included.

    >>> from eengezin.checker import check_definition
    >>> data = result_json(check_definition("basis"))
    >>> data["sound"], data["findings"], data["states"] > 100
    (True, [], True)
    """
    def event_json(event: Event) -> dict[str, Any]:
        actor = event.actor
        return {
            "event": event.name,
            "at": event.at.isoformat(),
            "data": json.loads(json.dumps(dict(event.data), default=str)),
            "actor": None if actor is None else {"id": actor.id, "role": actor.role},
        }

    return {
        "definition": {"id": result.definition, "version": result.version},
        "sound": result.sound,
        "states": result.states,
        "parts": result.parts,
        "transitions": result.transitions,
        "seconds": round(result.seconds, 3),
        "findings": [
            {"kind": f.kind, "subject": f.subject, "message": f.message,
             "causes": list(f.causes),
             "trace": None if f.trace is None else [event_json(e) for e in f.trace]}
            for f in result.findings
        ],
    }
