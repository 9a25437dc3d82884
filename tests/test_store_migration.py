"""Definition versions and migrations: completeness checks, dry runs, journaled moves, replay."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eengezin import Definition, DefinitionMismatchError, Event, load_definition, step
from eengezin.store import (
    MIGRATION_EVENT,
    Migration,
    MigrationError,
    MigrationFailure,
    SQLStore,
    check_migration,
    fire,
    load_migration,
    migrate_store,
    migrate_traject,
)
from eengezin.store.migration import parse_migration
from test_store_contract import (  # fixtures and helpers shared with the contract suite
    AANMELDEN,
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

EXAMPLE = DATA / "migrations" / "basis-1-naar-2.yaml"
AT = datetime(2026, 6, 1, 9)


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
    moved = migrate_traject(example, traject, basis, v2, AT)
    assert moved.definition == v2.ref
    assert moved.version == traject.version + 1
    entry = moved.history[-1]
    assert entry.event == MIGRATION_EVENT and entry.definition == v2.ref
    assert entry.data["van"]["version"] == "1" and entry.data["naar"]["version"] == "2"
    assert dict(moved.state) == {"regie": "aanmelding", "veiligheid": "geen_signalen",
                                 "escalatie": "geen"}
    assert moved.facts["oorspronkelijke_vraag"] == AANMELDEN["vraag"]
    assert moved.facts["migratie_opmerking"] == "gemigreerd naar versie 2"
    assert traject.history == moved.history[:-1]  # the input is untouched


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


def basis_new(definition: Definition):  # type: ignore[no-untyped-def]
    from eengezin import new_traject

    return new_traject(definition, "T-pure")


# ---------------------------------------------------------------- over a store


def fill(store: SQLStore, definition: Definition, n: int = 3) -> None:
    for i in range(n):
        store_all(store, definition, f"T-{i}", events(i)[: 1 + 2 * i])


def test_dry_run_reports_and_changes_nothing(store: SQLStore, basis: Definition,
                                             v2: Definition, example: Migration) -> None:
    fill(store, basis)
    before = {tid: store.load(tid, basis) for tid in store.ids()}
    report = migrate_store(store, v2, [example], dry_run=True, at=AT)
    assert report.dry_run and not report.failed and report.current == 0
    assert sorted(m.traject_id for m in report.moved) == ["T-0", "T-1", "T-2"]
    assert all(m.state["escalatie"] == "geen" for m in report.moved)
    assert {tid: store.load(tid, basis) for tid in store.ids()} == before


def test_migration_moves_every_traject_and_replays_across_it(
        make_store: Callable[..., SQLStore], basis: Definition, v2: Definition,
        example: Migration) -> None:
    store = make_store(snapshot_every=2)
    fill(store, basis)
    versions = {tid: store.version(tid) or 0 for tid in store.ids()}
    report = migrate_store(store, v2, [example], at=AT)
    assert len(report.moved) == 3 and not report.failed
    for tid, version in versions.items():
        loaded = store.load(tid, v2)
        assert loaded.version == version + 1
        assert loaded.history[-1].event == MIGRATION_EVENT
        assert loaded.state["escalatie"] == "geen"
        assert store.rebuild(tid) == loaded
        with pytest.raises(DefinitionMismatchError):
            store.load(tid, basis)
    # the new definition's events work after the move, and replay stays exact
    t2 = store.load("T-2", v2)
    later = fire(store, v2, "T-2", Event("notitie", AT + timedelta(days=1), {"tekst": "na"}))
    assert later.accepted
    fresh = make_store()
    assert fresh.verify("T-2").version == t2.version + 1
    # a second run finds nothing to do
    again = migrate_store(store, v2, [example], at=AT)
    assert again.current == 3 and not again.moved and not again.failed


def test_trajecten_without_a_migration_are_reported(store: SQLStore, basis: Definition,
                                                    v2: Definition, example: Migration) -> None:
    fill(store, basis, 1)
    termijnen = load_definition(DATA / "termijnen.yaml")
    store_all(store, termijnen, "T-termijn", events(0)[:1])
    report = migrate_store(store, v2, [example], dry_run=True, at=AT)
    assert [m.traject_id for m in report.moved] == ["T-0"]
    assert [(f.traject_id, "geen migratie" in f.reason) for f in report.failed] == [
        ("T-termijn", True)]


def test_incomplete_migration_stops_before_any_change(tmp_path: Path, store: SQLStore,
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
def test_replay_across_a_migration_equals_loading(make_store: Callable[..., SQLStore],
                                                  basis: Definition, v2: Definition,
                                                  example: Migration, before: list[str],
                                                  after: list[str]) -> None:
    """Whatever happened before and after a migration, the full replay (rebuild) of the
    history gives the traject that loading (snapshot + tail) gives."""
    store = make_store(snapshot_every=4)
    tid = f"T-{uuid.uuid4().hex[:8]}"
    fire(store, basis, tid, Event("aanmelden", T0, AANMELDEN))
    at = T0
    signals = 0

    def play(definition: Definition, kinds: list[str]) -> None:
        nonlocal at, signals
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
            fire(store, definition, tid, Event(kind, at, data))

    play(basis, before)
    assert migrate_store(store, v2, [example], at=at + timedelta(hours=1)).moved
    at += timedelta(hours=1)
    play(v2, after)
    assert store.rebuild(tid) == store.load(tid, v2)


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
    assert migrate_traject(migration, quiet, basis, v2, AT).state["regie"] == "gesloten"
    signalled = step(basis, quiet, events()[2]).traject
    assert signalled.state["veiligheid"] == "signalen"
    with pytest.raises(MigrationFailure, match=r"veiligheid\.nooit_gesloten_met_signalen"):
        migrate_traject(migration, signalled, basis, v2, AT)
