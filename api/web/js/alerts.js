// Alerts, live: the open alerts from the API, updated by the live events without a reload (a new
// one flashes, optionally with a tone and a browser notification); an operator acknowledges,
// assigns, comments and closes from the list (the API's actions); a viewer gets no buttons.
import { ApiError, get, post } from "./api.js";
import { fmtNum, fmtTime, ruleName, t } from "./i18n.js";
import { escapeHtml } from "./map.js";

export class Alerts {
  constructor(el, role, names, toast) {
    this.el = el;
    this.role = role;
    this.names = names; // code -> name
    this.toast = toast;
    this.rows = new Map(); // alert_id -> alert
    this.fresh = new Set();
    this.sound = false;
    this.notify = false;
    this.refreshTimer = null;
  }

  async load() {
    const rows = await get("/api/v1/alerts", { state: "open", limit: 500 });
    const kept = new Map(rows.map((r) => [r.alert_id, r]));
    let waiting = 0;
    for (const [id, r] of this.rows) {
      if (!kept.has(id) && r.pending && Date.now() - r.seen < 120_000) { kept.set(id, r); waiting += 1; } // not stored yet
    }
    this.rows = kept;
    this.render();
    clearTimeout(this.refreshTimer);
    if (waiting) this.refreshTimer = setTimeout(() => this.load().catch(() => {}), 2000); // until the sink has them
  }

  // A live alert message (the streams' schema): shown at once, then re-read from the API (which
  // adds the operators' state) once the sink has stored it.
  live(message) {
    const id = message.alert_id;
    const known = this.rows.get(id);
    if (message.resolved_at) { this.rows.delete(id); this.render(); return; }
    this.rows.set(id, { ...(known || { operator_state: "new", assignee: null, pending: true, seen: Date.now() }),
                        ...message, area: message.area ?? message.district });
    if (!known) this.announce(this.rows.get(id));
    this.render();
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.load().catch(() => {}), 1500);
  }

  announce(alert) {
    this.fresh.add(alert.alert_id);
    setTimeout(() => { this.fresh.delete(alert.alert_id); }, 4000);
    const text = `${ruleName(alert.rule)} — ${this.names.get(alert.area) || alert.area}: ${fmtNum(alert.value)} ${alert.unit || ""}`;
    if (this.sound) tone();
    if (this.notify && "Notification" in window && Notification.permission === "granted") {
      new Notification(t("alert_new"), { body: text, tag: alert.alert_id });
    }
  }

  render() {
    const operator = this.role === "operator" || this.role === "admin";
    const rows = [...this.rows.values()].sort((a, b) => (b.opened_at || "").localeCompare(a.opened_at || ""));
    if (!rows.length) { this.el.innerHTML = `<tr><td class="muted">${t("no_alerts")}</td></tr>`; return; }
    this.el.innerHTML = `<tr><th>${t("col_severity")}</th><th>${t("col_rule")}</th><th>${t("col_area")}</th>
      <th class="num">${t("col_value")}</th><th>${t("col_since")}</th><th>${t("col_state")}</th><th>${t("col_assignee")}</th>
      ${operator ? `<th>${t("col_actions")}</th>` : ""}</tr>` + rows.map((a) => `
      <tr data-alert="${escapeHtml(a.alert_id)}" data-area="${a.area}" data-rule="${escapeHtml(a.rule)}" data-pending="${a.pending ? 1 : 0}"
          class="${a.operator_state === "new" ? "new" : ""} ${this.fresh.has(a.alert_id) ? "fresh" : ""}">
        <td class="sev-${escapeHtml(a.severity)}">${t("sev_" + a.severity)}</td>
        <td>${escapeHtml(ruleName(a.rule))}<br><span class="muted">${escapeHtml(a.subject)}</span></td>
        <td>${escapeHtml(this.names.get(a.area) || String(a.area))}</td>
        <td class="num">${fmtNum(a.value)} ${escapeHtml(a.unit || "")}<br><span class="muted">${t("col_limit")} ${fmtNum(a.threshold)}</span></td>
        <td>${fmtTime(a.opened_at)}</td>
        <td class="op-state" data-state="${a.operator_state}">${t("op_" + a.operator_state)}</td>
        <td>${escapeHtml(a.assignee || "")}</td>
        ${operator ? `<td class="actions">${a.operator_state === "closed" ? `
          <button data-act="comment">${t("act_comment")}</button>` : `
          ${a.operator_state === "new" ? `<button data-act="acknowledge">${t("act_ack")}</button>` : ""}
          <button data-act="assign">${t("act_assign")}</button><button data-act="comment">${t("act_comment")}</button>
          <button data-act="close">${t("act_close")}</button>`}</td>` : ""}
      </tr>`).join("");
    for (const button of this.el.querySelectorAll("button[data-act]")) {
      button.addEventListener("click", () => this.act(button.closest("tr").dataset.alert, button.dataset.act, button));
    }
  }

  async act(id, action, button) {
    const ask = { assign: ["assignee", "ask_assignee"], comment: ["comment", "ask_comment"], close: ["reason", "ask_reason"] }[action];
    let body = {};
    if (ask) {
      const text = prompt(t(ask[1]));
      if (!text) return;
      body = { [ask[0]]: text };
    }
    button.disabled = true;
    try {
      await post(`/api/v1/alerts/${encodeURIComponent(id)}/${action}`, body);
      await this.load();
    } catch (e) {
      this.toast(e instanceof ApiError && e.status === 404 ? t("not_stored") : (e.message || String(e)));
      button.disabled = false;
    }
  }
}

// A short two-tone chime made in the page (no sound file to fetch).
function tone() {
  const ctx = new AudioContext();
  for (const [i, f] of [880, 660].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = f;
    gain.gain.setValueAtTime(0.2, ctx.currentTime + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + i * 0.25 + 0.22);
    osc.connect(gain).connect(ctx.destination);
    osc.start(ctx.currentTime + i * 0.25);
    osc.stop(ctx.currentTime + i * 0.25 + 0.25);
  }
}
