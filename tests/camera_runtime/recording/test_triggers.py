"""The manual's record types applied to events (``triggers.py``): which events open clips,
from when to when, Motion & Alarm only while both last, and nothing outside the schedule.
Then the same through the service with real packets: the Motion & Alarm clip's file holds the
frames from the second event's start minus pre-record, and a continuous schedule records from
pre-record before its period to post-record after it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

from camera_runtime.feed import MAIN, PacketFanout
from camera_runtime.host import runtime_from_data
from camera_runtime.model import Event, EventPhase, EventUpdate
from camera_runtime.recording.service import Recordings
from camera_runtime.recording.settings import RECORD_SCHEMA
from camera_runtime.recording.triggers import BOTH, Close, Open, RecordTrigger
from camera_runtime.schedule import DAYS

from .helpers import EPOCH, file_packets, packets_and_info

NEW, END = EventPhase.NEW, EventPhase.END


#: What the runtime fills in from the channel's declarations (event types of the motion class).
MOTION_EVENTS = {"motion_events": ["motion"]}


def trigger(record_type: str, **more: Any) -> RecordTrigger:
    settings = {
        "record_type": record_type,
        "pre_record": 2,
        "post_record": 3,
        **MOTION_EVENTS,
        **more,
    }
    return RecordTrigger(RECORD_SCHEMA(settings))


def new(event_type: str, start: float = 100.0) -> EventUpdate:
    return EventUpdate(NEW, Event("cam", event_type, start))


def end(update: EventUpdate, at: float) -> EventUpdate:
    update.event.end = at
    return EventUpdate(END, update.event)


@pytest.mark.parametrize(
    ("record_type", "motion", "alarm", "smart"),
    [
        ("motion", True, False, False),
        ("alarm", False, True, False),
        ("motion_or_alarm", True, True, False),
        ("event", True, True, True),
        ("continuous", False, False, False),
    ],
)
def test_each_type_records_its_events(
    record_type: str, motion: bool, alarm: bool, smart: bool
) -> None:
    t = trigger(record_type, alarm_events=["door_input"])
    for event_type, records in (("motion", motion), ("door_input", alarm), ("intrusion", smart)):
        update = new(event_type)
        opened = t.update(update)
        assert opened == ([Open(update.event.id, 98.0, event_type)] if records else [])
        closed = t.update(end(update, 110.0))
        assert closed == ([Close(update.event.id, 113.0)] if records else [])
    assert t.update(new("video_loss")) == []  # never, whatever the type


def test_event_type_narrowed_by_events() -> None:
    t = trigger("event", events=["intrusion"])
    assert t.kind("intrusion") == "event"
    assert t.kind("motion") is None


def test_motion_and_alarm_records_only_while_both_last() -> None:
    t = trigger("motion_and_alarm")
    motion = new("motion", 100.0)
    assert t.update(motion) == []  # motion alone
    alarm = new("alarm_input", 104.0)
    assert t.update(alarm) == [Open(BOTH, 102.0, BOTH)]
    second = new("motion", 105.0)
    assert t.update(second) == []  # already recording
    assert t.update(end(motion, 106.0)) == []  # another motion event still lasts
    assert t.update(end(second, 108.0)) == [Close(BOTH, 111.0)]
    assert t.update(end(alarm, 109.0)) == []
    # And again: both kinds needed anew.
    assert t.update(new("alarm_input", 120.0)) == []
    assert t.update(new("motion", 121.0)) == [Open(BOTH, 119.0, BOTH)]


def _local(hour: int, minute: int) -> dt.datetime:
    """A local time on EPOCH's day (the schedule is in local time)."""
    day = dt.datetime.fromtimestamp(EPOCH)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def test_nothing_records_outside_the_schedule() -> None:
    ten = _local(10, 0)
    t = trigger("motion", schedule={DAYS[ten.weekday()]: ["10:00-10:30"]})
    inside, outside = new("motion", ten.timestamp() + 60), new("motion", ten.timestamp() - 60)
    assert len(t.update(inside)) == 1
    assert t.update(outside) == []
    assert t.update(end(outside, ten.timestamp())) == [Close(outside.event.id, ten.timestamp() + 3)]


