"""Definition versions and migrations: completeness checks, dry runs, journaled moves, and a
log that is applied (and verified) across a migration."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eengezin import Definition, DefinitionMismatchError, Engine, Event, load_definition, step
from eengezin.migration import (
    Migration,
    MigrationFailure,
    check_migration,
    load_migration,
    migrate_store,
    migrate_traject,
    parse_migration,
)
from eengezin.process import new_traject
from eengezin.process.step import apply
from eengezin.store import MemoryStore, MigrationError, SQLStore
from eengezin.traject import MIGRATION_EVENT, Traject
from test_store_contract import (  # fixtures and helpers shared with the contract suite
    AANMELDEN,
    AMS,
    DATA,
    T0,
    basis,
    events,
    make_store,
    store,
    store_all,
    store_url,
)

__all__ = ["basis", "make_store", "store", "store_url"]  # fixtures used by name

AnyStore = SQLStore | MemoryStore
EXAMPLE = DATA / "migrations" / "basis-1-naar-2.yaml"
AT = datetime(2026, 6, 1, 9, tzinfo=AMS)


@pytest.fixture(scope="module")
def v2() -> Definition:
    return load_definition(DATA / "basis-v2.yaml")


@pytest.fixture(scope="module")
def example() -> Migration:
    return load_migration(EXAMPLE)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- checks when loaded


def test_example_migration_is_complete(example: Migration, basis: Definition,
                                       v2: Definition) -> None:
    check_migration(example, basis, v2)
    assert example.id == "basis-1-naar-2"
    assert example.target.version == "2"


def test_unmapped_and_unknown_states_are_all_reported(tmp_path: Path, basis: Definition,
                                                      v2: Definition) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("    gesloten: gesloten\n", "")
    text = text.replace("    afronding: afronding\n", "    afronding: afgerond\n")
    text = text.replace("    zonder_regie: zonder_regie\n", "    onbekend: zonder_regie\n")
    migration = load_migration(write(tmp_path, text))
    with pytest.raises(MigrationError) as err:
        check_migration(migration, basis, v2)
    messages = [p.message for p in err.value.problems]
    assert any("'gesloten' is niet afgebeeld" in m for m in messages)
    assert any("'zonder_regie' is niet afgebeeld" in m for m in messages)
    assert any("'afgerond' is geen" in m for m in messages)
    assert any("'onbekend' is geen" in m for m in messages)
    assert all(str(p.location).startswith(str(tmp_path / "m.yaml")) for p in err.value.problems)
    assert err.value.problems[0].location.line > 1


def test_tracks_must_be_mapped_dropped_or_new(tmp_path: Path, basis: Definition,
                                              v2: Definition) -> None:
    migration = load_migration(write(tmp_path, """\
id: x
from: {definition: basis, version: "1"}
to: {definition: basis, version: "2"}
states:
  regie: same
  bestaat_niet: same
