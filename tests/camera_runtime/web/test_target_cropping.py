"""Target cropping and the image stage preview in a real headless Chromium, real runtime, real
API.

The settings panel draws the third stream's window on the channel's live picture as a frame of
the cropping resolution scaled to the picture. A new resolution and a drag move it; nothing is
sent before Save, which sends what changed with ``PUT .../target_cropping``; the runtime gets
it and a reload shows it where it was saved. A refusal of the API is shown under the field it
names. An OSD form's Preview shows the picture the API previews over the live one until it is
closed, saving nothing. A user-level session sees the window and cannot move it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Request, Route, expect

from tests.polling import eventually

from .conftest import PASSWORD, MakeServer, PageLog, Served
from .test_controls import open_settings
from .test_image_settings import HEIGHT, WIDTH, image_channel, picture_box, stage
from .test_web_ui import MIN_PIXEL_STD, pixel_std

pytestmark = pytest.mark.browser

FRAME = "#live-grid .tile[data-channel-id='front'] svg.crop-overlay rect.crop-window"
PREVIEW = "#live-grid .tile[data-channel-id='front'] figure.stage-preview"


def cropped_channel() -> dict[str, Any]:
    channel = image_channel()
    channel["target_cropping"] = {"enabled": True, "resolution": "640x480", "x": 0.25, "y": 0.1}
    return channel


def cropping(served: Served) -> Any:
    return served.runtime.channels["front"].target_cropping


async def frame_box(page: Page) -> list[float]:
    """The frame's x, y, width, height in picture pixels."""
    frame = page.locator(FRAME)
    return [
        float(await frame.get_attribute(name) or "nan") for name in ("x", "y", "width", "height")
    ]


async def test_the_window_is_drawn_dragged_saved_and_shown_again(
    make_server: MakeServer, page: Page, page_log: PageLog, tmp_path: Path
) -> None:
    served = await make_server([cropped_channel()])
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    panel = await open_settings(page, served, "front", "Front")
    form = panel.get_by_role("form", name="Target cropping")
    enabled = form.get_by_role("switch", name="Enable target cropping")
    resolution = form.get_by_role("combobox", name="Cropping resolution")
    await expect(enabled).to_be_checked()
    await expect(resolution).to_have_value("640x480")

    # 640x480 in a 640x360 picture: the frame is the whole picture, as the runtime crops it.
    frame = page.locator(FRAME)
    await expect(frame).to_have_attribute("width", "640")
    assert await frame_box(page) == [0, 0, 640, 360]

    # A smaller resolution: the frame shrinks, at the saved corner (0.25, 0.1 of the picture).
    await resolution.select_option("320x240")
    await expect(frame).to_have_attribute("width", "320")
    assert await frame_box(page) == [160, 36, 320, 240]
    await expect(form).to_have_attribute("data-changed", "true")

    # Drag it 100 picture pixels right and 50 down.
    left, top, shown_width, _ = await picture_box(page)
    scale = shown_width / WIDTH
    start = (left + (160 + 160) * scale, top + (36 + 120) * scale)
    await page.mouse.move(*start)
    await page.mouse.down()
    await page.mouse.move(start[0] + 50 * scale, start[1] + 25 * scale, steps=3)
    await page.mouse.move(start[0] + 100 * scale, start[1] + 50 * scale, steps=3)
    await page.mouse.up()
    x, y, w, h = await frame_box(page)
    assert (w, h) == (320, 240)
    assert abs(x - 260) <= 1 / scale and abs(y - 86) <= 1 / scale, (x, y)
    await expect(frame).to_have_class(re.compile(r"\bunsaved\b"))
    await expect(form.get_by_role("status")).to_have_text(re.compile(r"at 41%, 24% of"))
    puts = [r for r in requests if r.method == "PUT"]
    assert puts == []  # nothing is sent before Save

    # Save: only what changed is sent; the runtime crops there from now on.
    await form.get_by_role("button", name="Save").click()
    await eventually(lambda: cropping(served)["resolution"] == (320, 240))
    sent = [r for r in requests if r.method == "PUT"][-1]
    assert sent.url.endswith("/api/channels/front/target_cropping")
    body = sent.post_data_json
    assert set(body) == {"resolution", "x", "y"} and body["resolution"] == "320x240"
    saved = cropping(served)
    assert (saved["x"], saved["y"]) == (body["x"], body["y"])
    assert abs(saved["x"] * WIDTH - 260) <= 1 / scale
    assert abs(saved["y"] * HEIGHT - 86) <= 1 / scale
    await expect(frame).not_to_have_class(re.compile(r"\bunsaved\b"))
    await expect(form).to_have_attribute("data-changed", "false")
    tile_png = await page.locator("#live-grid .tile[data-channel-id='front']").screenshot()
    (tmp_path / "cropping-tile.png").write_bytes(tile_png)
    assert pixel_std(tile_png) > MIN_PIXEL_STD

    # A reload shows the window where it was saved.
    await page.reload()  # still signed in (the session cookie)
    await page.get_by_role("button", name="Settings of Front").click()
    await expect(resolution).to_have_value("320x240")
    await expect(frame).to_have_attribute("x", str(saved["x"] * WIDTH))
    assert await frame_box(page) == [saved["x"] * WIDTH, saved["y"] * HEIGHT, 320, 240]

    # The arrow keys move it too (1% of the picture a press).
    await frame.focus()
    await page.keyboard.press("ArrowLeft")
    await expect(frame).to_have_attribute(
        "x", str(round((saved["x"] - 0.01) * 10000) / 10000 * WIDTH)
    )

    # The API's refusal is shown under the window's place (the body is altered on its way:
    # the page itself only sends values the API takes), and nothing changes.
    async def too_far(route: Route) -> None:
        await route.continue_(post_data=json.dumps({"x": 2}))

    await page.route("**/api/channels/front/target_cropping", too_far)
    await form.get_by_role("button", name="Save").click()
    error = form.locator("#crop-position-error")
    await expect(error).to_have_text("X: value must be at most 1")
    assert cropping(served)["x"] == saved["x"]
    await page.unroute("**/api/channels/front/target_cropping")
    await form.get_by_role("button", name="Undo changes").click()
    await expect(error).to_be_hidden()
    assert await frame_box(page) == [saved["x"] * WIDTH, saved["y"] * HEIGHT, 320, 240]

    # Off: saved, and the frame leaves the picture.
    await enabled.click()
    await expect(frame).to_have_count(0)
    await form.get_by_role("button", name="Save").click()
    await eventually(lambda: cropping(served)["enabled"] is False)
    assert [r.post_data_json for r in requests if r.method == "PUT"][-1] == {"enabled": False}

    # Closing the panel takes the frame away.
    await panel.get_by_role("button", name="Close settings").click()
    await expect(page.locator("svg.crop-overlay")).to_have_count(0)
    assert page_log.page_errors == []
    assert page_log.csp_violations == []
    assert page_log.foreign_requests == []


