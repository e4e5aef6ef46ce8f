"""A channel's image settings and streams in a real headless Chromium, real runtime, real API.

The panel has one form per image stage the channel's status lists, its fields inferred from the
values. A privacy mask's areas are drawn by clicking on the live picture and saved with
``PUT /api/channels/{id}/image/privacy_mask``: the runtime gets the normalised points; a
polygon that crosses itself is refused by the API, the page shows why, and the runtime keeps
its areas. An OSD text is changed; an out-of-range number gets the API's error next to its
field. The streams table lists ``main`` with its mode and hands out a URL to play it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from playwright.async_api import Page, Request, expect

from camera_runtime.registry import build_plugins
from tests.polling import eventually

from .conftest import PASSWORD, MakeServer, PageLog, Served, synthetic_channel
from .test_controls import open_settings
from .test_web_ui import LIVE_IMG, MIN_PIXEL_STD, pixel_std

pytestmark = pytest.mark.browser

#: Lead's copy of the panel's screenshot.
SCREENSHOT_COPY = Path("/tmp/web-ui-image-settings.png")
WIDTH, HEIGHT = 640, 360
SAVED_AREA = [[0.05, 0.05], [0.25, 0.05], [0.25, 0.3], [0.05, 0.3]]
NEW_AREA = [(0.6, 0.2), (0.9, 0.25), (0.85, 0.7), (0.55, 0.65)]
#: Corners in this order cross (edges 1 and 3): a bow tie.
BOW_TIE = [(0.3, 0.5), (0.5, 0.9), (0.5, 0.5), (0.3, 0.9)]


def image_channel() -> dict[str, Any]:
    channel = synthetic_channel("front", "Front", seed=1)
    channel["image"] = {
        "privacy_mask": {"enabled": False, "areas": [SAVED_AREA]},
        "osd": {"name": "Front gate", "show_date": False, "texts": ["Gate"]},
        "rotate": {"enabled": False},
    }
    return channel


def stage(served: Served, kind: str) -> Any:
    return served.runtime.channels["front"].stages[kind]


def status_image(served: Served) -> Any:
    return served.runtime.channel_status("front")["image"]


def image_puts(requests: list[Request]) -> list[str]:
    return [r.url for r in requests if r.method == "PUT" and "/image/" in r.url]


async def picture_box(page: Page) -> tuple[float, float, float, float]:
    """Where the picture is on the screen: left, top, width, height (object-fit: contain)."""
    box = await page.locator(LIVE_IMG.format("front")).bounding_box()
    assert box is not None
    scale = min(box["width"] / WIDTH, box["height"] / HEIGHT)
    width, height = WIDTH * scale, HEIGHT * scale
    return (
        box["x"] + (box["width"] - width) / 2,
        box["y"] + (box["height"] - height) / 2,
        width,
        height,
    )


async def click_corners(page: Page, corners: list[tuple[float, float]]) -> None:
    left, top, width, height = await picture_box(page)
    overlay = page.locator("#live-grid .tile[data-channel-id='front'] svg.mask-overlay")
    for index, (x, y) in enumerate(corners):
        await page.mouse.click(left + x * width, top + y * height)
        await expect(overlay.locator("circle.mask-corner")).to_have_count(index + 1)


def assert_close(
    points: list[list[float]], expected: list[tuple[float, float]], shown: tuple[float, float]
) -> None:
    """Each point within a pixel (of the picture as shown, ``shown`` wide and high) of where
    it was clicked."""
    assert len(points) == len(expected), points
    for (x, y), (ex, ey) in zip(points, expected, strict=True):
        assert abs(x - ex) * shown[0] <= 1 and abs(y - ey) * shown[1] <= 1, (points, expected)


async def test_privacy_mask_areas_drawn_on_the_live_picture(
    make_server: MakeServer, page: Page, page_log: PageLog, tmp_path: Path
) -> None:
    served = await make_server([image_channel()])
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    panel = await open_settings(page, served, "front", "Front")

    # One form per stage the status lists, in its order.
    forms = panel.locator("#image-forms form.image-stage")
    await expect(forms).to_have_count(3)
    kinds = await forms.evaluate_all("forms => forms.map(f => f.dataset.kind)")
    assert sorted(kinds) == ["osd", "privacy_mask", "rotate"]
    assert kinds == list(status_image(served))
    mask = panel.get_by_role("form", name="Privacy mask")
    enabled = mask.get_by_role("switch", name="Privacy mask enabled")
    await expect(enabled).not_to_be_checked()
    await expect(mask.get_by_role("combobox", name="Color")).to_have_value("black")

    # The saved area is drawn over the picture, in the picture's pixels.
    overlay = page.locator("#live-grid .tile[data-channel-id='front'] svg.mask-overlay")
    await expect(overlay).to_have_attribute("viewBox", f"0 0 {WIDTH} {HEIGHT}")
    areas = overlay.locator("polygon.mask-area")
    await expect(areas).to_have_count(1)
    await expect(areas.first).to_have_attribute("points", "32,18 160,18 160,108 32,108")
    await expect(mask.locator(".mask-item")).to_have_count(1)

    # The mask's on/off switch is its declared control: it and the form follow each other.
    control = panel.get_by_role("switch", name="Privacy mask", exact=True)
    await expect(control).not_to_be_checked()
    await control.click()
    await eventually(lambda: stage(served, "privacy_mask").enabled is True)
    await expect(enabled).to_be_checked()

    # Draw a second area: four clicks on the picture, closed, saved.
    await mask.get_by_role("button", name="Draw an area").click()
    await expect(overlay).to_have_class(re.compile(r"\bdrawing\b"))
    await click_corners(page, NEW_AREA)
    await expect(mask.get_by_role("status")).to_have_text(re.compile(r"^4 corners"))
    await mask.get_by_role("button", name="Close the area").click()
    await expect(areas).to_have_count(2)
    await expect(mask).to_have_attribute("data-changed", "true")
    assert image_puts(requests) == []  # nothing is sent before Save
    await mask.get_by_role("button", name="Save").click()
    await eventually(lambda: len(stage(served, "privacy_mask").options["areas"]) == 2)
    _, _, shown_width, shown_height = await picture_box(page)
    saved = stage(served, "privacy_mask").options["areas"]
    assert saved[0] == SAVED_AREA
    assert_close(saved[1], NEW_AREA, (shown_width, shown_height))
    assert status_image(served)["privacy_mask"]["options"]["areas"] == saved
    # Only what changed was sent: the switch, set through the control, is not put back.
    puts = [r for r in requests if r.method == "PUT" and "/image/" in r.url]
    assert puts[-1].url.endswith("/api/channels/front/image/privacy_mask")
    assert puts[-1].post_data_json == {"options": {"areas": saved}}
    assert stage(served, "privacy_mask").enabled is True
    await expect(mask).to_have_attribute("data-changed", "false")
    await expect(overlay.locator("polygon.mask-area.unsaved")).to_have_count(0)

    # Escape drops the area being drawn; the panel stays open.
    await mask.get_by_role("button", name="Draw an area").click()
    await expect(mask.get_by_role("button", name="Cancel drawing")).to_be_focused()
    await click_corners(page, BOW_TIE[:2])
    await page.keyboard.press("Escape")
    await expect(overlay.locator("circle.mask-corner")).to_have_count(0)
    await expect(overlay).not_to_have_class(re.compile(r"\bdrawing\b"))
    await expect(areas).to_have_count(2)
    await expect(panel).to_be_visible()

    # A polygon whose edges cross (closed by clicking its first corner again): the API
    # refuses it, the page says why, nothing changes.
    await mask.get_by_role("button", name="Draw an area").click()
    await click_corners(page, BOW_TIE)
    left, top, width, height = await picture_box(page)
    await page.mouse.click(left + BOW_TIE[0][0] * width, top + BOW_TIE[0][1] * height)
    await expect(areas).to_have_count(3)
    await expect(overlay).not_to_have_class(re.compile(r"\bdrawing\b"))
    await mask.get_by_role("button", name="Save").click()
    error = mask.locator(".image-field[data-option='areas'] .control-error")
    await expect(error).to_have_text(re.compile(r"^Area 3: the polygon crosses itself"))
    assert len(image_puts(requests)) == 2
    assert stage(served, "privacy_mask").options["areas"] == saved
    await expect(areas).to_have_count(3)  # still there, unsaved, to be fixed or undone
    await expect(overlay.locator("polygon.mask-area.unsaved")).to_have_count(3)
    await mask.get_by_role("button", name="Undo changes").click()
    await expect(areas).to_have_count(2)
    await expect(error).to_be_hidden()

    # Delete one and save: the runtime keeps the other.
    await mask.get_by_role("button", name="Delete area 1").click()
    await expect(areas).to_have_count(1)
    await mask.get_by_role("button", name="Save").click()
    await eventually(lambda: len(stage(served, "privacy_mask").options["areas"]) == 1)
    assert stage(served, "privacy_mask").options["areas"] == [saved[1]]

    # The mask's form and the picture with its area, as shown.
    mask_png = await mask.screenshot()
    (tmp_path / "mask-form.png").write_bytes(mask_png)
    assert pixel_std(mask_png) > MIN_PIXEL_STD
    tile_png = await page.locator("#live-grid .tile[data-channel-id='front']").screenshot()
    (tmp_path / "mask-tile.png").write_bytes(tile_png)
    assert pixel_std(tile_png) > MIN_PIXEL_STD

    # Closing the panel takes the areas off the picture.
    await panel.get_by_role("button", name="Close settings").click()
    await expect(overlay).to_have_count(0)
    assert page_log.page_errors == []
    assert page_log.csp_violations == []
    assert page_log.foreign_requests == []


async def test_stage_options_and_the_api_s_errors_next_to_their_field(
    make_server: MakeServer, page: Page, page_log: PageLog, tmp_path: Path
) -> None:
    served = await make_server([image_channel()])
    panel = await open_settings(page, served, "front", "Front")
    osd = panel.get_by_role("form", name="OSD")

    # Inputs inferred from the values and hints: switch, text, select, lines, number.
    await expect(osd.get_by_role("switch", name="Show date")).not_to_be_checked()
    name = osd.get_by_role("textbox", name="Name")
    await expect(name).to_have_value("Front gate")
    await expect(osd.get_by_role("combobox", name="Font size")).to_have_value("32")
    await expect(osd.get_by_role("combobox", name="Alignment")).to_have_value("left")
    colour = osd.get_by_role("combobox", name="Color")
    await expect(colour).to_have_value("white")
    assert await colour.locator("option").evaluate_all("opts => opts.map(o => o.value)") == [
        "black",
        "white",
        "grey",
        "red",
        "green",
        "blue",
        "yellow",
    ]
    await expect(osd.get_by_role("textbox", name="Texts")).to_have_value("Gate")
    x = osd.get_by_role("spinbutton", name="X")
    await expect(x).to_have_value("0")
    await expect(x).to_have_attribute("max", "1")
    rotate = panel.get_by_role("form", name="Rotate")
    await expect(rotate.get_by_role("switch", name="Rotate enabled")).not_to_be_checked()
    await expect(rotate.get_by_role("combobox", name="Angle")).to_have_value("90")

    # A text, a select and the lines: saved together, the status follows.
    await name.fill("Back gate")
    await osd.get_by_role("combobox", name="Font size").select_option("48")
    await osd.get_by_role("textbox", name="Texts").fill("Gate\nYard")
    await osd.get_by_role("button", name="Save").click()
    await eventually(lambda: stage(served, "osd").options.get("name") == "Back gate")
    options = status_image(served)["osd"]["options"]
    assert options["name"] == "Back gate"
    assert options["font_size"] == 48
    assert options["texts"] == ["Gate", "Yard"]
    await expect(osd).to_have_attribute("data-changed", "false")

    # Out of range: the API's error next to the field, the runtime and the status unchanged.
    await x.fill("1.5")
    await osd.get_by_role("button", name="Save").click()
    x_error = osd.locator(".image-field[data-option='x'] .control-error")
    await expect(x_error).to_have_text("Expected a number from 0 to 1")
    await expect(x).to_have_attribute("aria-invalid", "true")
    await expect(x).to_have_value("1.5")
    assert stage(served, "osd").options["x"] == 0
    assert status_image(served)["osd"]["options"]["x"] == 0
    await osd.get_by_role("button", name="Undo changes").click()
    await expect(x).to_have_value("0")
    await expect(x_error).to_be_hidden()

    # A change made on the runtime side reaches the open form.
    await served.runtime.set_stage("front", "rotate", enabled=True, options={"angle": 180})
    await expect(rotate.get_by_role("switch", name="Rotate enabled")).to_be_checked()
    await expect(rotate.get_by_role("combobox", name="Angle")).to_have_value("180")

    # Streams: main, encoded (a synthetic scene), and a URL to play it.
    streams = panel.locator("#streams-table")
    main = streams.locator("tr.stream-row[data-role='main']")
    await expect(main.locator(".stream-mode")).to_have_text("encoded")
    await expect(main.locator(".stream-size")).to_have_text(re.compile(r"^\d+ x \d+$"))
    await main.get_by_role("button", name="URL of the main stream").click()
    url = panel.get_by_role("textbox", name="Play URL of the main stream")
    pattern = rf"^{re.escape(served.url)}api/channels/front/streams/main\.ts\?access=\S+$"
    await expect(url).to_have_value(re.compile(pattern))

    panel_png = await panel.screenshot()
    (tmp_path / "image-settings.png").write_bytes(panel_png)
    shutil.copyfile(tmp_path / "image-settings.png", SCREENSHOT_COPY)
    assert pixel_std(panel_png) > MIN_PIXEL_STD
    assert page_log.page_errors == []
    assert page_log.csp_violations == []


async def test_a_user_level_session_sees_the_image_settings_read_only(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server([image_channel()], users={"viewer": "user"})
    await page.goto(served.url)
    await page.get_by_label("User name").fill("viewer")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Settings of Front").click()
    panel = page.locator("#controls-panel")
    forms = panel.locator("#image-forms form.image-stage")
    await expect(forms).to_have_count(3)
    fields = forms.locator("input, select, textarea, button")
    count = await fields.count()
    assert count > 10
    for index in range(count):
        await expect(fields.nth(index)).to_be_disabled()
    # The areas are still shown over the picture, and the streams with their URL.
    overlay = page.locator("#live-grid .tile[data-channel-id='front'] svg.mask-overlay")
    await expect(overlay.locator("polygon.mask-area")).to_have_count(1)
    await panel.get_by_role("button", name="URL of the main stream").click()
    url = panel.get_by_role("textbox", name="Play URL of the main stream")
    await expect(url).to_have_value(re.compile(r"/streams/main\.ts\?access="))
    assert page_log.page_errors == []


def _checks(validator: Any) -> dict[str, Any]:
    """The choices (``vol.In``) and range (``vol.Range``) a validator makes, through ``All``."""
    if isinstance(validator, vol.All):
        found: dict[str, Any] = {}
        for inner in validator.validators:
            found.update(_checks(inner))
        return found
    if isinstance(validator, vol.In):
        return {"options": sorted(validator.container, key=str)}
    if isinstance(validator, vol.Range):
        return {"min": validator.min, "max": validator.max}
    return {}


def _stage_options() -> dict[tuple[str, str], dict[str, Any]]:
    """Every built-in image stage's options and what their schema checks."""
    found = {}
    for kind, cls in build_plugins()[1].classes["image_stage"].items():
        schema = cls.CONFIG_SCHEMA.schema
        while isinstance(schema, vol.All):  # a whole-options check around the keys
            schema = next(v.schema for v in schema.validators if isinstance(v, vol.Schema))
        for key, validator in schema.items():
            found[(kind, str(key))] = _checks(validator)
    return found


async def test_the_page_s_hints_match_the_stages_schemas(
    make_server: MakeServer, page: Page
) -> None:
    """The status has values, not schemas: the page's hints (choices, ranges) are checked here
    against the stages' own schemas, so a changed schema cannot leave the page behind."""
    served = await make_server([image_channel()])
    await page.goto(served.url)
    options = _stage_options()
    assert len(options) > 20
    hints = await page.evaluate(
        """async (keys) => {
          const fields = await import("/static/image-fields.js");
          return keys.map(([kind, name]) => fields.hintFor(kind, name));
        }""",
        [list(key) for key in options],
    )
    compared = 0
    for (kind, name), checks, hint in zip(options, options.values(), hints, strict=True):
        where = f"{kind}.{name}"
        if "options" in checks or "options" in hint:
            assert sorted(hint.get("options", []), key=str) == checks.get("options"), where
            compared += 1
        if "min" in checks:
            assert (hint.get("min"), hint.get("max")) == (checks["min"], checks["max"]), where
            compared += 1
    assert compared >= 15
