"""``python -m camera_runtime``: the same as the ``camera-runtime`` command."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
