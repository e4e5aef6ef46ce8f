"""A channel's settings panel in a real headless Chromium against a real runtime and API server.

The panel is built only from the controls a channel declares in its status: the motion
detector's switch and sensitivity, the channel's arming switch and capture button, and the
controls of a detector that exists only in this file, with no change to the page. Setting a
control changes the runtime; a change made on the runtime side reaches the open panel over the
WebSocket (controls that go away leave the panel, new ones join it); values the API would
refuse are refused in the page, and the API's own refusals are shown with the field back at the
channel's real value. A user-level session sees everything read-only.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
import voluptuous as vol
from playwright.async_api import Locator, Page, Request, expect

from camera_runtime import capabilities, hookimpl
from camera_runtime.api.routes import STATIC_DIR
from camera_runtime.capabilities import Control, EventTypeInfo
from camera_runtime.interfaces import Detector
from camera_runtime.model import Event, EventPhase
from tests.polling import eventually

from .conftest import PASSWORD, MakeServer, PageLog, Served, synthetic_channel
from .test_web_ui import MIN_PIXEL_STD, picture_decoded, pixel_std, sign_in

pytestmark = pytest.mark.browser

#: Lead's copy of the panel's screenshot.
SCREENSHOT_COPY = Path("/tmp/web-ui-controls.png")
PANEL = "#controls-panel"
#: The API's 507 message when the run-time settings cannot be written.
SAVE_REFUSED = re.compile(r"^Cannot save run-time settings\b")
CAPTURE_DECODED = """() => {
  const img = document.querySelector("#controls-panel .control[data-key='capture'] img");
  return img !== null && img.complete && img.naturalWidth > 0
    ? [img.naturalWidth, img.naturalHeight] : null;
}"""


# ---------------------------------------------------------------- a detector of this test only

TAMPER_SCHEMA = vol.Schema(
    {
        vol.Optional("sensitivity", default=5): vol.All(int, vol.Range(min=1, max=10)),
        vol.Optional("trigger", default="cover"): vol.In(["cover", "defocus", "turn_away"]),
    }
)


class TamperDetector(Detector):
    """Declares a tamper event, a sensitivity of 1 to 10 and a trigger choice; detects nothing."""

    kind: ClassVar[str] = "tamper"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = TAMPER_SCHEMA
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (
        EventTypeInfo("tamper", "Tamper", device_class="tamper"),
    )

    @classmethod
    def controls(cls, options: Mapping[str, Any]) -> tuple[Control, ...]:
        return (
            *super().controls(options),
            capabilities.number(
                "tamper_sensitivity", "Tamper sensitivity", "sensitivity", TAMPER_SCHEMA, unit="lvl"
            ),
            capabilities.select("tamper_trigger", "Tamper trigger", "trigger", TAMPER_SCHEMA),
        )

    def process(self, image: Any, timestamp: float) -> list[tuple[EventPhase, Event]]:
        return []


class TamperPlugin:
    @hookimpl
    def register_detectors(self, register: Any) -> None:
        register(TamperDetector)


# ---------------------------------------------------------------- helpers


async def open_settings(page: Page, served: Served, channel_id: str, name: str) -> Locator:
    """Sign in, wait for the channel's picture, open its settings from its tile."""
    await page.goto(served.url)
    await sign_in(page)
    await picture_decoded(page, channel_id)
    await page.get_by_role("button", name=f"Settings of {name}").click()
    panel = page.locator(PANEL)
    await expect(panel).to_be_visible()
    await expect(panel.locator("#controls-title")).to_have_text(name)
    return panel


async def keys_in(panel: Locator, group: str) -> list[str]:
    return await panel.locator(f"#controls-{group} .control").evaluate_all(
        "rows => rows.map(row => row.dataset.key)"
    )


def control_puts(requests: list[Request]) -> list[str]:
    return [r.url for r in requests if r.method == "PUT" and "/controls/" in r.url]


def motion(served: Served, channel_id: str = "front") -> Any:
    return served.runtime.channels[channel_id].detectors["motion"]


# ---------------------------------------------------------------- tests


