// Standard Webhooks signatures (standardwebhooks.com) for the announcements sent to NOTIFY_URL:
// webhook-signature = "v1," + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")),
// where the key is the base64 part of NOTIFY_SECRET after "whsec_". Any Standard Webhooks
// library verifies what this signs.

import { ConfigError } from "../config";

export const NOTIFY_SECRET_PREFIX = "whsec_";
export const NOTIFY_SECRET_MIN_BYTES = 24;
export const NOTIFY_SECRET_MAX_BYTES = 64;

export type ParsedNotifySecret = { ok: true; key: Uint8Array } | { ok: false; message: string };

// Padded standard base64 only: that is what the Standard Webhooks libraries decode (no
// base64url, no whitespace inside), so a secret we accept is one the user's app accepts too.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The signing key inside a NOTIFY_SECRET ("whsec_" + base64 of 24–64 bytes), or why it is
 * unusable. The message names the setting, never its value; surrounding whitespace (a trailing
 * newline from `wrangler secret put`) is ignored.
 */
export function parseNotifySecret(secret: string): ParsedNotifySecret {
  const s = secret.trim();
  if (!s.startsWith(NOTIFY_SECRET_PREFIX)) {
    return { ok: false, message: `NOTIFY_SECRET must start with "${NOTIFY_SECRET_PREFIX}" (make one with: echo "whsec_$(openssl rand -base64 32)")` };
  }
  const b64 = s.slice(NOTIFY_SECRET_PREFIX.length);
  if (b64 === "" || !BASE64.test(b64)) {
    return { ok: false, message: `NOTIFY_SECRET: the part after "${NOTIFY_SECRET_PREFIX}" must be standard base64 (A–Z a–z 0–9 + /, padded with =)` };
  }
  const key = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  if (key.length < NOTIFY_SECRET_MIN_BYTES || key.length > NOTIFY_SECRET_MAX_BYTES) {
    return {
      ok: false,
      message: `NOTIFY_SECRET must decode to ${NOTIFY_SECRET_MIN_BYTES}–${NOTIFY_SECRET_MAX_BYTES} bytes, not ${key.length}`,
    };
  }
  return { ok: true, key };
}

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
