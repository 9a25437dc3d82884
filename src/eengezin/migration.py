"""Moving trajecten from one definition version to another, declared in YAML.

A migration file maps every state of the old definition to a state of the new one
and lists named data transforms (no code)::

    id: basis-1-naar-2
    from: {definition: basis, version: "1"}      # optional: hash: <sha256>
    to: {definition: basis, version: "2"}
    states:
      regie:
        aanmelding: aanmelding
        vraagverheldering: vraagverheldering
        # ... every leaf state of the old track
      veiligheid: same            # identity; every old state must exist in the new track
    new_tracks: {escalatie: geen} # tracks only the new definition has (default: its initial)
    drop_tracks: []               # tracks only the old definition has
    deadlines: {oude_termijn: nieuwe_termijn, vervallen_termijn: null}
    data:
      - rename: {from: plan, to: gezinsplan}
      - copy: {from: regisseur, to: eerste_regisseur}
      - drop: tijdelijk_feit
      - set: {fact: bron, value: migratie}
      - default: {fact: familiegroepsplan, value: null}
      - map_value: {fact: afstemming, values: {email: mail}}

:func:`load_migration` checks the file's shape (every problem with file:line:col);
:func:`check_migration` checks completeness against both definitions. Applying it to a
traject is pure (:func:`migrate_traject`): it appends one history entry
(:data:`~eengezin.store.codec.MIGRATION_EVENT`) whose data records the migration as it was
applied, and whose recorded change is the whole traject under the new definition, so the
log is applied across a migration without the file (:func:`eengezin.process.apply`).
:func:`migrate_store` moves every traject of a store through the :class:`~eengezin.Engine`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from .definition import Locator, parse_yaml
from .engine import Engine
from .errors import DefinitionError, EengezinError, Location, Problem
from .process.model import Definition
from .rules.context import Context
from .store.codec import ref_dict
from .store.contract import Store
from .store.errors import MigrationError
from .traject import MIGRATION_EVENT, Actor, Change, DefinitionRef, HistoryEntry, OpenDeadline, Traject

SAME = "same"
TRANSFORMS = ("rename", "copy", "drop", "set", "default", "map_value")
TOP_KEYS = frozenset({"id", "description", "from", "to", "states", "new_tracks", "drop_tracks",
                      "deadlines", "data"})
MIGRATION_ACTOR = Actor("eengezin-migrate", "systeem")


@attrs.frozen(slots=True)
class Side:
    """Which definition a migration starts from or leads to (``hash`` optional)."""

    definition: str
    version: str
    hash: str | None = None

    def matches(self, ref: DefinitionRef) -> bool:
        """True when ``ref`` is this definition (and this exact content, when a hash is set)."""
        return (ref.id == self.definition and ref.version == self.version
                and (self.hash is None or self.hash == ref.hash))

    def __str__(self) -> str:
        return f"{self.definition} v{self.version}" + (f" ({self.hash[:12]})" if self.hash else "")


@attrs.frozen(slots=True)
class Migration:
    """A checked migration file (see the module docstring for the format)."""

    id: str
    source: Side
    target: Side
    states: Mapping[str, Mapping[str, str] | str]
    new_tracks: Mapping[str, str]
    drop_tracks: tuple[str, ...]
    deadlines: Mapping[str, str | None]
    data: tuple[Mapping[str, Any], ...]
    file: str = ""
    description: str = ""
    locations: Mapping[str, Location] = attrs.field(factory=dict, eq=False, repr=False)

    def where(self, key: str) -> Location:
        """Where a section of the file is (for problems)."""
        return self.locations.get(key, Location(self.file or "<migration>", 1, 1))


class MigrationFailure(EengezinError):
    """One traject cannot be migrated (reported by a dry run; nothing is changed)."""


# ---------------------------------------------------------------- loading


def load_migration(path: str | Path) -> Migration:
    r"""Read and shape-check a migration file; raise :class:`MigrationError` with every problem.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "m.yaml")
    >>> _ = open(path, "w").write("id: m1\nfrom: {definition: basis, version: '1'}\n"
    ...                           "to: {definition: basis, version: '2'}\nstates: {}\n")
    >>> load_migration(path).target.version
    '2'
    """
    filename = str(path)
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationError([Problem(Location(filename), f"kan bestand niet lezen: {exc}")]
                             ) from None
    locator = Locator()
    try:
        tree = parse_yaml(text, filename, locator)
    except DefinitionError as exc:
        raise MigrationError(exc.problems) from None
    return parse_migration(tree, filename, locator)


def parse_migration(tree: Any, filename: str = "<migration>",
                    locator: Locator | None = None) -> Migration:
    """Shape-check an already parsed migration tree (see :func:`load_migration`)."""
    loc = locator or Locator()
    here = Location(filename, 1, 1)
    problems: list[Problem] = []

    def at(node: Any, key: Any = None) -> Location:
        return loc.where(node, key, default=here)

    def need_str(node: Any, key: str, what: str) -> str:
        value = node.get(key) if isinstance(node, dict) else None
        if not isinstance(value, str) or not value:
            problems.append(Problem(at(node, key), f"{what}: tekst verwacht"))
            return ""
        return value

    if not isinstance(tree, dict):
        raise MigrationError([Problem(here, "een migratie is een mapping")])
    for key in sorted(set(tree) - TOP_KEYS):
        problems.append(Problem(at(tree, key), f"onbekende sleutel {key!r}"))
    ident = need_str(tree, "id", "id")
    sides: list[Side] = []
    for key in ("from", "to"):
        node = tree.get(key)
        if not isinstance(node, dict):
            problems.append(Problem(at(tree, key), f"{key}: {{definition, version}} verwacht"))
            sides.append(Side("", ""))
            continue
        for extra in sorted(set(node) - {"definition", "version", "hash"}):
            problems.append(Problem(at(node, extra), f"{key}: onbekende sleutel {extra!r}"))
        digest = node.get("hash")
        if digest is not None and not isinstance(digest, str):
            problems.append(Problem(at(node, "hash"), f"{key}.hash: tekst verwacht"))
            digest = None
        version = node.get("version")
        if isinstance(version, int | float) and not isinstance(version, bool):
            version = str(version)
            node["version"] = version
        sides.append(Side(need_str(node, "definition", f"{key}.definition"),
                          need_str(node, "version", f"{key}.version"), digest))
    states: dict[str, Mapping[str, str] | str] = {}
    raw_states = tree.get("states", {})
    if not isinstance(raw_states, dict):
        problems.append(Problem(at(tree, "states"), "states: per track een mapping verwacht"))
        raw_states = {}
    for track, mapping in raw_states.items():
        if mapping == SAME:
            states[track] = SAME
        elif isinstance(mapping, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
            states[track] = dict(mapping)
        else:
            problems.append(Problem(at(raw_states, track),
                                    f"states.{track}: '{SAME}' of een mapping oude staat: nieuwe "
                                    "staat verwacht"))
    new_tracks = tree.get("new_tracks", {})
    if not isinstance(new_tracks, dict) or not all(isinstance(v, str) for v in new_tracks.values()):
        problems.append(Problem(at(tree, "new_tracks"), "new_tracks: mapping track: staat verwacht"))
        new_tracks = {}
    drop_tracks = tree.get("drop_tracks", [])
    if not isinstance(drop_tracks, list) or not all(isinstance(v, str) for v in drop_tracks):
        problems.append(Problem(at(tree, "drop_tracks"), "drop_tracks: lijst van tracks verwacht"))
        drop_tracks = []
    deadlines = tree.get("deadlines", {})
    if not isinstance(deadlines, dict) or not all(
            v is None or isinstance(v, str) for v in deadlines.values()):
        problems.append(Problem(at(tree, "deadlines"),
                                "deadlines: mapping oude termijn: nieuwe termijn (of null)"))
        deadlines = {}
    data = tree.get("data", [])
    if not isinstance(data, list):
        problems.append(Problem(at(tree, "data"), "data: lijst van transformaties verwacht"))
        data = []
    for i, op in enumerate(data):
        for message in _transform_problems(op):
            problems.append(Problem(at(data, i), f"data[{i}]: {message}"))
    description = tree.get("description", "")
    if problems:
        raise MigrationError(problems)
    locations = {key: at(tree, key) for key in tree}
    return Migration(
        id=ident, source=sides[0], target=sides[1], states=states, new_tracks=dict(new_tracks),
        drop_tracks=tuple(drop_tracks), deadlines=dict(deadlines),
        data=tuple(copy.deepcopy(op) for op in data), file=filename,
        description=description if isinstance(description, str) else "", locations=locations,
    )


def _transform_problems(op: Any) -> list[str]:
    if not isinstance(op, dict) or len(op) != 1:
        return [f"één transformatie per item: {', '.join(TRANSFORMS)}"]
    (name, arg), = op.items()
    if name not in TRANSFORMS:
        return [f"onbekende transformatie {name!r} (bekend: {', '.join(TRANSFORMS)})"]
    if name == "drop":
        return [] if isinstance(arg, str) and arg else ["drop: de naam van een feit verwacht"]
    if not isinstance(arg, dict):
        return [f"{name}: een mapping verwacht"]
    wanted = {"rename": {"from", "to"}, "copy": {"from", "to"}, "set": {"fact", "value"},
              "default": {"fact", "value"}, "map_value": {"fact", "values"}}[name]
    if set(arg) != wanted:
        return [f"{name}: precies de sleutels {', '.join(sorted(wanted))} verwacht"]
    names = [arg[k] for k in ("from", "to", "fact") if k in arg]
    if not all(isinstance(n, str) and n for n in names):
        return [f"{name}: feitnamen zijn tekst"]
    if name == "map_value" and not isinstance(arg["values"], dict):
        return ["map_value: values is een mapping oud: nieuw"]
    return []


def find_migrations(paths: Iterable[str | Path]) -> list[Migration]:
    """Load every migration in the given files and folders (``*.yaml``/``*.yml``)."""
    found: list[Migration] = []
    for path in paths:
        p = Path(path)
        files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
        found.extend(load_migration(f) for f in files)
    return found


# ---------------------------------------------------------------- completeness


def check_migration(migration: Migration, old: Definition, new: Definition) -> None:
    """Check that ``migration`` leads every possible traject of ``old`` into ``new``.

    Every leaf state of every old track must be mapped to a leaf of the same track in the
    new definition (or the track dropped); new tracks get a valid state; every old deadline
    exists in the new definition or is mapped. Raises :class:`MigrationError` listing every
    problem.
    """
    problems: list[Problem] = []

    def problem(section: str, message: str) -> None:
        problems.append(Problem(migration.where(section), message))

    if not migration.source.matches(old.ref):
        problem("from", f"migratie {migration.id} gaat uit van {migration.source}, niet van "
                        f"{old.id} v{old.version} ({old.hash[:12]})")
    if not migration.target.matches(new.ref):
        problem("to", f"migratie {migration.id} leidt naar {migration.target}, niet naar "
                      f"{new.id} v{new.version} ({new.hash[:12]})")
    for track_id, track in old.tracks.items():
        mapping = migration.states.get(track_id)
        if track_id in migration.drop_tracks:
            if track_id in new.tracks:
                problem("drop_tracks", f"track {track_id!r} bestaat ook in de nieuwe definitie: "
                                       "beeld zijn staten af in plaats van hem te laten vervallen")
            continue
        if track_id not in new.tracks:
            problem("states", f"track {track_id!r} bestaat niet in de nieuwe definitie: zet hem "
                              "onder drop_tracks")
            continue
        target = new.tracks[track_id]
        if mapping is None:
            problem("states", f"track {track_id!r}: staten niet afgebeeld (of '{SAME}')")
            continue
        if mapping == SAME:
            for leaf in sorted(track.leaves - target.leaves):
                problem("states", f"{track_id}: staat {leaf!r} bestaat niet in de nieuwe "
                                  f"definitie, dus '{SAME}' kan niet")
            continue
        assert isinstance(mapping, Mapping)
        for leaf in sorted(track.leaves - set(mapping)):
            problem("states", f"{track_id}: staat {leaf!r} is niet afgebeeld")
        for key, value in mapping.items():
            if key not in track.leaves:
                problem("states", f"{track_id}: {key!r} is geen (eind)staat van de oude definitie")
            if value not in target.leaves:
                problem("states", f"{track_id}: {value!r} is geen (eind)staat van de nieuwe "
                                  "definitie")
    for track_id in migration.states:
        if track_id not in old.tracks:
            problem("states", f"track {track_id!r} bestaat niet in de oude definitie")
    for track_id in migration.drop_tracks:
        if track_id not in old.tracks:
            problem("drop_tracks", f"track {track_id!r} bestaat niet in de oude definitie")
    for track_id, state in migration.new_tracks.items():
        if track_id in old.tracks or track_id not in new.tracks:
            problem("new_tracks", f"track {track_id!r} is niet nieuw in de nieuwe definitie")
        elif state not in new.tracks[track_id].leaves:
            problem("new_tracks", f"{track_id}: {state!r} is geen staat van de nieuwe definitie")
    for did in sorted(set(old.deadlines) - set(new.deadlines) - set(migration.deadlines)):
        problem("deadlines", f"termijn {did!r} bestaat niet in de nieuwe definitie: beeld hem "
                             "af of zet hem op null")
    for did, target_id in migration.deadlines.items():
        if did not in old.deadlines:
            problem("deadlines", f"termijn {did!r} bestaat niet in de oude definitie")
        if target_id is not None and target_id not in new.deadlines:
            problem("deadlines", f"termijn {target_id!r} bestaat niet in de nieuwe definitie")
    if problems:
        raise MigrationError(problems)


# ---------------------------------------------------------------- applying (pure)


def _apply_transforms(facts: Mapping[str, Any], ops: Sequence[Mapping[str, Any]]
                      ) -> dict[str, Any]:
    out = dict(facts)
    for op in ops:
        (name, arg), = op.items()
        if name == "drop":
            out.pop(arg, None)
        elif name in ("rename", "copy"):
            if arg["from"] not in out:
                continue
            if arg["to"] in out and arg["to"] != arg["from"]:
                raise MigrationFailure(f"{name}: feit {arg['to']!r} bestaat al")
            value = out.pop(arg["from"]) if name == "rename" else out[arg["from"]]
            out[arg["to"]] = copy.deepcopy(value)
        elif name == "set":
            out[arg["fact"]] = copy.deepcopy(arg["value"])
        elif name == "default":
            out.setdefault(arg["fact"], copy.deepcopy(arg["value"]))
        elif name == "map_value":
            value = out.get(arg["fact"])
            if isinstance(value, str | int | float | bool) and str(value) in arg["values"]:
                out[arg["fact"]] = copy.deepcopy(arg["values"][str(value)])
        else:  # pragma: no cover - rejected when loaded
            raise MigrationFailure(f"onbekende transformatie {name!r}")
    return out


def migrate_traject(migration: Migration, traject: Traject, old: Definition, new: Definition,
                    at: datetime, actor: Actor = MIGRATION_ACTOR) -> tuple[Traject, HistoryEntry]:
    """The traject moved to ``new``, and the log entry that journals the migration.

    Pure. Raises :class:`MigrationFailure` when this traject cannot move (its state is not
    a state of ``old``, or a data transform fails). Call :func:`check_migration` first.
    """
    if traject.definition != old.ref:
        raise MigrationFailure(f"traject {traject.id!r} staat niet op {old.id} v{old.version}")
    state: dict[str, str] = {}
    for track_id, current in traject.state.items():
        if track_id in migration.drop_tracks:
            continue
        mapping = migration.states.get(track_id)
        if mapping == SAME:
            state[track_id] = current
        elif isinstance(mapping, Mapping) and current in mapping:
            state[track_id] = mapping[current]
        else:
            raise MigrationFailure(f"{track_id}: staat {current!r} is niet afgebeeld")
    for track_id, track in new.tracks.items():
        if track_id not in state:
            state[track_id] = migration.new_tracks.get(track_id, track.initial)
    deadlines: dict[str, str | None] = {}
    for did in traject.deadlines:
        target = migration.deadlines.get(did, did)
        if target is not None and target not in new.deadlines:
            raise MigrationFailure(f"termijn {did!r} bestaat niet in de nieuwe definitie")
        deadlines[did] = target
    data = {
        "migratie": migration.id,
        "van": ref_dict(old.ref),
        "naar": ref_dict(new.ref),
        "was": dict(traject.state),
        "staat": state,
        "termijnen": deadlines,
        "data": [dict(op) for op in migration.data],
    }
    facts = _apply_transforms(traject.facts, migration.data)
    open_deadlines: dict[str, OpenDeadline] = {}
    for did, open_deadline in traject.deadlines.items():
        target = deadlines[did]
        if target is not None:
            open_deadlines[target] = OpenDeadline(target, open_deadline.started, open_deadline.due)
    entry = HistoryEntry(event=MIGRATION_EVENT, at=at, data=data, actor=actor,
                         definition=new.ref, version=traject.version + 1,
                         change=Change(state=state, facts=facts,
                                       started=tuple(open_deadlines.values())))
    moved = Traject(id=traject.id, definition=new.ref, state=state, facts=facts,
                    deadlines=open_deadlines, version=traject.version + 1, seen=traject.seen,
                    last_at=traject.last_at)
    broken = violated_invariants(new, moved, at)
    if broken:
        raise MigrationFailure("na de migratie geldt niet: " + "; ".join(broken))
    return moved, entry


def violated_invariants(definition: Definition, traject: Traject, at: datetime) -> list[str]:
    """The ``always`` invariants of ``definition`` that ``traject`` breaks (``id: message``)."""
    ctx = Context(data={}, facts=traject.facts, state=traject.state, event=MIGRATION_EVENT,
                  at=at, params=definition.params, seen=traject.seen,
                  deadlines=traject.deadlines)
    return [f"{inv.id}: {inv.message.strip()}" for inv in definition.invariants
            if isinstance(inv.raw, Mapping) and "always" in inv.raw and not inv.condition(ctx)]


# ---------------------------------------------------------------- over a whole store


@attrs.frozen(slots=True)
class Move:
    """One traject that moves (or would move, in a dry run)."""

    traject_id: str
    source: DefinitionRef
    target: DefinitionRef
    was: Mapping[str, str]
    state: Mapping[str, str]
    migration: str


@attrs.frozen(slots=True)
class Failure:
    """One traject that cannot move, and why."""

    traject_id: str
    source: DefinitionRef | None
    reason: str


@attrs.frozen(slots=True)
class MigrationReport:
    """What :func:`migrate_store` did, or would do in a dry run."""

    target: DefinitionRef
    dry_run: bool
    moved: tuple[Move, ...]
    failed: tuple[Failure, ...]
    current: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (the CLI's ``--json``)."""
        return {
            "target": ref_dict(self.target),
            "dry_run": self.dry_run,
            "current": self.current,
            "moved": [{"traject": m.traject_id, "from": ref_dict(m.source),
                       "migration": m.migration, "was": dict(m.was), "state": dict(m.state)}
                      for m in self.moved],
            "failed": [{"traject": f.traject_id,
                        "from": ref_dict(f.source) if f.source else None, "reason": f.reason}
                       for f in self.failed],
        }


