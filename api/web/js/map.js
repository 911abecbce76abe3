// The city map: the communes from the shipped boundaries (no background tiles unless the API is
// configured with a tile server), coloured by their latest hourly VN_AQI in the decision's colours,
// the former districts outlined and labelled; hover for name, AQI and dominant pollutant, click for
// the commune's panel; device markers of the chosen kinds, coloured by health.
import { get } from "./api.js";
import { fmtTime, language, t } from "./i18n.js";
import { deviceHealth, HEALTH_COLOURS } from "./health.js";

const NO_DATA = "#5b6770";
export const rgb = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;

export class CityMap {
  constructor(el, config, onPick) {
    this.onPick = onPick;
    this.config = config;
    this.latest = new Map(); // commune code -> latest AQI row
    this.layers = new Map(); // commune code -> Leaflet layer
    this.markers = L.layerGroup();
    this.map = L.map(el, { zoomSnap: 0.25, preferCanvas: false });
    this.map.attributionControl.setPrefix(false); // the boundaries' licence travels with them
    if (config.boundaries_credit) this.map.attributionControl.addAttribution(escapeHtml(config.boundaries_credit));
    if (config.tile_url) {
      L.tileLayer(config.tile_url, { attribution: config.tile_attribution, maxZoom: 18 }).addTo(this.map);
    }
    this.markers.addTo(this.map);
  }

  async load() {
    const [communes, outlines, groups] = await Promise.all([
      get("/api/v1/areas", { level: "commune", boundary: true }),
      get("/api/v1/areas/outlines", { level: "group" }),
      get("/api/v1/areas", { level: "group" }),
    ]);
    this.names = new Map([...communes, ...groups].map((a) => [a.code, a.name]));
    const features = communes.filter((a) => a.boundary).map((a) => ({
      type: "Feature", id: a.code, properties: { code: a.code, name: a.name, lat: a.lat, lon: a.lon },
      geometry: a.boundary,
    }));
    const layer = L.geoJSON({ type: "FeatureCollection", features }, {
      style: () => ({ className: "commune", color: "#0b1620", weight: 0.6, fillColor: NO_DATA, fillOpacity: 0.8 }),
      onEachFeature: (feature, shape) => {
        this.layers.set(feature.properties.code, shape);
        shape.bindTooltip(() => this.tooltip(feature.properties.code), { sticky: true, className: "aqi-tip" });
        shape.on("click", () => this.onPick(feature.properties.code));
        shape.on("add", () => { shape.getElement()?.setAttribute("data-code", feature.properties.code); });
      },
    }).addTo(this.map);
    for (const shape of this.layers.values()) shape.getElement()?.setAttribute("data-code", shape.feature.id);
    L.geoJSON(outlines, { interactive: false,
                          style: () => ({ className: "group-outline", color: "#ffffff", weight: 2.2, opacity: 0.9 }) })
      .addTo(this.map);
    for (const g of groups) {
      if (g.lat === null) continue;
      L.marker([g.lat, g.lon], { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "group-label", html: escapeHtml(g.name), iconSize: null }) }).addTo(this.map);
    }
    this.map.fitBounds(mainland(features, layer), { padding: [12, 12] });
  }

  tooltip(code) {
    const row = this.latest.get(code);
    const name = escapeHtml(this.names.get(code) || String(code));
    if (!row || row.aqi === null) return `<b>${name}</b><br>${t("no_data")}`;
    const level = language() === "en" ? row.level_en : row.level_vi;
    return `<b>${name}</b><br>AQI <b>${row.aqi}</b> — ${escapeHtml(level)}` +
      `<br>${t("col_dominant")}: ${escapeHtml(pollutant(row.dominant))}<br><span class="muted">${fmtTime(row.start)}` +
      `${this.isStale(row) ? ` — ${t("stale")}` : ""}</span>`;
  }

  paint(rows) {
    for (const row of rows) {
      this.latest.set(row.area, row);
      const shape = this.layers.get(row.area);
      if (!shape) continue;
      const stale = this.isStale(row);
      // an old AQI keeps its colour (a faded red would read as another category) and gets a dashed edge
      shape.setStyle({ fillColor: row.aqi === null ? NO_DATA : rgb(row.colour), fillOpacity: 0.85,
                       color: stale ? "#ffffff" : "#0b1620", weight: stale ? 1.4 : 0.6, dashArray: stale ? "4 3" : null });
      const el = shape.getElement();
      if (el) { el.dataset.aqi = row.aqi ?? ""; el.dataset.stale = stale ? "1" : ""; }
    }
  }

  // older than the setting, counted from the end of its hour
  isStale(row) {
    return Boolean(row.start) && Date.now() - new Date(row.start).getTime() > (this.config.stale_after_h + 1) * 3600e3;
  }

  showDevices(devices, kinds, onDevice) {
    this.markers.clearLayers();
    for (const d of devices) {
      if (!kinds.has(d.kind) || d.lat === null || d.lon === null) continue;
      const health = deviceHealth(d);
      L.circleMarker([d.lat, d.lon], { radius: 6, weight: 1.5, color: "#000", fillOpacity: 0.95,
                                       fillColor: HEALTH_COLOURS[health], className: `device device-${d.kind}` })
        .bindTooltip(`<b>${escapeHtml(d.device_id)}</b> ${escapeHtml(t("kind_" + d.kind))}<br>${t("st_" + health)}` +
                     `<br>${t("col_last_seen")}: ${fmtTime(d.last_seen)}`)
        .on("click", () => onDevice(d))
        .addTo(this.markers);
    }
  }

  resize() { this.map.invalidateSize(); }
}

export function pollutant(name) {
  return { pm2_5: "PM2.5", pm10: "PM10", o3: "O₃", no2: "NO₂", so2: "SO₂", co: "CO" }[name] || name || t("none");
}

export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// The bounds of the communes near the others (Bạch Long Vĩ, 130 km out at sea, stays drawn but
// does not shrink the mainland to a corner of the screen).
function mainland(features, layer) {
  const points = features.filter((f) => f.properties.lat !== null).map((f) => [f.properties.lat, f.properties.lon]);
  if (!points.length) return layer.getBounds();
  const median = (i) => points.map((p) => p[i]).sort((a, b) => a - b)[Math.floor(points.length / 2)];
  const [mlat, mlon] = [median(0), median(1)];
  const near = points.filter(([la, lo]) => Math.hypot(la - mlat, lo - mlon) < 0.8);
  return L.latLngBounds(near.length ? near : points).pad(0.08);
}
