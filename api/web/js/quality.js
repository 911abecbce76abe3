// Device health and data quality ("đúng, đủ, sạch, sống"): counts of silent, calibrating or
// failing, clock-skewed devices and of rejected messages; completeness as a heat map of communes
// by hour; the devices that need attention.
import { get } from "./api.js";
import { deviceHealth } from "./health.js";
import { fmtNum, fmtTime, t } from "./i18n.js";
import { escapeHtml } from "./map.js";

const since = () => new Date(Date.now() - 24 * 3600e3).toISOString();

function shade(share) {
  if (share === null || share === undefined) return "#2a3440";
  const s = Math.max(0, Math.min(1, share)); // red (nothing) → yellow → green (complete)
  const hue = Math.round(120 * s);
  return `hsl(${hue}, 75%, ${30 + 15 * s}%)`;
}

export async function loadQuality() {
  const [devices, completeness, rejects] = await Promise.all([
    get("/api/v1/devices", { limit: 5000 }), get("/api/v1/completeness", { from: since() }),
    get("/api/v1/rejects", { from: since() }),
  ]);
  return { devices, completeness, rejects };
}

export function renderQuality(els, data, names) {
  const { devices, completeness, rejects } = data;
  const health = devices.map((d) => [d, deviceHealth(d)]);
  const count = (...states) => health.filter(([, h]) => states.includes(h)).length;
  const expected = completeness.reduce((s, r) => s + r.expected, 0);
  const received = completeness.reduce((s, r) => s + r.received, 0);
  const rejected = rejects.reduce((s, r) => s + r.count, 0);
  const cards = [["q_devices", devices.filter((d) => d.status === "active").length],
    ["q_reporting", devices.filter((d) => d.messages_last_hour > 0).length], ["q_silent", count("silent")],
    ["q_calibrating", count("calibrating", "error")], ["q_skew", devices.filter((d) => d.clock === "fast" || d.clock === "slow").length],
    ["q_rejects", `${rejected}${received + rejected ? ` (${fmtNum((100 * rejected) / (received + rejected))} %)` : ""}`], ["q_completeness", expected ? `${fmtNum((100 * received) / expected)} %` : t("none")]];
  els.summary.innerHTML = cards.map(([k, v]) => `<div class="card" data-card="${k}"><span>${t(k)}</span><b>${v}</b></div>`).join("")
    + (rejects.length ? `<div class="card"><span>${t("st_rejects")}</span>${rejects.map((r) =>
      `<div>${escapeHtml(r.reason)}: ${r.count}</div>`).join("")}</div>` : "");

  const hours = [...new Set(completeness.map((r) => r.hour))].sort();
  const byArea = new Map();
  for (const r of completeness) {
    if (!byArea.has(r.area)) byArea.set(r.area, new Map());
    byArea.get(r.area).set(r.hour, r);
  }
  const areas = [...byArea.keys()].sort((a, b) => (names.get(a) || "").localeCompare(names.get(b) || "", "vi"));
  els.heatmap.innerHTML = hours.length ? `<table><tr><th></th>${hours.map((h) =>
    `<th>${new Date(h).toLocaleTimeString("en-GB", { timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit" })}</th>`).join("")}</tr>` +
    areas.map((a) => `<tr><th>${escapeHtml(names.get(a) || a)}</th>${hours.map((h) => {
      const r = byArea.get(a).get(h);
      const share = r && r.expected ? r.received / r.expected : null;
      return `<td style="background:${shade(share)}" title="${r ? `${r.received}/${r.expected}` : ""}"></td>`;
    }).join("")}</tr>`).join("") + "</table>" : `<p class="muted">${t("no_data")}</p>`;

  const attention = health.filter(([, h]) => h !== "ok" && h !== "inactive");
  els.devices.innerHTML = attention.length ? `<tr><th>${t("col_device")}</th><th>${t("col_kind")}</th><th>${t("col_area")}</th>
    <th>${t("col_problem")}</th><th>${t("col_last_seen")}</th></tr>` + attention.slice(0, 300).map(([d, h]) => `<tr>
    <td>${escapeHtml(d.device_id)}</td><td>${t("kind_" + d.kind)}</td><td>${escapeHtml(names.get(d.area) || d.area)}</td>
    <td>${t("st_" + h)}${h === "clock" ? ` (${fmtNum(d.clock_skew_s, 0)} s)` : ""}${h === "rejects" ?
      ` (${Object.entries(d.rejects_24h).map(([k, v]) => `${escapeHtml(k)} ${v}`).join(", ")})` : ""}</td>
    <td>${fmtTime(d.last_seen)}</td></tr>`).join("") : `<tr><td class="muted">${t("none")}</td></tr>`;
}