async def test_panel_sets_the_runtime_and_follows_it_live(
    make_server: MakeServer, page: Page, page_log: PageLog, tmp_path: Path
) -> None:
    served = await make_server([synthetic_channel("front", "Front", seed=1)])
    runtime = served.runtime
    await page.goto(served.url)
    await sign_in(page)
    await picture_decoded(page, "front")
    await page.evaluate("window.__sameDocument = true")

    # Opened from the keyboard; the focus lands in the panel.
    settings = page.get_by_role("button", name="Settings of Front")
    await settings.focus()
    await page.keyboard.press("Enter")
    panel = page.get_by_role("region", name="Channel settings Front")
    await expect(panel).to_be_visible()
    await expect(settings).to_have_attribute("aria-expanded", "true")
    await expect(page.locator("#controls-title")).to_be_focused()

    # Main controls first, then the settings, each labelled from its declaration.
    assert await keys_in(panel, "main") == ["arming", "capture"]
    assert await keys_in(panel, "config") == [
        "display_info",
        "motion_detection",
        "motion_sensitivity",
    ]
    arming = panel.get_by_role("switch", name="Arming")
    detection = panel.get_by_role("switch", name="Motion detection")
    slider = panel.get_by_role("slider", name="Motion sensitivity")
    number = panel.get_by_role("spinbutton", name="Motion sensitivity")
    capture = panel.get_by_role("button", name="Capture picture")
    await expect(arming).to_be_checked()
    await expect(detection).to_be_checked()
    for field in (slider, number):
        await expect(field).to_have_attribute("min", "0")
        await expect(field).to_have_attribute("max", "100")
        await expect(field).to_have_attribute("step", "1")
        await expect(field).to_have_value("80")
    await expect(capture).to_be_enabled()

    # The switches, by keyboard: Tab from the heading to the close button, then the arming
    # switch, which Space toggles.
    await page.keyboard.press("Tab")
    await expect(panel.get_by_role("button", name="Close settings")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(arming).to_be_focused()
    await page.keyboard.press("Space")
    await eventually(lambda: runtime.channels["front"].armed is False)
    await expect(arming).not_to_be_checked()
    await detection.click()
    await eventually(lambda: motion(served).enabled is False)
    await expect(detection).not_to_be_checked()
    await detection.click()
    await eventually(lambda: motion(served).enabled is True)

    # The number: typed (Enter sends), then stepped with the slider's arrow keys.
    await number.fill("35")
    await number.press("Enter")
    await eventually(lambda: motion(served).options["sensitivity"] == 35)
    await expect(slider).to_have_value("35")
    await slider.focus()
    await page.keyboard.press("ArrowRight")
    await eventually(lambda: motion(served).options["sensitivity"] == 36)
    await expect(number).to_have_value("36")

    # Capture: the picture taken is shown and links to the capture.
    await capture.click()
    size = await page.wait_for_function(CAPTURE_DECODED, timeout=20_000)
    assert await size.json_value() == [640, 360]
    link = panel.locator(".control[data-key='capture'] a")
    href = await link.get_attribute("href")
    found = re.fullmatch(r"/api/captures/([^/]+)\.jpg", href or "")
    assert found is not None, href
    assert runtime.capture_file(found[1]).stat().st_size > 0
    picture_png = await panel.locator(".control[data-key='capture'] img").screenshot()
    assert pixel_std(picture_png) > MIN_PIXEL_STD, "the captured picture is blank"

    # The panel as shown: visible, not blank.
    panel_png = await panel.screenshot()
    (tmp_path / "controls.png").write_bytes(panel_png)
    shutil.copyfile(tmp_path / "controls.png", SCREENSHOT_COPY)
    box = await panel.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 300
    assert pixel_std(panel_png) > MIN_PIXEL_STD

    # Changed on the runtime side (Home Assistant, MQTT): the panel follows, no reload.
    await runtime.set_armed("front", True)
    await expect(arming).to_be_checked()
    await runtime.set_control("front", "motion_sensitivity", 70)
    await expect(number).to_have_value("70")
    await expect(slider).to_have_value("70")
    await runtime.set_control("front", "motion_detection", False)
    await expect(detection).not_to_be_checked()

    # Expert mode drops the single sensitivity: its field goes (the keyboard, which was on it,
    # stays in the panel); back to normal, it comes back.
    await number.focus()
    await runtime.set_detector("front", "motion", options={"mode": "expert"})
    await expect(panel.locator(".control[data-key='motion_sensitivity']")).to_have_count(0)
    assert await keys_in(panel, "config") == ["display_info", "motion_detection"]
    await expect(page.locator("#controls-title")).to_be_focused()
    await runtime.set_detector("front", "motion", options={"mode": "normal", "sensitivity": 55})
    await expect(number).to_have_value("55")
    assert await keys_in(panel, "config") == [
        "display_info",
        "motion_detection",
        "motion_sensitivity",
    ]
    assert await page.evaluate("window.__sameDocument") is True

    # Escape closes the panel and gives the keyboard back to the tile's button.
    await number.focus()
    await page.keyboard.press("Escape")
    await expect(panel).to_be_hidden()
    await expect(settings).to_be_focused()
    await expect(settings).to_have_attribute("aria-expanded", "false")

    assert page_log.page_errors == []
    assert page_log.csp_violations == []
    assert page_log.foreign_requests == []


async def test_a_plugin_detector_gets_its_controls_with_no_page_change(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    porch = synthetic_channel("porch", "Porch", seed=4)
    porch["detectors"] = {"tamper": {"sensitivity": 3}}
    served = await make_server(
        [porch, synthetic_channel("front", "Front", seed=1)], extra_plugins=[TamperPlugin()]
    )
    panel = await open_settings(page, served, "porch", "Porch")

    assert await keys_in(panel, "config") == [
        "display_info",
        "tamper_detection",
        "tamper_sensitivity",
        "tamper_trigger",
    ]
    await expect(panel.get_by_role("switch", name="Tamper detection")).to_be_checked()
    number = panel.get_by_role("spinbutton", name="Tamper sensitivity")
    slider = panel.get_by_role("slider", name="Tamper sensitivity")
    for field in (number, slider):  # the range is the detector's schema's
        await expect(field).to_have_attribute("min", "1")
        await expect(field).to_have_attribute("max", "10")
        await expect(field).to_have_value("3")
    await expect(
        panel.locator(".control[data-key='tamper_sensitivity'] .control-unit")
    ).to_have_text("lvl")
    trigger = panel.get_by_role("combobox", name="Tamper trigger")
    await expect(trigger).to_have_value("cover")
    options = await trigger.locator("option").evaluate_all("opts => opts.map(o => o.value)")
    assert options == ["cover", "defocus", "turn_away"]

    def tamper() -> Mapping[str, Any]:
        return served.runtime.channels["porch"].detectors["tamper"].options

    await trigger.select_option("turn_away")
    await eventually(lambda: tamper()["trigger"] == "turn_away")
    await number.fill("8")
    await number.press("Enter")
    await eventually(lambda: tamper()["sensitivity"] == 8)
    await expect(slider).to_have_value("8")

    # And from the runtime side.
    await served.runtime.set_control("porch", "tamper_trigger", "defocus")
    await expect(trigger).to_have_value("defocus")

    # Another channel's settings replace these: its own controls, none of the porch's.
    await page.get_by_role("button", name="Settings of Front").click()
    await expect(panel.locator("#controls-title")).to_have_text("Front")
    await expect(panel.locator(".control[data-key='motion_sensitivity']")).to_have_count(1)
    await expect(panel.locator(".control[data-detector='tamper']")).to_have_count(0)

    # The page names no control, detector or event type: all of the above came from the API.
    # (A rule's arming schedule, `arming_schedule`, is a key of the schema the page edits, as
    # `rules` is, not the channel's `arming` switch.)
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        named = r"motion|arming(?![ _]schedule)|tamper|sensitivity"
        assert not re.search(named, text, re.I), path.name
    assert page_log.page_errors == []
    assert page_log.csp_violations == []


async def test_refused_values_are_shown_and_the_field_goes_back(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server([synthetic_channel("front", "Front", seed=1)])
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    panel = await open_settings(page, served, "front", "Front")
    number = panel.get_by_role("spinbutton", name="Motion sensitivity")
    slider = panel.get_by_role("slider", name="Motion sensitivity")
    error = panel.locator(".control[data-key='motion_sensitivity'] .control-error")

    # Refused in the page, with the API's rule, and nothing is sent.
    for typed in ("150", "-1", "12.5", ""):
        await number.fill(typed)
        await number.press("Enter")
        await expect(error).to_be_visible()
        await expect(number).to_have_attribute("aria-invalid", "true")
        await expect(error).to_have_text(re.compile(r"whole number from 0 to 100"))
    assert control_puts(requests) == []
    assert motion(served).options["sensitivity"] == 80
    await expect(slider).to_have_value("80")
    # Escape while typing: back to the real value, the panel stays open.
    await page.keyboard.press("Escape")
    await expect(number).to_have_value("80")
    await expect(error).to_be_hidden()
    await expect(panel).to_be_visible()

    # The API refuses: the settings cannot be saved (the file's place is taken by a folder).
    overrides = served.runtime.data_dir / "overrides.json"
    assert not overrides.exists()
    overrides.mkdir()
    await number.fill("30")
    await number.press("Enter")
    await expect(error).to_have_text(SAVE_REFUSED)
    await expect(number).to_have_value("80")
    await expect(slider).to_have_value("80")
    assert len(control_puts(requests)) == 1
    assert motion(served).options["sensitivity"] == 80

    arming = panel.get_by_role("switch", name="Arming")
    await arming.click()
    arming_error = panel.locator(".control[data-key='arming'] .control-error")
    await expect(arming_error).to_have_text(SAVE_REFUSED)
    await expect(arming).to_be_checked()
    assert served.runtime.channels["front"].armed is True

    # Once it can save again, the same field works and its error goes.
    overrides.rmdir()
    await arming.click()
    await eventually(lambda: served.runtime.channels["front"].armed is False)
    await expect(arming_error).to_be_hidden()
    await expect(arming).not_to_be_checked()
    assert page_log.page_errors == []


async def test_a_user_level_session_sees_the_controls_read_only(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server(
        [synthetic_channel("front", "Front", seed=1)], users={"viewer": "user"}
    )
    await page.goto(served.url)
    await page.get_by_label("User name").fill("viewer")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Settings of Front").click()
    panel = page.locator(PANEL)
    await expect(panel.get_by_text("can see these settings but not change them")).to_be_visible()

    fields = panel.locator("input, select, .control button")
    # 3 switches, slider + number, the capture button; target cropping's switch and resolution.
    await expect(fields).to_have_count(8)
    for index in range(8):
        await expect(fields.nth(index)).to_be_disabled()
    await expect(panel.get_by_role("switch", name="Arming")).to_be_checked()
    await expect(panel.get_by_role("spinbutton", name="Motion sensitivity")).to_have_value("80")
    # Still live: an operator's change shows.
    await served.runtime.set_armed("front", False)
    await expect(panel.get_by_role("switch", name="Arming")).not_to_be_checked()
    assert page_log.page_errors == []
