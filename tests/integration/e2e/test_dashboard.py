"""The operations centre's dashboard in a real browser (Debian's Chromium, headless, driven by
playwright-core), over the whole platform: readings published through MQTT, the gateway, Kafka,
the streams worker, the sink and the API. Expected AQI values and colours come from the decision's
tables by hand (tests/aqi_by_hand.py and Table 1 below), not from the code under test; what the page
shows is compared with SQL over what was stored. Screenshots of each view go to
.stack/screenshots/ (CITYSENSE_SCREENSHOTS to change it)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.integration.browser import Browser
from tests.integration.e2e.city import (AREAS, CHI_LINH, DEVICES, HAI_DUONG, PM25, STEP_S, THANH_DONG, City, by_hand,
                                        published_city, rows)
from tests.integration.helpers import http_get, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SHOTS = Path(os.environ.get("CITYSENSE_SCREENSHOTS", ROOT / ".stack" / "screenshots"))
# Table 1 of Decision 1459/QĐ-TCMT: upper bound of each category and its colour
TABLE_1 = [(50, (0, 228, 0)), (100, (255, 255, 0)), (150, (255, 126, 0)), (200, (255, 0, 0)), (300, (143, 63, 151)),
           (500, (126, 0, 35))]


def colour(aqi: int) -> str:
    return next(f"rgb({r},{g},{b})" for top, (r, g, b) in TABLE_1 if aqi <= top)




class DashboardCity(City):
    def page(self, browser: Browser, key: str, query: str = "") -> Browser:
        browser.open(f"{self.url}/{query}#key={key}")
        browser.wait("document.body.dataset.ready === 'true'", 30)
        return browser


@pytest.fixture(scope="module")
def city(tmp_path_factory, names_made, database_url, mqtt_access, kafka_bootstrap):
    with published_city(tmp_path_factory, names_made, database_url, mqtt_access, kafka_bootstrap,
                        DashboardCity) as c:
        yield c


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def shot(browser: Browser, name: str) -> Path:
    return browser.screenshot(SHOTS / f"{name}.png")


def fill(browser: Browser, code: int) -> str:
    return browser.eval(f"document.querySelector('path.commune[data-code=\"{code}\"]')?.getAttribute('fill')")


def test_the_map_loads_alone_with_every_commune_coloured_as_the_decision_says(city, browser):
    page = city.page(browser, city.viewer_key)
    communes = rows(city.dsn, "SELECT count(*) FROM areas WHERE level = 'commune' AND boundary IS NOT NULL")[0][0]
    groups = rows(city.dsn, "SELECT count(*) FROM areas WHERE level = 'group'")[0][0]
    assert communes == 114 and page.eval("document.querySelectorAll('path.commune').length") == communes
    assert page.eval("new Set([...document.querySelectorAll('path.commune')].map(p => p.dataset.code)).size") == 114
    assert page.eval("document.querySelectorAll('path.group-outline').length") == groups == 27
    assert page.eval("document.querySelectorAll('.group-label').length") == groups
    for code in PM25:  # hour 2's AQI, by hand, in Table 1's colour
        assert fill(page, code) == colour(by_hand(code, 2)), code
    no_data = {c for c in page.eval("[...document.querySelectorAll('path.commune')].filter("
                                    "p => !p.dataset.aqi).map(p => Number(p.dataset.code))")}
    assert no_data == {a.code for a in AREAS.communes()} - set(PM25)
    shot(page, "map")
    tip = page.eval(f"""(() => {{
        const p = document.querySelector('path.commune[data-code="{HAI_DUONG}"]');
        const b = p.getBoundingClientRect();
        const at = {{bubbles: true, clientX: b.x + b.width / 2, clientY: b.y + b.height / 2}};
        p.dispatchEvent(new MouseEvent('mouseover', at));
        p.dispatchEvent(new MouseEvent('mousemove', at));
        return document.querySelector('.leaflet-tooltip')?.innerText; }})()""")
    assert tip.splitlines()[:3] == [AREAS.get(HAI_DUONG).name, f"AQI {by_hand(HAI_DUONG, 2)} — Kém",
                                    "Chất chính: PM2.5"], tip  # hover: name, AQI and level, dominant pollutant
    shot(page, "map-hover")
    log = page.log()
    assert log["console_errors"] == [] and log["page_errors"] == [] and log["failed"] == []
    off = [u for u in log["requests"] if not u.startswith(city.url + "/")]
    assert off == [] and len(log["requests"]) > 20


def test_the_ranking_puts_the_worst_first_with_the_trend_against_the_hour_before(city, browser):
    page = city.page(browser, city.viewer_key)
    page.click("nav button[data-view=ranking]")
    ranked = page.eval("[...document.querySelectorAll('#ranking-communes tr[data-code]')].slice(0, 3).map(tr => "
                       "[Number(tr.dataset.code), Number(tr.children[3].innerText), tr.children[6].innerText])")
    want = sorted(PM25, key=lambda c: -by_hand(c, 2))
    assert [r[0] for r in ranked] == want
    for code, aqi, trend in ranked:
        now, before = by_hand(code, 2), by_hand(code, 1)
        assert aqi == now
        assert trend == ("▶ 0" if now == before else f"▲ {now - before}" if now > before else f"▼ {before - now}")
    groups = page.eval("Object.fromEntries([...document.querySelectorAll('#ranking-groups tr[data-code]')].map(tr => "
                       "[tr.dataset.code, [tr.children[1].innerText, tr.children[2].innerText]]))")
    assert groups["288"] == [str(max(by_hand(THANH_DONG, 2), by_hand(HAI_DUONG, 2))), AREAS.get(HAI_DUONG).name]
    assert groups["290"] == [str(by_hand(CHI_LINH, 2)), AREAS.get(CHI_LINH).name]
    shot(page, "ranking")


def test_a_communes_panel_shows_its_aqi_limits_devices_and_completeness(city, browser):
    page = city.page(browser, city.viewer_key)
    page.eval(f"document.querySelector('path.commune[data-code=\"{HAI_DUONG}\"]')"
              ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    page.wait(f"document.querySelector('#panel-name')?.dataset.code === '{HAI_DUONG}'", 15)
    assert page.eval("document.querySelector('#panel .aqi-big').innerText") == str(by_hand(HAI_DUONG, 2))
    air = page.eval("Object.fromEntries([...document.querySelectorAll('#panel table.air tr')].slice(1).map(tr => "
                    "[tr.children[0].innerText, [tr.children[1].innerText, tr.children[2].innerText]]))")
    assert air["PM2.5"] == ["60", "45"] and "over" in page.eval(
        "document.querySelector('#panel table.air tr:nth-child(2) td:nth-child(2)').className")
    text = page.eval("document.querySelector('#panel').innerText")
    assert "Thái Bình" in text and "300 cm" in text  # the gauge against its flood threshold
    for d in ("aq-10525", "wl-10525", "tf-10525"):
        assert d in text
    # completeness: readings stored over those expected (one a minute each) in the last 24 h, by SQL
    shown = page.eval("document.querySelector('#panel-completeness').innerText")
    assert re.fullmatch(r"[\d.,]+ %", shown)
    page.eval("document.querySelector('#panel').scrollTop = 0")
    shot(page, "panel")


def test_device_markers_on_demand(city, browser):
    page = city.page(browser, city.viewer_key)
    assert page.eval("document.querySelectorAll('path.device').length") == 0
    page.click(".map-tools input[data-kind=air_quality]")
    page.wait("document.querySelectorAll('path.device-air_quality').length === 3", 10)
    page.click(".map-tools input[data-kind=water_level]")
    page.wait("document.querySelectorAll('path.device').length === 4", 10)
    shot(page, "map-devices")


def test_the_language_toggle_switches_every_label(city, browser):
    page = city.page(browser, city.viewer_key)
    labels = ("[...document.querySelectorAll('[data-i18n]:not(#lang), th, .legend div, .card span')]"
              ".map(e => e.textContent.trim()).filter(Boolean)")
    page.click("nav button[data-view=alerts]")
    vietnamese = page.eval(labels)
    assert page.eval("document.documentElement.lang") == "vi"
    page.click("#lang")
    english = page.eval(labels)
    assert page.eval("document.documentElement.lang") == "en" and len(english) == len(vietnamese) > 40
    diacritics = re.compile("[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]", re.I)
    still = [t for t in english if diacritics.search(t.replace("Hải Phòng", "").replace("QĐ-TCMT", ""))]
    assert still == []  # no Vietnamese label left
    assert page.eval("document.querySelector('#lang').textContent") == "Tiếng Việt"  # the way back
    changed = sum(a != b for a, b in zip(vietnamese, english))
    assert changed >= len(english) - 8  # only the same words in both (AQI, #) stay
    shot(page, "alerts-english")
    page.click("#lang")
    assert page.eval(labels) == vietnamese


def test_a_commune_over_150_turns_red_and_its_alert_arrives_live_then_an_operator_acknowledges_it(city, browser):
    operator = city.page(browser, city.operator_key)
    viewer = Browser()
    try:
        city.page(viewer, city.viewer_key)
        for page in (operator, viewer):
            page.eval("window.__notReloaded = true")
            page.click("nav button[data-view=map]")
        before = fill(operator, CHI_LINH)
        assert before == colour(by_hand(CHI_LINH, 2)) != colour(by_hand(CHI_LINH, 3))
        # the rest of hour 3 at 200 µg/m³ and two readings after it, which close it
        air = [d for d in DEVICES if d.device_id == "aq-10546"]
        published = time.monotonic()
        city.publish(air, range(3 * 3600 // STEP_S + 2, 4 * 3600 // STEP_S + 2))
        red = colour(by_hand(CHI_LINH, 3))
        assert red == "rgb(255,0,0)" and by_hand(CHI_LINH, 3) > 150
        for page in (operator, viewer):
            page.wait(f"document.querySelector('path.commune[data-code=\"{CHI_LINH}\"]').getAttribute('fill') === "
                      f"'{red}'", 60)
        turned_red_s = time.monotonic() - published
        shown = operator.eval(f"document.querySelector('path.commune[data-code=\"{CHI_LINH}\"]').dataset.aqi")
        assert int(shown) == by_hand(CHI_LINH, 3)
        rise = by_hand(CHI_LINH, 3) - by_hand(CHI_LINH, 2)  # the ranking's trend, from the live event
        operator.wait(f"document.querySelector('#ranking-communes tr[data-code=\"{CHI_LINH}\"]')"
                      f".children[6].innerText === '▲ {rise}'", 10)
        alert_row = f"#alerts tr[data-area='{CHI_LINH}'][data-rule='aqi_bad']"
        for page in (operator, viewer):
            page.wait(f"document.querySelector(\"{alert_row}\") !== null", 30)
            assert page.eval("window.__notReloaded === true")  # live, not a reload
        alerted_s = time.monotonic() - published
        print(f"\nred after {turned_red_s:.1f} s, the alert listed after {alerted_s:.1f} s of publishing the hour's last readings")
        operator.click("nav button[data-view=alerts]")
        viewer.click("nav button[data-view=alerts]")
        alert_id = operator.eval(f"document.querySelector(\"{alert_row}\").dataset.alert")
        wait_for(lambda: rows(city.dsn, "SELECT count(*) FROM alerts WHERE alert_id = %s", (alert_id,))[0][0] == 1, 30,
                 what="the alert stored")
        operator.wait(f"document.querySelector(\"{alert_row}\").dataset.pending === '0'", 15)
        assert operator.eval(f"[...document.querySelectorAll(\"{alert_row} button[data-act]\")].map(b => b.dataset.act)"
                             ) == ["acknowledge", "assign", "comment", "close"]
        assert viewer.eval("document.querySelectorAll('button[data-act]').length") == 0
        assert viewer.eval(f"document.querySelector(\"{alert_row}\") !== null")
        shot(viewer, "alerts-viewer")
        operator.click(f"{alert_row} button[data-act=acknowledge]")
        operator.wait(f"document.querySelector(\"{alert_row} .op-state\").dataset.state === 'acknowledged'", 15)
        stored = rows(city.dsn, "SELECT action, actor FROM alert_actions WHERE alert_id = %s", (alert_id,))
        assert stored == [("acknowledge", "e2e operator")]
        operator.answer_dialogs("Đội môi trường Chí Linh")
        operator.click(f"{alert_row} button[data-act=assign]")
        operator.wait(f"document.querySelector(\"{alert_row}\").children[6].innerText === 'Đội môi trường Chí Linh'", 15)
        assert rows(city.dsn, "SELECT assignee FROM alert_actions WHERE alert_id = %s AND action = 'assign'",
                    (alert_id,)) == [("Đội môi trường Chí Linh",)]
        shot(operator, "alerts-operator")
        assert operator.log()["console_errors"] == [] and viewer.log()["console_errors"] == []
    finally:
        viewer.close()


def test_wall_mode_rotates_and_recovers_by_itself_when_the_api_comes_back(city, browser):
    page = city.page(browser, city.viewer_key, "?wall=1&rotate=3")
    assert page.eval("document.body.classList.contains('wall')")
    assert page.eval("parseFloat(getComputedStyle(document.documentElement).fontSize)") == 22.5  # 1.5 × 15 px
    cycle = ["map", "ranking", "alerts"]
    seen = [page.eval("document.body.dataset.view")]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(seen) < 5:
        view = page.eval("document.body.dataset.view")
        if view != seen[-1]:
            seen.append(view)
            shot(page, f"wall-{view}")
        time.sleep(0.2)
    assert len(seen) == 5 and set(seen) == set(cycle)  # four turns in 15 s at one each 3 s
    assert all(cycle[(cycle.index(a) + 1) % 3] == b for a, b in zip(seen, seen[1:])), seen
    # the API goes away and comes back on the same port: the page says so, then reloads its data alone
    api = next(p for p in city.p["procs"] if p.command == ["api"])
    loaded = page.eval("document.body.dataset.loaded")
    api.stop()
    page.wait("document.querySelector('#live').classList.contains('down')", 30)
    shot(page, "wall-api-down")
    api.start()
    wait_for(lambda: http_get(f"{city.url}/healthz")[0] == 200, 60, what="the API back")
    page.wait("document.querySelector('#live').classList.contains('up')", 60)
    page.wait(f"document.body.dataset.loaded !== '{loaded}'", 30)
    assert page.eval("document.body.classList.contains('wall')")


def test_the_page_asks_for_a_key_and_refuses_a_wrong_one(city, browser):
    browser.open(city.url + "/")
    browser.wait("!document.querySelector('#login').hidden", 10)
    browser.eval("document.querySelector('#key').value = 'cs_nothing_wrong'")
    browser.click("#login button[type=submit]")
    browser.wait("document.querySelector('#login-error').innerText.length > 0", 10)
    browser.eval(f"document.querySelector('#key').value = '{city.viewer_key}'")
    browser.click("#login button[type=submit]")
    browser.wait("document.body.dataset.ready === 'true'", 30)
    assert browser.eval("document.querySelector('#who').innerText") == "e2e viewer (viewer)"
