"""The image stitching section in a real headless Chromium, real runtime, real API: a stitched
device's output mode, channels, calibration state and preview; Recalibrate makes a new
calibration (administrators); a user-level session cannot."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from playwright.async_api import Page, expect

from camera_runtime.stitching import calibration

from ..stitching.test_stitching import device
from .conftest import PASSWORD, MakeServer, PageLog
from .test_controls import open_settings
from .test_web_ui import sign_in

pytestmark = pytest.mark.browser

CARD = "#stitching-panel article[data-device-id='yard']"


def stitched(**extra: Any) -> dict[str, Any]:
    return {"stitching": [device("panorama_eptz", eptz_channels=2, **extra)]}


async def test_the_section_shows_the_device_and_recalibrates_it(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server([], config=stitched())
    await page.goto(served.url)
    await sign_in(page)
    card = page.locator(CARD)
    await expect(card).to_be_visible()
    await expect(card.get_by_role("heading", name="yard")).to_be_visible()
    await expect(card.locator("dd").nth(0)).to_have_text("Panorama + ePTZ")
    await expect(card.locator("dd").nth(1)).to_have_text("yard, yard-eptz1, yard-eptz2")
    # The hub calibrates (and saves) before its first panorama: once the panorama channel has
    # a picture, a reload shows the calibration.
    saved = calibration.calibration_path(served.runtime.data_dir, "yard")
    slot = served.runtime.channels["yard"].slot
    _, panorama = await asyncio.get_running_loop().run_in_executor(None, slot.wait_newer, 0, 60.0)
    assert panorama is not None, "no panorama in 60 s"
    assert saved.exists()
    await page.reload()
    await expect(card.locator(".calibration-state")).to_contain_text("Calibrated", timeout=20_000)
    first = json.loads(saved.read_text())
    width, height = first["canvas"]
    await expect(card.locator(".calibration-state")).to_contain_text(f"{width}x{height}")
    preview = card.get_by_role("img", name="Stitched preview of yard")
    await page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=await preview.element_handle()
    )
    assert await preview.evaluate("img => img.naturalWidth") == width

    async with page.expect_response(
        lambda r: r.url.endswith("/api/stitching/yard/calibrate")
    ) as answer:
        await card.get_by_role("button", name="Recalibrate").click()
    assert (await answer.value).status == 200
    await expect(card.get_by_role("button", name="Recalibrate")).to_be_enabled()
    again = json.loads(saved.read_text())
    assert again["calibrated_at"] > first["calibrated_at"]
    await expect(card.get_by_role("alert")).to_be_hidden()
    assert page_log.page_errors == [] and page_log.csp_violations == []


async def test_a_user_level_session_cannot_recalibrate(make_server: MakeServer, page: Page) -> None:
    served = await make_server([], config=stitched(), users={"viewer": "user"})
    await page.goto(served.url)
    await page.get_by_label("User name").fill("viewer")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    card = page.locator(CARD)
    await expect(card).to_be_visible()
    await expect(card.get_by_role("button", name="Recalibrate")).to_be_disabled()
    assert served.runtime.stitching()[0]["id"] == "yard"


async def test_the_output_mode_is_chosen_in_the_channel_settings(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server([], config={"stitching": [device("panorama")]})
    # The hub calibrates before its first panorama (seconds, more on a loaded machine): the
    # page's picture is waited for once the channel has one.
    slot = served.runtime.channels["yard"].slot
    _, panorama = await asyncio.get_running_loop().run_in_executor(None, slot.wait_newer, 0, 60.0)
    assert panorama is not None, "no panorama in 60 s"
    panel = await open_settings(page, served, "yard", "yard")
    # The device's controls are declared on its panorama channel: the page shows them as it
    # shows any channel's (it names none of them).
    mode = panel.locator(".control[data-key='stitching_output_mode'] select")
    await expect(mode).to_have_value("panorama")
    await expect(panel.locator(".control[data-key='stitching_calibrate'] button")).to_be_visible()
    distance = panel.locator(".control[data-key='stitching_distance'] input").first
    await expect(distance).to_have_value("10")
    async with page.expect_response(
        lambda r: r.url.endswith("/controls/stitching_output_mode") and r.request.method == "PUT"
    ) as answer:
        await mode.select_option("original")
    assert (await answer.value).status == 200
    # The channels are rebuilt: one per sensor, on the page too (four pages of one tile).
    await expect(page.get_by_role("button", name="Settings of yard 1")).to_be_visible(
        timeout=20_000
    )
    await expect(page.get_by_text("Page 1 of 4")).to_be_visible()
    assert served.runtime.channel_ids() == [f"yard-sensor{i}" for i in range(1, 5)]
    await expect(page.locator(CARD)).to_be_hidden()  # the original mode stitches nothing
    assert page_log.page_errors == [] and page_log.csp_violations == []
