"""Store commands of the ``eengezin`` CLI: run --store, show, history, migrate, monitor,
deadlines, verify. Everything that decides goes through the :class:`~eengezin.Engine`.

Exit codes follow the main CLI: 0 ok, 1 findings (a migration with failures, a verify
problem), 2 usage or store errors (message, never a traceback).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from ..definition import bundled_dir, load_definition
from ..engine import Engine
from ..errors import EengezinError
from ..migration import find_migrations, migrate_store
from ..store import SQLiteStore, SQLStore, TrajectNotFoundError, compute_monitor, open_store
from ..store.codec import ref_dict
from ..traject import MIGRATION_EVENT, Traject
from .common import (
    UsageError,
    decide,
    definition_json,
    dump_json,
    final_json,
    parse_moment,
    print_step_text,
    read_events,
    step_json,
    to_event,
)
from .progress import Progress


def _open(url: str, *, create: bool, readonly: bool = False) -> SQLStore:
    return open_store(url, create=create, readonly=readonly)


def _usage(message: str) -> EengezinError:
    return UsageError(message)


# ---------------------------------------------------------------- run --store


def cmd_run_stored(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin run DEF --events F --store URL --traject ID``: apply a scenario to a stored
    traject through the :class:`~eengezin.Engine`, committing each accepted event.

    Each line gets an idempotency key derived from the file and the line, so running the
    same file again adds nothing. On failure, ``--json`` still reports the lines that were
    committed."""
    if not args.traject:
        raise UsageError("run --store: geef het traject met --traject ID")
    definition = load_definition(args.definition)
    start = parse_moment(args.at_start, "--at-start") if args.at_start else datetime.now(UTC)
    scenario = read_events(args.events)
    base = hashlib.sha256(f"{args.traject}\0{definition.hash}".encode()).hexdigest()[:16]
    at = start
    steps: list[dict[str, Any]] = []
    error: EengezinError | None = None
    with _open(args.store, create=True) as store:
        engine = Engine(definition, store=store)
        traject = _current(engine, args.traject)
        if not args.at_start and traject.last_at is not None and traject.last_at > at:
            at = traject.last_at  # continuing a traject: lines without a moment follow its last
        if not args.json:
            out.write(f"{definition.id} v{definition.version} — {definition.title} — traject "
                      f"{args.traject} (versie {traject.version}) in {store.backend}\n")
        for number, obj in scenario:
            if "at" in obj:
                at = parse_moment(obj["at"], f"{args.events}:{number}")
            event = to_event(obj, at)
            key = f"run:{base}:{hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:24]}:{number}"
            try:
                if event.name not in definition.events:
                    verdict, traject = decide(definition, traject, event)
                else:
                    outcome = engine.fire(args.traject, event.name, event.data, actor=event.actor,
                                          at=event.at, idempotency_key=key)
                    verdict, traject = outcome.verdict, outcome.traject
            except EengezinError as exc:
                error = exc
                break
            steps.append(step_json(number, obj["event"], verdict, traject))
            if not args.json:
                print_step_text(out, number, obj["event"], verdict, traject, definition)
        version = store.version(args.traject) or 0
    final = final_json(definition, traject, at)
    if args.json:
        result: dict[str, Any] = {
            "definition": definition_json(definition),
            "traject": args.traject,
            "version": version,
            "steps": steps,
            "final": final,
        }
        if error is not None:
            result["error"] = str(error)
        dump_json(result, out, pretty=args.pretty)
    else:
        accepted = sum(1 for s in steps if s["accepted"])
        out.write(f"\n{accepted} van {len(steps)} events geaccepteerd en opgeslagen; traject "
                  f"{args.traject} staat op versie {version}; eindstaat: "
                  + ", ".join(f"{k}={v}" for k, v in final["state"].items()) + "\n")
    if error is not None:
        raise error
    return 0


def _current(engine: Engine, traject_id: str) -> Traject:
    try:
        return engine.load(traject_id)
    except TrajectNotFoundError:
        return engine.new(traject_id)


