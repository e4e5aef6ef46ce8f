"""The ``api:`` section of the config: where the HTTP API listens and how it authenticates."""

from __future__ import annotations

import voluptuous as vol

from ..config import PORT, ConfigSection

API_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=True): bool,
        vol.Optional("host", default="127.0.0.1"): str,
        vol.Optional("port", default=8080): PORT,
        # Manual 9.14.1 "WEB Authentication": digest only, or digest and basic.
        vol.Optional("web_authentication", default="digest/basic"): vol.In(
            ["digest", "digest/basic"]
        ),
        # Manual 9.14.1 "WEB Digest Algorithm".
        vol.Optional("web_digest_algorithm", default="MD5/SHA256"): vol.In(
            ["MD5", "SHA256", "MD5/SHA256"]
        ),
    }
)

API_SECTION = ConfigSection(
    "api", API_SCHEMA, default=True, summary="the HTTP API and web page (on unless switched off)"
)

__all__ = ["API_SCHEMA", "API_SECTION"]
