"""Trigger recording on more than one channel: a doorbell's rule records a clip on two
recording channels, from 5 s before the event, 30 s long (the document's "Recording" row)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.camera_runtime.api.test_streams import make_ts
from tests.polling import eventually

from .conftest import StartRuntime


@pytest.fixture(scope="module")
def main_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("linkage-rec") / "main.ts", (160, 120))


async def test_a_rule_records_on_two_channels(start_runtime: StartRuntime, main_clip: Path) -> None:
    source = {"type": "file", "path": str(main_clip), "loop": True}
    record = {"enabled": True, "record_type": "event", "events": ["doorbell_ring"]}
    data: dict[str, Any] = {
        "zeroconf": {"enabled": False},
        "channels": [
            {"id": "cam1", "source": source, "record": record},
            {"id": "cam2", "source": source, "record": record},
        ],
        "linkage": {
            "resources": [{"id": "bell", "type": "doorbell", "events": ["doorbell_ring"]}],
            "rules": [
                {"id": "ring", "source": "bell", "event": "doorbell_ring",
                 "actions": [{"resource": "cam1", "action": "record"},
                             {"resource": "cam2", "action": "record"}]},
            ],
        },
    }  # fmt: skip
    runtime, watch = await start_runtime(data)
    for channel in ("cam1", "cam2"):
        recorder = runtime.recordings.recorders[channel]
        await eventually(lambda r=recorder: r.ring.packets > 10, within=20)  # type: ignore[misc]
    await runtime.linkage.receive("bell", {"event": "doorbell_ring"})
    fired = await watch.fired("ring")
    trigger = fired["trigger"]["start"]
    by_channel = {a["resource"]: a for a in fired["actions"]}
    assert {c: a["outcome"] for c, a in by_channel.items()} == {"cam1": "ok", "cam2": "ok"}
    for channel, outcome in by_channel.items():
        clip = outcome["result"]
        assert clip["reason"] == "clip" and clip["channel"] == channel
        assert clip["start"] == pytest.approx(trigger - 5.0, abs=1.0)  # 5 s before the event
        listed = await runtime.recordings_of(channel)
        assert clip["id"] in [c["id"] for c in listed["clips"]]
