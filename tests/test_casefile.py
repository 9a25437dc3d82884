"""A trustworthy case file (issue 13): hash chains and `verify`, personal data encrypted at
rest, erasure, retention, inzage, read-only opening and private store files."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import sqlite3
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eengezin import Actor, Engine, load_definition
from eengezin.cli import main
from eengezin.errors import DefinitionError
from eengezin.privacy import inzage, retention_status
from eengezin.store import (
    MemoryStore,
    RetentionError,
    SQLiteStore,
    StoreKeyError,
    StoreOpenError,
    TrajectErasedError,
    open_store,
)
from eengezin.store.crypto import ERASED, Sealer, build_trie, new_data_key, transform
from eengezin.store.personal import personal_paths
from test_store_contract import store_url

__all__ = ["store_url"]  # a fixture used by name

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
NAME = "Sanne Veldhuis"
AANMELDEN = {"huishouden": {"leden": [
    {"id": "m1", "naam": NAME, "geboortedatum": "1988-06-14", "rol": "ouder"},
    {"id": "k1", "naam": "Daan Veldhuis", "geboortedatum": "2015-09-01", "rol": "kind"}]},
    "vraag": "Schulden en opvoedvragen"}
WORKER = Actor("w1", None)


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "-"


def fill(engine: Engine, tid: str = "T-1", *, close: bool = False, name: str = NAME) -> None:
    data = json.loads(json.dumps(AANMELDEN).replace(NAME, name))
    assert engine.start(tid, data, at=T0).accepted
    assert engine.fire(tid, "basischeck", {"basiszorg_voldoende": True, "acuut_onveilig": False,
                                           "toelichting": "geheime toelichting"},
                       at=T0 + timedelta(hours=1)).accepted
    assert engine.fire(tid, "vraag_verhelderen", {}, at=T0 + timedelta(hours=2)).accepted
    if close:
        assert engine.fire(tid, "regie_niet_starten", {"reden": "geen regie nodig"},
                           at=T0 + timedelta(days=1)).accepted


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "t.db"
    with open_store(path) as store:
        engine = Engine("basis", store=store)
        fill(engine, "T-1")
        fill(engine, "T-2", close=True, name="Piet Pieters")
    yield path


def problems(path: Path) -> list[str]:
    with SQLiteStore(path, readonly=True) as store:
        return store.check_integrity()


def sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for s in statements:
            conn.execute(s)
    conn.close()


# ---------------------------------------------------------------- tamper evidence


def test_an_untouched_store_verifies(db: Path) -> None:
    assert problems(db) == []
    code, out = run("verify", "--store", str(db))
    assert code == 0 and "2 trajecten gecontroleerd, 0 problemen" in out


def _edit_entry(path: Path, seq: int, change: Callable[[dict[str, Any]], None]) -> None:
    conn = sqlite3.connect(path)
    with conn:
        text = conn.execute("SELECT entry FROM eengezin_events WHERE traject_id = 'T-1'"
                            " AND seq = ?", (seq,)).fetchone()[0]
        body = json.loads(text)
        change(body)
        conn.execute("UPDATE eengezin_events SET entry = ? WHERE traject_id = 'T-1' AND seq = ?",
                     (json.dumps(body), seq))
    conn.close()


TAMPERING: dict[str, Callable[[Path], None]] = {
    "payload": lambda p: _edit_entry(p, 2, lambda b: b["data"].update(acuut_onveilig=True)),
    "actor": lambda p: _edit_entry(p, 2, lambda b: b.update(actor={"id": "x", "role": None})),
    "moment in the entry": lambda p: _edit_entry(
        p, 2, lambda b: b.update(at="2026-01-04T09:00:00+00:00")),
    "moment column": lambda p: sql(p, "UPDATE eengezin_events SET at = '2025-01-01T00:00:00+00:00'"
                                      " WHERE traject_id = 'T-1' AND seq = 2"),
    "last entry deleted, version lowered": lambda p: sql(
        p, "DELETE FROM eengezin_events WHERE traject_id = 'T-1' AND seq = 3",
        "UPDATE eengezin_trajecten SET version = 2,"
        " snapshot = replace(snapshot, '\"version\":3', '\"version\":2') WHERE id = 'T-1'"),
    "whole traject deleted": lambda p: sql(p, *(
        f"DELETE FROM eengezin_{t} WHERE {c} = 'T-2'" for t, c in (
            ("events", "traject_id"), ("states", "traject_id"), ("state_changes", "traject_id"),
            ("deadlines", "traject_id"), ("keys", "traject_id"), ("trajecten", "id")))),
    "state index set to gesloten": lambda p: sql(
        p, "UPDATE eengezin_states SET state = 'gesloten' WHERE traject_id = 'T-1'"
           " AND track = 'regie'"),
    "state change removed": lambda p: sql(
        p, "DELETE FROM eengezin_state_changes WHERE traject_id = 'T-1' AND seq = 3"),
    "deadline index edited": lambda p: sql(
        p, "INSERT INTO eengezin_deadlines VALUES ('T-1', 'x', '2026-01-05', '2099-01-01')"),
    "ledger entry edited": lambda p: sql(
        p, "UPDATE eengezin_ledger SET at = '2020-01-01T00:00:00+00:00' WHERE seq = 1"),
    "data key destroyed silently": lambda p: sql(
        p, "UPDATE eengezin_keys SET wrapped = NULL WHERE traject_id = 'T-1'"),
}


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_verify_detects_tampering(db: Path, name: str) -> None:
    TAMPERING[name](db)
    assert problems(db), name
    before = digest(db)
    code, out = run("verify", "--store", str(db))
    assert code == 1 and "FOUT" in out
    code, out = run("verify", "--store", str(db), "--json")
    assert code == 1 and json.loads(out)["integrity"]
    assert digest(db) == before  # verify never writes


def test_a_rewritten_sha256_chain_is_caught_by_the_host_key(tmp_path: Path) -> None:
    path, key = tmp_path / "k.db", b"a host key of enough bytes"
    with open_store(path, chain_key=key) as store:
        assert store.chain_kind == "hmac-sha256"
        fill(Engine("basis", store=store))
    with SQLiteStore(path, chain_key=key, readonly=True) as store:
        assert store.check_integrity() == []
    # an administrator without the key edits an entry and recomputes a plain SHA-256 chain
    from eengezin.store.chain import Chain

    plain = Chain(None)
    _edit_entry(path, 2, lambda b: b["data"].update(acuut_onveilig=True))
    conn = sqlite3.connect(path)
    with conn:
        prev = ""
        for seq, event, at, text, k, r in conn.execute(
                "SELECT seq, event, at, entry, idempotency_key, request_hash FROM eengezin_events"
                " WHERE traject_id = 'T-1' ORDER BY seq").fetchall():
            prev = plain.link(prev, "T-1", str(seq), event, at, text, k or "", r or "")
            conn.execute("UPDATE eengezin_events SET hash = ? WHERE traject_id = 'T-1' AND seq = ?",
                         (prev, seq))
        conn.execute("UPDATE eengezin_trajecten SET head = ? WHERE id = 'T-1'", (prev,))
        conn.execute("UPDATE eengezin_states SET head = ? WHERE traject_id = 'T-1'", (prev,))
    conn.close()
    with SQLiteStore(path, chain_key=key, readonly=True) as store:
        assert any("gewijzigd" in p for p in store.check_integrity())
    # without the key, or with another, nothing is written and verify says why
    with SQLiteStore(path, readonly=True) as store:
        assert "host key" in store.check_integrity()[0]
    with SQLiteStore(path, chain_key=b"another key, long enough") as store:
        engine = Engine("basis", store=store)
        version = store.version("T-1")
        with pytest.raises(StoreKeyError):
            engine.fire("T-1", "notitie", {"tekst": "x"}, at=T0 + timedelta(days=2))
        assert store.version("T-1") == version


def test_host_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EENGEZIN_HMAC_KEY", "environment key of enough length")
    with open_store(tmp_path / "e.db") as store:
        assert store.chain_kind == "hmac-sha256"
        fill(Engine("basis", store=store))
    code, out = run("verify", "--store", str(tmp_path / "e.db"), "--heads")
    heads = json.loads(out)
    assert code == 0 and heads["chain"] == "hmac-sha256" and heads["ledger"]["seq"] == 1
    assert heads["trajecten"]["T-1"]["version"] == 3
    assert len(heads["trajecten"]["T-1"]["head"]) == 64


@pytest.mark.parametrize("content", [b"", b"not a database at all\n" * 10])
def test_an_empty_or_foreign_file_is_refused_and_left_alone(tmp_path: Path, content: bytes
                                                            ) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(content)
    for command in ("verify", "show", "history"):
        argv = [command, "--store", str(path)] + ([] if command == "verify" else ["T-1"])
        code, _ = run(*argv)
        assert code == 2 and path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.db"]


def test_a_foreign_sqlite_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sql(path, "CREATE TABLE klanten (naam TEXT)")
    before = digest(path)
    with pytest.raises(StoreOpenError, match="not an eengezin store"):
        SQLiteStore(path, readonly=True)
    assert run("verify", "--store", str(path))[0] == 2
    assert digest(path) == before


# ---------------------------------------------------------------- readers and files


def test_a_reader_does_not_wait_for_a_writer(db: Path) -> None:
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a writer holds the write lock
    writer.execute("UPDATE eengezin_meta SET value = value WHERE key = 'format'")
    try:
        # with a lock timeout of 0 a reader that had to wait would fail at once
        with SQLiteStore(db, timeout=0, readonly=True) as store:
            assert store.load("T-1").version == 3
        with SQLiteStore(db, timeout=0) as store:  # a read-write open only reads, too
            assert store.history("T-1")[0].data["huishouden"]["leden"][0]["naam"] == NAME
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_store_files_are_private(db: Path) -> None:
    files = [p for p in db.parent.iterdir() if p.name.startswith("t.db")]
    assert {p.name for p in files} >= {"t.db", "t.db.key"}
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name


def test_a_read_only_store_refuses_writes(db: Path) -> None:
    with SQLiteStore(db, readonly=True) as store:
        engine = Engine("basis", store=store)
        with pytest.raises(Exception) as info:
            engine.fire("T-1", "notitie", {"tekst": "x"}, at=T0 + timedelta(days=2))
        from eengezin.errors import EengezinError

        assert isinstance(info.value, EengezinError)
        assert store.version("T-1") == 3


# ---------------------------------------------------------------- personal data at rest


def test_personal_values_are_encrypted_at_rest(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    with open_store(path, outbox=True) as store:
        engine = Engine("basis", store=store)
        fill(engine)
        assert engine.load("T-1").facts["huishouden"]["leden"][0]["naam"] == NAME
        assert engine.history("T-1")[1].data["toelichting"] == "geheime toelichting"
        record = store.claim()[0]
        assert record.decision.data["huishouden"]["leden"][0]["naam"] == NAME
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("p.db"))
    for secret in (NAME, "geheime toelichting", "1988-06-14", "Schulden en opvoedvragen"):
        assert secret.encode() not in raw, secret
    assert b"ouder" in raw and b"basischeck" in raw  # the process itself stays readable


def test_personal_paths_follow_flags_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("""
id: eigen
version: "1"
extends: basis
events:
  notitie:
    payload:
      tekst: {type: string, persoonsgegevens: false}
      dossiernummer: {type: string, persoonsgegevens: true}
      naam?: string
    record:
      - set: {fact: laatste_dossier, from: data.dossiernummer}
