"""Serving the API under uvicorn.

* ``run(settings, host, port, token)`` is what ``evolve serve`` calls.
* ``app_from_env()`` is a factory for ``uvicorn --factory api.server:app_from_env --workers 2``:
  it reads ``EVOLVE_DATABASE_URL`` and ``EVOLVE_API_TOKEN`` from the environment, once per worker.
"""

from __future__ import annotations

import gc
import os
import sys

import uvicorn
from litestar import Litestar

from api.app import create_app
from api.logging import configure_logging, log_config
from evolve.bootstrap import Evolve
from evolve.errors import StoreUnavailable
from evolve.settings import Settings


def _app(settings: Settings, token: str) -> Litestar:
    system = Evolve(settings)
    app = create_app(system, token=token)
    app.on_startup.append(_tune_for_serving)
    app.on_shutdown.append(system.close)
    return app


#: How long a thread may hold the GIL while another waits for it (Python's default is 5 ms). The event
#: loop waits for the GIL after each socket read while a handler thread folds or encodes; at 5 ms a
#: request crossed that wait several times, and it was most of the soak's read tail (p99 30 -> 23 ms
#: on SQLite, docs/reliability.md).
SWITCH_INTERVAL_S = 0.001


def _tune_for_serving() -> None:
    """Tunes the interpreter for serving: start-up's heap frozen, a short GIL switch interval.

    A full collection walks every tracked object; in a served process most of them live as long
    as the process (modules, the app, the rule book), and walking them was a pause of 50-80 ms every
    few seconds under load. Frozen objects are never walked; what requests create is collected as before.
    """
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def app_from_env() -> Litestar:
    """The app for the database and write token named by the environment."""
    token = os.environ.get("EVOLVE_API_TOKEN", "")
    if not token:
        raise StoreUnavailable("set EVOLVE_API_TOKEN to the bearer token that authorises writes")
    app = _app(Settings.from_env(), token)
    configure_logging()  # after uvicorn's own config: JSON lines, and uvicorn's access log off
    return app


def run(settings: Settings, host: str = "127.0.0.1", port: int = 8000, token: str = "") -> None:
    """Serve the API in this process until interrupted."""
    app = _app(settings, token)
    # JSON lines with request ids; evolve.access replaces uvicorn's access log (no query strings, no duplicates).
    uvicorn.run(app, host=host, port=port, log_config=log_config(), log_level="info", access_log=False)