def test_bad_record_settings_name_the_key() -> None:
    with pytest.raises(vol.Invalid) as err:
        RECORD_SCHEMA({"record_type": "motion|alarm"})
    assert err.value.path == ["record_type"]
    with pytest.raises(vol.MultipleInvalid) as many:
        RECORD_SCHEMA({"schedule": {"monday": ["18:00-08:00"]}})
    assert many.value.errors[0].path == ["schedule", "monday"]
    with pytest.raises(vol.Invalid) as err:
        RECORD_SCHEMA({"alarm_events": []})
    assert err.value.path == ["alarm_events"]


def _record(tmp_path: Path, clip: Path, epoch: float, events: Any, **settings: Any) -> Recordings:
    """Publish ``clip``'s packets (first at ``epoch``), sending ``events`` (time -> update)
    when the packets reach their time; returns the reopened recordings."""
    packets, info = packets_and_info(clip, epoch)
    fanout = PacketFanout(MAIN)
    fanout.info = info
    recordings = Recordings(tmp_path)
    recordings.open()
    record = RECORD_SCHEMA({"enabled": True, **MOTION_EVENTS, **settings})
    recordings.start_channel("cam", record, {MAIN: fanout})
    pending = sorted(events, key=lambda item: item[0])
    for packet in packets:
        while pending and packet.wall_time >= pending[0][0]:
            recordings.on_event(pending.pop(0)[1])
        fanout.publish(packet)
    recordings.close()
    recordings.open()
    return recordings


def test_motion_and_alarm_clip_from_real_packets(tmp_path: Path, h264_clip: Path) -> None:
    motion = new("motion", EPOCH + 1)
    alarm = new("door", EPOCH + 4)
    events = [
        (EPOCH + 1, motion),
        (EPOCH + 4, alarm),
        (EPOCH + 6, end(new("motion", EPOCH + 6), EPOCH + 6)),  # an unrelated end: ignored
        (EPOCH + 6.5, end(alarm, EPOCH + 6.5)),
    ]
    recordings = _record(
        tmp_path,
        h264_clip,
        EPOCH,
        events,
        record_type="motion_and_alarm",
        alarm_events=["door"],
        pre_record=1,
        post_record=1,
    )
    (clip,) = recordings.clips("cam")
    assert (clip.start, clip.end, clip.reason) == (EPOCH + 3, EPOCH + 7.5, BOTH)
    (segment,) = recordings.segments("cam")
    assert segment.start == EPOCH + 3  # the keyframe at the alarm's start - pre_record
    in_file = file_packets(recordings.root / segment.path)
    assert in_file[0][1] and len(in_file) >= int(4.5 * 25)
    recordings.close()


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("10:00-10:01", 3.0, 10.0),  # starts 5 s in: from 2 s (pre_record) before it
        ("09:59-10:00", 0.0, 8.0),  # ends 5 s in: until 3 s (post_record) after it
    ],
)
def test_continuous_records_within_its_schedule(
    tmp_path: Path, h264_clip: Path, period: str, first: float, last: float
) -> None:
    ten = _local(10, 0)
    epoch = ten.timestamp() - 5
    recordings = _record(
        tmp_path,
        h264_clip,
        epoch,
        [],
        schedule={DAYS[ten.weekday()]: [period]},
        pre_record=2,
        post_record=3,
    )
    (segment,) = recordings.segments("cam")
    assert segment.start == pytest.approx(epoch + first)
    assert segment.end == pytest.approx(epoch + last, abs=0.05)
    recordings.close()


async def test_the_motion_type_records_on_the_events_declared_as_motion(
    tmp_path: Path, h264_clip: Path
) -> None:
    """With no ``motion_events``, the motion record type takes the channel's event types that
    their plugins declare with the motion device class: the motion detector's, by declaration,
    not by a name the core knows."""
    runtime = runtime_from_data(
        {
            "channels": [
                {
                    "id": "cam",
                    "source": {"type": "file", "path": str(h264_clip), "loop": True},
                    "detectors": {"motion": {}},
                    "record": {"enabled": True, "record_type": "motion"},
                }
            ]
        },
        data_dir=tmp_path / "data",
    )
    await runtime.start()
    try:
        trigger = runtime.recordings.trigger("cam")
        assert trigger is not None and trigger.kind("motion") == "motion"
        assert trigger.kind("video_loss") is None
    finally:
        await runtime.stop()
