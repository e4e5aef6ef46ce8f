"""Fragmented MP4 (ISO BMFF) written by hand for H.264 and H.265 packets: what a browser's
Media Source Extensions play.

Written here rather than by FFmpeg's ``mp4`` muxer because that muxer, driven through PyAV with
streams made from a codec name (not copied from an input), records no samples in the PyAV
releases we support, and because a live stream needs little of it: an initialisation segment
(``ftyp`` + ``moov`` with the codec's ``avcC``/``hvcC``) and then one ``moof`` + ``mdat``
fragment per packet, so a browser shows a frame as soon as it arrives. Samples are
length-prefixed NAL units (``avc1``/``hvc1``): start codes are converted, and parameter sets and
access unit delimiters are left out of the samples (they live in the sample entry). A
parameter set that changes mid-stream raises ``ParameterSetsChanged``: the stream's clients
reconnect and get a new initialisation segment.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: The time scale of every track: MPEG's 90 kHz, as the MPEG-TS streams.
TIMESCALE = 90_000

_H264_AUD, _H264_SPS, _H264_PPS = 9, 7, 8
_HEVC_VPS, _HEVC_SPS, _HEVC_PPS, _HEVC_AUD = 32, 33, 34, 35
#: Identity matrix of ``mvhd``/``tkhd``.
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
#: ``trun`` flags: data offset, and each sample's duration, size, flags and composition offset.
_TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800
_SYNC_SAMPLE = 0x02000000  # depends on no other sample
_NON_SYNC_SAMPLE = 0x01010000  # depends on others; not a sync sample


class Fmp4Error(ValueError):
    """The packets cannot be carried as fragmented MP4 (no parameter sets, another codec)."""


class ParameterSetsChanged(Fmp4Error):
    """A keyframe carries parameter sets other than the initialisation segment's."""


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


# ------------------------------------------------------------------------------ NAL units


def split_annex_b(data: bytes) -> list[bytes]:
    """The NAL units of a start-code stream (``00 00 01``/``00 00 00 01``)."""
    units: list[bytes] = []
    start = data.find(b"\x00\x00\x01")
    while start >= 0:
        begin = start + 3
        end = data.find(b"\x00\x00\x01", begin)
        unit = data[begin:] if end < 0 else data[begin:end]
        unit = unit.rstrip(b"\x00")  # the next start code's leading zero, trailing zeros
        if unit:
            units.append(unit)
        start = end
    return units


def split_length_prefixed(data: bytes, length_size: int = 4) -> list[bytes]:
    """The NAL units of an ``avcC``/``hvcC``-style sample (each after its big-endian length)."""
    units: list[bytes] = []
    at = 0
    while at + length_size <= len(data):
        size = int.from_bytes(data[at : at + length_size], "big")
        at += length_size
        if size == 0 or at + size > len(data):
            raise Fmp4Error("a NAL unit's length runs past its packet")
        units.append(data[at : at + size])
        at += size
    return units


def is_annex_b(data: bytes) -> bool:
    return data.startswith(b"\x00\x00\x01") or data.startswith(b"\x00\x00\x00\x01")


def _unescape(rbsp: bytes) -> bytes:
    """A NAL unit's payload without its emulation prevention bytes (``00 00 03``)."""
    return rbsp.replace(b"\x00\x00\x03", b"\x00\x00")


@dataclass(frozen=True, slots=True)
class ParameterSets:
    """A stream's parameter sets (VPS for H.265 only), as NAL units."""

    codec: str  # "h264" or "hevc"
    vps: tuple[bytes, ...]
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]

    def complete(self) -> bool:
        return bool(self.sps and self.pps and (self.vps or self.codec == "h264"))


def nal_type(codec: str, unit: bytes) -> int:
    return unit[0] & 0x1F if codec == "h264" else (unit[0] >> 1) & 0x3F


def _parameter_types(codec: str) -> tuple[int, int, int, frozenset[int]]:
    """(VPS, SPS, PPS, types left out of samples) of ``codec``."""
    if codec == "h264":
        return -1, _H264_SPS, _H264_PPS, frozenset({_H264_SPS, _H264_PPS, _H264_AUD})
    if codec == "hevc":
        return (
            _HEVC_VPS,
            _HEVC_SPS,
            _HEVC_PPS,
            frozenset({_HEVC_VPS, _HEVC_SPS, _HEVC_PPS, _HEVC_AUD}),
        )
    raise Fmp4Error(f"fragmented MP4 carries H.264 and H.265, not {codec}")


def parameter_sets(codec: str, units: Iterable[bytes]) -> ParameterSets:
    vps_type, sps_type, pps_type, _ = _parameter_types(codec)
    found: dict[int, list[bytes]] = {vps_type: [], sps_type: [], pps_type: []}
    for unit in units:
        kind = nal_type(codec, unit)
        if kind in found and unit not in found[kind]:
            found[kind].append(unit)
    return ParameterSets(
        codec, tuple(found[vps_type]), tuple(found[sps_type]), tuple(found[pps_type])
    )


