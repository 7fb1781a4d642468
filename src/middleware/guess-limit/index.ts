// Limits on guessing the API token (README, "Security" → "Rate limits"): a failed sign-in or an
// /api/* request with a missing or wrong bearer token counts against its client address in the
// Workers Rate Limiting binding GUESS_LIMITER (wrangler.toml [[ratelimits]]: 10 per 60 s by
// default). Only failures are counted — a request with the right token never reaches this, so a
// backend registering thousands of tasks a minute is never limited, and neither are callbacks.

import type { Context } from "hono";
import { errorBody } from "../../http/errors";

/**
 * The binding's window, in seconds: wrangler.toml's `[ratelimits.simple] period` (10 or 60).
 * Retry-After says when the current window ends, so change both together.
 */
export const GUESS_WINDOW_SECONDS = 60;

export interface Counted {
  /** Over the limit: answer 429. */
  limited: boolean;
  /** Seconds until the current window ends (Retry-After). */
  retryAfter: number;
}

/** The address a failure counts against: CF-Connecting-IP, which Cloudflare sets on every request. */
function addressOf(c: Context): string {
  return c.req.header("cf-connecting-ip")?.trim() || "unknown";
}

/**
 * Counts one failed attempt of this request's address. Windows are counted on the wall clock
 * (as the local runtime does; Cloudflare documents only the period), so Retry-After is the time
 * to the end of the current one: at most GUESS_WINDOW_SECONDS.
 */
export async function countFailure<E extends { Bindings: Env }>(c: Context<E>): Promise<Counted> {
  const { success } = await c.env.GUESS_LIMITER.limit({ key: `guess:${addressOf(c)}` });
  const now = Math.floor(Date.now() / 1000);
  return { limited: !success, retryAfter: GUESS_WINDOW_SECONDS - (now % GUESS_WINDOW_SECONDS) };
}

/** The API's answer past the limit: the JSON error shape, 429, Retry-After. */
export function tooManyGuesses(retryAfter: number): Response {
  return Response.json(
    errorBody("rate_limited", `Too many requests without a valid API token from this address; try again in ${retryAfter} s.`),
    { status: 429, headers: { "retry-after": String(retryAfter) } },
  );
}