# ---------------------------------------------------------------- show / history


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin show --store URL ID``: the stored traject's version, definition and state."""
    with _open(args.store, create=False, readonly=True) as store:
        traject = store.load(args.traject)
    if args.json:
        dump_json({
            "traject": traject.id,
            "version": traject.version,
            "definition": ref_dict(traject.definition),
            "state": dict(traject.state),
            "deadlines": [{"id": d.id, "started": d.started.isoformat(), "due": d.due.isoformat()}
                          for d in sorted(traject.deadlines.values(), key=lambda d: (d.due, d.id))],
        }, out, pretty=args.pretty)
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
    """``eengezin history --store URL ID [--start V] [--limit N]``: the log, oldest first,
    read page by page."""
    with _open(args.store, create=False, readonly=True) as store:
        if args.limit is None:
            history = list(store.iter_history(args.traject))
        else:
            history = store.history(args.traject, start=args.start, limit=args.limit)
        if args.limit is None and args.start:
            history = history[args.start:]
    if args.json:
        rows = [{
            "version": e.version or i,
            "event": e.event,
            "at": e.at.isoformat(),
            "actor": None if e.actor is None else {"id": e.actor.id, "role": e.actor.role},
            "data": dict(e.data),
            "definition": ref_dict(e.definition),
            "warnings": [v.rule for v in e.warnings],
            "backdated": e.backdated,
        } for i, e in enumerate(history, start=args.start + 1)]
        dump_json({"traject": args.traject, "history": rows}, out, pretty=args.pretty)
        return 0
    for i, e in enumerate(history, start=args.start + 1):
        who = f" door {e.actor.id}" if e.actor else ""
        mark = "  [migratie]" if e.event == MIGRATION_EVENT else ""
        late = "  [later geregistreerd]" if e.backdated else ""
        out.write(f"{e.version or i:>5}  {e.at.isoformat()}  {e.event}{who}  "
                  f"({e.definition.id} v{e.definition.version}){mark}{late}\n")
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
    with _open(args.store, create=False) as store, Progress("migrate", store.count()) as progress:
        report = migrate_store(store, target, migrations, dry_run=args.dry_run,
                               progress=lambda _tid: progress.advance())
    if args.json:
        dump_json(report.to_json(), out, pretty=args.pretty)
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
    with _open(args.store, create=False, readonly=True) as store, \
            Progress("monitor", store.count()) as progress:
        figures = compute_monitor(store, van=van, tot=tot,
                                  progress=lambda _tid: progress.advance())
    if args.json:
        dump_json(figures.to_json(), out, pretty=args.pretty)
    else:
        out.write(figures.to_text())
    return 0


