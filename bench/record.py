"""Benchmark: CPU of recording one 1080p25 stream by remux, and the pre-record ring's memory.

The 30 s 1080p25 clip (``busy1080``, 4 Mb/s, GOP 50) is demuxed into memory first (a camera's
demuxing is the feed's, not the recorder's), given wall times 40 ms apart, and published on a
``PacketFanout`` to a continuous ``Recorder`` (60 s segments, a queue large enough to drop
nothing) in a temporary folder; the CPU measured is ``time.process_time()`` (every thread) from
the first publish to the recorder stopped with its file synced. CPU per second of video is that
over 30 s: the share of a core one recorded 1080p25 stream takes. Three runs, median.

Live-paced (``paced``): the same, as cameras hand it: ``PACED_STREAMS`` streams published 25
times a second from one thread for ``PACED_SECONDS``, each to its own continuous ``Recorder``
(one process, as a runtime's channels). CPU (``time.process_time()``) and context switches (all
threads, ``/proc/self/task``) per recorded packet, less the same publishing with no recorder:
what a recorder adds per packet beside the feed's work, hand-offs to its writer thread
included (which the as-fast-as-it-goes run above hides: its writer is never idle).

The ring's memory: its bytes after the whole clip with ``pre_record: 5`` (5 s plus at most one
GOP of packets), against the same 5 s of decoded 1080p pictures (YUV 4:2:0: 3.1 MB each).
Target (issue 14): under 2 % of a core.

Re-encoding (a privacy mask on): the first pictures of the same clip, decoded once and held in
memory (``bench/encode.py``'s ``load_frames``, also written raw for the CLI), played twice
through the privacy mask stage of ``bench/encode.py`` into the channel's ``EncodedStream``
(the ``ffmpeg`` encoder plugin, default options: libx264 superfast, CRF 23) that a
``Recorder`` with ``changes_pictures`` on records. Pictures are handed over in lock step (a
second consumer of the stream waits for each picture's packet) so that none is skipped.
CPU: ``time.process_time()`` of the whole process (mask, encoder thread, the recorder's
writer), from the first picture to the recorder stopped, per picture; against the CLI
encoding the same raw pictures with the same preset and options (``-c:v libx264``, its CPU
minus that of the same command with ``-c:v copy``), interleaved in the same run.

Time to extract a 35 s clip (issue 14): 150 s of the clip (looped, times continued) recorded
into a runtime's data folder (the default 60 s segments and the SQLite index, as a recording
channel writes them), then a ``Runtime`` on that folder with its ``ApiServer`` and an aiohttp
client in this process: ``GET /api/channels/cam/playback.ts?start=&end=`` of 35 s spanning a
segment boundary (the range playback and export path: the index looked up, the covering
segments streamed whole, as one MPEG-TS file), read to the end. Wall time and CPU of this
process (server and client) per extraction, 5 runs (``--quick``: 3) over different boundaries,
median; the first download is demuxed back to check it covers the 35 s from a keyframe.
Target: under 1 s wall time (a click on "export" answers at once).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

import av
from _common import (
    FPS,
    api_token,
    clip,
    environment,
    file_channel,
    finish,
    loadavg,
    markdown_table,
    median,
    print_header,
    runtime_config,
    verdict,
)
from _threads import thread_times
from encode import (
    LOOPS,
    MASK,
    Sample,
    load_frames,
    make_encoder,
    run_cli,
    run_cli_overhead,
)

from camera_runtime.encoding import EncodedStream
from camera_runtime.feed import MAIN, PacketFanout
from camera_runtime.interfaces import StageContext
from camera_runtime.model import Frame, Packet, StreamInfo
from camera_runtime.recording.index import RecordingIndex
from camera_runtime.recording.recorder import ENCODED, Recorder
from camera_runtime.recording.segments import probe
from camera_runtime.recording.settings import RECORD_SCHEMA
from camera_runtime_plugins.stages.privacy_mask import PrivacyMaskStage

NAME = "record"
TARGET = 0.02  # of a core
#: The live-paced run: streams recorded at once, and seconds measured.
PACED_STREAMS, PACED_SECONDS = 8, 10.0
#: The clip extracted (s), the video recorded to extract it from (s), and the target (s).
CLIP_SECONDS, RECORDED_SECONDS, EXTRACT_TARGET = 35.0, 150.0, 1.0


def demux(path: Path) -> tuple[list[Packet], StreamInfo]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        assert stream.time_base is not None
        info = StreamInfo(
            ctx.width, ctx.height, 25.0, "h264", stream.time_base, bytes(ctx.extradata or b"")
        )
        packets = [
            Packet(bytes(p), p.pts, p.dts, p.time_base, bool(p.is_keyframe), "h264", 0.0, 0.0)
            for p in container.demux(stream)
            if p.size
        ]
    start = time.time()
    return [dataclasses.replace(p, wall_time=start + i / 25) for i, p in enumerate(packets)], info


def run_once(packets: list[Packet], info: StreamInfo, folder: Path) -> tuple[float, int, int]:
    """(CPU s, bytes written, ring bytes)."""
    fanout = PacketFanout(MAIN)
    fanout.info = info
    index = RecordingIndex(folder / "index.db")
    settings = RECORD_SCHEMA({"enabled": True, "pre_record": 5})
    recorder = Recorder(
        "bench", settings, fanout, index, folder / "rec", queue_packets=len(packets) + 10
    )
    recorder.start()
    before = time.process_time()
    for packet in packets:
        fanout.publish(packet)
    recorder.stop(timeout=120)
    cpu = time.process_time() - before
    assert recorder.dropped == 0
    written = sum(s.size for s in index.segments())
    ring = recorder.ring.bytes
    index.close()
    return cpu, written, ring


def run_paced(
    packets: list[Packet], info: StreamInfo, folder: Path, record: bool
) -> tuple[float, int]:
    """``PACED_STREAMS`` streams published live for ``PACED_SECONDS``, recorded or not:
    (CPU s, context switches) of the whole process over the window."""
    index = RecordingIndex(folder / "index.db")
    fanouts: list[PacketFanout] = []
    recorders: list[Recorder] = []
    for i in range(PACED_STREAMS):
        fanout = PacketFanout(MAIN)
        fanout.info = info
        fanouts.append(fanout)
        if record:
            settings = RECORD_SCHEMA({"enabled": True, "record_type": "continuous"})
            recorder = Recorder(f"cam{i}", settings, fanout, index, folder / "rec")
            recorder.start()
            recorders.append(recorder)
    count = int(PACED_SECONDS * FPS)
    before, cpu0 = thread_times(), time.process_time()
    start = time.monotonic()
    for k in range(count):
        packet = dataclasses.replace(packets[k % len(packets)], wall_time=time.time())
        for fanout in fanouts:
            fanout.publish(packet)
        time.sleep(max(0.0, start + (k + 1) / FPS - time.monotonic()))
    cpu, after = time.process_time() - cpu0, thread_times()
    for recorder in recorders:
        recorder.stop(timeout=60)
        assert recorder.dropped == 0 and recorder.write_errors == 0
    index.close()
    switches = sum(t.switches - before[tid].switches for tid, t in after.items() if tid in before)
    return cpu, switches


def paced(packets: list[Packet], info: StreamInfo) -> dict[str, float]:
    """What recording adds per live packet: recorded runs less plain ones, interleaved."""
    plain: list[tuple[float, int]] = []
    recorded: list[tuple[float, int]] = []
    for _ in range(2):
        for out, record in ((plain, False), (recorded, True)):
            with tempfile.TemporaryDirectory(prefix="bench-record-") as folder:
                out.append(run_paced(packets, info, Path(folder), record))
    recorded_packets = PACED_STREAMS * PACED_SECONDS * FPS
    cpu = median([r[0] for r in recorded]) - median([p[0] for p in plain])
    switches = median([r[1] for r in recorded]) - median([p[1] for p in plain])
    return {
        "streams": PACED_STREAMS,
        "seconds": PACED_SECONDS,
        "cpu_ms_per_packet": round(1000 * cpu / recorded_packets, 4),
        "switches_per_packet": round(switches / recorded_packets, 3),
        "cpu_share_per_stream": round(cpu / PACED_STREAMS / PACED_SECONDS, 5),
    }


def run_masked(pool: list[Frame], folder: Path) -> tuple[Sample, int]:
    """Record the pictures through the privacy mask, re-encoded: (CPU sample, segment
    bytes). The recorder is started and on its encoded stream before the clock starts."""
    width, height = pool[0].width, pool[0].height
    context = StageContext("bench", "Bench", width, height, float(FPS))
    mask = PrivacyMaskStage(PrivacyMaskStage.CONFIG_SCHEMA(MASK), context)
    stream = EncodedStream(lambda: make_encoder({}, width, height), "bench-main")
    fanout = PacketFanout(MAIN)  # a source that hands no packets: only pictures
    fanout.info = StreamInfo(width, height, float(FPS), "rawvideo")
    index = RecordingIndex(folder / "index.db")
    settings = RECORD_SCHEMA({"enabled": True, "pre_record": 5, "segment_length": 600})
    recorder = Recorder(
        "bench",
        settings,
        fanout,
        index,
        folder / "rec",
        changes_pictures=lambda: True,
        encoded=lambda: stream,
    )
    pacer = stream.attach(max_packets=1000)
    start = time.time()
    count = 0

    def feed(frame: Frame) -> None:
        nonlocal count
        t = count / FPS
        count += 1
        stream.put(mask.process(Frame(frame.y, frame.u, frame.v, t, start + t, time.monotonic())))
        pacer.get(timeout=30)  # this picture's packet: the encoder took it

    recorder.start()
    while recorder.source != ENCODED:  # the writer attaches at once (warm-up pictures)
        feed(pool[count % len(pool)])
    frames = [f for _ in range(LOOPS) for f in pool]
    before = time.process_time()
    for frame in frames:
        feed(frame)
    recorder.stop(timeout=120)
    cpu = time.process_time() - before
    pacer.close()
    stream.join(10)
    assert recorder.refused == 0 and recorder.dropped == 0
    written = sum(s.size for s in index.segments())
    index.close()
    return Sample(frames=len(frames), cpu=cpu, bytes=written), stream.frames_skipped


def reencode(quick: bool) -> dict[str, Any]:
    """Recording with a privacy mask on against the CLI, interleaved, median of the runs."""
    count = 50 if quick else 125
    ours: list[Sample] = []
    cli: list[Sample] = []
    overhead: list[Sample] = []
    skipped = 0
    with tempfile.TemporaryDirectory(prefix="bench-record-") as tmp:
        raw = Path(tmp) / "1080p.yuv"
        pool = load_frames(clip("busy1080"), count, raw)
        width, height = pool[0].width, pool[0].height
        settings = make_encoder({}, width, height).settings
        frames = len(pool) * LOOPS
        for run in range(1 if quick else 3):
            overhead.append(run_cli_overhead(raw, width, height, frames))
            cli.append(run_cli(raw, width, height, settings, frames))
            with tempfile.TemporaryDirectory(dir=tmp) as folder:
                sample, skips = run_masked(pool, Path(folder))
            ours.append(sample)
            skipped += skips
            print(
                f"  [{run + 1}] masked recording {sample.cpu_ms_per_frame:.2f} ms/picture, "
                f"CLI {cli[-1].cpu_ms_per_frame:.2f} ms/picture",
                flush=True,
            )
    ours_ms = median([s.cpu_ms_per_frame for s in ours])
    cli_ms = median([s.cpu_ms_per_frame for s in cli]) - median(
        [s.cpu_ms_per_frame for s in overhead]
    )
    return {
        "pictures": len(pool) * LOOPS,
        "preset": settings.codec_options.get("preset", ""),
        "ours_ms": ours_ms,
        "cli_encode_ms": cli_ms,
        "ratio": ours_ms / cli_ms,
        "cores_at_25fps": ours_ms * FPS / 1000,
        "cli_cores_at_25fps": cli_ms * FPS / 1000,
        "frames_skipped": skipped,
        "kbps": ours[0].bytes * 8 / (ours[0].frames / FPS) / 1000,
        "cli_kbps": cli[0].bytes * 8 / (cli[0].frames / FPS) / 1000,
    }


def looped(packets: list[Packet], seconds: float, start: float) -> list[Packet]:
    """``packets`` repeated for ``seconds`` of video, times continued (pts, dts and wall
    times 40 ms apart from ``start``), as a camera's stream would go on."""
    step = packets[1].pts - packets[0].pts  # type: ignore[operator]
    out: list[Packet] = []
    while len(out) < seconds * 25:
        shift = len(out) * step
        out += [
            dataclasses.replace(
                p,
                pts=p.pts + shift,  # type: ignore[operator]
                dts=p.dts + shift,  # type: ignore[operator]
                wall_time=start + (len(out) + i) / 25,
            )
            for i, p in enumerate(packets)
        ]
    return out


