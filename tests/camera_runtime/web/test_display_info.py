"""Display info on stream (manual 4.2) on the web page, in a real headless Chromium: the
channel's "Display info on stream" switch in its settings panel (built from the channel's
declaration) puts the detection boxes on the live picture the page shows, and takes them off."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, expect

from tests.polling import eventually

from ..test_display_info import SCENE, red_pixels
from .conftest import MakeServer, PageLog
from .test_controls import open_settings
from .test_web_ui import LIVE_IMG

pytestmark = pytest.mark.browser


async def red_on_screen(page: Page, channel_id: str, wanted: bool, seconds: float = 20) -> int:
    """Red pixels on the channel's live picture as the browser shows it, once there are some
    (``wanted``) or none; each look is a screenshot of the picture, bounded in time."""
    picture = page.locator(LIVE_IMG.format(channel_id))
    async with asyncio.timeout(seconds):
        while True:
            count = int(red_pixels(await picture.screenshot()).sum())
            if (count > 100) if wanted else count == 0:
                return count


async def test_the_switch_puts_the_boxes_on_the_live_picture(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    channel = {
        "id": "yard",
        "name": "Yard",
        "source": SCENE,
        "detect": {"width": 160, "fps": 10},
        "detectors": {"motion": {"hold_time": 30}},
    }
    served = await make_server([channel])
    panel = await open_settings(page, served, "yard", "Yard")
    switch = panel.get_by_role("switch", name="Display info on stream")
    await expect(switch).not_to_be_checked()
    assert await red_on_screen(page, "yard", wanted=False) == 0  # the grey scene has no red

    await switch.click()
    await expect(switch).to_be_checked()
    await eventually(lambda: served.runtime.channels["yard"].display_info)
    assert await red_on_screen(page, "yard", wanted=True) > 100

    await switch.click()
    await expect(switch).not_to_be_checked()
    assert await red_on_screen(page, "yard", wanted=False) == 0
    assert page_log.page_errors == []
    assert page_log.csp_violations == []
