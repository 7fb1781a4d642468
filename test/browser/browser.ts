// Finds and starts a headless Chromium for the browser tests, and saves screenshots as test
// artifacts.
//
// Which browser, first match wins:
//   1. CHROMIUM_PATH, when set and not empty (it must be an executable file: no fallback then).
//   2. A system Chromium or Chrome (Debian's `chromium`, Google Chrome, ... on PATH or in its usual
//      place), unless SKIP_SYSTEM_CHROMIUM=1.
//   3. The Chromium that the devDependency @sparticuz/chromium carries inside its npm package
//      (Linux x64): unpacked once to <tmpdir>/wav-edge-chromium-<version>-<uid>/ and reused.
// Before it starts, a missing shared library is named with the apt command that adds it.

import { execFileSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { REPO_ROOT } from "../e2e/harness.ts";

export const ARTIFACTS = join(REPO_ROOT, "test/browser/artifacts");

/** Where a system Chromium or Chrome usually is, besides the names looked up on PATH. */
export const SYSTEM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome-stable", "/usr/bin/google-chrome", "/opt/google/chrome/chrome"];
const SYSTEM_NAMES = ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome"];

export type BrowserSource = "CHROMIUM_PATH" | "system" | "bundled";

export interface FoundBrowser {
  path: string;
  source: BrowserSource;
}

/** A regular, non-empty file we may execute (not /dev/null bound over a path, not a directory). */
export function isExecutableFile(path: string): boolean {
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size === 0) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first system Chromium/Chrome: the usual paths, then the usual names on PATH. */
export function systemChromium(paths: readonly string[] = SYSTEM_PATHS, pathEnv: string = process.env.PATH ?? ""): string | undefined {
  const onPath = pathEnv
    .split(delimiter)
    .filter((d) => d !== "")
    .flatMap((d) => SYSTEM_NAMES.map((n) => join(d, n)));
  return [...paths, ...onPath].find(isExecutableFile);
}

/**
 * Steps 1 and 2 of the order above; undefined means "use the bundled one". Throws when
 * CHROMIUM_PATH names something that cannot be run: a wrong setting is said, not skipped.
 */
export function pickChromium(env: NodeJS.ProcessEnv = process.env, system: () => string | undefined = systemChromium): FoundBrowser | undefined {
  const configured = env.CHROMIUM_PATH;
  if (configured !== undefined && configured !== "") {
    if (!isExecutableFile(configured)) throw new Error(`CHROMIUM_PATH=${configured} is not an executable file. Point it at a Chromium or Chrome binary, or unset it to use the system browser or the bundled one.`);
    return { path: configured, source: "CHROMIUM_PATH" };
  }
  if (env.SKIP_SYSTEM_CHROMIUM !== "1") {
    const found = system();
    if (found !== undefined) return { path: found, source: "system" };
  }
  return undefined;
}

/** The Debian package of each shared library the bundled Chromium links (ldd lists them). */
const DEBIAN_PACKAGE_OF: Record<string, string> = {
  "libnss3.so": "libnss3",
  "libnssutil3.so": "libnss3",
  "libsmime3.so": "libnss3",
  "libnspr4.so": "libnspr4",
  "libplc4.so": "libnspr4",
  "libplds4.so": "libnspr4",
  "libexpat.so.1": "libexpat1",
};

/** The libraries `ldd` output says are "not found". */
export function missingLibraries(lddOutput: string): string[] {
  return [...lddOutput.matchAll(/^\s*(\S+)\s+=>\s+not found\s*$/gm)].map((m) => m[1]!);
}

/** What to tell a person whose machine lacks `libs` for the browser at `path`. */
export function missingLibrariesMessage(path: string, libs: readonly string[]): string {
  const packages = [...new Set(libs.map((l) => DEBIAN_PACKAGE_OF[l]))];
  const known = packages.every((p) => p !== undefined);
  const fix = known
    ? `Add ${libs.length === 1 ? "it" : "them"} with: apt-get install -y ${packages.join(" ")}`
    : `Install the package${libs.length === 1 ? "" : "s"} that provide${libs.length === 1 ? "s" : ""} ${libs.join(", ")} (Debian: apt-file search <name>)${packages.some((p) => p !== undefined) ? `; apt-get install -y ${packages.filter((p) => p !== undefined).join(" ")} covers part of it` : ""}.`;
  return `The browser ${path} cannot start: shared librar${libs.length === 1 ? "y" : "ies"} not found: ${libs.join(", ")}. ${fix}`;
}

/** Throws, naming the libraries and the apt command, when `ldd` says some are missing. */
export function checkSharedLibraries(path: string): void {
  let out: string;
  try {
    out = execFileSync("ldd", [path], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    // Not a dynamic executable (a wrapper script, say) or no ldd: nothing to check here; a
    // failing start still says what went wrong.
    out = String((err as { stdout?: unknown }).stdout ?? "");
  }
  const libs = missingLibraries(out);
  if (libs.length > 0) throw new Error(missingLibrariesMessage(path, libs));
}

/** The installed @sparticuz/chromium's version (its exports do not include package.json). */
export function bundledVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve("@sparticuz/chromium"));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      const { name, version } = JSON.parse(readFileSync(pkg, "utf8")) as { name?: string; version: string };
      if (name === "@sparticuz/chromium") return version;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("@sparticuz/chromium's package.json not found");
    dir = up;
  }
}