async def test_an_osd_preview_is_shown_over_the_live_picture_until_closed(
    make_server: MakeServer, page: Page, page_log: PageLog, tmp_path: Path
) -> None:
    channel = image_channel()
    channel["image"]["osd"]["enabled"] = False
    served = await make_server([channel])
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    panel = await open_settings(page, served, "front", "Front")
    osd = panel.get_by_role("form", name="OSD")
    await osd.get_by_role("switch", name="OSD enabled").click()
    texts = osd.get_by_role("textbox", name="Texts")
    await texts.fill("Preview line")
    await osd.get_by_role("button", name="Preview").click()

    preview = page.locator(PREVIEW)
    await expect(preview).to_be_visible()
    image = preview.get_by_role("img", name="Preview of OSD")
    await expect(image).to_have_js_property("naturalWidth", WIDTH)
    await expect(preview).to_contain_text("OSD preview · not saved")
    posts = [r for r in requests if r.method == "POST" and r.url.endswith("/image/osd/preview")]
    assert [r.post_data_json for r in posts] == [
        {"enabled": True, "options": {"texts": ["Preview line"]}}
    ]
    shot = await preview.screenshot()
    (tmp_path / "osd-preview.png").write_bytes(shot)
    assert pixel_std(shot) > MIN_PIXEL_STD
    # Nothing was saved: the stage is as it was, no PUT went out, the form still unsaved.
    assert stage(served, "osd").enabled is False
    assert stage(served, "osd").options["texts"] == ["Gate"]
    assert [r for r in requests if r.method == "PUT"] == []
    await expect(osd).to_have_attribute("data-changed", "true")

    # A refusal of the preview is shown next to its field, as a Save's would be.
    await osd.get_by_role("spinbutton", name="X").fill("3")
    await osd.get_by_role("button", name="Preview").click()
    error = osd.locator(".image-field[data-option='x'] .control-error")
    await expect(error).to_have_text("Expected a number from 0 to 1")
    await expect(preview).to_be_visible()  # the last good preview stays until closed

    await preview.get_by_role("button", name="Close preview").click()
    await expect(page.locator(PREVIEW)).to_have_count(0)
    assert page_log.page_errors == []
    assert page_log.csp_violations == []


async def test_a_user_level_session_sees_the_window_and_cannot_move_it(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server([cropped_channel()], users={"viewer": "user"})
    await page.goto(served.url)
    await page.get_by_label("User name").fill("viewer")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Settings of Front").click()
    form = page.get_by_role("form", name="Target cropping")
    for control in await form.locator("input, select, button").all():
        await expect(control).to_be_disabled()
    frame = page.locator(FRAME)
    await expect(frame).to_have_attribute("width", "640")
    await expect(frame).not_to_have_class(re.compile(r"\bmovable\b"))
    osd = page.get_by_role("form", name="OSD")
    await expect(osd.get_by_role("button", name="Preview")).to_be_disabled()
    assert cropping(served)["x"] == 0.25
    assert page_log.page_errors == []
