"""Hostile input never crashes and never leaks: only typed EengezinErrors (or a refused
verdict), nothing changed, no submitted value in a message (issue 13, items 4 and 5)."""

from __future__ import annotations

import io
import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eengezin import DefinitionError, Event, load_definition, new_traject, step
from eengezin.cli import main
from eengezin.deadlines import add_term
from eengezin.definition._yaml import MAX_NODES
from eengezin.errors import InputError, SerializationError
from eengezin.jsonio import loads
from eengezin.serialization import traject_from_json, traject_to_json

from conftest import AANMELDEN, write

BASIS = load_definition("basis")
AT = datetime(2026, 3, 2, 9, 0)
SECRET = "GEHEIM-0612345678"


def decide(event: str, data: Any, at: datetime = AT, definition: Any = BASIS) -> list[str]:
    """Messages of a refused event; asserts that the traject is left as it was."""
    traject = new_traject(definition, "T-1")
    if event != definition.start_event:
        start = AANMELDEN if definition is BASIS else {}
        started = step(definition, traject, Event(definition.start_event, AT, start))
        assert started.accepted
        traject = started.traject
    out = step(definition, traject, Event(event, at, data))
    assert not out.accepted
    assert out.traject is traject
    return [v.message for v in out.verdict.violations]


def aanmelden(**changes: Any) -> dict[str, Any]:
    return {**AANMELDEN, **changes}


# ------------------------------------------------------------------ strict payloads


def test_undeclared_fields_are_refused_by_name_without_their_value() -> None:
    messages = decide("aanmelden", aanmelden(bsn=SECRET))
    assert any("'bsn' is geen veld" in m for m in messages)
    assert not any(SECRET in m for m in messages)


def test_undeclared_nested_fields_are_refused() -> None:
    leden = [{**AANMELDEN["huishouden"]["leden"][0], "telefoon": SECRET}]
    messages = decide("aanmelden", aanmelden(huishouden={"leden": leden}))
    assert any("'huishouden.leden[0].telefoon' is geen veld" in m for m in messages)


def test_an_odd_field_name_is_not_repeated() -> None:
    messages = decide("aanmelden", aanmelden(**{f"naam {SECRET}": 1}))
    assert messages and not any(SECRET in m for m in messages)


MINI = """\
id: mini
version: "1"
types:
  boom:
    naam: text
    kinderen?: [boom]
tracks:
  regie:
    initial: open
    states: {open: {}, dicht: {final: true}}
events:
  aanmelden:
    when_in: {regie: open}
    payload:
      notitie?: any
      los?: object
      boom?: boom
      getal?: number
      moment?: datetime
  vrij:
    extra: allow
    when_in: {regie: open}
    payload:
      notitie?: text
  leeg:
    when_in: {regie: open}
"""


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_definition(write(tmp_path_factory.mktemp("mini"), "mini.yaml", MINI))


def test_extra_allow_opts_in_to_undeclared_fields(mini: Any) -> None:
    traject = step(mini, new_traject(mini, "T"), Event("aanmelden", AT, {})).traject
    assert step(mini, traject, Event("vrij", AT, {"bsn": "x", "meer": [1, {"a": 2}]})).accepted
    assert decide("leeg", {"bsn": "x"}, definition=mini) == ["'bsn' is geen veld van deze payload"]
    assert step(mini, traject, Event("leeg", AT, {})).accepted


def test_undeclared_fields_are_still_checked_when_allowed(mini: Any) -> None:
    messages = decide("vrij", {"x": float("nan"), "y": "\ud800", "z": _nested(100)},
                      definition=mini)
    assert len(messages) == 3


def _nested(levels: int) -> Any:
    value: Any = "diep"
    for _ in range(levels):
        value = {"a": [value]}
    return value


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinities_are_refused(mini: Any, value: float) -> None:
    for data in ({"getal": value}, {"notitie": [value]}, {"los": {"a": value}}):
        assert decide("aanmelden", data, definition=mini)


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\udc00\ud800"])
def test_lone_surrogates_are_refused(mini: Any, text: str) -> None:
    assert decide("aanmelden", aanmelden(vraag=text))
    assert decide("aanmelden", {"notitie": {"x": text}}, definition=mini)
    assert decide("aanmelden", {"los": {text: 1}}, definition=mini)


def test_deep_free_values_are_refused_without_recursion(mini: Any) -> None:
    for levels in (40, 400, 5000):
        (message,) = decide("aanmelden", {"notitie": _nested(levels)}, definition=mini)
        assert "te diep genest" in message


