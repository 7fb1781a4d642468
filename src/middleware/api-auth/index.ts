// Guards /api/*: the bearer API_TOKEN or API_TOKEN_NEXT (Hono's bearer-auth, constant-time), or,
// where a route allows it, a valid signed download link instead (signed with API_TOKEN's key only).
// A missing, malformed or wrong token counts against the client's address (../guess-limit): past
// the limit it is answered 429 instead of 401 (README, "Security" → "Rate limits").

import type { Context } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { createMiddleware } from "hono/factory";
import { readConfig } from "../../config";
import { verifyLink } from "../../download/signed-link";
import { apiError, errorBody } from "../../http/errors";
import type { AppEnv } from "../../http/types";
import { countFailure, tooManyGuesses } from "../guess-limit";

export const apiAuth = (opts: { allowSignedLink?: boolean } = {}) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const { API_TOKEN: token, API_TOKEN_NEXT: nextToken } = readConfig(c.env);
    if (!token) {
      throw apiError(503, "api_token_not_configured", "The API is closed until API_TOKEN is set (wrangler secret put API_TOKEN).");
    }
    if (opts.allowSignedLink && (c.req.query("sig") !== undefined || c.req.query("expires") !== undefined)) {
      const ok = await verifyLink(token, c.req.path, c.req.query("expires"), c.req.query("sig"), Math.floor(Date.now() / 1000));
      if (!ok) throw apiError(403, "invalid_link", "This download link is expired or has been altered; ask for a new one.");
      return next();
    }
    return bearerAuth<AppEnv>({
      token: nextToken ? [token, nextToken] : token,
      noAuthenticationHeader: { message: unauthorized("Send Authorization: Bearer <API_TOKEN>.") },
      // Hono answers a malformed header (no "Bearer ", odd characters) with 400; README ("Routes") promises 401
      // for missing, malformed and wrong alike. A Response as the message sets the status.
      invalidAuthenticationHeader: { message: unauthorized("The Authorization header must be 'Bearer <API_TOKEN>'.") },
      invalidToken: { message: unauthorized("The bearer token is not API_TOKEN.") },
    })(c, next);
  });

/** bearerAuth adds its WWW-Authenticate challenge (Bearer ...) to this response; the failure counts first. */
function unauthorized(message: string): (c: Context<AppEnv>) => Promise<Response> {
  return async (c) => {
    const counted = await countFailure(c);
    if (counted.limited) return tooManyGuesses(counted.retryAfter);
    return Response.json(errorBody("unauthorized", message), { status: 401 });
  };
}
