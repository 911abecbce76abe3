// A commune's or group's panel: AQI now with its level, colour and health advice; hourly AQI of the
// last 24 h and 7 days; the pollutants against QCVN 05:2023; weather; noise against each meter's
// zone limit; water levels against their flood thresholds; traffic; its devices and their health;
// its completeness; its open alerts.
import { get } from "./api.js";
import { aqiChart } from "./charts.js";
import { deviceHealth } from "./health.js";
import { fmtNum, fmtTime, language, ruleName, t } from "./i18n.js";
import { escapeHtml, pollutant, rgb } from "./map.js";

const GASES = ["so2", "no2", "co", "o3"];
const hoursAgo = (h) => new Date(Date.now() - h * 3600e3).toISOString();

export class Panel {
  constructor(el, reference) {
    this.el = el;
    this.reference = reference;
    this.code = null;
    this.charts = [];
  }

  close() { this.el.hidden = true; this.code = null; this.dispose(); }

  dispose() { for (const c of this.charts) c.destroy(); this.charts = []; }

  async open(code) {
    this.code = code;
    this.el.hidden = false;
    const [state, history, devices, completeness, ...air] = await Promise.all([
      get(`/api/v1/areas/${code}`),
      get(`/api/v1/areas/${code}/aqi`, { from: hoursAgo(24 * 7), limit: 1000 }),
      get("/api/v1/devices", { area: code }),
      get("/api/v1/completeness", { area: code, from: hoursAgo(24) }),
      ...["pm2_5", "pm10", ...GASES].map((m) => get(`/api/v1/areas/${code}/series`,
                                                      { metric: m, bucket: "1h", from: hoursAgo(24) })),
    ]);
    if (this.code !== code) return; // another area was picked meanwhile
    this.data = { state, history, devices, completeness, air };
    this.render();
  }

  render() {
    if (!this.data) return;
    const { state, history, devices, completeness, air } = this.data;
    const en = language() === "en";
    const a = state.area;
    const aqi = state.aqi;
    const level = aqi ? this.reference.aqi_levels.find((l) => aqi.aqi <= l.high) || this.reference.aqi_levels.at(-1) : null;
    const latest = Object.fromEntries(state.latest.map((v) => [v.metric, v]));
    this.dispose();
    this.el.innerHTML = `
      <button class="close" data-i18n="panel_close">${t("panel_close")}</button>
      <h2 id="panel-name" data-code="${a.code}">${escapeHtml(a.name)}</h2>
      <p class="muted">${escapeHtml(a.kind)} · ${a.code}</p>
      <h3>${t("panel_now")}</h3>
      ${aqi ? `<p><span class="aqi-badge aqi-big" style="background:${rgb(aqi.colour)}">${aqi.aqi}</span>
        <b>${escapeHtml(en ? aqi.level_en : aqi.level_vi)}</b> · ${t("col_dominant")} ${pollutant(aqi.dominant)}
        · ${t("as_of")} ${fmtTime(aqi.start)}</p>
        <p><b>${t("health_advice")}:</b> ${escapeHtml(en ? level.health_en : level.health_vi)}</p>`
        : `<p class="muted">${t("no_data")}</p>`}
      <h3>${t("panel_24h")}</h3><div class="chart" id="chart-24h"></div>
      <h3>${t("panel_7d")}</h3><div class="chart" id="chart-7d"></div>
      <h3>${t("panel_air")}</h3>${this.airTable(air)}
      <h3>${t("panel_weather")}</h3>${this.weather(latest)}
      <h3>${t("panel_noise")}</h3>${this.noise(devices)}
      <h3>${t("panel_water")}</h3>${this.water(devices)}
      <h3>${t("panel_traffic")}</h3>${this.traffic(latest)}
      <h3>${t("panel_completeness")}</h3>${this.completeness(completeness)}
      <h3>${t("panel_alerts")}</h3>${state.open_alerts.length ? `<ul>${state.open_alerts.map((x) =>
        `<li>${escapeHtml(ruleName(x.rule))} · ${escapeHtml(x.subject)} · ${fmtNum(x.value)} ${escapeHtml(x.unit || "")}</li>`)
        .join("")}</ul>` : `<p class="muted">${t("no_alerts")}</p>`}
      <h3>${t("panel_devices")}</h3>${this.deviceTable(devices)}`;
    this.el.querySelector(".close").addEventListener("click", () => this.close());
    const width = Math.max(280, this.el.clientWidth - 30);
    const now = Date.now() / 1000;
    for (const [id, hours] of [["chart-24h", 24], ["chart-7d", 168]]) {
      const rows = history.filter((h) => new Date(h.start).getTime() / 1000 >= now - hours * 3600);
      this.charts.push(aqiChart(this.el.querySelector(`#${id}`), rows, this.reference.aqi_levels, width, now - hours * 3600, now));
    }
  }

