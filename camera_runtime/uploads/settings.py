"""The ``uploads:`` section's own keys (each target's are checked by ``uploader.build_targets``
against its backend's schema, which needs the plugins); light, so the config module can use it."""

from __future__ import annotations

import voluptuous as vol

UPLOADS_SCHEMA = vol.Schema(
    {
        vol.Optional("targets", default=[]): [dict],
        vol.Optional("max_items", default=1000): vol.All(int, vol.Range(min=1, max=100_000)),
        vol.Optional("max_mb", default=200): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=100_000)
        ),
        # The device's address in picture names; found from the routing table when left out.
        vol.Optional("device_ip"): vol.All(str, vol.Length(min=1, max=64)),
    }
)


__all__ = ["UPLOADS_SCHEMA"]
