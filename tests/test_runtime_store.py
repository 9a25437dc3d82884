"""The runtime's promises over a store: loading trusts the log, verify tells a host predicate
from corruption, the outbox holds every accepted decision exactly once, threads sharing a
store object never lose or fail a write, and the work per event does not grow with the
history (counted in calls, objects and bytes, never timed).
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from eengezin import ConflictError, Definition, Engine, Event, PredicateRegistry, step
from eengezin.decision import Decision
from eengezin.store import MemoryStore, SQLStore, StoreCorruptError, StoreError, codec, open_store
from test_store_contract import (
    AANMELDEN,
    AMS,
    T0,
    basis,
    decide_all,
    events,
    make_store,
    store_all,
    store_url,
)

__all__ = ["basis", "make_store", "store_url"]  # fixtures used by name

AnyStore = SQLStore | MemoryStore

HOST_RULE = """\
id: host-regie
version: "1"
extends: basis
rules:
  - id: host.regisseur_in_dienst
    severity: block
    on: regie_starten
    require: {regisseur_in_dienst: {organisatie: sociaal_team}}
    message: De regisseur is niet (meer) in dienst.
    source: host
"""


class Personeel:
    """The host's HR data, asked by a host predicate; it changes over time."""

    def __init__(self) -> None:
        self.in_dienst = {"r1": True}
        self.calls = 0

    def registry(self) -> PredicateRegistry:
        registry = PredicateRegistry.with_builtins()

        @registry.register("regisseur_in_dienst")
        def regisseur_in_dienst(ctx: Any, params: Any) -> bool:
            self.calls += 1
            regisseur = ctx.data.get("regisseur") or {}
            return bool(self.in_dienst.get(regisseur.get("id"), False))

        return registry


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[Personeel, Path]]:
    path = tmp_path / "host-regie.yaml"
    path.write_text(HOST_RULE, encoding="utf-8")
    yield Personeel(), path


# ---------------------------------------------------------------- loading trusts the log


def test_a_host_predicate_that_turns_false_does_not_stop_load_or_fire(
        make_store: Callable[..., AnyStore], host: tuple[Personeel, Path]) -> None:
    hr, path = host
    registry = hr.registry()
    store = make_store(predicates=registry)
    engine = Engine(path, store=store, predicates=registry)
    for ev in events(2):
        assert engine.fire("T-1", ev.name, ev.data, at=ev.at).accepted, ev.name
    assert hr.calls == 1  # regie_starten asked HR once
    hr.in_dienst["r1"] = False  # the regisseur left
    # loading and firing go on: the log is trusted, no rule or host predicate runs again
    loaded = engine.load("T-1")
    assert loaded.state["regie"] == "startoverleg.voorbereiding" and loaded.version == 7
    assert len(engine.history("T-1")) == 7
    later = engine.fire("T-1", "notitie", {"tekst": "na vertrek"}, at=T0 + timedelta(days=5))
    assert later.accepted and later.traject.version == 8
    fresh = Engine(path, store=make_store(predicates=registry), predicates=registry)
    assert fresh.load("T-1") == later.traject
    assert hr.calls == 1
    # verify decides again: a host predicate that now answers differently is a finding,
    # not corruption
    report = engine.verify("T-1")
    assert report.ok
    assert [(f.kind, f.version, f.event) for f in report.findings] == [
        ("host_predicate", 5, "regie_starten")]
    assert "regisseur_in_dienst" in report.findings[0].detail
    # and the predicate still decides new events
    refused = engine.fire("T-2", "aanmelden", AANMELDEN, at=T0)
    assert refused.accepted


def tamper_entry(store: SQLStore, tid: str, seq: int, edit: Callable[[dict[str, Any]], None]
                 ) -> None:
    with store._transaction(write=True) as cur:
        cur.execute("SELECT entry FROM eengezin_events WHERE traject_id = ? AND seq = ?",
                    (tid, seq))
        entry = json.loads(cur.fetchone()[0])
        edit(entry)
        cur.execute("UPDATE eengezin_events SET entry = ? WHERE traject_id = ? AND seq = ?",
                    (json.dumps(entry), tid, seq))


