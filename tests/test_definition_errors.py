"""Bad definitions give typed errors with file:line:col — all problems, not only the first."""

from __future__ import annotations

from pathlib import Path

import pytest

from eengezin import DefinitionError, DefinitionNotFoundError, load_definition


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    return [str(p) for p in info.value.problems]


MINIMAL = """\
id: mini
version: "1"
tracks:
  regie:
    initial: open
    states:
      open: {}
      dicht: {final: true}
events:
  aanmelden:
    when_in: {regie: open}
  sluiten:
    transitions:
      - {track: regie, from: open, to: dicht}
"""


def test_minimal_standalone_definition_loads(tmp_path):
    d = load_definition(write(tmp_path, "mini.yaml", MINIMAL))
    assert d.id == "mini" and set(d.events) == {"aanmelden", "sluiten"}


def test_yaml_syntax_error_has_position(tmp_path):
    path = write(tmp_path, "bad.yaml", "id: x\nversion: '1'\ntracks: [\n  {a: 1\n")
    (msg,) = problems(path)
    assert msg.startswith(f"{path}:")
    line = int(msg.split(":")[1])
    assert line >= 3 and "YAML-fout" in msg


def test_duplicate_key_is_an_error(tmp_path):
    path = write(tmp_path, "dup.yaml", MINIMAL + "id: nog_een\n")
    (msg,) = problems(path)
    assert "YAML-fout" in msg and "id" in msg


def test_yes_and_no_stay_strings(tmp_path):
    text = MINIMAL.replace("open: {}", "open: {title: no}")
    d = load_definition(write(tmp_path, "yn.yaml", text))
    assert d.tracks["regie"].nodes["open"].title == "no"


def test_schema_violations_are_located(tmp_path):
    text = MINIMAL.replace("  sluiten:\n", "  sluiten:\n    colour: red\n")
    path = write(tmp_path, "schema.yaml", text)
    (msg,) = problems(path)
    assert msg.startswith(f"{path}:12:") and "colour" in msg


def test_unknown_state_unknown_track_unknown_event_all_reported(tmp_path):
    text = MINIMAL + """\
rules:
  - id: mini.een
    severity: block
    on: [sluiten, bestaat_niet]
    require: {in_state: {regie: nergens}}
    message: x
    source: test
  - id: mini.twee
    severity: warn
    on: sluiten
    require: {in_state: {spoor: open}}
    message: x
    source: test
"""
    text = text.replace("to: dicht}", "to: weg}")
    path = write(tmp_path, "ids.yaml", text)
    msgs = problems(path)
    joined = "\n".join(msgs)
    assert "geen staat 'weg'" in joined
    assert "onbekend event 'bestaat_niet'" in joined
    assert "geen staat 'nergens'" in joined
    assert "onbekende track 'spoor'" in joined
    assert len(msgs) == 4
    assert all(m.startswith(str(path) + ":") for m in msgs)
    lines = sorted(int(m.split(":")[1]) for m in msgs)
    assert lines == [14, 18, 19, 25]


def test_unknown_predicate_is_a_load_error(tmp_path):
    text = MINIMAL + """\
rules:
  - id: mini.een
    severity: block
    on: sluiten
    require: {eval: "__import__('os').system('x')"}
    message: x
    source: test
"""
    (msg,) = problems(write(tmp_path, "pred.yaml", text))
    assert ":19:5:" in msg and "onbekend predicaat 'eval'" in msg


def test_fact_that_is_never_recorded(tmp_path):
    text = MINIMAL + """\
rules:
  - id: mini.een
    severity: block
    on: sluiten
    require: {present: facts.plann}
    message: x
    source: test
"""
    (msg,) = problems(write(tmp_path, "fact.yaml", text))
    assert "feit 'plann' wordt nergens vastgelegd" in msg


