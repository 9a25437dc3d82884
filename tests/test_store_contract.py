"""The store contract, run against every backend (memory and SQLite always; PostgreSQL with
EENGEZIN_TEST_PG).

A store only persists: ``append`` writes log entries and the snapshot after them in one
transaction, ``load`` returns the stored snapshot (nothing is decided again), ``history``
pages the log. The :class:`~eengezin.Engine` decides.

Without EENGEZIN_TEST_PG the PostgreSQL cases skip locally but FAIL when CI=true, so CI
cannot silently skip them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eengezin import (
    ConflictError,
    Definition,
    DefinitionMismatchError,
    Engine,
    Event,
    HistoryEntry,
    load_definition,
    new_traject,
    replay,
    step,
)
from eengezin.errors import IdempotencyConflictError
from eengezin.process.step import restore
from eengezin.store import (
    MemoryStore,
    SQLStore,
    Store,
    StoreError,
    TrajectNotFoundError,
    open_store,
)
from eengezin.store.testing import postgres_dsn, postgres_schema, running_in_ci
from eengezin.traject import Traject

AnyStore = SQLStore | MemoryStore

DATA = Path(__file__).parent / "data" / "store"
SQL_BACKENDS = ["sqlite", "postgresql"]
BACKENDS = ["memory", *SQL_BACKENDS]
AMS = ZoneInfo("Europe/Amsterdam")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=AMS)

AANMELDEN = {"huishouden": {"leden": [{"id": "m1", "naam": "Sanne", "rol": "ouder"},
                                      {"id": "k1", "naam": "Daan", "rol": "kind"}]},
             "vraag": "Schulden en opvoedvragen"}


def pg_url_or_skip() -> str:
    dsn = postgres_dsn()
    if dsn is None:
        if running_in_ci():
            pytest.fail("EENGEZIN_TEST_PG is not set in CI: the PostgreSQL contract tests "
                        "must run (export EENGEZIN_TEST_PG=$(bash .ci/postgres.sh | tail -1))")
        pytest.skip("EENGEZIN_TEST_PG not set (start one with: bash .ci/postgres.sh)")
    return dsn


@pytest.fixture(params=SQL_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty SQL store of each backend (SQLite, PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with postgres_schema(pg_url_or_skip()) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Opens stores on one backend: for SQL each call is a new connection to the same
    database; the memory backend hands out its one store. Closes them all."""
    opened: list[Any] = []
    if request.param == "memory":
        shared: list[MemoryStore] = []

        def make_memory(**options: Any) -> MemoryStore:
            if not shared:
                shared.append(MemoryStore(outbox=bool(options.get("outbox", False))))
            elif options.get("outbox"):
                shared[0].outbox_enabled = True
            return shared[0]

        yield make_memory
        return

    def opener(url: str) -> Callable[..., SQLStore]:
        def make(**options: Any) -> SQLStore:
            store = open_store(url, **options)
            opened.append(store)
            return store
        return make

    if request.param == "sqlite":
        yield opener(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        with postgres_schema(pg_url_or_skip()) as url:
            yield opener(url)
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: Callable[..., AnyStore]) -> AnyStore:
    return make_store()


@pytest.fixture(scope="module")
def basis() -> Definition:
    return load_definition("basis")


def events(n_notes: int = 0) -> list[Event]:
    """The first phases of the base process, then ``n_notes`` notes."""
    at = T0
    out: list[Event] = []

    def add(name: str, data: dict[str, Any] | None = None) -> None:
        nonlocal at
        at += timedelta(hours=5)
        out.append(Event(name, at, data or {}))

    add("aanmelden", AANMELDEN)
    add("basischeck", {"basiszorg_voldoende": True, "acuut_onveilig": False})
    add("signaal_melden", {"id": "s1", "soort": "huiselijk_geweld", "omschrijving": "ruzie",
                           "wie": "buurvrouw"})
    add("vraag_verhelderen")
    add("regie_starten", {"regisseur": {"id": "r1", "naam": "Rita", "soort": "professional"}})
    for i in range(n_notes):
        add("notitie", {"tekst": f"notitie {i}"})
    return out