def test_a_hand_edited_change_is_corruption(store_url: str, basis: Definition) -> None:
    with open_store(store_url) as store:
        engine = Engine(basis, store=store)
        for ev in events(2):
            assert engine.fire("T-1", ev.name, ev.data, at=ev.at).accepted
        assert engine.verify("T-1").findings == ()

        def edit(entry: dict[str, Any]) -> None:
            assert entry["event"] == "vraag_verhelderen"
            entry["change"]["state"]["regie"] = "zonder_regie"

        tamper_entry(store, "T-1", 4, edit)
        assert engine.load("T-1").version == 7  # load trusts the snapshot …
        report = engine.verify("T-1")           # … verify finds the edit
        assert not report.ok
        assert (report.findings[0].kind, report.findings[0].version) == ("corrupt", 4)
        assert "host_predicate" not in {f.kind for f in report.findings}


def test_a_hand_edited_payload_or_snapshot_is_found(store_url: str, basis: Definition) -> None:
    with open_store(store_url) as store:
        engine = Engine(basis, store=store)
        for ev in events(1):
            assert engine.fire("T-1", ev.name, ev.data, at=ev.at).accepted

        def edit(entry: dict[str, Any]) -> None:
            entry["data"]["regisseur"]["naam"] = "Iemand anders"

        tamper_entry(store, "T-1", 5, edit)
        kinds = {(f.kind, f.version) for f in engine.verify("T-1").findings}
        assert ("corrupt", 5) in kinds
    with open_store(store_url) as store:
        engine = Engine(basis, store=store)
        for ev in events(1):
            assert engine.fire("T-2", ev.name, ev.data, at=ev.at).accepted
        with store._transaction(write=True) as cur:
            cur.execute("SELECT snapshot FROM eengezin_trajecten WHERE id = 'T-2'")
            snapshot = json.loads(cur.fetchone()[0])
            snapshot["state"]["regie"] = "voortgang"
            cur.execute("UPDATE eengezin_trajecten SET snapshot = ? WHERE id = 'T-2'",
                        (json.dumps(snapshot),))
        assert engine.load("T-2").state["regie"] == "voortgang"  # loading trusts it
        report = engine.verify("T-2")
        assert not report.ok
        assert [f.kind for f in report.findings] == ["snapshot"]


def test_an_unreadable_entry_is_a_store_corrupt_error(store_url: str, basis: Definition) -> None:
    with open_store(store_url) as store:
        engine = Engine(basis, store=store)
        for ev in events(0):
            assert engine.fire("T-1", ev.name, ev.data, at=ev.at).accepted
        with store._transaction(write=True) as cur:
            cur.execute("UPDATE eengezin_events SET entry = '{\"event\": 1' WHERE seq = 3")
        assert engine.load("T-1").version == 5  # the snapshot does not need the log
        with pytest.raises(StoreCorruptError):
            engine.history("T-1")
        with pytest.raises(StoreCorruptError):
            engine.verify("T-1")
        with store._transaction(write=True) as cur:
            cur.execute("DELETE FROM eengezin_events WHERE seq = 3")
        with pytest.raises(StoreCorruptError, match="missing"):
            engine.history("T-1")


# ---------------------------------------------------------------- outbox


def test_every_accepted_decision_is_in_the_outbox_exactly_once(
        make_store: Callable[..., AnyStore], basis: Definition) -> None:
    store = make_store(outbox=True)
    heard: list[Decision] = []
    engine = Engine(basis, store=store, listeners=[heard.append])
    evs = events(3)
    for ev in evs:
        assert engine.fire("T-1", ev.name, ev.data, at=ev.at, idempotency_key=ev.name + str(ev.at)
                           ).accepted
    # a retried request, a refused event and an unknown traject's refused event add nothing
    assert engine.fire("T-1", evs[-1].name, evs[-1].data, at=evs[-1].at,
                       idempotency_key=evs[-1].name + str(evs[-1].at)).duplicate
    assert not engine.fire("T-1", "aanmelden", AANMELDEN, at=T0 + timedelta(days=9)).accepted
    assert not engine.fire("T-9", "notitie", {"tekst": "x"}, at=T0).accepted
    records = store.claim(100)
    assert [(r.decision.traject_id, r.decision.version) for r in records] == [
        ("T-1", v) for v in range(1, len(evs) + 1)]
    assert [r.decision for r in records] == heard
    assert [r.decision.event for r in records] == [e.name for e in evs]
    assert len({r.id for r in records}) == len(records)
    assert sorted(r.id for r in records) == [r.id for r in records]  # commit order
    # what the relay reads: the tracks that moved, with their states
    melden = records[2].decision
    assert melden.event == "signaal_melden"
    moved = melden.moved("veiligheid")
    assert moved is not None and (moved.before, moved.after) == ("geen_signalen", "signalen")
    assert melden.moved("regie") is None
    assert records[1].decision.data == {"basiszorg_voldoende": True, "acuut_onveilig": False}


