"""ePTZ on a running channel (``Runtime``'s PTZ methods), checked on the channel's output
frames with the synthetic scene's known coordinates: moves, preset calls, 3D positioning; the
privacy mask still hides its pixels in the zoomed picture; presets, patrols and patterns survive
a restart; bad input is refused with a clear error and changes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from camera_runtime.exceptions import ConfigError, NotFoundError, StorageError
from camera_runtime.model import Frame
from camera_runtime.runtime import Runtime
from tests.polling import eventually

from ..test_overrides import running

WIDTH, HEIGHT = 320, 180
#: A flat scene with one still white box at a known place (its centre: DOT).
DOT = (0.3, 0.4)
SCENE = {
    "type": "synthetic",
    "width": WIDTH,
    "height": HEIGHT,
    "fps": 25,
    "background": "flat",
    "noise": 0,
    "objects": [
        {
            "size": [0.04, 0.06],
            "color": [255, 255, 255],
            "path": [{"t": 0, "x": DOT[0], "y": DOT[1]}],
        }
    ],
}
#: 3D positioning puts the clicked point this near the centre (fraction of the picture).
TOLERANCE = 0.02


def config(**channel: Any) -> dict[str, Any]:
    entry = {"id": "cam", "source": SCENE, "ptz": {"enabled": True}, **channel}
    return {"zeroconf": {"enabled": False}, "channels": [entry]}


def box_centre(frame: Frame) -> tuple[float, float]:
    """Where the scene's bright box is in an output frame (fractions of its size)."""
    ys, xs = np.nonzero(np.asarray(frame.y) > 200)
    assert xs.size, "the box is not in the picture"
    return (xs.mean() + 0.5) / frame.width, (ys.mean() + 0.5) / frame.height


async def next_frame(runtime: Runtime) -> Frame:
    """An output frame taken after the last command (two frames on: the one in flight may
    predate it)."""
    slot = runtime.channels["cam"].slot
    seq = 0
    frame: Frame | None = None
    for _ in range(3):
        seq, frame = await _wait(slot, seq)
    assert frame is not None
    return frame


async def _wait(slot: Any, seq: int) -> tuple[int, Frame | None]:
    return await asyncio.get_running_loop().run_in_executor(None, slot.wait_newer, seq, 10.0)


async def test_a_zoom_and_a_click_centre_the_box(tmp_path: Path) -> None:
    async with running(tmp_path, config()) as runtime:
        frame = await next_frame(runtime)
        assert box_centre(frame) == pytest.approx(DOT, abs=0.01)  # zoom 1: the picture itself
        await runtime.ptz_absolute("cam", {"zoom": 2.0})
        frame = await next_frame(runtime)
        seen = box_centre(frame)
        # Zoom 2 about the centre: the box moves out from the centre twice as far.
        assert seen == pytest.approx((0.5 + 2 * (DOT[0] - 0.5), 0.5 + 2 * (DOT[1] - 0.5)), abs=0.02)
        # 3D positioning: click where the box shows; the next picture has it in the centre.
        status = await runtime.position_3d("cam", {"x": seen[0], "y": seen[1]})
        assert status["zoom"] == 2.0
        frame = await next_frame(runtime)
        centre = box_centre(frame)
        assert abs(centre[0] - 0.5) < TOLERANCE and abs(centre[1] - 0.5) < TOLERANCE
        # A box dragged towards the lower right around it zooms in further, still centred.
        await runtime.position_3d("cam", {"x0": 0.4, "y0": 0.4, "x1": 0.6, "y1": 0.6})
        assert runtime.ptz_status("cam")["zoom"] == pytest.approx(8.0)  # 2 / 0.2, capped at 8
        frame = await next_frame(runtime)
        centre = box_centre(frame)
        assert abs(centre[0] - 0.5) < TOLERANCE and abs(centre[1] - 0.5) < TOLERANCE