def record_segments(packets: list[Packet], info: StreamInfo, data_dir: Path) -> None:
    """Record ``packets`` continuously as a runtime's recording channel ``cam`` would: its
    segments in ``data_dir/recordings``, the index in ``data_dir/recordings.sqlite3``."""
    fanout = PacketFanout(MAIN)
    fanout.info = info
    index = RecordingIndex(data_dir / "recordings.sqlite3")
    settings = RECORD_SCHEMA({"enabled": True})
    recorder = Recorder(
        "cam", settings, fanout, index, data_dir / "recordings", queue_packets=len(packets) + 10
    )
    recorder.start()
    for packet in packets:
        fanout.publish(packet)
    recorder.stop(timeout=120)
    assert recorder.dropped == 0
    index.close()


async def extract_clips(data_dir: Path, runs: int) -> dict[str, Any]:
    """Download ``runs`` 35 s ranges, each across another segment boundary, through the
    runtime's playback route; wall and CPU seconds of each, and a probe of the first."""
    import aiohttp

    from camera_runtime.api.server import ApiServer
    from camera_runtime.host import runtime_from_data

    config = runtime_config([file_channel("cam", clip("busy1080"), realtime=True, loop=True)])
    config["channels"][0]["enabled"] = False  # its recordings are there; no live stream
    runtime = runtime_from_data(config, data_dir=data_dir)
    await runtime.start()
    server = ApiServer(runtime, "127.0.0.1", 0)
    await server.start()
    walls: list[float] = []
    cpus: list[float] = []
    sizes: list[int] = []
    checked: Any = None
    try:
        segments = (await runtime.recordings_of("cam"))["segments"]
        boundaries = [s["end"] for s in segments[:-1]]
        async with aiohttp.ClientSession() as session:
            headers = await api_token(session, server.url)
            for run in range(runs):
                start = boundaries[run % len(boundaries)] - CLIP_SECONDS / 2
                url = f"{server.url}/api/channels/cam/playback.ts"
                query = {"start": f"{start:.3f}", "end": f"{start + CLIP_SECONDS:.3f}"}
                cpu0, wall0 = time.process_time(), time.perf_counter()
                body = bytearray()
                async with session.get(url, params=query, headers=headers) as response:
                    if response.status != 200:
                        raise RuntimeError(f"playback: {response.status} {await response.text()}")
                    async for chunk in response.content.iter_chunked(1 << 20):
                        body += chunk
                walls.append(time.perf_counter() - wall0)
                cpus.append(time.process_time() - cpu0)
                sizes.append(len(body))
                if checked is None:
                    out = data_dir / "extract.ts"
                    out.write_bytes(body)
                    checked = probe(out)
    finally:
        await server.stop()
        await runtime.stop()
    return {
        "segments": len(segments),
        "wall": walls,
        "cpu": cpus,
        "bytes": sizes,
        "probe": dataclasses.asdict(checked) if checked is not None else None,
    }


