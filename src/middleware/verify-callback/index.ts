// Verifies that a callback comes from the provider, in the order of the standard-webhooks
// verifier: configuration → token → signature headers → timestamp window → body → HMAC →
// constant-time compare. The provider signs "<task id>.<timestamp>" (not the body), so the body
// is parsed — by the kind's own schema, which knows where that kind's task id is — before the
// HMAC can be checked; nothing is recorded until every check has passed.

import { createMiddleware } from "hono/factory";
import { timingSafeEqual } from "hono/utils/buffer";
import { readConfig } from "../../config";
import type { Kind } from "../../kinds/kind";
import { fromBase64 } from "../../lib/encoding";
import { hmacVerify } from "../../lib/hmac";
import { apiError } from "../../http/errors";
import type { AppEnv } from "../../http/types";
import { readJson } from "../require-json";

/** How far a signature's timestamp may be from now, either way. */
const SIGNATURE_WINDOW_SECONDS = 300;

export const verifyCallback = (kind: Kind) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const config = readConfig(c.env);
    const hmacKey = config.WEBHOOK_HMAC_KEY;
    const token = config.CALLBACK_TOKEN;
    if (!hmacKey && !token && !config.ALLOW_UNVERIFIED_CALLBACKS) {
      throw apiError(
        503,
        "verification_not_configured",
        "Callbacks are refused until WEBHOOK_HMAC_KEY and/or CALLBACK_TOKEN is set (wrangler secret put WEBHOOK_HMAC_KEY).",
      );
    }

    if (token) {
      const given = c.req.query("token");
      if (given === undefined || !(await timingSafeEqual(given, token))) {
        throw apiError(401, "invalid_token", "The callback URL's ?token= is missing or wrong.");
      }
    }

    let signed: { timestamp: string; signature: string } | null = null;
    if (hmacKey) {
      const timestamp = c.req.header("x-webhook-timestamp")?.trim();
      const signature = c.req.header("x-webhook-signature")?.trim();
      if (!timestamp || !signature) {
        throw apiError(401, "missing_signature", "X-Webhook-Timestamp and X-Webhook-Signature are required.");
      }
      if (!/^\d{1,12}$/.test(timestamp)) {
        throw apiError(401, "invalid_timestamp", "X-Webhook-Timestamp must be unix seconds.");
      }
      if (Math.abs(Date.now() / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_SECONDS) {
        throw apiError(401, "stale_timestamp", `The signature's timestamp is more than ${SIGNATURE_WINDOW_SECONDS} s from now.`);
      }
      signed = { timestamp, signature };
    }

    const parsed = kind.parseCallback(await readJson(c.req.raw));
    if (!parsed.ok) throw apiError(400, "invalid_callback", parsed.message);

    if (signed && hmacKey) {
      const ok = await verifyHmac(hmacKey, `${parsed.taskId}.${signed.timestamp}`, signed.signature);
      if (!ok) throw apiError(401, "invalid_signature", "X-Webhook-Signature does not match this task id and timestamp.");
    }

    c.set("callback", { kind: kind.name, taskId: parsed.taskId, said: parsed.said, signedAt: signed ? Number(signed.timestamp) : null });
    await next();
  });

/** base64(HMAC-SHA256(secret, message)) checked with WebCrypto's constant-time verify. */
async function verifyHmac(secret: string, message: string, signatureB64: string): Promise<boolean> {
  const signature = fromBase64(signatureB64);
  return signature !== null && hmacVerify(secret, message, signature);
}
