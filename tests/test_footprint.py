"""Predicates declare what they read; compiled conditions carry it; the checker reads only
the compiled model."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from eengezin import load_definition
from eengezin.checker import check_definition
from eengezin.rules import Condition, Declared, PredicateRegistry, Reads, compile_condition
from eengezin.rules.predicates import BUILTINS

from conftest import is_deep

# One example per built-in predicate. A new built-in must get an example here, and must
# declare what it reads (return Declared): the checker relies on it.
EXAMPLES: dict[str, Any] = {
    "in_state": {"regie": "afronding"},
    "present": ["data.plan", "facts.plan.doelen[].wie"],
    "is_true": "data.vervolg",
    "equals": {"path": "data.onderwerp", "value": "overleg"},
    "one_of": {"path": "actor.role", "values": ["a", "b"]},
    "contains": {"path": "facts.signalen", "other": "data.id"},
    "count": {"path": "facts.signalen", "min": 1},
    "compare": {"path": "facts.schaal", "op": ">=", "value": 10},
    "every": {"path": "facts.leden", "require": {"present": "item.naam"}},
    "some": {"path": "facts.leden", "require": {"present": "item.naam"}},
    "actor_role": ["regisseur"],
    "event_seen": "signaal_melden",
    "deadline_open": "t.termijn",
    "deadline_overdue": "t.termijn",
    "age_between": {"birth": "facts.kind.geboortedatum", "min": 12},
    "find": {"path": "facts.leden", "key": "id", "other": "data.over",
             "require": {"age_between": {"birth": "item.geboortedatum", "max": 12}}},
    "all_in": {"path": "data.met", "other": "facts.toestemmingen[].met",
               "also": ["facts.huishouden.leden[].id"]},
    "count_where": {"path": "facts.betrokkenen", "min": 3,
                    "where": {"equals": {"path": "item.soort", "value": "formeel"}}},
}


class Env:
    """A compile environment that accepts every state, deadline and event."""

    def __init__(self, registry: PredicateRegistry) -> None:
        self.registry = registry

    def check_state(self, track: str, state: str) -> None:
        pass

    def leaves_under(self, track: str, state: str) -> frozenset[str]:
        return frozenset({state})

    def compile_condition(self, spec: Any) -> Condition:
        return compile_condition(spec, self.registry, self)

    def check_deadline(self, deadline_id: str) -> None:
        pass

    def check_event(self, event_id: str) -> None:
        pass

    def note_path(self, path: str) -> None:
        pass


def compiled(spec: Any, registry: PredicateRegistry | None = None) -> Condition:
    registry = registry or PredicateRegistry.with_builtins()
    return compile_condition(spec, registry, Env(registry))


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_declares_what_it_reads(name: str) -> None:
    assert name in EXAMPLES, f"built-in {name!r} has no example here: add one"
    made = BUILTINS[name](EXAMPLES[name], Env(PredicateRegistry.with_builtins()))
    assert isinstance(made, Declared), f"built-in {name!r} does not declare what it reads"
    assert not made.reads.opaque
    assert made.reads != Reads(), f"built-in {name!r} declares that it reads nothing"


def test_quantifiers_resolve_item_to_the_collection() -> None:
    reads = compiled({"find": EXAMPLES["find"]}).reads
    assert reads.paths == {"facts.leden", "data.over", "facts.leden[].id",
                           "facts.leden[].geboortedatum"}
    # the key of each element is what is compared with the other path
    assert reads.compared == (("facts.leden[].id", "data.over"),)
    assert reads.clock
    nested = compiled({"every": {"path": "facts.plan.doelen", "require": {
        "every": {"path": "item.acties", "require": {"present": "item.wie"}}}}})
    assert "facts.plan.doelen[].acties[].wie" in nested.reads.paths


def test_literals_bounds_deadlines_and_states_are_declared() -> None:
    assert compiled({"equals": EXAMPLES["equals"]}).reads.literals == (
        ("data.onderwerp", "overleg"),)
    assert compiled({"count": EXAMPLES["count"]}).reads.bounds == (("facts.signalen", 1),)
    overdue = compiled({"deadline_overdue": "t.termijn"}).reads
    assert overdue.deadlines == overdue.overdue == {"t.termijn"} and overdue.clock
    assert compiled({"in_state": {"regie": "afronding"}}).reads.states == (
        ("regie", frozenset({"afronding"})),)


def test_a_condition_keeps_its_tree_with_polarities() -> None:
    cond = compiled({"all": [{"present": "facts.plan"},
                             {"not": {"event_seen": "afsluiten"}}]})
    assert cond.op == "all" and len(cond.parts) == 2
    assert [(u.op, sign) for u, sign in cond.units()] == [("present", 1), ("event_seen", -1)]
    assert cond.reads.paths == {"facts.plan"} and cond.reads.seen == {"afsluiten"}


def test_a_predicate_that_declares_nothing_is_opaque() -> None:
    registry = PredicateRegistry.with_builtins()
    registry.add_factory("bare", lambda params, env: (lambda ctx: True))

    @registry.register("host")
    def host(ctx: Any, params: Any) -> bool:
        return True

    assert compiled("bare", registry).reads.opaque
    host_reads = compiled({"host": {"wijk": "facts.wijk"}}, registry).reads
    assert host_reads.opaque and host_reads.paths == {"facts.wijk"}


def test_the_compiled_definition_carries_the_conditions() -> None:
    basis = load_definition("basis")
    rules = [r for r in basis.rules if r.require_condition is not None]
    assert len(rules) == len(basis.rules)
    for rule in rules:
        assert rule.require_condition is not None
        assert rule.require == rule.require_condition.check
    assert all((inv.always is None) == inv.reachable_final for inv in basis.invariants)


@pytest.mark.parametrize("def_id", ["basis", "hollands-midden"] if is_deep() else ["basis", "cjg"])
def test_the_checker_never_reads_the_raw_definition(def_id: str) -> None:
    definition = load_definition(def_id)
    expected = check_definition(definition)
    # without the YAML tree, on the definition and on its invariants
    blind = attrs.evolve(definition, raw={}, invariants=tuple(
        attrs.evolve(inv, raw=None) for inv in definition.invariants))
    result = check_definition(blind)
    assert (result.states, result.transitions, result.findings) == (
        expected.states, expected.transitions, expected.findings)
