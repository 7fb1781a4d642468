// The Worker's entry points: HTTP (./app.ts), the Cron Trigger (./cron/tick.ts), and the two
// Durable Object classes wrangler.toml binds: the task shards (state) and the task runners
// (outbound work).

import { app } from "./app";
import { runTick } from "./cron/tick";

export { TaskShard } from "./shard/shard";
export { TaskRunner } from "./runner/runner";

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    const report = await runTick(env, controller.scheduledTime);
    console.log(JSON.stringify({ event: "cron_tick", ...report }));
  },
} satisfies ExportedHandler<Env>;