def test_claim_leases_and_ack_removes(make_store: Callable[..., AnyStore],
                                      basis: Definition) -> None:
    store = make_store(outbox=True)
    engine = Engine(basis, store=store)
    for ev in events(2):
        engine.fire("T-1", ev.name, ev.data, at=ev.at)
    first = store.claim(3)
    assert [r.decision.version for r in first] == [1, 2, 3]
    second = store.claim(100)
    assert [r.decision.version for r in second] == [4, 5, 6, 7]  # the leased ones are skipped
    assert store.claim(100) == []
    store.ack(r.id for r in first)
    store.ack([])
    store.ack([10**9])  # unknown ids are ignored
    assert store.outbox_size() == 4
    assert make_store(outbox=True).outbox_size() == 4  # another connection sees the same
    # a relay that died: its unacknowledged records come back once the lease ran out
    store.ack(r.id for r in second[:2])
    if isinstance(store, SQLStore):
        with store._transaction(write=True) as cur:  # let the lease run out
            cur.execute("UPDATE eengezin_outbox SET claimed_until = '2000-01-01T00:00:00+00:00'")
    else:
        store._outbox = {k: (d, None) for k, (d, _) in store._outbox.items()}
    back = store.claim(100)
    assert [r.decision.version for r in back] == [6, 7]
    store.ack(r.id for r in back)
    assert store.outbox_size() == 0 and store.claim(100) == []


def test_a_failed_append_writes_nothing_to_the_outbox(make_store: Callable[..., AnyStore],
                                                      basis: Definition) -> None:
    from eengezin.engine import decision_of

    store = make_store(outbox=True)
    base, _ = store_all(store, basis, "T-1", events(0))
    assert store.outbox_size() == 0  # store_all passes no decisions
    stale = step(basis, base, Event("notitie", T0 + timedelta(days=2), {"tekst": "a"}))
    assert stale.entry is not None
    store.append(basis, stale.traject, (stale.entry,), expected_version=base.version,
                 decisions=(decision_of(base, stale),))
    assert store.outbox_size() == 1
    with pytest.raises(ConflictError):  # same expected version again: the whole write fails
        store.append(basis, stale.traject, (stale.entry,), expected_version=base.version,
                     decisions=(decision_of(base, stale),))
    assert store.outbox_size() == 1
    assert store.version("T-1") == base.version + 1


def test_outbox_is_off_by_default_and_the_setting_is_kept(store_url: str,
                                                          basis: Definition) -> None:
    with open_store(store_url) as store:
        engine = Engine(basis, store=store)
        assert engine.start("T-1", AANMELDEN, at=T0).accepted
        with pytest.raises(StoreError, match="outbox"):
            store.claim(10)
    with open_store(store_url, outbox=True) as store:
        assert store.outbox_size() == 0  # events before the switch are not in it
        with open_store(store_url) as other:  # every writer follows the stored setting
            assert other.outbox_enabled
            Engine(basis, store=other).fire("T-1", "notitie", {"tekst": "x"},
                                            at=T0 + timedelta(hours=1))
        assert [r.decision.version for r in store.claim(10)] == [2]
    with open_store(store_url, outbox=False) as store:
        assert not store.outbox_enabled
        with pytest.raises(StoreError):
            store.claim(10)


