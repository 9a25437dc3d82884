"""``eengezin zgw zaaktype`` and ``eengezin zgw relay``.

Hooked into the main CLI by ``register(sub)`` (``add_parser`` is the same function); the
handlers are named ``zgw:cmd_…`` and found through ``eengezin.cli.zgw``. Everything heavy is
imported when a command runs, so ``eengezin --help`` stays fast.
Credentials come from the environment: ``EENGEZIN_ZGW_CLIENT_ID`` and
``EENGEZIN_ZGW_SECRET``; never from the command line (it shows in process lists).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta
from typing import Any, TextIO

from ..errors import EengezinError

ENV_CLIENT_ID = "EENGEZIN_ZGW_CLIENT_ID"
ENV_SECRET = "EENGEZIN_ZGW_SECRET"
ENV_BRONORGANISATIE = "EENGEZIN_ZGW_BRONORGANISATIE"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class ZgwUsageError(EengezinError):
    """A missing setting for a ZGW command (Dutch message)."""


def _credentials() -> tuple[str, str]:
    client_id, secret = os.environ.get(ENV_CLIENT_ID), os.environ.get(ENV_SECRET)
    if not client_id or not secret:
        raise ZgwUsageError(f"zet {ENV_CLIENT_ID} en {ENV_SECRET} in de omgeving")
    return client_id, secret


def _client(url: str, timeout: float) -> Any:
    from .client import ZgwClient

    client_id, secret = _credentials()
    return ZgwClient(url, client_id=client_id, secret=secret, timeout=timeout)


def cmd_zaaktype(args: argparse.Namespace, out: TextIO) -> int:
    from ..definition import load_definition
    from .export import ZgwExportError, load_zaaktype, zaaktype_requests

    definition = load_definition(args.definition)
    begin = date.fromisoformat(args.begin_geldigheid) if args.begin_geldigheid else date.today()
    try:
        requests = zaaktype_requests(
            definition, args.catalogus, begin_geldigheid=begin,
            selectielijstklasse=args.selectielijstklasse,
            resultaattypeomschrijving=args.resultaattypeomschrijving,
        )
    except ZgwExportError as exc:
        sys.stderr.write(f"eengezin: {exc}\n")
        return EXIT_FAILED
    loaded: dict[str, str] | None = None
    if args.load:
        catalogi = _client(args.load, args.timeout)
        try:
            loaded = load_zaaktype(requests, lambda resource, body: str(catalogi.post(resource, body)["url"]))
        finally:
            catalogi.close()
    if args.json:
        doc: dict[str, Any] = {
            "catalogus": args.catalogus,
            "definition": {"id": definition.id, "version": definition.version, "hash": definition.hash},
            "requests": [r.as_json() for r in requests],
        }
        if loaded is not None:
            doc["loaded"] = loaded
        out.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    out.write(f"# zaaktype {definition.id} v{definition.version} in {args.catalogus}\n")
    for req in requests:
        label = req.body.get("omschrijving", req.body.get("informatieobjecttype", ""))
        out.write(f"POST /{req.resource:<31} {req.key:<45} {label}\n")
    if loaded is not None:
        out.write(f"zaaktype aangemaakt (concept): {loaded['zaaktype']}\n")
    return EXIT_OK


def cmd_relay(args: argparse.Namespace, out: TextIO) -> int:
    from ..definition import load_definition
    from ..store import open_store
    from .export import catalogue_urls, model_of
    from .relay import JsonFileRelayState, MemoryRelayState, Relay, RelayState, RelayTarget

    bron = args.bronorganisatie or os.environ.get(ENV_BRONORGANISATIE)
    if not bron:
        raise ZgwUsageError(f"geef --bronorganisatie (RSIN) of zet {ENV_BRONORGANISATIE}")
    definition = load_definition(args.definition)
    model = model_of(definition)
    catalogi = _client(args.catalogi_api, args.timeout)
    zaken = _client(args.zaken_api, args.timeout)
    try:
        types = catalogue_urls(catalogi, args.zaaktype, model)
        state: RelayState = JsonFileRelayState(args.state) if args.state else MemoryRelayState()
        with open_store(args.store, create=False) as store:
            outbox = _Leased(store, timedelta(seconds=args.lease)) if args.lease is not None else store
            relay = Relay(outbox, zaken, {definition.id: RelayTarget(model, types)}, bronorganisatie=bron,
                          verantwoordelijke_organisatie=args.verantwoordelijke_organisatie, state=state)
            while True:
                result = relay.run()
                if result.acked:
                    out.write(f"{result.acked} beslissing(en) doorgegeven\n")
                    out.flush()
                if result.error is not None:
                    sys.stderr.write(f"eengezin: relay gestopt: {result.error}\n")
                    return EXIT_FAILED
                if args.once:
                    return EXIT_OK
                time.sleep(args.poll)
    finally:
        catalogi.close()
        zaken.close()


class _Leased:
    """A store's outbox claimed with this relay's lease (how long a claim stays reserved)."""

    def __init__(self, store: Any, lease: timedelta) -> None:
        self.store, self.lease = store, lease

    def claim(self, limit: int = 100) -> Any:
        return self.store.claim(limit, lease=self.lease)

    def ack(self, ids: Any) -> None:
        self.store.ack(ids)


def register(sub: Any) -> None:
    """Add ``zgw zaaktype`` and ``zgw relay`` to the main CLI's subparsers."""
    zgw = sub.add_parser("zgw", help="Zaakgericht werken: zaaktype exporteren, beslissingen doorgeven")
    zsub = zgw.add_subparsers(dest="zgw_command", required=True, metavar="ZGW-COMMAND")

    p = zsub.add_parser("zaaktype", help="de definitie als zaaktype (Catalogi API-verzoeken)")
    p.add_argument("definition", metavar="DEF", help="meegeleverd id of pad naar YAML")
    p.add_argument("--catalogus", required=True, metavar="URL", help="URL van de catalogus")
    p.add_argument("--selectielijstklasse", metavar="URL",
                   help="voor resultaattypen zonder eigen selectielijstklasse")
    p.add_argument("--resultaattypeomschrijving", metavar="URL",
                   help="voor resultaattypen zonder eigen resultaattypeomschrijving")
    p.add_argument("--begin-geldigheid", metavar="DATUM", help="ISO-datum (standaard: vandaag)")
    p.add_argument("--load", metavar="CATALOGI_API",
                   help="maak het zaaktype ook aan in deze Catalogi API (als concept)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDEN")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler="zgw:cmd_zaaktype")

    p = zsub.add_parser("relay", help="geef beslissingen uit de outbox door aan een Zaken API")
    p.add_argument("--store", required=True, metavar="URL", help="de opslag met de outbox")
    p.add_argument("--zaken-api", required=True, metavar="URL")
    p.add_argument("--catalogi-api", required=True, metavar="URL")
    p.add_argument("--zaaktype", required=True, metavar="URL", help="het geladen zaaktype")
    p.add_argument("--definition", required=True, metavar="DEF")
    p.add_argument("--bronorganisatie", metavar="RSIN")
    p.add_argument("--verantwoordelijke-organisatie", metavar="RSIN")
    p.add_argument("--state", metavar="FILE", help="JSON-bestand: traject -> zaak (mag verloren gaan)")
    p.add_argument("--once", action="store_true", help="stop als de outbox leeg is")
    p.add_argument("--lease", type=float, metavar="SECONDEN",
                   help="zo lang blijft een geclaimd record voor deze relay gereserveerd "
                        "(standaard die van de opslag)")
    p.add_argument("--poll", type=float, default=5.0, metavar="SECONDEN")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDEN")
    p.set_defaults(handler="zgw:cmd_relay")


add_parser = register
