// HMAC-SHA256 with WebCrypto. Importing a key is not free and an isolate signs and verifies many
// messages with the same few secrets, so each key is imported once per isolate and kept.

import { hex, utf8Bytes } from "./encoding";

const keys = new Map<string, Promise<CryptoKey>>();

/** The key for `secret` (text, used as its UTF-8 bytes, or raw bytes), imported once. */
function hmacKey(secret: string | Uint8Array): Promise<CryptoKey> {
  const id = typeof secret === "string" ? `s:${secret}` : `b:${hex(secret)}`;
  let key = keys.get(id);
  if (!key) {
    const raw = typeof secret === "string" ? utf8Bytes(secret) : secret;
    key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    // A key that failed to import is not kept: the next call tries again.
    key.catch(() => keys.delete(id));
    keys.set(id, key);
  }
  return key;
}

export async function hmacSign(secret: string | Uint8Array, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), utf8Bytes(message)));
}

/** Constant-time check of `mac` against HMAC(secret, message) (WebCrypto's own verify). */
export async function hmacVerify(secret: string | Uint8Array, message: string, mac: Uint8Array): Promise<boolean> {
  return crypto.subtle.verify("HMAC", await hmacKey(secret), mac, utf8Bytes(message));
}
