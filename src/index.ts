// The Worker's entry points: HTTP (./app.ts), the Cron Trigger (./cron/tick.ts), and the two
// Durable Object classes wrangler.toml binds.

import { app } from "./app";
import { runTick } from "./cron/tick";

export { TaskObject } from "./task/object";
export { TaskIndexShard } from "./task-index/shard";

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    const report = await runTick(env, controller.scheduledTime);
    console.log(JSON.stringify({ event: "cron_tick", ...report }));
  },
} satisfies ExportedHandler<Env>;
