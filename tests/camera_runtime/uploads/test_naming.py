"""Picture names, directory structure and filing folders of uploads (manual 5.1.2)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from camera_runtime.uploads.naming import (
    NAMING_SCHEMA,
    Picture,
    filing_folder,
    picture_name,
    remote_path,
    safe_part,
)

# 2015-09-17 09:44:25.492 local time, as in the manual's example name.
WHEN = time.mktime((2015, 9, 17, 9, 44, 25, 0, 0, -1)) + 0.492
PICTURE = Picture("Front door", 88, "10.11.37.189", "Gate cam", 1, WHEN, "face_detection")


def naming(**options: Any) -> dict[str, Any]:
    return NAMING_SCHEMA(options)  # type: ignore[no-any-return]


def test_the_default_rule_is_the_manual_s_example() -> None:
    assert picture_name(PICTURE) == "10.11.37.189_01_20150917094425492_FACE_DETECTION.jpg"
    assert (
        picture_name(PICTURE, "yard") == "yard10.11.37.189_01_20150917094425492_FACE_DETECTION.jpg"
    )


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({}, "10.11.37.189_01_20150917094425492_FACE_DETECTION.jpg"),
        ({"structure": "parent"}, "Front_door/10.11.37.189_01_20150917094425492_FACE_DETECTION.jpg"),
        ({"structure": "parent", "parent": "device_no"}, "88/10.11.37.189_01_20150917094425492_FACE_DETECTION.jpg"),
        ({"structure": "parent", "parent": "device_ip"}, "10.11.37.189/10.11.37.189_01_20150917094425492_FACE_DETECTION.jpg"),
        ({"structure": "child"}, "Front_door/Gate_cam/10.11.37.189_01_20150917094425492_FACE_DETECTION.jpg"),
        (
            {"structure": "child", "parent": "custom", "parent_custom": "home", "child": "camera_no"},
            "home/01/10.11.37.189_01_20150917094425492_FACE_DETECTION.jpg",
        ),
        ({"filing_interval_days": 1}, "20150917-20150917/10.11.37.189_01_20150917094425492_FACE_DETECTION.jpg"),
    ],
)  # fmt: skip
def test_directory_structures(options: dict[str, Any], path: str) -> None:
    assert remote_path(PICTURE, naming(**options)) == path


def test_a_filing_interval_groups_its_days_in_one_folder() -> None:
    day = 86400
    folders = {filing_folder(WHEN + i * day, 7) for i in range(-10, 10)}
    assert all(len(f) == 17 and f[8] == "-" for f in folders)
    # 20 consecutive days over 7-day intervals: three or four folders, each spanning 7 days.
    assert 3 <= len(folders) <= 4
    for folder in folders:
        first, last = (time.strptime(part, "%Y%m%d") for part in folder.split("-"))
        assert round((time.mktime(last) - time.mktime(first)) / day) == 6
    assert filing_folder(WHEN, 7) == filing_folder(WHEN + 3600, 7)


@pytest.mark.parametrize("evil", ["..", "../..", "a/../../etc", "/etc/passwd", "", "..."])
def test_no_name_can_climb_out_of_the_upload_directory(evil: str) -> None:
    part = safe_part(evil)
    assert "/" not in part and part not in {"", ".", ".."} and not part.startswith(".")
    picture = Picture(evil, 1, evil, evil, 1, WHEN, evil)
    path = remote_path(picture, naming(structure="child", prefix=evil))
    assert all(p not in {"", ".", ".."} for p in path.split("/"))
    assert len(path.split("/")) == 3
