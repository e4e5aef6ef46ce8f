"""Zeroconf advertisement of a runtime's API as ``_camera-runtime._tcp.local.``, so Home
Assistant finds it: the ``zeroconf`` service and its ``zeroconf:`` config section."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable

import ifaddr
import voluptuous as vol
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from . import __version__
from .config import ConfigSection
from .interfaces import RuntimeView, Service

_LOGGER = logging.getLogger(__name__)

SERVICE_TYPE = "_camera-runtime._tcp.local."

ZEROCONF_SECTION = ConfigSection(
    "zeroconf",
    vol.Schema({vol.Optional("enabled", default=True): bool}),
    default=True,
    summary="advertise the HTTP API on the local network (on unless switched off)",
)


def _addresses(host: str) -> list[str]:
    """The addresses to announce: the bound one, or every non-loopback one for a wildcard."""
    if host not in ("0.0.0.0", "::", ""):
        return [host]
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            address = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            parsed = ipaddress.ip_address(address.split("%")[0])
            if parsed.is_loopback or parsed.is_link_local:
                continue
            if host == "0.0.0.0" and parsed.version != 4:
                continue
            found.append(str(parsed))
    return found or ["127.0.0.1"]


def instance_name(name: str, device_id: str) -> str:
    """A DNS-SD instance label: the device name plus a short id, so two runtimes never clash."""
    label = re.sub(r"[^A-Za-z0-9 _-]", "", name).strip() or "camera-runtime"
    return f"{label[:40]} {device_id[:6]}"


class ZeroconfAdvertiser:
    """Announces one runtime's API. The ``AsyncZeroconf`` is injected when the host owns one
    (Home Assistant does); otherwise one is created for the bound addresses and closed on stop."""

    def __init__(
        self,
        *,
        device_id: str,
        name: str,
        host: str,
        port: int,
        zeroconf: AsyncZeroconf | None = None,
    ) -> None:
        self._owned = zeroconf is None
        self._addresses = _addresses(host)
        self._zeroconf = zeroconf
        self.info = AsyncServiceInfo(
            SERVICE_TYPE,
            f"{instance_name(name, device_id)}.{SERVICE_TYPE}",
            port=port,
            properties={"id": device_id, "name": name, "version": __version__, "path": "/api"},
            parsed_addresses=self._addresses,
            server=f"camera-runtime-{device_id[:12]}.local.",
        )

    async def start(self) -> None:
        if self._zeroconf is None:
            v6 = any(":" in a for a in self._addresses)
            v4 = any(":" not in a for a in self._addresses)
            version = IPVersion.All if v4 and v6 else IPVersion.V6Only if v6 else IPVersion.V4Only
            self._zeroconf = AsyncZeroconf(interfaces=self._addresses, ip_version=version)
        try:
            # The first await probes and registers; the returned task announces.
            announce = await self._zeroconf.async_register_service(
                self.info, allow_name_change=True
            )
            await announce
        except OSError as err:  # no multicast route: the API still works
            _LOGGER.warning("zeroconf advertisement failed: %s", err)
            return
        _LOGGER.info("advertised %s on %s:%d", self.info.name, self._addresses, self.info.port)

    async def stop(self) -> None:
        if self._zeroconf is None:
            return
        try:
            goodbye = await self._zeroconf.async_unregister_service(self.info)
            await goodbye
        except (KeyError, OSError) as err:
            _LOGGER.debug("zeroconf unregister: %s", err)
        if self._owned:
            await self._zeroconf.async_close()
            self._zeroconf = None


class ZeroconfService(Service):
    """Advertises the runtime's API while it runs. ``port`` is read at start, once the API
    listens (the host starts the API service first)."""

    name = "zeroconf"

    def __init__(
        self,
        runtime: RuntimeView,
        *,
        host: str,
        port: Callable[[], int],
        zeroconf: AsyncZeroconf | None = None,
    ) -> None:
        self._runtime = runtime
        self._host = host
        self._port = port
        self._zeroconf = zeroconf
        self.advertiser: ZeroconfAdvertiser | None = None

    async def start(self) -> None:
        self.advertiser = ZeroconfAdvertiser(
            device_id=self._runtime.device_id,
            name=self._runtime.device_info()["device_name"],
            host=self._host,
            port=self._port(),
            zeroconf=self._zeroconf,
        )
        await self.advertiser.start()

    async def stop(self) -> None:
        advertiser, self.advertiser = self.advertiser, None
        if advertiser is not None:
            await advertiser.stop()


__all__ = [
    "SERVICE_TYPE",
    "ZEROCONF_SECTION",
    "ZeroconfAdvertiser",
    "ZeroconfService",
    "instance_name",
]
