// A device's health as the dashboard shows it, from the API's device resource: inactive, silent
// (nothing for 3 reporting intervals and at least 10 minutes), error or calibrating (its last
// reading's status), clock skew (the gateway's judgement), rejects in the last 24 h, else ok.
export const HEALTH_COLOURS = {
  ok: "#33c45a", silent: "#8a949c", error: "#ff3b3b", calibrating: "#ffb347", clock: "#b57bff",
  rejects: "#ffe14d", inactive: "#444c54",
};

export function silentAfterMs(device) {
  return Math.max(600e3, 3 * device.interval_s * 1000);
}

export function deviceHealth(d, now = Date.now()) {
  if (d.status !== "active") return "inactive";
  if (!d.last_seen || now - new Date(d.last_seen).getTime() > silentAfterMs(d)) return "silent";
  if (d.last_status === "error") return "error";
  if (d.last_status === "calibrating") return "calibrating";
  if (d.clock === "fast" || d.clock === "slow") return "clock";
  if (Object.values(d.rejects_24h || {}).some((n) => n > 0)) return "rejects";
  return "ok";
}
