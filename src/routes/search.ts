// GET /api/search?q=: find tasks by what a person has at hand (README, "Dashboard" → "Find a
// task"): a task id, a track id (the audioId a task was registered with, or a music task's track)
// or a music task id (that a task was registered for). Every shard answers from its indexes
// (../shard/search.ts). Not under /api/tasks/: there "search" would hide a task of that id.

import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/types";
import { apiAuth } from "../middleware/api-auth";
import { docs } from "../openapi/routes";
import { validQuery } from "../openapi/validate";
import { searchTasks } from "../shard/search";

export const SearchQuery = z.object({
  q: z.string().trim().min(1, "say what to look for: a task id, a track id or a music task id").max(256),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const search = new Hono<AppEnv>().use("*", apiAuth()).get("/", docs.search, validQuery(SearchQuery), async (c) => {
  const { q, limit } = c.req.valid("query");
  const found = await searchTasks(c.env, q, limit);
  return c.json({ query: q, results: found.hits.map((h) => ({ task: h.task, matched: h.matched })), more: found.more });
});
