// The JSON API (README, "Routes"): tasks, their files and history, downloads and stats, behind the
// bearer API_TOKEN. Its own Hono app, so the dashboard can call it in-process (../dashboard/api.ts)
// without passing through the root's middleware again; app.ts mounts it beside the callbacks.

import { Hono } from "hono";
import { apiError, onError } from "./http/errors";
import type { AppEnv } from "./http/types";
import { charts } from "./routes/charts";
import { search } from "./routes/search";
import { stats } from "./routes/stats";
import { tasks } from "./routes/tasks";

export const api = new Hono<AppEnv>()
  .basePath("/api")
  .route("/tasks", tasks)
  .route("/stats/charts", charts)
  .route("/stats", stats)
  .route("/search", search)
  .notFound(() => {
    throw apiError(404, "not_found", "No such route; see README.md for the routes this worker serves.");
  })
  .onError(onError);
