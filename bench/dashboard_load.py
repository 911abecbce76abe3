"""The dashboard's weight and load time in the real browser (Debian's Chromium through
tests/browser/driver.mjs), against a running API — the demo's, say (not a test; figures in
docs/dashboard.md):

    .venv/bin/python -m bench.dashboard_load --url http://127.0.0.1:19104 --key cs_… --runs 5

Each run is a fresh browser context (a cold cache): the time from navigation to the map drawn and
coloured with the ranking and alerts loaded (the page's `data-ready`), beside the floor of the same
browser loading a tiny JSON document of the same server (navigation to its load event); the bytes the page fetched (compressed as
sent), per kind: the page's own files, the vendored libraries and fonts, the API's answers."""

from __future__ import annotations

import argparse
import statistics

from tests.integration.browser import Browser

WEIGHT = """(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const kinds = {own: 0, vendor: 0, api: 0};
  for (const e of [nav, ...performance.getEntriesByType('resource')]) {
    const path = new URL(e.name).pathname;
    const kind = path.startsWith('/static/vendor/') ? 'vendor' : path.startsWith('/api/') ? 'api' : 'own';
    kinds[kind] += e.transferSize || e.encodedBodySize || 0;
  }
  return {kinds, requests: performance.getEntriesByType('resource').length + 1,
          ready_ms: Number(document.body.dataset.readyAt) - nav.startTime};
})()"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:19104")
    ap.add_argument("--key", required=True)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    browser = Browser()
    try:
        ready, floor, weights = [], [], []
        for _ in range(args.runs):
            browser.open(f"{args.url}/dashboard/config.json")
            floor.append(browser.eval("performance.getEntriesByType('navigation')[0].loadEventEnd"))
            browser.open(f"{args.url}/#key={args.key}")
            browser.wait("document.body.dataset.ready === 'true'", 60)
            w = browser.eval(WEIGHT)
            ready.append(w["ready_ms"])
            weights.append(w)
        kinds = weights[-1]["kinds"]
        total = sum(kinds.values())
        print(f"dashboard ready (map coloured, ranking and alerts loaded), cold cache, {args.runs} runs: "
              f"p50 {statistics.median(ready):.0f} ms, max {max(ready):.0f} ms; floor (a JSON document of the "
              f"same server in the same browser) p50 {statistics.median(floor):.0f} ms")
        print(f"bytes fetched: {total / 1024:.0f} KiB in {weights[-1]['requests']} requests — page's own files "
              f"{kinds['own'] / 1024:.0f} KiB, vendored libraries and fonts {kinds['vendor'] / 1024:.0f} KiB, "
              f"API answers {kinds['api'] / 1024:.0f} KiB")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
