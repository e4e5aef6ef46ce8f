"""Benchmark: guess bursts, slow request heads and huge ones against the API server (issue #11).

The server (a Runtime with one small synthetic channel, and its ``ApiServer`` with the default
connection limits: ``camera_runtime.api.connections.Limits``) runs in a spawned process, so its
resident memory and its sockets are its own; this process is the attacker. In order:

1. Guess bursts: 150 wrong passwords sent at once from one address, with the login form, basic
   and digest (each scheme from its own loopback address). Counted in the server: the passwords
   it actually checked (scrypt runs, or digest responses judged wrong), and the answers.
2. Slowloris: 500 sockets that send a request line, then one byte every 10 s, from 10 loopback
   addresses (50 each: under the per-address cap, so the header deadline is what closes them),
   then 500 more from a single address (the cap). The sockets the server still holds after
   15, 30 and 60 s (``--quick``: 5 and 15 s), its RSS, and the latency of a normal request
   (``GET /api/device`` with a token, a new connection each time) every 0.5 s meanwhile.
3. Huge heads: 200 sockets, from 4 addresses, each sending ~960 KB of headers without ending
   the head, then stalling: RSS before, at its peak and after; sockets held after 5 s.

The issue's figures before the fix: 150 x 401 (every password checked) for the form, 30 of 30
for basic; all 500 slowloris sockets open after 60 s; 200 huge heads took the server from 288 to
654 MB and none was closed.

Targets: passwords checked <= the lock's attempts (5) per burst; no attack socket held once the
header deadline (10 s) has passed plus 5 s; a normal request always answered within 1 s; RSS
growth < 50 MB during either attack.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import multiprocessing as mp
import multiprocessing.connection
import os
import secrets
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil
from _common import (
    BENCH_PASSWORD,
    environment,
    finish,
    markdown_table,
    percentile,
    print_header,
    quiet_logs,
    runtime_config,
    verdict,
    wait_quiet,
)

NAME = "slow_headers"
BURST = 150
SLOW_SOCKETS = 500
SLOW_ADDRESSES = 10
HUGE_SOCKETS = 200
HUGE_ADDRESSES = 4
HUGE_HEAD = 960 * 1024
ATTEMPTS = 5
LATENCY_TARGET = 1.0
RSS_TARGET_MB = 50.0
MB = 1024 * 1024


# ------------------------------------------------------------------------ the server process


def serve(conn: Any) -> None:
    """Entry point of the spawned server process: start, report, answer until told to stop."""
    asyncio.run(_serve(conn))


async def _serve(conn: Any) -> None:
    quiet_logs()
    from camera_runtime.api import ApiServer
    from camera_runtime.api.auth import HTTP_AUTH
    from camera_runtime.api.digest import Outcome
    from camera_runtime.host import runtime_from_data
    from camera_runtime.security import store

    checked = {"scrypt": 0, "digest": 0}
    real_check = store.check_password

    def counting_check(record: Any, password: str) -> bool:
        checked["scrypt"] += 1
        return real_check(record, password)

    store.check_password = counting_check  # type: ignore[assignment]
    source = {"type": "synthetic", "width": 320, "height": 240, "fps": 5}
    config = runtime_config([{"id": "cam", "source": source}])
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="bench-slow-headers-") as tmp:
        runtime = runtime_from_data(config, data_dir=tmp)
        await runtime.start()
        server = ApiServer(runtime, "127.0.0.1", 0)
        await server.start()
        assert server.app is not None
        digest = server.app[HTTP_AUTH].digest
        real_verify = digest.verify

        def counting_verify(value: str, method: str, uri: str) -> Any:
            result = real_verify(value, method, uri)
            if result.outcome is Outcome.FAILED:
                checked["digest"] += 1
            return result

        digest.verify = counting_verify  # type: ignore[method-assign]
        try:
            await server.security.activate(BENCH_PASSWORD)
            admin = server.security.user("admin")
            assert admin is not None
            _, token = await server.security.create_token("bench", admin)
            conn.send({"port": server.port, "token": token, "pid": os.getpid()})
            while True:
                command = await loop.run_in_executor(None, conn.recv)
                if command == "stop":
                    break
                conn.send(dict(checked))
        finally:
            await server.stop()
            await runtime.stop()


class Server:
    """The spawned server: its port, token, process, and the passwords it checked."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=serve, args=(child,), daemon=True)
        self.process.start()
        info = self.conn.recv()
        self.port: int = info["port"]
        self.token: str = info["token"]
        self.ps = psutil.Process(info["pid"])
        self.url = f"http://127.0.0.1:{self.port}"

    def checked(self) -> dict[str, int]:
        self.conn.send("counts")
        return dict(self.conn.recv())

    def rss_mb(self) -> float:
        return float(self.ps.memory_info().rss) / MB

    def sockets(self) -> int:
        """Connections the server process holds on its port (the listening socket aside)."""
        return sum(
            1
            for c in self.ps.net_connections(kind="tcp")
            if c.laddr and c.laddr.port == self.port and c.status != psutil.CONN_LISTEN
        )

    def stop(self) -> None:
        self.conn.send("stop")
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()


