"""Audio exception detection (manual 6.2.1): the rules on measured levels, the level the file
source measures from generated tone, silence and noise tracks, and the events a runtime raises
from a real clip's audio track (or its absence)."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import voluptuous as vol

from camera_runtime.host import runtime_from_data
from camera_runtime.interfaces import DetectorContext
from camera_runtime.model import AudioLevel, Event, EventPhase, EventUpdate
from camera_runtime_plugins.detectors.audio_exception import (
    AudioExceptionDetector,
    decrease_margin,
    increase_margin,
)
from camera_runtime_plugins.sources.file import FileSource

from ..sources.helpers import ffmpeg

BLOCK = 0.02  # s of audio per measured block
PICTURE = np.zeros((18, 32), np.uint8)


def detector(**options: Any) -> AudioExceptionDetector:
    return AudioExceptionDetector(
        AudioExceptionDetector.CONFIG_SCHEMA(options), DetectorContext("yard", 32, 18, 5.0)
    )


def play(
    d: AudioExceptionDetector, segments: list[tuple[float, float]], start: float = 0.0
) -> list[tuple[float, EventPhase, Event]]:
    """Feed ``(seconds, dBFS)`` segments as 20 ms blocks; returns (media time, phase, event)."""
    out: list[tuple[float, EventPhase, Event]] = []
    t = start
    for seconds, db in segments:
        for _ in range(round(seconds / BLOCK)):
            level = AudioLevel(t, BLOCK, db, db, 1000.0 + t)
            out += [(t, phase, event) for phase, event in d.hear(level)]
            t += BLOCK
    return out


def test_a_bang_in_a_quiet_yard_is_a_sudden_increase_that_ends_when_it_is_quiet_again() -> None:
    changes = play(detector(), [(3.0, -70.0), (1.0, -20.0), (3.0, -70.0)])
    assert [(phase, e.type) for _, phase, e in changes] == [
        (EventPhase.NEW, "sound_increase"),
        (EventPhase.END, "sound_increase"),
    ]
    (t_new, _, event), (t_end, _, _) = changes
    assert 3.0 <= t_new <= 3.0 + 0.25  # within the short window of the bang's start
    assert 4.0 <= t_end <= 4.0 + 0.25 + 0.5 + BLOCK  # the window, then half a second quiet
    assert event.data["background"] == pytest.approx(30.0, abs=0.5)
    assert event.data["intensity"] >= 50.0


def test_the_threshold_and_the_sensitivity_decide() -> None:
    # 15 dB above the background: enough at sensitivity 100 (3 dB), not at 50 (21.5 dB).
    loud = [(3.0, -60.0), (1.0, -45.0), (1.0, -60.0)]
    assert not play(detector(intensity_threshold=40), loud)
    assert play(detector(intensity_threshold=40, increase_sensitivity=100), loud)
    # A rise that stays under the sound intensity threshold is no event, however sudden.
    assert not play(detector(intensity_threshold=60), [(3.0, -90.0), (1.0, -45.0)])
    assert increase_margin(1) > increase_margin(50) > increase_margin(100) == 3.0
    assert decrease_margin(1) > decrease_margin(50) > decrease_margin(100) == 6.0


def test_a_machine_that_stops_is_a_sudden_decrease_when_asked_for() -> None:
    machine = [(3.0, -40.0), (2.0, -90.0)]
    assert not play(detector(), machine)  # sudden decrease is off by default
    changes = play(detector(sudden_decrease=True, sudden_increase=False), machine)
    assert [(phase, e.type) for _, phase, e in changes] == [(EventPhase.NEW, "sound_decrease")]
    # Silence cannot fall: no background, no decrease.
    assert not play(detector(sudden_decrease=True), [(3.0, -95.0), (2.0, -100.0)])


def test_a_lasting_change_of_scene_ends_the_event_as_the_background_follows() -> None:
    changes = play(detector(), [(3.0, -70.0), (120.0, -20.0)])
    assert [phase for _, phase, _ in changes] == [EventPhase.NEW, EventPhase.END]


def test_audio_loss_on_the_wall_clock_of_the_pictures() -> None:
    d = detector(loss_after=2.0)
    assert d.process(PICTURE, 100.0) == []
    assert d.process(PICTURE, 101.9) == []
    ((phase, loss),) = d.process(PICTURE, 102.0)  # no audio at all: no track
    assert (phase, loss.type, loss.data["reason"]) == (
        EventPhase.NEW,
        "audio_loss",
        "no audio track",
    )
    assert d.process(PICTURE, 103.0) == []  # once
    ((phase, ended),) = d.hear(AudioLevel(0.0, BLOCK, -100.0, -100.0, 103.5))
    assert (phase, ended.end, ended.data["recovered"]) == (EventPhase.END, 103.5, True)
    # Silence is a level, not a loss; two seconds without one is.
    assert d.process(PICTURE, 105.4) == []
    ((phase, again),) = d.process(PICTURE, 105.6)
    assert phase is EventPhase.NEW and "reason" not in again.data
    ((phase, finished),) = d.finish(106.0)
    assert phase is EventPhase.END and finished.data["recovered"] is False


@pytest.mark.parametrize(
    "options",
    [{"increase_sensitivity": 0}, {"intensity_threshold": 101}, {"loss_after": 0.5}, {"x": 1}],
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(vol.Invalid):
        AudioExceptionDetector.CONFIG_SCHEMA(options)


# --- real tracks --------------------------------------------------------------------------


def make_clip(path: Path, audio: str | None, seconds: float) -> Path:
    """A small H.264 clip with a generated AAC track (``audio``: an ``aevalsrc`` expression)."""
    video = ["-f", "lavfi", "-i", f"testsrc2=size=160x96:rate=25:duration={seconds}"]
    sound = ["-f", "lavfi", "-i", f"aevalsrc='{audio}':s=48000:d={seconds}"] if audio else []
    ffmpeg(
        *video, *sound, "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
        "-pix_fmt", "yuv420p", *(["-c:a", "aac", "-b:a", "128k"] if audio else []),
        "-shortest", str(path),
    )  # fmt: skip
    return path


def test_the_file_source_measures_a_tone_and_silence(tmp_path: Path) -> None:
    """A 0.5 full-scale sine has an RMS of 0.5/sqrt(2): -9.03 dBFS; then 1 s of silence."""
    clip = make_clip(tmp_path / "tone.mp4", "if(lt(t,2),0.5*sin(2*PI*440*t),0)", 3.0)
    source = FileSource(FileSource.CONFIG_SCHEMA({"path": str(clip), "realtime": False}))
    source.listen_audio()
    source.open()
    levels: list[AudioLevel] = []
    try:
        with pytest.raises(Exception, match="end of file"):
            while True:
                source.decode(source.read_packet())
                levels += source.audio_levels()
    finally:
        source.close()
    levels += source.audio_levels()
    tone = [lv.rms_db for lv in levels if 0.2 < lv.media_time < 1.8]
    quiet = [lv.rms_db for lv in levels if lv.media_time > 2.2]
    assert tone and quiet
    assert np.median(tone) == pytest.approx(20 * math.log10(0.5 / math.sqrt(2)), abs=0.5)
    assert max(lv.peak_db for lv in levels if 0.2 < lv.media_time < 1.8) == pytest.approx(
        20 * math.log10(0.5), abs=0.6
    )
    assert max(quiet) < -80.0
    assert sum(lv.duration for lv in levels) == pytest.approx(3.0, abs=0.1)


async def _events(data: dict[str, Any], tmp_path: Path, done: Any) -> list[EventUpdate]:
    runtime = runtime_from_data(data, data_dir=tmp_path / "data")
    updates: list[EventUpdate] = []
    finished = asyncio.Event()

    def seen(update: EventUpdate) -> None:
        updates.append(update)
        if done(updates):
            finished.set()

    runtime.bus.subscribe(seen)
    await runtime.start()
    try:
        async with asyncio.timeout(30):
            await finished.wait()
    finally:
        await runtime.stop()
    return updates


def _channel(clip: Path, realtime: bool, **options: Any) -> dict[str, Any]:
    return {
        "channels": [
            {
                "id": "yard",
                "source": {"type": "file", "path": str(clip), "realtime": realtime},
                "detectors": {"audio_exception": options},
            }
        ]
    }


async def test_a_runtime_raises_a_sudden_increase_from_a_noise_burst(tmp_path: Path) -> None:
    """Quiet hum, half a second of loud noise at 3 s, quiet again: one sudden increase."""
    burst = "if(between(t,3,3.5),0.8*(random(0)*2-1),0.003*sin(2*PI*100*t))"
    clip = make_clip(tmp_path / "burst.mp4", burst, 5.0)

    def ended(updates: list[EventUpdate]) -> bool:
        return any(u.phase is EventPhase.END and u.event.type == "sound_increase" for u in updates)

    updates = await _events(_channel(clip, False), tmp_path, ended)
    ours = [(u.phase, u.event.type) for u in updates if u.event.type != "video_loss"]
    assert ours[:2] == [(EventPhase.NEW, "sound_increase"), (EventPhase.END, "sound_increase")]
    event = updates[[u.event.type for u in updates].index("sound_increase")].event
    assert event.channel == "yard" and event.data["intensity"] >= 50  # the threshold


async def test_a_stream_without_audio_raises_audio_loss(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "mute.mp4", None, 4.0)

    def lost(updates: list[EventUpdate]) -> bool:
        return any(u.event.type == "audio_loss" for u in updates)

    updates = await _events(_channel(clip, True, loss_after=1.0), tmp_path, lost)
    losses = [u for u in updates if u.event.type == "audio_loss"]
    assert [u.phase for u in losses] == [EventPhase.NEW, EventPhase.END]  # ended by the stop
    assert losses[0].event.data["reason"] == "no audio track"
    assert losses[1].event.data["recovered"] is False


def test_the_clip_helper_writes_what_the_tests_expect(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "check.mp4", "0.1*sin(2*PI*440*t)", 1.0)
    with av.open(str(clip)) as container:
        assert len(container.streams.audio) == 1 and len(container.streams.video) == 1