def test_postgres_store_joins_the_hosts_transaction() -> None:
    import psycopg

    from eengezin.store.postgres import PostgresStore
    from eengezin.store.testing import postgres_schema
    from test_store_contract import pg_url_or_skip

    with postgres_schema(pg_url_or_skip()) as url:
        open_store(url, outbox=True).close()
        with psycopg.connect(url, autocommit=True) as conn:
            store = PostgresStore(connection=conn)
            engine = Engine("basis", store=store)
            with conn.transaction():
                conn.execute("CREATE TABLE host_dossier (id TEXT)")
                assert engine.start("T-1", AANMELDEN, at=T0).accepted
                conn.execute("INSERT INTO host_dossier VALUES ('T-1')")
            with pytest.raises(psycopg.errors.DivisionByZero), conn.transaction():
                engine.fire("T-1", "notitie", {"tekst": "x"}, at=T0 + timedelta(hours=1))
                conn.execute("SELECT 1/0")  # the host's own write fails: all rolls back
            assert store.version("T-1") == 1 and len(store.history("T-1")) == 1
            assert [r.decision.version for r in store.claim(10)] == [1]
            assert conn.execute("SELECT id FROM host_dossier").fetchall() == [("T-1",)]


# ---------------------------------------------------------------- threads


def test_threads_sharing_one_store_object_lose_and_fail_nothing(
        make_store: Callable[..., AnyStore], basis: Definition) -> None:
    store = make_store(outbox=True)
    engine = Engine(basis, store=store)
    assert engine.start("T-1", AANMELDEN, at=T0).accepted
    n_threads, per_thread = 6, 20
    at = T0 + timedelta(hours=1)  # one moment for all: no writer's event is dated earlier
    errors: list[BaseException] = []
    refused: list[tuple[str, ...]] = []
    barrier = threading.Barrier(n_threads)

    def work(k: int) -> None:
        # half the threads share the engine, the others bring their own (on the same store)
        mine = engine if k % 2 else Engine(basis, store=store)
        try:
            barrier.wait()
            for i in range(per_thread):
                for out in (mine.fire("T-1", "notitie", {"tekst": f"w{k}-{i}"}, at=at),
                            mine.fire(f"own-{k}", "aanmelden" if i == 0 else "notitie",
                                      AANMELDEN if i == 0 else {"tekst": str(i)}, at=at)):
                    if not out.accepted:
                        refused.append(out.verdict.rule_ids)
        except BaseException as exc:  # returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == [] and refused == []
    texts = [e.data["tekst"] for e in store.history("T-1") if e.event == "notitie"]
    assert len(texts) == n_threads * per_thread  # exactly the sum
    assert set(texts) == {f"w{k}-{i}" for k in range(n_threads) for i in range(per_thread)}
    for k in range(n_threads):
        assert [t for t in texts if t.startswith(f"w{k}-")] == [f"w{k}-{i}"
                                                                  for i in range(per_thread)]
        assert store.version(f"own-{k}") == per_thread
    assert store.version("T-1") == 1 + n_threads * per_thread
    assert engine.verify("T-1").findings == ()
    decisions = [r.decision for r in store.claim(10_000)]
    assert len(decisions) == 1 + 2 * n_threads * per_thread
    assert len({(d.traject_id, d.version) for d in decisions}) == len(decisions)


def test_a_request_without_a_moment_is_not_refused_for_a_faster_writer(
        make_store: Callable[..., AnyStore], basis: Definition) -> None:
    store = make_store()
    other = Engine(basis, store=store)
    assert other.start("T-1", AANMELDEN, at=T0).accepted

    def clock() -> datetime:
        moment = datetime.now(UTC)
        # another process commits right after this request read the clock (deterministic
        # version of the race between two writers that use the clock)
        assert other.fire("T-1", "notitie", {"tekst": "sneller"},
                          at=moment + timedelta(milliseconds=1)).accepted
        return moment

    engine = Engine(basis, store=store, clock=clock)
    out = engine.fire("T-1", "notitie", {"tekst": "eerder gevraagd"})
    assert out.accepted, out.verdict.rule_ids
    assert store.version("T-1") == 3


# ---------------------------------------------------------------- cost independent of history


def long_traject(store: AnyStore, definition: Definition, tid: str, n: int) -> None:
    """A stored traject with ``n`` log entries (decided in memory, imported in one go)."""
    traject, log = decide_all(definition, tid, events(n - 5))
    assert store.import_trajecten(definition, [(traject, log)]) == 1


