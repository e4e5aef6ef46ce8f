"""The live view plays the camera's own H.264 in Chromium (Media Source Extensions over the
fragmented MP4 stream) when the server passes it through, and falls back to MJPEG when the
browser cannot play the codec (H.265 in this Chromium) or nothing is passed through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import pytest
from playwright.async_api import Page, expect

from tests.polling import eventually

from ...plugins.sources.helpers import ffmpeg
from .conftest import MakeServer, PageLog, Served, synthetic_channel
from .test_web_ui import LIVE_IMG, MIN_PIXEL_STD, picture_decoded, pixel_std, sign_in

pytestmark = pytest.mark.browser

W, H = 480, 270
LIVE_VIDEO = "#live-grid .tile[data-channel-id='{}'] video"
#: The video's size once it shows frames and its clock runs, else null.
VIDEO_PLAYING = """([selector, since]) => {
  const video = document.querySelector(selector);
  if (!video || video.hidden || video.videoWidth === 0 || video.currentTime <= since) return null;
  return [video.videoWidth, video.videoHeight, video.currentTime];
}"""


def make_clip(path: Path, codec: str, *extra: str) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate=25", "-t", "4",
        "-c:v", codec, "-g", "25", "-bf", "0", "-pix_fmt", "yuv420p", *extra, str(path),
    )  # fmt: skip
    return path


def file_channel(channel_id: str, path: Path) -> dict[str, Any]:
    return {"id": channel_id, "source": {"type": "file", "path": str(path), "loop": True}}


def clients(served: Served, channel_id: str, container: str) -> int:
    outputs = served.runtime.channels[channel_id].served.passthrough["main"]
    return outputs.container(container).clients


async def test_passed_through_h264_plays_as_video_without_mjpeg(
    make_server: MakeServer, page: Page, page_log: PageLog, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "h264.ts", "libx264", "-preset", "veryfast")
    served = await make_server([file_channel("door", clip)])
    await page.goto(served.url)
    await sign_in(page)
    await page.get_by_role("button", name="1x1").click()

    selector = LIVE_VIDEO.format("door")
    first = await (
        await page.wait_for_function(VIDEO_PLAYING, arg=[selector, 0], timeout=20_000)
    ).json_value()
    assert first[:2] == [W, H]
    # The clock goes on: frames keep coming, near the newest one.
    await page.wait_for_function(VIDEO_PLAYING, arg=[selector, first[2] + 1.0], timeout=20_000)
    assert await page.locator(LIVE_IMG.format("door")).is_hidden()
    png = await page.locator(selector).screenshot()
    assert pixel_std(png) > MIN_PIXEL_STD, "the live video is blank"
    # One fragmented MP4 client, and no MJPEG encoding on the server.
    await eventually(lambda: clients(served, "door", "mp4") == 1)
    assert served.runtime.channels["door"].live.viewers == 0

    # Leaving the page's live view (sign out) ends the stream on the server.
    await page.get_by_role("button", name="Sign out").click()
    await eventually(lambda: clients(served, "door", "mp4") == 0)
    assert page_log.page_errors == [] and page_log.csp_violations == []


async def test_what_the_browser_cannot_play_falls_back_to_mjpeg(
    make_server: MakeServer, page: Page, page_log: PageLog, tmp_path: Path
) -> None:
    if "libx265" not in av.codecs_available:
        pytest.skip("this FFmpeg has no libx265")
    clip = make_clip(tmp_path / "hevc.ts", "libx265", "-x265-params", "log-level=error")
    served = await make_server([file_channel("hall", clip), synthetic_channel("yard", "Yard")])
    await page.goto(served.url)
    await sign_in(page)
    await page.get_by_role("button", name="2x2").click()

    # H.265 is passed through, but this Chromium has no H.265 decoder: MJPEG instead.
    assert not await page.evaluate(
        """() => MediaSource.isTypeSupported('video/mp4; codecs="hvc1.1.6.L90.90"')"""
    ), "this Chromium plays H.265: the fallback is not exercised"
    assert await picture_decoded(page, "hall") == [W, H]
    await expect(page.locator(LIVE_VIDEO.format("hall"))).to_be_hidden()
    # The synthetic channel has no packets to pass through (its stream is encoded): MJPEG.
    await picture_decoded(page, "yard")
    await eventually(lambda: served.runtime.channels["hall"].live.viewers == 1)
    await eventually(lambda: clients(served, "hall", "mp4") == 0)
    assert page_log.page_errors == [] and page_log.csp_violations == []
