"""The OpenAPI contract: the app's generated document, what Litestar cannot derive by itself, and YAML.

``document(app)`` is the app's OpenAPI document; ``render(app)`` its YAML, as committed in
``openapi.yaml`` (see :func:`api.app.contract`). ``refine(app)`` completes the document:

* ``POST /events`` reads its body by hand (strict msgspec decoding of evolve's
  ``Event`` union), so its request body schema is declared here, pointing at
  the same component schemas that describe ``EventRecord.event``.
* The catalogue's cross-field rules (``__post_init__``) and
  ``forbid_unknown_fields`` are stated in JSON Schema where it can express
  them, so clients (and schemathesis) know which events are valid. Rules beyond
  JSON Schema (an id that must differ from another field's, a financial year's
  two years in sequence) are stated in prose in the append operation.
* Each event type's component carries the catalogue's example of it.
"""

from __future__ import annotations

from typing import Any

import msgspec.inspect as mi
import yaml
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin

from api.bodies import MAX_BATCH
from evolve.catalogue import EVENT_TYPE_NAMES, EVENT_TYPES
from evolve.types import SLUG_PATTERN

EXAMPLE_EVENT: dict[str, Any] = {
    "type": "AccountableCareSystemsDesignated",
    "effective": "2017-06-15",
    "precision": "day",
    "scope": {"organisations": ["frimley-health-and-care"]},
    "shadow": True,
    "policy": "next-steps-5yfv",
    "sources": [{"title": "NHS England: accountable care systems", "url": "https://www.england.nhs.uk/"}],
}
EXAMPLE_BATCH: list[dict[str, Any]] = [
    {
        "type": "OrganisationRegistered",
        "effective": "2018-04-01",
        "precision": "month",
        "organisation": "example-ccg",
        "name": "Example CCG",
        "kind": "ccg",
        "sources": [{"title": "NHS Digital ODS", "url": "https://digital.nhs.uk/"}],
    },
    {
        "type": "LeaderAppointed",
        "effective": "2018-05-01",
        "precision": "month",
        "organisation": "example-ccg",
        "leader": "A. Person",
        "role": "Accountable officer",
        "sources": [{"title": "Example CCG board papers", "url": "https://example.org/board"}],
    },
]