/** The bundled Chromium, unpacked (once per version and user) to a directory of its own. */
export async function bundledChromium(): Promise<{ path: string; fontconfig: string }> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`No Chromium found: @sparticuz/chromium ships one for Linux x64 only, this is ${process.platform}-${process.arch}. Install Chromium or Chrome, or set CHROMIUM_PATH.`);
  }
  const version = bundledVersion();
  const base = tmpdir();
  const dir = join(base, `wav-edge-chromium-${version}-${process.getuid?.() ?? 0}`);
  const exe = join(dir, "chromium");
  const fontconfig = join(dir, "fonts.conf");
  if (existsSync(fontconfig) && isExecutableFile(exe)) return { path: exe, fontconfig };

  // Unpack into a staging directory, then rename it into place: a test run that starts while
  // another one unpacks never sees half a binary. The package unpacks to os.tmpdir(), which
  // reads TMPDIR when called: executablePath() computes all its targets before its first await.
  const staging = mkdtempSync(join(base, `wav-edge-chromium-${version}-staging-`));
  try {
    const { default: Chromium } = await import("@sparticuz/chromium");
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = staging;
    let unpacking: Promise<string>;
    try {
      unpacking = Chromium.executablePath();
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    const unpacked = await unpacking;
    if (unpacked !== join(staging, "chromium")) throw new Error(`@sparticuz/chromium unpacked to ${unpacked}, not into ${staging}`);
    // Its own fonts.conf names fixed Lambda paths; this one adds its fonts to the system's.
    writeFileSync(
      join(staging, "fonts.conf"),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
        `  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n` +
        `  <dir>${dir}/fonts</dir>\n  <cachedir>${dir}/fonts-cache</cachedir>\n</fontconfig>\n`,
    );
    try {
      renameSync(staging, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      // Another run got there first.
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  if (!isExecutableFile(exe)) throw new Error(`unpacking @sparticuz/chromium did not leave ${exe}`);
  return { path: exe, fontconfig };
}

export interface LaunchPlan extends FoundBrowser {
  args: string[];
  headless: true | "shell";
  env: NodeJS.ProcessEnv;
}

/** Which browser, with which flags; the same rules for every test file. */
export async function launchPlan(env: NodeJS.ProcessEnv = process.env): Promise<LaunchPlan> {
  const args = [
    // Root (CI containers) cannot use Chromium's sandbox, and the bundled build has no sandbox
    // helper; /dev/shm is often tiny in containers.
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--mute-audio",
    // The machine's network is closed: nothing in the background may try to reach out.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-domain-reliability",
    "--no-pings",
  ];
  const picked = pickChromium(env);
  if (picked) return { ...picked, args, headless: true, env };
  const bundled = await bundledChromium();
  return {
    path: bundled.path,
    source: "bundled",
    // Its build is a headless shell (what the package's own flags ask for); fewer processes.
    headless: "shell",
    args: [...args, "--no-zygote", "--in-process-gpu"],
    env: { ...env, FONTCONFIG_FILE: bundled.fontconfig },
  };
}

export async function launch(): Promise<Browser> {
  const plan = await launchPlan();
  checkSharedLibraries(plan.path);
  let browser: Browser;
  try {
    browser = await puppeteer.launch({ executablePath: plan.path, headless: plan.headless, args: plan.args, env: plan.env });
  } catch (err) {
    throw new Error(`Starting the ${plan.source} browser ${plan.path} failed: ${(err as Error).message}`, { cause: err });
  }
  // Which browser this run used, for whoever looks at the artifacts (nothing on the console).
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, "browser.json"), `${JSON.stringify({ source: plan.source, path: plan.path, version: await browser.version() }, null, 2)}\n`);
  return browser;
}

export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: opts.fullPage ?? true });
  return path;
}
