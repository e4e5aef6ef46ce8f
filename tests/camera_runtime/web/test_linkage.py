"""The linkage panel in a real headless Chromium, real runtime, real API: the rules listed
with an inactive one saying why, a rule added through the editor (its choices from the
resources: the source's events, the other resources' actions), an identical rule refused
with the server's message, the fired rule shown with its action's outcome, a rule deleted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from camera_runtime.api import ApiServer
from camera_runtime.host import runtime_from_data

from ..users import write_users
from .conftest import PASSWORD, PageLog, Served, synthetic_channel
from .test_web_ui import sign_in

pytestmark = pytest.mark.browser

LINKAGE = {
    "resources": [
        {"id": "bell", "type": "doorbell", "events": ["doorbell_ring"]},
        {"id": "quiet", "type": "doorbell", "events": ["doorbell_ring"], "notifications": False},
        {"id": "garage", "type": "alarm_input", "name": "Garage"},
    ],
    "rules": [
        {"id": "muted", "source": "quiet", "event": "doorbell_ring",
         "actions": [{"resource": "cam2", "action": "record"}]},
    ],
}  # fmt: skip


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    data = {
        "channels": [synthetic_channel("cam1", "Front"), synthetic_channel("cam2", "Back", seed=1)],
        "linkage": LINKAGE,
    }
    # admin and a user-level "viewer", both with PASSWORD.
    write_users(tmp_path / "data", {"viewer": "user"}, PASSWORD)
    runtime = runtime_from_data(data, data_dir=tmp_path / "data")
    await runtime.start()
    server = ApiServer(runtime, "127.0.0.1", 0)
    await server.start()
    yield Served(runtime, server)
    await server.stop()
    await runtime.stop()


async def test_rules_are_listed_added_refused_fired_and_deleted(
    served: Served, page: Page, page_log: PageLog
) -> None:
    await page.goto(served.url)
    await sign_in(page)
    panel = page.locator("#linkage-panel")
    await expect(panel).to_be_visible()
    muted = panel.locator("li.linkage-rule[data-rule-id='muted']")
    await expect(muted).to_have_attribute("data-active", "false")
    await expect(muted.locator(".linkage-inactive")).to_contain_text("notifications off")

    form = page.get_by_role("form", name="New linkage rule")
    await form.get_by_label("Rule name").fill("Ring")
    await form.get_by_label("Source", exact=True).select_option("bell")
    await expect(form.get_by_label("Triggering event")).to_have_value("doorbell_ring")
    # The source is never offered as its own linked resource.
    targets = await form.get_by_label("Linked resource 1").locator("option").all_inner_texts()
    assert not any(t.startswith("bell ") for t in targets), targets
    await form.get_by_label("Linked resource 1").select_option("cam1")
    await form.get_by_label("Linkage action 1").select_option("capture_picture")
    await form.get_by_role("button", name="Add rule").click()
    added = panel.locator("li.linkage-rule[data-active='true']")
    await expect(added).to_contain_text("bell: Doorbell ring → Capture picture on cam1")
    (rule,) = [r for r in served.runtime.linkage.rules() if r["source"] == "bell"]
    assert rule["name"] == "Ring" and rule["actions"][0]["action"] == "capture_picture"

    await form.get_by_role("button", name="Add rule").click()  # the same again
    await expect(form.get_by_role("alert")).to_contain_text("the same rule as linkage.rules[1]")

    await served.runtime.linkage.receive("bell", {"event": "doorbell_ring"})
    fired = panel.locator(f"li.linkage-fired[data-rule='{rule['id']}']")
    await expect(fired).to_contain_text("Capture picture on cam1: ok")

    await panel.get_by_role("button", name=f"Delete rule {rule['id']}").click()
    await expect(added).to_have_count(0)
    assert [r["id"] for r in served.runtime.linkage.rules()] == ["muted"]

    # A resource's actions by hand: the alarm input disarmed, its state shown.
    garage = panel.locator("li.linkage-resource[data-resource='garage']")
    await expect(garage).to_contain_text("armed: yes")
    await garage.get_by_role("button", name="Disarm alarm input: Garage").click()
    await expect(garage).to_contain_text("armed: no")
    state = next(r for r in served.runtime.linkage.resources() if r["id"] == "garage")["state"]
    assert state["armed"] is False
    assert page_log.csp_violations == [] and page_log.page_errors == []


async def test_a_user_level_session_sees_rules_but_changes_nothing(
    served: Served, page: Page, page_log: PageLog
) -> None:
    await page.goto(served.url)
    await page.get_by_label("User name").fill("viewer")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    panel = page.locator("#linkage-panel")
    await expect(panel.locator("li.linkage-rule[data-rule-id='muted']")).to_be_visible()
    await expect(panel.locator("li.linkage-resource[data-resource='garage']")).to_contain_text(
        "armed: yes"
    )
    await expect(page.get_by_role("form", name="New linkage rule")).to_be_hidden()
    await expect(panel.get_by_role("button")).to_have_count(0)  # no delete, no action
    assert page_log.page_errors == []
