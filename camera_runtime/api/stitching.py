"""Stitched devices over HTTP (manual ch. 10): calibration state, recalibrate, the preview."""

from __future__ import annotations

from aiohttp import web

from .auth import audit
from .keys import RUNTIME


async def stitching(request: web.Request) -> web.Response:
    """Every stitched device: output mode, its channels, calibration state."""
    return web.json_response(request.app[RUNTIME].stitching())


async def recalibrate(request: web.Request) -> web.Response:
    """Calibrate a device again from its next pictures; answers once done (a failure keeps
    the calibration in use and says why in ``calibration_error``)."""
    device_id = request.match_info["device_id"]
    status = await request.app[RUNTIME].recalibrate(device_id)
    audit(
        request,
        "stitched device %r recalibrated (%s)",
        device_id,
        status["calibration_error"] or "ok",
    )
    return web.json_response(status)


async def preview(request: web.Request) -> web.FileResponse:
    """The stitched picture the last calibration saved."""
    path = request.app[RUNTIME].stitching_preview(request.match_info["device_id"])
    return web.FileResponse(
        path, headers={"Content-Type": "image/jpeg", "Cache-Control": "no-store"}
    )