def migrate_store(store: Store, target: Definition, migrations: Sequence[Migration], *,
                  dry_run: bool = False, at: datetime | None = None,
                  actor: Actor = MIGRATION_ACTOR,
                  progress: Callable[[str], None] | None = None) -> MigrationReport:
    """Move every traject not on ``target`` with the matching migration (or only report).

    For each definition the store's trajecten are pinned to, exactly one migration must lead
    from it to ``target``; it is checked for completeness first (an incomplete migration
    raises :class:`MigrationError` before anything changes). Each traject moves in its own
    transaction; a concurrent writer makes that traject reload and try again.
    """
    moment = at if at is not None else datetime.now(UTC)
    moved: list[Move] = []
    failed: list[Failure] = []
    current = 0
    for ref, count in store.definitions().items():
        if ref == target.ref:
            current += count
            continue
        ids = store.ids(definition=ref)
        fitting = [m for m in migrations if m.source.matches(ref) and m.target.matches(target.ref)]
        if len(fitting) != 1:
            reason = (f"geen migratie van {ref.id} v{ref.version} ({ref.hash[:12]}) naar "
                      f"{target.id} v{target.version}" if not fitting else
                      f"meer dan één migratie past: {', '.join(m.id for m in fitting)}")
            failed.extend(Failure(tid, ref, reason) for tid in ids)
            continue
        migration = fitting[0]
        try:
            old = store.definition(ref)
        except (EengezinError, ValueError) as exc:
            failed.extend(Failure(tid, ref, f"oude definitie niet te laden: {exc}") for tid in ids)
            continue
        check_migration(migration, old, target)
        engine = Engine(target, store=store)
        for tid in ids:
            result = _migrate_one(engine, migration, tid, old, target, moment, actor, dry_run)
            (moved if isinstance(result, Move) else failed).append(result)  # type: ignore[arg-type]
            if progress is not None:
                progress(tid)
    return MigrationReport(target.ref, dry_run, tuple(moved), tuple(failed), current)


def _migrate_one(engine: Engine, migration: Migration, tid: str, old: Definition,
                 new: Definition, at: datetime, actor: Actor, dry_run: bool) -> Move | Failure:
    store = engine.store
    assert store is not None
    try:
        traject = store.load(tid, old)
        after, _entry = migrate_traject(migration, traject, old, new, at, actor)
        move = Move(tid, old.ref, new.ref, dict(traject.state), dict(after.state), migration.id)
        if dry_run:
            return move
        moved = engine.migrate(tid, old, lambda t: migrate_traject(migration, t, old, new, at, actor))
    except EengezinError as exc:
        return Failure(tid, old.ref, str(exc))
    return Move(tid, old.ref, new.ref, move.was, dict(moved.state), migration.id)
