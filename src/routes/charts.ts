// GET /api/stats/charts: the overview's charts (README, "Dashboard" → "Charts"): tasks stored and
// failed per hour, time to stored per day, failures by code and announcement delivery, over the
// last 7 days — read from every shard's small counters (../shard/charts.ts), never from the tasks.
// No query: the window is fixed. The answer's schema is ChartsSchema (../openapi/schemas.ts).

import { Hono } from "hono";
import type { AppEnv } from "../http/types";
import { apiAuth } from "../middleware/api-auth";
import { docs } from "../openapi/routes";
import { readCharts } from "../shard/charts";

export const charts = new Hono<AppEnv>().use("*", apiAuth()).get("/", docs.charts, async (c) => c.json(await readCharts(c.env, Date.now())));
