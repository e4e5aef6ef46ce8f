"""Motion detection on synthetic pictures: one event per movement, sensitivity, areas, boxes, light changes."""

from __future__ import annotations

import json
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from camera_runtime.imaging import downscale_luma
from camera_runtime.model import Box, EventPhase
from camera_runtime.registry import collect_registry, create_plugin_manager
from camera_runtime_plugins.detectors import motion
from camera_runtime_plugins.detectors.motion import MotionDetector
from camera_runtime_plugins.detectors.motion_events import Finding, extent, iou

from .scenes import Changes, Rect, Scene, make_detector, phases, run, walker

T0 = 1_750_000_000.0  # any wall time; the detector only uses differences (and local time)


@pytest.mark.parametrize("sensitivity", [50, 100])
def test_static_scene_with_sensor_noise_raises_nothing(sensitivity: int) -> None:
    detector = make_detector({"sensitivity": sensitivity})
    changes = run(detector, Scene(noise=3.0), T0, 60)
    assert changes == []


@pytest.mark.parametrize("fps", [5.0, 10.0, 25.0])
def test_each_movement_is_one_event_ended_after_the_hold_time(fps: float) -> None:
    detector = make_detector({"hold_time": 5}, fps=fps)

    def objects(t: float) -> list[Rect]:  # walks right 2..5 s, stands, walks back 20..23 s
        if t < 20:
            return walker(2, 5)(t)
        return walker(20, 23, start=(280, 70), end=(20, 70))(t)

    changes = run(detector, Scene(), T0, 40, objects, fps=fps)

    news = [e for p, e in changes if p is EventPhase.NEW]
    ends = [e for p, e in changes if p is EventPhase.END]
    assert [p for p in phases(changes) if p != "update"] == ["new", "end", "new", "end"]
    for new, end in zip(news, ends, strict=True):
        assert new.id == end.id and end.end is not None and new.end is None
        assert new.type == "motion" and new.channel == "cam"
        # every change in between belongs to this event
        during = [e.id for _, e in changes if new.start <= e.start and e.start <= end.end]
        assert set(during) == {new.id}
    first, second = news
    assert T0 + 2.0 <= first.start <= T0 + 2.0 + 2 / fps  # starts on the first moving picture
    assert T0 + 20.0 <= second.start <= T0 + 20.0 + 2 / fps
    # the object stops at 5 s (its fading trail a few tenths later): the event ends hold_time on
    for end, stop in zip(ends, (5.0, 23.0), strict=True):
        assert end.end is not None
        assert T0 + stop + 5.0 <= end.end <= T0 + stop + 5.0 + 1.0


def test_a_pause_shorter_than_the_hold_time_keeps_one_event() -> None:
    detector = make_detector({"hold_time": 4})

    def objects(t: float) -> list[Rect]:  # walk, stand 3 s, walk on
        if t < 6:
            return walker(1, 3, end=(150, 70))(t)
        return walker(6, 8, start=(150, 70))(t)

    changes = run(detector, Scene(), T0, 20, objects)
    assert phases(changes).count("new") == 1 and phases(changes).count("end") == 1
    assert len({e.id for _, e in changes}) == 1


def test_hold_time_zero_ends_on_the_first_still_picture() -> None:
    detector = make_detector({"hold_time": 0})
    changes = run(detector, Scene(), T0, 10, walker(1, 3))
    end = changes[-1][1]
    assert phases(changes).count("new") == 1 and changes[-1][0] is EventPhase.END
    assert end.end is not None and end.end < T0 + 3 + 1.0


def test_the_first_picture_only_learns_the_background() -> None:
    detector = make_detector()
    scene = Scene()
    # an object is in the very first picture: it is part of the scene, not motion
    assert detector.process(scene.picture([Rect(100, 50, 40, 40)]), T0) == []
    assert detector.process(scene.picture([Rect(100, 50, 40, 40)]), T0 + 0.1) == []


