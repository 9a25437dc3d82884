"""Compile the ``zgw:`` blocks of a definition (and their defaults) into a :class:`ZgwModel`.

Defaults come from the definition itself:

- statustypen: the top-level states of the phase track (``regie``) in the order they are
  declared, titles as omschrijving; final states share one eindstatus ("Afgesloten");
- resultaattypen: the final states of the phase track, titles as omschrijving;
- roltypen: the regisseur, a household member, and every role the definition declares;
- informatieobjecttypen: the plan types adopted by events (a payload field ``plan``).

The ``zgw:`` blocks override these per element. The JSON Schema checks their shape; the
checks here are the ones a schema cannot make (lengths of defaulted titles, volgnummers).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ..errors import Location
from ..process.model import Track
from ..process.zgw import (
    HUISHOUDLID,
    REGISSEUR,
    ZgwInformatieobjecttype,
    ZgwModel,
    ZgwResultaattype,
    ZgwRoltype,
    ZgwStatustype,
    ZgwZaaktype,
)
from .raw import Locator

EINDSTATUS = "eind"
DEFAULT_GENERIEK = {REGISSEUR: "zaakcoordinator", HUISHOUDLID: "belanghebbende"}
DEFAULT_ROLE_TITLE = {REGISSEUR: "Regisseur", HUISHOUDLID: "Huishoudlid"}
# Jeugdwet: a youth-care file is kept at least 20 years after the care ended (DOMAIN-FACTS §8)
DEFAULT_ARCHIEFACTIETERMIJN = "P20Y"


class _Env(Protocol):
    data: dict[str, Any]
    loc: Locator
    tracks: dict[str, Track]
    here: Location

    def problem(self, loc: Location, message: str) -> None: ...


def _humanize(ident: str) -> str:
    """``veilig_verder_plan`` -> ``Veilig verder plan``."""
    text = ident.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def _block(owner: Any, *path: str) -> dict[str, Any]:
    node = owner
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return dict(node) if isinstance(node, Mapping) else {}


def _fits(env: _Env, owner: Any, key: str, text: str, limit: int, what: str,
          near: Location | None = None) -> str:
    """``text``, or a located problem when it is longer than the Catalogi API allows."""
    if len(text) > limit:
        env.problem(env.loc.where(owner, key, default=near or env.here),
                    f"zgw: {what} is langer dan {limit} tekens; geef een kortere omschrijving "
                    "in een zgw-blok")
        return text[:limit]
    return text


def compile_zgw(env: _Env, start_event: str) -> ZgwModel | None:
    """The ZGW model of the definition, or None when it has no tracks (already a problem)."""
    data = env.data
    top = _block(data, "zgw")
    track_id = str(top.get("track", "regie" if "regie" in env.tracks else next(iter(env.tracks), "")))
    track = env.tracks.get(track_id)
    if track is None:
        if env.tracks:
            env.problem(env.loc.where(data.get("zgw"), "track", default=env.here),
                        f"zgw: onbekende track {track_id!r}")
        return None
    raw_states = data["tracks"][track_id].get("states") or {}
    statustypen = _statustypen(env, track, raw_states, top)
    phase_of: dict[str, str] = {}
    for leaf, chain in track.ancestors.items():
        phase_of[leaf] = EINDSTATUS if leaf in track.finals else chain[-1]
    return ZgwModel(
        track=track_id,
        zaaktype=_zaaktype(env, top, start_event),
        statustypen=statustypen,
        resultaattypen=_resultaattypen(env, track, raw_states),
        roltypen=_roltypen(env),
        informatieobjecttypen=_informatieobjecttypen(env),
        phase_of=phase_of,
        regisseur_from=_recorded_from(data, "regisseur"),
        huishouden_from=_recorded_from(data, "huishouden"),
    )


def _recorded_from(data: Mapping[str, Any], fact: str) -> dict[str, tuple[str, ...]]:
    """Events that set ``fact`` from their payload, with the payload path they take it from."""
    out: dict[str, tuple[str, ...]] = {}
    for eid, spec in (data.get("events") or {}).items():
        for record in (spec or {}).get("record") or []:
            body = record.get("set") if isinstance(record, Mapping) else None
            source = body.get("from") if isinstance(body, Mapping) and body.get("fact") == fact else None
            if isinstance(source, str) and source.startswith("data.") and "[" not in source:
                out[eid] = tuple(source.split(".")[1:])
    return out


def _zaaktype(env: _Env, top: dict[str, Any], start_event: str) -> ZgwZaaktype:
    data = env.data
    owner = data.get("zgw")
    title = str(data.get("title", data["id"]))
    start_title = str(_block(data, "events", start_event).get("title", _humanize(start_event)))

    def text(key: str, default: str, limit: int | None = None) -> str:
        value = str(top.get(key, default)).strip()
        return _fits(env, owner, key, value, limit, key) if limit else value

    return ZgwZaaktype(
        identificatie=text("identificatie", f"1G1P1R-{data['id']}", 50),
        omschrijving=text("omschrijving", title, 80),
        doel=text("doel", " ".join(str(data.get("description", title)).split())),
        aanleiding=text("aanleiding", f"{start_title}: een huishouden of een betrokkene vraagt om "
                                      "samenhangende ondersteuning met één plan en één regisseur."),
        onderwerp=text("onderwerp", "Regie op ondersteuning van een huishouden", 80),
        handeling_initiator=text("handelingInitiator", start_title if len(start_title) <= 20
                                 else "Aanmelden", 20),
        handeling_behandelaar=text("handelingBehandelaar", "Regie voeren", 20),
        doorlooptijd=text("doorlooptijd", "P1Y"),
        vertrouwelijkheidaanduiding=text("vertrouwelijkheidaanduiding", "vertrouwelijk"),
        indicatie_intern_of_extern=text("indicatieInternOfExtern", "extern"),
        verantwoordelijke=text("verantwoordelijke", "Gemeente", 50),
        referentieproces=text("referentieproces", "1Gezin1Plan1Regisseur", 80),
        trefwoorden=tuple(str(t) for t in top.get("trefwoorden", ("1Gezin1Plan1Regisseur",))),
    )


def _statustypen(env: _Env, track: Track, raw_states: Mapping[str, Any], top: dict[str, Any]
                 ) -> tuple[ZgwStatustype, ...]:
    out: list[ZgwStatustype] = []
    for position, (name, spec) in enumerate(
        ((n, s) for n, s in raw_states.items() if not track.nodes[n].final), start=1,
    ):
        block = _block(spec, "zgw", "statustype")
        owner = _block(spec, "zgw").get("statustype", spec)
        omschrijving = _fits(env, owner, "omschrijving",
                             str(block.get("omschrijving", track.nodes[name].title)), 80,
                             f"de titel van staat {name!r}", env.loc.where(raw_states, name))
        out.append(ZgwStatustype(
            key=name, state=name, omschrijving=omschrijving,
            volgnummer=int(block.get("volgnummer", position)),
            informeren=bool(block.get("informeren", False)),
            statustekst=str(block.get("statustekst", "")),
        ))
    eind = _block(top, "eindstatus")
    highest = max((s.volgnummer for s in out), default=0)
    volgnummer = int(eind.get("volgnummer", highest + 1))
    where = env.loc.where(env.data.get("zgw"), "eindstatus", default=env.here)
    if volgnummer <= highest:
        env.problem(where, "zgw: de eindstatus moet het hoogste volgnummer hebben")
    out.append(ZgwStatustype(
        key=EINDSTATUS, state=None, omschrijving=str(eind.get("omschrijving", "Afgesloten")),
        volgnummer=volgnummer, informeren=bool(eind.get("informeren", True)),
        statustekst=str(eind.get("statustekst", "")),
    ))
    seen: dict[int, str] = {}
    for s in out:
        if s.volgnummer in seen:
            env.problem(where, f"zgw: statustypen {seen[s.volgnummer]!r} en {s.key!r} hebben "
                               f"hetzelfde volgnummer {s.volgnummer}")
        seen[s.volgnummer] = s.key
    return tuple(sorted(out, key=lambda s: s.volgnummer))


def _resultaattypen(env: _Env, track: Track, raw_states: Mapping[str, Any]
                    ) -> tuple[ZgwResultaattype, ...]:
    out: list[ZgwResultaattype] = []
    for name, spec in raw_states.items():
        if name not in track.finals:
            continue
        block = _block(spec, "zgw", "resultaattype")
        owner = _block(spec, "zgw").get("resultaattype", spec)
        omschrijving = _fits(env, owner, "omschrijving",
                             str(block.get("omschrijving", track.nodes[name].title)), 30,
                             f"de titel van eindstaat {name!r}", env.loc.where(raw_states, name))
        out.append(ZgwResultaattype(
            key=name, state=name, omschrijving=omschrijving,
            archiefnominatie=str(block.get("archiefnominatie", "vernietigen")),
            archiefactietermijn=str(block.get("archiefactietermijn", DEFAULT_ARCHIEFACTIETERMIJN)),
            brondatum_afleidingswijze=str(block.get("brondatumArchiefprocedure", "afgehandeld")),
            toelichting=str(block.get("toelichting", "")),
            selectielijstklasse=block.get("selectielijstklasse"),
            resultaattypeomschrijving=block.get("resultaattypeomschrijving"),
        ))
    return tuple(out)


def _roltypen(env: _Env) -> tuple[ZgwRoltype, ...]:
    roles = env.data.get("roles") or {}
    order = [REGISSEUR, HUISHOUDLID, *(r for r in roles if r not in (REGISSEUR, HUISHOUDLID))]
    out: list[ZgwRoltype] = []
    for key in order:
        spec = roles.get(key)
        block = _block(spec, "zgw")
        out.append(ZgwRoltype(
            key=key,
            omschrijving=str(block.get("omschrijving", DEFAULT_ROLE_TITLE.get(key, _humanize(key)))),
            omschrijving_generiek=str(block.get("omschrijvingGeneriek",
                                                DEFAULT_GENERIEK.get(key, "behandelaar"))),
        ))
    return tuple(out)


def _plan_type(types: Mapping[str, Any], payload: Any) -> str | None:
    if not isinstance(payload, Mapping):
        return None
    name = payload.get("plan", payload.get("plan?"))
    seen: set[str] = set()
    while isinstance(name, str) and isinstance(types.get(name), str) and name not in seen:
        seen.add(name)
        name = types[name]
    return name if isinstance(name, str) and isinstance(types.get(name), Mapping) else None


def _informatieobjecttypen(env: _Env) -> tuple[ZgwInformatieobjecttype, ...]:
    types = env.data.get("types") or {}
    out: dict[str, ZgwInformatieobjecttype] = {}
    for eid, spec in (env.data.get("events") or {}).items():
        plan = _plan_type(types, (spec or {}).get("payload"))
        if plan is None or plan in out:
            continue
        block = _block(spec, "zgw", "informatieobjecttype")
        out[plan] = ZgwInformatieobjecttype(
            key=plan, event=eid, plan_type=plan,
            omschrijving=str(block.get("omschrijving", _humanize(plan))),
            vertrouwelijkheidaanduiding=str(block.get("vertrouwelijkheidaanduiding", "vertrouwelijk")),
            informatieobjectcategorie=str(block.get("informatieobjectcategorie", "Plan")),
        )
    return tuple(out.values())


def without_zgw(data: Mapping[str, Any]) -> dict[str, Any]:
    """The definition tree without its ``zgw:`` blocks (what the definition hash covers)."""

    def states(tree: Any) -> Any:
        if not isinstance(tree, Mapping):
            return tree
        out = {k: v for k, v in tree.items() if k != "zgw"}
        if isinstance(out.get("states"), Mapping):
            out["states"] = {n: states(s) for n, s in out["states"].items()}
        return out

    result = {k: v for k, v in data.items() if k != "zgw"}
    if isinstance(result.get("tracks"), Mapping):
        result["tracks"] = {t: states(s) for t, s in result["tracks"].items()}
    if isinstance(result.get("events"), Mapping):
        result["events"] = {e: ({k: v for k, v in s.items() if k != "zgw"} if isinstance(s, Mapping) else s)
                            for e, s in result["events"].items()}
    if isinstance(result.get("roles"), Mapping):
        # ``{description: d, zgw: …}`` hashes like the plain string ``d``
        result["roles"] = {r: (s.get("description", "") if isinstance(s, Mapping) else s)
                           for r, s in result["roles"].items()}
    return result
