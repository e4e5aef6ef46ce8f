"""A channel's ``record`` section (manual 5.2.1): what is recorded, from which stream, and for
how long it is kept. Defaults live here, in the schema."""

from __future__ import annotations

import voluptuous as vol

#: The manual's record types that this runtime records: ``continuous`` (always) and ``event``
#: (while an event of the channel lasts; ``events`` narrows it to some types: the manual's
#: *Motion* type is ``events: [motion]``). Event types belong to plugins, so the core names
#: none. The manual's ``alarm``, ``motion | alarm`` and ``motion & alarm`` wait for alarm inputs.
RECORD_TYPES = ("continuous", "event")

RECORD_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=False): bool,
        # Which stream is recorded ("Stream Type"): the main stream, or the sub-stream.
        vol.Optional("stream", default="main"): vol.In(["main", "sub"]),
        vol.Optional("record_type", default="continuous"): vol.In(RECORD_TYPES),
        # With ``event``: the event types that record; empty: every type but video loss.
        vol.Optional("events", default=[]): [vol.All(str, vol.Length(min=1, max=64))],
        # Seconds before an event (or a clip command) that its recording starts with; the
        # recording starts at the keyframe at or before that time (within one GOP).
        vol.Optional("pre_record", default=5.0): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=30)
        ),
        # Seconds recording goes on after an event ended.
        vol.Optional("post_record", default=5.0): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=600)
        ),
        # A segment file is closed at the first keyframe after this many seconds.
        vol.Optional("segment_length", default=60.0): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=3600)
        ),
        # Days a segment is kept ("Recording Expiration"); 0: until removed otherwise.
        vol.Optional("expiration_days", default=0.0): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=3650)
        ),
    }
)