def test_updates_come_at_most_once_a_second_and_say_where_the_motion_is() -> None:
    detector = make_detector({"hold_time": 2})
    changes = run(detector, Scene(), T0, 14, walker(1, 9))
    assert phases(changes)[0] == "new" and phases(changes)[-1] == "end"
    updates = [e for p, e in changes if p is EventPhase.UPDATE]
    assert 3 <= len(updates) <= 9  # the walker crosses the picture in 8 s
    new_event = changes[0][1]
    assert set(new_event.data) == {"areas", "boxes", "sensitivity", "day_night"}
    assert new_event.data["areas"] == ["area_1"] and new_event.data["sensitivity"] == 50
    assert new_event.data["day_night"] == "day"
    json.dumps([e.as_dict() for _, e in changes])  # event data stays JSON-serialisable
    # each UPDATE reports boxes that moved right along with the walker
    extents = [extent([Box(**b) for b in u.data["boxes"]]) for u in updates]
    xs = [box.x for box in extents if box is not None]
    assert len(xs) == len(updates) and xs == sorted(xs)


def test_update_rate_is_limited_to_one_per_second() -> None:
    detector = make_detector({"hold_time": 2})
    emitted: list[float] = []
    scene = Scene()
    objects = walker(1, 5)
    for i in range(80):
        t = T0 + i / 10
        for phase, _ in detector.process(scene.picture(objects(i / 10)), t):
            if phase is not EventPhase.END:
                emitted.append(t)
    gaps = np.diff(emitted)
    assert len(emitted) >= 3 and gaps.min() >= 1.0 - 1e-9


def test_boxes_cover_the_moving_object() -> None:
    detector = make_detector({"hold_time": 30})
    scene = Scene()
    objects = walker(1, 9, start=(20, 100), end=(260, 30), size=(30, 50))
    checked = 0
    for i in range(100):
        t = i / 10
        for _, event in detector.process(scene.picture(objects(t)), T0 + t):
            rect = objects(t)[0]
            truth = Box(rect.x / 320, rect.y / 180, rect.w / 320, rect.h / 180)
            found = extent([Box(**b) for b in event.data["boxes"]])
            assert found is not None
            # the box holds the object (plus a short fading trail behind it)
            assert found.x <= truth.x + 0.02 and found.x + found.w >= truth.x + truth.w - 0.02
            assert found.y <= truth.y + 0.03 and found.y + found.h >= truth.y + truth.h - 0.03
            assert iou(found, truth) > 0.3
            checked += 1
    assert checked >= 4


def test_boxes_are_measured_only_for_the_pictures_an_event_reports() -> None:
    """The dilation and contours behind the boxes run when an event reads them (its start, an
    update check at most once a second, its end), not on every picture with motion; the
    events are the same as with the boxes measured on every picture."""

    def events(every_picture: bool) -> tuple[list[tuple[object, ...]], int]:
        detector = make_detector({"hold_time": 2})
        measured = 0
        measure = detector._boxes

        def counting(*args: object) -> tuple[Box, ...]:
            nonlocal measured
            measured += 1
            return measure(*args)

        detector._boxes = counting
        if every_picture:
            observe = detector._events.observe

            def reading(timestamp: float, finding: Finding | None) -> Changes:
                if finding is not None:
                    _ = finding.boxes
                return observe(timestamp, finding)

            detector._events.observe = reading
        changes = run(detector, Scene(), T0, 14, walker(1, 9))
        return [(p, e.start, e.end, e.data) for p, e in changes], measured

    lazily, measured = events(every_picture=False)
    eagerly, pictures_with_motion = events(every_picture=True)
    assert lazily == eagerly and lazily[0][0] is EventPhase.NEW
    # 8 s of walking at 10 fps: about 80 pictures with motion, about one read a second
    assert pictures_with_motion >= 70 and measured <= 12


def test_without_dynamic_analysis_events_carry_no_boxes() -> None:
    detector = make_detector({"dynamic_analysis": False, "hold_time": 1})
    changes = run(detector, Scene(), T0, 8, walker(1, 4))
    assert phases(changes)[0] == "new" and phases(changes)[-1] == "end"
    assert all("boxes" not in e.data and e.data["areas"] == ["area_1"] for _, e in changes)


