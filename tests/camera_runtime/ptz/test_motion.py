"""What moves the ePTZ window, frame by frame on the pictures' own clock: continuous moves at
their speed, jumps, patrols (each preset reached and left within one frame interval of its
schedule), pattern recording and replay, a reconnect's restarted timestamps."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from camera_runtime.model import Frame
from camera_runtime.ptz.motion import PAN_RATE, Move, PatrolPoint, PtzMotion
from camera_runtime.ptz.settings import PATTERN_MOVES, PATTERN_SECONDS, PTZ_SCHEMA, transition_time
from camera_runtime.ptz.window import Window

FPS = 25.0
_LUMA = np.zeros((36, 64), np.uint8)
_CHROMA = np.zeros((18, 32), np.uint8)


def picture(pts: float) -> Frame:
    return Frame(y=_LUMA, u=_CHROMA, v=_CHROMA, pts=pts, wall_time=0.0, demux_time=pts)


class Feed:
    """Frames at ``FPS`` into a window, the window's position after each kept."""

    def __init__(self) -> None:
        self.changes = 0
        self.motion = PtzMotion(PTZ_SCHEMA({"enabled": True}), self._changed)
        self.index = 0
        self.seen: list[tuple[float, Window]] = []

    def _changed(self) -> None:
        self.changes += 1

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds * FPS)):
            pts = self.index / FPS
            self.motion.process(picture(pts))
            self.seen.append((pts, self.motion.window))
            self.index += 1


def test_a_continuous_move_pans_at_its_speed_and_stops() -> None:
    feed = Feed()
    feed.motion.goto(Window(0.3, 0.5, 2.0))
    feed.run(0.04)  # one frame: the clock starts
    feed.motion.move(Move(pan=1.0, speed=4))
    feed.run(1.0)
    expected = 0.3 + 4 * PAN_RATE / 2.0  # views per second, halved by the zoom
    assert feed.motion.window.pan == pytest.approx(expected, abs=1e-6)
    feed.motion.move(Move())
    feed.run(0.5)
    assert feed.motion.window.pan == pytest.approx(expected, abs=1e-6)


def test_a_zoom_move_doubles_in_a_second_at_speed_4_and_stops_at_the_limit() -> None:
    feed = Feed()
    feed.run(0.04)
    feed.motion.move(Move(zoom=1.0, speed=4))
    feed.run(1.0)
    assert feed.motion.window.zoom == pytest.approx(2.0, rel=1e-6)
    feed.run(10.0)
    assert feed.motion.window.zoom == 8.0  # max_zoom


def test_a_move_past_the_edge_stays_at_the_edge() -> None:
    feed = Feed()
    feed.motion.goto(Window(0.5, 0.5, 4.0))
    feed.run(0.04)
    feed.motion.move(Move(tilt=-1.0, speed=7))
    feed.run(3.0)
    assert feed.motion.window.tilt == pytest.approx(0.125)


def test_a_patrol_reaches_each_preset_within_one_frame_of_its_schedule() -> None:
    feed = Feed()
    a, b = Window(0.3, 0.3, 2.0), Window(0.7, 0.6, 3.0)
    feed.run(0.2)
    start = feed.motion.clock
    points = [PatrolPoint(a, 2.0, 40), PatrolPoint(b, 1.0, 20)]
    feed.motion.patrol(1, points)
    feed.run(8.0)
    # Scheduled arrival at each point, over two laps.
    arrivals: list[tuple[float, Window]] = []
    t = start
    for _ in range(2):
        for point in points:
            t += transition_time(point.speed)
            arrivals.append((t, point.window))
            t += point.dwell
    for due, window in arrivals:
        first = next(pts for pts, seen in feed.seen if pts >= due - 1e-9 and seen == window)
        assert due <= first < due + 1 / FPS + 1e-9, (due, first)
        # and the window stays there for the whole dwell
        leaving = [seen for pts, seen in feed.seen if first <= pts < first + 0.9]
        assert all(seen == window for seen in leaving)
    # Between two presets the window passes through the places between them.
    moving = [seen for pts, seen in feed.seen if arrivals[0][0] + 2.0 < pts < arrivals[1][0]]
    assert any(a.pan < seen.pan < b.pan for seen in moving)
    assert feed.motion.status()["patrol"] == 1


def test_a_move_by_hand_ends_a_patrol() -> None:
    feed = Feed()
    feed.run(0.04)
    feed.motion.patrol(2, [PatrolPoint(Window(0.3, 0.3, 2.0), 5.0, 40)])
    feed.run(1.0)
    feed.motion.move(Move(pan=1.0))
    assert feed.motion.status()["patrol"] is None
    before = feed.motion.window.pan
    feed.run(0.2)
    assert feed.motion.window.pan > before