def _refs(names: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    return [{"$ref": f"#/components/schemas/{name}"} for name in names]


def _append_body() -> dict[str, Any]:
    event = {"oneOf": _refs(EVENT_TYPE_NAMES), "discriminator": {"propertyName": "type"}}
    return {
        "required": True,
        "description": "One event, or a JSON array of events appended atomically.",
        "content": {
            "application/json": {
                "schema": {"oneOf": [event, {"type": "array", "items": event, "minItems": 1, "maxItems": MAX_BATCH}]},
                "examples": {
                    "single": {"summary": "One event", "value": EXAMPLE_EVENT},
                    "batch": {"summary": "An atomic batch", "value": EXAMPLE_BATCH},
                },
            }
        },
    }


def _present(field: str, schema: dict[str, Any]) -> dict[str, Any]:
    """`field` is present and not null."""
    return {"required": [field], "properties": {field: schema}}


#: `effective` lies in EARLIEST..LATEST (1948-07-05..2100-12-31); `format: date` checks the calendar.
_EFFECTIVE_RANGE = (
    r"^(1948-(07-(0[5-9]|[12][0-9]|3[01])|(0[89]|1[0-2])-[0-9]{2})"
    r"|(19(49|[5-9][0-9])|20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2})$"
)
#: A month-precision date is the 1st of its month, a year-precision date the 1st of January.
_PRECISION_RULE = {
    "anyOf": [
        {"properties": {"precision": {"const": "day"}}},
        {"properties": {"precision": {"const": "month"}, "effective": {"pattern": "-01$"}}},
        {"properties": {"precision": {"const": "year"}, "effective": {"pattern": "-01-01$"}}},
    ]
}


def _strict_structs() -> set[str]:
    """The names of the structs an event holds, itself included, that refuse unknown fields (the
    decoder of ``POST /events`` answers 422 to an unknown field at any depth)."""
    found: set[str] = set()
    seen: set[type] = set()

    def walk(node: mi.Type) -> None:
        if isinstance(node, mi.StructType):
            if node.cls in seen:
                return
            seen.add(node.cls)
            if node.forbid_unknown_fields:
                found.add(node.cls.__name__)
            for field in node.fields:
                walk(field.type)
        elif isinstance(node, mi.UnionType):
            for member in node.types:
                walk(member)
        elif isinstance(node, mi.CollectionType):
            walk(node.item_type)
        elif isinstance(node, mi.Metadata):
            walk(node.type)

    for node in mi.multi_type_info(EVENT_TYPES):
        walk(node)
    return found


def _refine_components(schemas: dict[str, Any]) -> None:
    """Say in JSON Schema what the catalogue's `__post_init__` checks say in Python, where JSON Schema can."""
    for name in sorted(_strict_structs()):
        schemas[name]["additionalProperties"] = False
    for name in EVENT_TYPE_NAMES:
        event = schemas[name]
        event["properties"]["effective"]["pattern"] = _EFFECTIVE_RANGE
        event["allOf"] = [_PRECISION_RULE]
    schemas["Source"]["oneOf"] = [_present("url", {"type": "string"}), _present("seed", {"type": "string"})]
    schemas["Scope"]["oneOf"] = [
        _present("organisations", {"type": "array", "items": {"type": "string"}}),  # items: for client generators
        _present("stage", {"type": "string"}),
        _present("kind", {"type": "string"}),
    ]
    # Litestar drops the `Slug` constraints of list items: restore them.
    lists = [("Scope", "organisations"), ("OrganisationsMerged", "merged"), ("FootprintDesignated", "members"),
             ("MembersJoined", "members"), ("MembersLeft", "members")]
    for name, field in lists:
        _slug_items(schemas[name]["properties"][field], unique=True)
    for cls in EVENT_TYPES:
        schemas[cls.__struct_config__.tag]["examples"] = [cls.example]  # type: ignore[index]
    schemas["EventCorrected"]["oneOf"] = [
        _present("replacement", {"not": {"type": "null"}}),  # not `type: object`: client generators choke
        _present("retract", {"const": True}),
    ]
    stages = schemas["Stage"]["enum"]
    schemas["SystemsRenamed"]["allOf"].append(
        {
            "anyOf": [
                {"properties": {"from_stage": {"const": s}, "to_stage": {"enum": [t for t in stages if t != s]}}}
                for s in stages
            ]
        }
    )


def _slug_items(schema: dict[str, Any], unique: bool) -> None:
    for option in [schema, *schema.get("oneOf", [])]:
        if option.get("type") == "array":
            option["items"] = {"type": "string", "pattern": SLUG_PATTERN, "minLength": 1, "maxLength": 100}
            if unique:
                option["uniqueItems"] = True


def _refine_headers(paths: dict[str, Any]) -> None:
    """Response headers get a schema (Litestar leaves it out for documentation-only headers)."""
    for path_item in paths.values():
        for operation in path_item.values():
            for response in operation.get("responses", {}).values():
                for header in response.get("headers", {}).values():
                    header.setdefault("schema", {"type": "string"})


def document(app: Litestar) -> dict[str, Any]:
    """The app's OpenAPI document as plain JSON-compatible data (built once and cached by Litestar)."""
    return app.plugins.get(OpenAPIPlugin).provide_openapi_schema()


def render(app: Litestar) -> str:
    """The document as YAML, deterministically (sorted keys)."""
    return yaml.safe_dump(document(app), sort_keys=True, allow_unicode=True, width=120, default_flow_style=False)


def refine(app: Litestar) -> None:
    """Complete the app's generated OpenAPI document in place."""
    spec = document(app)
    spec["paths"]["/events"]["post"]["requestBody"] = _append_body()
    _refine_components(spec["components"]["schemas"])
    _refine_headers(spec["paths"])
