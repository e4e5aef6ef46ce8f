"""The linkage routes: rules added, replaced and deleted through the API (each constraint
answered 422 with its key path, nothing changed), resources listed, an action run by hand, a
source's input over HTTP, and the record of fired rules."""

from __future__ import annotations

from pathlib import Path

import yaml

from camera_runtime.api import ApiServer
from tests.camera_runtime.api.helpers import PASSWORD, client

from .conftest import Watch, config

BELL = {"id": "bell", "type": "doorbell", "events": ["doorbell_ring"]}


async def test_rules_crud_constraints_input_and_log(tmp_path: Path) -> None:
    from camera_runtime.config_file import ConfigFile
    from camera_runtime.host import runtime_from_data

    door = {
        "id": "door", "type": "door",
        "http": {"url": "http://door:Door-Secret1@127.0.0.1:9/open",
                 "headers": {"Authorization": "Bearer t0ken-XYZ"}},
        "mqtt": {"topic": "home/door", "host": "127.0.0.1", "port": 9, "password": "Mqtt-Secret2"},
    }  # fmt: skip
    data = config({"resources": [BELL, door]})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    runtime = runtime_from_data(data, data_dir=tmp_path / "data")
    runtime.config_file = ConfigFile(data, path)
    await runtime.start()
    watch = Watch()
    runtime.subscribe_events(watch.add)
    server = ApiServer(runtime, "127.0.0.1", 0)
    await server.start()
    try:
        await server.security.activate(PASSWORD)
        async with client(server, auth="basic") as admin:
            rule = {"source": "bell", "event": "doorbell_ring",
                    "actions": [{"resource": "cam1", "action": "capture_picture"}]}  # fmt: skip
            async with admin.post("/api/linkage/rules", json={**rule, "id": "ring"}) as r:
                assert r.status == 201, await r.text()
                assert (await r.json())["active"] is True
            async with admin.post("/api/linkage/rules", json={**rule, "id": "again"}) as r:
                assert r.status == 422
                assert (await r.json())["errors"] == [
                    "linkage.rules[1]: the same rule as linkage.rules[0] (same source, "
                    "triggering event, linked resources and linkage actions)"
                ]
            bad = {**rule, "actions": [{"resource": "bell", "action": "open_door"}]}
            async with admin.put("/api/linkage/rules/ring", json=bad) as r:
                assert r.status == 422
                errors = (await r.json())["errors"]
                assert any("cannot be the same device" in e for e in errors), errors
            written = yaml.safe_load(path.read_text())
            assert [r["id"] for r in written["linkage"]["rules"]] == ["ring"]  # unchanged
            async with admin.get("/api/linkage/resources") as r:
                listed = {x["id"]: x for x in await r.json()}
            assert listed["cam1"]["camera"] is True and "record" in listed["cam1"]["actions"]
            assert listed["bell"]["event_types"] == ["doorbell_ring"]
            async with admin.post("/api/linkage/resources/bell/input", json={"event": "nope"}) as r:
                assert r.status == 422
            async with admin.post(
                "/api/linkage/resources/bell/input", json={"event": "doorbell_ring"}
            ) as r:
                assert r.status == 200
            fired = await watch.fired("ring")
            async with admin.get("/api/linkage/log") as r:
                log = await r.json()
            assert log["status"]["fired"] == 1
            assert log["fired"][0]["data"]["actions"] == fired["actions"]
            async with admin.post("/api/linkage/resources/cam2/actions/fly") as r:
                assert r.status == 422
            async with admin.post("/api/linkage/resources/cam2/actions/disarm") as r:
                assert (await r.json())["outcome"] == "ok"
            assert runtime.channel_status("cam2")["armed"] is False
            async with admin.get("/api/config") as r:
                text = await r.text()
            assert "Door-Secret1" not in text and "t0ken-XYZ" not in text
            assert "Mqtt-Secret2" not in text and '"type": "door"' in text.replace('":"', '": "')
            async with admin.delete("/api/linkage/rules/ring") as r:
                assert r.status == 200
            async with admin.delete("/api/linkage/rules/ring") as r:
                assert r.status == 404
            assert yaml.safe_load(path.read_text())["linkage"]["rules"] == []
    finally:
        await server.stop()
        await runtime.stop()