async def test_presets_are_called_on_the_output_and_survive_a_restart(tmp_path: Path) -> None:
    async with running(tmp_path, config()) as runtime:
        await runtime.ptz_absolute("cam", {"pan": DOT[0], "tilt": DOT[1], "zoom": 3.0})
        saved = await runtime.save_preset("cam", 7, "Box")
        assert saved["name"] == "Box"
        await runtime.ptz_absolute("cam", {"pan": 0.8, "tilt": 0.7, "zoom": 3.0})
        frame = await next_frame(runtime)
        assert not (np.asarray(frame.y) > 200).any()  # the box is out of view
        await runtime.call_preset("cam", 7)
        frame = await next_frame(runtime)
        assert box_centre(frame) == pytest.approx((0.5, 0.5), abs=TOLERANCE)
        # The preset select is declared, its value the called preset.
        control = runtime.channels["cam"].control("ptz_preset")
        assert control.control.choices == ("7: Box",) and control.value == "7: Box"
        await runtime.rename_preset("cam", 7, "Gate")
        await runtime.set_patrol("cam", 1, [{"preset": 7, "dwell": 2, "speed": 10}])
        await runtime.ptz_absolute("cam", {"zoom": 1.0})
        await runtime.start_pattern_recording("cam")
        await runtime.ptz_move("cam", {"pan": 1, "speed": 3})
        await runtime.save_pattern("cam", 2)
    stored = json.loads((tmp_path / "ptz.json").read_text())
    assert stored["channels"]["cam"]["presets"]["7"]["name"] == "Gate"
    async with running(tmp_path, config()) as runtime:
        status = runtime.ptz_status("cam")
        assert [p["number"] for p in status["presets"]] == [7]
        assert status["patrols"] == [
            {"number": 1, "presets": [{"preset": 7, "dwell": 2, "speed": 10}]}
        ]
        assert [p["number"] for p in status["patterns"]] == [2]
        keys = set(runtime.channels["cam"].controls())
        assert {"ptz_preset", "ptz_patrol_1", "ptz_pattern_2", "ptz_stop"} <= keys
        # The select and the buttons run the same methods.
        await runtime.set_control("cam", "ptz_preset", "7: Gate")
        frame = await next_frame(runtime)
        assert box_centre(frame) == pytest.approx((0.5, 0.5), abs=TOLERANCE)
        await runtime.press("cam", "ptz_patrol_1")
        assert runtime.ptz_status("cam")["patrol"] == 1
        await runtime.press("cam", "ptz_stop")
        assert runtime.ptz_status("cam")["patrol"] is None


def box_seen(frame: Frame) -> tuple[float, float] | None:
    """The box's centre in a frame, or None when it is out of view."""
    ys, xs = np.nonzero(np.asarray(frame.y) > 200)
    if xs.size == 0:
        return None
    return (xs.mean() + 0.5) / frame.width, (ys.mean() + 0.5) / frame.height


async def frames_for(runtime: Runtime, seconds: float) -> list[Frame]:
    """The output frames the live view's slot shows for ``seconds`` of picture time (it may
    skip one when the test falls behind; each frame carries its own time)."""
    slot = runtime.channels["cam"].slot
    seq, frames = 0, []
    while True:
        seq, frame = await _wait(slot, seq)
        assert frame is not None
        frames.append(frame)
        if frame.pts - frames[0].pts >= seconds:
            return frames


async def test_a_patrol_keeps_its_timing_on_the_output_frames(tmp_path: Path) -> None:
    """Preset A shows the box in the centre, preset B shows no box. Each frame shows what the
    schedule says at the frame's own time: the window is at a preset from the first frame at
    or after its arrival (within one frame interval) until its dwell ends."""
    async with running(tmp_path, config()) as runtime:
        await runtime.ptz_absolute("cam", {"pan": DOT[0], "tilt": DOT[1], "zoom": 4.0})
        await runtime.save_preset("cam", 1, "A")
        await runtime.ptz_absolute("cam", {"pan": 0.8, "tilt": 0.75})
        await runtime.save_preset("cam", 2, "B")
        points = [{"preset": 1, "dwell": 1, "speed": 40}, {"preset": 2, "dwell": 1, "speed": 40}]
        await runtime.set_patrol("cam", 1, points)
        since = (await runtime.start_patrol("cam", 1))["since"]
        frames = await frames_for(runtime, 3.3)
    move = 0.05  # transition_time(40)
    # (start, end) of each dwell after the start, over a lap and a half: A, B, A.
    dwells = [(move, 1 + move, True), (1 + 2 * move, 2 + 2 * move, False)]
    dwells.append((2 + 3 * move, 3 + 3 * move, True))
    checked = 0
    for frame in frames:
        elapsed = frame.pts - since
        for start, end, at_a in dwells:
            if start <= elapsed < end:
                seen = box_seen(frame)
                if at_a:
                    assert seen == pytest.approx((0.5, 0.5), abs=TOLERANCE), elapsed
                else:
                    assert seen is None, elapsed
                checked += 1
    assert checked >= 40  # most of the ~80 frames fell in a dwell and were checked


