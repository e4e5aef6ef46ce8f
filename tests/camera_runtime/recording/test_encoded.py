"""Recording while the pictures are changed: a running runtime records its channel's encoded
stream (the one live clients share) while a privacy mask, OSD or display info is on, and the
source's packets byte for byte while nothing is. Real channels (a looped H.264 file, a
synthetic scene), real encoders, segments decoded back with PyAV."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from camera_runtime.encoding import EncodedStream
from camera_runtime.feed import MAIN, PacketFanout
from camera_runtime.host import runtime_from_data
from camera_runtime.imaging import COLOURS
from camera_runtime.interfaces import EncoderContext
from camera_runtime.model import Frame, StreamInfo
from camera_runtime.recording.index import RecordingIndex, Segment
from camera_runtime.recording.recorder import ENCODED, PASSTHROUGH, Recorder
from camera_runtime.recording.settings import RECORD_SCHEMA
from camera_runtime.runtime import Runtime
from camera_runtime_plugins.encoders.ffmpeg import FFmpegEncoder

from ...plugins.sources.helpers import ffmpeg
from ..stitching.test_stitching import device
from ..test_display_info import red_pixels, scene_config
from .helpers import EPOCH, decoded_frames, file_packets

SIZE = (320, 240)
#: The recorded stream's configured encoding: smaller than the source, a keyframe every 10.
ENCODED_SIZE = (240, 180)
STREAM = {"width": ENCODED_SIZE[0], "height": ENCODED_SIZE[1], "i_frame_interval": 10}
#: A masked polygon (not a rectangle: the fill must follow its edges).
POLYGON = [[0.05, 0.1], [0.5, 0.15], [0.35, 0.9], [0.1, 0.7]]
BLACK = COLOURS["black"][0]
FRAME = 1 / 25
Mask = npt.NDArray[np.bool_]


@pytest.fixture(scope="module")
def source_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s of colourful H.264 (nothing in it is near the mask's black), a keyframe every 10."""
    path = tmp_path_factory.mktemp("encoded-rec") / "main.ts"
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc=size={SIZE[0]}x{SIZE[1]}:rate=25", "-t", "4",
        "-c:v", "libx264", "-preset", "veryfast", "-g", "10", "-bf", "0",
        "-pix_fmt", "yuv420p", str(path),
    )  # fmt: skip
    return path


def channel(clip: Path, mask_on: bool, **record: Any) -> dict[str, Any]:
    return {
        "channels": [
            {
                "id": "cam",
                "source": {"type": "file", "path": str(clip), "loop": True},
                "image": {"privacy_mask": {"enabled": mask_on, "areas": [POLYGON]}},
                "streams": {"main": STREAM},
                "record": {"enabled": True, **record},
            }
        ]
    }


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Callable[[dict[str, Any]], Any]]:
    runtimes: list[Runtime] = []

    async def started(data: dict[str, Any]) -> Runtime:
        runtime = runtime_from_data(data, data_dir=tmp_path / f"data{len(runtimes)}")
        runtimes.append(runtime)
        await runtime.start()
        return runtime

    yield started
    for runtime in runtimes:
        await runtime.stop()


async def segments_written(recorder: Recorder, count: int) -> None:
    """Wait until the recorder closed ``count`` segments in all."""

    def wait() -> bool:
        with recorder.segment_closed:
            return recorder.segment_closed.wait_for(lambda: recorder.segments_written >= count, 60)

    assert await asyncio.to_thread(wait), f"{recorder.segments_written} segments, not {count}"


def polygon_mask(width: int, height: int, shrink: int) -> tuple[Mask, Mask]:
    """The masked polygon's pixels at ``width`` x ``height``: those ``shrink`` pixels inside
    its edge, and those ``shrink`` pixels outside it (the edge itself is left out: scaling
    and H.264 blur a sharp edge over a few pixels, up to a 4x4 block and its ringing)."""
    area = np.zeros((height, width), np.uint8)
    points = np.array([[round(x * width), round(y * height)] for x, y in POLYGON], np.int32)
    cv2.fillPoly(area, [points], 1)
    kernel = np.ones((2 * shrink + 1, 2 * shrink + 1), np.uint8)
    inside = cv2.erode(area, kernel).astype(bool)
    outside = ~cv2.dilate(area, kernel).astype(bool)
    return inside, outside


