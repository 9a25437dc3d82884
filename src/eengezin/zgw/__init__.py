"""Zaakgericht werken (ZGW): a definition as a zaaktype, trajecten relayed to a Zaken API.

- :func:`zaaktype_requests` / :func:`load_zaaktype`: the Catalogi API requests that create
  a definition's zaaktype, and posting them in order;
- :class:`Relay`: reads an :class:`~eengezin.decision.Outbox` and makes the Zaken API
  reflect each decision (zaak, statussen, rollen, resultaat), idempotently;
- :class:`MemoryOutbox`: an outbox without a SQL store, fed by an engine listener;
- :mod:`eengezin.zgw.schemas`: validation against the shipped ZGW OpenAPI specifications.

HTTP (``httpx``), JWT (``PyJWT``) and OpenAPI validation (``openapi-schema-validator``) are
the optional dependencies of ``eengezin[zgw]``; they are imported only when used, and the
names below load their module on first access, so ``import eengezin.zgw`` is cheap.
See docs/zgw.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import ZgwApiError, ZgwClient, ZgwUnavailableError
    from .export import CatalogiRequest, ZgwExportError, catalogue_urls, load_zaaktype, zaaktype_requests
    from .outbox import MemoryOutbox
    from .relay import JsonFileRelayState, MemoryRelayState, Relay, RelayResult, RelayState, RelayTarget
    from .schemas import ZgwSchemaError

_EXPORTS = {
    "ZgwApiError": ".client", "ZgwClient": ".client", "ZgwUnavailableError": ".client",
    "CatalogiRequest": ".export", "ZgwExportError": ".export", "catalogue_urls": ".export",
    "load_zaaktype": ".export", "zaaktype_requests": ".export",
    "MemoryOutbox": ".outbox",
    "JsonFileRelayState": ".relay", "MemoryRelayState": ".relay", "Relay": ".relay",
    "RelayResult": ".relay", "RelayState": ".relay", "RelayTarget": ".relay",
    "ZgwSchemaError": ".schemas",
}

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
    "load_zaaktype",
    "zaaktype_requests",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
