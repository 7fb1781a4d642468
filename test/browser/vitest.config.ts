import { defineConfig } from "vitest/config";

// Browser tests: a real headless Chromium (Debian's `chromium`, driven by puppeteer-core)
// against the worker under `wrangler dev` and the provider simulator, one file at a time.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    // Console lines show for a failing test only.
    silent: "passed-only",
    pool: "forks",
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
  },
});