def luma(frame: av.VideoFrame) -> npt.NDArray[np.uint8]:
    """The picture's Y plane as coded (video range: the mask's black is 16)."""
    plane: npt.NDArray[np.uint8] = frame.to_ndarray(format="yuv420p")[: frame.height]
    return plane


def lumas(path: Path) -> tuple[str, tuple[int, int], list[npt.NDArray[np.uint8]]]:
    """A segment's codec, size and every decoded picture's luma."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        pictures = [luma(f) for f in container.decode(stream)]
    assert pictures
    return codec, (pictures[0].shape[1], pictures[0].shape[0]), pictures


def assert_masked(path: Path) -> int:
    """Every picture of the segment is the configured stream, masked exactly in the polygon:
    black inside, the scene outside. Returns the pictures checked."""
    codec, size, pictures = lumas(path)
    assert (codec, size) == ("h264", ENCODED_SIZE)
    inside, outside = polygon_mask(*ENCODED_SIZE, shrink=6)
    for picture in pictures:
        assert np.abs(picture[inside].astype(int) - BLACK).max() <= 3
        # The test pattern has some black of its own (about 14 % near the mask's).
        assert (np.abs(picture[outside].astype(int) - BLACK) <= 3).mean() < 0.3
    return len(pictures)


def source_packets(clip: Path) -> set[bytes]:
    return {data for _, _, data in file_packets(clip)}


def recorded(runtime: Runtime, segment: Segment) -> Path:
    return runtime.recordings.root / segment.path


async def test_a_masked_channel_records_its_encoded_stream_masked(
    start: Callable[[dict[str, Any]], Any], source_clip: Path
) -> None:
    runtime = await start(channel(source_clip, True, segment_length=1))
    recorder = runtime.recordings.recorders["cam"]
    await segments_written(recorder, 3)
    status = runtime.recording_status("cam")
    assert status["source"] == ENCODED and status["switches"] == 1
    # One encoder for the role: the recorder shares the stream live clients get.
    encoded = runtime.channels["cam"].served.encoded("main")
    assert encoded.running and encoded.consumers == 1
    segments = runtime.recordings.segments("cam")
    original = source_packets(source_clip)
    for segment in segments:
        path = recorded(runtime, segment)
        assert assert_masked(path) > 0
        assert file_packets(path)[0][1]  # from a keyframe
        assert not {d for _, _, d in file_packets(path)} & original  # nothing passed through


async def test_a_mask_switched_on_and_off_switches_the_recorded_stream(
    start: Callable[[dict[str, Any]], Any], source_clip: Path
) -> None:
    runtime = await start(channel(source_clip, False, segment_length=1))
    recorder = runtime.recordings.recorders["cam"]
    await segments_written(recorder, 2)
    assert recorder.source == PASSTHROUGH
    masked_at = time.time()
    await runtime.set_stage("cam", "privacy_mask", enabled=True)
    switched = time.time()
    await segments_written(recorder, recorder.segments_written + 4)
    # The ring holds none of the source's packets any more: only encoded, masked ones.
    original = source_packets(source_clip)
    assert recorder.source == ENCODED
    await asyncio.to_thread(recorder.drain)
    assert not {p.data for p in recorder.ring.since(0)} & original

    unmasked_at = time.time()
    await runtime.set_stage("cam", "privacy_mask", enabled=False)
    await segments_written(recorder, recorder.segments_written + 2)
    assert recorder.source == PASSTHROUGH and recorder.switches == 2

    passed, encoded, again = 0, 0, 0
    for segment in runtime.recordings.segments("cam"):
        path = recorded(runtime, segment)
        packets = file_packets(path)
        data = {d for _, _, d in packets}
        assert packets[0][1]  # every segment starts at a keyframe
        if data <= original:
            # The source's packets, byte for byte: before the mask went on, or after it went
            # off, never while it was on.
            assert lumas(path)[1] == SIZE
            last = segment.end - FRAME  # a segment ends one picture after its last packet
            assert last <= switched or segment.start >= unmasked_at
            passed += last <= switched
            again += segment.start >= unmasked_at
        else:
            # The configured stream, re-encoded and masked on every picture, from a keyframe
            # of a picture taken after the mask went on: nothing of the source in it.
            assert not data & original
            assert masked_at <= segment.start and segment.end <= unmasked_at + 1
            assert assert_masked(path) > 0
            encoded += 1
    assert passed >= 2 and encoded >= 3 and again >= 1
    assert recorder.refused == 0


def scene(**extra: Any) -> dict[str, Any]:
    """The display-info tests' running channel (motion all the time, boxes on), with an OSD."""
    data = scene_config(True)
    data["channels"][0]["image"] = {"osd": {"name": "Yard", "show_date": False, "font_size": 16}}
    data["channels"][0].update(extra)
    return data


