// The dashboard's pure logic under node's test runner (run by tests/unit/api/test_web_logic.py):
// device health, the ranking's order, alert rule names, and the labels of both languages.
import assert from "node:assert/strict";
import { test } from "node:test";

import { deviceHealth } from "../../api/web/js/health.js";
import { pairs, ruleName, setLanguage } from "../../api/web/js/i18n.js";
import { byWorst } from "../../api/web/js/ranking.js";

globalThis.document = { documentElement: {}, querySelectorAll: () => [] }; // setLanguage applies to no element
globalThis.localStorage = { setItem() {} };

const NOW = Date.parse("2026-12-07T10:00:00Z");
const device = (extra) => ({ status: "active", interval_s: 60, last_seen: "2026-12-07T09:59:00Z", last_status: "measuring",
                             clock: "ok", rejects_24h: {}, ...extra });

test("device health, in order of precedence", () => {
  assert.equal(deviceHealth(device({}), NOW), "ok");
  assert.equal(deviceHealth(device({ status: "inactive", last_seen: null }), NOW), "inactive");
  assert.equal(deviceHealth(device({ last_seen: null }), NOW), "silent");
  assert.equal(deviceHealth(device({ last_seen: "2026-12-07T09:50:01Z" }), NOW), "ok"); // 9 min 59 s: not yet
  assert.equal(deviceHealth(device({ last_seen: "2026-12-07T09:49:59Z" }), NOW), "silent"); // past 10 min
  assert.equal(deviceHealth(device({ interval_s: 600, last_seen: "2026-12-07T09:35:00Z" }), NOW), "ok"); // < 3 × 10 min
  assert.equal(deviceHealth(device({ interval_s: 600, last_seen: "2026-12-07T09:29:00Z" }), NOW), "silent");
  assert.equal(deviceHealth(device({ last_status: "error", clock: "fast" }), NOW), "error");
  assert.equal(deviceHealth(device({ last_status: "calibrating" }), NOW), "calibrating");
  assert.equal(deviceHealth(device({ clock: "slow", rejects_24h: { out_of_range: 2 } }), NOW), "clock");
  assert.equal(deviceHealth(device({ rejects_24h: { out_of_range: 2 } }), NOW), "rejects");
});

test("the ranking: worst first, no data last, ties by name in Vietnamese order", () => {
  const rows = [{ name: "Xã Ân Thi", aqi: 80 }, { name: "Xã An Lão", aqi: 80 }, { name: "Phường A", aqi: null },
                { name: "Phường B", aqi: 151 }];
  assert.deepEqual(byWorst(rows).map((r) => r.name), ["Phường B", "Xã An Lão", "Xã Ân Thi", "Phường A"]);
});

test("alert rules are named in both languages", () => {
  setLanguage("en");
  assert.equal(ruleName("limit_pm2_5_24h"), "Above QCVN 05:2023: PM2.5 (24 h)");
  assert.equal(ruleName("aqi_bad"), "AQI above threshold");
  assert.equal(ruleName("a_rule_of_tomorrow"), "a_rule_of_tomorrow");
  setLanguage("vi");
  assert.equal(ruleName("limit_no2_1h"), "Vượt QCVN 05:2023: NO₂ (1 h)");
  assert.equal(ruleName("device_silent"), "Thiết bị im lặng");
});

test("every label has a Vietnamese and an English text", () => {
  const same = new Set(["col_rank", "col_aqi", "none"]); // '#', 'AQI', '—' are the same in both
  for (const [key, texts] of pairs()) {
    assert.equal(texts.length, 2, key);
    assert.ok(texts[0].trim() && texts[1].trim(), key);
    if (!same.has(key)) assert.notEqual(texts[0], texts[1], key);
  }
});
