"""The reporter phone page (/r) in headless Chromium: log in with a token, receive a pushed
task, accept it and see the acceptance in the desk's timeline; decline with a reason; answer
while offline and have the change reach the server exactly once; share the location only on
duty; a wrong or revoked token returns to the login screen with the reason."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from browser_helpers import KEYS, arun
from dispatch import auth, db, lifecycle

pytestmark = [pytest.mark.browser, pytest.mark.integration]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"
ERRORS: list[str] = []  # uncaught errors in the phone pages of the running test
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


class Api:
    """The REST API as the desk's tools use it (admin token)."""

    def __init__(self, server: Any) -> None:
        self.http = httpx.Client(
            base_url=server.url,
            timeout=10,
            headers={"Authorization": f"Bearer {server.admin_token}"},
        )

    def reporter(self, name: str) -> dict[str, Any]:
        response = self.http.post("/api/v1/reporters", json={"name": name})
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def task(self, title: str, assignee: str, priority: str = "normal") -> str:
        response = self.http.post(
            "/api/v1/tasks",
            json={
                "title": title,
                "brief": "到现场后先联系水利局值班员.",
                "lat": 27.7342,
                "lon": 112.5331,
                "priority": priority,
                "assignee": assignee,
            },
        )
        assert response.status_code == 201, response.text
        return str(response.json()["task_id"])

    def get(self, task_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/tasks/{task_id}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def move(self, task_id: str, body: dict[str, Any]) -> None:
        response = self.http.post(f"/api/v1/tasks/{task_id}/transitions", json=body)
        assert response.status_code == 200, response.text

    def edit(self, task_id: str, body: dict[str, Any]) -> None:
        response = self.http.patch(f"/api/v1/tasks/{task_id}", json=body)
        assert response.status_code == 200, response.text

    def where(self, reporter_id: str) -> dict[str, Any]:
        return self.http.get(f"/api/v1/reporters/{reporter_id}").json()  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def no_script_errors() -> Iterator[None]:
    ERRORS.clear()
    yield
    assert ERRORS == [], ERRORS


def wait_for(check: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def phone(browser: Browser, url: str, token: str, **options: Any) -> tuple[BrowserContext, Page]:
    """A phone-sized page on /r, logged in; uncaught script errors fail the test at the end."""
    context = browser.new_context(**PHONE, **options)
    page = context.new_page()
    page.on("pageerror", lambda exc: ERRORS.append(str(exc)))
    page.goto(f"{url}/r")
    page.fill("#login-token", token)
    page.click("#login-submit")
    page.wait_for_selector("body[data-link=online][data-screen=app]", timeout=10_000)
    return context, page


def desk(browser: Browser, server: Any) -> Page:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{server.url}/desk?lang=en")
    page.fill("input[name=token]", server.admin_token)
    page.click("#desk-login button[type=submit]")
    page.wait_for_selector("#desk-title", timeout=15_000)
    return page


def pick(page: Page, task_id: str) -> None:
    page.click(f'#desk-tasks [data-task-id="{task_id}"]', timeout=10_000)
    page.wait_for_selector(f'#desk-timeline [data-task-id="{task_id}"]', timeout=10_000)


def test_phone_accepts_declines_and_queues_offline(
    server: Any, redis_url: str, browser: Browser
) -> None:
    api = Api(server)
    rep = api.reporter("王磊")
    context, page = phone(browser, server.url, rep["token"], locale="zh-CN")
    assert page.inner_text("#me") == "王磊"

    # A pushed task appears at the top within 2 s; the breaking one stands out.
    flood = api.task("水库防汛检查", rep["reporter_id"], priority="breaking")
    card = f'.task[data-task-id="{flood}"]'
    page.wait_for_selector(card, timeout=2_000)
    assert "task-breaking" in (page.get_attribute(card, "class") or "")
    assert page.inner_text(f"{card} .task-title") == "水库防汛检查"
    geo = "geo:27.73420,112.53310?q=27.73420,112.53310"
    assert page.get_attribute(f"{card} .nav-geo", "href") == geo

    page.click(f"{card} button[data-action=accepted]")
    assert wait_for(lambda: api.get(flood)["state"] == "accepted")
    page.wait_for_selector(f"{card}[data-state=accepted] button[data-action=en_route]")

    # The desk: pick the task, its timeline shows the acceptance, by the reporter.
    board = desk(browser, server)
    pick(board, flood)
    accepted = board.wait_for_selector("#desk-timeline [data-state=accepted]", timeout=10_000)
    assert accepted is not None and "王磊" in accepted.inner_text()

    # Decline needs a reason: without one nothing is sent.
    traffic = api.task("城区交通拥堵采访", rep["reporter_id"])
    second = f'.task[data-task-id="{traffic}"]'
    page.wait_for_selector(second, timeout=2_000)
    first_card = page.query_selector("#tasks .task")
    assert first_card is not None and first_card.get_attribute("data-task-id") == traffic
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "phone.png"), animations="disabled")
    page.click(f"{second} button[data-action=declined]")
    page.click(f"{second} .decline-confirm")
    assert page.is_visible(f"{second} .decline-error")
    time.sleep(0.3)
    assert api.get(traffic)["state"] in ("offered", "delivered")
    page.fill(f"{second} .decline-reason", "正在另一现场, 无法赶到")
    page.click(f"{second} .decline-confirm")
    assert wait_for(lambda: api.get(traffic)["state"] == "declined")
    pick(board, traffic)
    declined = board.wait_for_selector("#desk-timeline [data-state=declined]", timeout=10_000)
    assert declined is not None and "正在另一现场, 无法赶到" in declined.inner_text()

    # Offline: the change is queued on the phone, and sent once when the network is back.
    pick(board, flood)
    context.set_offline(True)
    page.wait_for_selector("body[data-link=offline] #banner:not([hidden])", timeout=5_000)
    assert "离线" in page.inner_text("#banner")
    page.click(f"{card} button[data-action=en_route]")
    page.wait_for_selector(f"{card}[data-pending=en_route] .task-pending:not([hidden])")
    assert "1" in page.inner_text("#banner")  # one change waiting
    queued = page.evaluate("JSON.parse(localStorage.getItem('nr.phone.v1')).queue")
    assert [(q["task_id"], q["status"]) for q in queued] == [(flood, "en_route")]
    time.sleep(0.5)
    assert api.get(flood)["state"] == "accepted"
    context.set_offline(False)
    page.wait_for_selector("body[data-link=online]", timeout=10_000)
    assert wait_for(lambda: api.get(flood)["state"] == "en_route")
    page.wait_for_selector(f'{card}[data-state=en_route][data-pending=""]', timeout=5_000)
    board.wait_for_selector("#desk-timeline [data-state=en_route]", timeout=10_000)
    time.sleep(1.0)  # give a duplicate send every chance to land
    timeline = [entry["state"] for entry in api.get(flood)["timeline"]]
    assert timeline.count("en_route") == 1, timeline
    assert board.locator("#desk-timeline [data-state=en_route]").count() == 1

    # The list survives a reload (it is kept on the phone), and the language can be switched.
    page.reload()
    page.wait_for_selector(f"{card}[data-state=en_route]", timeout=5_000)
    page.wait_for_selector(f"{second}[data-state=declined]")
    page.click("#lang-toggle")
    assert page.inner_text(f"{card} button[data-action=on_scene]") == "On scene"
    board.close()
    context.close()


