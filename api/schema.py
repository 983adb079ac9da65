"""The OpenAPI contract as YAML, generated from the app (``evolve openapi > openapi.yaml``)."""

from __future__ import annotations

from typing import Any

import yaml
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin

from evolve.bootstrap import Evolve
from evolve.settings import Settings


def openapi_document(app: Litestar) -> dict[str, Any]:
    """The app's OpenAPI document as plain JSON-compatible data."""
    return app.plugins.get(OpenAPIPlugin).provide_openapi_schema()


def openapi_yaml() -> str:
    """Render the contract deterministically (sorted keys) from an app on a throwaway in-memory store."""
    from api.app import create_app

    system = Evolve(Settings(database_url=":memory:"), project_on_append=False)
    try:
        document = openapi_document(create_app(system, token="unused-token-for-schema-generation"))  # noqa: S106
    finally:
        system.close()
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True, width=120, default_flow_style=False)
