// /api/stats: how many tasks are in each state, for the dashboard's overview. Each index shard
// counts its own rows; the sum is exact because a task lives in exactly one shard.

import { Hono } from "hono";
import type { AppEnv } from "../http/types";
import { apiAuth } from "../middleware/api-auth";
import { TASK_STATES, type TaskState } from "../task/machine";
import { INDEX_SHARDS, indexShard } from "../task-index/shards";

export type StateCounts = Record<TaskState, number>;

export async function countTasks(env: Env): Promise<StateCounts> {
  const perShard = await Promise.all(Array.from({ length: INDEX_SHARDS }, (_, n) => indexShard(env, n).counts()));
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as StateCounts;
  for (const shard of perShard) {
    for (const state of TASK_STATES) counts[state] += shard[state] ?? 0;
  }
  return counts;
}

export const stats = new Hono<AppEnv>().use("*", apiAuth()).get("/", async (c) => c.json({ counts: await countTasks(c.env) }));