""", encoding="utf-8")
    paths = personal_paths(load_definition(path))
    assert paths.data["notitie"] == {("dossiernummer",), ("naam",)}
    assert ("laatste_dossier",) in paths.facts


def test_a_missing_key_file_is_a_clear_error(db: Path) -> None:
    Path(f"{db}.key").unlink()
    with SQLiteStore(db, readonly=True) as store, pytest.raises(StoreKeyError):
        store.load("T-1")


# ---------------------------------------------------------------- erasure and retention


def test_erasure_destroys_personal_data_and_keeps_the_process(db: Path) -> None:
    later = datetime(2047, 1, 1, tzinfo=UTC)  # after 20 years
    with open_store(db) as store:
        engine = Engine("basis", store=store)
        before = store.load("T-2")
        counts = store.counts("regie")
        engine.erase("T-2", "bewaartermijn verstreken", "privacy-officer", at=later)
        after = store.load("T-2")
        assert after.state == before.state and after.version == before.version
        assert after.facts["huishouden"]["leden"][0]["naam"] == ERASED
        assert after.facts["huishouden"]["leden"][0]["rol"] == "ouder"
        assert store.history("T-2")[0].data["vraag"] == ERASED
        assert store.counts("regie") == counts
        assert store.load("T-1").facts["vraag"] == AANMELDEN["vraag"]  # others untouched
        assert store.erased("T-2") and not store.erased("T-1")
        entry = store.ledger()[-1]
        assert entry["kind"] == "gewist" and entry["traject"] == "T-2"
        assert entry["door"] == "privacy-officer"
        with pytest.raises(TrajectErasedError):
            store.erase("T-2", reason="again", by="x")
        assert store.version("T-2") == before.version
    code, out = run("verify", "--store", str(db))
    assert code == 0, out
    assert b"Piet Pieters" not in db.read_bytes()


def test_a_statutory_term_blocks_early_erasure(db: Path) -> None:
    with open_store(db) as store:
        engine = Engine("basis", store=store)
        for tid in ("T-1", "T-2"):  # open, and closed but within 20 years
            with pytest.raises(RetentionError, match="bewaartermijn"):
                engine.erase(tid, "verzoek", "w1", at=T0 + timedelta(days=30))
            assert not store.erased(tid)
        assert store.ledger()[-1]["kind"] == "aangemaakt"
        status = retention_status(engine.definition, store, "T-2", T0)
        assert status.until is not None and status.until.year == 2046
        engine.erase("T-1", "verzoek ouders", "w1",
                     exception="schriftelijk verzoek van beide ouders, 2026-02-01",
                     at=T0 + timedelta(days=30))
        assert store.erased("T-1")
        assert store.ledger()[-1]["uitzondering"].startswith("schriftelijk")
        version = store.version("T-1")
        with pytest.raises(TrajectErasedError):  # an erased traject takes nothing more
            engine.fire("T-1", "notitie", {"tekst": "x"}, at=T0 + timedelta(days=31))
        assert store.version("T-1") == version


def test_retention_command(db: Path) -> None:
    before = digest(db)
    code, out = run("retention", "--store", str(db), "--dry-run", "--at", "2047-01-01T00:00Z",
                    "--json")
    assert code == 0 and [t["traject"] for t in json.loads(out)["trajecten"]] == ["T-2"]
    assert digest(db) == before
    code, out = run("retention", "--store", str(db), "--dry-run", "--at", "2030-01-01T00:00Z")
    assert code == 0 and "0 trajecten" in out
    code, out = run("retention", "--store", str(db), "--apply", "--at", "2047-01-01T00:00Z")
    assert code == 0 and "gewist: T-2" in out
    with open_store(db, readonly=True) as store:
        assert store.erased("T-2") and not store.erased("T-1")
    assert run("retention", "--store", str(db))[0] == 2


def test_erase_command_needs_an_exception_within_the_term(db: Path) -> None:
    code, _ = run("erase", "--store", str(db), "T-1", "--reden", "verzoek", "--door", "w1")
    assert code == 2
    with open_store(db, readonly=True) as store:
        assert not store.erased("T-1")
    code, out = run("erase", "--store", str(db), "T-1", "--reden", "verzoek", "--door", "w1",
                    "--uitzondering", "verzoek jongere (16), 2026-03-01")
    assert code == 0 and "gewist" in out


def test_a_definition_declares_its_retention(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text('id: kort\nversion: "1"\nextends: basis\n'
                    "bewaartermijn: {jaren: 2, wettelijk: false}\n", encoding="utf-8")
    definition = load_definition(path)
    assert (definition.retention.years, definition.retention.statutory) == (2, False)
    store = MemoryStore()
    engine = Engine(definition, store=store)
    fill(engine)
    engine.erase("T-1", "verzoek", "w1", at=T0 + timedelta(days=1))  # not statutory
    assert store.load("T-1").facts["vraag"] == ERASED
    assert store.history("T-1")[0].data["huishouden"]["leden"][0]["naam"] == ERASED
    bad = tmp_path / "bad.yaml"
    bad.write_text('id: fout\nversion: "1"\nextends: basis\nbewaartermijn: {jaren: -1}\n',
                   encoding="utf-8")
    with pytest.raises(DefinitionError):
        load_definition(bad)


def test_inzage_finds_one_person_across_trajecten(db: Path) -> None:
    with open_store(db) as store:
        fill(Engine("basis", store=store), "T-3")  # the same person again
        found = inzage(store, "sanne veldhuis")
    assert [t["traject"] for t in found["trajecten"]] == ["T-1", "T-3"]
    assert found["trajecten"][0]["logboek"][0]["gebeurtenis"] == "aanmelden"
    assert NAME not in json.dumps({k: v for k, v in found.items() if k != "trajecten"})
    code, out = run("inzage", "--store", str(db), "--zoek", "Piet Pieters")
    assert code == 0 and [t["traject"] for t in json.loads(out)["trajecten"]] == ["T-2"]
    assert run("inzage", "--store", str(db), "--zoek", "ab")[0] == 2


def test_the_log_record_of_an_erasure_holds_no_personal_data(
        db: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="eengezin")
    with open_store(db) as store:
        Engine("basis", store=store).erase("T-2", "Piet Pieters vroeg erom", "w1",
                                           at=datetime(2047, 1, 1, tzinfo=UTC))
    erased = [r for r in caplog.records if r.getMessage() == "eengezin.erased"]
    assert len(erased) == 1 and erased[0].__dict__["traject"] == "T-2"
    assert erased[0].__dict__["by"] == "w1"
    assert all("Piet" not in json.dumps(r.__dict__, default=str) for r in caplog.records)


# ---------------------------------------------------------------- both SQL backends

def test_chains_and_erasure_on_each_backend(store_url: str) -> None:
    with open_store(store_url) as store:
        engine = Engine("basis", store=store)
        fill(engine, "T-1")
        fill(engine, "T-2", close=True, name="Piet Pieters")
        assert store.check_integrity() == []
        engine.erase("T-2", "bewaartermijn verstreken", "po", at=datetime(2047, 1, 1, tzinfo=UTC))
        assert store.load("T-2").facts["vraag"] == ERASED
        assert store.check_integrity() == []
        assert engine.verify("T-2").ok and engine.verify("T-1").ok
        with store._transaction(write=True) as cur:  # what an administrator could do by hand
            cur.execute("UPDATE eengezin_states SET state = 'gesloten' WHERE traject_id = 'T-1'"
                        " AND track = 'regie'")
        assert any("staatindex" in p for p in store.check_integrity())


def _writer(url: str, worker: int, count: int) -> int:
    with open_store(url) as store:
        engine = Engine("basis", store=store)
        done = 0
        for i in range(count):
            out = engine.fire("W", "notitie", {"tekst": f"{worker}-{i}"},
                              at=T0 + timedelta(days=1, seconds=worker * 10_000 + i),
                              backdated=True, idempotency_key=f"{worker}-{i}")
            done += out.accepted
        return done


def test_concurrent_writers_on_one_traject_all_succeed(store_url: str) -> None:
    import multiprocessing

    with open_store(store_url) as store:
        assert Engine("basis", store=store).start("W", AANMELDEN, at=T0).accepted
    workers, count = 4, 25
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        done = pool.starmap(_writer, [(store_url, w, count) for w in range(workers)])
    assert done == [count] * workers
    with open_store(store_url) as store:
        assert store.version("W") == 1 + workers * count
        assert store.check_integrity() == []


# ---------------------------------------------------------------- invariants

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)
KEY = new_data_key()


@given(value=st.dictionaries(st.sampled_from(["naam", "rol", "leden", "vraag"]), JSON,
                             max_size=4))
def test_sealing_then_opening_gives_the_value_back(value: dict[str, Any]) -> None:
    trie = build_trie([("naam",), ("leden", "[]", "naam"), ("vraag",)])
    sealer = Sealer("T-1", KEY)
    sealed = transform(value, trie, sealer.seal)
    assert transform(sealed, trie, sealer.open) == value
    for key in ("naam", "vraag"):  # a personal value never stays in the clear
        if value.get(key) is not None:
            assert str(sealed[key]).startswith("enc1:")
    assert sealed.get("rol") == value.get("rol")  # other values are left alone
    gone = transform(sealed, trie, Sealer("T-1", None).open)
    assert all(gone[k] in (ERASED, None) for k in ("naam", "vraag") if k in gone)


@given(position=st.integers(min_value=0), replacement=st.characters(codec="ascii"))
def test_any_edit_of_a_logged_entry_is_detected(tmp_path_factory: pytest.TempPathFactory,
                                                 position: int, replacement: str) -> None:
    path = tmp_path_factory.mktemp("edit") / "t.db"
    with open_store(path) as store:
        assert Engine("basis", store=store).start("T-1", AANMELDEN, at=T0).accepted
    conn = sqlite3.connect(path)
    with conn:
        text = conn.execute("SELECT entry FROM eengezin_events WHERE seq = 1").fetchone()[0]
        i = position % len(text)
        edited = text[:i] + replacement + text[i + 1:]
        conn.execute("UPDATE eengezin_events SET entry = ? WHERE seq = 1", (edited,))
    conn.close()
    found = problems(path)
    assert bool(found) == (edited != text)


class VaultKeys:
    """A host's key service (here: one AES key in memory), behind the KeyProvider protocol."""

    key_id = "vault:test-1"

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self.calls = 0

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        self.calls += 1
        return b"\0" * 12 + self._aead.encrypt(b"\0" * 12, data_key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        self.calls += 1
        return self._aead.decrypt(wrapped[:12], wrapped[12:], context)


def test_a_host_key_service_wraps_the_data_keys(tmp_path: Path) -> None:
    from eengezin.store.crypto import KeyProvider

    vault = VaultKeys()
    assert isinstance(vault, KeyProvider)
    path = tmp_path / "v.db"
    with open_store(path, keys=vault) as store:
        fill(Engine("basis", store=store))
    assert vault.calls >= 1 and not Path(f"{path}.key").exists()  # no key file beside it
    with SQLiteStore(path, keys=vault, readonly=True) as store:
        assert store.load("T-1").facts["vraag"] == AANMELDEN["vraag"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT key_id FROM eengezin_keys").fetchone()[0] == "vault:test-1"
    conn.close()
    with SQLiteStore(path, keys=VaultKeys(), readonly=True) as store, \
            pytest.raises(StoreKeyError):  # another host key
        store.load("T-1")
