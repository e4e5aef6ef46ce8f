"""The upload targets panel in a real headless Chromium, real runtime, real FTP server.

A runtime with an FTP target shows it in the Uploads panel; a capture taken while the server
is away waits there (failing, with the reason), the Test button says the server is not
reached, and once the server is back Test reaches it, the waiting picture goes and the panel
shows it uploaded. A target's content types show, and a clip recorded on a channel shows
uploaded on the target taking clips. The same for an S3 bucket (moto's server, checking signatures) that is
missing at first: the store's reason shows, never the secret. A runtime without targets shows
no panel; a user-level session gets no Test button.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends
from playwright.async_api import Locator, Page, expect

from tests.ftp_server import PASSWORD as FTP_PASSWORD
from tests.ftp_server import FtpServer, ftp_server, ftp_target
from tests.polling import eventually
from tests.s3_server import BUCKET, REGION, S3Server, moto_port, s3_server

from .conftest import PASSWORD, MakeServer, PageLog, Served, synthetic_channel
from .test_web_ui import sign_in

__all__ = ["ftp_server", "moto_port", "s3_server"]  # the fixtures, used by name

pytestmark = pytest.mark.browser

ROW = "#uploads li[data-target='nas_ftp']"


async def capture_while_failing(served: Served, row: Locator, target: str, reason: str) -> None:
    """Capture a picture while ``target`` fails: the row shows it waiting with ``reason``,
    and Test says the target is not reached."""
    channel = served.runtime.channels["front"]
    await asyncio.get_running_loop().run_in_executor(None, channel.slot.wait_newer, 0, 20.0)
    await served.runtime.capture("front")
    await expect(row).to_contain_text("failing", timeout=15_000)
    await expect(row.locator(".upload-error")).to_contain_text(reason)
    await expect(row).to_contain_text("1 waiting")
    await row.get_by_role("button", name=f"Test {target}").click()
    await expect(row.get_by_role("status")).to_contain_text("Not reached")


async def reached_and_uploaded(row: Locator, target: str) -> None:
    """Test reaches the target once it works again, and the waiting picture goes."""
    await row.get_by_role("button", name=f"Test {target}").click()
    await expect(row.get_by_role("status")).to_have_text("Reached.")
    await expect(row).to_contain_text("1 uploaded · 0 waiting", timeout=15_000)


async def test_a_waiting_picture_the_test_button_and_the_upload(
    make_server: MakeServer, page: Page, page_log: PageLog, tmp_path: Path
) -> None:
    (tmp_path / "ftp").mkdir()
    ftp = FtpServer(tmp_path / "ftp")  # away at first
    target = ftp_target(ftp)
    served = await make_server(
        [synthetic_channel("front", "Front")], config={"uploads": {"targets": [target]}}
    )
    try:
        await page.goto(served.url)
        await sign_in(page)
        row = page.locator(ROW)
        await expect(row).to_contain_text("ftp · ok")
        await expect(row).to_contain_text("0 uploaded · 0 waiting")

        await capture_while_failing(served, row, "nas_ftp", "cannot be reached")
        ftp.start()
        await reached_and_uploaded(row, "nas_ftp")
        await expect(row).to_contain_text("ftp · ok")
        assert FTP_PASSWORD not in await page.content()
        assert page_log.csp_violations == []
    finally:
        ftp.stop()


async def test_an_s3_bucket_that_is_missing_then_made(
    make_server: MakeServer, page: Page, page_log: PageLog, s3_server: S3Server
) -> None:
    store = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    store.delete_bucket(BUCKET)
    served = await make_server(
        [synthetic_channel("front", "Front")],
        config={"uploads": {"targets": [s3_server.target("cloud", prefix="cams")]}},
    )
    await page.goto(served.url)
    await sign_in(page)
    row = page.locator("#uploads li[data-target='cloud']")
    await expect(row).to_contain_text("s3 · ok")

    await capture_while_failing(served, row, "cloud", "NoSuchBucket")
    await expect(row).to_contain_text("s3 · failing")
    await expect(row.get_by_role("status")).to_contain_text("create the bucket")
    store.create_bucket(BUCKET, REGION)
    await reached_and_uploaded(row, "cloud")
    assert [key.split("/")[0] for key in s3_server.objects()] == ["cams"]
    assert s3_server.secret_access_key not in await page.content()
    assert page_log.csp_violations == []


async def test_no_targets_no_panel_and_users_cannot_test(
    make_server: MakeServer, page: Page, tmp_path: Path
) -> None:
    served = await make_server([synthetic_channel("front", "Front")])
    await page.goto(served.url)
    await sign_in(page)
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    await expect(page.locator("#uploads-panel")).to_be_hidden()

    target = {"id": "share", "type": "nas", "path": str(tmp_path), "require_mount": False}
    viewer = await make_server(
        [synthetic_channel("front", "Front")],
        users={"viewer": "user"},
        config={"uploads": {"targets": [target]}},
    )
    await page.goto(viewer.url)
    await page.get_by_label("User name").fill("viewer")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    row = page.locator("#uploads li[data-target='share']")
    await expect(row).to_contain_text("nas · ok")
    await expect(row.get_by_role("button")).to_have_count(0)


async def test_a_target_s_content_and_its_clip_uploaded(
    make_server: MakeServer, page: Page, page_log: PageLog, ftp_server: FtpServer
) -> None:
    channel = {
        **synthetic_channel("front", "Front"),
        "record": {"enabled": True, "record_type": "event", "segment_length": 1},
    }
    targets = [
        ftp_target(ftp_server, "clips_ftp", content=["pictures", "clips"]),
        ftp_target(ftp_server, "pics_ftp"),
    ]
    served = await make_server([channel], config={"uploads": {"targets": targets}})
    await page.goto(served.url)
    await sign_in(page)
    row = page.locator("#uploads li[data-target='clips_ftp']")
    await expect(row).to_contain_text("Takes pictures and clips")
    await expect(row).to_contain_text("(clips: 0 uploaded · 0 waiting)")
    pictures_only = page.locator("#uploads li[data-target='pics_ftp']")
    await expect(pictures_only).to_contain_text("Takes pictures")
    await expect(pictures_only).not_to_contain_text("clips")

    recorder = served.runtime.recordings.recorders["front"]
    await eventually(lambda: recorder.ring.packets > 10, within=20)
    await served.runtime.record_clip("front", 0.5, 1.0)
    await expect(row).to_contain_text("(clips: 1 uploaded · 0 waiting)", timeout=20_000)
    (name,) = [f for f in ftp_server.files() if f.endswith(".mp4")]
    assert name.endswith("_CLIP.mp4")
    assert page_log.csp_violations == []