def test_sensitivity_zero_disables_detection() -> None:
    detector = make_detector({"sensitivity": 0})
    assert run(detector, Scene(), T0, 10, walker(1, 5, value=250)) == []


@pytest.mark.parametrize(
    ("name", "objects"),
    [
        ("faint", walker(1, 5, value=None, delta=14)),
        ("small", walker(1, 5, size=(5, 5), value=15)),
    ],
)
def test_higher_sensitivity_sees_what_lower_sensitivity_misses(
    name: str, objects: Callable[[float], list[Rect]]
) -> None:
    low = run(make_detector({"sensitivity": 30}), Scene(), T0, 8, objects)
    high = run(make_detector({"sensitivity": 90}), Scene(), T0, 8, objects)
    assert low == [], name
    assert phases(high).count("new") == 1, name


def test_thresholds_follow_sensitivity_monotonically() -> None:
    values = range(1, 101)
    levels = [motion.level(s) for s in values]
    fractions = [motion.min_changed_fraction(s) for s in values]
    contrasts = [lv.contrast for lv in levels]
    floors = [lv.floor for lv in levels]
    assert contrasts == sorted(contrasts, reverse=True) and len(set(contrasts)) == 100
    assert floors == sorted(floors, reverse=True) and floors[-1] == 3
    assert fractions == sorted(fractions, reverse=True)
    # at a noise level the threshold follows too, and rises with the noise
    for noise in (0.5, 1.0, 3.0):
        thresholds = [lv.threshold(noise) for lv in levels]
        assert thresholds == sorted(thresholds, reverse=True)
    assert motion.level(50).threshold(3.0) > motion.level(50).threshold(0.6)


def test_slow_light_change_is_not_motion() -> None:
    # dusk: the picture darkens to 40 % over one minute, a little each picture
    detector = make_detector({"sensitivity": 100})
    changes = run(detector, Scene(), T0, 60, gain=lambda t: 1.0 - 0.6 * t / 60)
    assert changes == []


def test_a_cloud_darkening_the_scene_within_seconds_is_not_motion() -> None:
    # 40 % darker within 2 s: faster than the background follows (without the brightness
    # ratio the bright parts would lag by more than the threshold and raise an event)
    detector = make_detector({"sensitivity": 90})
    cloud = run(detector, Scene(), T0, 10, gain=lambda t: max(0.6, min(1.0, 1.0 - 0.2 * (t - 3))))
    assert cloud == []


@pytest.mark.parametrize("gain", [0.55, 0.93, 1.06, 1.25])
def test_sudden_light_change_is_not_motion(gain: float) -> None:
    # a lamp switched, or the exposure stepped: the whole picture changes at once (small steps
    # change only the brightest parts beyond the threshold, large ones nearly every pixel)
    detector = make_detector({"sensitivity": 90})
    changes = run(detector, Scene(), T0, 10, gain=lambda t: 1.0 if t < 3 else gain)
    assert changes == []


def test_motion_after_a_light_change_is_still_found() -> None:
    detector = make_detector({"hold_time": 2})
    changes = run(detector, Scene(), T0, 12, walker(5, 9), gain=lambda t: 1.0 if t < 3 else 0.6)
    news = [e for p, e in changes if p is EventPhase.NEW]
    assert len(news) == 1 and news[0].start >= T0 + 5


TOP_HALF = [[0, 0], [1, 0], [1, 0.5], [0, 0.5]]
BOTTOM_HALF = [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]


def test_motion_outside_every_area_raises_nothing() -> None:
    detector = make_detector({"areas": [{"name": "sky", "polygon": TOP_HALF}]})
    bottom_walker = walker(1, 5, start=(20, 120), end=(280, 120))
    assert run(detector, Scene(), T0, 8, bottom_walker) == []


