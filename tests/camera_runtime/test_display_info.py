"""Display info on stream (manual 4.2): the boxes of a channel's active detection events drawn on
what users see (live view, snapshots), never on what the detectors get."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import voluptuous as vol

from camera_runtime.display_info import DISPLAY_INFO_SCHEMA, INSTANT_HOLD, DisplayInfo, mark_of
from camera_runtime.exceptions import ConfigError
from camera_runtime.host import runtime_from_data
from camera_runtime.imaging import COLOURS
from camera_runtime.model import Event, EventPhase, EventUpdate, Frame

RED = COLOURS["red"]
Mask = npt.NDArray[np.bool_]


def grey_frame(width: int = 320, height: int = 240, level: int = 100) -> Frame:
    y = np.full((height, width), level, dtype=np.uint8)
    u = np.full((height // 2, width // 2), 128, dtype=np.uint8)
    v = u.copy()
    for plane in (y, u, v):
        plane.flags.writeable = False  # the pipeline's planes are read-only
    return Frame(y=y, u=u, v=v, pts=0.0, wall_time=0.0, demux_time=0.0)


def outline(box: dict[str, float], width: int, height: int, thickness: int) -> Mask:
    """The pixels of ``box``'s outline, ``thickness`` wide, inside the box."""
    left, top = round(box["x"] * width), round(box["y"] * height)
    right = round((box["x"] + box["w"]) * width) - 1
    bottom = round((box["y"] + box["h"]) * height) - 1
    mask = np.zeros((height, width), dtype=bool)
    mask[top : bottom + 1, left : right + 1] = True
    mask[top + thickness : bottom + 1 - thickness, left + thickness : right + 1 - thickness] = False
    return mask


def motion(phase: EventPhase, boxes: list[dict[str, float]], **fields: Any) -> Event:
    return Event("cam", "motion", start=100.0, id="m1", data={"boxes": boxes}, **fields)


BOX = {"x": 0.25, "y": 0.25, "w": 0.5, "h": 0.5}


def test_the_schema_is_off_by_default_and_names_bad_keys() -> None:
    assert DISPLAY_INFO_SCHEMA({}) == {
        "enabled": False,
        "color": "red",
        "thickness": 2,
        "labels": True,
    }
    for bad in ({"thickness": 0}, {"color": "pink"}, {"enabled": "yes"}, {"font": 3}):
        with pytest.raises(vol.Invalid):
            DISPLAY_INFO_SCHEMA(bad)


def test_a_bad_key_in_the_config_names_its_path(tmp_path: Path) -> None:
    data = {
        "channels": [
            {"id": "cam", "source": {"type": "synthetic"}, "display_info": {"thickness": 9}}
        ]
    }
    with pytest.raises(ConfigError) as err:
        runtime_from_data(data, data_dir=tmp_path)
    assert any("channels[0].display_info.thickness" in e for e in err.value.errors)


def test_marks_come_from_motion_boxes_and_smart_event_targets() -> None:
    assert mark_of(motion(EventPhase.NEW, [BOX])) is not None
    smart = Event("cam", "line_crossing", 1.0, data={"box": BOX, "rule": "Gate"})
    found = mark_of(smart)
    assert found is not None and found.label == "Gate" and found.boxes == ((0.25, 0.25, 0.5, 0.5),)
    assert mark_of(Event("cam", "video_loss", 1.0, data={"reason": "gone"})) is None
    assert mark_of(Event("cam", "motion", 1.0, data={"boxes": [{"x": "a"}]})) is None


def test_off_it_hands_the_same_picture_back() -> None:
    display = DisplayInfo(DISPLAY_INFO_SCHEMA({}))
    display.observe(EventPhase.NEW, motion(EventPhase.NEW, [BOX]))
    frame = grey_frame()
    assert display.draw(frame) is frame  # no copy at all
    display.enabled = True
    assert display.draw(frame) is not frame


def test_the_outline_is_drawn_in_its_colour_on_a_copy() -> None:
    display = DisplayInfo(DISPLAY_INFO_SCHEMA({"enabled": True, "thickness": 2}))
    display.observe(EventPhase.NEW, motion(EventPhase.NEW, [BOX]))
    frame = grey_frame()
    shown = display.draw(frame)
    ring = outline(BOX, 320, 240, 2)
    assert (shown.y[ring] == RED[0]).all()
    assert (shown.y[~ring] == 100).all()  # nothing else changed
    assert (frame.y == 100).all()  # the picture given is never written
    # The colour is in the chroma planes too, along the same outline at half size.
    half = ring[::2, ::2]
    assert (shown.u[half] == RED[1]).all() and (shown.v[half] == RED[2]).all()
    assert (shown.u[40:80, 60:100] == 128).all()  # the box's inside keeps its colour


