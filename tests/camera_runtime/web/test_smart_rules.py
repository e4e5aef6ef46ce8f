"""Smart event rules drawn on the live picture, in a real headless Chromium, real runtime, real
API.

The settings panel lists each smart detector's rules and draws them on the channel's picture:
a line with its sides and direction arrows, a region, the selected rule's size boxes. A line
is drawn with two clicks, a region with a click per corner; points and box corners are
dragged. Nothing is sent before Save, which sends the detector's whole rules list; the runtime
has them and a reload shows them. The API's refusal is shown under the rule it names. A
user-level session sees the rules and cannot change them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, Request, expect

from tests.polling import eventually

from .conftest import MakeServer, PageLog, Served, synthetic_channel
from .test_controls import open_settings
from .test_image_settings import picture_box
from .test_web_ui import MIN_PIXEL_STD, pixel_std, sign_in

pytestmark = pytest.mark.browser

OVERLAY = "#live-grid .tile[data-channel-id='front'] svg.rules-overlay"
PATH_LINE = [[0.5, 0.95], [0.5, 0.58]]
LAWN = [[0.55, 0.58], [0.8, 0.58], [0.8, 0.98], [0.55, 0.98]]


def rules_channel() -> dict[str, Any]:
    channel = synthetic_channel("front", "Front", seed=1)
    channel["detectors"]["line_crossing"] = {"rules": [{"name": "path", "line": PATH_LINE}]}
    channel["detectors"]["intrusion"] = {
        "rules": [{"name": "lawn", "region": LAWN, "threshold": 3}]
    }
    return channel


async def rules_panel(make_server: MakeServer, page: Page) -> tuple[Served, Locator]:
    """A runtime with the rules channel, signed in, its settings panel open."""
    served = await make_server([rules_channel()])
    return served, await open_settings(page, served, "front", "Front")


def rules(served: Served, kind: str) -> list[dict[str, Any]]:
    options = served.runtime.channel_status("front")["detectors"][kind]["options"]
    return list(options["rules"])


def detector_puts(requests: list[Request]) -> list[Request]:
    return [r for r in requests if r.method == "PUT" and "/detectors/" in r.url]


async def click_at(page: Page, points: list[tuple[float, float]]) -> None:
    """Click these places of the picture (fractions of its width and height)."""
    left, top, width, height = await picture_box(page)
    for x, y in points:
        await page.mouse.click(left + x * width, top + y * height)


async def drag(page: Page, handle: Locator, to: tuple[float, float]) -> None:
    """Drag a handle on the overlay to a place of the picture (fractions)."""
    box = await handle.bounding_box()
    assert box is not None
    left, top, width, height = await picture_box(page)
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()
    await page.mouse.move(left + to[0] * width, top + to[1] * height, steps=4)
    await page.mouse.up()


def near(point: list[float], expected: tuple[float, float], shown_width: float) -> bool:
    """Within two screen pixels of where the test clicked."""
    return all(abs(a - b) * shown_width <= 2 for a, b in zip(point, expected, strict=True))


async def test_a_line_and_a_region_are_drawn_saved_and_shown_again(
    make_server: MakeServer, page: Page, page_log: PageLog, tmp_path: Path
) -> None:
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    served, panel = await rules_panel(make_server, page)
    lines = panel.get_by_role("form", name="Line crossing rules")
    regions = panel.get_by_role("form", name="Intrusion rules")
    await expect(lines.locator(".rules-item")).to_have_count(1)
    await expect(lines.locator(".rules-pick")).to_have_text("path · line A<->B")
    await expect(regions.locator(".rules-pick")).to_have_text("lawn · region")
    await expect(lines.locator(".rules-state")).to_have_text("on")
    overlay = page.locator(OVERLAY)
    await expect(overlay.locator("line.rules-line")).to_have_count(1)
    await expect(overlay.locator("polygon.rules-region")).to_have_count(1)
    await expect(overlay.locator("text.rules-side")).to_have_text(["A", "B"])
    # Both directions watched: an arrow head at each side.
    await expect(overlay.locator("polyline.rules-arrow")).to_have_count(2)

    # A new line: two clicks; then only A->B, so one arrow head for it.
    _, _, shown_width, _ = await picture_box(page)
    await lines.get_by_role("button", name="Add a rule").click()
    await click_at(page, [(0.1, 0.3), (0.4, 0.3)])
    await expect(lines.locator(".rules-item")).to_have_count(2)
    await lines.get_by_role("combobox", name="Direction").select_option("A->B")
    await lines.get_by_role("textbox", name="Rule name").fill("fence")
    await lines.get_by_role("textbox", name="Rule name").press("Tab")
    await expect(lines.get_by_role("combobox", name="Direction")).to_be_focused()
    await expect(overlay.locator("line.rules-line")).to_have_count(2)
    await expect(overlay.locator("line.rules-arrow[data-direction='A->B']")).to_have_count(1)
    await expect(overlay.locator("polyline.rules-arrow")).to_have_count(3)
    # Drag its second point lower.
    await drag(
        page,
        overlay.locator("circle.rules-handle.point[data-kind='line_crossing']").nth(1),
        (0.4, 0.45),
    )
    await expect(overlay.locator("line.rules-line.unsaved")).to_have_count(2)
    assert detector_puts(requests) == []  # nothing is sent before Save

    await lines.get_by_role("button", name="Save", exact=True).click()
    await eventually(lambda: len(rules(served, "line_crossing")) == 2)
    sent = detector_puts(requests)[-1]
    assert sent.url.endswith("/api/channels/front/detectors/line_crossing")
    body = sent.post_data_json
    assert set(body) == {"options"} and set(body["options"]) == {"rules"}
    saved = rules(served, "line_crossing")
    assert saved[0]["line"] == PATH_LINE and saved[0]["name"] == "path"
    assert saved[1]["name"] == "fence" and saved[1]["direction"] == "A->B"
    assert near(saved[1]["line"][0], (0.1, 0.3), shown_width)
    assert near(saved[1]["line"][1], (0.4, 0.45), shown_width)
    await expect(lines).to_have_attribute("data-changed", "false")

    # A new region: four corners and "Close the region"; its max size box made smaller.
    corners = [(0.1, 0.6), (0.3, 0.6), (0.3, 0.9), (0.1, 0.9)]
    await regions.get_by_role("button", name="Add a rule").click()
    await click_at(page, corners)
    await expect(overlay.locator("circle.rules-corner")).to_have_count(4)
    await regions.get_by_role("button", name="Close the region").click()
    await expect(overlay.locator("polygon.rules-region")).to_have_count(2)
    await drag(page, overlay.locator("circle.rules-handle.size[data-target='max']"), (0.75, 0.8))
    await expect(regions.locator(".rules-size")).to_contain_text("max 50% x 60%")
    await regions.get_by_role("button", name="Save", exact=True).click()
    await eventually(lambda: len(rules(served, "intrusion")) == 2)
    region = rules(served, "intrusion")[1]
    assert all(near(p, c, shown_width) for p, c in zip(region["region"], corners, strict=True))
    assert region["name"] == "region_2" and region["threshold"] == 3  # as the first's
    assert abs(region["size_filter"]["max"][0] - 0.5) < 0.02
    assert abs(region["size_filter"]["max"][1] - 0.6) < 0.02
    assert rules(served, "intrusion")[0]["region"] == LAWN

    # A reload shows them all where they were saved.
    await page.reload()
    await page.get_by_role("button", name="Settings of Front").click()
    await expect(lines.locator(".rules-pick")).to_have_text(
        ["path · line A<->B", "fence · line A->B"]
    )
    await expect(regions.locator(".rules-pick")).to_have_text(
        ["lawn · region", "region_2 · region"]
    )
    await expect(overlay.locator("line.rules-line")).to_have_count(2)
    await expect(overlay.locator("polygon.rules-region")).to_have_count(2)
    tile_png = await page.locator("#live-grid .tile[data-channel-id='front']").screenshot()
    (tmp_path / "rules-tile.png").write_bytes(tile_png)
    panel_png = await panel.locator("#rules-group").screenshot()
    (tmp_path / "rules-panel.png").write_bytes(panel_png)
    assert pixel_std(tile_png) > MIN_PIXEL_STD

    # The keyboard moves a point too (1% of the picture an arrow), and stays on it.
    await lines.get_by_role("button", name="path · line A<->B").click()
    await expect(lines.get_by_role("button", name="path · line A<->B")).to_be_focused()
    point = overlay.get_by_role("img", name="Point 1 of path: drag it, or use the arrows")
    await point.focus()
    await page.keyboard.press("ArrowRight")
    path = overlay.locator("line.rules-line[data-kind='line_crossing'][data-index='0']")
    await expect(path).to_have_attribute("x1", str(0.51 * 640))
    await expect(point).to_be_focused()
    await lines.get_by_role("button", name="Undo changes").click()
    await expect(path).to_have_attribute("x1", "320")

    # Delete the first and save: the runtime has one line again, and fence is still rule 2
    # (its events and entities keep their id).
    await lines.get_by_role("button", name="Delete path").click()
    await lines.get_by_role("button", name="Save", exact=True).click()
    await eventually(lambda: len(rules(served, "line_crossing")) == 1)
    assert [(r["id"], r["name"]) for r in rules(served, "line_crossing")] == [(2, "fence")]

    await panel.get_by_role("button", name="Close settings").click()
    await expect(page.locator("svg.rules-overlay")).to_have_count(0)
    assert page_log.page_errors == []
    assert page_log.csp_violations == []
    assert page_log.foreign_requests == []


async def test_a_refused_rule_shows_the_apis_error_under_it(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served, panel = await rules_panel(make_server, page)
    lines = panel.get_by_role("form", name="Line crossing rules")
    # A line whose two points are one: the detector's schema refuses it.
    await lines.get_by_role("button", name="Add a rule").click()
    await click_at(page, [(0.3, 0.3), (0.3, 0.3)])
    await expect(lines.locator(".rules-item")).to_have_count(2)
    await lines.get_by_role("button", name="Save", exact=True).click()
    error = lines.locator(".rules-item[data-index='1'] .rules-error")
    await expect(error).to_have_text("Line: the line's two points are the same point")
    assert rules(served, "line_crossing")[0]["line"] == PATH_LINE
    assert len(rules(served, "line_crossing")) == 1

    # The rule's numbers are its detector's (none named by the page): a sensitivity over 100.
    await lines.get_by_role("button", name="Undo changes").click()
    await expect(error).to_have_count(0)
    sensitivity = lines.get_by_role("textbox", name="Sensitivity")
    await expect(sensitivity).to_have_value("50")
    await sensitivity.fill("150")
    await sensitivity.press("Tab")
    await lines.get_by_role("button", name="Save", exact=True).click()
    first = lines.locator(".rules-item[data-index='0'] .rules-error")
    await expect(first).to_have_text("Sensitivity: value must be at most 100")
    assert rules(served, "line_crossing")[0]["sensitivity"] == 50

    # A size filter whose minimum is larger than its maximum, on the first rule.
    await lines.get_by_role("button", name="Undo changes").click()
    await expect(first).to_have_count(0)
    overlay = page.locator(OVERLAY)
    await drag(page, overlay.locator("circle.rules-handle.size[data-target='max']"), (0.6, 0.6))
    await drag(page, overlay.locator("circle.rules-handle.size[data-target='min']"), (0.9, 0.9))
    await lines.get_by_role("button", name="Save", exact=True).click()
    await expect(first).to_have_text(
        "Size filter: the minimum size is larger than the maximum size"
    )
    assert rules(served, "line_crossing")[0]["size_filter"]["max"] == [1.0, 1.0]
    assert page_log.page_errors == []


async def test_a_user_level_session_sees_the_rules_read_only(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server([rules_channel()], users={"viewer": "user"})
    await page.goto(served.url)
    await sign_in(page, user="viewer")
    await page.get_by_role("button", name="Settings of Front").click()
    lines = page.get_by_role("form", name="Line crossing rules")
    await expect(lines.locator(".rules-pick")).to_have_text("path · line A<->B")
    for control in await lines.locator("input, select, button:not(.rules-pick)").all():
        await expect(control).to_be_disabled()
    overlay = page.locator(OVERLAY)
    await expect(overlay.locator("line.rules-line")).to_have_count(1)
    await expect(overlay.locator("rect.rules-size-box")).to_have_count(2)
    await expect(overlay.locator("circle.rules-handle")).to_have_count(0)
    assert rules(served, "line_crossing")[0]["line"] == PATH_LINE

    # Rules changed elsewhere (the API, Home Assistant) come with the channel's push.
    gate = {"name": "gate", "line": [[0.2, 0.2], [0.2, 0.8]], "direction": "B->A"}
    await served.runtime.set_detector(
        "front", "line_crossing", options={"rules": [{"name": "path", "line": PATH_LINE}, gate]}
    )
    await expect(lines.locator(".rules-pick")).to_have_text(
        ["path · line A<->B", "gate · line B->A"]
    )
    await expect(overlay.locator("line.rules-line")).to_have_count(2)
    assert page_log.page_errors == []


async def test_a_region_closes_on_its_first_corner_and_escape_drops_one(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served, panel = await rules_panel(make_server, page)
    regions = panel.get_by_role("form", name="Intrusion rules")
    overlay = page.locator(OVERLAY)

    # Escape while drawing: the rule being drawn is dropped, the panel stays open.
    await regions.get_by_role("button", name="Add a rule").click()
    await click_at(page, [(0.1, 0.1), (0.3, 0.1)])
    await expect(overlay.locator("circle.rules-corner")).to_have_count(2)
    await expect(regions.get_by_role("button", name="Cancel drawing")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(overlay.locator("circle.rules-corner")).to_have_count(0)
    await expect(panel).to_be_visible()
    await expect(regions.locator(".rules-item")).to_have_count(1)

    # A click on the first corner closes a region of three or more.
    corners = [(0.1, 0.1), (0.3, 0.1), (0.2, 0.4)]
    await regions.get_by_role("button", name="Add a rule").click()
    await click_at(page, [*corners, corners[0]])
    await expect(regions.locator(".rules-item")).to_have_count(2)
    await expect(overlay.locator("polygon.rules-region")).to_have_count(2)

    # Deleting every rule: the detector's schema wants at least one, shown above the buttons.
    await regions.get_by_role("button", name="Delete lawn").click()
    await regions.get_by_role("button", name="Delete Rule 1 (new)").click()
    await expect(regions.locator(".rules-item")).to_have_count(0)
    await regions.get_by_role("button", name="Save", exact=True).click()
    await expect(regions.locator(".image-form-error")).to_have_text("Give 1 to 4 rules")
    assert rules(served, "intrusion")[0]["region"] == LAWN
    assert page_log.page_errors == []
