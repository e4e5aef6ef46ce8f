"""Writing the config back: atomic, a backup, the file's permissions and symlinks kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from camera_runtime.config_file import write_yaml_file
from camera_runtime.exceptions import StorageError


def test_permissions_backup_and_content(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("# secrets inside\nmqtt: {password: x}\n")
    path.chmod(0o600)
    write_yaml_file(path, {"mqtt": {"password": "y"}, "channels": []})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text()) == {"mqtt": {"password": "y"}, "channels": []}
    backup = tmp_path / "config.yaml.bak"
    assert backup.read_text().startswith("# secrets inside")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["config.yaml", "config.yaml.bak"], "no temporary file is left"


def test_a_symlinked_config_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real" / "config.yaml"
    real.parent.mkdir()
    real.write_text("channels: []\n")
    link = tmp_path / "config.yaml"
    link.symlink_to(real)
    write_yaml_file(link, {"channels": [], "device": {"name": "x"}})
    assert link.is_symlink()
    assert yaml.safe_load(real.read_text())["device"] == {"name": "x"}


def test_a_new_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new.yaml"
    write_yaml_file(path, {"channels": []})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(os.getuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_folder_is_a_storage_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "config.yaml"
    path.write_text("channels: []\n")
    folder.chmod(0o500)
    try:
        with pytest.raises(StorageError, match="cannot write the configuration"):
            write_yaml_file(path, {"channels": [1]})
        assert path.read_text() == "channels: []\n"
    finally:
        folder.chmod(0o700)
