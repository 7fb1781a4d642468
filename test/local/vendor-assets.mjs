// Copies the API reference page's script (Scalar's standalone browser bundle, from the
// @scalar/api-reference package that package-lock.json pins) into public/, the Workers static
// assets directory wrangler.toml names. Runs after every `npm install` / `npm ci` (postinstall),
// so wrangler dev, the tests and deploys serve it from the worker itself — never from a CDN
// (README, "API description"). public/ is generated: not committed.

import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const pkgDir = join(root, "node_modules", "@scalar", "api-reference");
const version = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")).version;
const out = join(root, "public", "api-reference");
mkdirSync(out, { recursive: true });
copyFileSync(join(pkgDir, "dist", "browser", "standalone.js"), join(out, "scalar.js"));
console.log(`public/api-reference/scalar.js: @scalar/api-reference ${version}`);
