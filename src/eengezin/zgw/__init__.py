"""Zaakgericht werken (ZGW): a definition as a zaaktype, trajecten relayed to a Zaken API.

- :func:`zaaktype_requests` / :func:`load_zaaktype`: the Catalogi API requests that create
  a definition's zaaktype, and posting them in order;
- :class:`Relay`: reads an :class:`~eengezin.decision.Outbox` and makes the Zaken API
  reflect each decision (zaak, statussen, rollen, resultaat), idempotently;
- :class:`MemoryOutbox` and :func:`decision_from_outcome`: an outbox without a SQL store;
- :mod:`eengezin.zgw.schemas`: validation against the shipped ZGW OpenAPI specifications.

HTTP (``httpx``), JWT (``PyJWT``) and OpenAPI validation (``openapi-schema-validator``) are
the optional dependencies of ``eengezin[zgw]``; they are imported only when used, so
``import eengezin.zgw`` works without them. See docs/zgw.md.
"""

from __future__ import annotations

from .client import ZgwApiError, ZgwClient, ZgwUnavailableError
from .export import CatalogiRequest, ZgwExportError, catalogue_urls, load_zaaktype, zaaktype_requests
from .outbox import MemoryOutbox, decision_from_outcome
from .relay import JsonFileRelayState, MemoryRelayState, Relay, RelayResult, RelayState, RelayTarget
from .schemas import ZgwSchemaError

__all__ = [
    "CatalogiRequest",
    "JsonFileRelayState",
    "MemoryOutbox",
    "MemoryRelayState",
    "Relay",
    "RelayResult",
    "RelayState",
    "RelayTarget",
    "ZgwApiError",
    "ZgwClient",
    "ZgwExportError",
    "ZgwSchemaError",
    "ZgwUnavailableError",
    "catalogue_urls",
    "decision_from_outcome",
    "load_zaaktype",
    "zaaktype_requests",
]