async def test_a_pattern_replays_on_the_output_frames(tmp_path: Path) -> None:
    async with running(tmp_path, config()) as runtime:
        await runtime.ptz_absolute("cam", {"pan": DOT[0], "tilt": DOT[1], "zoom": 4.0})
        await runtime.start_pattern_recording("cam")
        await next_frame(runtime)
        await runtime.ptz_move("cam", {"pan": 1, "speed": 2})
        await eventually(lambda: runtime.ptz_status("cam")["pan"] >= DOT[0] + 0.04)
        await runtime.ptz_stop("cam")
        recorded_end = box_seen(await next_frame(runtime))
        assert recorded_end is not None and recorded_end[0] < 0.4  # the box moved left
        await runtime.save_pattern("cam", 1)
        await runtime.ptz_absolute("cam", {"pan": 0.8, "tilt": 0.75})
        assert box_seen(await next_frame(runtime)) is None
        await runtime.run_pattern("cam", 1)
        first = box_seen(await next_frame(runtime))
        assert first is not None and first[0] > recorded_end[0]  # back where it started
        await eventually(lambda: runtime.ptz_status("cam")["pattern"] is None)
        replayed_end = box_seen(await next_frame(runtime))
    # Speed 2 at zoom 4 moves the view a quarter of its width a second: one frame is 0.01.
    assert replayed_end == pytest.approx(recorded_end, abs=0.02)


