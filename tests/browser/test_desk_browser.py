"""The desk in headless Chromium: log in, set the place from the gazetteer, see the nearest
reporters with distance, travel time, fix age and battery, dispatch in one click; the task
reaches the reporter's websocket and every answer comes back to the desk's timeline by push.
And the other two ways to say where: a click on the map, and typed coordinates."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from browser_helpers import KEYS, arun
from dispatch import db, gazetteer
from test_desk_support import (
    Phone,
    alert,
    make_reporters,
    open_desk,
    story,
    traffic,
    wait_live,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"
SCHOOL = next((lat, lon) for name, lat, lon in gazetteer.SEED if name == "东山学校")


def test_desk_dispatch_reaches_the_reporter_and_back(
    server: Any, redis_url: str, browser: Browser
) -> None:
    nearest, *_ = make_reporters(redis_url, ["杨帆", "郑凯", "赵敏"])
    story(
        redis_url,
        "s-flood",
        "涟水河水位上涨 巡堤人员连夜值守",
        "published",
        600,
        desk="emergency",
        channels=["app", "wechat"],
    )
    traffic(redis_url, "s-flood", 30, {"app": 120, "wechat": 45})
    alert(
        redis_url,
        "traffic_spike",
        "s-flood",
        "“涟水河水位上涨 巡堤人员连夜值守”: traffic spike, 660 views in the last 5 min, 3.4× usual",
    )
    phone = Phone(server.url.replace("http", "ws", 1) + "/ws/reporter", nearest["token"])
    phone.start()
    assert phone.ready.wait(10)

    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{server.url}/desk?lang=en")
    page.fill("input[name=token]", "not-the-token")
    page.click("#desk-login button[type=submit]")
    page.wait_for_selector("#desk-login-error", timeout=15_000)
    page.fill("input[name=token]", server.admin_token)
    page.click("#desk-login button[type=submit]")
    page.wait_for_selector("#desk-title", timeout=15_000)
    wait_live(page)

    # Where: part of a place's name, then the match.
    page.fill("#desk-place", "东山学")
    page.click("#desk-place-hits [data-place='东山学校']")
    page.wait_for_function(
        "([lat, lon]) => Number(document.querySelector('#desk-lat').value) === lat"
        " && Number(document.querySelector('#desk-lon').value) === lon",
        arg=list(SCHOOL),
        timeout=5_000,
    )
    page.wait_for_selector("#desk-place-note [data-near='东山学校']", timeout=5_000)

    page.fill("#desk-title", "Reservoir flood check")
    page.fill("#desk-brief", "Meet the water bureau at the dam.")
    page.click("#desk-suggest")
    first = page.wait_for_selector("#desk-suggestions li[data-reporter-id]", timeout=10_000)
    assert first.get_attribute("data-reporter-id") == nearest["reporter_id"]
    facts = {
        f: page.inner_text(f"#desk-suggestions li >> nth=0 >> [data-factor={f}]")
        for f in ("km", "eta", "fix", "battery", "load")
    }
    assert facts["km"].endswith("km") and "min" in facts["eta"]
    assert facts["fix"].startswith("fix ") and facts["battery"] == "battery 90%"
    assert facts["load"] == "free"
    assert "has camera" in page.inner_text("#desk-suggestions li >> nth=0 >> .nr-why")

    page.click("#desk-dispatch")
    ok = page.wait_for_selector("#desk-result .nr-ok", timeout=10_000)
    task_id = ok.get_attribute("data-task-id")
    assert ok.get_attribute("data-state") == "offered"

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not phone.tasks:
        time.sleep(0.05)
    assert [t["task_id"] for t in phone.tasks] == [task_id]
    assert phone.tasks[0]["title"] == "Reservoir flood check"
    assert (phone.tasks[0]["lat"], phone.tasks[0]["lon"]) == pytest.approx(SCHOOL)

    # The phone acknowledged: the desk's task list shows it delivered, pushed, not reloaded.
    row = f"#desk-tasks [data-task-id='{task_id}']"
    page.wait_for_function(
        "(sel) => /delivered/i.test(document.querySelector(sel)?.innerText || '')",
        arg=row,
        timeout=5_000,
    )
    page.click(row)
    page.wait_for_selector("#desk-timeline [data-state=delivered]", timeout=5_000)
    assert page.is_visible("#desk-actions")

    # The reporter answers from the field; the timeline follows by push.
    for n, status in enumerate(("accepted", "on_scene")):
        phone.send(
            {"type": "task_status", "v": 1, "id": f"s-{n}", "task_id": task_id, "status": status}
        )
        page.wait_for_selector(f"#desk-timeline [data-state={status}]", timeout=5_000)
    states = page.eval_on_selector_all(
        "#desk-timeline li[data-state]", "els => els.map(e => e.dataset.state)"
    )
    assert states == ["created", "offered", "delivered", "accepted", "on_scene"]
    page.wait_for_selector(
        f"#desk-reporters [data-reporter-id='{nearest['reporter_id']}'][data-task-id='{task_id}']",
        timeout=5_000,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desk.png"))

    # Filed and done: the task leaves the open list, the timeline shows how it ended.
    for n, status in enumerate(("filed", "done"), start=2):
        phone.send(
            {"type": "task_status", "v": 1, "id": f"s-{n}", "task_id": task_id, "status": status}
        )
        page.wait_for_selector(f"#desk-timeline [data-state={status}]", timeout=5_000)
    page.wait_for_selector(row, state="detached", timeout=5_000)
    page.wait_for_selector("#desk-act-cancel[disabled]", timeout=5_000)

    page.click("#desk-logout button")
    page.wait_for_selector("#desk-login", timeout=15_000)
    phone.stop.set()
    phone.join(5)
    page.close()


def test_the_place_comes_from_a_map_click_typed_coordinates_or_a_saved_name(
    server: Any, redis_url: str, browser: Browser
) -> None:
    make_reporters(redis_url, ["杨帆"])
    page = open_desk(browser, server.url, server.admin_token)
    start = (float(page.input_value("#desk-lat")), float(page.input_value("#desk-lon")))

    # A click east and north of the centre of the map, once the map is drawn.
    page.wait_for_function(
        "() => { const gd = document.querySelector('#desk-map .js-plotly-plot');"
        " return !!(gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot"
        " && gd._fullLayout.map._subplot.map && gd._fullLayout.map._subplot.map.loaded()); }",
        timeout=15_000,
    )
    box = page.locator("#desk-map .js-plotly-plot").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2 + 150, box["y"] + box["height"] / 2 - 80)
    page.wait_for_function(
        "(lat) => Number(document.querySelector('#desk-lat').value) !== lat",
        arg=start[0],
        timeout=5_000,
    )
    lat, lon = float(page.input_value("#desk-lat")), float(page.input_value("#desk-lon"))
    assert lat > start[0] and lon > start[1]
    assert abs(lat - start[0]) < 0.5 and abs(lon - start[1]) < 0.5
    # The pin (the map's last trace) moved there, and the note names the nearest place.
    page.wait_for_function(
        "([lat, lon]) => { const d = document.querySelector('#desk-map .js-plotly-plot').data;"
        " const pin = d[d.length - 1]; return pin.lat[0] === lat && pin.lon[0] === lon; }",
        arg=[lat, lon],
        timeout=5_000,
    )
    page.wait_for_selector("#desk-place-note [data-near]", timeout=5_000)
    assert f"{lat:.5f}, {lon:.5f}" in page.inner_text("#desk-place-note")

    # Typed coordinates: offered as a match, taken with Enter.
    page.fill("#desk-place", "27.7512, 112.4987")
    page.wait_for_selector("#desk-place-hits .nr-place-hit", timeout=5_000)
    page.press("#desk-place", "Enter")
    page.wait_for_function(
        "() => Number(document.querySelector('#desk-lat').value) === 27.7512"
        " && Number(document.querySelector('#desk-lon').value) === 112.4987",
        timeout=5_000,
    )

    # A place the gazetteer does not know: said so, then saved under the typed name.
    page.fill("#desk-place", "龙洞水库大坝")
    page.wait_for_function(
        "() => /No place called/.test(document.querySelector('#desk-place-hits').innerText)",
        timeout=5_000,
    )
    page.click("#desk-place-save")
    page.wait_for_selector("#desk-place-note [data-saved='龙洞水库大坝']", timeout=5_000)

    async def saved() -> gazetteer.Place:
        r = db.connect(redis_url)
        try:
            return await gazetteer.lookup(r, KEYS, "龙洞水库大坝")
        finally:
            await r.aclose()

    place = arun(saved())
    assert (place["lat"], place["lon"]) == (27.7512, 112.4987)
    page.fill("#desk-place", "")
    page.fill("#desk-place", "龙洞")
    page.wait_for_selector("#desk-place-hits [data-place='龙洞水库大坝']", timeout=5_000)
    page.context.close()