def decide_all(definition: Definition, traject_id: str, evs: list[Event]
               ) -> tuple[Traject, list[HistoryEntry]]:
    """Decide the events in memory: the traject after them and its log."""
    traject = new_traject(definition, traject_id)
    log: list[HistoryEntry] = []
    for ev in evs:
        out = step(definition, traject, ev)
        assert out.accepted and out.entry is not None, out.verdict
        traject = out.traject
        log.append(out.entry)
    return traject, log


def store_all(store: AnyStore, definition: Definition, traject_id: str,
              evs: list[Event]) -> tuple[Traject, list[HistoryEntry]]:
    """Decide and append the events one by one (the low-level store API)."""
    traject = store.load(traject_id, definition) if store.exists(traject_id) \
        else new_traject(definition, traject_id)
    log: list[HistoryEntry] = []
    for ev in evs:
        out = step(definition, traject, ev)
        assert out.accepted and out.entry is not None, out.verdict
        result = store.append(definition, out.traject, (out.entry,),
                              expected_version=traject.version)
        assert result.applied and result.version == out.traject.version
        traject = out.traject
        log.append(out.entry)
    return traject, log


# ---------------------------------------------------------------- the contract


def test_backends_fulfil_the_protocol(store: AnyStore) -> None:
    assert isinstance(store, Store)
    assert store.count() == 0


def test_appended_events_load_back_exactly(store: AnyStore, basis: Definition) -> None:
    expected, log = store_all(store, basis, "T-1", events(3))
    loaded = store.load("T-1", basis)
    assert loaded == expected
    assert store.version("T-1") == loaded.version == len(log) == 8
    assert store.history("T-1") == log
    assert [e.version for e in store.history("T-1")] == list(range(1, 9))
    assert list(store.iter_history("T-1")) == log
    # the log is the truth: applying it (no rule runs) and deciding it again both lead there
    assert restore(basis, "T-1", store.history("T-1")) == loaded
    assert replay(basis, "T-1", store.history("T-1")) == loaded


def test_load_without_definition_uses_the_stored_copy(make_store: Callable[..., AnyStore],
                                                      basis: Definition) -> None:
    store_all(make_store(), basis, "T-1", events(1))
    fresh = make_store()  # a new connection knows no compiled definition yet
    assert fresh.load("T-1") == decide_all(basis, "T-1", events(1))[0]
    assert fresh.definition(basis.ref).ref == basis.ref


def test_history_pages(store: AnyStore, basis: Definition) -> None:
    _, log = store_all(store, basis, "T-1", events(20))
    assert len(log) == 25
    pages: list[list[HistoryEntry]] = []
    start = 0
    while True:
        page = store.history("T-1", start=start, limit=7)
        if not page:
            break
        pages.append(page)
        start = page[-1].version
    assert [len(p) for p in pages] == [7, 7, 7, 4]
    assert [e for p in pages for e in p] == log
    assert store.history("T-1", start=24) == log[24:]
    assert store.history("T-1", start=25) == []
    assert store.history("T-1", start=3, limit=2) == log[3:5]
    assert list(store.iter_history("T-1", page=4)) == log
    with pytest.raises(TrajectNotFoundError):
        store.history("nope")


def test_engine_history_pages_and_reads_the_stored_log(store: AnyStore) -> None:
    engine = Engine("basis", store=store)
    for ev in events(10):
        assert engine.fire("T-1", ev.name, ev.data, at=ev.at).accepted
    log = engine.history("T-1")
    assert [e.version for e in log] == list(range(1, 16))
    assert engine.history("T-1", start=10, limit=3) == log[10:13]
    assert engine.load("T-1").version == 15


def test_stale_writer_gets_conflict_and_nothing_changes(make_store: Callable[..., AnyStore],
                                                        basis: Definition) -> None:
    first, second = make_store(), make_store()
    base, _ = store_all(first, basis, "T-1", events(0))
    a = step(basis, base, Event("notitie", T0 + timedelta(days=3), {"tekst": "a"}))
    b = step(basis, base, Event("notitie", T0 + timedelta(days=3), {"tekst": "b"}))
    assert a.entry is not None and b.entry is not None
    first.append(basis, a.traject, (a.entry,), expected_version=base.version)
    with pytest.raises(ConflictError) as err:
        second.append(basis, b.traject, (b.entry,), expected_version=base.version)
    assert err.value.traject_id == "T-1" and err.value.expected == base.version
    history = second.history("T-1")
    assert len(history) == base.version + 1
    assert history[-1].data == {"tekst": "a"}
    assert second.load("T-1") == a.traject


