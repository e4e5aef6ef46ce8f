"""Fixtures of the recording tests: one real clip per module run."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import clip


@pytest.fixture(scope="session")
def h264_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clip(tmp_path_factory.mktemp("recording") / "clip.ts")