async def test_the_privacy_mask_hides_its_pixels_in_the_zoomed_picture(tmp_path: Path) -> None:
    """The mask covers the box in the picture's own coordinates before the crop: zoomed onto
    the box, the picture shows the mask's colour where the box is, never the box."""
    mask = {"privacy_mask": {"areas": [[[0.25, 0.3], [0.35, 0.3], [0.35, 0.5], [0.25, 0.5]]]}}
    async with running(tmp_path, config(image=mask)) as runtime:
        await runtime.ptz_absolute("cam", {"pan": DOT[0], "tilt": DOT[1], "zoom": 4.0})
        frame = await next_frame(runtime)
        luma = np.asarray(frame.y)
        assert not (luma > 200).any()
        # The mask (black) fills the middle of the zoomed view.
        middle = luma[HEIGHT // 2 - 10 : HEIGHT // 2 + 10, WIDTH // 2 - 10 : WIDTH // 2 + 10]
        assert middle.max() <= 20
        # The streams are encoded from the pictures (no passthrough bypasses the window).
        assert runtime.channel_status("cam")["streams"]["main"]["mode"] == "encoded"
        # The window hides nothing: recording (which pauses while a stage changes pixels)
        # goes on remuxing the whole picture; the mask here is what pauses it.
        await runtime.set_stage("cam", "privacy_mask", enabled=False)
        assert not runtime.channels["cam"].image.active


async def test_a_continuous_move_then_stop(tmp_path: Path) -> None:
    async with running(tmp_path, config()) as runtime:
        await runtime.ptz_absolute("cam", {"pan": 0.5, "zoom": 2.0})
        await runtime.ptz_move("cam", {"pan": -1, "speed": 7})
        await eventually(lambda: runtime.ptz_status("cam")["pan"] <= 0.3)
        status = await runtime.ptz_stop("cam")
        assert status["moving"] is False
        stopped = status["pan"]
        await next_frame(runtime)
        assert runtime.ptz_status("cam")["pan"] == pytest.approx(stopped, abs=0.02)


async def test_bad_input_gets_a_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    async with running(tmp_path, config()) as runtime:
        with pytest.raises(NotFoundError, match="no preset 3"):
            await runtime.call_preset("cam", 3)
        with pytest.raises(ConfigError) as err:
            await runtime.call_preset("cam", 300)
        assert err.value.errors == ["preset: value must be at most 256"]
        with pytest.raises(ConfigError) as err:
            await runtime.set_patrol("cam", 1, [])
        assert err.value.errors == ["presets: a patrol has 1 to 32 presets"]
        with pytest.raises(ConfigError) as err:
            await runtime.set_patrol("cam", 1, [{"preset": 5}])
        assert err.value.errors == ["presets[0].preset: no preset 5"]
        with pytest.raises(ConfigError) as err:
            await runtime.ptz_move("cam", {"pan": 1, "speed": 9})
        assert err.value.errors == ["move.speed: value must be at most 7"]
        with pytest.raises(ConfigError) as err:
            await runtime.ptz_absolute("cam", {"zoom": 12})
        assert err.value.errors == ["absolute.zoom: at most 8 on this channel"]
        with pytest.raises(ConfigError):
            await runtime.ptz_absolute("cam", {"zoom": 0.5})
        with pytest.raises(NotFoundError, match="no patrol 4"):
            await runtime.start_patrol("cam", 4)
        with pytest.raises(ConfigError, match="not recording"):
            await runtime.save_pattern("cam", 1)
        assert runtime.ptz_status("cam")["zoom"] == 1.0
        assert not (tmp_path / "ptz.json").exists()


async def test_a_channel_without_eptz_refuses_moves(tmp_path: Path) -> None:
    async with running(tmp_path, config(ptz={"enabled": False})) as runtime:
        with pytest.raises(NotFoundError, match="has no ePTZ"):
            await runtime.ptz_move("cam", {"pan": 1})
        assert "ptz_preset" not in runtime.channels["cam"].controls()
        assert runtime.channel_status("cam")["ptz"] is None
        await next_frame(runtime)
        # Count pixel works on any channel.
        box = {"x0": 0.0, "y0": 0.0, "x1": 0.5, "y1": 0.5}
        assert runtime.count_pixel("cam", box)["width"] == WIDTH // 2


async def test_a_removed_channel_s_presets_are_forgotten(tmp_path: Path) -> None:
    async with running(tmp_path, config()) as runtime:
        await runtime.save_preset("cam", 1)
        await runtime.remove_channel("cam")
        assert json.loads((tmp_path / "ptz.json").read_text()) == {"channels": {}}
        await runtime.add_channel({"id": "cam", "source": SCENE, "ptz": {"enabled": True}})
        assert runtime.ptz_status("cam")["presets"] == []


async def test_a_preset_that_cannot_be_saved_changes_nothing(tmp_path: Path) -> None:
    """ptz.json cannot be written (a folder stands in its place): the save is refused with a
    storage error, reported as the device's storage error, and nothing is saved."""
    (tmp_path / "ptz.json").mkdir()
    async with running(tmp_path, config()) as runtime:
        with pytest.raises(StorageError, match=r"cannot save presets, patrols and patterns"):
            await runtime.save_preset("cam", 1, "Door")
        assert runtime.ptz_status("cam")["presets"] == []
        assert "ptz presets" in runtime.storage.failing
        assert "ptz_preset" not in runtime.channels["cam"].controls()


async def test_entries_that_do_not_read_are_dropped_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stored = {
        "channels": {
            "cam": {
                "presets": {
                    "1": {"name": "Door", "pan": 0.3, "tilt": 0.4, "zoom": 2},
                    "2": {"name": "Bad", "pan": 7, "tilt": 0.4, "zoom": 2},
                    "999": {"name": "Far", "pan": 0.3, "tilt": 0.4, "zoom": 2},
                },
                "patrols": {"1": [{"preset": 1, "dwell": 5, "speed": 30}], "2": []},
            }
        }
    }
    (tmp_path / "ptz.json").write_text(json.dumps(stored))
    async with running(tmp_path, config()) as runtime:
        status = runtime.ptz_status("cam")
        assert [p["number"] for p in status["presets"]] == [1]
        assert [p["number"] for p in status["patrols"]] == [1]
    assert "presets 2 in ptz.json dropped" in caplog.text
    assert "presets 999 in ptz.json dropped" in caplog.text
    assert "patrols 2 in ptz.json dropped" in caplog.text
