// The vitest reporter `npm test` (test/run.ts) runs each suite with: nothing for a test that
// passes, a failing test with its error and its console output (silent: "passed-only"), the
// summary only when something failed. It writes the suite's counts, taken from vitest's reported
// test cases, as JSON to the file named by VITEST_COUNTS_FILE.
//
// Only what vitest itself prints is quieted: a line that a process (workerd, wrangler) writes
// straight to the terminal still shows.

import { writeFileSync } from "node:fs";
import type { SerializedError } from "vitest";
import { MinimalReporter, type TestModule, type TestRunEndReason, type Vitest } from "vitest/node";

export interface SuiteCounts {
  passed: number;
  failed: number;
  skipped: number;
  files: number;
  /** Test files that failed with no failed test in them (a hook or an import threw). */
  failedFiles: number;
  /** Errors outside any test (unhandled rejections, say): they fail the run. */
  errors: number;
}

export function countTests(modules: readonly TestModule[], unhandledErrors: readonly unknown[]): SuiteCounts {
  const counts: SuiteCounts = { passed: 0, failed: 0, skipped: 0, files: modules.length, failedFiles: 0, errors: unhandledErrors.length };
  for (const m of modules) {
    let failedHere = 0;
    for (const test of m.children.allTests()) {
      const state = test.result().state;
      if (state === "passed") counts.passed++;
      else if (state === "failed") failedHere++;
      else counts.skipped++; // skipped, todo, or never run
    }
    counts.failed += failedHere;
    if (m.state() === "failed" && failedHere === 0) counts.failedFiles++;
  }
  return counts;
}

export default class QuietReporter extends MinimalReporter {
  override onInit(ctx: Vitest): void {
    // No " RUN  v4 /path" banner.
    const banner = ctx.logger.printBanner;
    ctx.logger.printBanner = () => {};
    try {
      super.onInit(ctx);
    } finally {
      ctx.logger.printBanner = banner;
    }
  }

  override onTestRunEnd(testModules: readonly TestModule[], unhandledErrors: readonly SerializedError[], reason: TestRunEndReason): void {
    const counts = countTests(testModules, unhandledErrors);
    const green = counts.failed === 0 && counts.failedFiles === 0 && counts.errors === 0 && reason === "passed";
    if (!green) super.onTestRunEnd(testModules, unhandledErrors, reason);
    const file = process.env.VITEST_COUNTS_FILE;
    if (file) writeFileSync(file, JSON.stringify(counts));
  }
}
