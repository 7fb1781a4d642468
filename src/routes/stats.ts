// /api/stats: how many tasks are in each state, for the dashboard's overview. Each shard counts
// its own rows (../shard/list.ts); the sum is exact because a task lives in exactly one shard.

import { Hono } from "hono";
import type { AppEnv } from "../http/types";
import { apiAuth } from "../middleware/api-auth";
import { countTasks } from "../shard/list";
import { docs } from "../openapi/routes";

export const stats = new Hono<AppEnv>().use("*", apiAuth()).get("/", docs.stats, async (c) => c.json({ counts: await countTasks(c.env) }));
