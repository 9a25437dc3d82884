"""Store commands of the ``eengezin`` CLI: run --store, show, history, migrate, monitor,
deadlines, verify.

Registered by :func:`register` into the main parser (``eengezin/cli.py``); ``run --store``
branches to :func:`cmd_run_stored`. Exit codes follow the main CLI: 0 ok, 1 findings
(a migration with failures), 2 usage or store errors (message, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from ..definition import bundled_dir, load_definition
from ..errors import ConflictError, EengezinError
from ..process import new_traject
from ..traject import Traject
from . import open_store
from ._sql import SQLStore
from .codec import MIGRATION_EVENT, ref_dict
from .errors import TrajectNotFoundError
from .migration import find_migrations, migrate_store
from .monitor import compute_monitor
from .sqlite import SQLiteStore

MAX_ATTEMPTS = 50


def _open(url: str, *, create: bool) -> SQLStore:
    return open_store(url, create=create)


def _usage(message: str) -> EengezinError:
    from ..cli import UsageError

    return UsageError(message)


# ---------------------------------------------------------------- run --store


def cmd_run_stored(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin run DEF --events F --store URL --traject ID``: apply a scenario to a stored
    traject, committing each accepted event; on a conflict, reload and decide it again."""
    from .. import cli as main

    if not args.traject:
        raise _usage("run --store: geef het traject met --traject ID")
    definition = load_definition(args.definition)
    start = main.parse_moment(args.at_start, "--at-start") if args.at_start else datetime.now(UTC)
    path = Path(args.events)
    try:
        handle = sys.stdin if args.events == "-" else path.open(encoding="utf-8")
    except OSError as exc:
        raise _usage(f"{args.events}: kan niet lezen: {exc.strerror}") from None
    with handle:
        scenario = list(main.read_scenario(iter(handle), args.events))
    at = start
    steps: list[dict[str, Any]] = []
    with _open(args.store, create=True) as store:
        traject = _current(store, definition, args.traject)
        if not args.json:
            out.write(f"{definition.id} v{definition.version} — {definition.title} — traject "
                      f"{args.traject} (versie {traject.version}) in {store.backend}\n")
        for number, obj in scenario:
            if "at" in obj:
                at = main.parse_moment(obj["at"], f"{args.events}:{number}")
            event = main.to_event(obj, at)
            for _attempt in range(MAX_ATTEMPTS):
                verdict, after = main.decide(definition, traject, event)
                if not verdict.accepted:
                    break
                try:
                    store.append(definition, after, expected_version=traject.version)
                except ConflictError:
                    traject = _current(store, definition, args.traject)
                    continue
                traject = after
                break
            else:
                raise ConflictError(f"{args.events}:{number}: bleef botsen met andere schrijvers")
            steps.append(main.step_json(number, obj["event"], verdict, traject))
            if not args.json:
                main.print_step_text(out, number, obj["event"], verdict, traject, definition)
        version = store.version(args.traject) or 0
    final = main.final_json(definition, traject, at)
    if args.json:
        result = {
            "definition": main.definition_json(definition),
            "traject": args.traject,
            "version": version,
            "steps": steps,
            "final": final,
        }
        out.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        accepted = sum(1 for s in steps if s["accepted"])
        out.write(f"\n{accepted} van {len(steps)} events geaccepteerd en opgeslagen; traject "
                  f"{args.traject} staat op versie {version}; eindstaat: "
                  + ", ".join(f"{k}={v}" for k, v in final["state"].items()) + "\n")
    return 0


def _current(store: SQLStore, definition: Any, traject_id: str) -> Traject:
    try:
        return store.load(traject_id, definition)
    except TrajectNotFoundError:
        return new_traject(definition, traject_id)