def test_deep_recursive_types_are_refused_without_recursion(mini: Any) -> None:
    boom: dict[str, Any] = {"naam": "blad"}
    for _ in range(5000):
        boom = {"naam": "tak", "kinderen": [boom]}
    (message,) = decide("aanmelden", {"boom": boom}, definition=mini)
    assert "te diep genest" in message


@pytest.mark.parametrize("day", ["1899-12-31", "2201-01-01", "0001-01-01", "9999-12-31"])
def test_payload_dates_are_bounded(day: str) -> None:
    lid = {**AANMELDEN["huishouden"]["leden"][0], "geboortedatum": day}
    messages = decide("aanmelden", aanmelden(huishouden={"leden": [lid]}))
    assert any("tussen 1900 en 2200" in m for m in messages)


def test_datetimes_are_bounded(mini: Any) -> None:
    assert decide("aanmelden", {"moment": "9999-12-31T23:59:59"}, definition=mini)
    assert decide("aanmelden", {"moment": "0001-01-01T00:00:00"}, definition=mini)


@pytest.mark.parametrize("at", [datetime(9999, 12, 30), datetime(9999, 12, 31, 23, 59),
                                datetime(1, 1, 1), datetime(1899, 12, 31)])
def test_events_far_in_time_are_refused_not_crashed(at: datetime) -> None:
    (message,) = decide("aanmelden", AANMELDEN, at=at)
    assert "datum van het event" in message


@pytest.mark.parametrize("unit", ["werkdagen", "kalenderdagen", "weken"])
def test_a_term_past_the_calendar_never_runs_out(unit: Any) -> None:
    assert add_term(date(9999, 12, 31), 10, unit) == date.max
    assert add_term(date(9999, 12, 20), 3, unit) <= date.max


BAD_PLACES = [
    ("vraag", 12345), ("vraag", ["x"]),
    ("huishouden", SECRET), ("huishouden", {"leden": SECRET}),
    ("huishouden", {"leden": [{"id": "m1", "naam": "x", "geboortedatum": SECRET, "rol": "ouder"}]}),
    ("huishouden", {"leden": [{"id": "m1", "naam": "x", "geboortedatum": "1988-01-01",
                               "rol": SECRET}]}),
]


@settings(max_examples=40, deadline=None)
@given(place=st.sampled_from(BAD_PLACES), extra=st.dictionaries(
    st.sampled_from(["bsn", "telefoon", SECRET, "x y"]),
    st.sampled_from([SECRET, 1.5, [SECRET], {"k": SECRET}]), max_size=2))
def test_refusals_never_echo_submitted_values(place: tuple[str, Any], extra: dict[str, Any]
                                              ) -> None:
    key, value = place
    messages = decide("aanmelden", aanmelden(**{key: value}, **extra))
    assert messages
    assert not any(SECRET in m for m in messages)


# ------------------------------------------------------------------ JSON from outside


@pytest.mark.parametrize("levels", [65, 350, 5000, 100_000])
def test_deep_json_is_refused_before_parsing(levels: int) -> None:
    with pytest.raises(InputError, match="te diep"):
        loads("[" * levels + "]" * levels)
    with pytest.raises(InputError, match="te diep"):
        loads('{"a":' * levels + "1" + "}" * levels)


def test_json_depth_is_configurable() -> None:
    assert loads("[" * 100 + "]" * 100, max_depth=100)
    assert loads('["[[[[[[[[[["]', max_depth=1) == ["[[[[[[[[[["]  # brackets in text count not


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e999",
                                  "9" * 5000, '"\\ud800"', '{"\\udfff": 1}', "{", "[1,]", ""])
def test_bad_json_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError) as info:
        loads(text)
    assert "9999" not in str(info.value)


def test_invalid_utf8_is_an_input_error() -> None:
    with pytest.raises(InputError, match="UTF-8"):
        loads(b'{"a": "\xff"}')


def test_trajecten_with_deep_or_odd_json_are_serialization_errors() -> None:
    traject = step(BASIS, new_traject(BASIS, "T"), Event("aanmelden", AT, AANMELDEN)).traject
    text = traject_to_json(traject)
    assert traject_from_json(text) == traject
    for bad in ("[" * 5000 + "]" * 5000, '{"a": NaN}', b"\xff", "9" * 5000):
        with pytest.raises(SerializationError):
            traject_from_json(bad)
    for odd in (float("nan"), "\ud800", _nested(200)):
        with pytest.raises(SerializationError):
            traject_to_json(attrs.evolve(traject, facts={"x": odd}))


