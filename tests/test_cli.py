"""The command line contract of PROCESS.md §6.1."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from eengezin.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "basis-onveiligheid.jsonl"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_list_shows_bundled_definitions():
    code, text = run("list")
    assert code == 0
    assert text.splitlines()[0].startswith("basis")
    code, text = run("list", "--json")
    rows = json.loads(text)
    assert {"id": "basis", "version": "1", "title": rows[0]["title"]} in rows


def test_validate_ok_and_bad(tmp_path):
    code, text = run("validate", "basis")
    assert code == 0 and "ok" in text
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: '1'\nextends: basis\nrules:\n  - id: x.y\n    severity: hard\n",
                   encoding="utf-8")
    code, text = run("validate", str(bad))
    assert code == 1
    lines = text.strip().splitlines()
    assert lines and all(line.startswith(f"{bad}:") for line in lines)
    assert any(":6:" in line and "severity" in line for line in lines)


def test_run_json_contract():
    code, text = run("run", "basis", "--events", str(EXAMPLE), "--json")
    assert code == 0
    result = json.loads(text)
    assert result["definition"]["id"] == "basis" and result["definition"]["version"] == "1"
    steps = result["steps"]
    assert steps[0] == {"line": 1, "event": "aanmelden", "accepted": True, "violations": [],
                        "state": {"regie": "aanmelding", "veiligheid": "geen_signalen"}}
    refused = [s for s in steps if not s["accepted"]]
    assert [s["line"] for s in refused] == [5, 14, 27]
    v = refused[0]["violations"][0]
    assert v["rule"] == "veiligheid.altijd_regie_bij_onveiligheid" and v["severity"] == "block"
    assert v["message"] and v["next"] == []
    closing = refused[2]["violations"][0]
    assert closing["rule"] == "veiligheid.niet_afsluiten_bij_signalen"
    assert closing["next"] == ["terug_naar_voortgang"]
    assert steps[15]["state"]["regie"] == "startoverleg.overleg"
    assert result["final"] == {"state": {"regie": "gesloten", "veiligheid": "geen_signalen"},
                               "open_signals": 0, "deadlines": []}


def test_run_text_output():
    code, text = run("run", "basis", "--events", str(EXAMPLE))
    assert code == 0
    assert "veiligheid.altijd_regie_bij_onveiligheid" in text
    assert "29 van 32 events geaccepteerd" in text
    assert "geweigerd" in text and "NEE" not in text
    assert "volgende stap: 'Terug naar een voortgangsoverleg'" in text


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("{not json", "ongeldige JSON"),
        ("[1, 2]", "JSON-object"),
        ('{"data": {}}', "'event'"),
        ('{"event": "notitie", "at": "gisteren"}', "ISO-8601"),
        ('{"event": "notitie", "actor": "jan"}', "actor"),
        ('{"event": "notitie", "data": [1]}', "'data'"),
        ('{"event": "notitie", "dta": {}}', "onbekende sleutel"),
    ],
)
def test_malformed_line_stops_with_exit_2_naming_the_line(tmp_path, capsys, line, fragment):
    path = tmp_path / "s.jsonl"
    path.write_text(EXAMPLE.read_text(encoding="utf-8").splitlines()[0] + "\n\n" + line + "\n",
                    encoding="utf-8")
    code, text = run("run", "basis", "--events", str(path), "--json")
    err = capsys.readouterr().err
    assert code == 2 and text == ""
    assert f"{path}:3:" in err and fragment in err
    assert "Traceback" not in err


def test_unknown_event_is_refused_and_run_goes_on(tmp_path):
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join([lines[0], '{"event": "vliegen"}', lines[1]]) + "\n", encoding="utf-8")
    code, text = run("run", "basis", "--events", str(path), "--json")
    steps = json.loads(text)["steps"]
    assert code == 0
    assert steps[1]["accepted"] is False and steps[1]["violations"][0]["rule"] == "event.onbekend"
    assert steps[2]["accepted"] is True


def test_missing_file_and_unknown_definition(capsys):
    code, _ = run("run", "basis", "--events", "/nonexistent.jsonl")
    assert code == 2 and "kan niet lezen" in capsys.readouterr().err
    code, _ = run("run", "nope", "--events", str(EXAMPLE))
    err = capsys.readouterr().err
    assert code == 2 and "onbekende definitie" in err


def test_at_start_is_used_for_lines_without_at(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"event": "aanmelden", "data": {"huishouden": {"leden": [{"id": "m", '
                    '"rol": "ouder", "geboortedatum": "2026-09-01"}]}, "vraag": "x"}}\n',
                    encoding="utf-8")
    # an unborn child: valid on 2026-03-01 (6 months ahead), invalid on 2025-01-01
    _, text = run("run", "basis", "--events", str(path), "--at-start", "2026-03-01", "--json")
    assert json.loads(text)["steps"][0]["accepted"] is True
    _, text = run("run", "basis", "--events", str(path), "--at-start", "2025-01-01", "--json")
    assert json.loads(text)["steps"][0]["accepted"] is False


def test_diagram_mermaid_and_dot():
    code, text = run("diagram", "basis")
    assert code == 0 and text.startswith("stateDiagram-v2")
    assert text.count("{") == text.count("}")
    assert "regie__startoverleg__voorbereiding" in text
    assert "veiligheid.terug_naar_voortgangsoverleg" in text
    assert " --  " not in text and "\n    --\n" not in text  # no concurrency separator (mermaid#4052)
    code, text = run("diagram", "basis", "--format", "dot")
    assert code == 0 and text.startswith('digraph "basis"')
    assert text.count("{") == text.count("}")


def test_console_script_runs_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "eengezin.cli", "validate", "/nonexistent.yaml"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "bestand niet gevonden" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_json_is_compact_and_pretty_indents():
    code, compact = run("run", "basis", "--events", str(EXAMPLE), "--json")
    assert code == 0 and compact.count("\n") == 1
    assert '{"line":1,"event":"aanmelden"' in compact  # separators without spaces
    code, pretty = run("run", "basis", "--events", str(EXAMPLE), "--json", "--pretty")
    assert code == 0 and pretty.startswith('{\n  "definition"')
    assert json.loads(pretty) == json.loads(compact)
    code, listed = run("list", "--json")
    assert listed.count("\n") == 1 and json.loads(listed) == json.loads(run("list", "--json",
                                                                             "--pretty")[1])


def test_moments_without_offset_are_dutch_local_time(tmp_path):
    path = tmp_path / "s.jsonl"
    first = json.loads(EXAMPLE.read_text(encoding="utf-8").splitlines()[0])
    first["at"] = "2026-01-05T09:00:00"  # winter: +01:00
    note = {"event": "notitie", "at": "2026-07-01T09:00:00", "data": {"tekst": "zomer"}}
    aware = {"event": "notitie", "at": "2026-07-01T09:00:00+00:00", "data": {"tekst": "utc"}}
    path.write_text("\n".join(json.dumps(x) for x in (first, note, aware)) + "\n",
                    encoding="utf-8")
    db = tmp_path / "t.db"
    code, out = run("run", "basis", "--events", str(path), "--store", str(db), "--traject", "T",
                    "--json")
    assert code == 0 and all(s["accepted"] for s in json.loads(out)["steps"])
    code, out = run("history", "--store", str(db), "T", "--json")
    moments = [row["at"] for row in json.loads(out)["history"]]
    assert moments == ["2026-01-05T09:00:00+01:00", "2026-07-01T09:00:00+02:00",
                       "2026-07-01T09:00:00+00:00"]


def test_an_event_dated_before_the_previous_one_is_refused(tmp_path):
    path = tmp_path / "s.jsonl"
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([
        lines[0],
        '{"event": "notitie", "at": "2026-03-01T09:00:00", "data": {"tekst": "te vroeg"}}',
        '{"event": "notitie", "at": "2026-03-02T09:00:00", "data": {"tekst": "zelfde moment"}}',
    ]) + "\n", encoding="utf-8")
    code, text = run("run", "basis", "--events", str(path), "--json")
    steps = json.loads(text)["steps"]
    assert code == 0
    assert [s["accepted"] for s in steps] == [True, False, True]
    assert [v["rule"] for v in steps[1]["violations"]] == ["event.te_vroeg"]


def test_help_and_list_do_not_import_the_heavy_parts():
    """Lazy imports: --help and list load no store, checker, jsonschema or holidays code."""
    code = ("import sys, io\n"
            "from eengezin.cli import main\n"
            "main(['list'], out=io.StringIO())\n"
            "heavy = [m for m in ('eengezin.store.postgres', 'eengezin.checker', 'jsonschema',"
            " 'holidays', 'psycopg') if m in sys.modules]\n"
            "print(heavy)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_list_reads_bundled_headers_without_parsing_and_they_match_the_definitions() -> None:
    from eengezin import load_definition
    from eengezin.definition.bundled import bundled_dir, bundled_ids, quick_header

    for ref in bundled_ids():
        d = load_definition(ref)
        assert quick_header(bundled_dir() / f"{ref}.yaml") == (d.id, d.version, d.title)


def test_definitions_are_cached_on_disk_and_no_cache_reads_the_yaml(tmp_path: Path,
                                                                   monkeypatch) -> None:
    import io

    from eengezin.cli import main
    from eengezin.definition import cache

    monkeypatch.setenv("EENGEZIN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EENGEZIN_NO_CACHE", raising=False)
    path = tmp_path / "eigen.yaml"
    path.write_text('id: eigen\nversion: "1"\nextends: basis\n', encoding="utf-8")
    assert main(["validate", str(path)], out=io.StringIO()) == 0
    assert cache.lookup(path.resolve()) is not None  # written after a clean load
    path.write_text('id: eigen\nversion: "2"\nextends: basis\n', encoding="utf-8")
    assert cache.lookup(path.resolve()) is None  # a changed file is never served stale
    out = io.StringIO()
    assert main(["--no-cache", "validate", str(path)], out=out) == 0
    assert "eigen v2" in out.getvalue()
    assert cache.lookup(path.resolve()) is None  # --no-cache neither reads nor writes
    monkeypatch.delenv("EENGEZIN_NO_CACHE", raising=False)


def test_progress_is_drawn_on_a_terminal_and_silent_otherwise() -> None:
    import io

    from eengezin.cli.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    quiet, tty = io.StringIO(), Terminal()
    for stream in (quiet, tty):
        with Progress("verify", 3, stream=stream, every=0) as progress:
            for _ in range(3):
                progress.advance()
    assert quiet.getvalue() == ""
    assert "verify 3/3" in tty.getvalue() and tty.getvalue().endswith("\r")