async def test_display_info_boxes_and_the_osd_are_in_the_recording(
    start: Callable[[dict[str, Any]], Any],
) -> None:
    """A synthetic scene hands no packets: its recording is its encoded stream, with what the
    stages and display info draw on it."""
    runtime = await start(scene(record={"enabled": True, "segment_length": 1}))
    recorder = runtime.recordings.recorders["cam"]
    await segments_written(recorder, 3)
    assert recorder.source == ENCODED
    boxes = 0
    for segment in runtime.recordings.segments("cam"):
        with av.open(str(recorded(runtime, segment))) as container:
            for frame in container.decode(video=0):
                picture = frame.to_ndarray(format="bgr24")
                _, jpeg = cv2.imencode(".jpg", picture)
                red = red_pixels(jpeg.tobytes())
                if red.sum() > 100:  # a motion box around the moving object
                    columns = np.nonzero(red.any(axis=0))[0]
                    assert columns.min() > 0.2 * SIZE[0] and columns.max() < 0.8 * SIZE[0]
                    boxes += 1
                # The OSD's name, white, in the top-left corner of the flat grey scene.
                corner = luma(frame)[:24, :80]
                assert (corner > 200).sum() > 20
    assert boxes > 0


async def test_an_event_clip_of_encoded_packets_starts_pre_record_before_it(
    start: Callable[[dict[str, Any]], Any],
) -> None:
    """The pre-record ring holds encoded packets: a clip asked at *t* with 5 s before it
    starts at a keyframe within one GOP (50 pictures, 2 s) before *t* - 5 s."""
    # No detector: no event of its own records (the clip alone does).
    data = scene(record={"enabled": True, "record_type": "event"}, detectors={})
    runtime = await start(data)
    recorder = runtime.recordings.recorders["cam"]
    slot = runtime.channels["cam"].slot
    seq, frame = await asyncio.to_thread(slot.wait_newer, 0, 30)
    began = frame.wall_time
    while frame.wall_time < began + 7.5:  # the ring reaches 5 s back, plus a GOP
        seq, frame = await asyncio.to_thread(slot.wait_newer, seq, 30)
    assert recorder.source == ENCODED and recorder.segments_written == 0
    clip = await runtime.record_clip("cam", 5.0, 1.0)
    asked = clip["start"]
    await segments_written(recorder, 1)
    (segment,) = runtime.recordings.segments("cam")
    assert asked - 2.0 - 0.05 <= segment.start <= asked
    path = recorded(runtime, segment)
    packets = file_packets(path)
    assert packets[0][1] and lumas(path)[0] == "h264"
    assert segment.end >= asked + 6.0 - 0.1  # through the clip's end, 1 s after the call


async def test_an_encoder_that_cannot_start_refuses_rather_than_passes_through(
    start: Callable[[dict[str, Any]], Any], source_clip: Path
) -> None:
    """MPEG-TS segments carry no MJPEG: with the stream configured so, a masked channel
    records nothing (counted) and never its source's packets."""
    data = channel(source_clip, True, segment_length=1)
    data["channels"][0]["streams"] = {"main": {"video_encoding": "mjpeg"}}
    runtime = await start(data)
    recorder = runtime.recordings.recorders["cam"]
    slot = runtime.channels["cam"].slot
    seq = 0
    while recorder.refused < 50:
        seq, _ = await asyncio.to_thread(slot.wait_newer, seq, 30)
    assert recorder.source == PASSTHROUGH and recorder.segments_written == 0
    assert runtime.recordings.segments("cam") == [] and recorder.ring.packets == 0


