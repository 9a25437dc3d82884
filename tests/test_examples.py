"""The worked household cases in examples/: each runs through ``eengezin run`` to ``gesloten``
with exactly the refusals and the key warnings docs/regions.md shows."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from eengezin.cli import main

EXAMPLES = Path(__file__).parents[1] / "examples"

# file -> (definition, {line: blocking rules}, {line: warnings that must be shown})
CASES: dict[str, tuple[str, dict[int, set[str]], dict[int, set[str]]]] = {
    "basis-onveiligheid.jsonl": ("basis", {
        5: {"veiligheid.altijd_regie_bij_onveiligheid"},
        14: {"veiligheid.veiligheidsplan_eerst"},
        27: {"veiligheid.niet_afsluiten_bij_signalen"},
    }, {}),
    "hollands-midden-veiligheidsschaal.jsonl": ("hollands-midden", {
        5: {"veiligheid.altijd_regie_bij_onveiligheid", "hm.regie_verplicht"},
        21: {"toestemming.delen_gedekt"},
        32: {"hm.veiligheidsschaal_afsluiten"},
    }, {15: {"meldcode.kindcheck"}, 31: {"hm.veiligheidsschaal_afsluiten"}}),
    "zuid-limburg-stagnatie.jsonl": ("zuid-limburg", {
        15: {"zl.toestemming_leeftijd"},
        20: {"zl.stagnatie_betrokkene_bekend"},
    }, {27: {"zl.afspraken_bespreken"}}),
    "cjg-meldcode.jsonl": ("cjg", {
        8: {"cjg.coordinator_met_gezin"},
        13: {"meldcode.melden"},
    }, {}),
}


def run_json(definition: str, name: str) -> dict[str, Any]:
    out = io.StringIO()
    assert main(["run", definition, "--events", str(EXAMPLES / name), "--json"], out=out) == 0
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def test_every_example_is_covered() -> None:
    assert {p.name for p in EXAMPLES.glob("*.jsonl")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_reaches_gesloten_with_the_documented_verdicts(name: str) -> None:
    definition, refused, warned = CASES[name]
    result = run_json(definition, name)
    steps = {s["line"]: s for s in result["steps"]}
    got = {line: {v["rule"] for v in s["violations"] if v["severity"] == "block"}
           for line, s in steps.items() if not s["accepted"]}
    assert got == refused
    for line, rules in warned.items():
        assert rules <= {v["rule"] for v in steps[line]["violations"] if v["severity"] == "warn"}
    assert result["final"]["state"]["regie"] == "gesloten"
    assert result["final"]["open_signals"] == 0
    # every refusal that asks for an action offers it as a next step
    for line in refused:
        for v in steps[line]["violations"]:
            assert isinstance(v["next"], list)
