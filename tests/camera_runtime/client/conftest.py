"""Fixtures: a real runtime with a moving synthetic scene, served by a real ``ApiServer`` on
127.0.0.1 (port 0), activated, with an API token; clients share one aiohttp session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.runtime_server import Served, ServeFactory, serving


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[ServeFactory]:
    """Start activated runtimes on demand; everything still running is stopped at the end."""
    async with serving(tmp_path) as start:
        yield start


@pytest.fixture
async def served(serve: ServeFactory) -> Served:
    return await serve()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http
