"""A smart event rule's weekly arming schedule edited in the rules panel, in a real headless
Chromium, real runtime, real API.

"Weekly schedule" starts from every day armed all day; a day is cleared, a period drawn by
dragging on the day's bar and another typed, and the day copied to other days ("Copy to…").
A period the API would refuse is shown under its day with the API's own words, and nothing is
sent; once fixed, Save sends the rule with its schedule, the runtime has it, and the panel
shows it again. "Always armed" removes the schedule.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from playwright.async_api import Locator, Page, Request, expect

from camera_runtime.exceptions import ConfigError
from tests.polling import eventually

from .conftest import MakeServer, PageLog
from .test_smart_rules import detector_puts, rules, rules_channel, rules_panel
from .test_web_ui import sign_in

pytestmark = pytest.mark.browser

ALL_DAY = ["00:00-24:00"]


async def armed_hours(bar: Locator) -> list[int]:
    """The hours a day's bar shows armed, read from its screenshot: those whose middle
    column is the periods' green."""
    png = await bar.screenshot()
    picture = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None
    row = picture[picture.shape[0] // 2].astype(int)
    width = picture.shape[1]
    green = [(b, g, r) for b, g, r in row[[int((h + 0.5) * width / 24) for h in range(24)]]]
    return [h for h, (b, g, r) in enumerate(green) if g > 150 and r < 120 and b < 120]


async def drag_on_bar(page: Page, bar: Locator, start_hour: float, end_hour: float) -> None:
    box = await bar.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    await page.mouse.move(box["x"] + box["width"] * start_hour / 24, y)
    await page.mouse.down()
    await page.mouse.move(box["x"] + box["width"] * end_hour / 24, y, steps=5)
    await page.mouse.up()


async def test_a_rule_s_weekly_schedule_is_drawn_copied_checked_and_saved(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    served, panel = await rules_panel(make_server, page)
    regions = panel.get_by_role("form", name="Intrusion rules")
    await regions.locator(".rules-pick").click()
    mode = regions.get_by_role("combobox", name="Arming schedule")
    await expect(mode).to_have_value("always")
    await expect(regions.locator(".schedule-day")).to_have_count(0)

    # a weekly schedule starts as "always": every day armed all day
    await mode.select_option("weekly")
    await expect(regions.locator(".schedule-day")).to_have_count(7)
    await expect(regions.get_by_role("textbox", name="Sunday period 1")).to_have_value(
        "00:00-24:00"
    )
    monday = regions.locator(".schedule-day[data-day='monday']")
    await monday.get_by_role("button", name="Clear Monday").click()
    await expect(monday.locator(".schedule-block")).to_have_count(0)

    # drawn on the bar (to the half hour), then a second one typed
    await drag_on_bar(page, monday.locator(".schedule-bar"), 8.0, 12.0)
    await expect(regions.get_by_role("textbox", name="Monday period 1")).to_have_value(
        "08:00-12:00"
    )
    await expect(monday.locator(".schedule-block")).to_have_count(1)
    await monday.get_by_role("button", name="Add a Monday period").click()
    second = regions.get_by_role("textbox", name="Monday period 2")
    await expect(second).to_be_focused()
    await second.fill("13:00-17:30")
    await second.press("Tab")
    await expect(monday.locator(".schedule-block")).to_have_count(2)
    # a drawn period that overlaps one joins it
    await drag_on_bar(page, monday.locator(".schedule-bar"), 16.0, 19.0)
    await expect(regions.get_by_role("textbox", name="Monday period 2")).to_have_value(
        "13:00-19:00"
    )

    assert await armed_hours(monday.locator(".schedule-bar")) == [8, 9, 10, 11, *range(13, 19)]

    # "Copy to…" Tuesday and Friday
    await monday.get_by_role("button", name="Copy Monday to…").click()
    await monday.get_by_role("checkbox", name="Tuesday").check()
    await monday.get_by_role("checkbox", name="Friday").check()
    await monday.get_by_role("button", name="Copy Monday's periods").click()
    for day in ("Tuesday", "Friday"):
        await expect(regions.get_by_role("textbox", name=f"{day} period 2")).to_have_value(
            "13:00-19:00"
        )

    # a period the API refuses: its words under the day, and nothing is sent
    sunday = regions.get_by_role("textbox", name="Sunday period 1")
    await sunday.fill("18:00-08:00")
    await sunday.press("Tab")
    message = "period '18:00-08:00' ends before it starts"
    error = regions.locator(".schedule-day[data-day='sunday'] .schedule-error")
    await expect(error).to_have_text(message[0].upper() + message[1:])
    puts = len(detector_puts(requests))
    await regions.get_by_role("button", name="Save", exact=True).click()
    await expect(regions.locator(".rules-item[data-index='0'] .rules-error")).to_have_text(
        f"Arming schedule sunday: {message}"
    )
    assert len(detector_puts(requests)) == puts
    lawn = rules(served, "intrusion")[0]
    assert "arming_schedule" not in lawn
    with pytest.raises(ConfigError) as refused:  # the API's check, with the same words
        await served.runtime.set_detector(
            "front",
            "intrusion",
            options={"rules": [{**lawn, "arming_schedule": {"sunday": ["18:00-08:00"]}}]},
        )
    assert any(
        line.endswith(f"rules[0].arming_schedule.sunday: {message}")
        for line in refused.value.errors
    ), refused.value.errors

    # fixed (no armed period on Sunday), saved
    await (
        regions.locator(".schedule-day[data-day='sunday']")
        .get_by_role("button", name="Clear Sunday")
        .click()
    )
    await expect(error).to_have_count(0)
    await regions.get_by_role("button", name="Save", exact=True).click()
    await eventually(lambda: "arming_schedule" in rules(served, "intrusion")[0])
    work = ["08:00-12:00", "13:00-19:00"]
    assert rules(served, "intrusion")[0]["arming_schedule"] == {
        "monday": work,
        "tuesday": work,
        "wednesday": ALL_DAY,
        "thursday": ALL_DAY,
        "friday": work,
        "saturday": ALL_DAY,
        "sunday": [],
    }
    await expect(regions).to_have_attribute("data-changed", "false")
    await expect(regions.get_by_role("textbox", name="Friday period 1")).to_have_value(
        "08:00-12:00"
    )
    await expect(regions.get_by_role("img", name="Sunday: not armed")).to_be_visible()

    # "Always armed" takes the schedule away
    await mode.select_option("always")
    await expect(regions.locator(".schedule-day")).to_have_count(0)
    await regions.get_by_role("button", name="Save", exact=True).click()
    await eventually(lambda: "arming_schedule" not in rules(served, "intrusion")[0])
    assert page_log.page_errors == []


async def test_a_user_level_session_sees_the_schedule_read_only(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    channel = rules_channel()
    lawn = channel["detectors"]["intrusion"]["rules"][0]
    lawn["arming_schedule"] = {"saturday": ["09:00-18:00"], "sunday": ["09:00-18:00"]}
    served = await make_server([channel], users={"viewer": "user"})
    await page.goto(served.url)
    await sign_in(page, user="viewer")
    await page.get_by_role("button", name="Settings of Front").click()
    regions = page.get_by_role("form", name="Intrusion rules")
    await regions.locator(".rules-pick").click()
    await expect(regions.get_by_role("combobox", name="Arming schedule")).to_have_value("weekly")
    await expect(regions.get_by_role("img", name="Monday: not armed")).to_be_visible()
    await expect(regions.get_by_role("img", name="Saturday: 09:00-18:00")).to_be_visible()
    schedule = regions.locator(".schedule")
    for control in await schedule.locator("input, select, button").all():
        await expect(control).to_be_disabled()
    # dragging on a day's bar draws nothing
    await drag_on_bar(page, schedule.locator(".schedule-bar").first, 8.0, 12.0)
    await expect(regions.get_by_role("img", name="Monday: not armed")).to_be_visible()
    assert page_log.page_errors == []
