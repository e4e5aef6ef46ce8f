"""Motion detection accuracy at the default settings (issue 17): faint targets found, noise, brightness steps and shake ignored."""

from __future__ import annotations

import pytest

from camera_runtime_plugins.detectors.motion import MotionDetector

from .motion_scenes import SceneSpec, build, factory, score

MAKE = factory(MotionDetector)


@pytest.mark.parametrize("background", ["textured", "flat"])
@pytest.mark.parametrize("light", ["day", "night"])
def test_a_faint_walker_is_found_in_nine_of_ten_pictures(background: str, light: str) -> None:
    # a person-sized figure at 15 % opacity (about 15 grey levels) walking across the picture
    result = score(build(SceneSpec(background, light, "faint")), MAKE)  # type: ignore[arg-type]
    assert result.visible >= 50
    assert result.recall >= 0.9, result
    assert result.false <= 0.05 * result.scored, result


@pytest.mark.parametrize("light", ["day", "night"])
def test_an_ordinary_walker_is_found_in_every_picture(light: str) -> None:
    result = score(build(SceneSpec("textured", light, "ordinary")), MAKE)  # type: ignore[arg-type]
    assert result.found == result.visible and result.false == 0, result


@pytest.mark.parametrize("kind", ["quiet", "steps", "shake"])
@pytest.mark.parametrize(
    ("background", "light"),
    [("textured", "day"), ("flat", "day"), ("textured", "night"), ("flat", "night")],
)
def test_noise_brightness_steps_and_shake_stay_below_five_percent(
    kind: str, background: str, light: str
) -> None:
    result = score(build(SceneSpec(background, light, kind)), MAKE)  # type: ignore[arg-type]
    assert result.false <= 0.05 * result.scored, result


def test_the_faint_walker_needs_the_adaptive_contrast_to_be_seen() -> None:
    # at sensitivity 30 (a floor of about 10 grey levels) the same faint walker stays unseen:
    # what finds it at 50 is the threshold following the picture's low noise, not luck
    result = score(build(SceneSpec("flat", "day", "faint")), MAKE, {"sensitivity": 30})
    assert result.found == 0, result