def test_phone_shares_location_only_on_duty_and_follows_the_desk(
    server: Any, redis_url: str, browser: Browser
) -> None:
    api = Api(server)
    rep, other = api.reporter("杨帆"), api.reporter("郑凯")
    context, page = phone(
        browser,
        server.url,
        rep["token"],
        locale="en-US",
        geolocation={"latitude": 27.7401, "longitude": 112.5402},
        permissions=["geolocation"],
    )

    # The page's button table is lifecycle.py's, restricted to what a reporter may do.
    moves = page.evaluate("import('/assets/phone/lifecycle.js').then(m => m.NEXT)")
    assert {state: sorted(next_) for state, next_ in moves.items()} == {
        state: sorted(allowed & lifecycle.BY_REPORTER)
        for state, allowed in lifecycle.TRANSITIONS.items()
    }

    # The toggle starts from the server's duty state (a new reporter is on duty) and sets it.
    rid = rep["reporter_id"]
    page.wait_for_selector("#duty-toggle:checked", state="attached", timeout=5_000)
    assert wait_for(lambda: api.where(rid)["lat"] == pytest.approx(27.7401))
    page.uncheck("#duty-toggle", force=True)
    assert wait_for(lambda: api.where(rid)["on_duty"] is False)  # the desk's roster sees it
    context.set_geolocation({"latitude": 27.9, "longitude": 112.9})
    time.sleep(4)  # longer than the page's minimum gap between fixes
    assert api.where(rid)["lat"] == pytest.approx(27.7401)  # off duty: nothing is shared
    page.check("#duty-toggle", force=True)
    assert wait_for(lambda: api.where(rid)["lat"] == pytest.approx(27.9))
    assert api.where(rid)["on_duty"] is True

    # The desk cancels one task (the card is marked) and reassigns another (the card goes).
    kept = api.task("Cancelled later", rep["reporter_id"])
    moved = api.task("Reassigned", rep["reporter_id"])
    page.wait_for_selector(f'.task[data-task-id="{moved}"]', timeout=2_000)
    api.move(kept, {"state": "cancelled"})
    page.wait_for_selector(
        f'.task.task-closed[data-task-id="{kept}"][data-state=cancelled]', timeout=5_000
    )
    assert page.is_hidden(f'.task[data-task-id="{kept}"] .task-actions')
    api.move(moved, {"state": "offered", "assignee": other["reporter_id"]})
    page.wait_for_selector(f'.task[data-task-id="{moved}"]', state="detached", timeout=5_000)

    # A queued change the task has moved past meanwhile: the server's refusal shows on the card.
    again = api.task("Offered again", rep["reporter_id"])
    card = f'.task[data-task-id="{again}"]'
    page.click(f"{card} button[data-action=accepted]", timeout=2_000)
    assert wait_for(lambda: api.get(again)["state"] == "accepted")
    page.wait_for_selector(f"{card}[data-state=accepted]")

    # The desk edits the task: the card shows the new place and says what changed.
    api.edit(again, {"lat": 27.75, "brief": "改到东门集合"})
    note = page.wait_for_selector(f"{card} .task-note:not([hidden])", timeout=5_000)
    assert note is not None and note.inner_text() == "The desk changed: brief, place"
    assert page.inner_text(f"{card} .task-brief") == "改到东门集合"
    assert page.inner_text(f"{card} .nav-coords") == "27.75000, 112.53310"
    context.set_offline(True)
    page.wait_for_selector("body[data-link=offline]", timeout=5_000)
    page.click(f"{card} button[data-action=en_route]")
    api.move(again, {"state": "offered", "assignee": rep["reporter_id"]})
    context.set_offline(False)
    error = page.wait_for_selector(f"{card} .task-error:not([hidden])", timeout=10_000)
    assert error is not None and "cannot become en_route" in error.inner_text()
    page.wait_for_selector(f"{card}[data-state=offered][data-pending=''] .act-accepted")
    assert "en_route" not in [entry["state"] for entry in api.get(again)["timeline"]]
    context.close()


