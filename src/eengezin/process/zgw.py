"""What a compiled definition says about Zaakgericht werken (ZGW): typed, frozen values.

The compiler fills :class:`ZgwModel` once, from the definition's ``zgw:`` blocks and the
defaults the definition itself implies (the phases of ``regie`` as statustypen, the final
states as resultaattypen, the roles as roltypen, the adopted plans as
informatieobjecttypen). The export and the relay in :mod:`eengezin.zgw` read only this
model, never the YAML. Field names follow the Catalogi API where they mean the same.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

REGISSEUR = "regisseur"
"""Role id of the procesregisseur (a roltype, whether or not the definition declares it)."""
HUISHOUDLID = "huishoudlid"
"""Role id of a household member (a roltype, whether or not the definition declares it)."""


@attrs.frozen(slots=True)
class ZgwZaaktype:
    """The zaaktype's own attributes (Catalogi API ``ZaakType``)."""

    identificatie: str
    omschrijving: str
    doel: str
    aanleiding: str
    onderwerp: str
    handeling_initiator: str
    handeling_behandelaar: str
    doorlooptijd: str
    vertrouwelijkheidaanduiding: str
    indicatie_intern_of_extern: str
    verantwoordelijke: str
    referentieproces: str
    trefwoorden: tuple[str, ...] = ()


@attrs.frozen(slots=True)
class ZgwStatustype:
    """A statustype: one phase of the phase track, or the eindstatus (``state`` is None)."""

    key: str
    state: str | None
    omschrijving: str
    volgnummer: int
    informeren: bool
    statustekst: str = ""

    @property
    def eind(self) -> bool:
        return self.state is None


@attrs.frozen(slots=True)
class ZgwResultaattype:
    """A resultaattype: how a traject ended (one per final state of the phase track)."""

    key: str
    state: str
    omschrijving: str
    archiefnominatie: str
    archiefactietermijn: str
    brondatum_afleidingswijze: str
    toelichting: str = ""
    selectielijstklasse: str | None = None
    resultaattypeomschrijving: str | None = None


@attrs.frozen(slots=True)
class ZgwRoltype:
    """A roltype: a role of the definition, the regisseur or a household member."""

    key: str
    omschrijving: str
    omschrijving_generiek: str


@attrs.frozen(slots=True)
class ZgwInformatieobjecttype:
    """An informatieobjecttype: a plan adopted by an event (``event``, payload field ``plan``)."""

    key: str
    event: str
    plan_type: str
    omschrijving: str
    vertrouwelijkheidaanduiding: str
    informatieobjectcategorie: str


@attrs.frozen(slots=True)
class ZgwModel:
    """Everything the ZGW export and relay need, in creation order."""

    track: str
    zaaktype: ZgwZaaktype
    statustypen: tuple[ZgwStatustype, ...]
    resultaattypen: tuple[ZgwResultaattype, ...]
    roltypen: tuple[ZgwRoltype, ...]
    informatieobjecttypen: tuple[ZgwInformatieobjecttype, ...]
    phase_of: Mapping[str, str]
    """Each leaf state of ``track`` -> the key of its statustype (final states: the eindstatus)."""
    regisseur_from: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    """Event -> payload path of the regisseur it records (``set: {fact: regisseur, from: data.…}``)."""
    huishouden_from: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    """Event -> payload path of the household it records (``set: {fact: huishouden, …}``)."""

    def statustype(self, key: str) -> ZgwStatustype:
        for s in self.statustypen:
            if s.key == key:
                return s
        raise KeyError(key)

    @property
    def eindstatus(self) -> ZgwStatustype:
        return next(s for s in self.statustypen if s.eind)

    def resultaattype_for(self, state: str) -> ZgwResultaattype | None:
        """The resultaattype of a final leaf state of ``track``, else None."""
        for r in self.resultaattypen:
            if r.state == state:
                return r
        return None

    def roltype(self, key: str) -> ZgwRoltype:
        for r in self.roltypen:
            if r.key == key:
                return r
        raise KeyError(key)