def clip_extraction(packets: list[Packet], info: StreamInfo, runs: int) -> dict[str, Any]:
    """Record ``RECORDED_SECONDS`` of the clip, then time extracting 35 s clips of it."""
    with tempfile.TemporaryDirectory(prefix="bench-record-extract-") as folder:
        data_dir = Path(folder)
        start = time.time() - RECORDED_SECONDS - 60
        record_segments(looped(packets, RECORDED_SECONDS, start), info, data_dir)
        return asyncio.run(extract_clips(data_dir, runs))


def print_extraction(result: dict[str, Any]) -> bool:
    """The extraction table; whether it passed."""
    wall, cpu = median(result["wall"]), median(result["cpu"])
    checked = result["probe"] or {}
    covers = bool(checked) and checked["starts_with_keyframe"] and checked["duration"] >= 35
    ok = wall < EXTRACT_TARGET and covers
    rows = [
        ("wall time per 35 s clip (median)", f"{wall:.3f} s", f"< {EXTRACT_TARGET:g} s"),
        ("CPU per clip, server + client (median)", f"{cpu:.3f} s", ""),
        ("wall / CPU of each run (s)", ", ".join(
            f"{w:.3f}/{c:.3f}" for w, c in zip(result["wall"], result["cpu"], strict=True)
        ), ""),
        ("MB delivered (whole segments)", f"{median(result['bytes']) / 1e6:.1f}", ""),
        (
            "first download: seconds of video, starts with a keyframe",
            f"{checked.get('duration', 0):.1f}, {checked.get('starts_with_keyframe')}",
            ">= 35, True",
        ),
    ]  # fmt: skip
    print(f"\n### Time to extract a 35 s clip ({result['segments']} segments of 60 s recorded)\n")
    print(markdown_table(("measure", "value", "target"), rows))
    print(f"\nverdict: {verdict(ok)}; load average {loadavg()[0]:.2f}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one run instead of three")
    args = parser.parse_args()
    env = environment()
    print_header("Recording one 1080p25 stream by remux", env, args.quick)
    packets, info = demux(clip("busy1080"))
    seconds = len(packets) / 25
    runs = []
    for _ in range(1 if args.quick else 3):
        with tempfile.TemporaryDirectory() as folder:
            runs.append(run_once(packets, info, Path(folder)))
    cpu = median([r[0] for r in runs])
    share = cpu / seconds
    ring = runs[0][2]
    decoded = int(5 * 25 * info.width * info.height * 1.5)
    rows = [
        ("CPU per second of video (share of a core)", f"{share:.4f}", f"< {TARGET}"),
        ("written MB (30 s)", f"{runs[0][1] / 1e6:.1f}", ""),
        ("pre-record ring, 5 s (MB)", f"{ring / 1e6:.2f}", ""),
        ("same 5 s decoded (MB)", f"{decoded / 1e6:.0f}", ""),
    ]
    live = paced(packets, info)
    rows += [
        (
            f"live-paced, {PACED_STREAMS} streams: CPU share per stream",
            f"{live['cpu_share_per_stream']:.4f}",
            f"< {TARGET}",
        ),
        ("live-paced: CPU ms per packet", f"{live['cpu_ms_per_packet']:.4f}", ""),
        ("live-paced: context switches per packet", f"{live['switches_per_packet']:.2f}", ""),
    ]
    print(markdown_table(("measure", "value", "target"), rows))
    passed = share < TARGET and live["cpu_share_per_stream"] < TARGET
    print(f"\nverdict: {verdict(passed)}")
    print("\nRecording 1080p25 with a privacy mask on (re-encoded) against the ffmpeg CLI")
    load_before = loadavg()
    masked = reencode(args.quick)
    load_after = loadavg()
    print(
        markdown_table(
            ("", "ms per picture", "share of a core at 25 fps", "kb/s"),
            [
                (
                    "recording, mask + encoder + segments",
                    f"{masked['ours_ms']:.2f}",
                    f"{masked['cores_at_25fps']:.2f}",
                    f"{masked['kbps']:.0f}",
                ),
                (
                    f"ffmpeg -c:v libx264 -preset {masked['preset']} (encoding only)",
                    f"{masked['cli_encode_ms']:.2f}",
                    f"{masked['cli_cores_at_25fps']:.2f}",
                    f"{masked['cli_kbps']:.0f}",
                ),
            ],
        )
    )
    print(
        f"ours / CLI: {masked['ratio']:.2f} over {masked['pictures']} pictures; load average "
        f"before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min; the machine is shared)"
    )
    extraction = clip_extraction(packets, info, 3 if args.quick else 5)
    print_extraction(extraction)
    finish(
        NAME,
        args.quick,
        env,
        {
            "cpu_share": share,
            "cpu_runs": [r[0] for r in runs],
            "paced": live,
            "video_seconds": seconds,
            "ring_bytes": ring,
            "decoded_bytes": decoded,
            "reencode": masked,
            "load_average": {"before": load_before, "after": load_after},
            "extract": extraction,
        },
    )


if __name__ == "__main__":
    main()
