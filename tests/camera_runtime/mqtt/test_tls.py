"""A TLS-only broker: the bridge connects when it trusts the broker's CA, and refuses (logged,
never connected, the runtime unharmed) when it does not; unreadable certificates are a config
error that starts nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from camera_runtime.exceptions import ConfigError
from tests.mosquitto import Mosquitto
from tests.polling import eventually

from .conftest import Runtimes, tick_channel


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.crt", folder / "ca.key"
    cert, key, csr = folder / "server.crt", folder / "server.key", folder / "server.csr"
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
             "/CN=camera_runtime test CA", "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", str(key), "-out", str(csr))  # fmt: skip
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "1", "-extfile", str(ext), "-out", str(cert))  # fmt: skip
    return ca, cert, key


async def test_tls_broker(
    runtimes: Runtimes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ca, cert, key = make_certificates(tmp_path / "pki")
    secure = Mosquitto(tmp_path / "tls-broker", tls=(cert, key))
    secure.start()
    try:
        mqtt = {"host": secure.host, "port": secure.port}
        _, trusted = await runtimes.start(
            [tick_channel("cam1")], {**mqtt, "tls": {"ca_certs": str(ca)}}, data_dir=tmp_path / "a"
        )
        await eventually(lambda: trusted.connected, what="the TLS connection")
        # The system's CAs do not know the test CA: the handshake fails, and keeps failing.
        runtime, untrusted = await runtimes.start(
            [tick_channel("cam1")], {**mqtt, "tls": {}}, data_dir=tmp_path / "b"
        )
        await eventually(
            lambda: (
                "CERTIFICATE_VERIFY_FAILED" in caplog.text
                or "certificate verify failed" in caplog.text
            ),
            what="the certificate refusal in the log",
        )
        assert not untrusted.connected
        assert runtime.channels["cam1"].state in {"starting", "online"}
    finally:
        for started in list(runtimes.running):
            await runtimes.stop(started)
        secure.stop()


async def test_unreadable_certificates_start_nothing(runtimes: Runtimes, tmp_path: Path) -> None:
    missing = tmp_path / "nope.crt"
    with pytest.raises(ConfigError, match=r"mqtt\.tls: cannot load the certificates"):
        await runtimes.start(
            [tick_channel("cam1")],
            {"host": "127.0.0.1", "port": 1, "tls": {"ca_certs": str(missing)}},
        )