def cmd_deadlines(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin deadlines --store URL [--overdue-at DATE]``: open (or overdue) deadlines."""
    with _open(args.store, create=False, readonly=True) as store:
        if args.overdue_at:
            try:
                day = date.fromisoformat(args.overdue_at[:10])
            except ValueError:
                raise _usage(f"--overdue-at: geen geldige datum: {args.overdue_at!r}") from None
            rows = store.overdue(day, limit=args.limit)
        else:
            rows = store.open_deadlines(limit=args.limit)
    if args.json:
        dump_json([{"traject": d.traject_id, "id": d.id, "started": d.started.isoformat(),
                    "due": d.due.isoformat()} for d in rows], out, pretty=args.pretty)
        return 0
    for d in rows:
        out.write(f"{d.due.isoformat()}  {d.traject_id}  {d.id} (sinds {d.started.isoformat()})\n")
    return 0


def cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin verify --store URL [ID …] [--heads]``: walk every hash chain (logs and
    the ledger of trajecten), compare snapshots and indexes with the logs, decide every
    logged entry again and compare with what the log recorded; exit 1 on corruption (a
    host predicate that now answers differently is reported, not an error). Opens the
    store read-only. ``--heads`` prints the chain heads to anchor elsewhere."""
    problems: list[str] = []
    notes: list[str] = []
    reports: list[dict[str, Any]] = []
    with _open(args.store, create=False, readonly=True) as store:
        if args.heads:
            dump_json(store.heads(), out, pretty=True)
            return 0
        if isinstance(store, SQLiteStore):
            problems.extend(f"sqlite: {p}" for p in store.integrity_check())
        integrity = store.check_integrity(args.traject or None)
        problems.extend(integrity)
        ids = args.traject or store.ids()
        engines: dict[str, Engine] = {}
        progress = Progress("verify", len(ids))
        for tid in ids:
            progress.advance()
            try:
                traject = store.load(tid)
                engine = engines.get(traject.definition.hash)
                if engine is None:
                    engine = engines[traject.definition.hash] = Engine(
                        store.definition(traject.definition), store=store)
                report = engine.verify(tid)
            except EengezinError as exc:
                problems.append(f"{tid}: {exc}")
                reports.append({"traject": tid, "ok": False, "error": str(exc), "findings": []})
                continue
            for f in report.findings:
                line = f"{tid}: regel {f.version} ({f.event or '-'}): {f.kind}: {f.detail}"
                (notes if f.kind == "host_predicate" else problems).append(line)
            reports.append({"traject": tid, "ok": report.ok, "version": report.version,
                            "findings": [{"kind": f.kind, "version": f.version, "event": f.event,
                                          "detail": f.detail} for f in report.findings]})
    if args.json:
        dump_json({"checked": len(ids), "problems": len(problems), "chain": store.chain_kind,
                   "integrity": integrity, "trajecten": reports}, out, pretty=args.pretty)
        return 1 if problems else 0
    progress.__exit__()
    for note in notes:
        out.write(f"LET OP {note}\n")
    for problem in problems:
        out.write(f"FOUT {problem}\n")
    out.write(f"{len(ids)} trajecten gecontroleerd, {len(problems)} problemen\n")
    return 1 if problems else 0




# ---------------------------------------------------------------- privacy


def cmd_erase(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin erase --store URL ID --reden TEKST --door ID [--uitzondering TEKST]``:
    erase a traject's personal data (the statutory term blocks it unless an exception is
    given)."""
    with _open(args.store, create=False) as store:
        traject = store.load(args.traject)
        engine = Engine(store.definition(traject.definition), store=store)
        engine.erase(args.traject, args.reden, args.door, exception=args.uitzondering)
    out.write(f"traject {args.traject}: persoonsgegevens gewist\n")
    return 0


def cmd_retention(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin retention --store URL (--dry-run | --apply) [--at ISO]``: erase what has
    passed its retention term (or only list it)."""
    from ..privacy import apply_retention

    if args.apply == args.dry_run:
        raise UsageError("retention: kies --dry-run of --apply")
    at = parse_moment(args.at, "--at") if args.at else datetime.now(UTC)
    with _open(args.store, create=False, readonly=args.dry_run) as store:
        due = apply_retention(store, at, dry_run=args.dry_run)
    if args.json:
        dump_json({"dry_run": args.dry_run, "at": at.isoformat(), "trajecten": [
            {"traject": d.traject_id, "closed": d.closed.isoformat() if d.closed else None,
             "until": d.until.isoformat() if d.until else None} for d in due]},
            out, pretty=args.pretty)
        return 0
    verb = "zou wissen" if args.dry_run else "gewist"
    for d in due:
        out.write(f"  {verb}: {d.traject_id} (afgesloten {d.closed.date() if d.closed else '-'}, "
                  f"bewaren tot en met {d.until})\n")
    out.write(f"{len(due)} trajecten {verb}" + (" — proefdraai, er is niets veranderd"
                                                if args.dry_run else "") + "\n")
    return 0


def cmd_inzage(args: argparse.Namespace, out: TextIO) -> int:
    """``eengezin inzage --store URL --zoek TEKST``: everything about one person, as JSON
    (AVG art. 15); read-only."""
    from ..privacy import inzage

    with _open(args.store, create=False, readonly=True) as store:
        found = inzage(store, args.zoek)
    dump_json(found, out, pretty=True)
    return 0
