// GET /api/stats/charts: the overview's charts (README, "Dashboard" → "Charts"): tasks stored and
// failed per hour, time to stored per day, failures by code and announcement delivery, over the
// last 7 days — read from every shard's small counters (../shard/charts.ts), never from the tasks.
// No query: the window is fixed. The answer's schema is ChartsAnswer.

import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/types";
import { apiAuth } from "../middleware/api-auth";
import { readCharts } from "../shard/charts";

const count = z.number().int().min(0);
const isoTime = z.iso.datetime();

/** What GET /api/stats/charts answers. */
export const ChartsAnswer = z.object({
  generatedAt: isoTime,
  window: z.object({
    from: isoTime.describe("start of the first hour counted (UTC)"),
    to: isoTime.describe("end of the current hour"),
    hours: z.literal(168),
    days: z.literal(7),
  }),
  hourly: z
    .array(z.object({ hour: isoTime, stored: count, failed: count }))
    .describe("one entry per UTC hour of the last 7 days, oldest first: tasks that reached stored and failed in it"),
  totals: z.object({ stored: count, failed: count }),
  durations: z.object({
    note: z.string().describe("how the percentiles are read"),
    bucketsPerDoubling: z.number().int(),
    days: z
      .array(
        z.object({
          day: z.iso.date(),
          stored: count,
          p50Seconds: z.number().nullable(),
          p95Seconds: z.number().nullable(),
        }),
      )
      .describe("one entry per UTC day, oldest first: time from registration (createdAt) to stored, from log-scale histogram buckets; null on a day without stored tasks"),
  }),
  failures: z.array(z.object({ code: z.string(), count })).describe("tasks that reached failed in the window, by error code, most frequent first"),
  announcements: z.object({
    deliveredFirstAttempt: count,
    deliveredAfterRetries: count,
    failed: count,
  }),
});

export const charts = new Hono<AppEnv>().use("*", apiAuth()).get("/", async (c) => c.json(await readCharts(c.env, Date.now())));
