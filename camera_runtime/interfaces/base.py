"""What every registered plugin class declares about itself: its kind and its options schema."""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping
from typing import Any, ClassVar

import voluptuous as vol


class PluginClass(ABC):
    """Base of every extension point.

    ``kind`` is the ``type:`` users write in the config; ``CONFIG_SCHEMA`` validates (and fills
    defaults into) the options given for that type. The schema is the only place defaults live.
    """

    extension_point: ClassVar[str] = ""
    kind: ClassVar[str]
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema({}, extra=vol.PREVENT_EXTRA)

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options: Mapping[str, Any] = options
