import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { quietViteLogger } from "./helpers/vite-logger.ts";

// Worker tests run inside workerd with the real Durable Object and R2 bindings from
// wrangler.toml. Only the settings a test needs differ from the defaults; outbound fetches to
// the provider and WAV hosts are answered by test/helpers/fake-net.ts.
export default defineConfig({
  plugins: [
    quietViteLogger(),
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          API_TOKEN: "test-api-token",
          WEBHOOK_HMAC_KEY: "test-hmac-key",
          CALLBACK_TOKEN: "",
          SUNO_API_KEY: "test-suno-key",
          SUNO_API_BASE: "https://provider.test",
          PUBLIC_URL: "https://edge.test",
          WAV_SOURCE_HOSTS: "",
          SOURCE_IDLE_TIMEOUT_SECONDS: "1",
          // Spelled out so a developer's .dev.vars (which the plugin also reads) cannot change them.
          OVERDUE_AFTER_SECONDS: "300",
          TASK_MAX_AGE_SECONDS: "86400",
          // Small enough that a test can stream past it.
          MAX_WAV_BYTES: String(32 * 1024 * 1024),
          MAX_FILE_BYTES: String(32 * 1024 * 1024),
          ALLOW_UNVERIFIED_CALLBACKS: "false",
          PROVIDER_RETENTION_SECONDS: "1123200",
          // Announcements off unless a test turns them on.
          // Announcements go to the fake app in test/helpers/fake-net.ts (NOTIFY_URL there).
          NOTIFY_URL: "https://app.test/hooks/wav",
          NOTIFY_SECRET: "whsec_dGVzdC1ub3RpZnktc2VjcmV0LTMyLWJ5dGVzLWxvbmchIQ==",
        },
      },
    }),
  ],
  test: {
    include: ["test/worker/**/*.test.ts"],
    globalSetup: ["test/helpers/expected-runtime-noise.ts"],
    // Every test file answers outbound fetches with fake-net, whether it imports it or not: no
    // test reaches a real host (or even looks one up).
    setupFiles: ["test/helpers/fake-net.ts"],
    // The worker's console lines show for a failing test only.
    silent: "passed-only",
    testTimeout: 30_000,
    // Vitest's default (one fewer than the cores) is one file at a time on a 2-core machine; each
    // file's workerd waits on timers and sockets much of the time, so two at once take ~30% less.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
