import { createMiddleware } from "hono/factory";
import { apiError } from "../../http/errors";

/** 415 unless the request says its body is JSON (application/json or any +json type). */
export const requireJson = () =>
  createMiddleware(async (c, next) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json" && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
      throw apiError(415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json.");
    }
    await next();
  });

/** Reads the (already size-limited) body as JSON; 400 when it is not. */
export async function readJson(req: Request): Promise<unknown> {
  try {
    return JSON.parse(await req.text());
  } catch {
    throw apiError(400, "malformed_json", "The body is not valid JSON.");
  }
}
