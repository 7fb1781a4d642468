import { defineConfig } from "vitest/config";

// End-to-end tests: plain Node. Each test file starts its own provider simulator
// (test/simulator) and its own `wrangler dev` session of the worker on free ports
// (./harness.ts), so the files may run side by side: the flow file spends most of its time
// waiting out the worker's 30 s poll interval while the load file works.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    // Console lines show for a failing test only.
    silent: "passed-only",
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 90_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