def reachable(root: object) -> int:
    """How many objects hang off ``root`` (its own, not shared singletons or types)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type) or obj is None:
            continue
        seen.add(id(obj))
        stack.extend(gc.get_referents(obj))
    return len(seen)


def count_calls(fn: Callable[[], Any]) -> int:
    """Python function calls made by ``fn`` (deterministic; not a timing)."""
    calls = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def test_snapshot_and_memory_per_traject_do_not_grow_with_history(
        make_store: Callable[..., AnyStore], basis: Definition) -> None:
    store = make_store()
    long_traject(store, basis, "short", 10)
    long_traject(store, basis, "long", 1000)
    short, long = store.load("short", basis), store.load("long", basis)
    assert (short.version, long.version) == (10, 1000)
    assert len(store.history("long")) == 1000
    short_bytes = len(codec.snapshot_to_json(short).replace('"short"', '"x"'))
    long_bytes = len(codec.snapshot_to_json(long).replace('"long"', '"x"'))
    assert abs(long_bytes - short_bytes) <= 2 + 10  # the version's digits, the last moment
    assert reachable(long) <= reachable(short) + 2
    if isinstance(store, SQLStore):
        with store._transaction(write=False) as cur:
            cur.execute("SELECT id, length(snapshot) FROM eengezin_trajecten ORDER BY id")
            sizes = dict(cur.fetchall())
        assert abs(int(sizes["long"]) - int(sizes["short"])) <= 12


def test_step_load_and_fire_work_does_not_grow_with_history(
        make_store: Callable[..., AnyStore], basis: Definition) -> None:
    store = make_store()
    engine = Engine(basis, store=store)
    long_traject(store, basis, "short", 10)
    long_traject(store, basis, "long", 1000)
    at = T0 + timedelta(days=365)  # after the long traject's last event
    note = Event("notitie", at, {"tekst": "x"})
    assert step(basis, store.load("long", basis), note).accepted
    for tid in ("short", "long"):  # warm caches (compiled paths, imports, zones) first
        step(basis, store.load(tid, basis), note)
        engine.fire(tid, "notitie", {"tekst": "warm"}, at=at)
    work: dict[str, dict[str, int]] = {}
    for tid in ("short", "long"):
        traject = store.load(tid, basis)
        work[tid] = {
            "step": count_calls(lambda t=traject: step(basis, t, note)),
            "load": count_calls(lambda t=tid: store.load(t, basis)),
            "fire": count_calls(lambda t=tid: engine.fire(t, "notitie", {"tekst": "y"}, at=at)),
        }
    # the same work within noise (psycopg prepares a statement after its fifth run, so the
    # call counts may differ by a handful); reading a 1,000-entry log would be 100x more
    for kind in ("step", "load", "fire"):
        assert abs(work["long"][kind] - work["short"][kind]) <= 5 + work["short"][kind] // 50, work
    assert store.version("long") == 1002


def test_a_traject_is_plain_data_without_history(basis: Definition) -> None:
    traject, log = decide_all(basis, "T-1", events(3))
    assert not hasattr(traject, "history")
    assert [e.version for e in log] == list(range(1, 9))
    assert traject.version == 8 and traject.last_at == events(3)[-1].at
    assert traject.seen >= {"aanmelden", "notitie"}
    assert log[0].at.tzinfo is AMS


# ---------------------------------------------------------------- more concurrency


def run_threads(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def go(k: int) -> None:
        try:
            barrier.wait()
            results[k] = work(k)
        except BaseException as exc:  # returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results, errors


def test_one_request_retried_at_once_by_several_writers_lands_once(
        make_store: Callable[..., AnyStore], basis: Definition) -> None:
    stores = [make_store() for _ in range(4)]  # four connections (memory: one shared store)
    Engine(basis, store=stores[0]).start("T-1", AANMELDEN, at=T0)
    at = T0 + timedelta(hours=1)

    def work(k: int) -> Any:
        return Engine(basis, store=stores[k]).fire("T-1", "notitie", {"tekst": "eenmaal"}, at=at,
                                                   idempotency_key="req-1")

    outcomes, errors = run_threads(4, work)
    assert errors == []
    assert all(o.accepted for o in outcomes)
    assert sum(not o.duplicate for o in outcomes) == 1
    assert stores[0].version("T-1") == 2
    assert [e.data for e in stores[0].history("T-1")][1:] == [{"tekst": "eenmaal"}]


def test_one_key_for_different_requests_at_once_lands_once(
        make_store: Callable[..., AnyStore], basis: Definition) -> None:
    from eengezin.errors import IdempotencyConflictError

    stores = [make_store() for _ in range(4)]
    Engine(basis, store=stores[0]).start("T-1", AANMELDEN, at=T0)
    at = T0 + timedelta(hours=1)

    def work(k: int) -> Any:
        return Engine(basis, store=stores[k]).fire("T-1", "notitie", {"tekst": f"w{k}"}, at=at,
                                                   idempotency_key="req-1")

    outcomes, errors = run_threads(4, work)
    assert len([o for o in outcomes if o is not None]) == 1
    assert len(errors) == 3 and all(isinstance(e, IdempotencyConflictError) for e in errors)
    assert stores[0].version("T-1") == 2


def test_relays_claiming_at_once_get_disjoint_records(store_url: str, basis: Definition) -> None:
    with open_store(store_url, outbox=True) as store:
        engine = Engine(basis, store=store)
        engine.start("T-1", AANMELDEN, at=T0)
        for i in range(59):
            engine.fire("T-1", "notitie", {"tekst": str(i)}, at=T0 + timedelta(hours=1))
    relays = [open_store(store_url) for _ in range(3)]
    try:
        def work(k: int) -> list[int]:
            got: list[int] = []
            while True:
                batch = relays[k].claim(7)
                if not batch:
                    return got
                got.extend(r.decision.version for r in batch)
                relays[k].ack(r.id for r in batch)

        results, errors = run_threads(3, work)
        assert errors == []
        every = [v for got in results for v in got]
        assert sorted(every) == list(range(1, 61))  # each decision relayed by exactly one
    finally:
        for relay in relays:
            relay.close()


def test_a_naive_moment_is_refused_and_writes_nothing(make_store: Callable[..., AnyStore],
                                                      basis: Definition) -> None:
    from eengezin.errors import NaiveDatetimeError

    store = make_store(outbox=True)
    engine = Engine(basis, store=store)
    with pytest.raises(NaiveDatetimeError):
        engine.start("T-1", AANMELDEN, at=datetime(2026, 3, 2, 9))
    assert not store.exists("T-1") and store.claim(10) == []
    engine.start("T-1", AANMELDEN, at=T0)
    with pytest.raises(NaiveDatetimeError):
        engine.fire("T-1", "notitie", {"tekst": "x"}, at=datetime(2026, 3, 3, 9))
    assert store.version("T-1") == 1 and len(store.claim(10)) == 1


SLOW_RULE = """\
id: host-traag
version: "1"
extends: basis
rules:
  - id: host.dossier_bijgewerkt
    severity: block
    on: notitie
    require: {dossier_bijgewerkt: {}}
    message: Het dossier is niet bijgewerkt.
    source: host
