"""The timeline page in a real browser: Debian's headless Chromium, driven by Playwright, on a live server.

Playwright never downloads its own browser here: it launches /usr/bin/chromium (`apt-get install chromium`).
The page must work offline, so every request it makes must go to the server itself.
A screenshot is saved under test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import TOKEN, LiveServer

CHROMIUM = os.environ.get("EVOLVE_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STAGES = ["footprint", "partnership", "acs", "ics", "statutory_ics"]

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs `pip install playwright`")
if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
    pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install -y chromium`", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live: LiveServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.requests = []  # type: ignore[attr-defined]
    page.errors = []  # type: ignore[attr-defined]
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    yield page
    context.close()


def shown_counts(page: Any) -> dict[str, int]:
    counts = {}
    for stage in STAGES:
        item = page.locator(f'#stage-counts [data-stage="{stage}"]')
        counts[stage] = int(item.get_attribute("data-count"))
        assert item.locator(".count").inner_text() == str(counts[stage])
    return counts


def tiles(page: Any) -> dict[str, int]:
    """Top-level system tiles by stage (sub-areas are drawn too, marked, but /stats counts them apart)."""
    return {stage: page.locator(f'#systems .system:not(.sub-area)[data-stage="{stage}"]').count() for stage in STAGES}


def stats(server: LiveServer, day: str) -> dict[str, int]:
    by_stage: dict[str, int] = httpx.get(f"{server.url}/stats", params={"as_of": day}).json()["by_stage"]
    return by_stage


def choose_date(page: Any, day: str) -> None:
    page.fill("#day-picker", day)
    page.dispatch_event("#day-picker", "change")
    page.wait_for_selector(f'#stage-counts[data-as-of="{day}"]:not([aria-busy])')


def test_the_page_shows_each_stage_count_as_the_api_does(page: Any, live: LiveServer, artifacts: Path) -> None:
    page.goto(live.url + "/")
    assert page.title().startswith("evolve")
    # Server-rendered counts for the default date match /stats before any script runs.
    first_day = page.get_attribute("#stage-counts", "data-as-of")
    assert shown_counts(page) == stats(live, first_day)

    for day in ("2016-06-01", "2017-07-01", "2018-06-01"):
        choose_date(page, day)
        expected = stats(live, day)
        assert shown_counts(page) == expected, day
        assert tiles(page) == expected, day
        assert page.input_value("#day-picker") == day
        assert page.inner_text("#summary-total") == str(sum(expected.values()))

    # The timeline of policy events, with their sources linked.
    page.wait_for_selector("#events .event")
    assert page.locator("#events .event").count() >= 20
    sources = page.locator("#events .event-sources a")
    assert sources.count() >= 20
    assert all(href.startswith(("http://", "https://")) for href in sources.evaluate_all("as => as.map(a => a.href)"))
    assert page.locator("#events .event.done").count() > 0 and page.locator("#events .event.future").count() > 0
    assert page.locator("#policies .policy a").count() > 0

    page.screenshot(path=str(artifacts / "timeline-2018-06-01.png"))
    page.screenshot(path=str(artifacts / "timeline-2018-06-01-full.png"), full_page=True)
    assert not page.errors, page.errors
    # Offline: the page fetched nothing from anywhere but this server.
    assert all(url.startswith(live.url) for url in page.requests), [u for u in page.requests if live.url not in u]


def test_the_slider_and_the_event_links_change_the_date(page: Any, live: LiveServer) -> None:
    page.goto(live.url + "/timeline?date=2016-06-01")
    assert page.get_attribute("#stage-counts", "data-as-of") == "2016-06-01"
    assert shown_counts(page) == stats(live, "2016-06-01")

    # Move the slider to the end with the keyboard, as a person would.
    page.focus("#day-slider")
    page.keyboard.press("End")
    last = page.get_attribute("#day-slider", "data-last")
    page.wait_for_selector(f'#stage-counts[data-as-of="{last}"]:not([aria-busy])')
    assert shown_counts(page) == stats(live, last)
    assert f"date={last}" in page.url

    # Click an event's date: the page shows that day.
    page.wait_for_selector("#events .event")
    target = page.locator('#events .event[data-type="AccountableCareSystemsDesignated"]').first
    day = target.get_attribute("data-effective")
    target.locator(".event-date").click()
    page.wait_for_selector(f'#stage-counts[data-as-of="{day}"]:not([aria-busy])')
    assert shown_counts(page) == stats(live, day)
    assert shown_counts(page)["acs"] > 0
    assert not page.errors, page.errors


def test_the_chart_draws_the_series_and_sets_the_date(page: Any, live: LiveServer, artifacts: Path) -> None:
    page.goto(live.url + "/timeline?date=2016-06-01")
    page.wait_for_selector("#chart[data-points]")
    series = httpx.get(f"{live.url}/stats/series",
                       params={"from": "2014-01-01", "to": "2022-12-31", "step": "month"}).json()["items"]
    assert page.get_attribute("#chart", "data-points") == str(len(series)) == "108"
    assert page.locator("#chart polygon.area").count() == len(STAGES)
    policies = httpx.get(f"{live.url}/policies", params={"limit": 500}).json()["items"]
    assert page.locator("#chart .policy-mark").count() == len(policies) > 0
    # A system tile shows its code and region and member count on the date; a sub-area says whose part it is.
    frimley = page.locator('#systems .system[data-id="frimley-health-and-care"]')
    assert frimley.get_attribute("data-code") == "E54000034"
    assert int(frimley.get_attribute("data-members")) > 0
    # Clicking near the right end of the chart chooses a date near the end of 2022.
    box = page.locator("#chart").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.995, box["y"] + box["height"] / 2)
    page.wait_for_function("document.querySelector('#day-picker').value >= '2022-10-01'")
    day = page.input_value("#day-picker")
    page.wait_for_selector(f'#stage-counts[data-as-of="{day}"]:not([aria-busy])')
    assert shown_counts(page) == stats(live, day)
    choose_date(page, "2017-07-01")
    assert page.locator("#systems .system.sub-area").count() == 3
    assert "part of" in page.locator("#systems .system.sub-area").first.inner_text()
    page.screenshot(path=str(artifacts / "timeline-chart-2017-07-01.png"))
    assert not page.errors, page.errors


def test_a_date_outside_the_range_is_a_problem(live: LiveServer) -> None:
    response = httpx.get(f"{live.url}/timeline", params={"date": "2030-01-01"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("path", "title"), [("/schema", ".swagger-ui .info .title"),
                                             ("/schema/swagger", ".swagger-ui .info .title")])
def test_the_docs_render_with_no_network_but_the_server(
    browser: Any, live: LiveServer, artifacts: Path, path: str, title: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    elsewhere: list[str] = []

    def only_the_server(route: Any) -> None:
        if route.request.url.startswith(live.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_server)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(live.url + path)
    page.wait_for_selector(f"{title}:has-text('evolve')")
    page.screenshot(path=str(artifacts / f"docs-{path.rsplit('/', 1)[-1]}.png"))
    context.close()
    assert elsewhere == []


def test_a_corrected_event_shows_what_corrected_it(page: Any, live: LiveServer) -> None:
    """Runs last in the module: it appends a correction to the live server's private copy of the log."""
    listed = httpx.get(f"{live.url}/events", params={"type": "LeaderAppointed", "subject": "frimley-health-and-care"})
    original = listed.json()["items"][0]
    replacement = {**original["event"], "leader": original["event"]["leader"] + " (corrected)"}
    correction = {
        "type": "EventCorrected", "effective": original["event"]["effective"], "precision": "day",
        "corrects": original["id"], "replacement": replacement,
        "sources": [{"title": "A later statement", "url": "https://www.england.nhs.uk/"}],
    }
    posted = httpx.post(f"{live.url}/events", json=correction, headers={"Authorization": f"Bearer {TOKEN}"})
    assert posted.status_code == 201, posted.text
    page.goto(live.url + "/timeline?date=2016-06-01")
    marked = page.locator("#events .event.corrected")
    marked.first.wait_for()
    assert marked.count() == 1
    link = marked.locator(".event-corrected a")
    assert "corrected on" in link.inner_text()
    assert link.get_attribute("href") == f"/events/{posted.json()['id']}"
    assert not page.errors, page.errors
