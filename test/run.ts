// `npm test`: runs the three suites one after another, each to its end whatever the others did,
// then prints the totals; exits non-zero when any test or suite failed.
//
//   node test/run.ts                 all three: worker, e2e, browser
//   node test/run.ts worker browser  only those
//
// Each suite is a `vitest run` of its own config with ./quiet-reporter.ts: a green suite prints
// one line; a failing test is printed with its error and its console output.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { SuiteCounts } from "./quiet-reporter.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export const SUITES = [
  { name: "worker", config: "test/vitest.config.ts" },
  { name: "e2e", config: "test/e2e/vitest.config.ts" },
  { name: "browser", config: "test/browser/vitest.config.ts" },
] as const;

export interface SuiteResult extends SuiteCounts {
  name: string;
  exitCode: number | null;
  seconds: number;
}

/**
 * Failed tests, plus each file that failed without a failed test (a hook or an import threw) and
 * each error outside tests; a suite that exited non-zero with none of these (a crash) counts one.
 */
export function failures(r: SuiteResult): number {
  const n = r.failed + r.failedFiles + r.errors;
  return n === 0 && r.exitCode !== 0 ? 1 : n;
}

/** The closing line: the sums over the suites. */
export function totalsLine(results: readonly SuiteResult[]): string {
  const sum = (f: (r: SuiteResult) => number) => results.reduce((n, r) => n + f(r), 0);
  return `total: ${sum((r) => r.passed)} passed, ${sum(failures)} failed, ${sum((r) => r.skipped)} skipped`;
}

export function suiteLine(r: SuiteResult): string {
  const why: string[] = [];
  if (r.failedFiles > 0) why.push(`${r.failedFiles} file${r.failedFiles === 1 ? "" : "s"} failed`);
  if (r.errors > 0) why.push(`${r.errors} error${r.errors === 1 ? "" : "s"} outside tests`);
  if (r.exitCode !== 0) why.push(`vitest exited ${r.exitCode}${r.files === 0 ? " without results" : ""}`);
  const mark = failures(r) === 0 ? "✓" : "✗";
  return `${mark} ${r.name} suite — ${r.passed} passed · ${r.failed} failed · ${r.skipped} skipped · ${r.files} files · ${Math.round(r.seconds)} s${why.length ? ` (${why.join("; ")})` : ""}`;
}

const vitestBin = (() => {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve("vitest/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { bin: Record<string, string> };
  return join(dirname(pkgPath), pkg.bin.vitest!);
})();

async function runSuite(name: string, config: string, extraArgs: string[]): Promise<SuiteResult> {
  const dir = mkdtempSync(join(tmpdir(), `wav-edge-test-${name}-`));
  const countsFile = join(dir, "counts.json");
  const started = performance.now();
  try {
    const child = spawn(process.execPath, [vitestBin, "run", "--config", config, "--reporter", join(ROOT, "test/quiet-reporter.ts"), ...extraArgs], {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, VITEST_COUNTS_FILE: countsFile },
    });
    const exitCode = await new Promise<number | null>((done, fail) => {
      child.once("error", fail);
      child.once("exit", (code) => done(code));
    });
    let counts: SuiteCounts = { passed: 0, failed: 0, skipped: 0, files: 0, failedFiles: 0, errors: 0 };
    try {
      counts = JSON.parse(readFileSync(countsFile, "utf8")) as SuiteCounts;
    } catch {
      // vitest ended before its reporter wrote the counts: counted as a failure (exitCode)
    }
    return { name, ...counts, exitCode: exitCode ?? 1, seconds: (performance.now() - started) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const names = argv.filter((a) => !a.startsWith("-"));
  const extra = argv.filter((a) => a.startsWith("-"));
  const unknown = names.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(`unknown suite ${unknown.join(", ")}; the suites are ${SUITES.map((s) => s.name).join(", ")}`);
    return 2;
  }
  const chosen = names.length === 0 ? SUITES : SUITES.filter((s) => names.includes(s.name));
  const results: SuiteResult[] = [];
  for (const s of chosen) {
    const r = await runSuite(s.name, s.config, extra);
    results.push(r);
    console.log(suiteLine(r));
  }
  console.log(totalsLine(results));
  const failed = results.some((r) => failures(r) > 0);
  const ranNothing = results.reduce((n, r) => n + r.passed, 0) === 0;
  return failed || ranNothing ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
