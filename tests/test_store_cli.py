"""The store commands of the CLI, on both backends, and the monitor figures."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from eengezin import Engine, load_definition
from eengezin.cli import main
from eengezin.store import MemoryStore, SQLStore, open_store
from eengezin.store.monitor import compute_monitor
from test_store_contract import AANMELDEN, AMS, DATA, make_store, store_url

__all__ = ["make_store", "store_url"]  # fixtures used by name

AnyStore = SQLStore | MemoryStore

EXAMPLE = Path(__file__).parents[1] / "examples" / "basis-onveiligheid.jsonl"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def scenario_lines() -> list[str]:
    return [line for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_run_store_commits_and_continues_across_runs(tmp_path: Path, store_url: str) -> None:
    lines = scenario_lines()
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(lines[:10]) + "\n", encoding="utf-8")
    second.write_text("\n".join(lines[10:]) + "\n", encoding="utf-8")
    code, out = run("run", "basis", "--events", str(first), "--store", store_url,
                    "--traject", "T-1", "--json")
    assert code == 0
    part = json.loads(out)
    accepted_first = sum(s["accepted"] for s in part["steps"])
    assert part["traject"] == "T-1" and part["version"] == accepted_first
    # the second part starts with lines without a moment: they continue from the last one
    # of the first part (without --at-start they would be dated now, and the dated lines
    # after them refused as earlier: event.te_vroeg)
    last_at = [json.loads(line)["at"] for line in lines[:10] if "at" in json.loads(line)][-1]
    code, out = run("run", "basis", "--events", str(second), "--store", store_url,
                    "--traject", "T-1", "--at-start", last_at, "--json")
    assert code == 0
    rest = json.loads(out)
    assert [s["line"] for s in rest["steps"] if not s["accepted"]] == [4, 17]
    # the stored result equals one uninterrupted in-memory run of the whole scenario
    code, whole = run("run", "basis", "--events", str(EXAMPLE), "--json")
    whole_json = json.loads(whole)
    total = sum(s["accepted"] for s in whole_json["steps"])
    assert rest["version"] == total
    assert rest["final"]["state"] == whole_json["final"]["state"]
    code, shown = run("show", "--store", store_url, "T-1", "--json")
    assert code == 0
    show = json.loads(shown)
    assert set(show) == {"traject", "version", "definition", "state", "deadlines"}
    assert show["traject"] == "T-1" and show["version"] == total
    assert show["definition"]["id"] == "basis" and show["definition"]["version"] == "1"
    assert show["definition"]["hash"] == load_definition("basis").hash
    assert show["state"] == whole_json["final"]["state"]
    code, history = run("history", "--store", store_url, "T-1", "--json")
    rows = json.loads(history)["history"]
    assert [r["version"] for r in rows] == list(range(1, total + 1))
    assert rows[0]["event"] == "aanmelden"
    code, text = run("history", "--store", store_url, "T-1")
    assert code == 0 and text.count("\n") >= total


def test_run_store_twice_with_the_same_file_adds_nothing(tmp_path: Path, store_url: str) -> None:
    """Each line carries an idempotency key derived from the file: a rerun (after a crash
    half-way, or by mistake) writes nothing new."""
    args = ("run", "basis", "--events", str(EXAMPLE), "--store", store_url, "--traject", "T-1",
            "--json")
    code, out = run(*args)
    assert code == 0
    first = json.loads(out)
    code, history_before = run("history", "--store", store_url, "T-1", "--json")
    code, out = run(*args)
    assert code == 0
    second = json.loads(out)
    assert second["version"] == first["version"] > 0
    assert second["final"]["state"] == first["final"]["state"]
    assert run("history", "--store", store_url, "T-1", "--json")[1] == history_before
    # half of the file again (a run that stopped half-way), then the whole file: the rest lands
    half = tmp_path / "half.jsonl"
    half.write_text("\n".join(scenario_lines()[:12]) + "\n", encoding="utf-8")
    code, out = run("run", "basis", "--events", str(half), "--store", store_url,
                    "--traject", "T-2", "--json")
    assert code == 0
    code, out = run("run", "basis", "--events", str(EXAMPLE), "--store", store_url,
                    "--traject", "T-2", "--json")
    assert code == 0 and json.loads(out)["version"] == first["version"]
    assert [r["event"] for r in json.loads(run("history", "--store", store_url, "T-2",
                                                "--json")[1])["history"]] == [
        r["event"] for r in json.loads(history_before)["history"]]


def test_history_pages_and_json_is_compact(store_url: str) -> None:
    assert run("run", "basis", "--events", str(EXAMPLE), "--store", store_url,
               "--traject", "T-1")[0] == 0
    code, whole = run("history", "--store", store_url, "T-1", "--json")
    assert code == 0 and whole.count("\n") == 1 and ", " not in whole.split('"data"')[0]
    rows = json.loads(whole)["history"]
    accepted = sum(1 for s in json.loads(run("run", "basis", "--events", str(EXAMPLE),
                                             "--json")[1])["steps"] if s["accepted"])
    assert len(rows) == accepted > 22
    code, page = run("history", "--store", store_url, "T-1", "--start", "10", "--limit", "5",
                     "--json")
    assert json.loads(page)["history"] == rows[10:15]
    code, rest = run("history", "--store", store_url, "T-1", "--start", "20", "--json")
    assert json.loads(rest)["history"] == rows[20:]
    code, pretty = run("history", "--store", store_url, "T-1", "--limit", "2", "--json",
                       "--pretty")
    assert pretty.startswith("{\n  ") and json.loads(pretty)["history"] == rows[:2]
    code, text = run("history", "--store", store_url, "T-1", "--start", str(accepted - 2))
    assert [line.split()[0] for line in text.splitlines() if line[:5].strip().isdigit()] == [
        str(accepted - 1), str(accepted)]


def test_run_store_text_and_a_second_aanmelden_is_refused(tmp_path: Path, store_url: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(scenario_lines()[0] + "\n", encoding="utf-8")
    code, out = run("run", "basis", "--events", str(path), "--store", store_url, "--traject", "X")
    assert code == 0 and "versie 1" in out
    again = tmp_path / "again.jsonl"
    line = json.loads(scenario_lines()[0])
    line["data"]["vraag"] = "Een tweede aanmelding"
    again.write_text(json.dumps(line) + "\n", encoding="utf-8")
    code, out = run("run", "basis", "--events", str(again), "--store", store_url,
                    "--traject", "X", "--json")
    assert json.loads(out)["steps"][0]["accepted"] is False
    assert json.loads(out)["version"] == 1


def test_store_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.db"
    assert run("show", "--store", str(missing), "T-1")[0] == 2
    assert not missing.exists()  # show never creates a store
    assert run("run", "basis", "--events", str(EXAMPLE), "--store", str(missing))[0] == 2
    err = capsys.readouterr().err
    assert "no such store" in err and "--traject" in err
    db = tmp_path / "t.db"
    assert run("run", "basis", "--events", str(EXAMPLE), "--store", str(db), "--traject",
               "T-1")[0] == 0
    assert run("show", "--store", str(db), "T-2")[0] == 2
    assert run("show", "--store", "mysql://x/y", "T-1")[0] == 2
    assert "Traceback" not in capsys.readouterr().err


def test_run_store_refuses_a_traject_of_another_definition(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    db = str(tmp_path / "t.db")
    assert run("run", "basis", "--events", str(EXAMPLE), "--store", db, "--traject", "T")[0] == 0
    code, _ = run("run", str(DATA / "basis-v2.yaml"), "--events", str(EXAMPLE), "--store", db,
                  "--traject", "T")
    assert code == 2
    assert "migrate" in capsys.readouterr().err


def test_migrate_command_dry_run_then_for_real(tmp_path: Path, store_url: str) -> None:
    assert run("run", "basis", "--events", str(EXAMPLE), "--store", store_url,
               "--traject", "T-1")[0] == 0
    v2 = str(DATA / "basis-v2.yaml")  # migrations/ beside it holds basis-1-naar-2.yaml
    code, out = run("migrate", "--store", store_url, "--to", v2, "--dry-run")
    assert code == 0 and "zou verhuizen: T-1" in out and "proefdraai" in out
    code, out = run("show", "--store", store_url, "T-1", "--json")
    assert json.loads(out)["definition"]["version"] == "1"
    code, out = run("migrate", "--store", store_url, "--to", v2, "--json")
    report = json.loads(out)
    assert code == 0 and [m["traject"] for m in report["moved"]] == ["T-1"]
    code, out = run("show", "--store", store_url, "T-1", "--json")
    shown = json.loads(out)
    assert shown["definition"]["version"] == "2" and shown["state"]["escalatie"] == "geen"
    code, out = run("history", "--store", store_url, "T-1")
    assert "[migratie]" in out.splitlines()[-1]


def test_migrate_reports_trajecten_it_cannot_move(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    assert run("run", "basis", "--events", str(EXAMPLE), "--store", db, "--traject", "T")[0] == 0
    empty = tmp_path / "none"
    empty.mkdir()
    code, out = run("migrate", "--store", db, "--to", str(DATA / "basis-v2.yaml"),
                    "--migration", str(empty))
    assert code == 1 and "KAN NIET: T: geen migratie" in out


# ---------------------------------------------------------------- monitor


MONITOR = DATA / "monitor.yaml"
T0 = datetime(2026, 1, 5, 9, tzinfo=AMS)


def build_monitor_store(store: AnyStore) -> None:
    """Four trajecten with known phase durations, plans and stagnations."""
    engine = Engine(MONITOR, store=store)

    def go(tid: str, steps: list[tuple[int, str, dict[str, Any]]]) -> None:
        for day, name, data in steps:
            outcome = engine.fire(tid, name, data, at=T0 + timedelta(days=day))
            assert outcome.accepted, (tid, name, outcome.verdict.rule_ids)

    regie = {"regisseur": {"id": "r1", "naam": "Rita", "soort": "professional"}}
    go("A", [(0, "aanmelden", AANMELDEN), (2, "vraag_verhelderen", {}),
             (6, "regie_starten", regie),
             (7, "familiegroepsplan_vastleggen", {"opgesteld": True}),
             (8, "stagnatie_melden", {"omschrijving": "x"}),
             (9, "opschalen_stagnatie", {"poging": "gesprek"})])
    go("B", [(0, "aanmelden", AANMELDEN), (4, "vraag_verhelderen", {}),
             (5, "familiegroepsplan_vastleggen", {"opgesteld": True}),
             (6, "familiegroepsplan_vastleggen", {"opgesteld": False}),
             (7, "stagnatie_melden", {"omschrijving": "x"}),
             (8, "stagnatie_opgelost", {"resultaat": "afspraken"})])
    go("C", [(0, "aanmelden", AANMELDEN), (6, "vraag_verhelderen", {}),
             (7, "familiegroepsplan_vastleggen", {"opgesteld": True})])
    go("D", [(0, "aanmelden", AANMELDEN)])


def test_monitor_figures(make_store: Callable[..., AnyStore]) -> None:
    store = make_store()
    build_monitor_store(store)
    (figures,) = compute_monitor(store, van=date(2026, 1, 1), tot=date(2026, 2, 1)).definitions
    ind = figures["indicators"]
    plan = ind["familiegroepsplan"]
    # latest record counts: A and C made one, B chose not to, D has not recorded it
    assert (plan["trajecten"], plan["ja"], plan["nee"], plan["niet_vastgelegd"]) == (4, 2, 1, 1)
    assert plan["share"] == 0.5 and plan["meets_target"] is True
    assert ind["stagnaties"]["levels"] == {"niveau_1": {"bereikt": 2, "nu": 0},
                                           "niveau_2": {"bereikt": 1, "nu": 1}}
    phases = ind["dagen_per_fase"]["phases"]
    # aanmelding lasted 2, 4 and 6 days (D still there); vraagverheldering 4 days (A)
    assert phases["aanmelding"] == {"median": 4.0, "afgerond": 3, "lopend": 1}
    assert phases["vraagverheldering"] == {"median": 4.0, "afgerond": 1, "lopend": 2}
    assert phases["startoverleg"] == {"median": None, "afgerond": 0, "lopend": 1}


def test_monitor_command(store_url: str) -> None:
    with open_store(store_url) as store:
        build_monitor_store(store)
    code, out = run("monitor", "--store", store_url, "--json", "--van", "2026-01-01",
                    "--tot", "2026-02-01")
    assert code == 0
    data = json.loads(out)
    assert data["definitions"][0]["trajecten"] == 4
    assert data["definitions"][0]["indicators"]["familiegroepsplan"]["target"] == 0.5
    code, text = run("monitor", "--store", store_url, "--van", "2026-01-01", "--tot", "2026-02-01")
    assert code == 0 and "Trajecten met een familiegroepsplan" in text and "niveau_2" in text


def test_deadlines_command(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    scenario = tmp_path / "s.jsonl"
    scenario.write_text(scenario_lines()[0] + "\n", encoding="utf-8")
    assert run("run", str(DATA / "termijnen.yaml"), "--events", str(scenario), "--store", db,
               "--traject", "T")[0] == 0
    _code, out = run("deadlines", "--store", db, "--json")
    rows = json.loads(out)
    assert [(r["traject"], r["id"], r["due"]) for r in rows] == [
        ("T", "test.vraag_verhelderen_5_werkdagen", "2026-03-09")]
    assert json.loads(run("deadlines", "--store", db, "--overdue-at", "2026-03-09", "--json")[1]
                      ) == []
    assert len(json.loads(run("deadlines", "--store", db, "--overdue-at", "2026-03-10",
                              "--json")[1])) == 1


def test_verify_command(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    assert run("run", "basis", "--events", str(EXAMPLE), "--store", str(db), "--traject",
               "T")[0] == 0
    code, out = run("verify", "--store", str(db))
    assert code == 0 and "1 trajecten gecontroleerd, 0 problemen" in out
    code, out = run("verify", "--store", str(db), "--json")
    report = json.loads(out)
    assert code == 0 and report["checked"] == 1 and report["problems"] == 0
    assert report["trajecten"][0]["ok"] is True and report["trajecten"][0]["findings"] == []
    import sqlite3

    with open_store(db) as store:
        loaded = store.load("T")
    with sqlite3.connect(db) as conn:  # a snapshot that no longer matches its log
        body = json.loads(conn.execute("SELECT snapshot FROM eengezin_trajecten WHERE id = 'T'"
                                       ).fetchone()[0])
        body["state"]["regie"] = "voortgang"
        conn.execute("UPDATE eengezin_trajecten SET snapshot = ? WHERE id = 'T'",
                     (json.dumps(body),))
    conn.close()
    code, out = run("verify", "--store", str(db), "T")
    assert code == 1 and "FOUT T:" in out and "snapshot" in out
    code, out = run("verify", "--store", str(db), "--json")
    report = json.loads(out)
    assert code == 1 and report["problems"] >= 1
    assert report["trajecten"][0]["ok"] is False
    assert [f["kind"] for f in report["trajecten"][0]["findings"]] == ["snapshot"]
    assert report["trajecten"][0]["version"] == loaded.version