"""


def test_a_slow_writer_next_to_a_busy_one_is_not_starved(make_store: Callable[..., AnyStore],
                                                        tmp_path: Path) -> None:
    path = tmp_path / "traag.yaml"
    path.write_text(SLOW_RULE, encoding="utf-8")
    slow = threading.local()
    registry = PredicateRegistry.with_builtins()

    @registry.register("dossier_bijgewerkt")
    def dossier_bijgewerkt(ctx: Any, params: Any) -> bool:
        if getattr(slow, "on", False):
            time.sleep(0.02)  # the host looks something up in a slow system
        return True

    store = make_store(predicates=registry)
    busy = Engine(path, store=store, predicates=registry)
    assert busy.start("T-1", AANMELDEN, at=T0).accepted
    at = T0 + timedelta(hours=1)
    stop = threading.Event()

    def keep_writing() -> None:
        i = 0
        while not stop.is_set():
            busy.fire("T-1", "notitie", {"tekst": f"druk {i}"}, at=at)
            i += 1
            time.sleep(0.002)

    other = threading.Thread(target=keep_writing)
    other.start()
    try:
        slow.on = True
        out = Engine(path, store=store, predicates=registry).fire(
            "T-1", "notitie", {"tekst": "traag"}, at=at)
    finally:
        stop.set()
        other.join(timeout=60)
    assert out.accepted
