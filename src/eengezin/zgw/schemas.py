"""Validate ZGW request bodies against the published OpenAPI specifications.

The Catalogi API 1.3.1 and Zaken API 1.5.1 specifications ship unchanged in ``specs/``.
A body is checked with ``openapi-schema-validator``'s OpenAPI 3.0 *write* validator
(read-only properties are not required in a request; ``nullable`` and formats are
honoured), with every ``$ref`` resolved inside the specification by ``referencing``.
The validator is an optional dependency (``eengezin[zgw]``), imported on first use.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from ..errors import EengezinError

Api = Literal["catalogi", "zaken"]
SPEC_FILES: dict[str, str] = {"catalogi": "catalogi-api-1.3.1.yaml", "zaken": "zaken-api-1.5.1.yaml"}


class ZgwSchemaError(EengezinError):
    """A body does not fit the ZGW schema it is meant for; ``errors`` lists each problem."""

    def __init__(self, schema: str, errors: list[str]) -> None:
        self.schema = schema
        self.errors = errors
        super().__init__(f"{schema}: " + "; ".join(errors))


@lru_cache(maxsize=2)
def specification(api: Api) -> dict[str, Any]:
    """The parsed OpenAPI document of ``api`` (cached)."""
    from ruamel.yaml import YAML

    text = resources.files("eengezin.zgw").joinpath("specs", SPEC_FILES[api]).read_text("utf-8")
    loaded: dict[str, Any] = YAML(typ="safe", pure=False).load(text)
    return loaded


@lru_cache(maxsize=2)
def _registry(api: Api) -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resource = Resource.from_contents(specification(api), default_specification=DRAFT4)
    return Registry().with_resource(f"urn:zgw:{api}", resource)


@lru_cache(maxsize=64)
def _validator(api: Api, schema: str) -> Any:
    from openapi_schema_validator import OAS30WriteValidator, oas30_format_checker

    if schema not in specification(api)["components"]["schemas"]:
        raise KeyError(f"{api} API has no schema {schema!r}")
    return OAS30WriteValidator({"$ref": f"urn:zgw:{api}#/components/schemas/{schema}"},
                               registry=_registry(api), format_checker=oas30_format_checker)


def problems(api: Api, schema: str, body: Any) -> list[str]:
    """Every way ``body`` does not fit ``components.schemas[schema]`` of ``api`` (empty: valid).

    Each problem names the field path and what the schema expected.
    """
    out: list[str] = []
    for err in sorted(_validator(api, schema).iter_errors(body), key=lambda e: list(map(str, e.path))):
        where = ".".join(str(p) for p in err.absolute_path) or "(body)"
        # the schema's expectation, never the submitted value (it may be personal data)
        if err.validator == "required":
            out.append(f"{where}: {err.message}")
        else:
            expected = repr(err.validator_value)
            out.append(f"{where}: {err.validator} {expected[:80]}")
    return out


def validate(api: Api, schema: str, body: Any) -> None:
    """Raise :class:`ZgwSchemaError` unless ``body`` fits the schema."""
    found = problems(api, schema, body)
    if found:
        raise ZgwSchemaError(schema, found)
