"""A definition as a ZGW zaaktype: Catalogi API request bodies, in order of creation.

The bodies reference each other through placeholders ``urn:eengezin:zgw:<definition>:<key>``
(valid URIs, so every body validates as it is); :func:`load_zaaktype` posts them in order and
replaces each placeholder by the URL the Catalogi API gave the object it stands for.
Only the compiled :class:`~eengezin.process.zgw.ZgwModel` is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Protocol

import attrs

from ..errors import EengezinError
from ..process.model import Definition
from ..process.zgw import ZgwModel

URN_PREFIX = "urn:eengezin:zgw:"


class ZgwExportError(EengezinError):
    """The definition cannot be exported as it is (Dutch message, no personal data)."""


@attrs.frozen(slots=True)
class CatalogiRequest:
    """One ``POST`` to the Catalogi API: the collection, the schema its body fits, the body."""

    key: str
    resource: str
    schema: str
    ref: str
    body: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "method": "POST", "path": f"/{self.resource}",
                "schema": self.schema, "ref": self.ref, "body": dict(self.body)}


def model_of(definition: Definition) -> ZgwModel:
    if definition.zgw is None:
        raise ZgwExportError(f"definitie {definition.id!r} heeft geen fasen om als zaaktype te exporteren")
    return definition.zgw


def zaaktype_requests(
    definition: Definition,
    catalogus: str,
    *,
    begin_geldigheid: date,
    selectielijstklasse: str | None = None,
    resultaattypeomschrijving: str | None = None,
) -> list[CatalogiRequest]:
    """The Catalogi API requests that create ``definition`` as a (concept) zaaktype.

    Order: informatieobjecttypen (catalogue-wide), the zaaktype, its statustypen, roltypen,
    resultaattypen, and the zaaktype-informatieobjecttype links. ``selectielijstklasse`` and
    ``resultaattypeomschrijving`` (URLs in the VNG Referentielijsten) are used for every
    resultaattype whose ``zgw:`` block names none; a resultaattype left without raises
    :class:`ZgwExportError`.

    >>> from eengezin import load_definition
    >>> reqs = zaaktype_requests(load_definition("basis"), "https://cat.example/catalogussen/1",
    ...     begin_geldigheid=date(2026, 1, 1), selectielijstklasse="https://sl.example/rt/1",
    ...     resultaattypeomschrijving="https://sl.example/rto/1")
    >>> [r.key for r in reqs][:4]
    ['informatieobjecttype:veiligheidsplan', 'informatieobjecttype:plan', 'zaaktype', 'statustype:aanmelding']
    """
    model = model_of(definition)
    begin = begin_geldigheid.isoformat()

    def ref(key: str) -> str:
        return f"{URN_PREFIX}{definition.id}:{key}"

    out: list[CatalogiRequest] = []

    def add(key: str, resource: str, schema: str, body: dict[str, Any]) -> None:
        out.append(CatalogiRequest(key, resource, schema, ref(key), body))

    for iot in model.informatieobjecttypen:
        add(f"informatieobjecttype:{iot.key}", "informatieobjecttypen", "InformatieObjectType", {
            "catalogus": catalogus,
            "omschrijving": iot.omschrijving,
            "vertrouwelijkheidaanduiding": iot.vertrouwelijkheidaanduiding,
            "informatieobjectcategorie": iot.informatieobjectcategorie,
            "beginGeldigheid": begin,
        })
    zt = model.zaaktype
    zaaktype = ref("zaaktype")
    add("zaaktype", "zaaktypen", "ZaakType", {
        "catalogus": catalogus,
        "identificatie": zt.identificatie,
        "omschrijving": zt.omschrijving,
        "vertrouwelijkheidaanduiding": zt.vertrouwelijkheidaanduiding,
        "doel": zt.doel,
        "aanleiding": zt.aanleiding,
        "toelichting": (f"Uit eengezin-definitie {definition.id} versie {definition.version} "
                        f"({definition.hash[:12]})."),
        "indicatieInternOfExtern": zt.indicatie_intern_of_extern,
        "handelingInitiator": zt.handeling_initiator,
        "onderwerp": zt.onderwerp,
        "handelingBehandelaar": zt.handeling_behandelaar,
        "doorlooptijd": zt.doorlooptijd,
        "opschortingEnAanhoudingMogelijk": False,
        "verlengingMogelijk": False,
        "trefwoorden": list(zt.trefwoorden),
        "publicatieIndicatie": False,
        "productenOfDiensten": [],
        "referentieproces": {"naam": zt.referentieproces},
        "verantwoordelijke": zt.verantwoordelijke,
        "besluittypen": [],
        "gerelateerdeZaaktypen": [],
        "beginGeldigheid": begin,
        "versiedatum": begin,
    })
    for st in model.statustypen:
        body: dict[str, Any] = {"zaaktype": zaaktype, "omschrijving": st.omschrijving,
                                "volgnummer": st.volgnummer, "informeren": st.informeren}
        if st.statustekst:
            body["statustekst"] = st.statustekst
        add(f"statustype:{st.key}", "statustypen", "StatusType", body)
    for rt in model.roltypen:
        add(f"roltype:{rt.key}", "roltypen", "RolType", {
            "zaaktype": zaaktype, "omschrijving": rt.omschrijving,
            "omschrijvingGeneriek": rt.omschrijving_generiek,
        })
    missing: list[str] = []
    for res in model.resultaattypen:
        klasse = res.selectielijstklasse or selectielijstklasse
        omschrijving = res.resultaattypeomschrijving or resultaattypeomschrijving
        if klasse is None or omschrijving is None:
            missing.append(res.omschrijving)
            continue
        body = {
            "zaaktype": zaaktype, "omschrijving": res.omschrijving,
            "resultaattypeomschrijving": omschrijving, "selectielijstklasse": klasse,
            "archiefnominatie": res.archiefnominatie, "archiefactietermijn": res.archiefactietermijn,
            "brondatumArchiefprocedure": {"afleidingswijze": res.brondatum_afleidingswijze},
        }
        if res.toelichting:
            body["toelichting"] = res.toelichting
        add(f"resultaattype:{res.key}", "resultaattypen", "ResultaatType", body)
    if missing:
        raise ZgwExportError(
            "resultaattype(n) " + ", ".join(repr(m) for m in missing) + " hebben een selectielijstklasse "
            "en een resultaattypeomschrijving nodig (URL's uit de Referentielijsten): geef "
            "--selectielijstklasse en --resultaattypeomschrijving, of zet ze in het zgw-blok van de eindstaat"
        )
    for number, iot in enumerate(model.informatieobjecttypen, start=1):
        add(f"zaaktype-informatieobjecttype:{iot.key}", "zaaktype-informatieobjecttypen",
            "ZaakTypeInformatieObjectType", {
                "zaaktype": zaaktype, "informatieobjecttype": iot.omschrijving,
                "volgnummer": number, "richting": "intern",
            })
    return out


def _substitute(value: Any, urls: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return urls.get(value, value)
    if isinstance(value, list):
        return [_substitute(v, urls) for v in value]
    if isinstance(value, Mapping):
        return {k: _substitute(v, urls) for k, v in value.items()}
    return value


def load_zaaktype(requests: list[CatalogiRequest], post: Callable[[str, dict[str, Any]], str]
                  ) -> dict[str, str]:
    """Post each request in order (``post(resource, body) -> url``); return key -> URL.

    Placeholders in later bodies are replaced by the URLs of the objects created before.
    """
    by_ref: dict[str, str] = {}
    by_key: dict[str, str] = {}
    for req in requests:
        url = post(req.resource, _substitute(req.body, by_ref))
        by_ref[req.ref] = url
        by_key[req.key] = url
    return by_key


class CatalogiApi(Protocol):
    def list(self, path: str, params: Mapping[str, str]) -> list[Any]: ...


def catalogue_urls(catalogi: CatalogiApi, zaaktype_url: str, model: ZgwModel) -> dict[str, str]:
    """Key -> URL of a zaaktype already in a catalogue, matched on ``omschrijving``.

    What the relay needs when the zaaktype was loaded earlier (by :func:`load_zaaktype` or by
    hand). Raises :class:`ZgwExportError` naming every type the catalogue lacks.
    """
    urls = {"zaaktype": zaaktype_url}
    missing: list[str] = []
    for resource, prefix, wanted in (
        ("statustypen", "statustype", {s.omschrijving: s.key for s in model.statustypen}),
        ("roltypen", "roltype", {r.omschrijving: r.key for r in model.roltypen}),
        ("resultaattypen", "resultaattype", {r.omschrijving: r.key for r in model.resultaattypen}),
    ):
        found = {str(o.get("omschrijving")): str(o["url"])
                 for o in catalogi.list(resource, {"zaaktype": zaaktype_url})}
        for omschrijving, key in wanted.items():
            if omschrijving in found:
                urls[f"{prefix}:{key}"] = found[omschrijving]
            else:
                missing.append(f"{prefix} {omschrijving!r}")
    if missing:
        raise ZgwExportError("het zaaktype in de catalogus mist " + ", ".join(missing))
    return urls


def mapping_markdown(definition: Definition) -> str:
    """The mapping of ``definition`` onto a zaaktype as a Markdown table (used in docs/zgw.md)."""
    model = model_of(definition)
    track = definition.tracks[model.track]
    rows = [f"| zaaktype | {model.zaaktype.omschrijving} | definitie `{definition.id}` | "
            f"identificatie `{model.zaaktype.identificatie}`, {model.zaaktype.vertrouwelijkheidaanduiding} |"]
    for s in model.statustypen:
        states = ("eindstaten " + ", ".join(f"`{f}`" for f in sorted(track.finals)) if s.eind
                  else f"fase `{s.state}`")
        extra = f"volgnummer {s.volgnummer}" + (", eindstatus" if s.eind else "") + (
            ", informeren" if s.informeren else "")
        rows.append(f"| statustype | {s.omschrijving} | {states} | {extra} |")
    for r in model.resultaattypen:
        rows.append(f"| resultaattype | {r.omschrijving} | eindstaat `{r.state}` | "
                    f"{r.archiefnominatie}, {r.archiefactietermijn} na afhandeling |")
    for rt in model.roltypen:
        source = {"regisseur": "de regisseur", "huishoudlid": "elk lid van het huishouden"}.get(
            rt.key, f"rol `{rt.key}`")
        rows.append(f"| roltype | {rt.omschrijving} | {source} | {rt.omschrijving_generiek} |")
    for i in model.informatieobjecttypen:
        rows.append(f"| informatieobjecttype | {i.omschrijving} | type `{i.plan_type}` (event `{i.event}`) | "
                    f"{i.vertrouwelijkheidaanduiding}, categorie {i.informatieobjectcategorie} |")
    head = "| ZGW | omschrijving | uit de definitie | eigenschappen |\n|---|---|---|---|\n"
    return head + "\n".join(rows) + "\n"
