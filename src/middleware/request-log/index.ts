// One log line per request, in place of the platform's invocation logs (turned off in
// wrangler.toml): those record the full URL, and the callback URL carries ?token= and download
// links carry ?sig=. This line has the path only, never the query string, headers or body.

import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../http/types";

export const requestLog = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const started = Date.now();
    let status = 500;
    try {
      await next();
      status = c.res.status;
    } finally {
      console.log(
        JSON.stringify({ event: "request", method: c.req.method, path: c.req.path, status, ms: Date.now() - started }),
      );
    }
  });
