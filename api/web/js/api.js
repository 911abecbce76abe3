// The API as the page uses it: the bearer key (from the URL fragment #key=… once, then this
// browser's storage), JSON requests, and the live events read over fetch (EventSource cannot send
// an Authorization header), resumed with Last-Event-ID after any break, with a growing pause.
const STORE = "citysense.key";

export class Unauthorized extends Error {}
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function takeKey() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("key")) {
    localStorage.setItem(STORE, hash.get("key"));
    hash.delete("key");
    history.replaceState(null, "", location.pathname + location.search + (hash.toString() ? "#" + hash : ""));
  }
  return localStorage.getItem(STORE);
}

export function setKey(key) { localStorage.setItem(STORE, key); }
export function forgetKey() { localStorage.removeItem(STORE); }

function headers(extra = {}) {
  return { Authorization: `Bearer ${localStorage.getItem(STORE) || ""}`, ...extra };
}

async function answer(r) {
  if (r.status === 401) throw new Unauthorized();
  const body = r.status === 204 ? null : await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, body);
  return body;
}

export async function get(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null));
  const url = path + (query.toString() ? `?${query}` : "");
  return answer(await fetch(url, { headers: headers({ Accept: "application/json" }) }));
}

export async function post(path, body) {
  return answer(await fetch(path, {
    method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body ?? {}),
  }));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Reads /api/v1/events for ever: onEvent(kind, data) per event; onState("up"|"down") when the
// stream opens or breaks (the caller reloads what it shows on "up", so nothing missed between).
export async function live(kinds, onEvent, onState) {
  let lastId = null;
  let pause = 1000;
  for (;;) {
    try {
      const query = new URLSearchParams(kinds.map((k) => ["kind", k]));
      const r = await fetch(`/api/v1/events?${query}`, {
        headers: headers({ Accept: "text/event-stream", ...(lastId ? { "Last-Event-ID": lastId } : {}) }),
        cache: "no-store",
      });
      if (r.status === 400) lastId = null; // an id from before the topics were remade: start afresh
      if (r.status === 401) throw new Unauthorized();
      if (!r.ok) throw new ApiError(r.status, null);
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let opened = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!opened) { opened = true; pause = 1000; onState("up"); }
          const event = { kind: "message", data: "" };
          for (const line of block.split("\n")) {
            if (line.startsWith("id: ")) event.id = line.slice(4);
            else if (line.startsWith("event: ")) event.kind = line.slice(7);
            else if (line.startsWith("data: ")) event.data += line.slice(6);
          }
          if (event.id) lastId = event.id;
          if (event.data && event.kind !== "dropped") {
            try { onEvent(event.kind, JSON.parse(event.data)); } catch (e) { console.warn("live event", e); }
          }
        }
      }
    } catch (e) {
      if (e instanceof Unauthorized) { onState("unauthorized"); return; }
    }
    onState("down");
    await sleep(pause);
    pause = Math.min(pause * 2, 15000);
  }
}
