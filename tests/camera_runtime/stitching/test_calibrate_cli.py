"""``camera-runtime calibrate``: a progress bar, the saved calibration and preview, and
failures explained in words a user can act on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import pytest
import yaml

from camera_runtime.cli import main
from camera_runtime.stitching import calibration

from .test_stitching import device, sensor


def write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_calibrate_shows_progress_and_writes_the_calibration_and_a_preview(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, {"stitching": [device()]})
    assert main(["calibrate", "-c", config, "--data-dir", str(tmp_path / "data")]) == 0
    out = capsys.readouterr().out
    assert "calibrating yard: 4 sensors" in out
    assert "[##############################] 100% done" in out
    assert "matching sensors 3 and 4" in out
    saved = json.loads(calibration.calibration_path(tmp_path / "data", "yard").read_text())
    assert len(saved["matrices"]) == 4 and all(n >= 30 for n in saved["matches"])
    preview = cv2.imread(str(calibration.preview_path(tmp_path / "data", "yard")))
    assert preview.shape[1] == saved["canvas"][0] and preview.shape[0] == saved["canvas"][1]


def test_sensors_without_overlap_fail_with_advice_and_save_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apart = {"id": "yard", "sensors": [sensor(i, 2, overlap=0.0) for i in range(2)]}
    config = write(tmp_path, {"stitching": [apart]})
    assert main(["calibrate", "-c", config, "--data-dir", str(tmp_path / "data")]) == 1
    out = capsys.readouterr().out
    assert "calibration failed: too little overlap between sensors 1 and 2" in out
    assert "Turn the sensors so that neighbours share about a fifth" in out
    assert not calibration.calibration_path(tmp_path / "data", "yard").exists()


def test_a_device_in_original_mode_has_nothing_to_calibrate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, {"stitching": [device("original")]})
    assert main(["calibrate", "-c", config, "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert "no stitched device (the original output mode stitches nothing)" in err
