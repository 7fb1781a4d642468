// Standard Webhooks signatures (standardwebhooks.com) for the announcements sent to NOTIFY_URL:
// webhook-signature = "v1," + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")),
// where the key is the base64 part of NOTIFY_SECRET after "whsec_". Any Standard Webhooks
// library verifies what this signs.

import { ConfigError, parseNotifySecret } from "../config";
import { encodeBase64 } from "../lib/encoding";
import { hmacSign } from "../lib/hmac";

/**
 * The `webhook-signature` header for one attempt: "v1,<base64 HMAC-SHA256>". Throws a
 * ConfigError (answered as 500 misconfigured) when the secret is unusable.
 */
export async function signAnnouncement(secret: string, id: string, timestampSec: number, body: string): Promise<string> {
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) {
    throw new RangeError("webhook-timestamp must be whole unix seconds");
  }
  const parsed = parseNotifySecret(secret);
  if (!parsed.ok) throw new ConfigError(parsed.message);
  const mac = await hmacSign(parsed.key, `${id}.${timestampSec}.${body}`);
  return `v1,${encodeBase64(mac.buffer as ArrayBuffer)}`;
}