async def test_a_stitched_panorama_and_its_eptz_channel_record_their_encoded_streams(
    start: Callable[[dict[str, Any]], Any],
) -> None:
    """Stitched channels have no packets to pass through: each records its own pictures
    (the panorama, the ePTZ window) encoded."""
    record = {"record": {"enabled": True, "segment_length": 1}}
    yard = device(
        "panorama_eptz",
        eptz_channels=1,
        eptz_windows=[{"x": 0.5, "y": 0.25, "w": 0.25, "h": 0.5}],
        eptz_size=[320, 240],
        channels={"yard": record, "yard-eptz1": record},
    )
    runtime = await start({"stitching": [yard]})
    sizes = {}
    for ident in ("yard", "yard-eptz1"):
        recorder = runtime.recordings.recorders[ident]
        await segments_written(recorder, 2)
        assert recorder.source == ENCODED
        segment = runtime.recordings.segments(ident)[-1]
        codec, sizes[ident], _ = lumas(recorded(runtime, segment))
        assert codec == "h264"
        picture = runtime.channels[ident].slot.frame
        assert picture is not None and sizes[ident] == (picture.width, picture.height)
    # The panorama at the stitched canvas's size, the ePTZ window at the device's eptz_size.
    assert sizes["yard-eptz1"] == (320, 240) and sizes["yard"][0] > 2 * 320


def test_the_recorder_takes_the_encoded_stream_again_when_it_was_rebuilt(tmp_path: Path) -> None:
    """A channel ends its encoded stream when the picture size changes (the encoder was built
    for the old one): the recording's segment ends there and the next starts at the new
    encoder's first keyframe."""
    width, height = 160, 120
    context = EncoderContext("cam", "main", width, height, 25.0)
    stream = EncodedStream(
        lambda: FFmpegEncoder(FFmpegEncoder.CONFIG_SCHEMA({"i_frame_interval": 5}), context),
        "cam-main",
    )
    fanout = PacketFanout(MAIN)  # a source of pictures only
    fanout.info = StreamInfo(width, height, 25.0, "rawvideo")
    index = RecordingIndex(tmp_path / "recordings.db")
    settings = RECORD_SCHEMA({"enabled": True, "segment_length": 60})
    recorder = Recorder("cam", settings, fanout, index, tmp_path / "rec", encoded=lambda: stream)
    changed = threading.Condition()

    def on_state() -> None:
        with changed:
            changed.notify_all()

    def attached(switches: int) -> None:
        with changed:
            assert changed.wait_for(
                lambda: recorder.source == ENCODED and recorder.switches >= switches, 30
            )

    recorder.on_state = on_state
    recorder.start()
    count = 0

    def feed(pictures: int) -> None:
        """``pictures`` pictures, each waited for until encoded (nothing skipped)."""
        nonlocal count
        pacer = stream.attach(max_packets=100)
        for _ in range(pictures):
            level = 40 + (count * 7) % 180
            y = np.full((height, width), level, np.uint8)
            u = np.full((height // 2, width // 2), 128, np.uint8)
            t = count / 25
            count += 1
            stream.put(Frame(y, u, u.copy(), t, EPOCH + t, time.monotonic()))
            assert pacer.get(timeout=30) is not None
        pacer.close()

    attached(1)
    feed(20)
    stream.close()  # what the channel does at a new picture size
    attached(3)  # off the ended stream, onto the new one
    feed(20)
    recorder.stop()
    first, second = index.segments("cam")
    for segment, frames in ((first, 20), (second, 20)):
        path = tmp_path / "rec" / segment.path
        packets = file_packets(path)
        assert packets[0][1] and decoded_frames(path) == len(packets)
        assert frames - 2 <= len(packets) <= frames
    assert first.end <= second.start
    assert recorder.switch_packets <= 2 and recorder.refused == 0
