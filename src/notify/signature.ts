// Standard Webhooks signatures (standardwebhooks.com) for the announcements sent to NOTIFY_URL:
// webhook-signature = "v1," + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")),
// where the key is the base64 part of NOTIFY_SECRET after "whsec_". Any Standard Webhooks
// library verifies what this signs.

import { ConfigError, parseNotifySecret } from "../config";

// One imported key per secret: importKey is not free, and an isolate signs many announcements.
const keys = new Map<string, Promise<CryptoKey>>();

function signingKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    const parsed = parseNotifySecret(secret);
    if (!parsed.ok) throw new ConfigError(parsed.message);
    key = crypto.subtle.importKey("raw", parsed.key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

/**
 * The `webhook-signature` header for one attempt: "v1,<base64 HMAC-SHA256>". Throws a
 * ConfigError (answered as 500 misconfigured) when the secret is unusable.
 */
export async function signAnnouncement(secret: string, id: string, timestampSec: number, body: string): Promise<string> {
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) {
    throw new RangeError("webhook-timestamp must be whole unix seconds");
  }
  const mac = await crypto.subtle.sign("HMAC", await signingKey(secret), new TextEncoder().encode(`${id}.${timestampSec}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