def test_creating_a_traject_twice_conflicts(make_store: Callable[..., AnyStore],
                                            basis: Definition) -> None:
    first, second = make_store(), make_store()
    created = step(basis, new_traject(basis, "T-1"), events()[0])
    assert created.entry is not None
    first.append(basis, created.traject, (created.entry,), expected_version=0)
    with pytest.raises(ConflictError):
        second.append(basis, created.traject, (created.entry,), expected_version=0)
    assert second.version("T-1") == 1
    assert len(second.history("T-1")) == 1


def test_appending_beyond_the_stored_version_conflicts(store: AnyStore, basis: Definition) -> None:
    traject, log = decide_all(basis, "T-1", events(2))
    with pytest.raises(ConflictError):
        store.append(basis, traject, log[3:], expected_version=3)
    assert not store.exists("T-1")


def test_entries_must_lead_to_the_snapshot_version(store: AnyStore, basis: Definition) -> None:
    traject, log = decide_all(basis, "T-1", events(0))
    with pytest.raises(StoreError):
        store.append(basis, traject, (), expected_version=traject.version)
    with pytest.raises(StoreError):  # two entries cannot lead from 0 to 5
        store.append(basis, traject, log[:2], expected_version=0)
    assert not store.exists("T-1")


def test_several_entries_append_in_one_go(store: AnyStore, basis: Definition) -> None:
    traject, log = decide_all(basis, "T-1", events(2))
    assert store.append(basis, traject, log, expected_version=0).version == 7
    assert store.load("T-1", basis) == traject and store.history("T-1") == log


def state_changes(store: AnyStore, tid: str) -> list[tuple[int, str, str, datetime]]:
    return [(c.seq, c.track, c.state, c.at) for track in ("regie", "veiligheid")
            for c in store.state_changes(track) if c.traject_id == tid]


def test_several_entries_index_every_state_change(store: AnyStore, basis: Definition) -> None:
    store_all(store, basis, "ONE-BY-ONE", events(0))
    traject, log = decide_all(basis, "AT-ONCE", events(0))
    store.append(basis, traject, log, expected_version=0)
    assert state_changes(store, "AT-ONCE") == state_changes(store, "ONE-BY-ONE")


# ---------------------------------------------------------------- idempotency


def test_idempotency_same_key_same_request_is_a_duplicate(make_store: Callable[..., AnyStore],
                                                          basis: Definition) -> None:
    store = make_store(outbox=True)
    engine = Engine(basis, store=store)
    base, _ = store_all(store, basis, "T-1", events(0))
    at = T0 + timedelta(days=2)
    first = engine.fire("T-1", "notitie", {"tekst": "eenmaal"}, at=at, idempotency_key="req-1")
    assert first.accepted and not first.duplicate and first.entry is not None
    claimed = store.claim(100)
    # a second process (another connection) retries the same request
    again = Engine(basis, store=make_store()).fire("T-1", "notitie", {"tekst": "eenmaal"},
                                                   at=at, idempotency_key="req-1")
    assert again.duplicate and again.accepted and again.entry is None
    assert again.traject == store.load("T-1")
    assert store.version("T-1") == base.version + 1
    assert store.applied("T-1", "req-1") == base.version + 1
    assert store.claim(100) == [] and len(claimed) == 1  # nothing new in the outbox
    # the low-level append also refuses to write the key twice, even with a fresh version
    retry = step(basis, store.load("T-1", basis), Event("notitie", at, {"tekst": "eenmaal"}))
    assert retry.entry is not None
    result = store.append(basis, retry.traject, (retry.entry,),
                          expected_version=base.version + 1, idempotency_key="req-1")
    assert not result.applied and result.version == base.version + 1
    assert store.version("T-1") == base.version + 1
    assert len(store.history("T-1")) == base.version + 1


