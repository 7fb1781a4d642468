// Every worker test file runs with test/helpers/fake-net.ts (setupFiles in test/vitest.config.ts),
// whether it imports it or not: no test, and no Worker or Durable Object code a test sets off,
// reaches a real host. This file imports nothing from fake-net on purpose. (A test file without
// it once made the Worker announce a task to the real https://app.test: a DNS lookup that failed
// and that workerd printed as an uncaught exception.)
import { expect, it } from "vitest";

it("a fetch to a host no test answers for is refused by fake-net, not looked up", async () => {
  await expect(fetch("https://unrouted.test/x.wav")).rejects.toThrow("fake-net: no route for GET https://unrouted.test/x.wav");
});

it("announcements reach the fake app (NOTIFY_URL) in a file that never imports fake-net", async () => {
  const res = await fetch("https://app.test/hooks/wav", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  expect(res.status).toBe(204);
});
