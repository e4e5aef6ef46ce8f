"""PTZ on the live view in a real headless Chromium, real runtime, real API: the arrows move
the ePTZ window while pressed and stop on release; presets are saved, called, renamed and
deleted from the list; a patrol is saved and started; a pattern recorded and run; on the live
picture a click centres the point (3D positioning) and a box zooms; count pixel measures a
box; digital zoom enlarges the picture in the browser only; a user-level session cannot move."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.polling import eventually

from .conftest import PASSWORD, MakeServer, PageLog, Served, synthetic_channel
from .test_controls import open_settings
from .test_image_settings import HEIGHT, WIDTH, picture_box

pytestmark = pytest.mark.browser

TILE = "#live-grid .tile[data-channel-id='front']"


def eptz_channel() -> dict[str, Any]:
    channel = synthetic_channel("front", "Front", seed=1)
    channel["ptz"] = {"enabled": True}
    return channel


def ptz(served: Served) -> dict[str, Any]:
    return served.runtime.ptz_status("front")


async def at_picture(page: Page, x: float, y: float) -> tuple[float, float]:
    """The screen point of ``(x, y)`` (fractions of the picture)."""
    left, top, width, height = await picture_box(page)
    return left + x * width, top + y * height


async def drag(page: Page, a: tuple[float, float], b: tuple[float, float]) -> None:
    await page.mouse.move(*await at_picture(page, *a))
    await page.mouse.down()
    await page.mouse.move(*await at_picture(page, *b), steps=5)
    await page.mouse.up()


async def test_moves_presets_patrols_and_patterns(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server([eptz_channel()])
    panel = await open_settings(page, served, "front", "Front")
    section = panel.locator("#ptz-group")
    await expect(section).to_be_visible()

    # Zoom in while "Zoom in" is held, then pan right while "Pan right" is held.
    zoom_in = section.get_by_role("button", name="Zoom in")
    await zoom_in.hover()
    await page.mouse.down()
    await eventually(lambda: ptz(served)["zoom"] >= 2.0)
    await page.mouse.up()
    await eventually(lambda: not ptz(served)["moving"])
    right = section.get_by_role("button", name="Pan right")
    await right.hover()
    await page.mouse.down()
    await eventually(lambda: ptz(served)["pan"] > 0.55)
    await page.mouse.up()
    await eventually(lambda: not ptz(served)["moving"])
    saved = ptz(served)

    # Save it as preset 3 "Gate"; it shows in the list.
    await section.get_by_label("Preset number").fill("3")
    await section.get_by_label("Preset name", exact=True).fill("Gate")
    await section.get_by_role("button", name="Save preset").click()
    presets = section.get_by_role("list", name="Presets")
    await expect(presets.get_by_text("3: Gate")).to_be_visible()
    await served.runtime.ptz_absolute("front", {"pan": 0.3, "zoom": 3})
    await presets.get_by_role("button", name="Call preset 3").click()
    await eventually(lambda: ptz(served)["pan"] == pytest.approx(saved["pan"], abs=1e-4))
    await presets.get_by_label("New name of preset 3").fill("Drive")
    await presets.get_by_role("button", name="Rename preset 3").click()
    await expect(presets.get_by_text("3: Drive")).to_be_visible()
    # The declared preset select follows (a push of the channel's new controls).
    await expect(panel.locator(".control[data-key='ptz_preset']")).to_be_visible()

    # A patrol of presets 3 and 4.
    await served.runtime.save_preset("front", 4, "Yard")
    await section.get_by_label("Patrol number").fill("2")
    await section.get_by_label("Patrol presets").fill("3, 4")
    await section.get_by_role("button", name="Save patrol").click()
    patrols = section.get_by_role("list", name="Patrols")
    await expect(patrols.get_by_text("Patrol 2: presets 3, 4")).to_be_visible()
    await patrols.get_by_role("button", name="Start patrol 2").click()
    await eventually(lambda: ptz(served)["patrol"] == 2)
    await expect(section.locator("#ptz-where")).to_contain_text("patrol 2 running")
    await patrols.get_by_role("button", name="Stop patrol 2").click()
    await eventually(lambda: ptz(served)["patrol"] is None)

    # A pattern: record, move, save as 1, run.
    await section.get_by_role("button", name="Record pattern").click()
    await eventually(lambda: ptz(served)["recording"])
    await right.hover()
    await page.mouse.down()
    await eventually(lambda: ptz(served)["moving"])
    await page.mouse.up()
    await section.get_by_role("button", name="Save pattern").click()
    patterns = section.get_by_role("list", name="Patterns")
    await expect(patterns.get_by_text("Pattern 1:")).to_be_visible()
    await patterns.get_by_role("button", name="Run pattern 1").click()
    assert [p["number"] for p in ptz(served)["patterns"]] == [1]

    # A refusal is shown: a preset a patrol uses cannot be deleted.
    await presets.get_by_role("button", name="Delete preset 3").click()
    await expect(section.locator("#ptz-error")).to_contain_text("is in patrol 2")
    await patrols.get_by_role("button", name="Delete patrol 2").click()
    await expect(patrols.get_by_role("listitem")).to_have_count(0)
    await presets.get_by_role("button", name="Delete preset 3").click()
    await expect(presets.get_by_text("3: Drive")).to_have_count(0)
    assert page_log.csp_violations == [] and page_log.page_errors == []


async def test_picture_tools(make_server: MakeServer, page: Page, page_log: PageLog) -> None:
    served = await make_server([eptz_channel()])
    panel = await open_settings(page, served, "front", "Front")
    section = panel.locator("#ptz-group")
    await served.runtime.ptz_absolute("front", {"pan": 0.5, "tilt": 0.5, "zoom": 2})

    # 3D positioning: a click at 3/4 across the view centres that point (pan 0.5 + 0.25 / 2).
    await section.get_by_role("button", name="3D positioning").click()
    await expect(page.locator(f"{TILE} svg.ptz-overlay")).to_be_visible()
    await page.mouse.click(*await at_picture(page, 0.75, 0.5))
    await eventually(lambda: ptz(served)["pan"] == pytest.approx(0.625, abs=0.01))
    assert ptz(served)["tilt"] == pytest.approx(0.5, abs=0.01)
    # A box dragged towards the lower right over half the view zooms in twice.
    await drag(page, (0.25, 0.25), (0.75, 0.75))
    await eventually(lambda: ptz(served)["zoom"] == pytest.approx(4.0, rel=0.05))
    # Dragged towards the upper left, it zooms out.
    await drag(page, (0.75, 0.75), (0.25, 0.25))
    await eventually(lambda: ptz(served)["zoom"] == pytest.approx(2.0, rel=0.05))

    # Count pixel: a box over half the picture's width and a quarter of its height.
    await section.get_by_role("button", name="Count pixel").click()
    await drag(page, (0.1, 0.2), (0.6, 0.45))
    await expect(section.locator("#ptz-count")).to_have_text(f"{WIDTH // 2} x {HEIGHT // 4} pixels")

    # Digital zoom: the browser enlarges the box; the runtime's window does not move.
    before = ptz(served)
    await section.get_by_role("button", name="Digital zoom").click()
    await drag(page, (0.25, 0.25), (0.75, 0.75))
    # Twice, to the screen pixel the mouse lands on.
    await expect(page.locator(TILE)).to_have_attribute(
        "data-digital-zoom", re.compile(r"^(1\.9\d|2\.0\d)$")
    )
    await page.mouse.click(*await at_picture(page, 0.5, 0.5))
    await expect(page.locator(TILE)).not_to_have_attribute("data-digital-zoom", re.compile(".*"))
    after = ptz(served)
    assert (after["pan"], after["zoom"]) == (before["pan"], before["zoom"])
    await section.get_by_role("button", name="Digital zoom").click()  # pressed again: off
    await expect(page.locator(f"{TILE} svg.ptz-overlay")).to_have_count(0)
    assert page_log.csp_violations == [] and page_log.page_errors == []


async def test_a_user_level_session_cannot_move(
    make_server: MakeServer, page: Page, page_log: PageLog
) -> None:
    served = await make_server([eptz_channel()], users={"viewer": "user"})
    await served.runtime.save_preset("front", 1, "Door")
    await page.goto(served.url)
    await page.get_by_label("User name").fill("viewer")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Settings of Front").click()
    section = page.locator("#ptz-group")
    presets = section.get_by_role("list", name="Presets")
    await expect(presets.get_by_text("1: Door")).to_be_visible()
    for control in await section.locator("#ptz-only").locator("button, input").all():
        await expect(control).to_be_disabled()
    await expect(section.get_by_role("button", name="3D positioning")).to_be_disabled()
    # Looking is allowed: count pixel measures.
    await section.get_by_role("button", name="Count pixel").click()
    await page.wait_for_function(
        "(s) => { const i = document.querySelector(s); return i && i.naturalWidth > 0; }",
        arg=f"{TILE} img",
    )
    await drag(page, (0.0, 0.0), (0.5, 0.5))
    await expect(section.locator("#ptz-count")).to_have_text(f"{WIDTH // 2} x {HEIGHT // 2} pixels")
    assert ptz(served)["zoom"] == 1.0
    assert page_log.page_errors == []
