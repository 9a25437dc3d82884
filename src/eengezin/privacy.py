"""Retention, erasure and access (AVG art. 15 and 17) over a store.

- :func:`retention_status` tells when a traject closed and until when its personal data
  must be kept (the definition's ``bewaartermijn``, default 20 years, Jeugdwet);
- :func:`apply_retention` erases (crypto-shreds) every traject whose term has passed,
  or only reports them (``dry_run``);
- :func:`inzage` collects everything a store holds about one person, across trajecten.

Erasing one traject goes through :meth:`eengezin.Engine.erase`, which checks the term.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .errors import EengezinError
from .log import get_logger
from .process.model import Definition
from .retention import RetentionStatus, closed_at, retention_status
from .serialization import converter
from .store.crypto import ERASED

if TYPE_CHECKING:
    from .store.contract import Store

log = get_logger("eengezin.privacy")


def apply_retention(store: Store, at: datetime, *, dry_run: bool = True,
                    by: str = "eengezin retention",
                    definitions: Callable[[Any], Definition] | None = None
                    ) -> list[RetentionStatus]:
    """Every traject whose term has passed at ``at`` and is not erased yet; unless
    ``dry_run``, each is erased (reason: the term, with its ground). Returns them."""
    resolve = definitions if definitions is not None else store.definition
    due: list[RetentionStatus] = []
    for traject_id in store.ids():
        if store.erased(traject_id):
            continue
        definition = resolve(store.load(traject_id).definition)
        status = retention_status(definition, store, traject_id, at)
        if not status.passed:
            continue
        due.append(status)
        if not dry_run:
            store.erase(traject_id, reason=f"bewaartermijn verstreken op {status.until}: "
                        f"{status.ground}", by=by, at=at)
            log.info("eengezin.erased", traject=traject_id, by=by, at=at.isoformat(),
                     grond="bewaartermijn")
    return due


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for sub in value.values():
            yield from _strings(sub)
    elif isinstance(value, list | tuple):
        for sub in value:
            yield from _strings(sub)
    elif isinstance(value, date | int) and not isinstance(value, bool):
        yield str(value)


def _matches(value: Any, needle: str) -> bool:
    return any(needle in text.casefold() for text in _strings(value) if text != ERASED)


def inzage(store: Store, query: str) -> dict[str, Any]:
    """Everything the store holds on the person ``query`` names (a name, BSN, e-mail or
    other value, matched case-insensitively inside the stored values), across trajecten:
    per traject its definition, state and facts, the log entries that mention the person,
    and whether it was erased (AVG art. 15). Read only: nothing is written. The export
    holds the whole facts of each traject found (other household members included): the
    privacy officer removes what is about others before handing it over."""
    needle = query.strip().casefold()
    if len(needle) < 3:
        raise EengezinError("inzage: zoek op ten minste 3 tekens (naam, BSN, e-mailadres)")
    found: list[dict[str, Any]] = []
    for traject_id in store.ids():
        traject = store.load(traject_id)
        entries = [e for e in store.iter_history(traject_id) if _matches(e.data, needle)]
        if not entries and not _matches(traject.facts, needle):
            continue
        found.append({
            "traject": traject_id,
            "definitie": {"id": traject.definition.id, "versie": traject.definition.version},
            "versie": traject.version,
            "staat": dict(traject.state),
            "feiten": converter.unstructure(dict(traject.facts)),
            "gewist": store.erased(traject_id),
            "logboek": [{"versie": e.version, "gebeurtenis": e.event, "moment": e.at.isoformat(),
                         "door": None if e.actor is None else e.actor.id,
                         "gegevens": converter.unstructure(dict(e.data))} for e in entries],
        })
    log.info("eengezin.inzage", trajecten=len(found))
    return {"zoekterm_lengte": len(needle), "trajecten": found}


__all__ = ["RetentionStatus", "apply_retention", "closed_at", "inzage", "retention_status"]