def run_cli(tmp_path: Path, lines: bytes) -> tuple[int, str]:
    events = tmp_path / "events.jsonl"
    events.write_bytes(lines)
    err = io.StringIO()
    import contextlib
    with contextlib.redirect_stderr(err):
        code = main(["run", "basis", "--events", str(events), "--at-start", "2026-03-02"],
                    out=io.StringIO())
    return code, err.getvalue()


@pytest.mark.parametrize("bad", [
    b'{"event": "afronden", "data": {"x": "\xff"}}\n',
    b'{"event": "afronden", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}\n",
    b'{"event": "afronden", "data": {"x": NaN}}\n',
    b'{"event": "afronden", "data": {"x": ' + b"7" * 5000 + b"}}\n",
    b'{"event": "afronden", "data": {"x": "\\ud800"}}\n',
])
def test_cli_events_errors_are_located(tmp_path: Path, bad: bytes) -> None:
    first = json.dumps({"event": "aanmelden", "data": AANMELDEN}).encode() + b"\n"
    code, err = run_cli(tmp_path, first + b"\n" + bad)
    assert code == 2
    assert f"{tmp_path / 'events.jsonl'}:3:" in err
    assert "777777" not in err and "Traceback" not in err


# ------------------------------------------------------------------ definitions


def _refused(path: Path) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    return info.value


def test_huge_integers_in_a_definition_are_refused_with_a_location(tmp_path: Path) -> None:
    path = write(tmp_path, "groot.yaml", "id: x\nversion: '1'\nparams:\n  n: " + "9" * 5000 + "\n")
    (problem,) = _refused(path).problems
    assert (problem.location.line, problem.location.col) == (4, 6)
    assert "te lang" in problem.message and "999" not in problem.message


@pytest.mark.parametrize("value", [".inf", "-.Inf", ".nan", "1e999"])
def test_infinite_numbers_in_a_definition_are_refused(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, "inf.yaml", f"id: x\nversion: '1'\nparams:\n  n: {value}\n")
    (problem,) = _refused(path).problems
    assert problem.location.line == 4


def test_node_budget_stops_the_parser_early_in_a_block_list(tmp_path: Path) -> None:
    lines = MAX_NODES * 2
    path = write(tmp_path, "lijst.yaml", "id: x\nversion: '1'\nl:\n" + "- a\n" * lines)
    (problem,) = _refused(path).problems
    assert "te veel knopen" in problem.message
    # refused at the node past the budget, not after reading the whole file
    assert problem.location.line <= MAX_NODES + 4 < lines


def test_node_budget_stops_the_parser_early_in_a_flow_list(tmp_path: Path) -> None:
    items = MAX_NODES * 2
    path = write(tmp_path, "flow.yaml", "id: x\nversion: '1'\nl: [" + "a," * items + "a]\n")
    (problem,) = _refused(path).problems
    assert problem.location.line == 3 and problem.location.col <= 2 * MAX_NODES + 8


