// How the browser tests find their Chromium (./browser.ts): CHROMIUM_PATH, else a system one,
// else the one @sparticuz/chromium ships; and what a person is told when it cannot start.

import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PUPPETEER_REVISIONS } from "puppeteer-core/internal/revisions.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledChromium, bundledVersion, checkSharedLibraries, isExecutableFile, launchPlan, missingLibraries, missingLibrariesMessage, pickChromium, systemChromium } from "./browser.ts";

let dir: string;
let exe: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "wav-edge-browser-lookup-"));
  exe = join(dir, "chromium");
  writeFileSync(exe, "#!/bin/sh\n");
  chmodSync(exe, 0o755);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("which browser", () => {
  it("CHROMIUM_PATH wins over a system browser", () => {
    expect(pickChromium({ CHROMIUM_PATH: exe }, () => "/usr/bin/chromium")).toEqual({ path: exe, source: "CHROMIUM_PATH" });
  });

  it("a CHROMIUM_PATH that cannot run is an error that names it, not a silent fallback", () => {
    const missing = join(dir, "no-such-chromium");
    expect(() => pickChromium({ CHROMIUM_PATH: missing }, () => "/usr/bin/chromium")).toThrow(`CHROMIUM_PATH=${missing} is not an executable file`);
  });

  it("an empty CHROMIUM_PATH counts as unset", () => {
    expect(pickChromium({ CHROMIUM_PATH: "" }, () => exe)).toEqual({ path: exe, source: "system" });
    expect(pickChromium({ CHROMIUM_PATH: "" }, () => undefined)).toBeUndefined();
  });

  it("SKIP_SYSTEM_CHROMIUM=1 does not look for a system browser", () => {
    let looked = false;
    const system = () => {
      looked = true;
      return exe;
    };
    expect(pickChromium({ SKIP_SYSTEM_CHROMIUM: "1" }, system)).toBeUndefined();
    expect(looked).toBe(false);
    expect(pickChromium({ SKIP_SYSTEM_CHROMIUM: "0" }, system)).toEqual({ path: exe, source: "system" });
  });

  it("a system browser is an executable, non-empty file: /dev/null bound over its path, a directory or a plain file do not count", () => {
    const empty = join(dir, "empty");
    writeFileSync(empty, "");
    chmodSync(empty, 0o755);
    const plain = join(dir, "plain");
    writeFileSync(plain, "#!/bin/sh\n");
    chmodSync(plain, 0o644);
    expect(isExecutableFile("/dev/null")).toBe(false);
    expect(isExecutableFile(dir)).toBe(false);
    expect(isExecutableFile(empty)).toBe(false);
    expect(isExecutableFile(join(dir, "absent"))).toBe(false);
    // root may execute a file without x bits only if some x bit is set
    expect(isExecutableFile(plain)).toBe(false);
    expect(isExecutableFile(exe)).toBe(true);
    expect(systemChromium(["/dev/null", empty, plain, exe], "")).toBe(exe);
    expect(systemChromium(["/dev/null", empty], "")).toBeUndefined();
  });

  it("finds a browser by its usual name on PATH", () => {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    const chrome = join(bin, "google-chrome");
    writeFileSync(chrome, "#!/bin/sh\n");
    chmodSync(chrome, 0o755);
    expect(systemChromium([], `/nonexistent:${bin}`)).toBe(chrome);
  });

  it("with no CHROMIUM_PATH and the system lookup skipped, the bundled Chromium is used", async () => {
    const plan = await launchPlan({ PATH: process.env.PATH, SKIP_SYSTEM_CHROMIUM: "1" });
    expect(plan.source).toBe("bundled");
    expect(isExecutableFile(plan.path)).toBe(true);
    expect(plan.args).toEqual(expect.arrayContaining(["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]));
    expect(plan.env.FONTCONFIG_FILE).toMatch(/fonts\.conf$/);
    // Unpacked once: the second call finds it in place.
    expect((await bundledChromium()).path).toBe(plan.path);
  });

  it("the bundled Chromium is the major version puppeteer-core is made for", async () => {
    const { path } = await bundledChromium();
    checkSharedLibraries(path); // says which library is missing, if one is
    const printed = execFileSync(path, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    const major = /(\d+)\.\d+\.\d+\.\d+/.exec(printed)?.[1];
    const wanted = PUPPETEER_REVISIONS.chrome.split(".")[0];
    const pinned = bundledVersion();
    expect(major, `${printed} (@sparticuz/chromium ${pinned}) vs puppeteer-core's Chrome ${PUPPETEER_REVISIONS.chrome}: pin @sparticuz/chromium to ${wanted}.x`).toBe(wanted);
  });
});

describe("a missing shared library", () => {
  const LDD = [
    "\tlinux-vdso.so.1 (0x00007ffd6a5f2000)",
    "\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f0a4c3a1000)",
    "\tlibnspr4.so => not found",
    "\tlibnss3.so => not found",
    "\tlibnssutil3.so => not found",
    "\tlibexpat.so.1 => /lib/x86_64-linux-gnu/libexpat.so.1 (0x00007f0a4c36f000)",
    "\t/lib64/ld-linux-x86-64.so.2 (0x00007f0a4c3a3000)",
  ].join("\n");

  it("is read from ldd's 'not found' lines", () => {
    expect(missingLibraries(LDD)).toEqual(["libnspr4.so", "libnss3.so", "libnssutil3.so"]);
    expect(missingLibraries("\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n")).toEqual([]);
  });

  it("is named with the one apt command that adds it", () => {
    expect(missingLibrariesMessage("/tmp/chromium", ["libnspr4.so", "libnss3.so", "libnssutil3.so"])).toBe(
      "The browser /tmp/chromium cannot start: shared libraries not found: libnspr4.so, libnss3.so, libnssutil3.so. Add them with: apt-get install -y libnspr4 libnss3",
    );
    expect(missingLibrariesMessage("/tmp/chromium", ["libexpat.so.1"])).toContain("apt-get install -y libexpat1");
    expect(missingLibrariesMessage("/x", ["libfoo.so.9"])).toContain("libfoo.so.9");
  });

  it("a binary with all its libraries passes the check", () => {
    expect(() => checkSharedLibraries(process.execPath)).not.toThrow();
  });
});
