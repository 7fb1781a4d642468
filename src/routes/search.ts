// GET /api/search?q=: find tasks by what a person has at hand (README, "Dashboard" → "Find a
// task"): a task id, a track id (the audioId a task was registered with, or a music task's track)
// or a music task id (that a task was registered for). Every shard answers from its indexes
// (../shard/search.ts). Not under /api/tasks/: there "search" would hide a task of that id.

import { Hono } from "hono";
import { z } from "zod";
import { apiError } from "../http/errors";
import type { AppEnv } from "../http/types";
import { KIND_NAMES } from "../kinds/kind";
import { firstIssue } from "../lib/issues";
import { apiAuth } from "../middleware/api-auth";
import { searchTasks } from "../shard/search";
import { TASK_STATES } from "../task/machine";

export const SEARCH_FIELDS = ["taskId", "audioId", "track", "musicTaskId"] as const;

export const SearchQuery = z.object({
  q: z.string().trim().min(1, "say what to look for: a task id, a track id or a music task id").max(256),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** What GET /api/search answers. */
export const SearchAnswer = z.object({
  query: z.string(),
  results: z
    .array(
      z.object({
        task: z
          .looseObject({ taskId: z.string(), kind: z.enum(KIND_NAMES), state: z.enum(TASK_STATES), createdAt: z.iso.datetime() })
          .describe("the task, as GET /api/tasks/:taskId answers it"),
        matched: z
          .array(z.enum(SEARCH_FIELDS))
          .min(1)
          .describe("how q matched: the task's id, the audioId it was registered with, a track of this music task, the music task it was registered for"),
      }),
    )
    .describe("newest first"),
  more: z.boolean().describe("more tasks match than `limit`"),
});

export const search = new Hono<AppEnv>().use("*", apiAuth()).get("/", async (c) => {
  const parsed = SearchQuery.safeParse(c.req.query());
  if (!parsed.success) throw apiError(400, "invalid_query", firstIssue(parsed.error));
  const { q, limit } = parsed.data;
  const found = await searchTasks(c.env, q, limit);
  return c.json({ query: q, results: found.hits.map((h) => ({ task: h.task, matched: h.matched })), more: found.more });
});