def test_python_tags_do_not_execute(tmp_path):
    text = MINIMAL.replace("version: \"1\"", "version: !!python/object/apply:os.system ['echo']")
    path = write(tmp_path, "tag.yaml", text)
    try:
        d = load_definition(path)
    except DefinitionError:
        return
    assert not callable(d.version)


def test_extends_cycle(tmp_path):
    write(tmp_path, "a.yaml", "id: a\nversion: '1'\nextends: b.yaml\n")
    b = write(tmp_path, "b.yaml", "id: b\nversion: '1'\nextends: a.yaml\n")
    (msg,) = problems(b)
    assert "cyclus in extends" in msg


def test_extends_unknown_base_is_located(tmp_path):
    path = write(tmp_path, "x.yaml", "id: x\nversion: '1'\nextends: bestaat-niet\n")
    (msg,) = problems(path)
    assert msg.startswith(f"{path}:3:") and "onbekende definitie" in msg


def test_remove_unknown_id(tmp_path):
    path = write(tmp_path, "x.yaml",
                 "id: x\nversion: '1'\nextends: basis\nremove:\n  rules: [geen.regel]\n")
    (msg,) = problems(path)
    assert msg.startswith(f"{path}:5:") and "geen.regel" in msg


def test_extends_override_and_remove(tmp_path):
    path = write(tmp_path, "x.yaml", """\
id: regio
version: "3"
extends: basis
params: {sluitniveau: 8}
remove:
  rules: [voortgang.plan_gedeeld]
rules:
  - id: afronding.opvolger_bekend
    severity: warn
    on: overdragen
    require: {present: data.opvolger}
    message: Noem een opvolger.
    source: regio
events:
  notitie:
    title: Aantekening
""")
    d = load_definition(path)
    rules = {r.id: r for r in d.rules}
    assert "voortgang.plan_gedeeld" not in rules
    assert rules["afronding.opvolger_bekend"].severity == "warn"
    assert d.events["notitie"].title == "Aantekening"
    assert d.events["notitie"].available is not None  # when_in inherited from basis
    assert d.params == {"sluitniveau": 8, "evaluatietermijn_maanden": 3}
    assert (d.id, d.version) == ("regio", "3")
    assert d.hash != load_definition("basis").hash


def test_unknown_bundled_id():
    with pytest.raises(DefinitionNotFoundError, match="basis"):
        load_definition("onbekend")


def test_all_problems_not_only_the_first(tmp_path):
    text = MINIMAL.replace("initial: open", "initial: nergens")
    text += "  derde:\n    payload: {x: onbekend_type}\n    when_in: {regie: open}\n"
    msgs = problems(write(tmp_path, "many.yaml", text))
    assert len(msgs) >= 2


def test_duplicate_rule_id_in_extending_file(tmp_path):
    rule = ("  - id: regio.een\n    severity: warn\n    on: notitie\n    require: {present: data.tekst}\n"
            "    message: x\n    source: test\n")
    path = write(tmp_path, "dup.yaml", "id: x\nversion: '1'\nextends: basis\nrules:\n" + rule + rule)
    (msg,) = problems(path)
    assert "regio.een" in msg and "twee keer" in msg and msg.startswith(f"{path}:11:")


def test_one_transition_per_track_per_event(tmp_path):
    from datetime import datetime

    from eengezin import Engine
    path = write(tmp_path, "ladder.yaml", """\
id: ladder
version: "1"
tracks:
  t:
    initial: a
    states: {a: {}, b: {}, c: {}}
events:
  aanmelden:
    when_in: {t: a}
  omhoog:
    transitions:
      - {track: t, from: a, to: b}
      - {track: t, from: b, to: c}
""")
    eng = Engine(path)
    t = eng.start("T", {}, at=datetime(2026, 1, 1)).traject
    t = eng.fire(t, "omhoog", at=datetime(2026, 1, 2)).traject
    assert t.state["t"] == "b"
    t = eng.fire(t, "omhoog", at=datetime(2026, 1, 3)).traject
    assert t.state["t"] == "c"