def test_idempotency_same_key_other_request_is_refused(store: AnyStore, basis: Definition) -> None:
    engine = Engine(basis, store=store)
    store_all(store, basis, "T-1", events(0))
    at = T0 + timedelta(days=2)
    engine.fire("T-1", "notitie", {"tekst": "eenmaal"}, at=at, idempotency_key="req-1")
    before = (store.load("T-1"), store.history("T-1"))
    with pytest.raises(IdempotencyConflictError):
        engine.fire("T-1", "notitie", {"tekst": "iets anders"}, at=at, idempotency_key="req-1")
    with pytest.raises(IdempotencyConflictError):  # another event under the same key
        engine.fire("T-1", "signaal_opheffen", {"id": "s1", "onderbouwing": "x"}, at=at,
                    idempotency_key="req-1")
    assert (store.load("T-1"), store.history("T-1")) == before
    # the key is bound per traject: another traject may use it
    other = engine.start("T-2", AANMELDEN, at=at, idempotency_key="req-1")
    assert other.accepted and not other.duplicate


# ---------------------------------------------------------------- refused, mismatched, unknown


def test_refused_event_stores_nothing(make_store: Callable[..., AnyStore],
                                      basis: Definition) -> None:
    store = make_store(outbox=True)
    engine = Engine(basis, store=store)
    decision = engine.fire("T-1", "vraag_verhelderen", at=T0)
    assert not decision.accepted and decision.entry is None
    assert not store.exists("T-1") and store.count() == 0
    assert store.claim(10) == []
    store_all(store, basis, "T-1", events(0))
    before = (store.load("T-1"), store.history("T-1"))
    refused = engine.fire("T-1", "afsluiten", {"afsluitdatum": "2026-03-20", "evaluatie": "x",
                                               "vervolg": False}, at=T0 + timedelta(days=9))
    assert not refused.accepted
    assert (store.load("T-1"), store.history("T-1")) == before
    assert store.version("T-1") == len(events(0))
    assert store.claim(10) == []


def test_loading_under_another_definition_is_a_clear_error(store: AnyStore,
                                                           basis: Definition) -> None:
    store_all(store, basis, "T-1", events(0))
    v2 = load_definition(DATA / "basis-v2.yaml")
    with pytest.raises(DefinitionMismatchError, match="migrate"):
        store.load("T-1", v2)
    later, log = decide_all(basis, "T-1", events(1))
    moved = attrs.evolve(later, definition=v2.ref)
    with pytest.raises(DefinitionMismatchError):
        store.append(v2, moved, log[-1:], expected_version=len(events(0)))
    assert store.version("T-1") == len(events(0))
    with pytest.raises(DefinitionMismatchError):
        Engine(v2, store=store).fire("T-1", "notitie", {"tekst": "x"}, at=T0 + timedelta(days=5))


def test_unknown_traject(store: AnyStore, basis: Definition) -> None:
    with pytest.raises(TrajectNotFoundError):
        store.load("nope", basis)
    with pytest.raises(TrajectNotFoundError):
        Engine(basis, store=store).load("nope")
    assert store.version("nope") is None and not store.exists("nope")


# ---------------------------------------------------------------- queries


def test_find_by_track_state_including_nested(store: AnyStore, basis: Definition) -> None:
    store_all(store, basis, "A", events(0)[:1])          # aanmelding
    store_all(store, basis, "B", events(0)[:4])          # vraagverheldering
    store_all(store, basis, "C", events(0))              # startoverleg.voorbereiding
    assert store.find("regie", "aanmelding") == ["A"]
    assert store.find("regie", "startoverleg") == ["C"]
    assert store.find("regie", "startoverleg.voorbereiding") == ["C"]
    assert store.find("regie", "startoverleg.overleg") == []
    assert store.find("veiligheid", "signalen") == ["B", "C"]
    assert store.counts("regie") == {"aanmelding": 1, "vraagverheldering": 1,
                                     "startoverleg.voorbereiding": 1}
    changes = [(c.traject_id, c.state) for c in store.state_changes("regie")]
    assert changes == [("A", "aanmelding"), ("B", "aanmelding"), ("B", "vraagverheldering"),
                       ("C", "aanmelding"), ("C", "vraagverheldering"),
                       ("C", "startoverleg.voorbereiding")]
    assert [(t, v) for t, v, _ in store.entries("vraag_verhelderen")] == [("B", 4), ("C", 4)]


