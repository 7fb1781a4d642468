// POST /callbacks/wav: the provider's callback. Verified and validated by middleware; here the
// result is recorded durably by the task's shard (an object that already exists), and the answer
// goes out at once — the transfer runs later, in the task's runner, handed out by the shard's alarm.

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { parseCallback } from "../callback/schema";
import { apiError } from "../http/errors";
import type { AppEnv } from "../http/types";
import { requireJson } from "../middleware/require-json";
import { verifyCallback } from "../middleware/verify-callback";
import { shardFor } from "../shard/shards";

const MAX_CALLBACK_BYTES = 64 * 1024;

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
    const { taskId, result, signedAt } = c.get("callback");
    const { outcome } = await shardFor(c.env, taskId).ingest(taskId, result, signedAt);
    if (outcome === "signature_reused") {
      throw apiError(409, "signature_reused", "These signature headers were already used for this task with a different result; send a newly signed callback.");
    }
    // The provider's documented acknowledgement.
    return c.json({ code: 200, msg: "success" });
  },
);
