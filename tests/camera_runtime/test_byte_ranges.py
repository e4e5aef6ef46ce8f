"""The one byte range a seeking player asks for, as the API's playback routes and the local
client read it: the forms RFC 9110 gives, clipped to the file, and every malformed or
unsatisfiable header refused (416) rather than answered with the wrong bytes."""

from __future__ import annotations

import io

import pytest

from camera_runtime.byte_ranges import (
    RangeNotSatisfiable,
    range_headers,
    read_range,
    wanted_range,
)


@pytest.mark.parametrize(
    ("header", "wanted"),
    [
        (None, (0, 1000)),
        ("", (0, 1000)),
        ("bytes=0-99", (0, 100)),
        ("bytes=100-", (100, 1000)),
        ("bytes=900-5000", (900, 1000)),  # past the end: clipped
        ("bytes=-10", (990, 1000)),
        ("bytes=-5000", (0, 1000)),
        ("Bytes = 5-5", (5, 6)),
        ("bytes=999-999", (999, 1000)),
    ],
)
def test_a_range_is_the_bytes_it_names_clipped_to_the_file(
    header: str | None, wanted: tuple[int, int]
) -> None:
    assert wanted_range(header, 1000) == wanted


@pytest.mark.parametrize(
    "header",
    [
        "bytes=1000-",  # starts at the end
        "bytes=5-4",  # backwards
        "bytes=-0",
        "bytes=-",
        "bytes=a-b",
        "bytes=+1-2",
        "bytes=0-1,5-6",  # several ranges
        "items=0-1",
        "0-1",
    ],
)
def test_a_range_outside_the_file_or_not_one_byte_range_is_refused(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as refused:
        wanted_range(header, 1000)
    assert refused.value.content_range == "bytes */1000"


def test_the_answer_is_200_for_the_whole_and_206_with_its_place_for_a_part() -> None:
    assert range_headers(0, 1000, 1000) == (
        200,
        {"Accept-Ranges": "bytes", "Content-Length": "1000"},
    )
    assert range_headers(100, 200, 1000) == (
        206,
        {"Accept-Ranges": "bytes", "Content-Length": "100", "Content-Range": "bytes 100-199/1000"},
    )


async def test_the_bytes_are_read_in_chunks_and_a_file_cut_short_ends_them() -> None:
    data = bytes(range(256)) * 4096  # 1 MiB: several chunks
    chunks = [c async for c in read_range(io.BytesIO(data), 1000, 700_000)]
    assert len(chunks) > 1 and b"".join(chunks) == data[1000:700_000]
    short = [c async for c in read_range(io.BytesIO(data[:2000]), 1000, 700_000)]
    assert b"".join(short) == data[1000:2000]
