"""A network camera inside a running runtime: a real stream on 127.0.0.1 drops and comes back,
and the runtime raises video loss and, while the camera cannot be reached, the network
disconnected exception; it reconnects by itself and records the recovery."""

from __future__ import annotations

import asyncio
from pathlib import Path

from camera_runtime.channel import ChannelState
from camera_runtime.host import runtime_from_data
from camera_runtime.model import EventPhase, EventUpdate

from .helpers import StreamServer


async def test_video_loss_and_recovery_of_a_served_stream(
    tmp_path: Path, stream_server: StreamServer
) -> None:
    runtime = runtime_from_data(
        {
            "channels": [
                {
                    "id": "gate",
                    "source": {
                        "type": "http",
                        "url": stream_server.url,
                        "open_timeout": 2,
                        "read_timeout": 1,
                    },
                }
            ]
        },
        data_dir=tmp_path,
    )
    updates: list[EventUpdate] = []
    changed = asyncio.Event()

    def record(update: EventUpdate) -> None:
        updates.append(update)
        changed.set()

    async def phases(*wanted: EventPhase, kind: str = "video_loss") -> None:
        async with asyncio.timeout(30):
            while [u.phase for u in updates if u.event.type == kind] != list(wanted):
                changed.clear()
                await changed.wait()

    runtime.bus.subscribe(record)
    await runtime.start()
    loop = asyncio.get_running_loop()
    channel = runtime.channels["gate"]
    try:
        seq, frame = await loop.run_in_executor(None, channel.slot.wait_newer, 0, 20.0)
        assert frame is not None and channel.state is ChannelState.ONLINE

        assert [info.name for _, info in channel.event_types()] == [
            "video_loss",
            "network_disconnected",
        ]
        stream_server.kill()  # the camera goes away mid-stream
        await phases(EventPhase.NEW)
        assert channel.state is ChannelState.OFFLINE
        assert channel.status()["error"]
        # Reconnecting, the runtime finds the port closed: the network is at fault.
        await phases(EventPhase.NEW, kind="network_disconnected")
        (down,) = [u.event for u in updates if u.event.type == "network_disconnected"]
        assert "refused" in down.data["reason"].lower() and down.data["stream"] == "main"

        stream_server.start()  # ...and comes back on the same address
        await phases(EventPhase.NEW, EventPhase.END)
        await phases(EventPhase.NEW, EventPhase.END, kind="network_disconnected")
        seq_after, _ = await loop.run_in_executor(
            None, channel.slot.wait_newer, channel.slot.seq, 20.0
        )
        assert seq_after > seq and channel.state is ChannelState.ONLINE

        await runtime.history.flush()
        (stored,) = await runtime.history.query(channel="gate", type="video_loss")
        assert stored.end is not None and stored.end > stored.start and stored.data["recovered"]
        (cut,) = await runtime.history.query(channel="gate", type="network_disconnected")
        assert cut.end is not None and cut.data["recovered"]
    finally:
        await runtime.stop()