def test_event_names_the_area_the_motion_is_in() -> None:
    areas = [{"name": "sky", "polygon": TOP_HALF}, {"name": "lawn", "polygon": BOTTOM_HALF}]
    detector = make_detector({"areas": areas, "hold_time": 2})
    changes = run(detector, Scene(), T0, 10, walker(1, 5, start=(20, 120), end=(280, 120)))
    assert phases(changes)[0] == "new" and phases(changes)[-1] == "end"
    assert all(e.data["areas"] == ["lawn"] for _, e in changes)
    # boxes are cut to the areas in motion: nothing above the middle
    assert all(b["y"] >= 0.5 - 1e-6 for _, e in changes for b in e.data["boxes"])


def test_areas_gather_as_the_motion_moves_from_one_to_the_other() -> None:
    areas = [{"name": "sky", "polygon": TOP_HALF}, {"name": "lawn", "polygon": BOTTOM_HALF}]
    detector = make_detector({"areas": areas, "hold_time": 2})
    changes = run(detector, Scene(), T0, 12, walker(1, 7, start=(150, 10), end=(150, 140)))
    assert phases(changes).count("new") == 1
    assert changes[0][1].data["areas"] == ["sky"]
    assert changes[-1][0] is EventPhase.END and changes[-1][1].data["areas"] == ["sky", "lawn"]


def test_grid_area_limits_detection_to_its_cells() -> None:
    left_half = ["1" * 11 + "0" * 11] * 18
    detector = make_detector({"areas": [{"name": "door", "grid": left_half}], "hold_time": 1})
    right = run(detector, Scene(), T0, 6, walker(1, 4, start=(200, 70), end=(290, 70)))
    left = run(detector, Scene(), T0 + 6, 6, walker(1, 4, start=(10, 70), end=(120, 70)))
    assert right == []
    assert phases(left).count("new") == 1 and left[0][1].data["areas"] == ["door"]


def test_an_area_with_its_own_sensitivity_overrides_the_channel_in_expert_mode() -> None:
    areas = [
        {"name": "road", "polygon": TOP_HALF, "day_sensitivity": 0},
        {"name": "path", "polygon": BOTTOM_HALF},
    ]
    detector = make_detector({"mode": "expert", "areas": areas, "hold_time": 1})
    road = run(detector, Scene(), T0, 6, walker(1, 4, start=(20, 20), end=(280, 20)))
    path = run(detector, Scene(), T0 + 6, 6, walker(1, 4, start=(20, 120), end=(280, 120)))
    assert road == []
    assert phases(path).count("new") == 1 and path[0][1].data["areas"] == ["path"]


def test_finish_ends_the_active_event() -> None:
    detector = make_detector({"hold_time": 60})
    changes = run(detector, Scene(), T0, 5, walker(1, 4))
    assert phases(changes)[0] == "new" and "end" not in phases(changes)
    ended = detector.finish(T0 + 5)
    assert len(ended) == 1 and ended[0][0] is EventPhase.END
    assert ended[0][1].id == changes[0][1].id and ended[0][1].end == T0 + 5
    assert detector.finish(T0 + 6) == []


def test_emitted_events_are_snapshots_not_shared_objects() -> None:
    detector = make_detector({"hold_time": 1})
    changes = run(detector, Scene(), T0, 8, walker(1, 4))
    new_event = changes[0][1]
    assert changes[-1][0] is EventPhase.END
    assert new_event.end is None and new_event.active  # END did not rewrite the NEW copy


def test_a_full_resolution_picture_is_shrunk_to_the_detect_size() -> None:
    detector = make_detector({"hold_time": 1})
    big = Scene(width=640, height=360)
    changes = run(
        detector, big, T0, 6, walker(1, 4, start=(40, 140), end=(560, 140), size=(48, 80))
    )
    assert phases(changes).count("new") == 1


