"""The web UI in a real headless Chromium against a real runtime and API server.

Sign-in, live view (the MJPEG picture is really decoded and not blank), window division with
only visible channels streamed, the event list kept live by the WebSocket, activation, a wrong
password, escaping of names (test plan B6), no CSP violation or foreign request; paging and the
browser's connection limit with many channels; recovery after a server restart; an ended session;
every static file the page loads (its ES modules) served with the right MIME type.
Chromium is /usr/bin/chromium (``CAMERA_RUNTIME_CHROMIUM`` overrides), never a download.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import aiohttp
import cv2
import numpy as np
import pytest
from playwright.async_api import Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from camera_runtime.api import ApiServer
from camera_runtime.api.routes import STATIC_DIR
from tests.polling import eventually

from .conftest import ADMIN, PASSWORD, MakeServer, PageLog, Served, synthetic_channel

pytestmark = pytest.mark.browser

#: Lead's copy of the main screenshot.
SCREENSHOT_COPY = Path("/tmp/web-ui.png")
#: A live picture of the synthetic scene (texture background, moving boxes) varies a lot; a
#: blank, black or single-colour tile has a standard deviation near 0.
MIN_PIXEL_STD = 8.0

LIVE_IMG = "#live-grid .tile[data-channel-id='{}'] img"
IMG_DECODED = """(selector) => {
  const img = document.querySelector(selector);
  return img !== null && img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : null;
}"""
#: What a tile shows when its picture does not come (``picture_decoded``'s failure message).
TILE_STATE = """(id) => {
  const tile = document.querySelector(`#live-grid .tile[data-channel-id='${id}']`);
  if (tile === null) return null;
  const img = tile.querySelector("img");
  return {
    ...tile.dataset,
    badge: tile.querySelector(".tile-state").textContent,
    src: img.getAttribute("src"),
    complete: img.complete,
  };
}"""


async def picture_decoded(page: Page, channel_id: str, wait_ms: float = 20_000) -> list[int]:
    """Wait until the channel's tile shows a decoded picture: its size. A timeout says what
    the tile was doing (its retries, player, state badge), so a failure in CI can be read."""
    try:
        size = await page.wait_for_function(
            IMG_DECODED, arg=LIVE_IMG.format(channel_id), timeout=wait_ms
        )
    except PlaywrightTimeoutError as err:
        state = await page.evaluate(TILE_STATE, channel_id)
        raise AssertionError(
            f"no picture of {channel_id} in {wait_ms:g} ms; tile: {state}"
        ) from err
    value: list[int] = await size.json_value()
    return value


NEW_MOTION_ROW = """(known) => {
  for (const row of document.querySelectorAll("#events [data-event-id][data-type='motion']")) {
    if (!known.includes(row.dataset.eventId)) return row.dataset.eventId;
  }
  return null;
}"""

CHANNELS = [
    synthetic_channel("front", "Front", seed=1),
    synthetic_channel("yard", "Back yard", seed=2),
    synthetic_channel("drive", "Driveway", seed=3),
]


async def sign_in(page: Page, password: str = PASSWORD, *, user: str = ADMIN) -> None:
    await page.get_by_label("User name").fill(user)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


def pixel_std(png: bytes) -> float:
    picture = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None, "the screenshot is not a decodable PNG"
    return float(picture.std())


#: What a page may reference under /static/ (``src``/``href``) and what a module imports.
STATIC_REF = re.compile(r'(?:src|href)="/static/([^"]+)"')
MODULE_IMPORT = re.compile(r'^(?:import|export)\b[^;]*?\bfrom\s+"\./([^"]+)"', re.M)
#: Module scripts run only when served with a JavaScript MIME type (the page sends nosniff).
JS_TYPES = {"text/javascript", "application/javascript"}


def viewers(served: Served) -> dict[str, int]:
    return {cid: ch.live.viewers for cid, ch in served.runtime.channels.items()}


async def test_live_view_division_and_live_events(
    make_server: MakeServer, page: Page, page_log: PageLog, tmp_path: Path
) -> None:
    served = await make_server(CHANNELS)
    await page.goto(served.url)
    await sign_in(page)

    device_name = served.runtime.device_info()["device_name"]
    await expect(page.locator("#device-name")).to_have_text(device_name)
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # 1x1: one tile, one stream, and the other channels are not streamed at all.
    await page.get_by_role("button", name="1x1").click()
    await expect(page.locator("#live-grid .tile")).to_have_count(1)
    await expect(page.locator("#live-grid img")).to_have_count(1)
    assert await picture_decoded(page, "front") == [640, 360]
    await eventually(lambda: viewers(served) == {"front": 1, "yard": 0, "drive": 0})

    tile = page.locator("#live-grid .tile[data-channel-id='front']")
    await expect(tile.locator(".tile-name")).to_have_text("Front")
    tile_png = await page.locator(LIVE_IMG.format("front")).screenshot()
    (tmp_path / "live-tile.png").write_bytes(tile_png)
    assert pixel_std(tile_png) > MIN_PIXEL_STD, "the live picture is blank"

    # 2x2: four tiles, three channels streaming, one empty tile without any <img>.
    await page.get_by_role("button", name="2x2").click()
    await expect(page.get_by_role("button", name="2x2")).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#live-grid .tile")).to_have_count(4)
    await expect(page.locator("#live-grid .tile.empty")).to_have_count(1)
    await expect(page.locator("#live-grid img")).to_have_count(3)
    for channel_id in ("front", "yard", "drive"):
        await picture_decoded(page, channel_id)
    await eventually(lambda: viewers(served) == {"front": 1, "yard": 1, "drive": 1})

    # Events: the list is loaded, then a new motion event arrives by the WebSocket push and
    # its row is updated in place until it ends.
    events = page.locator("#events")
    await expect(events).to_have_attribute("aria-busy", "false")
    known = await page.eval_on_selector_all(
        "#events [data-event-id]", "rows => rows.map(row => row.dataset.eventId)"
    )
    handle = await page.wait_for_function(NEW_MOTION_ROW, arg=known, timeout=30_000)
    event_id = await handle.json_value()
    row = events.locator(f"[data-event-id='{event_id}']")
    await expect(row).to_have_count(1)
    await served.runtime.history.flush()
    event = await served.runtime.history.get(event_id)
    assert event is not None and event.type == "motion"
    channel_name = {"front": "Front", "yard": "Back yard", "drive": "Driveway"}[event.channel]
    await expect(row.locator(".ev-channel")).to_have_text(channel_name)
    await expect(row.locator(".ev-type")).to_have_text("Motion")
    await expect(row).to_have_attribute("data-active", "false", timeout=30_000)
    await expect(row.locator(".ev-status")).to_contain_text("ended")
    await expect(row).to_have_count(1)

    screenshot = tmp_path / "web-ui.png"
    await page.screenshot(path=str(screenshot))
    shutil.copyfile(screenshot, SCREENSHOT_COPY)
    assert pixel_std(screenshot.read_bytes()) > MIN_PIXEL_STD

    # Clicking a tile shows that channel alone; clicking again goes back to 2x2.
    await page.locator("#live-grid .tile[data-channel-id='yard']").click()
    await expect(page.locator("#live-grid .tile")).to_have_count(1)
    await expect(page.locator("#live-grid .tile[data-channel-id='yard']")).to_have_count(1)
    await page.locator("#live-grid .tile[data-channel-id='yard']").click()
    await expect(page.locator("#live-grid .tile")).to_have_count(4)

    # Sign out: back to the form, every stream stopped.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await expect(page.locator("#live-grid img")).to_have_count(0)
    await eventually(lambda: viewers(served) == {"front": 0, "yard": 0, "drive": 0})

    assert page_log.page_errors == []
    assert page_log.csp_violations == []
    assert page_log.foreign_requests == []
    # Only the expected 401 of the session check before signing in; no 404, no script error.
    assert all("status of 401" in message for message in page_log.console_errors)


async def test_every_static_file_the_page_loads_is_served(make_server: MakeServer) -> None:
    """index.html's files and, module by module, every import: 200 with the right MIME type.
    Every script in the folder is loaded by the page (no file left behind by a split)."""
    served = await make_server(CHANNELS[:1])
    seen: set[str] = set()
    async with aiohttp.ClientSession() as session:
        async with session.get(served.url) as resp:
            assert resp.status == 200
            pending = STATIC_REF.findall(await resp.text())
        assert "app.js" in pending
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            async with session.get(f"{served.url}static/{name}") as resp:
                assert resp.status == 200, name
                body = await resp.text()
                if name.endswith(".js"):
                    assert resp.content_type in JS_TYPES, (name, resp.content_type)
                    pending.extend(MODULE_IMPORT.findall(body))
                elif name.endswith(".css"):
                    assert resp.content_type == "text/css", (name, resp.content_type)
    assert {n for n in seen if n.endswith(".js")} == {p.name for p in STATIC_DIR.glob("*.js")}


async def test_wrong_password_shows_an_error_and_no_video(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server(CHANNELS[:1])
    await page.goto(served.url)
    await sign_in(page, password="Wrong-Passw0rd")

    alert = page.get_by_role("alert")
    await expect(alert).to_be_visible()
    assert (await alert.text_content() or "").strip()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await expect(page.get_by_label("Password")).to_have_value("")
    await expect(page.locator("#app-view")).to_be_hidden()
    assert await page.locator("#live-grid img").count() == 0
    assert viewers(served) == {"front": 0}
    assert not any("/live.mjpeg" in url for url in page_log.requests)

    # The right password then works from the same form.
    await sign_in(page)
    await picture_decoded(page, "front")
    await expect(alert).to_have_count(0)
    assert page_log.page_errors == []


async def test_activation_shows_the_server_rule_then_signs_in(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server(CHANNELS[:1], activated=False)
    await page.goto(served.url)
    await expect(page.get_by_role("heading", name="Activate the camera")).to_be_visible()

    # A weak password: the server's 400 message is shown and nothing is activated.
    await page.locator("#activate-password").fill("password")
    await page.locator("#activate-confirm").fill("password")
    await page.get_by_role("button", name="Activate").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_be_visible()
    assert (await alert.text_content() or "").strip()
    await expect(page.get_by_role("heading", name="Activate the camera")).to_be_visible()

    # A strong one activates and signs straight in.
    await page.locator("#activate-password").fill(PASSWORD)
    await page.locator("#activate-confirm").fill(PASSWORD)
    await page.get_by_role("button", name="Activate").click()
    await picture_decoded(page, "front")
    assert page_log.page_errors == []
    assert page_log.csp_violations == []


async def test_names_are_shown_as_text_never_as_html(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    """Test plan B6: a channel named like markup shows the markup as text and runs nothing."""
    hostile = '<img src=x onerror="window.__xss=1"><b>bold</b>'
    served = await make_server([synthetic_channel("front", hostile)])
    await page.goto(served.url)
    await sign_in(page)

    name = page.locator("#live-grid .tile[data-channel-id='front'] .tile-name")
    await expect(name).to_have_text(hostile)
    await picture_decoded(page, "front")
    assert await page.evaluate("window.__xss") is None
    assert await page.locator("img[src='x'], b").count() == 0
    assert not any(url.endswith("/x") for url in page_log.requests)
    assert page_log.page_errors == []


async def test_many_channels_page_and_keep_connections_free(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    """More visible channels than the browser has connections for one host (6 for HTTP/1.1):
    at most 4 MJPEG streams, the other tiles refresh snapshots, and API calls still go through.
    Paging streams only the channels of the page shown."""
    ids = [f"cam{i}" for i in range(1, 8)]
    served = await make_server(
        [synthetic_channel(cid, cid.title(), seed=i) for i, cid in enumerate(ids)]
    )
    await page.goto(served.url)
    await sign_in(page)

    await page.get_by_role("button", name="3x3").click()
    await expect(page.locator("#live-grid .tile")).to_have_count(9)
    await expect(page.locator("#live-grid img")).to_have_count(7)
    await expect(page.locator("#live-grid .tile[data-mode='stream']")).to_have_count(4)
    await expect(page.locator("#live-grid .tile[data-mode='snapshot']")).to_have_count(3)
    for channel_id in ids:
        await picture_decoded(page, channel_id)
    await eventually(lambda: sum(viewers(served).values()) == 4)
    # Snapshots keep coming, one a second.
    await page.wait_for_function(
        "() => [...document.querySelectorAll(\"#live-grid .tile[data-mode='snapshot']\")]"
        ".every(tile => Number(tile.dataset.loads) >= 3)",
        timeout=15_000,
    )
    status = await page.evaluate(
        """async () => {
          const answer = fetch("/api/session").then(r => r.status);
          const late = new Promise(resolve => setTimeout(() => resolve("stalled"), 5000));
          return Promise.race([answer, late]);
        }"""
    )
    assert status == 200

    # 2x2 with 7 channels: two pages; the second streams cam5..cam7 only.
    await page.get_by_role("button", name="2x2").click()
    await expect(page.locator("#page-label")).to_have_text("Page 1 of 2")
    await page.get_by_role("button", name="Next page").click()
    await expect(page.locator("#page-label")).to_have_text("Page 2 of 2")
    await expect(page.locator("#live-grid img")).to_have_count(3)
    for channel_id in ("cam5", "cam6", "cam7"):
        await picture_decoded(page, channel_id)
    expected = {cid: int(cid in {"cam5", "cam6", "cam7"}) for cid in ids}
    await eventually(lambda: viewers(served) == expected)
    assert page_log.page_errors == []


async def test_streams_and_events_come_back_after_a_server_restart(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server(CHANNELS[:2])
    await page.goto(served.url)
    await sign_in(page)
    await page.get_by_role("button", name="2x2").click()
    for channel_id in ("front", "yard"):
        await picture_decoded(page, channel_id)
    connection = page.locator("#connection")
    await expect(connection).to_have_text("Live")

    # Same port, same credential store (so the session survives), new app.
    port, security = served.server.port, served.server.security
    await served.server.stop()
    await expect(connection).to_have_text("Reconnecting…")
    await eventually(lambda: viewers(served) == {"front": 0, "yard": 0})
    restarted = ApiServer(served.runtime, "127.0.0.1", port, security=security)
    served.server = restarted
    await restarted.start()

    await expect(connection).to_have_text("Live", timeout=20_000)
    await expect(page.locator("#events")).to_have_attribute("aria-busy", "false")
    await eventually(lambda: viewers(served) == {"front": 1, "yard": 1}, within=20)
    for channel_id in ("front", "yard"):
        await picture_decoded(page, channel_id)
    assert page_log.page_errors == []


async def test_an_ended_session_goes_back_to_the_sign_in_form(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server(CHANNELS[:1])
    await page.goto(served.url)
    await sign_in(page)
    await picture_decoded(page, "front")

    # The session cookie is gone (expired, or ended elsewhere); the next API call gets a 401.
    await page.context.clear_cookies()
    await page.evaluate("window.dispatchEvent(new Event('focus'))")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await expect(page.locator("#login-notice")).to_contain_text("session has ended")
    await expect(page.locator("#live-grid img")).to_have_count(0)
    await eventually(lambda: viewers(served) == {"front": 0})
    assert page_log.page_errors == []
