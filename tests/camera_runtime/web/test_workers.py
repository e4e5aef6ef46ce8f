"""The page's header with channels in worker processes (config ``workers``), in Chromium: how
many processes run, which channels each carries (the tooltip), and a worker that died and was
replaced, counted where a user looks rather than only in the logs."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, Route, expect

from ..workers.helpers import kill_worker
from .conftest import MakeServer, PageLog, synthetic_channel
from .test_web_ui import sign_in

pytestmark = pytest.mark.browser


async def test_the_header_shows_the_workers_and_their_restarts(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server(
        [synthetic_channel("front", "Front", seed=1), synthetic_channel("yard", "Yard", seed=2)],
        config={"workers": {"channels_per_process": 1}},
    )
    await page.goto(served.url)
    await sign_in(page)
    meta = page.locator("#device-meta")
    await expect(meta).to_contain_text("2 worker processes")
    await expect(meta).not_to_contain_text("restart")
    title = await meta.get_attribute("title") or ""
    assert "camera-runtime-worker-1" in title and ": front" in title and ": yard" in title

    await kill_worker(served.runtime, "front")
    # the channel's video loss came and went on the events socket: the header follows it
    # at the page's next refresh (a reload here, not its 10 s timer)
    await page.reload()
    await expect(meta).to_contain_text("2 worker processes (1 restart)")
    assert page_log.page_errors == []
    assert page_log.csp_violations == []


async def test_a_failed_device_reading_does_not_hold_back_the_channels(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    """The page's refresh reads the channels and the device (the workers line) together: the
    device failing leaves the header as it was and still updates the channels' states."""
    served = await make_server([synthetic_channel("front", "Front", seed=1)])
    await page.goto(served.url)
    await sign_in(page)
    meta = page.locator("#device-meta")
    await expect(meta).not_to_be_empty()
    before = await meta.text_content()
    badge = page.locator("#live-grid .tile[data-channel-id='front'] .tile-state")
    await expect(badge).to_be_hidden()

    async def device_fails(route: Route) -> None:
        await route.fulfill(status=503, json={"error": "unavailable", "message": "busy"})

    async def channel_offline(route: Route) -> None:
        response = await route.fetch()
        channels = await response.json()
        for channel in channels:
            channel["state"] = "offline"
        await route.fulfill(response=response, json=channels)

    await page.route("**/api/device", device_fails)
    await page.route("**/api/channels", channel_offline)
    await page.evaluate("window.dispatchEvent(new Event('focus'))")  # the page's refresh
    await expect(badge).to_have_text("offline")
    assert await meta.text_content() == before
    assert page_log.page_errors == []
