// A browser for the tests: Debian's Chromium, headless, driven by playwright-core (from web/'s
// node_modules), one JSON command per line on stdin, one JSON answer per line on stdout. It keeps
// every console error, page error and request URL of the page, for the tests to check.
//   {"op": "open", "url": …, "width": 1600, "height": 900}   {"op": "eval", "js": "expression"}
//   {"op": "wait", "js": "expression", "timeout_ms": 10000}   {"op": "click", "selector": …}
//   {"op": "dialogs", "answer": "text"}   {"op": "screenshot", "path": …}   {"op": "log"}   {"op": "close"}
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const { chromium } = createRequire(join(here, "..", "..", "web", "package.json"))("playwright-core");
const executablePath = process.env.CITYSENSE_CHROMIUM || "/usr/bin/chromium";

let browser = null;
let page = null;
let answer = "";
const log = { console_errors: [], page_errors: [], requests: [], failed: [] };

async function run(cmd) {
  switch (cmd.op) {
    case "open": {
      browser ??= await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
      const context = await browser.newContext({ viewport: { width: cmd.width || 1600, height: cmd.height || 900 },
                                                 locale: "vi-VN", timezoneId: "Asia/Ho_Chi_Minh" });
      page = await context.newPage();
      page.on("console", (m) => { if (m.type() === "error") log.console_errors.push(m.text()); });
      page.on("pageerror", (e) => log.page_errors.push(String(e)));
      page.on("request", (r) => log.requests.push(r.url()));
      page.on("requestfailed", (r) => log.failed.push(`${r.url()} ${r.failure()?.errorText}`));
      page.on("dialog", (d) => d.accept(answer));
      await page.goto(cmd.url, { waitUntil: "load" });
      return true;
    }
    case "eval": return page.evaluate(cmd.js);
    case "wait": { // polled with evaluate (waitForFunction's eval is refused by the page's CSP)
      const deadline = Date.now() + (cmd.timeout_ms ?? 10000);
      let value;
      while (!(value = await page.evaluate(cmd.js).catch((e) => { throw e; }))) {
        if (Date.now() > deadline) throw new Error(`still false after ${cmd.timeout_ms ?? 10000} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return value;
    }
    case "click": await page.click(cmd.selector, { timeout: cmd.timeout_ms ?? 10000 }); return true;
    case "dialogs": answer = cmd.answer; return true;
    case "screenshot": await page.screenshot({ path: cmd.path, fullPage: Boolean(cmd.full) }); return cmd.path;
    case "log": return log;
    case "close": if (browser) await browser.close(); browser = null; return true;
    default: throw new Error(`unknown op ${cmd.op}`);
  }
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  let reply;
  try {
    reply = { ok: true, value: (await run(JSON.parse(line))) ?? null };
  } catch (e) {
    reply = { ok: false, error: String(e && e.message ? e.message : e).split("\n").slice(0, 8).join("\n") };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
}
if (browser) await browser.close();
