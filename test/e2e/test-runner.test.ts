// npm test's reporter (test/quiet-reporter.ts) and runner (test/run.ts): a green suite prints
// nothing and still counts; a failing test is shown with its error and its own console output;
// the totals line sums the suites and counts a suite that failed outside its tests.
// The suites run here are fixtures (test/e2e/fixtures/quiet/*.fixture.ts).

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SuiteCounts } from "../quiet-reporter.ts";
import { failures, suiteLine, totalsLine, type SuiteResult } from "../run.ts";
import { REPO_ROOT } from "./harness.ts";

const VITEST = (() => {
  const pkgPath = createRequire(import.meta.url).resolve("vitest/package.json");
  return join(dirname(pkgPath), (JSON.parse(readFileSync(pkgPath, "utf8")) as { bin: { vitest: string } }).bin.vitest);
})();

function runFixture(fixture: string): { status: number | null; out: string; counts: SuiteCounts } {
  const dir = mkdtempSync(join(tmpdir(), "wav-edge-quiet-"));
  try {
    const countsFile = join(dir, "counts.json");
    const r = spawnSync(
      process.execPath,
      [VITEST, "run", "--config", "test/e2e/fixtures/quiet/vitest.config.ts", "--reporter", join(REPO_ROOT, "test/quiet-reporter.ts")],
      { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, FIXTURE: fixture, VITEST_COUNTS_FILE: countsFile, NO_COLOR: "1", FORCE_COLOR: "0" }, timeout: 60_000 },
    );
    return { status: r.status, out: `${r.stdout}${r.stderr}`, counts: JSON.parse(readFileSync(countsFile, "utf8")) as SuiteCounts };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("quiet reporter", () => {
  it("a green suite prints nothing, and hands over its counts", () => {
    const r = runFixture("green");
    expect(r.status).toBe(0);
    expect(r.out.trim()).toBe("");
    expect(r.counts).toEqual({ passed: 1, failed: 0, skipped: 1, files: 1, failedFiles: 0, errors: 0 });
  });

  it("a failing test is shown with its error and its own console output; a passing one's output is not", () => {
    const r = runFixture("red");
    expect(r.status).toBe(1);
    expect(r.out).toContain("fails and talks");
    expect(r.out).toContain("expected 2 to be 3");
    expect(r.out).toContain("the log of a failing test");
    expect(r.out).not.toContain("chatter from a passing test");
    expect(r.counts).toEqual({ passed: 1, failed: 1, skipped: 0, files: 1, failedFiles: 0, errors: 0 });
  });
});

describe("npm test's totals", () => {
  const suite = (over: Partial<SuiteResult>): SuiteResult => ({ name: "x", passed: 0, failed: 0, skipped: 0, files: 1, failedFiles: 0, errors: 0, exitCode: 0, seconds: 1, ...over });

  it("sums the suites into one plain closing line", () => {
    const results = [suite({ name: "worker", passed: 380, skipped: 2 }), suite({ name: "e2e", passed: 30, failed: 1, exitCode: 1 }), suite({ name: "browser", passed: 22 })];
    expect(totalsLine(results)).toBe("total: 432 passed, 1 failed, 2 skipped");
    expect(suiteLine(results[0]!)).toMatch(/^✓ worker suite — 380 passed · 0 failed · 2 skipped/);
    expect(suiteLine(results[1]!)).toMatch(/^✗ e2e suite — 30 passed · 1 failed/);
  });

  it("a suite that failed outside its tests counts as failed", () => {
    expect(failures(suite({ failedFiles: 1, exitCode: 1 }))).toBe(1); // a beforeAll threw
    expect(failures(suite({ errors: 2, exitCode: 1 }))).toBe(2); // unhandled errors
    expect(failures(suite({ files: 0, exitCode: 1 }))).toBe(1); // vitest crashed: no counts
    expect(failures(suite({ failed: 1, failedFiles: 1, exitCode: 1 }))).toBe(2);
    expect(failures(suite({ passed: 5 }))).toBe(0);
    expect(suiteLine(suite({ name: "e2e", files: 0, exitCode: 1 }))).toContain("vitest exited 1 without results");
  });
});