def extradata_units(codec: str, extradata: bytes | None) -> tuple[list[bytes], int]:
    """The NAL units a codec's extradata holds, and the length size its samples use (4 when
    the extradata is start codes or absent)."""
    if not extradata:
        return [], 4
    if is_annex_b(extradata):
        return split_annex_b(extradata), 4
    if codec == "h264" and extradata[0] == 1 and len(extradata) >= 7:
        return _avcc_units(extradata), (extradata[4] & 0x03) + 1
    if codec == "hevc" and extradata[0] == 1 and len(extradata) >= 23:
        return _hvcc_units(extradata), (extradata[21] & 0x03) + 1
    raise Fmp4Error("the stream's codec headers are in a form fragmented MP4 cannot read")


def _avcc_units(data: bytes) -> list[bytes]:
    units: list[bytes] = []
    at = 5
    for mask in (0x1F, 0xFF):  # the SPS list (count in 5 bits), then the PPS list
        if at >= len(data):
            break
        count, at = data[at] & mask, at + 1
        for _ in range(count):
            size = int.from_bytes(data[at : at + 2], "big")
            units.append(data[at + 2 : at + 2 + size])
            at += 2 + size
    return units


def _hvcc_units(data: bytes) -> list[bytes]:
    units: list[bytes] = []
    arrays, at = data[22], 23
    for _ in range(arrays):
        count = int.from_bytes(data[at + 1 : at + 3], "big")
        at += 3
        for _ in range(count):
            size = int.from_bytes(data[at : at + 2], "big")
            units.append(data[at + 2 : at + 2 + size])
            at += 2 + size
    return units


# ------------------------------------------------------------------------- sample entries


def avcc(sets: ParameterSets) -> bytes:
    sps = sets.sps[0]
    out = bytearray([1, sps[1], sps[2], sps[3], 0xFC | 3, 0xE0 | len(sets.sps)])
    for unit in sets.sps:
        out += struct.pack(">H", len(unit)) + unit
    out.append(len(sets.pps))
    for unit in sets.pps:
        out += struct.pack(">H", len(unit)) + unit
    return box(b"avcC", bytes(out))


def _hevc_profile(sps: bytes) -> bytes:
    """The 12 bytes of the SPS's general profile, tier and level (after the NAL header and
    the byte of VPS id, sub-layer count and nesting flag)."""
    ptl = _unescape(sps[2:40])[1:13]
    if len(ptl) < 12:
        raise Fmp4Error("an H.265 SPS too short to hold its profile")
    return ptl


def hvcc(sets: ParameterSets) -> bytes:
    ptl = _hevc_profile(sets.sps[0])
    profile_idc = ptl[0] & 0x1F
    bit_depth = 2 if profile_idc == 2 else 0  # Main 10; the rest here are 8-bit
    nesting = _unescape(sets.sps[0][2:3])[0] & 0x01
    out = bytearray(
        [1, *ptl[:12], 0xF0, 0x00, 0xFC, 0xFC | 1, 0xF8 | bit_depth, 0xF8 | bit_depth, 0, 0]
    )
    out.append((1 << 3) | (nesting << 2) | 3)  # one temporal layer, 4-byte lengths
    arrays = [(_HEVC_VPS, sets.vps), (_HEVC_SPS, sets.sps), (_HEVC_PPS, sets.pps)]
    out.append(len(arrays))
    for kind, units in arrays:
        out += struct.pack(">BH", 0x80 | kind, len(units))
        for unit in units:
            out += struct.pack(">H", len(unit)) + unit
    return box(b"hvcC", bytes(out))


def codec_string(sets: ParameterSets) -> str:
    """The RFC 6381 ``codecs`` value a browser's ``MediaSource.isTypeSupported`` takes."""
    if sets.codec == "h264":
        sps = sets.sps[0]
        return f"avc1.{sps[1]:02X}{sps[2]:02X}{sps[3]:02X}"
    ptl = _hevc_profile(sets.sps[0])
    space = ("", "A", "B", "C")[ptl[0] >> 6]
    tier = "H" if ptl[0] & 0x20 else "L"
    compat = int.from_bytes(ptl[1:5], "big")
    reversed_compat = int(f"{compat:032b}"[::-1], 2)
    constraints = list(ptl[5:11])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    tail = "".join(f".{b:X}" for b in constraints)
    return f"hvc1.{space}{ptl[0] & 0x1F}.{reversed_compat:X}.{tier}{ptl[11]}{tail}"


def _visual_entry(sets: ParameterSets, width: int, height: int) -> bytes:
    config = avcc(sets) if sets.codec == "h264" else hvcc(sets)
    kind = b"avc1" if sets.codec == "h264" else b"hvc1"
    return box(
        kind,
        bytes(6),
        struct.pack(">HHH", 1, 0, 0),
        bytes(12),
        struct.pack(">HHIIIH", width, height, 0x00480000, 0x00480000, 0, 1),
        bytes(32),
        struct.pack(">Hh", 0x0018, -1),
        config,
    )


