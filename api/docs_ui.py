"""The documentation page (``/schema``, ``/schema/swagger``), working offline.

Litestar's render plugins load their UI bundles and a favicon from CDNs by default, so the docs are
blank without the internet. Swagger UI ships on PyPI in ``openapi-ui-bundles``; it is served from
``/docs-assets/`` and the plugin points there, so no docs page names another host. (The package's
Redoc bundle is not offered: it fetches its logo from cdn.redoc.ly whatever it is told.)
"""

from __future__ import annotations

from litestar import Router
from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from openapi_ui_bundles import swagger_ui

ASSETS = "/docs-assets/swagger"
FAVICON = f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>"

#: `/docs-assets/swagger/...`: the UI bundle, from the installed package (not part of the API contract).
assets: list[Router] = [
    create_static_files_router(path=ASSETS, directories=[swagger_ui.static_path], include_in_schema=False,
                               name="swagger-assets"),
]


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI, also the default page at ``/schema``, on the local bundle."""
    return [
        SwaggerRenderPlugin(
            path="/swagger",
            js_url=f"{ASSETS}/swagger-ui-bundle.js",
            css_url=f"{ASSETS}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
            favicon=FAVICON,
        ),
    ]
