"""Zeroconf: a runtime is found as _camera-runtime._tcp.local. with its id, name and version."""

from __future__ import annotations

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from camera_runtime import __version__
from camera_runtime.zeroconf import SERVICE_TYPE, ZeroconfAdvertiser, instance_name


async def test_a_browser_on_the_network_resolves_the_runtime() -> None:
    advertiser = ZeroconfAdvertiser(
        device_id="0123456789abcdef", name="Garage NVR", host="127.0.0.1", port=8123
    )
    await advertiser.start()
    browser = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    try:
        info = AsyncServiceInfo(SERVICE_TYPE, advertiser.info.name)
        assert await info.async_request(browser.zeroconf, 5000)
        assert info.port == 8123
        assert info.parsed_addresses() == ["127.0.0.1"]
        assert info.decoded_properties == {
            "id": "0123456789abcdef",
            "name": "Garage NVR",
            "version": __version__,
            "path": "/api",
        }
    finally:
        await browser.async_close()
        await advertiser.stop()


async def test_an_injected_zeroconf_is_used_and_not_closed() -> None:
    shared = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    try:
        advertiser = ZeroconfAdvertiser(
            device_id="feedface0000", name="x", host="127.0.0.1", port=1, zeroconf=shared
        )
        await advertiser.start()
        assert (
            shared.zeroconf.registry.async_get_info_name(advertiser.info.name.lower()) is not None
        )
        await advertiser.stop()
        assert shared.zeroconf.registry.async_get_info_name(advertiser.info.name.lower()) is None
        assert not shared.zeroconf.done  # still usable by its owner
    finally:
        await shared.async_close()


def test_instance_names_are_safe_and_unique_per_device() -> None:
    assert instance_name("Front <door>!", "abcdef123") == "Front door abcdef"
    assert instance_name("", "abcdef123") == "camera-runtime abcdef"