def init_segment(sets: ParameterSets, width: int, height: int) -> bytes:
    """``ftyp`` + ``moov`` of one video track (id 1) at ``TIMESCALE``, with no samples."""
    if not sets.complete():
        raise Fmp4Error(f"no {sets.codec} parameter sets (SPS/PPS) to describe the stream")
    ftyp = box(b"ftyp", b"iso5", struct.pack(">I", 512), b"iso5iso6mp41")
    mvhd = full_box(
        b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, 0), struct.pack(">IH", 0x10000, 0x100),
        bytes(10), _MATRIX, bytes(24), struct.pack(">I", 2),
    )  # fmt: skip
    tkhd = full_box(
        b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, 1, 0, 0), bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0), _MATRIX, struct.pack(">II", width << 16, height << 16),
    )  # fmt: skip
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, TIMESCALE, 0, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00")
    vmhd = full_box(b"vmhd", 0, 1, bytes(8))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), _visual_entry(sets, width, height)),
        full_box(b"stts", 0, 0, bytes(4)),
        full_box(b"stsc", 0, 0, bytes(4)),
        full_box(b"stsz", 0, 0, bytes(8)),
        full_box(b"stco", 0, 0, bytes(4)),
    )
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", vmhd, dinf, stbl)))
    mvex = box(b"mvex", full_box(b"trex", 0, 0, struct.pack(">IIIII", 1, 1, 0, 0, 0)))
    return ftyp + box(b"moov", mvhd, trak, mvex)


def fragment(
    sequence: int, decode_time: int, duration: int, composition_offset: int, keyframe: bool,
    sample: bytes,
) -> bytes:  # fmt: skip
    """One ``moof`` + ``mdat`` holding one sample of track 1 (times in ``TIMESCALE``)."""

    def moof(data_offset: int) -> bytes:
        flags = _SYNC_SAMPLE if keyframe else _NON_SYNC_SAMPLE
        trun = full_box(
            b"trun", 1, _TRUN_FLAGS,
            struct.pack(">IiIIIi", 1, data_offset, duration, len(sample), flags, composition_offset),
        )  # fmt: skip
        return box(
            b"moof",
            full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)),
            box(
                b"traf",
                full_box(b"tfhd", 0, 0x020000, struct.pack(">I", 1)),  # default-base-is-moof
                full_box(b"tfdt", 1, 0, struct.pack(">Q", decode_time)),
                trun,
            ),
        )

    size = len(moof(0))
    return moof(size + 8) + box(b"mdat", sample)


def sample_data(units: Sequence[bytes], leave_out: frozenset[int], codec: str) -> bytes:
    return b"".join(
        struct.pack(">I", len(unit)) + unit
        for unit in units
        if nal_type(codec, unit) not in leave_out
    )


class Fragmenter:
    """One stream's packets as fragmented MP4: ``init`` once the first keyframe (or the
    extradata) gave the parameter sets, then ``fragment`` per packet."""

    def __init__(self, codec: str, width: int, height: int, extradata: bytes | None) -> None:
        self.codec = codec
        self._width, self._height = width, height
        _, _, _, self._leave_out = _parameter_types(codec)
        units, self._length_size = extradata_units(codec, extradata)
        self._extradata_sets = parameter_sets(codec, units)
        self.sets: ParameterSets | None = None
        self.init = b""
        self._sequence = 0
        self._base: int | None = None  # the first decode time: the track starts at 0

    def units(self, data: bytes) -> list[bytes]:
        if is_annex_b(data):
            return split_annex_b(data)
        return split_length_prefixed(data, self._length_size)

    def fragment(
        self, data: bytes, decode_time: int, duration: int, offset: int, keyframe: bool
    ) -> bytes:
        """The packet ``data`` as a fragment (times in ``TIMESCALE``; the first packet's
        decode time is the track's 0); the first call (a keyframe) also fixes ``init``. Raises ``ParameterSetsChanged`` when a keyframe's parameter sets differ."""
        units = self.units(data)
        if keyframe:
            inband = parameter_sets(self.codec, units)
            if self.sets is None:
                sets = inband if inband.complete() else self._extradata_sets
                self.init = init_segment(sets, self._width, self._height)
                self.sets = sets
            elif inband.sps and (inband.sps, inband.pps) != (self.sets.sps, self.sets.pps):
                raise ParameterSetsChanged("the stream's parameter sets changed")
        elif self.sets is None:
            raise Fmp4Error("a fragmented MP4 stream starts at a keyframe")
        self._sequence += 1
        if self._base is None:
            self._base = decode_time
        sample = sample_data(units, self._leave_out, self.codec)
        start = max(0, decode_time - self._base)
        return fragment(self._sequence, start, duration, offset, keyframe, sample)

    @property
    def codecs(self) -> str:
        return "" if self.sets is None else codec_string(self.sets)


__all__ = [
    "TIMESCALE",
    "Fmp4Error",
    "Fragmenter",
    "ParameterSets",
    "ParameterSetsChanged",
    "codec_string",
    "init_segment",
    "split_annex_b",
]
