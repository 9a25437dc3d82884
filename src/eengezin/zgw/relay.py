"""The relay: decisions from an outbox become Zaken API calls.

Per accepted decision of a traject:

- the start event (or the first decision seen of a traject) creates the zaak
  (``identificatie`` = the traject id), a rol per household member and the status of the
  first phase;
- a change of phase (the top-level state of the phase track) sets the phase's status;
- a regisseur recorded by the event (in the bundled definitions: ``regie_starten``,
  ``regisseur_wijzigen``, ``overdragen``) becomes the zaak's regisseur rol, replacing the
  previous one;
- reaching a final state sets the resultaat of that state, then the eindstatus (which
  closes the zaak).

**Idempotency.** A record may be relayed again (a crash before its ``ack``). Every write
is preceded by a read of what the Zaken API already holds: the zaak by ``identificatie``
within the ``bronorganisatie``, a status by statustype and ``datumStatusGezet``, a rol by
roltype and betrokkene identification, the resultaat per zaak. The Zaken API is thus the
idempotency anchor; :class:`RelayState` (traject -> zaak URL and the last version relayed)
only saves those reads and may be lost. Progress itself is the outbox's ``ack``.

**Failures.** Connection errors, timeouts and 5xx are retried by the client with bounded
backoff; when they persist, or on a 4xx, the relay stops: the records handled before are
acknowledged, the failing one and those after it are not, and the API's error body is
logged. Log lines name traject ids, events, versions and API paths, never payload values.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import attrs
import structlog

from ..decision import Decision, Outbox, OutboxRecord
from ..process.zgw import HUISHOUDLID, REGISSEUR, ZgwModel
from .client import ZgwApiError, ZgwUnavailableError

log = structlog.get_logger("eengezin.zgw")



class ZakenApi(Protocol):
    """What the relay needs of a Zaken API client (:class:`~eengezin.zgw.client.ZgwClient`)."""

    def post(self, path: str, body: Mapping[str, Any]) -> Any: ...

    def delete(self, path: str) -> None: ...

    def list(self, path: str, params: Mapping[str, str]) -> list[Any]: ...


class RelayState(Protocol):
    """Where the relay remembers each traject's zaak URL and last relayed version."""

    def zaak(self, traject_id: str) -> str | None: ...

    def version(self, traject_id: str) -> int: ...

    def remember(self, traject_id: str, zaak: str, version: int) -> None: ...


class MemoryRelayState:
    """Relay state for one process (lost on exit, which costs only extra reads)."""

    def __init__(self) -> None:
        self._zaak: dict[str, str] = {}
        self._version: dict[str, int] = {}

    def zaak(self, traject_id: str) -> str | None:
        return self._zaak.get(traject_id)

    def version(self, traject_id: str) -> int:
        return self._version.get(traject_id, 0)

    def remember(self, traject_id: str, zaak: str, version: int) -> None:
        self._zaak[traject_id] = zaak
        self._version[traject_id] = max(version, self._version.get(traject_id, 0))


class JsonFileRelayState(MemoryRelayState):
    """Relay state in a JSON file, rewritten atomically (temp file + rename) on each change."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        if self.path.exists():
            saved = json.loads(self.path.read_text("utf-8"))
            for tid, entry in saved.get("trajecten", {}).items():
                super().remember(tid, str(entry["zaak"]), int(entry["version"]))

    def remember(self, traject_id: str, zaak: str, version: int) -> None:
        super().remember(traject_id, zaak, version)
        data = {"trajecten": {t: {"zaak": z, "version": self.version(t)} for t, z in self._zaak.items()}}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, self.path)


@attrs.frozen(slots=True)
class RelayTarget:
    """One definition's ZGW model and the URLs of its catalogue objects (key -> URL)."""

    model: ZgwModel
    types: Mapping[str, str]


@attrs.frozen(slots=True)
class RelayResult:
    """What one :meth:`Relay.run_once` did; ``error`` is set when it stopped on a failure."""

    claimed: int
    acked: int
    error: str | None = None


class RelayStopped(Exception):
    """Internal: a record could not be relayed; the relay stops before acknowledging it."""


def _at(data: Mapping[str, Any], path: tuple[str, ...] | None) -> Any:
    """The payload value at ``path`` (from the compiled model), or None."""
    if path is None:
        return None
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _identity(rol: Mapping[str, Any]) -> str | None:
    ident = rol.get("betrokkeneIdentificatie") or {}
    value = ident.get("anpIdentificatie") or ident.get("identificatie")
    return str(value) if value else None


