// The ranking: communes worst first with their trend against the hour before, and the groups
// (former districts) with the commune that gives each its AQI.
import { fmtTime, language, t } from "./i18n.js";
import { escapeHtml, pollutant, rgb } from "./map.js";

function trend(row) {
  if (row.aqi === null || row.previous_aqi === null || row.previous_aqi === undefined) return `<span class="trend-flat">·</span>`;
  const d = row.aqi - row.previous_aqi;
  if (d > 0) return `<span class="trend-up" title="+${d}">▲ ${d}</span>`;
  if (d < 0) return `<span class="trend-down" title="${d}">▼ ${-d}</span>`;
  return `<span class="trend-flat">▶ 0</span>`;
}

function badge(row) {
  return row.aqi === null ? `<span class="muted">${t("no_data")}</span>`
    : `<span class="aqi-badge" style="background:${rgb(row.colour)}">${row.aqi}</span>`;
}

export function byWorst(rows) {
  return [...rows].sort((a, b) => (b.aqi ?? -1) - (a.aqi ?? -1) || a.name.localeCompare(b.name, "vi"));
}

export function renderRanking(communesEl, groupsEl, communes, groups, onPick) {
  const en = language() === "en";
  const names = new Map([...communes, ...groups].map((r) => [r.area, r.name]));
  const level = (r) => (r.aqi === null ? "" : escapeHtml(en ? r.level_en : r.level_vi));
  communesEl.innerHTML = `<tr><th>${t("col_rank")}</th><th>${t("col_area")}</th><th>${t("col_group")}</th>
    <th class="num">${t("col_aqi")}</th><th>${t("col_level")}</th><th>${t("col_dominant")}</th><th>${t("col_trend")}</th>
    <th>${t("col_hour")}</th></tr>` + byWorst(communes).map((r, i) => `<tr data-code="${r.area}">
    <td class="num">${i + 1}</td><td>${escapeHtml(r.name)}</td><td>${escapeHtml(names.get(r.parent) || "")}</td>
    <td class="num">${badge(r)}</td><td>${level(r)}</td><td>${r.aqi === null ? "" : pollutant(r.dominant)}</td>
    <td>${trend(r)}</td><td>${r.start ? fmtTime(r.start) : ""}</td></tr>`).join("");
  groupsEl.innerHTML = `<tr><th>${t("col_area")}</th><th class="num">${t("col_aqi")}</th><th>${t("col_worst")}</th>
    <th>${t("col_trend")}</th></tr>` + byWorst(groups).map((r) => `<tr data-code="${r.area}"><td>${escapeHtml(r.name)}</td>
    <td class="num">${badge(r)}</td><td>${escapeHtml(names.get(r.worst_area) || "")}</td><td>${trend(r)}</td></tr>`).join("");
  for (const tr of [...communesEl.querySelectorAll("tr[data-code]"), ...groupsEl.querySelectorAll("tr[data-code]")]) {
    tr.addEventListener("click", () => onPick(Number(tr.dataset.code)));
  }
}
