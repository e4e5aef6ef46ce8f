"""The capture of a smart event's start: the event names it in every phase, the runtime takes it under that id, through the channel's image stages (the privacy mask stays on), and a picture that cannot be taken is counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from camera_runtime.detection import SNAPSHOT_KEY
from camera_runtime.event_snapshots import EventSnapshots
from camera_runtime.exceptions import NoFrameError
from camera_runtime.host import runtime_from_data
from camera_runtime.model import Event, EventPhase, EventUpdate, new_event_id

from .test_channel import Recorder

#: The privacy mask covers the sky, top left: the line crossing happens below it.
MASK = [[0.0, 0.0], [0.4, 0.0], [0.4, 0.25], [0.0, 0.25]]


def _yard() -> dict[str, Any]:
    return {
        "channels": [
            {
                "id": "yard",
                "source": {
                    "type": "synthetic",
                    "scene": "yard",
                    "width": 320,
                    "height": 180,
                    "fps": 10,
                    "realtime": False,
                },
                "detect": {"width": 320, "fps": 10},
                "image": {"privacy_mask": {"areas": [MASK]}},
                "detectors": {
                    "motion": {},
                    "line_crossing": {"rules": [{"line": [[0.5, 0.95], [0.5, 0.58]]}]},
                },
            }
        ]
    }


async def test_a_line_crossing_names_the_capture_of_its_start(tmp_path: Path) -> None:
    runtime = runtime_from_data(_yard(), data_dir=tmp_path)
    recorder = Recorder()
    runtime.bus.subscribe(recorder)
    await runtime.start()
    try:
        await recorder.wait_for(
            lambda u: any(x.event.type == "line_crossing" and x.phase is EventPhase.END for x in u)
        )
        crossing = [u for u in recorder.updates if u.event.type == "line_crossing"]
        new, end = crossing[0], crossing[1]
        assert (new.phase, end.phase) == (EventPhase.NEW, EventPhase.END)
        snapshot = new.event.data[SNAPSHOT_KEY]
        assert end.event.data[SNAPSHOT_KEY] == snapshot
        # motion declares no snapshot: its events name none
        motion = [u for u in recorder.updates if u.event.type == "motion"]
        assert motion and all(SNAPSHOT_KEY not in u.event.data for u in motion)
        await runtime.event_snapshots.drain()
        path = runtime.captures.path(snapshot)
        picture = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
        assert picture.shape == (180, 320, 3)
        # the masked sky is one colour in the snapshot: it was taken after the image stages
        # (black by default), where the sky beside it is bright
        masked = picture[4:40, 4:124].reshape(-1, 3).astype(np.int16)
        assert int(np.abs(masked - masked.mean(axis=0)).max()) <= 12
        assert masked.mean() < 30 and picture[4:40, 200:316].mean() > 120
        assert runtime.event_snapshots.failed == 0
    finally:
        await runtime.stop()


async def test_a_snapshot_that_cannot_be_taken_is_logged_and_counted() -> None:
    async def no_picture(channel_id: str, capture_id: str, event_type: str) -> object:
        raise NoFrameError(f"{channel_id} has no picture yet")

    snapshots = EventSnapshots(no_picture)
    event = Event("cam", "line_crossing", 1.0, data={SNAPSHOT_KEY: new_event_id()})
    snapshots.on_event(EventUpdate(EventPhase.NEW, event))
    snapshots.on_event(EventUpdate(EventPhase.END, event))  # only a start is captured
    await snapshots.drain()
    assert snapshots.failed == 1
