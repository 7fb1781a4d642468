import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ConfigError } from "../config";
import { redactText } from "../lib/redact";

/** The one error shape every route answers with (README, "Routes"). */
export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** An HTTPException whose response is already the JSON error body. */
export function apiError(
  status: ContentfulStatusCode,
  code: string,
  message: string,
  headers?: Record<string, string>,
): HTTPException {
  const res = Response.json(errorBody(code, message), { status, headers });
  return new HTTPException(status, { message, res });
}

/** The app's single onError: known errors keep their answer, anything else is a JSON 500. */
export function onError(err: Error, c: Context): Response {
  if (err instanceof HTTPException) {
    const res = err.getResponse();
    // Hono's own middleware (bearer-auth, body-limit) answer in plain text; keep one shape.
    if (res.headers.get("content-type")?.includes("application/json")) return res;
    return c.json(errorBody(codeForStatus(err.status), err.message || res.statusText), err.status, {
      ...Object.fromEntries(res.headers),
      "content-type": "application/json",
    });
  }
  if (err instanceof ConfigError) {
    // Config messages name settings and what is wrong, never a secret's value.
    console.error(JSON.stringify({ event: "misconfigured", message: err.message }));
    return c.json(errorBody("misconfigured", err.message), 500);
  }
  // Not the error object itself: its message or stack may quote a URL with a signed query.
  console.error(JSON.stringify({ event: "unhandled_error", name: err.name, message: redactText(err.message, c.env) }));
  return c.json(errorBody("internal", "Something went wrong on our side; try again later."), 500);
}

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 413:
      return "payload_too_large";
    case 415:
      return "unsupported_media_type";
    default:
      return status >= 500 ? "internal" : "error";
  }
}