def test_a_smart_event_box_carries_its_rule_name() -> None:
    display = DisplayInfo(DISPLAY_INFO_SCHEMA({"enabled": True}))
    smart = Event("cam", "intrusion", 1.0, data={"box": BOX, "rule": "Garden"})
    display.observe(EventPhase.NEW, smart)
    shown = display.draw(grey_frame())
    above = shown.y[: round(0.25 * 240), 80:240]  # the label sits just above the box
    assert (above == RED[0]).sum() > 20
    display.options = DISPLAY_INFO_SCHEMA({"enabled": True, "labels": False})
    assert (display.draw(grey_frame()).y[: round(0.25 * 240)] == 100).all()


def test_boxes_stay_until_the_event_ends_and_instants_for_a_second() -> None:
    now = [1000.0]
    display = DisplayInfo(DISPLAY_INFO_SCHEMA({"enabled": True}), clock=lambda: now[0])
    display.observe(EventPhase.NEW, motion(EventPhase.NEW, [BOX]))
    moved = {"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2}
    display.observe(EventPhase.UPDATE, motion(EventPhase.UPDATE, [moved]))
    assert [m.boxes for m in display.marks()] == [((0.1, 0.1, 0.2, 0.2),)]  # the newest boxes
    now[0] += 60
    assert len(display.marks()) == 1  # active: kept however long
    display.observe(EventPhase.END, motion(EventPhase.END, [moved], end=110.0))
    assert display.marks() == []  # a 10 s event goes with its end

    crossing = Event("cam", "line_crossing", 200.0, id="c1", data={"box": BOX, "rule": "Gate"})
    display.observe(EventPhase.NEW, crossing)
    display.observe(EventPhase.END, dataclasses.replace(crossing, end=200.0))
    assert len(display.marks()) == 1
    now[0] += INSTANT_HOLD - 0.05
    assert len(display.marks()) == 1
    now[0] += 0.1
    assert display.marks() == []


# ---------------------------------------------------------------- a running channel

#: A grey box going back and forth in the middle of a flat picture: motion all the time.
SCENE = {
    "type": "synthetic",
    "width": 320,
    "height": 240,
    "fps": 25,
    "background": "flat",
    "noise": 0,
    "objects": [
        {
            "size": [0.12, 0.3],
            "color": [200, 200, 200],
            "period": 2.0,
            "path": [
                {"t": 0, "x": 0.4, "y": 0.5},
                {"t": 1, "x": 0.6, "y": 0.5},
                {"t": 2, "x": 0.4, "y": 0.5},
            ],
        }
    ],
}


def scene_config(enabled: bool) -> dict[str, Any]:
    return {
        "channels": [
            {
                "id": "cam",
                "source": SCENE,
                "detect": {"width": 160, "fps": 10},
                "detectors": {"motion": {"hold_time": 30}},
                "display_info": {"enabled": enabled, "thickness": 2},
            }
        ]
    }


def red_pixels(jpeg: bytes) -> Mask:
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    b, g, r = (picture[:, :, i].astype(int) for i in range(3))
    mask: Mask = (r > 150) & (g < 90) & (b < 90)
    return mask


async def test_users_see_the_boxes_and_the_detectors_do_not(tmp_path: Path) -> None:
    runtime = runtime_from_data(scene_config(True), data_dir=tmp_path)
    await runtime.start()
    try:
        channel = runtime.channels["cam"]
        seen: list[tuple[Frame, Frame, list[dict[str, float]]]] = []
        got = threading.Event()
        given: dict[float, Frame] = {}
        detect, put = channel.detection.on_frame, channel.slot.put

        def spy_detect(frame: Frame) -> None:
            """What the detectors get."""
            given[frame.pts] = frame
            detect(frame)

        def spy_put(shown: Frame) -> None:
            """What the slot (live view, snapshots) gets, with what the detectors got of it."""
            marks = channel.display.marks()
            if shown.pts in given and marks and not got.is_set():
                boxes = [
                    {"x": x, "y": y, "w": w, "h": h} for m in marks for (x, y, w, h) in m.boxes
                ]
                seen.append((shown, given[shown.pts], boxes))
                got.set()
            put(shown)

        channel.detection.on_frame = spy_detect  # type: ignore[method-assign]
        channel.slot.put = spy_put  # type: ignore[method-assign]
        assert await asyncio.to_thread(got.wait, 30)
        shown, detected, boxes = seen[0]
        assert shown.pts == detected.pts  # the same picture
        ring = np.zeros(detected.y.shape, dtype=bool)
        for box in boxes:
            # At the object's place: it moves between 0.34 and 0.66 across, 0.35 to 0.65 down.
            assert 0.25 < box["x"] + box["w"] / 2 < 0.75 and 0.3 < box["y"] + box["h"] / 2 < 0.7
            ring |= outline(box, 320, 240, 2)
        assert (shown.y[ring] == RED[0]).all()
        assert np.array_equal(shown.y[~ring], detected.y[~ring])  # only the outline differs
        assert not (detected.y[ring] == RED[0]).any()  # the detectors never see a box

        # A snapshot shows red around the object, and only there.
        red = red_pixels(await runtime.snapshot("cam"))
        assert red.sum() > 100
        columns = np.nonzero(red.any(axis=0))[0]
        assert columns.min() > 0.2 * 320 and columns.max() < 0.8 * 320
        # So does a captured picture (kept in the data folder, uploaded where pictures go).
        capture = await runtime.capture("cam")
        assert red_pixels(runtime.captures.path(capture["id"]).read_bytes()).sum() > 100

        # Off from its switch: the next snapshots show no box.
        await runtime.set_control("cam", "display_info", False)
        assert channel.controls()["display_info"].value is False
        seq = channel.slot.seq
        for _ in range(2):  # a picture drawn before the switch may still be handed on
            seq, _ = await asyncio.to_thread(channel.slot.wait_newer, seq, 5)
        assert red_pixels(await runtime.snapshot("cam")).sum() == 0
    finally:
        await runtime.stop()


async def test_the_switch_is_kept_across_restarts(tmp_path: Path) -> None:
    runtime = runtime_from_data(scene_config(False), data_dir=tmp_path)
    await runtime.start()
    try:
        control = runtime.channels["cam"].controls()["display_info"]
        assert (control.owner, control.value, control.control.kind.value) == (None, False, "switch")
        await runtime.set_control("cam", "display_info", True)
        assert runtime.channels["cam"].display.enabled
    finally:
        await runtime.stop()
    again = runtime_from_data(scene_config(False), data_dir=tmp_path)
    await again.start()
    try:
        assert again.channels["cam"].display_info is True
    finally:
        await again.stop()


async def test_a_smart_event_shows_its_target_box_and_rule_name(tmp_path: Path) -> None:
    data = scene_config(True)
    region = [[0.15, 0.1], [0.85, 0.1], [0.85, 0.95], [0.15, 0.95]]
    data["channels"][0]["detectors"] = {
        "intrusion": {"rules": [{"name": "Yard", "region": region}]}
    }
    runtime = runtime_from_data(data, data_dir=tmp_path)
    updates: list[EventUpdate] = []
    runtime.bus.subscribe(updates.append)
    await runtime.start()
    try:
        channel = runtime.channels["cam"]
        got = threading.Event()
        shown: list[tuple[Frame, list[Any]]] = []
        put = channel.slot.put

        def spy_put(frame: Frame) -> None:
            marks = channel.display.marks()
            if any(m.label == "Yard" for m in marks) and not got.is_set():
                shown.append((frame, marks))
                got.set()
            put(frame)

        channel.slot.put = spy_put  # type: ignore[method-assign]
        assert await asyncio.to_thread(got.wait, 30)
        frame, marks = shown[0]
        (x, y, w, h), *_ = next(m.boxes for m in marks if m.label == "Yard")
        assert 0.25 < x + w / 2 < 0.75  # the target: the object going back and forth
        ring = outline({"x": x, "y": y, "w": w, "h": h}, 320, 240, 2)
        assert (frame.y[ring] == RED[0]).all()
        # The rule's name in the band just above the box: red pixels where the scene has none.
        top = round(y * 240)
        assert top > 20 and (frame.y[top - 20 : top, :] == RED[0]).sum() > 30
        # The event's snapshot (the capture of its start) shows its box too.
        await runtime.event_snapshots.drain()
        snapshot = next(u.event.data["snapshot"] for u in updates if u.event.type == "intrusion")
        assert red_pixels(runtime.captures.path(snapshot).read_bytes()).sum() > 100
    finally:
        await runtime.stop()


async def test_the_boxes_never_bypass_the_privacy_mask(tmp_path: Path) -> None:
    data = scene_config(True)
    masked = [[0.0, 0.0], [0.45, 0.0], [0.45, 1.0], [0.0, 1.0]]  # the object's left half at times
    data["channels"][0]["image"] = {"privacy_mask": {"areas": [masked]}}
    runtime = runtime_from_data(data, data_dir=tmp_path)
    await runtime.start()
    try:
        channel = runtime.channels["cam"]
        got = threading.Event()
        seen: list[Frame] = []
        put = channel.slot.put

        def spy_put(frame: Frame) -> None:
            if channel.display.marks() and not got.is_set():
                seen.append(frame)
                got.set()
            put(frame)

        channel.slot.put = spy_put  # type: ignore[method-assign]
        assert await asyncio.to_thread(got.wait, 30)
        left = seen[0].y[:, : round(0.45 * 320) - 2]
        # Under the mask: its black, or a box's line over it; never a pixel of the scene.
        assert set(np.unique(left).tolist()) <= {16, RED[0]}
        assert (left == 16).mean() > 0.9
    finally:
        await runtime.stop()
