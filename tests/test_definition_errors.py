"""Bad definitions give typed errors with file:line:col — all problems, not only the first."""

from __future__ import annotations

from pathlib import Path

import pytest

from eengezin import DefinitionError, DefinitionNotFoundError, load_definition

from conftest import AMS


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
    # located at the unknown key itself, listing the keys that are allowed there
    assert msg.startswith(f"{path}:13:5:") and "'colour'" in msg and "toegestaan: " in msg
    assert "transitions" in msg and "when_in" in msg


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
    assert d.params == {"sluitniveau": 8}
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
    t = eng.start("T", {}, at=datetime(2026, 1, 1, tzinfo=AMS)).traject
    t = eng.fire(t, "omhoog", at=datetime(2026, 1, 2, tzinfo=AMS)).traject
    assert t.state["t"] == "b"
    t = eng.fire(t, "omhoog", at=datetime(2026, 1, 3, tzinfo=AMS)).traject
    assert t.state["t"] == "c"


# ------------------------------------------------------------------ authoring diagnostics


def located(path: Path) -> list[tuple[int, int, str]]:
    """(line, col, message) per problem, in the order reported."""
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    out = []
    for p in info.value.problems:
        assert p.location.file == str(path.resolve()) or p.location.file == str(path)
        assert p.location.line > 0 and p.location.col > 0, str(p)
        out.append((p.location.line, p.location.col, p.message))
    return out


@pytest.mark.parametrize(("text", "words"), [
    ("id: x\nversion: '1'\ntracks:\n  regie:\n    initial: a\n   states: {}\n", "inspringing"),
    ("id: x\nversion: '1'\ntracks:\n  - a\n b: 1\n", "inspringing"),
    ("id: x\nversion: '1'\ntitle: a: b\n", "dubbele punt"),
    ("id: x\nversion: '1'\ntitle: 'niet dicht\n", "aanhalingsteken"),
    ("id: x\nversion: '1'\ntracks:\n\tregie: {}\n", "tabs"),
    ("id: x\nversion: '1'\ntracks: [a, b\n", "lijst"),
    ("id: x\nversion: '1'\ntitle: @x\n", "aanhalingstekens"),
])
def test_yaml_syntax_errors_are_plain_dutch(tmp_path, text, words):
    ((line, _col, message),) = located(write(tmp_path, "syntax.yaml", text))
    assert message.startswith("YAML-fout: ") and words in message
    assert line >= 3
    for jargon in ("mapping", "scanning", "token", "block", "expected"):
        assert jargon not in message


def test_unknown_keys_list_the_allowed_ones_and_suggest_a_near_match(tmp_path):
    text = MINIMAL.replace("      - {track: regie, from: open, to: dicht}",
                           "      - {track: regie, from: open, too: dicht}")
    found = located(write(tmp_path, "keys.yaml", text))
    assert any("transitions[#1]: 'to' is verplicht" in m for _l, _c, m in found)
    ((line, col, message),) = [f for f in found if "onbekende sleutel" in f[2]]
    assert (line, col) == (14, 36)
    assert "onbekende sleutel 'too'" in message and "bedoelde u 'to'?" in message
    assert "toegestaan: " in message and "from" in message and "track" in message


def test_unknown_ids_get_a_near_match_suggestion(tmp_path):
    text = MINIMAL + """\
rules:
  - id: mini.een
    severity: block
    on: [sluitn]
    require: {in_state: {regie: opne}}
    message: m
    source: s
"""
    messages = [m for _l, _c, m in located(write(tmp_path, "near.yaml", text))]
    assert any("onbekend event 'sluitn' (bedoelde u 'sluiten'?)" in m for m in messages)
    assert any("'opne'" in m and "bedoelde u 'open'?" in m for m in messages)


def test_positions_name_items_by_id(tmp_path):
    text = MINIMAL + """\
deadlines:
  - id: mini.termijn
    start: {on: aanmelden}
    term: {maanden: 3}
    satisfied_by: sluiten
    message: m
    source: s
"""
    ((line, _col, message),) = located(write(tmp_path, "ids.yaml", text))
    assert line == 18
    assert message.startswith("deadlines[mini.termijn].term")
    assert "deadlines.0" not in message


