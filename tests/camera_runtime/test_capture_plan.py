"""Automatic captures (manual 5.3.1) on the event loop: an event's burst of pictures, nothing
outside the schedule or for other types, failures counted and logged once without stopping
the plan; the settings' errors name their key; pictures keep their reason on disk."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from pathlib import Path

import pytest
import voluptuous as vol

from camera_runtime.capture_plan import CAPTURE_SCHEMA, CapturePlans, capture_as_data
from camera_runtime.captures import Captures
from camera_runtime.exceptions import NoFrameError
from camera_runtime.model import Event, EventPhase, EventUpdate
from camera_runtime.schedule import DAYS


class Taker:
    """Saves nothing: remembers what was asked, fails the first ``failures`` times."""

    def __init__(self, failures: int = 0) -> None:
        self.taken: list[tuple[str, str, tuple[int, int] | None, int]] = []
        self.failures = failures
        self.changed = asyncio.Event()

    async def __call__(
        self, channel: str, reason: str, size: tuple[int, int] | None, quality: int
    ) -> None:
        self.changed.set()
        if self.failures:
            self.failures -= 1
            raise NoFrameError("no picture yet")
        self.taken.append((channel, reason, size, quality))


async def _wait(plans: CapturePlans, channel: str, count: int) -> None:
    async with asyncio.timeout(10):
        while sum(plans.status(channel).values()) < count:  # noqa: ASYNC110 - counters only
            await asyncio.sleep(0.01)


async def test_an_event_captures_its_number_of_pictures(caplog: pytest.LogCaptureFixture) -> None:
    take = Taker(failures=2)
    plans = CapturePlans(take)
    settings = CAPTURE_SCHEMA(
        {
            "event": {"enabled": True, "events": ["bright"], "number": 4, "interval": 0.1},
            "resolution": "320x240",
            "quality": 70,
        }
    )
    plans.start("cam", settings)
    for kind in ("motion", "video_loss"):
        plans.on_event(EventUpdate(EventPhase.NEW, Event("cam", kind, time.time())))
    bright = Event("cam", "bright", time.time())
    plans.on_event(EventUpdate(EventPhase.UPDATE, bright))  # only a start captures
    with caplog.at_level(logging.WARNING):
        plans.on_event(EventUpdate(EventPhase.NEW, bright))
        await _wait(plans, "cam", 4)
    assert plans.status("cam") == {"taken": 2, "failed": 2}
    assert take.taken == [("cam", "bright", (320, 240), 70)] * 2
    assert caplog.text.count("an automatic capture (bright) failed") == 1
    await plans.close()


async def test_outside_the_schedule_nothing_is_captured() -> None:
    take = Taker()
    plans = CapturePlans(take)
    now = dt.datetime.now()
    tomorrow = DAYS[(now.weekday() + 1) % 7]
    event = {"enabled": True, "schedule": {tomorrow: ["00:00-24:00"]}}
    timing = {"enabled": True, "interval": 1, "schedule": {tomorrow: ["00:00-24:00"]}}
    plans.start("cam", CAPTURE_SCHEMA({"event": event, "timing": timing}))
    plans.on_event(EventUpdate(EventPhase.NEW, Event("cam", "motion", time.time())))
    await asyncio.sleep(0)  # the timing task's first turn
    await asyncio.sleep(0)
    assert take.taken == [] and not take.changed.is_set()
    await plans.close()


def test_bad_capture_settings_name_the_key() -> None:
    for bad, path in (
        ({"resolution": "big"}, ["resolution"]),
        ({"quality": 0}, ["quality"]),
        ({"format": "bmp"}, ["format"]),
        ({"event": {"number": 0}}, ["event", "number"]),
        ({"timing": {"interval": 0.5}}, ["timing", "interval"]),
    ):
        with pytest.raises(vol.Invalid) as err:
            CAPTURE_SCHEMA(bad)
        assert err.value.path == path, bad
    assert capture_as_data(CAPTURE_SCHEMA({"resolution": "640x480"}))["resolution"] == "640x480"
    assert capture_as_data(CAPTURE_SCHEMA({}))["resolution"] == "full"


def test_pictures_keep_their_reason_and_are_searched(tmp_path: Path) -> None:
    captures = Captures(tmp_path, quota_mb=0)
    first = captures.save("cam", b"\xff\xd8one", "timing")
    second = captures.save("cam", b"\xff\xd8two", "motion")
    captures.save("other", b"\xff\xd8three")
    # Written before reasons were kept: manual.
    older = f"{int((first.time - 1) * 1000):013x}-{'a' * 12}"
    (tmp_path / f"{older}.cam.jpg").write_bytes(b"\xff\xd8old")
    with pytest.raises(ValueError, match="not a capture reason"):
        captures.save("cam", b"x", "../up")
    again = Captures(tmp_path, quota_mb=0)
    again.load()
    assert [c.reason for c in again.search("cam")] == ["manual", "timing", "motion"]
    assert [c.id for c in again.search("cam", reason="motion")] == [second.id]
    assert again.search("cam", start=second.time + 1) == []
    assert len(again.search()) == 4
