// The dashboard's entry point: the key, the views, the live events and the periodic reload that
// brings the page back by itself after the API or the network was away.
import { forgetKey, get, live, setKey, takeKey, Unauthorized } from "./api.js";
import { Alerts } from "./alerts.js";
import { apply, language, onLanguage, setLanguage, t } from "./i18n.js";
import { HEALTH_COLOURS } from "./health.js";
import { CityMap } from "./map.js";
import { Panel } from "./panel.js";
import { loadQuality, renderQuality } from "./quality.js";
import { renderRanking } from "./ranking.js";
import { Wall } from "./wall.js";

const $ = (sel) => document.querySelector(sel);
const RELOAD_MS = 60_000;

function toast(text) {
  const el = $("#toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 6000);
}

function later(fn, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

async function login() {
  apply();
  if (takeKey()) {
    try { return await get("/api/v1/me"); } catch (e) { if (!(e instanceof Unauthorized)) throw e; }
  }
  const box = $("#login");
  box.hidden = false;
  return new Promise((resolve) => {
    box.querySelector("form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      setKey($("#key").value.trim());
      try {
        const me = await get("/api/v1/me");
        box.hidden = true;
        resolve(me);
      } catch (e) {
        $("#login-error").textContent = e instanceof Unauthorized ? t("login_bad") : String(e.message || e);
      }
    });
  });
}

async function main() {
  const me = await login();
  const [config, reference] = await Promise.all([fetch("/dashboard/config.json").then((r) => r.json()),
                                                 get("/api/v1/reference")]);
  document.body.dataset.role = me.role;
  $("#who").textContent = `${me.consumer} (${me.role})`;
  const state = { communes: [], groups: [], view: "map", quality: null };
  const names = new Map();
  const panel = new Panel($("#panel"), reference);
  const map = new CityMap($("#map"), config, (code) => panel.open(code).catch(report));
  const alerts = new Alerts($("#alerts"), me.role, names, toast);
  const latestAqi = () => Promise.all([get("/api/v1/aqi/latest", { level: "commune" }),
                                       get("/api/v1/aqi/latest", { level: "group" })]);
  const firstAqi = latestAqi(); // while the boundaries load
  await map.load();
  for (const [code, name] of map.names) names.set(code, name);

  const drawRanking = () => renderRanking($("#ranking-communes"), $("#ranking-groups"), state.communes, state.groups,
                                          (code) => panel.open(code).catch(report));
  const drawLegend = () => {
    $("#legend").innerHTML = `<b>${t("legend")}</b>` + reference.aqi_levels.map((l) => `<div><span class="swatch"
      style="background:rgb(${l.colour.join(",")})"></span>${l.low}–${l.high} ${language() === "en" ? l.en : l.vi}</div>`).join("")
      + `<div><span class="swatch" style="background:#5b6770"></span>${t("no_data")}</div>`
      + `<div><span class="swatch stale"></span>${t("stale")} (&gt; ${config.stale_after_h} h)</div>`
      + (kinds().size ? `<b>${t("panel_devices")}</b>` + Object.entries(HEALTH_COLOURS).map(([h, c]) =>
        `<div><span class="swatch dot" style="background:${c}"></span>${t("st_" + h)}</div>`).join("") : "");
  };
  const refreshQuality = async () => {
    state.quality = await loadQuality();
    renderQuality({ summary: $("#quality-summary"), heatmap: $("#heatmap"), devices: $("#device-issues") }, state.quality, names);
  };
  const kinds = () => new Set([...document.querySelectorAll(".map-tools input:checked")].map((i) => i.dataset.kind));
  const refreshMarkers = async () => {
    const wanted = kinds();
    if (!wanted.size) { map.showDevices([], wanted); return; }
    state.devices = await get("/api/v1/devices", { limit: 5000 });
    map.showDevices(state.devices, wanted, (d) => panel.open(d.area).catch(report));
  };
  const refreshAll = async (aqi = latestAqi()) => {
    const others = Promise.all([alerts.load(), state.view === "quality" && refreshQuality(),
                                kinds().size && refreshMarkers()]);
    [state.communes, state.groups] = await aqi;
    map.paint(state.communes);
    drawRanking();
    await others;
    document.body.dataset.loaded = String(Date.now());
  };
  const redrawRanking = later(drawRanking, 300);
  const reopenPanel = later(() => panel.code && panel.open(panel.code).catch(report), 1000);

  const onAqi = (m) => {
    if (m.period !== "hour") return;
    const list = m.level === "group" ? state.groups : m.level === "commune" ? state.communes : null;
    const row = list?.find((r) => r.area === m.area);
    if (!row || (row.start && new Date(m.start) < new Date(row.start))) return;
    // the hour before: kept for a new version of the same hour, the shown AQI for the next hour, unknown after a gap
    const gap = row.start ? new Date(m.start) - new Date(row.start) : null;
    const previous = gap === 0 ? row.previous_aqi : gap === 3600e3 ? row.aqi : null;
    Object.assign(row, { start: m.start, aqi: m.aqi, level_vi: m.aqi_level.vi, level_en: m.aqi_level.en,
                         colour: m.colour, dominant: m.dominant, worst_area: m.worst_area ?? null, previous_aqi: previous });
    if (m.level === "commune") map.paint([row]);
    redrawRanking();
    if (panel.code === m.area) reopenPanel();
  };
  const setLive = (s) => {
    const el = $("#live");
    el.className = `live ${s === "up" ? "up" : "down"}`;
    el.dataset.i18n = s === "up" ? "live_up" : "live_down";
    el.textContent = t(el.dataset.i18n);
    if (s === "up") refreshAll().catch(report); // whatever happened while the stream was away
    if (s === "unauthorized") { forgetKey(); location.reload(); }
  };
  function report(e) {
    if (e instanceof Unauthorized) { forgetKey(); location.reload(); return; }
    console.warn("dashboard:", e);
    toast(e.message || String(e));
  }

  const show = (view) => {
    state.view = view;
    document.body.dataset.view = view;
    for (const b of document.querySelectorAll("nav button")) b.classList.toggle("active", b.dataset.view === view);
    for (const s of document.querySelectorAll(".view")) s.classList.toggle("active", s.id === `view-${view}`);
    if (view === "map") map.resize();
    if (view === "quality") refreshQuality().catch(report);
  };
  const wall = new Wall(show, $("#wall"), t);
  for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => show(b.dataset.view));
  for (const i of document.querySelectorAll(".map-tools input")) {
    i.addEventListener("change", () => { drawLegend(); refreshMarkers().catch(report); });
  }
  $("#lang").addEventListener("click", () => setLanguage(language() === "vi" ? "en" : "vi"));
  $("#logout").addEventListener("click", () => { forgetKey(); location.reload(); });
  $("#sound").addEventListener("click", () => {
    alerts.sound = !alerts.sound;
    $("#sound").dataset.i18n = alerts.sound ? "sound_on" : "sound_off";
    $("#sound").setAttribute("aria-pressed", String(alerts.sound));
    apply($("header"));
  });
  $("#notify").addEventListener("click", async () => {
    alerts.notify = "Notification" in window && (await Notification.requestPermission()) === "granted";
    $("#notify").setAttribute("aria-pressed", String(alerts.notify));
  });
  const params = new URLSearchParams(location.search);
  const rotate = Number(params.get("rotate")) || config.wall_rotate_s;
  $("#wall").addEventListener("click", () => (wall.on ? wall.stop() : wall.start(rotate)));
  onLanguage(() => {
    drawLegend(); drawRanking(); alerts.render(); panel.render();
    if (state.quality) renderQuality({ summary: $("#quality-summary"), heatmap: $("#heatmap"), devices: $("#device-issues") },
                                     state.quality, names);
  });
  setInterval(() => {
    $("#clock").textContent = new Date().toLocaleTimeString(language() === "vi" ? "vi-VN" : "en-GB",
                                                            { timeZone: "Asia/Ho_Chi_Minh" });
  }, 1000);
  setInterval(() => refreshAll().catch(report), RELOAD_MS);

  drawLegend();
  apply();
  show("map");
  await refreshAll(firstAqi);
  if (params.get("wall") === "1") wall.start(rotate);
  document.body.dataset.readyAt = String(performance.now());
  document.body.dataset.ready = "true";
  live(["alert", "aqi"], (kind, m) => (kind === "aqi" ? onAqi(m) : alerts.live(m)), setLive);
}

main().catch((e) => {
  console.error("dashboard failed to start:", e);
  document.body.insertAdjacentHTML("beforeend", `<p class="error" id="fatal">${String(e.message || e)}</p>`);
});