def test_aliases_count_for_what_they_stand_for(tmp_path: Path) -> None:
    lines = ["id: x", "version: '1'", "a: &a [" + ", ".join(["x"] * 1000) + "]"]
    lines += [f"b{i}: *a" for i in range(MAX_NODES // 1000 + 5)]
    (problem,) = _refused(write(tmp_path, "alias.yaml", "\n".join(lines) + "\n")).problems
    assert "te veel knopen" in problem.message and problem.location.line < len(lines)


@pytest.mark.parametrize("text", ["a: !!python/object:os.system ls\n", "a: !include x.yaml\n",
                                  "a: &x [*x]\n", "a: *nergens\n", "a: 1\n---\nb: 2\n"])
def test_tags_odd_aliases_and_streams_are_refused(tmp_path: Path, text: str) -> None:
    (problem,) = _refused(write(tmp_path, "t.yaml", "id: x\nversion: '1'\n" + text)).problems
    assert problem.location.line >= 3


def test_invalid_utf8_in_a_definition_is_located(tmp_path: Path) -> None:
    path = tmp_path / "bytes.yaml"
    path.write_bytes(b"id: x\nversion: '1'\ntitle: ab\xffcd\n")
    (problem,) = _refused(path).problems
    assert (problem.location.line, problem.location.col) == (3, 10)


SECRET_FILE = "wachtwoord: hunter2\nsleutel: GEHEIM\n"


def test_extends_refuses_absolute_paths_without_reading_them(tmp_path: Path) -> None:
    secret = write(tmp_path, "geheim.yaml", SECRET_FILE)
    sub = tmp_path / "regio"
    sub.mkdir()
    for ref in (str(secret), "/etc/passwd", "/etc/shadow"):
        err = _refused(write(sub, "r.yaml", f"id: r\nversion: '1'\nextends: {ref}\n"))
        assert "absoluut" in str(err)
        assert "hunter2" not in str(err) and "wachtwoord" not in str(err)


def test_extends_refuses_paths_outside_the_folder(tmp_path: Path) -> None:
    write(tmp_path, "geheim.yaml", SECRET_FILE)
    sub = tmp_path / "regio"
    sub.mkdir()
    err = _refused(write(sub, "r.yaml", "id: r\nversion: '1'\nextends: ../geheim.yaml\n"))
    assert "buiten de map" in str(err) and "hunter2" not in str(err)
    (sub / "link.yaml").symlink_to(tmp_path / "geheim.yaml")
    err = _refused(write(sub, "r.yaml", "id: r\nversion: '1'\nextends: link.yaml\n"))
    assert "hunter2" not in str(err) and "wachtwoord" not in str(err)


def test_extends_never_quotes_a_file_that_is_no_definition(tmp_path: Path) -> None:
    write(tmp_path, "geheim.yaml", SECRET_FILE)
    write(tmp_path, "kapot.yaml", "wachtwoord: [hunter2\n")
    for ref in ("geheim.yaml", "kapot.yaml"):
        err = _refused(write(tmp_path, "r.yaml", f"id: r\nversion: '1'\nextends: {ref}\n"))
        assert "geen definitie" in str(err)
        assert "hunter2" not in str(err) and "wachtwoord" not in str(err)
        assert all(p.location.file.endswith("r.yaml") for p in err.problems)


def test_extends_follows_files_in_the_folder_and_allowed_roots(tmp_path: Path) -> None:
    base = tmp_path / "gedeeld"
    base.mkdir()
    write(base, "basis-regio.yaml", "id: br\nversion: '1'\nextends: basis\n")
    sub = tmp_path / "regio"
    (sub / "deel").mkdir(parents=True)
    write(sub / "deel", "tussen.yaml", "id: t\nversion: '1'\nextends: basis\n")
    assert load_definition(write(sub, "a.yaml", "id: a\nversion: '1'\nextends: deel/tussen.yaml\n"))
    path = write(sub, "b.yaml", "id: b\nversion: '1'\nextends: ../gedeeld/basis-regio.yaml\n")
    assert "buiten de map" in str(_refused(path))
    assert load_definition(path, extends_roots=[tmp_path]).id == "b"


def test_a_large_definition_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "groot.yaml"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id: x\nversion: '1'\n")
        handle.write("# " + "x" * 2_100_000 + "\n")
    assert "te groot" in str(_refused(path))
    assert os.path.getsize(path) > 2_000_000


def test_yaml_1_2_flow_syntax_that_libyaml_refuses_still_loads(tmp_path: Path) -> None:
    text = MINI.replace("      notitie?: text\n", "      notitie?: text\n      extra: {a?: text, b?: [text]}\n")
    definition = load_definition(write(tmp_path, "flow.yaml", text))
    assert definition.events["vrij"].payload_spec["extra"] == {"a?": "text", "b?": ["text"]}


def test_the_slower_yaml_1_2_reading_has_tighter_budgets(tmp_path: Path) -> None:
    from eengezin.definition._yaml import MAX_SLOW_CHARS, MAX_SLOW_NODES

    head = "id: x\nversion: '1'\nt: {a?: 1}\n"
    many = head + "l: [" + "a," * MAX_SLOW_NODES + "a]\n"
    assert len(many) < MAX_SLOW_CHARS
    (problem,) = _refused(write(tmp_path, "veel.yaml", many)).problems
    assert f"meer dan {MAX_SLOW_NODES}" in problem.message
    large = head + "l:\n" + "- a\n" * (MAX_SLOW_CHARS // 4)
    (problem,) = _refused(write(tmp_path, "groot.yaml", large)).problems
    assert problem.message.startswith("YAML-fout") and problem.location.line == 3
