// Cross-site protection for every state-changing dashboard request, two independent checks:
// the browser must say the POST is same-origin (Hono's csrf: Sec-Fetch-Site or Origin), and the
// form must carry the session's CSRF token. SameSite=Strict on the cookie is a third layer.

import { createMiddleware } from "hono/factory";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { timingSafeEqual } from "hono/utils/buffer";
import type { DashEnv } from "./env";

export const CSRF_FIELD = "csrf";

/** Origin / Sec-Fetch-Site must name this very origin. */
export const sameOrigin = csrf();

/** The form's hidden CSRF field must equal the session's token (run after requireSession). */
export const formToken = createMiddleware<DashEnv>(async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  const form = /^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type) ? await c.req.parseBody() : {};
  const given = form[CSRF_FIELD];
  const ok = typeof given === "string" && given !== "" && (await timingSafeEqual(given, c.get("session").csrf));
  if (!ok) throw new HTTPException(403, { message: "This form has expired or did not come from this dashboard; reload the page and try again." });
  await next();
});
