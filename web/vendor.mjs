// Copies the dashboard's browser libraries from node_modules (installed by `npm ci` from the
// lock file) into api/web/vendor, where they are committed so that a checkout, a wheel and
// `make demo` need no network. Run after changing a version in package.json:
//   cd web && npm install && node vendor.mjs
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "api", "web", "vendor");
const files = {
  "leaflet/dist/leaflet.js": "leaflet/leaflet.js",
  "leaflet/dist/leaflet.css": "leaflet/leaflet.css",
  "leaflet/LICENSE": "leaflet/LICENSE",
  "uplot/dist/uPlot.iife.min.js": "uplot/uPlot.iife.min.js",
  "uplot/dist/uPlot.min.css": "uplot/uPlot.min.css",
  "uplot/LICENSE": "uplot/LICENSE",
  "@fontsource/be-vietnam-pro/LICENSE": "fonts/LICENSE",
};
for (const subset of ["latin", "latin-ext", "vietnamese"]) {
  for (const weight of [400, 700]) {
    const name = `be-vietnam-pro-${subset}-${weight}-normal.woff2`;
    files[`@fontsource/be-vietnam-pro/files/${name}`] = `fonts/${name}`;
  }
}
rmSync(out, { recursive: true, force: true });
const versions = {};
for (const [from, to] of Object.entries(files)) {
  mkdirSync(dirname(join(out, to)), { recursive: true });
  copyFileSync(join(here, "node_modules", from), join(out, to));
  const pkg = from.startsWith("@") ? from.split("/").slice(0, 2).join("/") : from.split("/")[0];
  versions[pkg] = JSON.parse(readFileSync(join(here, "node_modules", pkg, "package.json"))).version;
}
writeFileSync(join(out, "VERSIONS.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`vendored ${Object.keys(files).length} files into ${out}:`, versions);

// The font's @font-face rules (400 and 700; latin, latin-ext, vietnamese subsets), woff2 only.
const faces = ["index.css", "700.css"]
  .map((f) => readFileSync(join(here, "node_modules/@fontsource/be-vietnam-pro", f), "utf8"))
  .join("\n")
  .replace(/,\s*url\([^)]*\.woff\) format\('woff'\)/g, "")
  .replace(/url\(\.\/files\//g, "url(./");
const kept = faces.split("}").filter((rule) => /(latin|latin-ext|vietnamese)-(400|700)-normal\.woff2/.test(rule)
  && !/-(cyrillic|greek)/.test(rule));
writeFileSync(join(out, "fonts", "fonts.css"), kept.map((r) => r.trim() + "\n}").join("\n\n") + "\n");
