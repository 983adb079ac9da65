"""The change feed, `GET /events/stream`, against a live server: resume, filters, backlog, shutdown.

The clients are httpx + httpx-sse over real sockets (uvicorn), so disconnects are real. A read timeout
shorter than the heartbeat interval marks "nothing more was sent".
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from httpx_sse import ServerSentEvent, connect_sse
from litestar import Litestar

from api.changefeed import ChangeNotifier
from api.controllers import stream
from evolve.bootstrap import Evolve
from tests.consumers.conftest import copy_db
from tests.factories import leader_body
from tests.live_server import AUTH, LiveServer

#: How long a reader waits for one more event before it concludes the stream has nothing more (< heartbeat).
QUIET = 1.5


def head(server: LiveServer) -> int:
    position: int = httpx.get(server.url + "/health").json()["position"]
    return position


def append(server: LiveServer, event: dict[str, Any]) -> int:
    response = httpx.post(server.url + "/events", json=event, headers=AUTH)
    assert response.status_code == 201, response.text
    return int(response.headers["X-Evolve-Position"])


def events_until_quiet(client: httpx.Client, url: str, headers: dict[str, str] | None = None) -> list[ServerSentEvent]:
    """Every event the stream sends until it has been quiet for QUIET seconds."""
    seen: list[ServerSentEvent] = []
    with connect_sse(client, "GET", url, headers=headers or {}) as source:
        assert source.response.status_code == 200
        with contextlib.suppress(httpx.ReadTimeout):
            for sse in source.iter_sse():
                seen.append(sse)
    return seen


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(10.0, read=QUIET)) as c:
        yield c


def test_reconnecting_with_last_event_id_resumes_exactly_after_it(live: LiveServer, client: httpx.Client) -> None:
    start = head(live)
    events = [leader_body("frimley-health-and-care", f"Resume test leader {i}") for i in range(3)]
    received: list[ServerSentEvent] = []
    connected = threading.Event()

    def listen() -> None:
        # Listens from the head; disconnects after the second event (the third may already be in flight).
        with connect_sse(client, "GET", f"{live.url}/events/stream?after={start}") as source:
            connected.set()
            for sse in source.iter_sse():
                received.append(sse)
                if len(received) == 2:
                    return

    listener = threading.Thread(target=listen)
    listener.start()
    assert connected.wait(10)
    positions = []
    for event in events:
        positions.append(append(live, event))
        time.sleep(0.05)
    listener.join(10)
    assert not listener.is_alive()
    assert [int(s.id) for s in received] == positions[:2] == [start + 1, start + 2]
    assert [json.loads(s.data)["event"]["leader"] for s in received] == ["Resume test leader 0", "Resume test leader 1"]

    resumed = events_until_quiet(client, f"{live.url}/events/stream", headers={"Last-Event-ID": received[-1].id})
    assert [int(s.id) for s in resumed] == [positions[2]]
    record = json.loads(resumed[0].data)
    assert record["position"] == positions[2] and record["event"]["leader"] == "Resume test leader 2"


def test_a_listener_gets_an_append_at_once(live: LiveServer, client: httpx.Client) -> None:
    start = head(live)
    arrived: list[float] = []

    def listen() -> None:
        with connect_sse(client, "GET", f"{live.url}/events/stream?after={start}") as source:
            for _ in source.iter_sse():
                arrived.append(time.monotonic())
                return

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(0.3)  # the stream is open and waiting
    sent = time.monotonic()
    append(live, leader_body("surrey-heartlands", "Latency test leader"))
    listener.join(10)
    assert arrived, "the appended event never arrived"
    # The in-process wake-up, not the poll interval, delivers it (the poll alone could take up to a second).
    assert arrived[0] - sent < stream.POLL_SECONDS * 0.8


def test_filters_by_subject_and_type(live: LiveServer, client: httpx.Client) -> None:
    start = head(live)
    append(live, leader_body("devon", "Filter test leader"))
    append(live, leader_body("dorset", "Filter test leader"))
    by_subject = events_until_quiet(client, f"{live.url}/events/stream?after={start}&subject=dorset")
    assert [json.loads(s.data)["event"]["organisation"] for s in by_subject] == ["dorset"]
    by_type = events_until_quiet(client, f"{live.url}/events/stream?type=AccountableCareSystemsDesignated")
    records = [json.loads(s.data) for s in by_type]
    assert records and {r["event"]["type"] for r in records} == {"AccountableCareSystemsDesignated"}
    assert [int(s.id) for s in by_type] == sorted(r["position"] for r in records)


def test_without_the_event_stream_accept_header_the_backlog_is_sent_and_the_stream_ends(live: LiveServer) -> None:
    response = httpx.get(f"{live.url}/events/stream", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "content-length" not in response.headers and "etag" not in response.headers
    ids = [int(line[4:]) for line in response.text.splitlines() if line.startswith("id: ")]
    assert ids == list(range(1, head(live) + 1))  # the whole log, in order, no gaps
    assert response.text.startswith(": evolve change feed\n\nretry: ")


def test_a_malformed_last_event_id_is_a_400_problem(live: LiveServer) -> None:
    response = httpx.get(f"{live.url}/events/stream", headers={"Last-Event-ID": "seven"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["parameter"] == "Last-Event-ID"


def test_the_stream_ends_cleanly_when_the_server_shuts_down(curated_db: Path, tmp_path: Path) -> None:
    server = LiveServer(str(copy_db(curated_db, tmp_path)), tmp_path).start()
    try:
        lines: list[str] = []
        opened = threading.Event()

        def listen() -> None:
            with (
                httpx.Client(timeout=httpx.Timeout(10.0, read=20.0)) as c,
                c.stream("GET", f"{server.url}/events/stream?after={head(server)}",
                         headers={"Accept": "text/event-stream"}) as response,
            ):
                opened.set()
                lines.extend(response.iter_lines())  # returns when the server ends the response

        listener = threading.Thread(target=listen)
        listener.start()
        assert opened.wait(10)
        time.sleep(0.3)
        started = time.monotonic()
        assert server.stop(timeout=10) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has stopped
        listener.join(10)
        assert not listener.is_alive(), "the stream did not end when the server shut down"
        assert time.monotonic() - started < 5
        assert any("server shutting down" in line for line in lines), lines
    finally:
        server.stop()


# ---- the stream's generator in-process: heartbeat and batching --------------------------------------------


def _collect(system: Evolve, after: int, count: int, follow: bool = True) -> list[bytes]:
    async def run() -> list[bytes]:
        first = stream._read(system, after, None, None)
        body = stream.feed(system, ChangeNotifier(), after, None, None, follow, first)
        chunks: list[bytes] = []
        with anyio.fail_after(10):
            async for chunk in body:
                chunks.append(chunk)
                if len(chunks) >= count:
                    break
        return chunks

    return anyio.run(run)


def test_a_quiet_stream_sends_heartbeats(curated_system: Evolve, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr(stream, "POLL_SECONDS", 0.05)
    end = curated_system.store.position()
    chunks = _collect(curated_system, end, 3)
    assert chunks == [b": evolve change feed\n\n", b": heartbeat\n\n", b": heartbeat\n\n"]


def test_the_backlog_is_read_in_bounded_batches(curated_system: Evolve, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "BATCH", 7)
    reads: list[int] = []
    real = curated_system.queries.events

    def counting(**kwargs: Any) -> Any:
        page = real(**kwargs)
        reads.append(len(page.items))
        return page

    monkeypatch.setattr(curated_system.queries, "events", counting)
    chunks = _collect(curated_system, 0, 10_000, follow=False)
    ids = [int(line[4:]) for line in b"".join(chunks).splitlines() if line.startswith(b"id: ")]
    assert ids == list(range(1, curated_system.store.position() + 1))
    assert max(reads) == 7


def test_the_stream_ends_when_the_server_is_exiting(curated_system: Evolve, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "server_exiting", lambda: True)
    chunks = _collect(curated_system, curated_system.store.position(), 10)
    assert chunks[-1].startswith(b": server shutting down")


def test_the_notifier_wakes_waiting_streams_at_once() -> None:
    notifier = ChangeNotifier()

    async def run() -> float:
        started = time.monotonic()
        async with anyio.create_task_group() as group:
            group.start_soon(notifier.wait, 5.0)
            await anyio.sleep(0.05)
            notifier.notify()
        return time.monotonic() - started

    assert anyio.run(run) < 1.0


def test_each_app_has_one_notifier(curated_app: Litestar) -> None:
    assert stream.notifier(curated_app) is stream.notifier(curated_app)
