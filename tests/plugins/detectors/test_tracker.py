"""The shared tracker: one per channel, one identity per walker, no target from noise, flashes, brightness steps, specks or what never moved."""

from __future__ import annotations

import math
import random
from typing import Any

import cv2
import numpy as np
import pytest

from camera_runtime.interfaces import DetectorContext
from camera_runtime_plugins.detectors.tracker import (
    COAST_TIME,
    GATE_FACTOR,
    GATE_MIN,
    LEVEL,
    TENTATIVE_COAST_TIME,
    Track,
    Tracker,
    _label_type,
    shared_tracker,
)

from .smart_scenes import FPS, PERSON, WARM_UP, _walk, render

W, H = 320, 180


def _feed(tracker: Tracker, pictures: tuple[np.ndarray, ...]) -> list[list[tuple[int, bool]]]:
    seen = []
    for index, picture in enumerate(pictures):
        tracks = tracker.update(picture, 1000.0 + index / FPS)
        seen.append([(t.id, t.confirmed) for t in tracks if t.seen])
    return seen


def test_one_tracker_per_channel_context_and_one_update_per_picture() -> None:
    context = DetectorContext("cam", W, H, FPS)
    tracker = shared_tracker(context)
    assert shared_tracker(context) is tracker
    assert shared_tracker(DetectorContext("cam", W, H, FPS)) is not tracker  # a new start
    picture = np.full((H, W), 100, np.uint8)
    first = tracker.update(picture, 1.0)
    assert tracker.update(picture, 1.0) is first  # the second detector's call costs nothing


def test_a_walker_keeps_one_identity_from_edge_to_edge() -> None:
    rng = np.random.default_rng(1)
    person, seconds = _walk((-PERSON[0], 70.0), (W + 2.0, 70.0), 30.0, False)
    pictures, boxes = render(rng, "none", person, seconds, None)
    seen = _feed(Tracker(W, H, FPS), pictures)
    confirmed = {i for frame in seen for i, ok in frame if ok}
    assert len(confirmed) == 1
    walking = [
        frame for frame, box in zip(seen, boxes, strict=True) if box and 0 < box[0] < W - PERSON[0]
    ]
    assert all(any(ok for _, ok in frame) for frame in walking[3:])


def test_noise_brightness_steps_and_a_flash_make_no_target() -> None:
    rng = np.random.default_rng(2)
    for distractor in ("none", "brightness"):
        pictures, _ = render(rng, distractor, lambda t: None, 12.0, None)
        seen = _feed(Tracker(W, H, FPS), pictures)
        assert not any(ok for frame in seen for _, ok in frame), distractor
    flash = list(render(rng, "none", lambda t: None, 4.0, None)[0])
    flash[WARM_UP + 5] = flash[WARM_UP + 5].copy()
    flash[WARM_UP + 5][50:90, 100:115] = 250  # one picture only
    seen = _feed(Tracker(W, H, FPS), tuple(flash))
    assert not any(ok for frame in seen for _, ok in frame)


def test_shake_makes_at_most_one_person_sized_target_in_twenty_scenes() -> None:
    # one-pixel shake at detect size (4 px at 720p) leaves slivers along sharp edges; the
    # fill test drops most, and what is left is mostly smaller than a person
    person_sized = 0
    for seed in range(20):
        pictures, _ = render(np.random.default_rng(seed), "shake", lambda t: None, 12.0, None)
        tracker = Tracker(W, H, FPS)
        found = set()
        for index, picture in enumerate(pictures):
            for t in tracker.update(picture, 1000.0 + index / FPS):
                if t.confirmed and t.seen and t.box[2] >= 0.02 * W and t.box[3] >= 0.08 * H:
                    found.add(t.id)
        person_sized += len(found)
    assert person_sized <= 1


def test_what_never_moved_is_not_a_target_and_a_lost_target_coasts_then_goes() -> None:
    rng = np.random.default_rng(3)
    pictures, _ = render(rng, "none", lambda t: (150.0, 60.0) if t >= 1 else None, 6.0, None)
    tracker = Tracker(W, H, FPS)
    seen = _feed(tracker, pictures)
    assert any(frame for frame in seen)  # it is found ...
    assert not any(ok for frame in seen for _, ok in frame)  # ... but never a target
    person, seconds = _walk((20.0, 60.0), (200.0, 60.0), 30.0, False)
    pictures, _ = render(rng, "none", person, seconds, None)
    tracker = Tracker(W, H, FPS)
    _feed(tracker, pictures)
    last = 1000.0 + (len(pictures) - 1) / FPS
    (walker,) = [t for t in tracker.tracks if t.confirmed]
    gone = pictures[0]  # the empty scene again: the walker vanished
    tracker.update(gone, last + COAST_TIME / 2)
    assert walker in tracker.tracks and not walker.seen  # coasting
    tracker.update(gone, last + COAST_TIME + 0.5)
    assert walker not in tracker.tracks


