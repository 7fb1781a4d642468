// The HTTP surface (README, "Routes"): callbacks in, the JSON API (./api.ts) and downloads out,
// and the dashboard for a person (./dashboard/routes.tsx).

import { Hono } from "hono";
import { api } from "./api";
import { dashboard } from "./dashboard/routes";
import { ConfigError, readConfig } from "./config";
import { apiError, errorBody, onError } from "./http/errors";
import type { AppEnv } from "./http/types";
import { allowedMethods } from "./middleware/allowed-methods";
import { requestLog } from "./middleware/request-log";
import { callbacks } from "./routes/callbacks";
import { openApiDocument } from "./openapi/document";
import { reference } from "./openapi/reference";
import { docs } from "./openapi/routes";

export const app: Hono<AppEnv> = new Hono<AppEnv>();

app
  .use(requestLog()) // first, so every answer (errors and 404s included) gets its line
  // 405 with Allow from the routes this app itself serves (read when the first request comes).
  .use(allowedMethods(() => app.routes))
  // Unusable settings make it 503 without naming them (the settings page does, behind sign-in).
  .get("/healthz", docs.healthz, (c) => {
    try {
      readConfig(c.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return c.json(errorBody("misconfigured", "A setting of this deployment cannot be used; the dashboard's settings page says which."), 503);
    }
    return c.json({ ok: true });
  })
  // The API described (README, "API description"): public, it holds no secret.
  .get("/openapi.json", docs.openapi, async (c) => c.json(await openApiDocument(app as never, c.env, c.req.url), 200, { "cache-control": "public, max-age=300" }))
  .route("/", reference)
  .route("/callbacks", callbacks)
  .route("/", api)
  .route("/", dashboard)
  .notFound(() => {
    throw apiError(404, "not_found", "No such route; see README.md for the routes this worker serves.");
  })
  .onError(onError);
