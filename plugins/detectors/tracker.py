"""The moving-object tracker the smart-event detectors share: blobs of the adaptive foreground, and identities across pictures."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import cast

import cv2
import numpy as np

from camera_runtime.imaging import downscale_luma
from camera_runtime.interfaces import DetectorContext
from camera_runtime.model import Box, Plane

from .foreground import AdaptiveForeground, Level

#: How far a pixel must stand out to belong to a target: the motion detector's default
#: (6 x the scene's noise, at least 4 grey levels; see ``motion.level(50)``), which keeps
#: sensor noise, brightness steps and a few pixels of shake out (``docs/motion.md``).
LEVEL = Level(6.0, 4)
#: The tracker learns its background selectively: the still scene with the motion detector's
#: time constant, the pixels of targets ``FOREGROUND_TIME`` seconds (so a walker leaves no
#: trail and its inside stays found, and someone loitering for tens of seconds stays a
#: target), without the motion detector's trail test (``STILL_FACTOR`` 1).
BACKGROUND_TIME = 0.3
FOREGROUND_TIME = 60.0
STILL_FACTOR = 1
#: Only pixels that stand out this far are protected (learnt at ``FOREGROUND_TIME``): a target
#: does (a person against the ground: tens of grey levels), the faint ghost a still target
#: leaves in the background does not, and heals at ``BACKGROUND_TIME``.
PROTECT = Level(12.0, 10)
#: A blob smaller than this many foreground pixels is a speck of noise, not a target.
MIN_PIXELS = 6
#: ... and one whose foreground pixels fill less than this share of its box is the outline of
#: edges a shaking camera moved (thin slivers along them), not a solid object.
MIN_FILL = 0.3
#: The pieces of one target (a uniform object changes mostly at its edges: a person walking
#: towards the camera shows its head and its feet) are joined by a closing with a kernel this
#: share of the picture's width and height: upright, as people are (7x15 pixels at 320x180,
#: taken as 3x7 cells of 2x2 pixels: ``Tracker._blobs``).
CLOSE = (0.022, 0.083)
#: A track is confirmed after this many pictures with a blob: a blob of one or two pictures (a flicker,
#: a noise burst) never becomes a target.
CONFIRM_HITS = 3
#: ... and once its centre has moved this share of its box's larger side from where it was
#: first seen: a target is something that moves (it may stop later). What never moved is
#: a change of the scene (a ghost where something stood, a lamp's glow), not a target.
CONFIRM_TRAVEL = 0.5
#: A track that found no blob keeps its last box for this long (seconds) before it is
#: dropped: a target that pauses fades into the background within about a second (the
#: foreground's ``BACKGROUND_TIME``), and one that walks behind a post disappears briefly.
COAST_TIME = 1.5
#: ... and one that was never a target (a blob of a few pictures, a piece of someone's
#: outline that broke off for a moment) for this long.
TENTATIVE_COAST_TIME = 0.5
#: A blob is the same target when its centre lies within this many of the track's half
#: diagonals of where the track was heading (plus ``GATE_MIN`` pixels).
GATE_FACTOR = 1.0
GATE_MIN = 4.0


@dataclass(slots=True)
class Track:
    """One moving target: ``box`` is (x, y, w, h) in detect pixels, from its latest blob.

    ``centre`` and ``confirmed`` are plain attributes, set when the box or the hits change
    (``_follow``), not properties: the detectors read them about 120 times a picture on a
    busy scene (tens of tracks, every rule of six detectors), and a property call is several
    times the cost of reading an attribute."""

    id: int
    box: tuple[float, float, float, float]
    first_seen: float
    last_seen: float
    hits: int = 1
    velocity: tuple[float, float] = (0.0, 0.0)  # pixels a second
    seen: bool = True  # a blob matched it in the latest picture
    origin: tuple[float, float] = (0.0, 0.0)  # its centre when first seen
    moved: bool = False  # it travelled ``CONFIRM_TRAVEL`` from there
    #: the box's centre
    centre: tuple[float, float] = field(init=False)
    #: a target: ``CONFIRM_HITS`` pictures with a blob, and it moved
    confirmed: bool = field(init=False)

    def __post_init__(self) -> None:
        self.settle()
        if self.hits == 1:
            self.origin = self.centre

    def settle(self) -> None:
        """Set ``centre`` and ``confirmed`` from the box, the hits and ``moved``: to be called
        whenever one of them changes."""
        x, y, w, h = self.box
        self.centre = (x + w / 2, y + h / 2)
        self.confirmed = self.hits >= CONFIRM_HITS and self.moved

    def normalised(self, width: int, height: int) -> Box:
        """The box in 0..1 picture coordinates (events carry these)."""
        x, y, w, h = self.box
        return Box(x / width, y / height, w / width, h / height)


class Tracker:
    """Moving targets of one channel, at detect resolution.

    Per picture: ``AdaptiveForeground`` at ``LEVEL`` (the noise-adaptive, brightness- and
    shake-tolerant step the motion detector uses), a closing that joins a target's pieces,
    connected components as blobs (at least ``MIN_PIXELS``; both on cells of 2x2 pixels),
    then association: every (track, blob) pair whose blob centre lies within the track's gate
    of its predicted centre, best first (the distance, times one plus the log of the size
    ratio), each used once. Unmatched blobs start tracks; unmatched tracks coast for
    ``COAST_TIME`` (targets) or ``TENTATIVE_COAST_TIME`` (the rest: on a busy street the
    debris of broken-up blobs made about 10 of 26 tracks, and every track is weighed against
    every blob). A picture the foreground only learnt (the first, a scene change such as a
    light switched on) has no blobs: tracks coast through it.

    ``update`` is idempotent per picture: every detector of the channel calls it with the same
    picture and timestamp, and only the first call does the work.
    """

    def __init__(self, width: int, height: int, fps: float) -> None:
        self.width = width
        self.height = height
        self._foreground = AdaptiveForeground(
            width, height, fps, BACKGROUND_TIME, STILL_FACTOR, FOREGROUND_TIME, PROTECT
        )
        kw = max(3, round(width * CLOSE[0])) | 1
        kh = max(5, round(height * CLOSE[1])) | 1
        # the closing and the components work on cells of 2x2 pixels (``_blobs``): the
        # kernel in cells
        kw, kh = (kw // 2) | 1, (kh // 2) | 1
        self._kernel = np.ones((kh, kw), dtype=np.uint8)
        self._pad = (kw // 2 + 1, kh // 2 + 1)
        self._tracks: list[Track] = []
        self._next_id = 1
        self._last: float | None = None

    @property
    def tracks(self) -> list[Track]:
        """The current tracks, confirmed or not, seen in the latest picture or coasting."""
        return self._tracks

    @property
    def foreground(self) -> AdaptiveForeground:
        """The background model the blobs come from: still objects (what was left behind or
        taken away) are told apart by comparing its background with the latest picture."""
        return self._foreground

    def update(self, image: Plane, timestamp: float) -> list[Track]:
        """Track one picture (uint8 grey, scaled to the detect size if it is not) and return
        the current tracks."""
        # a picture is known by its timestamp: every detector passes the channel's one
        # picture with the same one (a clock that repeats a timestamp skips a picture)
        if timestamp == self._last:
            return self._tracks
        self._last = timestamp
        if image.shape != (self.height, self.width):
            image = downscale_luma(image, self.width, self.height)
        blobs = self._blobs(image, timestamp)
        self._associate(blobs, timestamp)
        return self._tracks

    def _blobs(self, image: Plane, timestamp: float) -> list[tuple[float, float, float, float]]:
        found = self._foreground.update(image, timestamp, (LEVEL, PROTECT), MIN_PIXELS)
        if found is None or not found.masks:
            return []
        x0, y0, mw, mh = found.box
        mask = found.masks[LEVEL]
        px, py = self._pad
        # The closing and the components run on cells of 2x2 pixels, a quarter of the pixels:
        # on ``busy360`` (a mask as large as the picture) they cost 75 against 160 us a
        # picture, with nearly the same events on the accuracy scenes (``docs/smart-events.md``).
        # The mask is padded to whole cells and by the closing's reach (``_pad``, in cells),
        # then each cell is the mean of its four pixels: 0, 64, 128, 191 or 255, a quarter of
        # 255 for each foreground pixel (a cell is foreground when one of its pixels is).
        padded = cv2.copyMakeBorder(
            mask, 2 * py, 2 * py + (mh & 1), 2 * px, 2 * px + (mw & 1), cv2.BORDER_CONSTANT, value=0
        )
        size = (padded.shape[1] // 2, padded.shape[0] // 2)
        cells = cast(Plane, cv2.resize(padded, size, interpolation=cv2.INTER_AREA))
        closed = cast(Plane, cv2.morphologyEx(cells, cv2.MORPH_CLOSE, self._kernel))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            closed, connectivity=8, ltype=_label_type(closed.shape)
        )
        # each blob's foreground pixels (before the closing): its cells' values summed, in
        # pixels (``PIXELS_PER_LEVEL``; the values' rounding is 0.004 of a pixel a cell at
        # most: rounded off)
        lit = cells > 0
        sums = np.bincount(labels[lit], weights=cells[lit], minlength=count)
        solid = cast(list[float], sums.tolist())
        # a loop over Python lists, not numpy's arrays: a picture has one to a few tens of
        # blobs, and each of the five array steps that picked them cost more than the loop
        # (the yard: 18 against 34 us a picture; busy360, 11 blobs: 93 against 103 us)
        right, bottom = float(x0 + mw), float(y0 + mh)
        blobs = []
        for label, (x, y, w, h, _) in enumerate(cast(list[list[int]], stats.tolist())):
            # the box of its pixels lies within its cells' and reaches one or two pixels into
            # the outer ones: half a pixel in from the cells' box on each side, on average (a
            # box from the mask itself, one OpenCV call a blob, cost 50-90 us a picture on
            # ``busy360``, one thread); clipped to the mask at its odd right and lower edges
            left, top = x0 + 2.0 * (x - px) + 0.5, y0 + 2.0 * (y - py) + 0.5
            bw, bh = min(2.0 * w - 1.0, right - left), min(2.0 * h - 1.0, bottom - top)
            if label and round(solid[label] * PIXELS_PER_LEVEL) >= max(
                MIN_PIXELS, MIN_FILL * bw * bh
            ):
                blobs.append((left, top, bw, bh))
        return blobs

    def _associate(self, blobs: list[tuple[float, float, float, float]], timestamp: float) -> None:
        pairs = self._pairs(blobs, timestamp)
        pairs.sort()
        used_tracks: set[int] = set()
        used_blobs: set[int] = set()
        for _, t_index, b_index in pairs:
            if t_index in used_tracks or b_index in used_blobs:
                continue
            used_tracks.add(t_index)
            used_blobs.add(b_index)
            self._follow(self._tracks[t_index], blobs[b_index], timestamp)
        kept = []
        for t_index, track in enumerate(self._tracks):
            if t_index not in used_tracks:
                track.seen = False
                coast = COAST_TIME if track.confirmed else TENTATIVE_COAST_TIME
                if timestamp - track.last_seen > coast or timestamp < track.last_seen:
                    continue
            kept.append(track)
        for b_index, blob in enumerate(blobs):
            if b_index not in used_blobs:
                kept.append(Track(self._next_id, blob, timestamp, timestamp))
                self._next_id += 1
        self._tracks = kept

    def _pairs(
        self, blobs: list[tuple[float, float, float, float]], timestamp: float
    ) -> list[tuple[float, int, int]]:
        """Every (track, blob) pair whose blob centre lies within the track's gate of where
        the track was heading, as (score, track index, blob index): the distance, times one
        plus the log of the size ratio (a blob of another size is a worse match than its
        distance says: a target that sets off again must not stay with a speck it left
        behind).

        Plain Python, each track's prediction and gate reckoned once and a pair ruled out by
        two comparisons when the blob lies beyond the gate along either axis (most pairs),
        before the distance: on ``busy360`` (32 tracks, 8 blobs a picture) that costs less
        than the arrays that picked the candidates did (105 against 143 us), and the pairs'
        distances are no longer worked out twice."""
        if not self._tracks or not blobs:
            return []
        centres = [(x + w / 2, y + h / 2, w * h) for x, y, w, h in blobs]
        pairs = []
        for t_index, track in enumerate(self._tracks):
            dt = max(0.0, timestamp - track.last_seen)
            cx, cy = track.centre
            px, py = cx + track.velocity[0] * dt, cy + track.velocity[1] * dt
            gate = GATE_MIN + GATE_FACTOR * math.hypot(track.box[2], track.box[3]) / 2
            for b_index, (bx, by, area) in enumerate(centres):
                dx, dy = bx - px, by - py
                if not (-gate <= dx <= gate and -gate <= dy <= gate):
                    continue  # the distance is at least either: beyond the gate
                distance = math.hypot(dx, dy)
                if distance <= gate:
                    size = abs(math.log(area / (track.box[2] * track.box[3])))
                    pairs.append((distance * (1.0 + size), t_index, b_index))
        return pairs

    @staticmethod
    def _follow(track: Track, blob: tuple[float, float, float, float], timestamp: float) -> None:
        dt = timestamp - track.last_seen
        cx, cy = track.centre
        track.box = blob
        x, y, w, h = blob
        nx, ny = x + w / 2, y + h / 2
        if dt > 0:
            # a light smoothing: one picture's blob outline (legs, a trail) jitters
            vx, vy = (nx - cx) / dt, (ny - cy) / dt
            if track.hits == 1:
                track.velocity = (vx, vy)
            else:
                track.velocity = (
                    0.5 * (track.velocity[0] + vx),
                    0.5 * (track.velocity[1] + vy),
                )
        if not track.moved:
            travel = math.hypot(nx - track.origin[0], ny - track.origin[1])
            track.moved = travel >= CONFIRM_TRAVEL * max(w, h)
        track.last_seen = timestamp
        track.hits += 1
        track.seen = True
        track.settle()


#: A cell of 2x2 pixels averages their 0 or 255: each foreground pixel adds 255 / 4.
PIXELS_PER_LEVEL = 4.0 / 255.0


def _label_type(shape: tuple[int, ...]) -> int:
    """16-bit labels when they cannot overflow, else 32-bit: the same labels and stats at a
    fifth of the CPU of the 32-bit ones (OpenCV 5.1, ``busy360`` at 320x180: 130-165 us
    against 590-860 us a picture). 8-connected components hold at most one pixel of every
    2x2 square each, so a picture has at most ``ceil(h / 2) x ceil(w / 2)`` of them (57 600 at
    640x360, with the closing's padding a little more)."""
    height, width = shape[0], shape[1]
    return cv2.CV_16U if -(-height // 2) * -(-width // 2) < 65535 else cv2.CV_32S


#: The key of the channel's tracker in ``DetectorContext.shared``.
SHARED_KEY = "camera_runtime_plugins.tracker"


def shared_tracker(context: DetectorContext) -> Tracker:
    """The channel's one tracker, built by the first detector that asks: every smart-event
    detector of a channel uses the same one, so its cost is paid once per channel."""
    return context.service(
        SHARED_KEY, Tracker, lambda: Tracker(context.width, context.height, context.fps)
    )