def _short_id(value: str, limit: int) -> str:
    """``value`` if it fits the API's field, else a stable digest of it that does."""
    return value if len(value) <= limit else hashlib.sha256(value.encode()).hexdigest()[:limit]


def _moment(at: datetime) -> datetime:
    """An aware moment for the API (``date-time`` needs an offset); naive means UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _same_moment(a: Any, b: datetime) -> bool:
    try:
        return datetime.fromisoformat(str(a)) == b
    except ValueError:
        return False


class Relay:
    """Relays an outbox's decisions to a Zaken API (see the module docstring).

    ``targets`` maps definition ids to their :class:`RelayTarget`. ``bronorganisatie``
    and ``verantwoordelijke_organisatie`` are RSINs (9 digits).
    """

    def __init__(
        self,
        outbox: Outbox,
        zaken: ZakenApi,
        targets: Mapping[str, RelayTarget],
        *,
        bronorganisatie: str,
        verantwoordelijke_organisatie: str | None = None,
        state: RelayState | None = None,
        batch: int = 50,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.outbox = outbox
        self.zaken = zaken
        self.targets = dict(targets)
        self.bronorganisatie = bronorganisatie
        self.verantwoordelijke = verantwoordelijke_organisatie or bronorganisatie
        self.state: RelayState = state if state is not None else MemoryRelayState()
        self.batch = batch
        self.retries, self.backoff, self.max_backoff, self.sleep = retries, backoff, max_backoff, sleep

    # ------------------------------------------------------------ loop
    def run_once(self) -> RelayResult:
        """Claim one batch, relay it in order, acknowledge what was relayed."""
        records = self.outbox.claim(self.batch)
        done: list[int] = []
        error: str | None = None
        try:
            for record in records:
                try:
                    self.relay(record)
                except RelayStopped as exc:
                    error = str(exc)
                    break
                done.append(record.id)
        finally:
            if done:
                self.outbox.ack(done)
        return RelayResult(len(records), len(done), error)

    def run(self, *, max_batches: int | None = None) -> RelayResult:
        """Run batches until the outbox is empty, a record fails, or ``max_batches`` ran."""
        claimed = acked = batches = 0
        while max_batches is None or batches < max_batches:
            result = self.run_once()
            batches += 1
            claimed += result.claimed
            acked += result.acked
            if result.error is not None or result.claimed == 0:
                return RelayResult(claimed, acked, result.error)
        return RelayResult(claimed, acked)

    # ------------------------------------------------------------ one record
    def relay(self, record: OutboxRecord) -> None:
        """Make the Zaken API reflect one decision; raise RelayStopped if it cannot."""
        d = record.decision
        ctx = {"record": record.id, "traject": d.traject_id, "version": d.version, "event_id": d.event}
        target = self.targets.get(d.definition.id)
        if target is None:
            log.error("zgw.relay.unknown_definition", definition=d.definition.id, **ctx)
            raise RelayStopped(f"no ZGW target for definition {d.definition.id!r}")
        if d.version <= self.state.version(d.traject_id):
            log.info("zgw.relay.already_relayed", **ctx)
            return
        attempt = 0
        while True:
            try:
                zaak = self._handle(d, target)
                break
            except ZgwUnavailableError as exc:
                # a write that failed or timed out may have been carried out: handle the
                # whole record again, reads first, so nothing is created twice
                if attempt >= self.retries:
                    log.error("zgw.relay.unavailable", reason=str(exc), **ctx)
                    raise RelayStopped(str(exc)) from exc
                delay = min(self.max_backoff, self.backoff * 2 ** attempt)
                log.warning("zgw.relay.retry", reason=str(exc), attempt=attempt + 1, delay=delay, **ctx)
                self.sleep(delay)
                attempt += 1
            except ZgwApiError as exc:
                log.error("zgw.relay.refused", status=exc.status, path=exc.path, method=exc.method,
                          error=exc.body, **ctx)
                raise RelayStopped(f"{exc}") from exc
        self.state.remember(d.traject_id, zaak, d.version)
        log.info("zgw.relay.relayed", **ctx)

    def _handle(self, d: Decision, target: RelayTarget) -> str:
        model, types = target.model, target.types
        track, eind = model.track, model.eindstatus.key
        zaak, created = self._zaak(d, types)
        change = d.moved(track)
        if created or d.version == 1:
            huishouden = _at(d.data, model.huishouden_from.get(d.event))
            if d.version == 1 and isinstance(huishouden, Mapping):
                for lid in huishouden.get("leden") or []:
                    if isinstance(lid, Mapping) and lid.get("id"):
                        self._rol_huishoudlid(zaak, types, lid)
            # the phase the traject was in before this event (the first phase, for the start)
            first = model.phase_of.get(change.before if change is not None else d.state.get(track, ""))
            if first is not None and first != eind:
                self._status(zaak, types, first, d.at)
        regisseur = _at(d.data, model.regisseur_from.get(d.event))
        if isinstance(regisseur, Mapping) and regisseur.get("id"):
            self._rol_regisseur(zaak, types, regisseur, bool(d.data.get("tijdelijk")))
        if change is not None:
            before, after = model.phase_of.get(change.before), model.phase_of.get(change.after)
            if after is not None and after != before:
                if after == eind:
                    resultaat = model.resultaattype_for(change.after)
                    if resultaat is not None:
                        self._resultaat(zaak, types[f"resultaattype:{resultaat.key}"])
                self._status(zaak, types, after, d.at)
        return zaak

    # ------------------------------------------------------------ writes, each read first
    def _zaak(self, d: Decision, types: Mapping[str, str]) -> tuple[str, bool]:
        known = self.state.zaak(d.traject_id)
        if known is not None:
            return known, False
        found = self.zaken.list("zaken", {"identificatie": d.traject_id,
                                          "bronorganisatie": self.bronorganisatie})
        if found:
            return str(found[0]["url"]), False
        created = self.zaken.post("zaken", {
            "identificatie": d.traject_id,
            "bronorganisatie": self.bronorganisatie,
            "verantwoordelijkeOrganisatie": self.verantwoordelijke,
            "zaaktype": types["zaaktype"],
            "startdatum": d.at.date().isoformat(),
            "registratiedatum": d.at.date().isoformat(),
        })
        return str(created["url"]), True

    def _status(self, zaak: str, types: Mapping[str, str], key: str, at: datetime) -> None:
        statustype = types[f"statustype:{key}"]
        existing = self.zaken.list("statussen", {"zaak": zaak, "statustype": statustype})
        moment = _moment(at)
        if any(_same_moment(s.get("datumStatusGezet"), moment) for s in existing):
            return
        self.zaken.post("statussen", {"zaak": zaak, "statustype": statustype,
                                      "datumStatusGezet": moment.isoformat()})

    def _rol(self, zaak: str, roltype: str, body: dict[str, Any], replace: bool) -> None:
        existing = self.zaken.list("rollen", {"zaak": zaak, "roltype": roltype})
        wanted = _identity(body)
        if any(_identity(r) == wanted for r in existing):
            return
        if replace:
            for rol in existing:
                self.zaken.delete(str(rol["url"]))
        self.zaken.post("rollen", {"zaak": zaak, "roltype": roltype, **body})

    def _rol_huishoudlid(self, zaak: str, types: Mapping[str, str], lid: Mapping[str, Any]) -> None:
        ident: dict[str, Any] = {"anpIdentificatie": _short_id(str(lid["id"]), 17)}
        if lid.get("geboortedatum"):
            ident["geboortedatum"] = str(lid["geboortedatum"])
        body: dict[str, Any] = {"betrokkeneType": "natuurlijk_persoon",
                                "roltoelichting": str(lid.get("rol", "")),
                                "betrokkeneIdentificatie": ident}
        if lid.get("naam"):
            body["afwijkendeNaamBetrokkene"] = str(lid["naam"])[:625]
        self._rol(zaak, types[f"roltype:{HUISHOUDLID}"], body, replace=False)

    def _rol_regisseur(self, zaak: str, types: Mapping[str, str], regisseur: Mapping[str, Any],
                       tijdelijk: bool) -> None:
        professional = regisseur.get("soort") == "professional"
        ident = ({"identificatie": _short_id(str(regisseur["id"]), 24)} if professional
                 else {"anpIdentificatie": _short_id(str(regisseur["id"]), 17)})
        toelichting = "Regisseur" + (f" ({regisseur['soort']})" if regisseur.get("soort") else "")
        if regisseur.get("organisatie"):
            toelichting += f", {regisseur['organisatie']}"
        if tijdelijk:
            toelichting += ", tijdelijk"
        body: dict[str, Any] = {
            "betrokkeneType": "medewerker" if professional else "natuurlijk_persoon",
            "roltoelichting": toelichting[:1000], "betrokkeneIdentificatie": ident,
        }
        if regisseur.get("naam"):
            body["afwijkendeNaamBetrokkene"] = str(regisseur["naam"])[:625]
        self._rol(zaak, types[f"roltype:{REGISSEUR}"], body, replace=True)

    def _resultaat(self, zaak: str, resultaattype: str) -> None:
        if self.zaken.list("resultaten", {"zaak": zaak}):
            return
        self.zaken.post("resultaten", {"zaak": zaak, "resultaattype": resultaattype})