  airTable(air) {
    const limits = this.reference.air_limits;
    const rows = air.map((series) => {
      const pts = series.points.filter((p) => p.mean !== null && p.count > 0);
      const metric = series.metric;
      const pm = metric.startsWith("pm");
      // PM: the 24-hour mean (sum of the hourly sums over the readings counted); gases: the latest hour's mean
      const value = pm ? (pts.length ? pts.reduce((s, p) => s + p.mean * p.count, 0) / pts.reduce((s, p) => s + p.count, 0) : null)
                       : (pts.length ? pts.at(-1).mean : null);
      const limit = pm ? limits[metric]?.["24h"] : limits[metric]?.["1h"];
      const over = value !== null && limit && value > limit;
      return `<tr><td>${pollutant(metric)}</td><td class="num ${over ? "over" : ""}">${fmtNum(value)}</td>
        <td class="num">${limit ? fmtNum(limit, 0) : t("none")}</td><td>${pm ? "24 h" : "1 h"}</td></tr>`;
    });
    return `<table class="air"><tr><th>${t("col_metric")}</th><th class="num">${t("col_value")} (µg/m³)</th>
      <th class="num">${t("col_limit")}</th><th></th></tr>${rows.join("")}</table>`;
  }

  weather(latest) {
    const item = (key, metric, unit) => latest[metric] ? `<span>${t(key)}: <b>${fmtNum(latest[metric].mean)}</b> ${unit}</span>` : "";
    const parts = [item("temperature", "temperature", "°C"), item("humidity", "humidity", "%"),
                   item("rainfall", "rainfall", "mm"),
                   latest.wind_speed ? `<span>${t("wind")}: <b>${fmtNum(latest.wind_speed.mean)}</b> m/s` +
                     (latest.wind_direction ? ` ${fmtNum(latest.wind_direction.mean, 0)}°` : "") + "</span>" : ""];
    const text = parts.filter(Boolean).join(" · ");
    return text ? `<p>${text}</p>` : `<p class="muted">${t("no_data")}</p>`;
  }

  noise(devices) {
    const meters = devices.filter((d) => d.kind === "noise");
    if (!meters.length) return `<p class="muted">${t("no_data")}</p>`;
    const limits = this.reference.noise_limits;
    const [dayFrom, nightFrom] = this.reference.noise_day_hours;
    const hour = (new Date().getUTCHours() + 7) % 24;
    const period = hour >= dayFrom && hour < nightFrom ? "day" : "night";
    return `<table>${meters.map((d) => {
      const value = d.latest.noise_laeq;
      const limit = limits[d.zone || "normal"][period];
      return `<tr><td>${escapeHtml(d.device_id)}</td><td class="num ${value > limit ? "over" : ""}">${fmtNum(value)} dB(A)</td>
        <td>${t("col_limit")} ${limit} (${t("zone_" + (d.zone || "normal"))}, ${t(period)})</td></tr>`;
    }).join("")}</table>`;
  }

  water(devices) {
    const gauges = devices.filter((d) => d.kind === "water_level");
    if (!gauges.length) return `<p class="muted">${t("no_data")}</p>`;
    return `<table>${gauges.map((d) => {
      const value = d.latest.water_level;
      const over = value !== undefined && d.flood_threshold_cm !== null && value >= d.flood_threshold_cm;
      return `<tr><td>${escapeHtml(d.river || d.device_id)}</td><td class="num ${over ? "over" : ""}">${fmtNum(value)} cm</td>
        <td>${t("threshold")} ${fmtNum(d.flood_threshold_cm)} cm</td></tr>`;
    }).join("")}</table>`;
  }

  traffic(latest) {
    const counts = ["vehicles_motorbike", "vehicles_car", "vehicles_truck_bus", "vehicles_total"].filter((m) => latest[m]);
    if (!counts.length && !latest.avg_speed) return `<p class="muted">${t("no_data")}</p>`;
    const total = counts.reduce((s, m) => s + latest[m].mean * latest[m].count, 0);
    const windowMin = (latest[counts[0]] || latest.avg_speed).window_s / 60;
    return `<p>${t("vehicles")}: <b>${fmtNum(total, 0)}</b> / ${windowMin} min · ${t("speed")}: <b>${
      fmtNum(latest.avg_speed?.mean)}</b> km/h</p>`;
  }

  completeness(rows) {
    const expected = rows.reduce((s, r) => s + r.expected, 0);
    const received = rows.reduce((s, r) => s + r.received, 0);
    if (!expected) return `<p class="muted">${t("no_data")}</p>`;
    return `<p><b id="panel-completeness">${fmtNum((100 * received) / expected)} %</b> (${received} ${t("of")} ${expected})</p>`;
  }

  deviceTable(devices) {
    if (!devices.length) return `<p class="muted">${t("no_data")}</p>`;
    return `<table class="devices"><tr><th>${t("col_device")}</th><th>${t("col_kind")}</th><th>${t("col_state")}</th>
      <th>${t("col_last_seen")}</th></tr>${devices.map((d) => `<tr><td>${escapeHtml(d.device_id)}</td>
      <td>${t("kind_" + d.kind)}</td><td>${t("st_" + deviceHealth(d))}</td><td>${fmtTime(d.last_seen)}</td></tr>`).join("")}</table>`;
  }
}
