"""PROCESS.md 7.8: the words professionals read.

Dutch messages never show a raw id: an event, role, field or fact id appears as its title or in
words. A raw id is recognised by its form (``snake_case``) or as a declared event id quoted
or in brackets.
"""

from __future__ import annotations

import re

import pytest

from eengezin import bundled_ids, load_definition
from eengezin.process.model import Definition

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def messages(definition: Definition) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for rule in definition.rules:
        out.append((rule.id, rule.message))
    for deadline in definition.deadlines.values():
        out.append((deadline.id, deadline.violation.message))
    for spec in definition.events.values():
        out.append((f"event {spec.id}: title", spec.title))
        if spec.role_violation is not None:
            out.append((spec.role_violation.rule, spec.role_violation.message))
    for inv in definition.invariants:
        out.append((inv.id, inv.message))
    return out


@pytest.mark.parametrize("def_id", sorted(bundled_ids()))
def test_no_message_names_a_raw_id(def_id: str) -> None:
    definition = load_definition(def_id)
    events = set(definition.events)
    problems = []
    for owner, text in messages(definition):
        found = SNAKE.findall(text)
        found += [e for e in events
                  if re.search(rf"[('\"]{re.escape(e)}[)'\"]", text)]
        if found:
            problems.append(f"{owner}: {sorted(set(found))}")
    assert problems == []


def test_the_scan_catches_a_raw_id() -> None:
    assert SNAKE.findall("leg vast (regisseur_wijzigen)") == ["regisseur_wijzigen"]
    assert SNAKE.findall("Leg de regisseur vast.") == []


@pytest.mark.parametrize("def_id", sorted(bundled_ids()))
def test_recording_a_signal_is_vastleggen_not_melden(def_id: str) -> None:
    title = load_definition(def_id).events["signaal_melden"].title.lower()
    assert "vastleggen" in title and "melden" not in title
