// POST /callbacks/<kind>: the provider's callbacks, one route per kind (README, "What it keeps").
// Verified and validated by middleware; here the result is recorded durably by the task's shard
// (an object that already exists), and the answer goes out at once — the transfers run later, in
// the task's runner, handed out by the shard's alarm. Content a callback carries itself (MIDI
// notes, lyrics) is first kept in R2 under its sha256, so that no state row holds it.

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { apiError } from "../http/errors";
import type { AppEnv } from "../http/types";
import { KINDS } from "../kinds";
import type { Kind } from "../kinds/kind";
import { requireJson } from "../middleware/require-json";
import { verifyCallback } from "../middleware/verify-callback";
import { shardFor } from "../shard/shards";
import { stageSaid } from "../storage/staging";
import { docs } from "../openapi/routes";

function route(kind: Kind) {
  return [
    requireJson(),
    bodyLimit({
      maxSize: kind.maxCallbackBytes,
      onError: () => {
        throw apiError(413, "payload_too_large", `${kind.name} callback bodies are limited to ${kind.maxCallbackBytes} bytes.`);
      },
    }),
    verifyCallback(kind),
  ] as const;
}

export const callbacks = new Hono<AppEnv>();

for (const kind of Object.values(KINDS)) {
  callbacks.post(`/${kind.name}`, docs.callback(kind, kind.callbackSchema), ...route(kind), async (c) => {
    const { taskId, said, signedAt } = c.get("callback");
    const staged = await stageSaid(c.env.BUCKET, kind.name, taskId, said);
    // Content staged for it that the task does not need goes again, from the shard's alarm.
    const { outcome, task } = await shardFor(c.env, taskId).ingest(kind.name, taskId, staged, signedAt);
    if (outcome === "signature_reused") {
      throw apiError(409, "signature_reused", "These signature headers were already used for this task with a different result; send a newly signed callback.");
    }
    if (outcome === "kind_mismatch") {
      throw apiError(409, "kind_mismatch", `Task ${taskId} is a ${task} task, not a ${kind.name} task; send its callbacks to /callbacks/${task}.`);
    }
    // The provider's documented acknowledgement.
    return c.json({ code: 200, msg: "success" });
  });
}
