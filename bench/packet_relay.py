"""Benchmark: what relaying a worker-hosted channel's packets to the runtime's process costs
(``camera_runtime/workers/packet_relay.py``: what recording a channel in a worker adds).

A spawned ``WorkerProcess`` runs ``--channels`` channels (default 4), each the 1080p25 clip
``busy1080`` (4 Mb/s) as its main stream, looped and paced in real time, with ``busy360`` as
its sub-stream (so the worker only demultiplexes the 1080p stream, as with a camera's two
streams). The runtime's side (this process) subscribes one consumer per channel to
``RemoteChannel.packets["main"]`` (a deque append, as the recorder's) for ``--seconds``.

Measured per relayed packet (one 1080p frame):
- runtime: the link's reader thread (``/proc/self/task``: user + system CPU, context
  switches), which unpickles each batch, rebuilds the packets and hands them to the consumers;
  the same thread's CPU over an equal window with no subscription is subtracted (status
  pushes);
- worker: the relay's sending thread (``/proc/<pid>/task/<tid>``: it takes the packets
  waiting, pickles and sends them every 0.2 s), and the consumer on the feed's thread (an
  append), timed here on the same packets (``_Subscription.on_packet``, 20 000 calls).
"""

from __future__ import annotations

import argparse
import collections
import os
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from _common import clip, environment, finish, markdown_table, print_header, wait_quiet
from _threads import ThreadTimes, thread_times

from camera_runtime.feed import MAIN, PacketFanout
from camera_runtime.host import validate
from camera_runtime.model import Packet
from camera_runtime.registry import build_plugins
from camera_runtime.workers.packet_relay import _Subscription, relay_of
from camera_runtime.workers.pool import plugin_modules
from camera_runtime.workers.process import WorkerProcess
from camera_runtime.workers.remote import RemoteChannel

TICKS = os.sysconf("SC_CLK_TCK")


def _task_times(pid: int, tid: int) -> ThreadTimes:
    stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
    status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    switches = sum(int(line.split()[1]) for line in status.splitlines() if "ctxt_switches" in line)
    return ThreadTimes(int(fields[11]) / TICKS, int(fields[12]) / TICKS, switches)


def _cpu(times: ThreadTimes) -> float:
    return times.user + times.system


def _config(count: int) -> dict[str, Any]:
    main, sub = clip("busy1080"), clip("busy360")
    channels = [
        {
            "id": f"cam{i:02d}",
            "source": {"type": "file", "path": str(main), "loop": True},
            "substream": {"type": "file", "path": str(sub), "loop": True},
        }
        for i in range(count)
    ]
    return {"zeroconf": {"enabled": False}, "channels": channels}


def _consumer_cost(calls: int = 20_000) -> float:
    """Seconds of CPU per ``on_packet`` (the worker's feed thread), real 1080p packets."""
    with av.open(str(clip("busy1080"))) as container:
        stream = container.streams.video[0]
        tb = stream.time_base or Fraction(1, 90_000)
        packets = [
            Packet(bytes(p), p.pts, p.dts, tb, bool(p.is_keyframe), "h264", 1.0, 2.0)
            for p in container.demux(stream)
            if p.size
        ]
    fanout = PacketFanout(MAIN)
    sub = _Subscription("cam", 1, fanout)
    start = time.thread_time()
    for i in range(calls):
        sub.on_packet(packets[i % len(packets)])
        if len(sub.pending) > 100:
            sub.pending.clear()
    return (time.thread_time() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="10 s windows")
    args = parser.parse_args()
    seconds = 10.0 if args.quick else args.seconds
    env = environment()
    print_header("Packet relay: worker -> runtime, 1080p25", env, args.quick)
    data = _config(args.channels)
    configs = validate(data).channels
    worker = WorkerProcess(
        "bench-worker", plugin_modules(build_plugins(data)[0]), lambda u: None, lambda c: None
    )
    worker.start()
    try:
        remotes = [RemoteChannel(c, worker, lambda c: None) for c in configs]
        for remote in remotes:
            remote.start()
        reader = next(t for t in threading.enumerate() if t.name == "bench-worker-link")
        assert reader.native_id is not None
        busy = wait_quiet()
        time.sleep(3.0)  # the channels settle (opened, paced)
        before = thread_times()[reader.native_id]
        time.sleep(seconds)  # the window: no subscription
        idle = thread_times()[reader.native_id]

        received = [0]
        sinks = [collections.deque(maxlen=100) for _ in remotes]

        def sink(store: collections.deque[Packet]) -> Any:
            def take(packet: Packet) -> None:
                store.append(packet)
                received[0] += 1

            return take

        stops = [r.packets[MAIN].subscribe(sink(s)) for r, s in zip(remotes, sinks, strict=True)]
        relay_of(worker).settle()
        state = worker.call("packets.state", remotes[0].id)
        sender, pid = state["sender"], worker.pid
        assert pid is not None and sender is not None
        time.sleep(1.0)
        start_count, start_reader = received[0], thread_times()[reader.native_id]
        start_sender = _task_times(pid, sender)
        time.sleep(seconds)  # the window: relaying
        count = received[0] - start_count
        end_reader = thread_times()[reader.native_id]
        end_sender = _task_times(pid, sender)
        for stop in stops:
            stop()
        relay_of(worker).settle()
        dropped = sum(
            sub["dropped"]
            for r in remotes
            for sub in worker.call("packets.state", r.id)["subscriptions"].values()
        )
    finally:
        worker.stop()

    baseline = _cpu(idle) - _cpu(before)
    reader_cpu = _cpu(end_reader) - _cpu(start_reader) - baseline
    reader_switches = (end_reader.switches - start_reader.switches) - (
        idle.switches - before.switches
    )
    sender_cpu = _cpu(end_sender) - _cpu(start_sender)
    sender_switches = end_sender.switches - start_sender.switches
    consumer = _consumer_cost()
    rows = [
        ["runtime: link reader (unpickle, rebuild, deliver)", 1e3 * reader_cpu / count,
         reader_switches / count],
        ["worker: sender thread (take, pickle, send)", 1e3 * sender_cpu / count,
         sender_switches / count],
        ["worker: consumer on the feed thread (append)", 1e3 * consumer, 0.0],
    ]  # fmt: skip
    print(f"{args.channels} channels, {count} packets relayed in {seconds:g} s, {dropped} dropped")
    print(f"machine busy at the start: {busy:.0f} %\n")
    print(markdown_table(["where", "CPU ms / packet", "context switches / packet"], rows))
    finish(
        "packet_relay",
        args.quick,
        env,
        {
            "channels": args.channels,
            "seconds": seconds,
            "packets": count,
            "dropped": dropped,
            "runtime_reader_ms_per_packet": 1e3 * reader_cpu / count,
            "runtime_reader_switches_per_packet": reader_switches / count,
            "worker_sender_ms_per_packet": 1e3 * sender_cpu / count,
            "worker_sender_switches_per_packet": sender_switches / count,
            "worker_consumer_ms_per_packet": 1e3 * consumer,
        },
    )


if __name__ == "__main__":
    main()