def test_phone_wrong_or_revoked_token_returns_to_login(
    server: Any, redis_url: str, browser: Browser
) -> None:
    context = browser.new_context(**PHONE, locale="en-US")
    page = context.new_page()
    page.on("pageerror", lambda exc: ERRORS.append(str(exc)))
    page.goto(f"{server.url}/r")
    page.fill("#login-token", "not-a-token")
    page.click("#login-submit")
    error = page.wait_for_selector("#login-error:not([hidden])", timeout=10_000)
    assert error is not None and "unknown or revoked token" in error.inner_text()
    assert page.is_visible("#login") and page.is_hidden("#app")
    assert page.evaluate("JSON.parse(localStorage.getItem('nr.phone.v1')).token") == ""
    context.close()

    rep = Api(server).reporter("赵敏")
    context, page = phone(browser, server.url, rep["token"], locale="en-US")

    async def revoke() -> None:
        r = db.connect(redis_url)
        await auth.revoke(r, KEYS, rep["token_id"])
        await r.aclose()

    sockets: list[Any] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    arun(revoke())
    error = page.wait_for_selector("#login-error:not([hidden])", timeout=10_000)
    assert error is not None and "token revoked" in error.inner_text()
    assert page.is_visible("#login")
    time.sleep(2)  # longer than the first reconnection delays: after a 1008 there is none
    assert sockets == []
    context.close()


def test_a_new_device_shows_the_tasks_the_reporter_holds(server: Any, browser: Browser) -> None:
    api = Api(server)
    rep = api.reporter("周敏")
    old_context, old_phone = phone(browser, server.url, rep["token"], locale="en-US")
    held = api.task("Held since yesterday", rep["reporter_id"])
    old_phone.click(f'.task[data-task-id="{held}"] button[data-action=accepted]', timeout=5_000)
    assert wait_for(lambda: api.get(held)["state"] == "accepted")
    gone = api.task("Cancelled meanwhile", rep["reporter_id"])
    old_phone.wait_for_selector(f'.task[data-task-id="{gone}"]', timeout=5_000)
    api.move(gone, {"state": "cancelled"})
    old_phone.wait_for_selector(f'.task[data-task-id="{gone}"][data-state=cancelled]')
    time.sleep(0.3)  # its acknowledgement is on the way
    old_context.close()

    # Everything was acknowledged on the old phone: the new one learns of it from the welcome.
    new_context, new_phone = phone(browser, server.url, rep["token"], locale="en-US")
    new_phone.wait_for_selector(f'.task[data-task-id="{held}"][data-state=accepted]', timeout=5_000)
    assert new_phone.query_selector(f'.task[data-task-id="{gone}"]') is None
    new_context.close()