def test_format_and_consistency_problems_come_in_one_pass_sorted(tmp_path):
    text = MINIMAL.replace("      - {track: regie, from: open, to: dicht}",
                           "      - {track: regie, from: open, to: nergens}")
    text = text.replace("  aanmelden:\n", "  aanmelden:\n    titel: Aanmelden\n")
    text += """\
rules:
  - id: mini.regel
    severity: block
    on: sluiten
    require: {in_state: {regie: weg}}
    message: m
    source: s
  - id: mini.kapot
    severity: heel_erg
    on: sluiten
    require: {in_state: {regie: open}}
    message: m
    source: s
"""
    found = located(write(tmp_path, "pass.yaml", text))
    messages = [m for _l, _c, m in found]
    assert any("'titel'" in m and "bedoelde u 'title'?" in m for m in messages)  # format
    assert any("rules[mini.kapot].severity" in m for m in messages)  # format, by id
    assert any("'nergens'" in m for m in messages)  # consistency
    assert any("'weg'" in m for m in messages)  # consistency
    assert [(line, col) for line, col, _m in found] == sorted(
        (line, col) for line, col, _m in found)


def test_a_rule_reading_an_undeclared_data_field_is_an_error(tmp_path):
    text = MINIMAL.replace("  sluiten:\n", "  sluiten:\n    payload:\n      huisbezoek_datum?: date\n")
    text += """\
rules:
  - id: mini.huisbezoek
    severity: block
    on: sluiten
    require: {present: data.huisbezoek_datun}
    message: m
    source: s
"""
    ((line, _col, message),) = located(write(tmp_path, "data.yaml", text))
    assert line == 21
    assert "data.huisbezoek_datun" in message and "'sluiten'" in message
    assert "bedoelde u 'huisbezoek_datum'?" in message
    fixed = text.replace("huisbezoek_datun", "huisbezoek_datum")
    assert load_definition(write(tmp_path, "ok.yaml", fixed)).id == "mini"


def test_a_field_one_of_several_events_declares_may_be_read(tmp_path):
    text = MINIMAL.replace("  sluiten:\n", "  sluiten:\n    payload:\n      reden?: text\n")
    text += """\
rules:
  - id: mini.reden
    severity: warn
    on: [aanmelden, sluiten]
    if: {present: data.reden}
    require: {present: data.reden}
    message: m
    source: s
"""
    assert load_definition(write(tmp_path, "ok.yaml", text)).id == "mini"


def test_extends_adds_states_and_transitions_without_copying(tmp_path):
    path = write(tmp_path, "regio.yaml", """\
id: regio
version: "1"
extends: basis
tracks:
  regie:
    add:
      states:
        wachtlijst: {title: Op de wachtlijst}
        startoverleg:
          states:
            extra_check: {title: "Fase 3c: extra check"}
events:
  op_wachtlijst:
    title: Op de wachtlijst zetten
    transitions:
      - {track: regie, from: vraagverheldering, to: wachtlijst}
  vraag_verhelderen:
    add:
      transitions:
        - {track: regie, from: wachtlijst, to: vraagverheldering}
""")
    regio = load_definition(path)
    basis = load_definition("basis")
    regie = regio.tracks["regie"]
    assert {"wachtlijst", "startoverleg.extra_check"} <= set(regie.nodes)
    assert set(basis.tracks["regie"].nodes) < set(regie.nodes)
    assert regie.initial == basis.tracks["regie"].initial
    assert regie.nodes["startoverleg"].initial_leaf == basis.tracks["regie"].nodes[
        "startoverleg"].initial_leaf
    sources = [t.sources for t in regio.events["vraag_verhelderen"].transitions]
    assert len(sources) == len(basis.events["vraag_verhelderen"].transitions) + 1
    assert frozenset({"wachtlijst"}) in sources


def test_extends_add_to_something_the_base_lacks_is_located(tmp_path):
    path = write(tmp_path, "regio.yaml", """\
id: regio
version: "1"
extends: basis
tracks:
  regi:
    add:
      states: {x: {}}
events:
  vraag_verheldern:
    add:
      transitions: []
""")
    found = located(path)
    assert [(line, m.split(":")[0]) for line, _c, m in found] == [
        (5, "tracks.regi"), (9, "events.vraag_verheldern")]
    assert "bedoelde u 'regie'?" in found[0][2]
    assert "bedoelde u 'vraag_verhelderen'?" in found[1][2]