def test_a_recorded_pattern_replays_the_same_path() -> None:
    feed = Feed()
    feed.motion.goto(Window(0.4, 0.4, 2.0))
    feed.run(0.04)
    feed.motion.start_recording()
    feed.run(0.2)
    feed.motion.move(Move(pan=1.0, speed=5))
    feed.run(0.6)
    feed.motion.move(Move(zoom=1.0, tilt=-1.0, speed=3))
    feed.run(0.4)
    feed.motion.goto(Window(0.6, 0.7, 2.5))
    feed.run(0.3)
    feed.motion.move(Move())
    feed.run(0.2)
    recorded = feed.motion.stop_recording()
    assert recorded is not None and len(recorded.steps) == 4
    path = [seen for pts, seen in feed.seen[1:]]
    feed.motion.goto(Window())  # somewhere else
    feed.run(0.2)
    feed.seen.clear()
    feed.motion.replay(1, recorded)
    feed.run(recorded.length + 0.5)
    replayed = [seen for _, seen in feed.seen]
    for original, again in zip(path, replayed, strict=False):
        assert again.pan == pytest.approx(original.pan, abs=1e-6)
        assert again.tilt == pytest.approx(original.tilt, abs=1e-6)
        assert again.zoom == pytest.approx(original.zoom, rel=1e-6)
    assert feed.motion.status()["pattern"] is None  # it ran once and ended
    assert replayed[-1] == Window(0.6, 0.7, 2.5)


def test_a_reconnect_restarting_the_timestamps_moves_nothing_by_itself() -> None:
    feed = Feed()
    feed.motion.goto(Window(0.3, 0.5, 2.0))
    feed.run(0.04)
    feed.motion.move(Move(pan=1.0, speed=1))
    feed.run(1.0)
    before = feed.motion.window.pan
    feed.motion.process(picture(0.0))  # the source reconnected: pts back to 0
    assert feed.motion.window.pan == before


def test_commands_from_other_threads_are_safe() -> None:
    feed = Feed()
    stop = threading.Event()

    def commands() -> None:
        while not stop.is_set():
            feed.motion.move(Move(pan=1.0, speed=7))
            feed.motion.goto(Window(0.5, 0.5, 3.0))

    thread = threading.Thread(target=commands)
    thread.start()
    try:
        feed.run(2.0)
    finally:
        stop.set()
        thread.join()
    window = feed.motion.window
    assert window == window.clamped(8.0)


def test_a_full_recording_keeps_what_it_took() -> None:
    feed = Feed()
    feed.run(0.04)
    feed.motion.start_recording()
    for _ in range(PATTERN_MOVES + 5):
        feed.motion.move(Move(pan=1.0, speed=1))
    feed.run(0.2)
    recorded = feed.motion.stop_recording()
    assert recorded is not None and len(recorded.steps) == PATTERN_MOVES
    assert recorded.length == 0.0  # every move came before the next frame
    feed.motion.start_recording()
    feed.run(PATTERN_SECONDS + 1)
    recorded = feed.motion.stop_recording()
    assert recorded is not None and recorded.length == pytest.approx(PATTERN_SECONDS)


def test_a_window_of_its_own_shape_keeps_a_place_asked_for_before_its_first_frame() -> None:
    """An ePTZ channel over a wide panorama (a 2:1 window over 256x64 pictures): a preset called
    at start, before any picture, pans at zoom 1; the first frame clamps it with the real
    extent, not as if the window were the whole picture (which cannot pan)."""
    motion = PtzMotion(PTZ_SCHEMA({"enabled": True, "size": [128, 64]}), lambda: None)
    assert not motion.fitted
    assert motion.goto(Window(0.9, 0.5, 1.0)) == Window(0.9, 0.5, 1.0)
    wide = np.zeros((64, 256), np.uint8)
    half = np.zeros((32, 128), np.uint8)
    out = motion.process(Frame(y=wide, u=half, v=half, pts=0.0, wall_time=0.0, demux_time=0.0))
    assert motion.fitted and (out.width, out.height) == (128, 64)
    # the window is half the panorama's width: its centre can go as far as 0.75
    assert motion.window == Window(0.75, 0.5, 1.0)
    assert out.y.shape == (64, 128)


def test_a_patrol_started_before_the_first_frame_is_kept_inside_the_picture() -> None:
    motion = PtzMotion(PTZ_SCHEMA({"enabled": True, "size": [128, 64]}), lambda: None)
    motion.patrol(1, [PatrolPoint(Window(0.0, 0.5, 1.0), 1.0, 7), PatrolPoint(Window(), 1.0, 7)])
    wide = np.zeros((64, 256), np.uint8)
    half = np.zeros((32, 128), np.uint8)
    pans = []
    for index in range(round(3 * FPS)):
        pts = index / FPS
        motion.process(Frame(y=wide, u=half, v=half, pts=pts, wall_time=0.0, demux_time=pts))
        pans.append(motion.window.pan)
    # the first point (pan 0) is as far left as a half-wide window goes: 0.25, never beyond
    assert min(pans) == pytest.approx(0.25) and max(pans) <= 0.75
