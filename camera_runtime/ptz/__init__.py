"""ePTZ: pan, tilt and zoom of a crop window over a channel's picture (cameras without a motor),
with the manual's live-view PTZ functions built on it: presets, patrols, patterns, 3D
positioning and count pixel (docs/ptz.md).

``window`` is the geometry (pure functions), ``settings`` the ranges and schemas, ``motion``
what moves the window frame by frame, ``book`` the saved presets, patrols and patterns (kept
in the data folder), ``methods`` the Runtime's PTZ commands.
"""