# ------------------------------------------------------------------------ 1. guess bursts


@dataclass
class Burst:
    scheme: str
    requests: int
    checked: int
    answers: dict[str, int]
    seconds: float


def _digest_header(challenge: str, uri: str, password: str, nc: int) -> str:
    params = dict(
        part.strip().split("=", 1) for part in challenge[len("Digest ") :].split(",") if "=" in part
    )
    params = {k: v.strip('"') for k, v in params.items()}

    def h(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    cnonce, ncv = secrets.token_hex(8), f"{nc:08x}"
    ha1 = h(f"admin:{params['realm']}:{password}")
    response = h(f"{ha1}:{params['nonce']}:{ncv}:{cnonce}:auth:{h('GET:' + uri)}")
    return (
        f'Digest username="admin", realm="{params["realm"]}", nonce="{params["nonce"]}", '
        f'uri="{uri}", algorithm=SHA-256, qop=auth, nc={ncv}, cnonce="{cnonce}", '
        f'response="{response}"'
    )


async def burst(server: Server, scheme: str, local: str) -> Burst:
    import aiohttp

    before = server.checked()
    connector = aiohttp.TCPConnector(local_addr=(local, 0), force_close=True, limit=0)
    async with aiohttp.ClientSession(server.url, connector=connector) as session:
        challenge = ""
        if scheme == "digest":
            async with session.get("/api/device") as first:
                challenge = next(
                    v for v in first.headers.getall("WWW-Authenticate") if "SHA-256" in v
                )

        async def one(i: int) -> str:
            password = f"Wr0ng-Guess-{i}!"
            try:
                if scheme == "login":
                    body = {"username": "admin", "password": password}
                    request = session.post("/api/login", json=body)
                elif scheme == "basic":
                    token = base64.b64encode(f"admin:{password}".encode()).decode()
                    request = session.get(
                        "/api/device", headers={"Authorization": f"Basic {token}"}
                    )
                else:
                    auth = _digest_header(challenge, "/api/device", password, i + 1)
                    request = session.get("/api/device", headers={"Authorization": auth})
                async with request as r:
                    code = (await r.json()).get("error", "")
                    return f"{r.status} {code}"
            except aiohttp.ClientError as err:
                return type(err).__name__

        started = time.monotonic()
        answers = await asyncio.gather(*(one(i) for i in range(BURST)))
        seconds = time.monotonic() - started
    after = server.checked()
    key = "digest" if scheme == "digest" else "scrypt"
    return Burst(
        scheme, BURST, after[key] - before[key], dict(Counter(answers).most_common()), seconds
    )


# ------------------------------------------------------------------------ 2./3. socket attacks


@dataclass
class Attack:
    name: str
    sockets: int
    addresses: int
    connected: int
    rss_before: float
    rss_peak: float
    rss_after: float
    held: dict[float, int] = field(default_factory=dict)  # seconds after the start -> sockets
    client_closed: dict[float, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    failed_requests: int = 0


class Probe:
    """A normal client: ``GET /api/device`` with a token every 0.5 s, a new connection each."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.latencies: list[float] = []
        self.failed = 0

    async def run(self) -> None:
        import aiohttp

        headers = {"Authorization": f"Bearer {self.server.token}"}
        timeout = aiohttp.ClientTimeout(total=10)
        while True:
            started = time.monotonic()
            try:
                async with (
                    aiohttp.ClientSession(timeout=timeout) as session,
                    session.get(f"{self.server.url}/api/device", headers=headers) as r,
                ):
                    await r.read()
                    ok = r.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                self.latencies.append(time.monotonic() - started)
            else:
                self.failed += 1
            await asyncio.sleep(0.5)


async def _open(server: Server, local: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port, local_addr=(local, 0))


async def _watch_close(reader: asyncio.StreamReader, closed: list[float], t0: float) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while await reader.read(65536):
            pass
    closed.append(time.monotonic() - t0)


async def socket_attack(
    server: Server,
    name: str,
    count: int,
    addresses: list[str],
    samples: list[float],
    send: Any,
) -> Attack:
    """Open ``count`` sockets round-robin over ``addresses`` and run ``send(writer)`` on each;
    sample the server's sockets and RSS at ``samples`` seconds while a probe measures latency."""
    rss_before = server.rss_mb()
    probe = Probe(server)
    probe_task = asyncio.create_task(probe.run())
    t0 = time.monotonic()
    closed: list[float] = []
    writers: list[asyncio.StreamWriter] = []
    tasks: list[asyncio.Task[Any]] = []
    for i in range(count):
        try:
            reader, writer = await _open(server, addresses[i % len(addresses)])
        except OSError:
            closed.append(time.monotonic() - t0)
            continue
        writers.append(writer)
        tasks.append(asyncio.create_task(_watch_close(reader, closed, t0)))
        tasks.append(asyncio.create_task(send(writer)))
    attack = Attack(name, count, len(addresses), len(writers), rss_before, rss_before, 0.0)
    for when in samples:
        while (now := time.monotonic() - t0) < when:
            attack.rss_peak = max(attack.rss_peak, server.rss_mb())
            await asyncio.sleep(min(0.2, when - now))
        attack.held[when] = server.sockets()
        attack.client_closed[when] = sum(1 for c in closed if c <= when)
    attack.rss_after = server.rss_mb()
    probe_task.cancel()
    for task in tasks:
        task.cancel()
    await asyncio.gather(probe_task, *tasks, return_exceptions=True)
    for writer in writers:
        writer.close()
    attack.latencies, attack.failed_requests = probe.latencies, probe.failed
    await asyncio.sleep(2)  # let the server see the closes before the next scenario
    return attack


async def slowloris(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        await writer.drain()
        while True:
            await asyncio.sleep(10)
            writer.write(b"X")
            await writer.drain()


async def huge_head(writer: asyncio.StreamWriter) -> None:
    line = b"X-Padding-%06d: " + b"a" * 1000 + b"\r\n"
    with contextlib.suppress(ConnectionError, OSError):
        writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        sent = 0
        i = 0
        while sent < HUGE_HEAD:
            chunk = b"".join(line % (i + k) for k in range(16))
            i += 16
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
        await asyncio.Event().wait()  # stall, the head never ended


# ------------------------------------------------------------------------ the run


async def measure(quick: bool) -> tuple[list[Burst], list[Attack]]:
    loop = asyncio.get_running_loop()
    server = await loop.run_in_executor(None, Server)
    try:
        await asyncio.sleep(2)
        bursts = []
        for scheme, local in (
            ("login", "127.0.0.11"),
            ("basic", "127.0.0.12"),
            ("digest", "127.0.0.13"),
        ):
            await loop.run_in_executor(None, wait_quiet)
            result = await burst(server, scheme, local)
            bursts.append(result)
            print(
                f"  {scheme} burst: {result.checked} passwords checked, {result.answers}",
                flush=True,
            )
        samples = [5.0, 15.0] if quick else [15.0, 30.0, 60.0]
        spread = [f"127.0.1.{i + 1}" for i in range(SLOW_ADDRESSES)]
        attacks = []
        for name, count, addresses, sender, at in (
            ("slowloris, 10 addresses", SLOW_SOCKETS, spread, slowloris, samples),
            ("slowloris, 1 address", SLOW_SOCKETS, ["127.0.2.1"], slowloris, samples),
            (
                "960 KB heads, 4 addresses",
                HUGE_SOCKETS,
                [f"127.0.3.{i + 1}" for i in range(HUGE_ADDRESSES)],
                huge_head,
                [5.0],
            ),
        ):
            await loop.run_in_executor(None, wait_quiet)
            attack = await socket_attack(server, name, count, addresses, at, sender)
            attacks.append(attack)
            print(
                f"  {name}: held {attack.held}, RSS {attack.rss_before:.0f} -> "
                f"{attack.rss_peak:.0f} (peak) -> {attack.rss_after:.0f} MB",
                flush=True,
            )
        return bursts, attacks
    finally:
        await loop.run_in_executor(None, server.stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="sample at 5 and 15 s, not 15-60 s")
    args = parser.parse_args()
    env = environment()
    print_header("Guess bursts, slow and huge request heads (issue #11)", env, args.quick)
    bursts, attacks = asyncio.run(measure(args.quick))

    print()
    print(
        markdown_table(
            [
                "burst of 150 wrong passwords",
                "passwords checked",
                "answers",
                "seconds",
                "target",
                "result",
            ],
            [
                [
                    b.scheme,
                    b.checked,
                    ", ".join(f"{n} x {a}" for a, n in b.answers.items()),
                    b.seconds,
                    f"<= {ATTEMPTS}",
                    verdict(b.checked <= ATTEMPTS),
                ]
                for b in bursts
            ],
        )
    )
    rows = []
    for a in attacks:
        last = max(a.held)
        latency_max = max(a.latencies, default=float("nan"))
        ok = (
            a.held[last] == 0
            and a.failed_requests == 0
            and latency_max < LATENCY_TARGET
            and a.rss_peak - a.rss_before < RSS_TARGET_MB
        )
        rows.append(
            [
                a.name,
                f"{a.connected}/{a.sockets}",
                ", ".join(f"{n} at {t:.0f} s" for t, n in a.held.items()),
                f"{a.rss_before:.0f} / {a.rss_peak:.0f} / {a.rss_after:.0f}",
                f"{1000 * percentile(a.latencies, 50):.0f} / {1000 * latency_max:.0f}",
                a.failed_requests,
                f"0 held at {last:.0f} s, < {RSS_TARGET_MB:.0f} MB, < {LATENCY_TARGET:.0f} s",
                verdict(ok),
            ]
        )
    print()
    print(
        markdown_table(
            [
                "attack",
                "sockets connected",
                "sockets the server holds",
                "server RSS MB before / peak / after",
                "normal request ms p50 / max",
                "normal requests failed",
                "target",
                "result",
            ],
            rows,
        )
    )
    print(
        "\nBefore the fix (issue #11): 150 x 401 for the login form (every password checked), "
        "30 of 30 for basic; 500 slowloris sockets all open after 60 s; 200 x 960 KB heads "
        "took the server from 288 to 654 MB, none closed."
    )
    finish(
        NAME,
        args.quick,
        env,
        {"bursts": [asdict(b) for b in bursts], "attacks": [asdict(a) for a in attacks]},
    )


if __name__ == "__main__":
    main()