drop_tracks: [veiligheid]
new_tracks: {escalatie: niveau_9}
"""))
    with pytest.raises(MigrationError) as err:
        check_migration(migration, basis, v2)
    text = str(err.value)
    assert "'veiligheid' bestaat ook in de nieuwe definitie" in text
    assert "'bestaat_niet' bestaat niet in de oude definitie" in text
    assert "'niveau_9' is geen staat" in text


def test_migration_for_other_versions_is_refused(tmp_path: Path, basis: Definition,
                                                 v2: Definition, example: Migration) -> None:
    with pytest.raises(MigrationError, match="gaat uit van"):
        check_migration(example, v2, v2)
    with pytest.raises(MigrationError, match="leidt naar"):
        check_migration(example, basis, basis)


def test_deadlines_must_exist_or_be_mapped(basis: Definition) -> None:
    termijnen = load_definition(DATA / "termijnen.yaml")
    tree = {"id": "t", "from": {"definition": "store-termijnen", "version": "1"},
            "to": {"definition": "basis", "version": "1"},
            "states": {"regie": "same", "veiligheid": "same"}}
    with pytest.raises(MigrationError, match=r"test\.vraag_verhelderen_5_werkdagen"):
        check_migration(parse_migration(tree), termijnen, basis)
    tree["deadlines"] = {"test.vraag_verhelderen_5_werkdagen": None}
    check_migration(parse_migration(tree), termijnen, basis)


@pytest.mark.parametrize(("text", "fragment"), [
    ("id: x\nfrom: {definition: basis}\nto: {definition: basis, version: '2'}\n",
     "from.version"),
    ("id: x\nfrom: {definition: basis, version: '1'}\nto: {definition: basis, version: '2'}\n"
     "data:\n  - python: 'import os'\n", "onbekende transformatie 'python'"),
    ("id: x\nfrom: {definition: basis, version: '1'}\nto: {definition: basis, version: '2'}\n"
     "data:\n  - rename: {from: a}\n", "rename: precies de sleutels"),
    ("id: x\nfrom: {definition: basis, version: '1'}\nto: {definition: basis, version: '2'}\n"
     "states: {regie: [a, b]}\n", "states.regie"),
    ("id: x\nfrom: {definition: basis, version: '1'}\nto: {definition: basis, version: '2'}\n"
     "code: !!python/object:os.system {}\n", "YAML-tags"),
    ("id: x\nfrom: {definition: basis, version: '1'}\nto: {definition: basis, version: '2'}\n"
     "extra: 1\n", "onbekende sleutel 'extra'"),
])
def test_bad_migration_files_are_located_errors(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(MigrationError) as err:
        load_migration(write(tmp_path, text))
    assert fragment in str(err.value)
    assert str(tmp_path / "m.yaml") in str(err.value)


# ---------------------------------------------------------------- pure application


def test_migrate_traject_journals_one_entry(basis: Definition, v2: Definition,
                                            example: Migration) -> None:
    traject = step(basis, basis_new(basis), Event("aanmelden", T0, AANMELDEN)).traject
    kept = Traject(traject.id, traject.definition, dict(traject.state), dict(traject.facts),
                   dict(traject.deadlines), traject.version, traject.seen, traject.last_at)
    moved, entry = migrate_traject(example, traject, basis, v2, AT)
    assert moved.definition == v2.ref
    assert moved.version == entry.version == traject.version + 1
    assert entry.event == MIGRATION_EVENT and entry.definition == v2.ref
    assert entry.data["van"]["version"] == "1" and entry.data["naar"]["version"] == "2"
    assert dict(moved.state) == {"regie": "aanmelding", "veiligheid": "geen_signalen",
                                 "escalatie": "geen"}
    assert moved.facts["oorspronkelijke_vraag"] == AANMELDEN["vraag"]
    assert moved.facts["migratie_opmerking"] == "gemigreerd naar versie 2"
    # the entry's change is the whole snapshot: applying it needs no migration file
    assert entry.change is not None and dict(entry.change.state) == dict(moved.state)
    assert apply(v2, traject, entry) == moved
    assert traject == kept  # the input is untouched


def test_failing_transform_fails_that_traject_only(basis: Definition, v2: Definition) -> None:
    tree = {"id": "t", "from": {"definition": "basis", "version": "1"},
            "to": {"definition": "basis", "version": "2"},
            "states": {"regie": "same", "veiligheid": "same"},
            "data": [{"rename": {"from": "vraag", "to": "huishouden"}}]}
    migration = parse_migration(tree)
    check_migration(migration, basis, v2)
    traject = step(basis, basis_new(basis), Event("aanmelden", T0, AANMELDEN)).traject
    with pytest.raises(MigrationFailure, match="bestaat al"):
        migrate_traject(migration, traject, basis, v2, AT)


def basis_new(definition: Definition) -> Traject:
    return new_traject(definition, "T-pure")


def apply_log(store: AnyStore, tid: str) -> Traject:
    """The traject the stored log leads to, applied entry by entry (each under the
    definition it was decided with; nothing is decided again)."""
    traject: Traject | None = None
    for entry in store.iter_history(tid):
        definition = store.definition(entry.definition)
        if traject is None:
            traject = new_traject(definition, tid)
        traject = apply(definition, traject, entry)
    assert traject is not None
    return traject


# ---------------------------------------------------------------- over a store


def fill(store: AnyStore, definition: Definition, n: int = 3) -> None:
    for i in range(n):
        store_all(store, definition, f"T-{i}", events(i)[: 1 + 2 * i])


def test_dry_run_reports_and_changes_nothing(store: AnyStore, basis: Definition,
                                             v2: Definition, example: Migration) -> None:
    fill(store, basis)
    before = {tid: store.load(tid, basis) for tid in store.ids()}
    report = migrate_store(store, v2, [example], dry_run=True, at=AT)
    assert report.dry_run and not report.failed and report.current == 0
    assert sorted(m.traject_id for m in report.moved) == ["T-0", "T-1", "T-2"]
    assert all(m.state["escalatie"] == "geen" for m in report.moved)
    assert {tid: store.load(tid, basis) for tid in store.ids()} == before


def test_migration_moves_every_traject_and_replays_across_it(
        make_store: Callable[..., AnyStore], basis: Definition, v2: Definition,
        example: Migration) -> None:
    store = make_store()
    fill(store, basis)
    versions = {tid: store.version(tid) or 0 for tid in store.ids()}
    report = migrate_store(store, v2, [example], at=AT)
    assert len(report.moved) == 3 and not report.failed
    engine = Engine(v2, store=store)
    for tid, version in versions.items():
        loaded = store.load(tid, v2)
        assert loaded.version == version + 1
        log = store.history(tid)
        assert len(log) == version + 1 and log[-1].event == MIGRATION_EVENT
        assert [e.definition for e in log] == [basis.ref] * version + [v2.ref]
        assert loaded.state["escalatie"] == "geen"
        assert apply_log(store, tid) == loaded
        assert engine.verify(tid).findings == ()
        with pytest.raises(DefinitionMismatchError):
            store.load(tid, basis)
    # the new definition's events work after the move, and the log stays exact
    t2 = store.load("T-2", v2)
    later = engine.fire("T-2", "notitie", {"tekst": "na"}, at=AT + timedelta(days=1))
    assert later.accepted
    fresh = Engine(v2, store=make_store())
    report2 = fresh.verify("T-2")
    assert report2.version == t2.version + 1 and report2.findings == ()
    assert apply_log(store, "T-2") == store.load("T-2")
    with pytest.raises(DefinitionMismatchError):  # the old definition cannot write any more
        Engine(basis, store=store).fire("T-2", "notitie", {"tekst": "oud"},
                                        at=AT + timedelta(days=2))
    # a second run finds nothing to do
    again = migrate_store(store, v2, [example], at=AT)
    assert again.current == 3 and not again.moved and not again.failed


def test_trajecten_without_a_migration_are_reported(store: AnyStore, basis: Definition,
                                                    v2: Definition, example: Migration) -> None:
    fill(store, basis, 1)
    termijnen = load_definition(DATA / "termijnen.yaml")
    store_all(store, termijnen, "T-termijn", events(0)[:1])
    report = migrate_store(store, v2, [example], dry_run=True, at=AT)
    assert [m.traject_id for m in report.moved] == ["T-0"]
    assert [(f.traject_id, "geen migratie" in f.reason) for f in report.failed] == [
        ("T-termijn", True)]


def test_incomplete_migration_stops_before_any_change(tmp_path: Path, store: AnyStore,
                                                      basis: Definition, v2: Definition) -> None:
    fill(store, basis)
    text = EXAMPLE.read_text(encoding="utf-8").replace("    gesloten: gesloten\n", "")
    with pytest.raises(MigrationError):
        migrate_store(store, v2, [load_migration(write(tmp_path, text))], at=AT)
    assert all(store.load(tid, basis).definition == basis.ref for tid in store.ids())


KINDS = st.lists(st.sampled_from(["notitie", "signaal_melden", "signaal_opheffen"]), max_size=6)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(before=KINDS, after=KINDS)
def test_replay_across_a_migration_equals_loading(make_store: Callable[..., AnyStore],
                                                  basis: Definition, v2: Definition,
                                                  example: Migration, before: list[str],
                                                  after: list[str]) -> None:
    """Whatever happened before and after a migration, applying the stored log entry by
    entry gives the stored snapshot, and verify (which decides every entry again, per
    definition) finds nothing."""
    store = make_store()
    tid = f"T-{uuid.uuid4().hex[:8]}"
    assert Engine(basis, store=store).start(tid, AANMELDEN, at=T0).accepted
    at = T0
    signals = 0

    def play(definition: Definition, kinds: list[str]) -> None:
        nonlocal at, signals
        engine = Engine(definition, store=store)
        for kind in kinds:
            at += timedelta(hours=1)
            if kind == "notitie":
                data: dict[str, object] = {"tekst": kind}
            elif kind == "signaal_melden":
                signals += 1
                data = {"id": f"s{signals}", "soort": "vermoeden", "omschrijving": "x",
                        "wie": "y"}
            else:
                data = {"id": f"s{signals}", "onderbouwing": "weg"}
            engine.fire(tid, kind, data, at=at)

    play(basis, before)
    at += timedelta(hours=1)
    assert migrate_store(store, v2, [example], at=at).moved
    play(v2, after)
    assert apply_log(store, tid) == store.load(tid, v2)
    assert Engine(v2, store=store).verify(tid).findings == ()


def test_a_move_that_breaks_an_invariant_fails_that_traject(basis: Definition,
                                                            v2: Definition) -> None:
    """Mapping a signalled traject into 'gesloten' would break 'never closed with open
    signals': the dry run reports it instead of moving it."""
    tree = {"id": "t", "from": {"definition": "basis", "version": "1"},
            "to": {"definition": "basis", "version": "2"},
            "states": {"regie": {leaf: "gesloten" for leaf in basis.tracks["regie"].leaves},
                       "veiligheid": "same"}}
    migration = parse_migration(tree)
    check_migration(migration, basis, v2)
    quiet = step(basis, basis_new(basis), Event("aanmelden", T0, AANMELDEN)).traject
    assert migrate_traject(migration, quiet, basis, v2, AT)[0].state["regie"] == "gesloten"
    signalled = step(basis, quiet, events()[2]).traject
    assert signalled.state["veiligheid"] == "signalen"
    with pytest.raises(MigrationFailure, match=r"veiligheid\.nooit_gesloten_met_signalen"):
        migrate_traject(migration, signalled, basis, v2, AT)
