"""Wake-ups for the change feed (`GET /events/stream`), shared by the stream and the append handler.

Streams poll the projection (which works across processes); within one process an append also wakes
them at once through the app's :class:`ChangeNotifier`, so they need not wait for the next poll.
"""

from __future__ import annotations

import signal

import anyio
from litestar import Litestar
from litestar.datastructures import State


class ChangeNotifier:
    """The in-process wake-up: streams wait on it between polls; an append in this process sets it."""

    def __init__(self) -> None:
        self._waiting: set[anyio.Event] = set()

    def notify(self) -> None:
        for event in list(self._waiting):
            event.set()

    async def wait(self, seconds: float) -> None:
        """Return after `seconds`, or as soon as :meth:`notify` is called."""
        event = anyio.Event()
        self._waiting.add(event)
        try:
            with anyio.move_on_after(seconds):
                await event.wait()
        finally:
            self._waiting.discard(event)


def notifier(app: Litestar) -> ChangeNotifier:
    """The app's notifier (created on first use)."""
    state: State = app.state
    found = state.get("change_notifier")
    if not isinstance(found, ChangeNotifier):
        found = ChangeNotifier()
        state["change_notifier"] = found
    return found


def notify(app: Litestar) -> None:
    """Wake this app's streams: called after an append."""
    notifier(app).notify()


def server_exiting() -> bool:
    """Whether the uvicorn server running this process has begun a graceful shutdown.

    uvicorn waits for open connections to finish before it runs the lifespan shutdown, so an
    endless stream would hold shutdown forever; and it tells applications nothing. While serving,
    uvicorn's own `handle_exit` is the SIGTERM handler, and its server sets `should_exit` on the
    first signal: we read that flag (False under any other server, where streams end on disconnect).
    """
    handler = signal.getsignal(signal.SIGTERM)
    server = getattr(handler, "__self__", None)
    return bool(getattr(server, "should_exit", False)) and type(server).__module__.startswith("uvicorn")
