"""How far behind a live stream a reader is that demultiplexes it in its own thread.

With a stream thread in between, a reader's backlog is a queue that can be looked at (the
``Mailbox``'s patience). A feed that demultiplexes in its own thread (``read_inline``) has no
such queue: the packets it has not taken yet wait in the socket and in FFmpeg's buffers and
come out at once when it reads again. What shows them is time: at the live edge a packet is
taken when it arrives, so ``arrival - media time`` stays level; behind, packets come out
faster than real time, each later by what the reader fell behind.

``LiveEdge.keep`` applies the mailbox's rule to that measure: once the reader is more than
``patience`` behind, packets are shed up to a keyframe it is no longer behind at (a predicted
frame cannot be decoded without the ones before it; shed, they cost no decoding, and reading
past them takes next to no time, so the backlog drains).
"""

from __future__ import annotations

#: How fast (seconds a second) the live edge's reference may move up on its own: a camera
#: whose clock runs slower than ours (tens of ppm) must not look like a growing backlog, while
#: a reader short of CPU falls behind by a share of real time (10 % short: 0.1 s a second).
CLOCK_DRIFT = 0.001
#: Behind by more than this: the timestamps jumped (a camera that restarted its clock, an
#: MPEG-TS timestamp that wrapped), not the reader, whose backlog is shed long before.
IMPLAUSIBLE = 30.0
#: A shed over which real time passed at least this share of the media time shed was read at
#: the live edge: the timestamps jumped back, the reader was never behind.
LIVE_PACE = 0.9


class LiveEdge:
    """One stream's live edge, from the arrival (``time.monotonic()``) and media time (s,
    increasing) of each video packet, in order."""

    def __init__(self, patience: float) -> None:
        self._patience = patience
        #: The smallest ``arrival - media`` seen, moved up by at most ``CLOCK_DRIFT``: the
        #: stream's live edge on our clock.
        self._origin: float | None = None
        self._last = 0.0
        #: While shedding: the arrival and media time of the first packet shed.
        self._shed_from: tuple[float, float] | None = None
        self.shed = 0  # video packets shed since the start

    def behind(self, arrival: float, media: float) -> float:
        """How far (s) behind the live edge a packet taken now is."""
        ahead = arrival - media
        origin = self._origin
        if origin is None or ahead <= origin or ahead - origin > IMPLAUSIBLE:
            origin = ahead
        else:
            origin = min(ahead, origin + CLOCK_DRIFT * max(0.0, arrival - self._last))
        self._origin, self._last = origin, arrival
        return ahead - origin

    def keep(self, arrival: float, media: float, keyframe: bool) -> bool:
        """Whether to hand this video packet on; False: it is shed (counted in ``shed``)."""
        lag = self.behind(arrival, media)
        shed_from = self._shed_from
        if shed_from is not None:
            if keyframe:
                arrived, started = shed_from
                if arrival - arrived >= LIVE_PACE * (media - started):
                    self._origin, lag = arrival - media, 0.0  # read at the live edge all along
                if lag <= self._patience:  # else a newer keyframe is in the backlog, or soon
                    self._shed_from = None
                    return True
            self.shed += 1
            return False
        if lag > self._patience:
            self._shed_from = (arrival, media)
            self.shed += 1
            return False
        return True
