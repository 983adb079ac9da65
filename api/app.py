"""The application factory: ``create_app(system, token)`` wires evolve into Litestar.

Reads are public; ``POST /events`` needs ``Authorization: Bearer <token>``.
Everything else here is configuration, split into small ``_configure_*``
helpers: OpenAPI and docs, CORS, problem details, conditional GETs and the
request body limit.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Contact, License, Tag

from api import auth, docs_ui, openapi, problems, strict
from api.controllers import CONTROLLERS
from api.logging import request_context
from api.middleware import allow_middleware, etag_middleware
from evolve.bootstrap import Evolve
from evolve.settings import Settings

try:
    __version__ = version("evolve")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

#: Largest accepted request body (1 MiB); more is a 413 problem.
MAX_BODY_BYTES = 1024 * 1024

DESCRIPTION = """An event-sourced, bitemporal log of NHS England's local health system policy (2014-2022):
STP footprints, partnerships, accountable and integrated care systems, and the policies behind them.

* **Time**: every read takes `as_of` (valid time, a date; default today) and `known_at` (record time, an
  ISO 8601 instant with a zone; default now), so you can ask what the log said before a correction.
* **Auth**: reads are public. Writes (`POST /events`) need `Authorization: Bearer <token>`.
* **Errors** are RFC 9457 problem details (`application/problem+json`).
* **Lists** return `{"items": [...], "next_cursor": str | null}`; `limit` is 1..500 (default 50).
* **Caching**: GET responses carry a strong `ETag`; send it back as `If-None-Match` to get a 304.
* **CORS**: `GET`/`HEAD` are allowed from any origin (no credentials). `POST` is not allowed cross-origin:
  browsers may only write from the same origin.
"""


def _configure_openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="evolve",
        version=__version__,
        description=DESCRIPTION,
        contact=Contact(name="evolve maintainers"),
        license=License(name="MIT", identifier="MIT"),
        tags=[
            Tag(name="Organisations", description="Organisations and health systems, as of a date."),
            Tag(name="Statistics", description="Counts on a date."),
            Tag(name="Events", description="The append-only log: read it, or append to it (needs the token)."),
            Tag(name="Policies", description="The policy documents that events cite."),
            Tag(name="Health", description="Service status."),
        ],
        components=[auth.COMPONENTS],
        use_handler_docstrings=True,
        create_examples=False,
        path="/schema",
        render_plugins=[*docs_ui.render_plugins(), JsonRenderPlugin(), YamlRenderPlugin()],
    )


def _configure_cors() -> CORSConfig:
    return CORSConfig(
        allow_origins=["*"],
        allow_methods=["GET", "HEAD"],
        allow_headers=["If-None-Match", "Accept", "X-Request-ID"],
        expose_headers=["ETag", "X-Subject-Version", "Location", "X-Evolve-Position", "X-Request-ID"],
        allow_credentials=False,
        max_age=600,
    )


def _configure_dependencies(system: Evolve) -> dict[str, Provide]:
    def provide_system() -> Evolve:
        return system

    return {"system": Provide(provide_system, use_cache=True, sync_to_thread=False)}


def create_app(system: Evolve, token: str, *, max_body_bytes: int = MAX_BODY_BYTES, debug: bool = False) -> Litestar:
    """The REST API over `system`; `token` is the bearer token that authorises writes."""
    if not token:
        raise ValueError("create_app needs a non-empty write token")
    app = Litestar(
        route_handlers=[*CONTROLLERS, *docs_ui.assets],
        dependencies=_configure_dependencies(system),
        openapi_config=_configure_openapi(),
        plugins=[problems.plugin()],
        cors_config=_configure_cors(),
        middleware=[allow_middleware, etag_middleware],
        request_max_body_size=max_body_bytes,
        before_request=strict.refuse_unknown,
        debug=debug,
    )
    app.state.write_token = token
    openapi.refine(app)
    strict.install(app, openapi.document(app))
    # Outermost, around Litestar's whole handler: 404s, 405s and CORS refusals get a request id and an access line.
    app.asgi_handler = request_context(app.asgi_handler)
    return app


def contract() -> str:
    """The REST contract as committed in ``openapi.yaml`` (``evolve openapi``): the YAML of an app
    built on a throwaway in-memory store."""
    system = Evolve(Settings(database_url=":memory:"), project_on_append=False)
    try:
        return openapi.render(create_app(system, token="unused-token-for-schema-generation"))  # noqa: S106
    finally:
        system.close()
