// POST /callbacks/wav: the provider's callback. Verified and validated by middleware; here the
// result is recorded durably by the task's own object, and the answer goes out at once — the
// transfer runs later, from that object's alarm.

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { parseCallback } from "../callback/schema";
import { apiError } from "../http/errors";
import type { AppEnv } from "../http/types";
import { requireJson } from "../middleware/require-json";
import { verifyCallback } from "../middleware/verify-callback";
import { taskObject } from "../task/objects";

export const MAX_CALLBACK_BYTES = 64 * 1024;

export const callbacks = new Hono<AppEnv>().post(
  "/wav",
  requireJson(),
  bodyLimit({
    maxSize: MAX_CALLBACK_BYTES,
    onError: () => {
      throw apiError(413, "payload_too_large", `Callback bodies are limited to ${MAX_CALLBACK_BYTES} bytes.`);
    },
  }),
  verifyCallback({ parse: parseCallback }),
  async (c) => {
    const { taskId, result } = c.get("callback");
    await taskObject(c.env, taskId).ingest(taskId, result);
    // The provider's documented acknowledgement.
    return c.json({ code: 200, msg: "success" });
  },
);
