"""The security tests' shared fixture: a fresh credential store in the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from camera_runtime.security import Security


@pytest.fixture
def security(tmp_path: Path) -> Security:
    store = Security(tmp_path / "security.json")
    store.load()
    return store