# ---------------------------------------------------------------- show / history


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin show --store URL ID``: the stored traject's version, definition and state."""
    with _open(args.store, create=False) as store:
        traject = store.load(args.traject)
    if args.json:
        out.write(json.dumps({
            "traject": traject.id,
            "version": traject.version,
            "definition": ref_dict(traject.definition),
            "state": dict(traject.state),
        }, ensure_ascii=False, indent=2) + "\n")
        return 0
    ref = traject.definition
    out.write(f"traject {traject.id}: versie {traject.version}, definitie {ref.id} v{ref.version} "
              f"({ref.hash[:12]})\n")
    for track, state in traject.state.items():
        out.write(f"  {track:<12} {state}\n")
    for d in sorted(traject.deadlines.values(), key=lambda d: (d.due, d.id)):
        out.write(f"  termijn {d.id}: uiterlijk {d.due.isoformat()}\n")
    return 0


def cmd_history(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin history --store URL ID``: every stored entry, oldest first."""
    with _open(args.store, create=False) as store:
        history = store.history(args.traject)
        if not history and not store.exists(args.traject):
            raise TrajectNotFoundError(args.traject)
    if args.json:
        rows = [{
            "seq": i,
            "event": e.event,
            "at": e.at.isoformat(),
            "actor": None if e.actor is None else {"id": e.actor.id, "role": e.actor.role},
            "data": dict(e.data),
            "definition": ref_dict(e.definition),
            "warnings": [v.rule for v in e.warnings],
        } for i, e in enumerate(history, start=1)]
        out.write(json.dumps({"traject": args.traject, "history": rows}, ensure_ascii=False,
                             indent=2, default=str) + "\n")
        return 0
    for i, e in enumerate(history, start=1):
        who = f" door {e.actor.id}" if e.actor else ""
        mark = "  [migratie]" if e.event == MIGRATION_EVENT else ""
        out.write(f"{i:>5}  {e.at.isoformat()}  {e.event}{who}  "
                  f"({e.definition.id} v{e.definition.version}){mark}\n")
        for v in e.warnings:
            out.write(f"         let op: [{v.rule}] {v.message}\n")
    return 0


# ---------------------------------------------------------------- migrate


def _migration_paths(args: argparse.Namespace) -> list[Path]:
    if args.migration:
        return [Path(p) for p in args.migration]
    paths: list[Path] = []
    text = str(args.to)
    if text.endswith((".yaml", ".yml")) or "/" in text:
        paths.append(Path(text).parent / "migrations")
    paths.append(bundled_dir() / "migrations")
    return [p for p in paths if p.is_dir()]


def cmd_migrate(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin migrate --store URL --to DEF [--dry-run]``: move trajecten to DEF."""
    target = load_definition(args.to)
    migrations = find_migrations(_migration_paths(args))
    with _open(args.store, create=False) as store:
        report = migrate_store(store, target, migrations, dry_run=args.dry_run)
    if args.json:
        out.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        verb = "zou verhuizen" if report.dry_run else "verhuisd"
        out.write(f"naar {target.id} v{target.version} ({target.hash[:12]})"
                  + (" — proefdraai, er is niets veranderd" if report.dry_run else "") + "\n")
        for m in report.moved:
            changed = {t: f"{m.was.get(t, '—')} -> {s}" for t, s in m.state.items()
                       if m.was.get(t) != s}
            detail = ", ".join(f"{t}: {c}" for t, c in changed.items()) or "staten gelijk"
            out.write(f"  {verb}: {m.traject_id} ({m.source.id} v{m.source.version}, "
                      f"{m.migration}) {detail}\n")
        for f in report.failed:
            out.write(f"  KAN NIET: {f.traject_id}: {f.reason}\n")
        out.write(f"{len(report.moved)} {verb}, {len(report.failed)} kunnen niet, "
                  f"{report.current} stonden al op deze versie\n")
    return 1 if report.failed else 0


# ---------------------------------------------------------------- monitor / deadlines


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise _usage(f"{option}: geen geldige datum: {text!r}") from None


def cmd_monitor(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin monitor --store URL [--van DATE] [--tot DATE] [--json]``: the figures the
    definitions declare, over a period (default: this year up to today)."""
    tot = _day(args.tot, "--tot") if args.tot else datetime.now(UTC).date()
    van = _day(args.van, "--van") if args.van else date(tot.year, 1, 1)
    if van > tot:
        raise _usage("--van ligt na --tot")
    with _open(args.store, create=False) as store:
        figures = compute_monitor(store, van=van, tot=tot)
    if args.json:
        out.write(json.dumps(figures.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(figures.to_text())
    return 0


def cmd_deadlines(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin deadlines --store URL [--overdue-at DATE]``: open (or overdue) deadlines."""
    with _open(args.store, create=False) as store:
        if args.overdue_at:
            try:
                day = date.fromisoformat(args.overdue_at[:10])
            except ValueError:
                raise _usage(f"--overdue-at: geen geldige datum: {args.overdue_at!r}") from None
            rows = store.overdue(day, limit=args.limit)
        else:
            rows = store.open_deadlines(limit=args.limit)
    if args.json:
        out.write(json.dumps([{"traject": d.traject_id, "id": d.id,
                               "started": d.started.isoformat(), "due": d.due.isoformat()}
                              for d in rows], ensure_ascii=False, indent=2) + "\n")
        return 0
    for d in rows:
        out.write(f"{d.due.isoformat()}  {d.traject_id}  {d.id} (sinds {d.started.isoformat()})\n")
    return 0


def cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin verify --store URL [ID …]``: rebuild trajecten from their histories and
    compare with what loading gives; exit 1 when any differs or cannot be read."""
    problems: list[str] = []
    with _open(args.store, create=False) as store:
        if isinstance(store, SQLiteStore):
            problems.extend(f"sqlite: {p}" for p in store.integrity_check())
        ids = args.traject or store.ids()
        for tid in ids:
            try:
                store.verify(tid)
            except EengezinError as exc:
                problems.append(f"{tid}: {exc}")
    for problem in problems:
        out.write(f"FOUT {problem}\n")
    out.write(f"{len(ids)} trajecten gecontroleerd, {len(problems)} problemen\n")
    return 1 if problems else 0


# ---------------------------------------------------------------- registration


def add_store_option(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """Add ``--store URL`` to a subcommand."""
    parser.add_argument("--store", required=required, metavar="URL",
                        help="pad of sqlite:///bestand.db, of postgresql://…")


def register(sub: Any) -> None:
    """Add show, history, migrate, monitor, verify and deadlines to the main CLI's subparsers."""
    p = sub.add_parser("show", help="een opgeslagen traject: versie, definitie, staat")
    add_store_option(p, required=True)
    p.add_argument("traject", metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("history", help="de geschiedenis van een opgeslagen traject")
    add_store_option(p, required=True)
    p.add_argument("traject", metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("migrate", help="zet opgeslagen trajecten over naar een nieuwe versie")
    add_store_option(p, required=True)
    p.add_argument("--to", required=True, metavar="DEF", help="de nieuwe definitie")
    p.add_argument("--migration", action="append", metavar="FILE",
                   help="migratiebestand of map (standaard: migrations/ naast DEF)")
    p.add_argument("--dry-run", action="store_true", help="alleen rapporteren, niets wijzigen")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_migrate)

    p = sub.add_parser("monitor", help="verantwoording: de cijfers van de definities over een periode")
    add_store_option(p, required=True)
    p.add_argument("--van", metavar="DATE", help="begin van de periode (standaard: 1 januari)")
    p.add_argument("--tot", metavar="DATE", help="einde van de periode, inclusief (standaard: vandaag)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_monitor)

    p = sub.add_parser("verify", help="controleer dat snapshots en geschiedenis overeenkomen")
    add_store_option(p, required=True)
    p.add_argument("traject", metavar="ID", nargs="*", help="standaard: alle trajecten")
    p.set_defaults(handler=cmd_verify)

    p = sub.add_parser("deadlines", help="open of verlopen termijnen in een opslag")
    add_store_option(p, required=True)
    p.add_argument("--overdue-at", metavar="DATE", help="alleen termijnen verlopen op DATE")
    p.add_argument("--limit", type=int, metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_deadlines)