def test_open_and_overdue_deadlines(store: AnyStore) -> None:
    termijnen = load_definition(DATA / "termijnen.yaml")
    engine = Engine(termijnen, store=store)
    for i, day in enumerate([2, 3, 4]):
        assert engine.start(f"T-{i}", AANMELDEN, at=datetime(2026, 3, day, 9, tzinfo=AMS)).accepted
    open_ = store.open_deadlines()
    assert [(d.traject_id, d.due) for d in open_] == [
        ("T-0", date(2026, 3, 9)), ("T-1", date(2026, 3, 10)), ("T-2", date(2026, 3, 11))]
    assert [d.traject_id for d in store.overdue(datetime(2026, 3, 10, 12, tzinfo=AMS))] == ["T-0"]
    assert [d.traject_id for d in store.overdue(date(2026, 3, 12))] == ["T-0", "T-1", "T-2"]
    assert store.overdue(date(2026, 3, 9)) == []
    assert len(store.open_deadlines(limit=2)) == 2
    # meeting the deadline removes it from the index
    done = engine.fire("T-1", "vraag_verhelderen", at=datetime(2026, 3, 5, 9, tzinfo=AMS))
    assert done.accepted
    assert [d.traject_id for d in store.overdue(date(2026, 3, 12))] == ["T-0", "T-2"]


# ---------------------------------------------------------------- property


NOTE_OR_SIGNAL = st.lists(st.sampled_from(["notitie", "signaal_melden", "signaal_opheffen"]),
                          max_size=12)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kinds=NOTE_OR_SIGNAL)
def test_any_history_loads_equal_to_deciding_it(make_store: Callable[..., AnyStore],
                                                basis: Definition, kinds: list[str]) -> None:
    """Whatever was accepted and stored loads back equal, and state == replay(log)."""
    store = make_store()
    engine = Engine(basis, store=store)
    tid = f"T-{len(kinds)}-{abs(hash(tuple(kinds))) % 10**8}"
    if store.exists(tid):
        return  # hypothesis repeated an example on the shared store
    traject = new_traject(basis, tid)
    at = T0
    signal = 0
    for kind in ["aanmelden", *kinds]:
        at += timedelta(hours=1)
        if kind == "aanmelden":
            data: dict[str, Any] = AANMELDEN
        elif kind == "notitie":
            data = {"tekst": f"n{at.hour}"}
        elif kind == "signaal_melden":
            signal += 1
            data = {"id": f"s{signal}", "soort": "vermoeden", "omschrijving": "x", "wie": "y"}
        else:
            data = {"id": f"s{signal}", "onderbouwing": "opgelost"}
        expected = step(basis, traject, Event(kind, at, data))
        out = engine.fire(tid, kind, data, at=at)
        assert out.accepted == expected.accepted
        if out.accepted:
            assert out.traject == expected.traject
            traject = out.traject
    assert store.load(tid, basis) == traject
    log = store.history(tid)
    assert restore(basis, tid, log) == traject
    assert replay(basis, tid, log) == traject
    assert engine.verify(tid).findings == ()


def test_import_indexes_like_appending(store: AnyStore) -> None:
    """Bulk import gives the same trajecten, states, changes and deadlines as appending."""
    termijnen = load_definition(DATA / "termijnen.yaml")
    evs = events(2)
    store_all(store, termijnen, "A", evs)
    imported = decide_all(termijnen, "I", evs)
    single = decide_all(termijnen, "J", evs[:1])
    assert store.import_trajecten(termijnen, [imported, single], batch=1) == 2
    assert store.load("I", termijnen) == imported[0]
    assert store.load("J", termijnen) == single[0]
    assert store.history("I") == imported[1]
    assert Engine(termijnen, store=store).verify("I").ok

    assert state_changes(store, "I") == state_changes(store, "A")
    assert [(d.id, d.due) for d in store.open_deadlines() if d.traject_id == "J"] == [
        (d.id, d.due) for d in single[0].deadlines.values()]
    with pytest.raises(ConflictError):
        store.import_trajecten(termijnen, [imported])
    with pytest.raises(StoreError):  # a log that does not lead to the snapshot's version
        store.import_trajecten(termijnen, [(decide_all(termijnen, "K", evs)[0], evs[:0])])
