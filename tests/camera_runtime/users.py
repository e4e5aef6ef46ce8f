"""Users written straight into a data folder's credential store, for tests that need someone
below operator: the API has no route that adds users yet. No browser needed (the web tests
and the API tests both use it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from camera_runtime.security.credentials import DIGEST_HASHES, REALM, digest_ha1, hash_password
from camera_runtime.security.store import SECURITY_FILE

ADMIN = "admin"


def write_users(data_dir: Path, levels: Mapping[str, str], password: str) -> None:
    """An activated credential store with ``admin`` and these users (name -> level), all with
    ``password``, written where the server loads it from."""
    users = {ADMIN: "administrator", **levels}
    data = {
        "version": 1,
        "realm": REALM,
        "users": {
            name: {
                "level": level,
                "password": hash_password(password),
                "digest": {alg: digest_ha1(alg, name, password) for alg in DIGEST_HASHES},
            }
            for name, level in users.items()
        },
        "tokens": [],
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / SECURITY_FILE).write_text(json.dumps(data), encoding="utf-8")
