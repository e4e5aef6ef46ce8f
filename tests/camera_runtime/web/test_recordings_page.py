"""The recordings panel in a real headless Chromium against a real runtime recording a file
source: the day's timeline shows the recorded segments and the event marks, a click on it
plays the recording in the page (the video's time advances, from the clicked segment), a
segment shows its thumbnail and downloads, a time range exports as one MPEG-TS file, picture
search finds the timing captures as thumbnails to open or download, and the storage status is
shown; no CSP violation, no page error."""

from __future__ import annotations

import time
from pathlib import Path

import av
import pytest
from playwright.async_api import Page, expect

from camera_runtime.model import Event, EventPhase, EventUpdate
from tests.polling import eventually

from ..api.test_streams import make_ts
from .conftest import MakeServer, PageLog
from .test_web_ui import sign_in

pytestmark = pytest.mark.browser

#: The page's video plays: its time advanced past ``since`` and it is not paused.
PLAYING = """(since) => {
  const video = document.querySelector('#rec-video');
  return video !== null && !video.hidden && !video.paused && video.videoWidth > 0
    && video.currentTime > since;
}"""

IMG_READY = """(selector) => {
  const img = document.querySelector(selector);
  return img !== null && img.complete && img.naturalWidth > 0;
}"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("web-rec") / "main.ts", (320, 240))


async def test_timeline_export_pictures_and_storage(
    make_server: MakeServer, page: Page, page_log: PageLog, clip: Path, tmp_path: Path
) -> None:
    channel = {
        "id": "cam1",
        "name": "Yard",
        "source": {"type": "file", "path": str(clip), "loop": True},
        "record": {"enabled": True, "segment_length": 1},
        "capture": {"timing": {"enabled": True, "interval": 1}, "resolution": "160x120"},
    }
    served = await make_server([channel])
    runtime = served.runtime
    await eventually(lambda: runtime.recordings.recorders["cam1"].segments_written >= 3, 30)
    await eventually(lambda: runtime.capture_plans.status("cam1")["taken"] >= 1, 30)
    runtime.bus.publish(EventUpdate(EventPhase.NEW, Event("cam1", "motion", time.time() - 1)))
    await runtime.history.flush()

    await page.goto(served.url)
    await sign_in(page)
    panel = page.locator("#recordings-panel")
    await expect(panel).to_be_visible()
    await page.locator("#recordings-panel summary").click()  # closed until opened
    await expect(page.locator("#rec-channel")).to_have_value("cam1")
    await page.get_by_role("button", name="Search", exact=True).click()
    await expect(page.locator(".rec-event[data-type='motion']")).to_have_count(1)
    assert await page.locator(".rec-segment").count() >= 3
    await expect(page.locator("#rec-storage")).to_contain_text("overwrite on")

    # A segment: its thumbnail, its download.
    first_id = await page.locator("#rec-segment-list option").first.get_attribute("value")
    await page.locator("#rec-segment-list").select_option(first_id)
    await page.wait_for_function(IMG_READY, arg="#rec-thumb")
    href = await page.locator("#rec-download").get_attribute("href")
    assert href == f"/api/recordings/{first_id}.ts"
    # A click on the timeline picks the segment nearest that time (at the day's end: the
    # newest, unless the test runs across midnight).
    box = await page.locator("#rec-timeline").bounding_box()
    assert box is not None
    await page.locator("#rec-timeline").click(position={"x": box["width"] - 1, "y": 5})
    newest = await page.locator("#rec-segment-list option").last.get_attribute("value")
    assert newest != first_id
    await expect(page.locator("#rec-segment-list")).to_have_value(newest or "")
    await expect(page.locator("#rec-download")).to_have_attribute(
        "href", f"/api/recordings/{newest}.ts"
    )
    # Playback in the page: the click plays the newest segment from its start (the end of the
    # day is past it); its time advances, so Chromium decodes the remuxed MP4.
    await page.wait_for_function(PLAYING, arg=0.3, timeout=20_000)
    src = await page.locator("#rec-video").get_attribute("src")
    assert src is not None and src.startswith("/api/channels/cam1/playback.mp4?")
    # The first segment, from its list: the video's source changes and plays again.
    await page.locator("#rec-segment-list").select_option(first_id)
    await page.wait_for_function(
        "(old) => document.querySelector('#rec-video').src.indexOf(old) < 0", arg=src
    )
    await page.wait_for_function(PLAYING, arg=0.3, timeout=20_000)
    width = await page.evaluate("document.querySelector('#rec-video').videoWidth")
    assert width == 320
    await expect(page.locator("#rec-storage")).to_contain_text("Storage normal")

    # Export: the segment's range as one file that plays from a keyframe.
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Export clip").click()
    download = await waiting.value
    saved = tmp_path / "export.ts"
    await download.save_as(saved)
    with av.open(str(saved)) as container:
        first = next(p for p in container.demux(video=0) if p.size)
    assert first.is_keyframe

    # A bad range is refused in the page.
    await page.locator("#rec-to").fill("00:00:00")
    await page.get_by_role("button", name="Export clip").click()
    await expect(page.locator("#rec-error")).to_contain_text("later end")

    # Picture search: the timing captures, decoded.
    await page.locator("#pic-reason").fill("timing")
    await page.get_by_role("button", name="Search pictures").click()
    await expect(page.locator("#pic-results figure").first).to_be_visible()
    await page.wait_for_function(IMG_READY, arg="#pic-results img")
    await expect(page.locator("#pic-results figcaption").first).to_contain_text("timing")
    thumb = await page.locator("#pic-results img").first.get_attribute("src")
    assert thumb is not None and thumb.endswith("/thumbnail.jpg?width=160")
    assert await page.locator("#pic-results img").first.evaluate("i => i.naturalWidth") == 160
    link = page.locator("#pic-results a.pic-download").first
    assert (await link.get_attribute("href") or "").endswith(".jpg")
    async with page.expect_download() as saving:
        await link.click()
    assert (await (await saving.value).path()).read_bytes()[:2] == b"\xff\xd8"
    # By type, in a time of day with none: nothing.
    await page.locator("#pic-reason").fill("")
    await page.locator("#pic-type").select_option("manual")
    await page.get_by_role("button", name="Search pictures").click()
    await expect(page.locator("#pic-count")).to_have_text("0 picture(s)")
    await page.locator("#pic-reason").fill("../bad")
    await page.get_by_role("button", name="Search pictures").click()
    await expect(page.locator("#pic-error")).to_be_visible()

    assert page_log.csp_violations == [] and page_log.page_errors == []
    assert page_log.foreign_requests == []
