"""A channel's ``record`` section (manual 5.2.1): what is recorded, from which stream, and for
how long it is kept. Defaults live here, in the schema."""

from __future__ import annotations

import voluptuous as vol

from ..schedule import ARMING_SCHEDULE

#: The manual's record types (5.2.1), each within the channel's weekly ``schedule``:
#: ``continuous`` (all the time), ``motion`` (while an event of a ``motion_events`` type
#: lasts), ``alarm`` (an ``alarm_events`` type), ``motion_or_alarm`` (*Motion | Alarm*: either),
#: ``motion_and_alarm`` (*Motion & Alarm*: only while both last) and ``event`` (any event type
#: but video loss, or only the ``events`` types). Event types belong to plugins, so the core
#: only matches the names it is given (``triggers.py``).
#: The manual's own words for what records: its vocabulary, not a plugin's name (a detector
#: may share a word with it; the core still names no plugin: which event types are motion is
#: declared, see ``motion_events``).
RECORD_VOCABULARY = ("motion", "alarm")
MOTION, ALARM = RECORD_VOCABULARY
RECORD_TYPES = (
    "continuous",
    MOTION,
    ALARM,
    f"{MOTION}_or_{ALARM}",
    f"{MOTION}_and_{ALARM}",
    "event",
)
_EVENT_TYPES = [vol.All(str, vol.Length(min=1, max=64))]

RECORD_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=False): bool,
        # Which stream is recorded ("Stream Type"): the main stream, or the sub-stream.
        vol.Optional("stream", default="main"): vol.In(["main", "sub"]),
        vol.Optional("record_type", default="continuous"): vol.In(RECORD_TYPES),
        # With ``event``: the event types that record; empty: every type but video loss.
        vol.Optional("events", default=[]): _EVENT_TYPES,
        # The event types that are "motion" and "alarm" to the motion and alarm record types:
        # alarm inputs are plugins like any detector, so their event type is named here. No
        # motion types: the channel's event types declared with the motion device class.
        vol.Optional("motion_events", default=[]): _EVENT_TYPES,
        vol.Optional("alarm_events", default=["alarm_input"]): vol.All(
            _EVENT_TYPES, vol.Length(min=1)
        ),
        # The weekly periods the record type applies in (manual 5.2.1 step 5, as the arming
        # schedules: ``always`` or ``{monday: ["08:00-18:00"], ...}``, local time).
        vol.Optional("schedule", default="always"): ARMING_SCHEDULE,
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