@pytest.mark.parametrize("x, y", [(100, 60), (101, 60), (100, 61), (151, 87)])
def test_a_blob_s_box_is_within_half_a_pixel_of_its_pixels_box(x: int, y: int) -> None:
    """Blobs are found on cells of 2x2 pixels; their box is the cells' box half a pixel in on
    each side, so each side is within half a pixel of the box of the foreground pixels
    themselves, wherever the object lies against the cells."""
    tracker = Tracker(W, H, FPS)
    masks = []
    update = tracker.foreground.update

    def spy(*args: Any, **kwargs: Any) -> Any:
        found = update(*args, **kwargs)
        if found is not None and found.masks:
            masks.append(found)
        return found

    tracker.foreground.update = spy  # type: ignore[method-assign]
    picture = np.full((H, W), 100, np.uint8)
    for index in range(3):
        tracker.update(picture, 1000.0 + index / FPS)
    with_box = picture.copy()
    cv2.rectangle(with_box, (x, y), (x + 9, y + 22), 200, -1)
    (track,) = tracker.update(with_box, 1000.0 + 3 / FPS)
    (found,) = masks
    bx, by, bw, bh = cv2.boundingRect(found.masks[LEVEL])
    left, top = found.box[0] + bx, found.box[1] + by
    tx, ty, tw, th = track.box
    assert abs(tx - left) <= 0.5 and abs(ty - top) <= 0.5
    assert abs(tx + tw - (left + bw)) <= 0.5 and abs(ty + th - (top + bh)) <= 0.5


def test_a_track_that_never_became_a_target_coasts_less() -> None:
    """A target's track coasts ``COAST_TIME``, the debris of a busy picture (a blob of a few
    pictures, never a target) ``TENTATIVE_COAST_TIME``: weighed against every blob while it
    lasts, it is dropped sooner."""
    tracker = Tracker(W, H, FPS)
    t = 1000.0
    for step in range(6):  # a blob walking right: a target from its third picture
        t += 1 / FPS
        tracker._associate([(40.0 + 6 * step, 60.0, 12.0, 30.0), (200.0, 100.0, 6.0, 6.0)], t)
    walker, speck = sorted(tracker.tracks, key=lambda track: track.box[0])
    assert walker.confirmed and not speck.confirmed
    last = t
    t = last + (TENTATIVE_COAST_TIME + 0.1)
    tracker._associate([], t)
    assert tracker.tracks == [walker] and not walker.seen
    tracker._associate([], last + COAST_TIME + 0.1)
    assert tracker.tracks == []


def test_the_pairs_are_every_blob_within_a_track_s_gate() -> None:
    """Association weighs the (track, blob) pairs ``_pairs`` finds, those it rules out along
    an axis first included: every pair within the gate as a plain loop over every pair
    computes it, in floats, and no other (a busy picture's tens of tracks and blobs are not
    all paired)."""
    draw = random.Random(15)
    tracker = Tracker(W, H, FPS)
    timestamp = 1000.0
    for _ in range(200):
        tracker._tracks = [
            Track(
                index,
                (draw.uniform(0, W), draw.uniform(0, H), draw.uniform(2, 40), draw.uniform(2, 60)),
                timestamp - 1.0,
                timestamp - draw.uniform(0.0, COAST_TIME),
                velocity=(draw.uniform(-50, 50), draw.uniform(-50, 50)),
            )
            for index in range(draw.randrange(0, 40))
        ]
        blobs = [
            (draw.uniform(0, W), draw.uniform(0, H), draw.uniform(2, 40), draw.uniform(2, 60))
            for _ in range(draw.randrange(0, 40))
        ]
        within = set()
        for t_index, track in enumerate(tracker.tracks):
            dt = timestamp - track.last_seen
            cx, cy = track.centre
            px, py = cx + track.velocity[0] * dt, cy + track.velocity[1] * dt
            gate = GATE_MIN + GATE_FACTOR * math.hypot(track.box[2], track.box[3]) / 2
            for b_index, (x, y, w, h) in enumerate(blobs):
                if math.hypot(x + w / 2 - px, y + h / 2 - py) <= gate:
                    within.add((t_index, b_index))
        pairs = tracker._pairs(blobs, timestamp)
        assert {(t_index, b_index) for _, t_index, b_index in pairs} == within
        assert len(pairs) == len(within)


def test_sixteen_bit_labels_are_used_only_where_they_cannot_overflow() -> None:
    """The most components a picture can hold (one pixel in every 2x2 square) get the same
    labels and stats with 16-bit labels as with 32-bit ones, up to the size where they would
    overflow; beyond it the tracker takes 32-bit labels."""
    assert _label_type((180 + 20, 320 + 10)) == cv2.CV_16U
    assert _label_type((360, 640)) == cv2.CV_16U
    assert _label_type((720, 1280)) == cv2.CV_32S
    dots = np.zeros((360, 640), dtype=np.uint8)
    dots[::2, ::2] = 255
    wide = cv2.connectedComponentsWithStats(dots, connectivity=8)
    narrow = cv2.connectedComponentsWithStats(dots, connectivity=8, ltype=cv2.CV_16U)
    assert wide[0] == narrow[0] == 180 * 320 + 1
    assert np.array_equal(wide[1], narrow[1]) and np.array_equal(wide[2], narrow[2])
