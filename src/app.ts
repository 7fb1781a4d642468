// The HTTP surface (SPEC.md, "HTTP surface"): callbacks in, the task API and downloads out.

import { Hono } from "hono";
import { apiError, onError } from "./http/errors";
import { ROUTE_METHODS } from "./http/routes";
import type { AppEnv } from "./http/types";
import { allowedMethods } from "./middleware/allowed-methods";
import { requestLog } from "./middleware/request-log";
import { dashboard } from "./dashboard/routes";
import { callbacks } from "./routes/callbacks";
import { stats } from "./routes/stats";
import { tasks } from "./routes/tasks";

export const app = new Hono<AppEnv>()
  .use(requestLog()) // first, so every answer (errors and 404s included) gets its line
  .use("*", allowedMethods(ROUTE_METHODS))
  .get("/healthz", (c) => c.json({ ok: true }))
  .route("/callbacks", callbacks)
  .route("/api/tasks", tasks)
  .route("/api/stats", stats)
  // The dashboard for a person; its routes are listed in src/dashboard/routes.tsx.
  .route("/", dashboard)
  .notFound(() => {
    throw apiError(404, "not_found", "No such route; see README.md for the routes this worker serves.");
  })
  .onError(onError);