def test_the_fast_downscale_finds_the_same_motion_as_one_area_resize() -> None:
    # what the channel does: shrink a 1080p luma plane to the detect size, then detect
    full = Scene(width=1920, height=1080, noise=4.0)
    objects = walker(1, 4, start=(120, 420), end=(1680, 420), size=(144, 240))
    fast, reference = make_detector({"hold_time": 2}), make_detector({"hold_time": 2})
    found: tuple[Changes, Changes] = ([], [])
    for i in range(70):
        t = i / 10
        y = full.picture(objects(t))
        found[0].extend(fast.process(downscale_luma(y, 320, 180), T0 + t))
        area = np.asarray(cv2.resize(y, (320, 180), interpolation=cv2.INTER_AREA), np.uint8)
        found[1].extend(reference.process(area, T0 + t))
    assert phases(found[0]) == phases(found[1]) and phases(found[0])[-1] == "end"
    for (_, a), (_, b) in zip(*found, strict=True):
        assert (a.start, a.end, a.data["areas"]) == (b.start, b.end, b.data["areas"])
        box_a, box_b = (
            extent([Box(**x) for x in a.data["boxes"]]),
            extent([Box(**x) for x in b.data["boxes"]]),
        )
        assert box_a is not None and box_b is not None and iou(box_a, box_b) > 0.9


def test_a_clock_stepping_back_does_not_stretch_the_event() -> None:
    detector = make_detector({"hold_time": 3})
    scene = Scene()
    objects = walker(1, 4)
    changes = run(detector, scene, T0, 4, objects)
    assert phases(changes) and phases(changes)[0] == "new"
    # the wall clock is set back an hour while the scene stays still
    later = run(detector, scene, T0 - 3600, 5, lambda t: objects(4.0))
    assert phases(later)[-1] == "end"
    assert later[-1][1].end is not None and later[-1][1].end <= T0 - 3600 + 3.5


def test_a_long_gap_relearns_the_background() -> None:
    detector = make_detector()
    scene = Scene()
    assert run(detector, scene, T0, 2) == []
    # 30 s later the scene changed (e.g. the source reconnected to a moved camera): no motion
    moved = Scene(seed=7)
    assert run(detector, moved, T0 + 32, 3) == []


def test_the_plugin_manager_finds_the_detector_by_its_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAMERA_RUNTIME_LOAD_PLUGINS", "motion")
    registry = collect_registry(create_plugin_manager())
    assert registry.get("detector", "motion") is MotionDetector


def test_the_module_registers_as_a_plain_plugin() -> None:
    pm = create_plugin_manager(load_entry_points=False, extra_plugins=[motion])
    assert collect_registry(pm).kinds("detector") == ["motion"]


def _speckled(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A 0/255 picture of random specks and blobs, some touching its edges."""
    picture = ((rng.random((height, width)) < rng.uniform(0.01, 0.4)) * 255).astype(np.uint8)
    return cv2.dilate(picture, np.ones((3, 3), np.uint8), iterations=int(rng.integers(0, 3)))


def test_contour_boxes_from_numpy_are_opencv_s_bounding_rects_in_order() -> None:
    """``_point_boxes`` (a few numpy calls for all contours, fewer GIL round trips) gives
    exactly ``cv2.boundingRect`` of each contour, in ``findContours``' order, with its
    offset: the boxes (and which are kept) are the same as one OpenCV call per contour."""
    rng = np.random.default_rng(3)
    many = 0
    for _ in range(400):
        height, width = (int(v) for v in rng.integers(5, 80, 2))
        grown = _speckled(rng, height, width)
        offset = (int(rng.integers(0, 50)), int(rng.integers(0, 50)))
        contours, _ = cv2.findContours(
            grown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=offset
        )
        many += len(contours) > motion._FEW_CONTOURS
        assert motion._point_boxes(contours) == [cv2.boundingRect(c) for c in contours]
    assert many > 100  # the numpy path is what was checked
    assert motion._point_boxes(()) == []


def test_the_day_night_brightness_is_read_only_in_auto_mode() -> None:
    """Off (the default) and scheduled never read the brightness: it is not computed (an
    OpenCV call less per picture), and auto still switches on it."""
    dark = np.full((180, 320), 10, dtype=np.uint8)
    auto = make_detector({"day_night_switch": {"mode": "auto", "switch_delay": 0}})
    auto.process(dark, T0)
    assert auto._switch.update(10.0, T0 + 0.2) == "night"
    off = make_detector({})
    off.process(dark, T0)
    assert off._switch.mode == "off" and off._switch.update(10.0, T0 + 0.2) == "day"
