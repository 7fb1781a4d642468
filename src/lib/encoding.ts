// Bytes as text. Base64 and base64url come from Hono (hono/utils/encode); hex is the one form it
// does not have. Every module that turns bytes into text, or back, uses these.

import { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from "hono/utils/encode";

export { decodeBase64, encodeBase64 };

/** Lower-case hex, as sha256 digests are shown. */
export function hex(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** base64url without padding: safe in a URL path, query or cookie as it is. */
export function base64url(bytes: ArrayBuffer | Uint8Array): string {
  return encodeBase64Url(bytes instanceof Uint8Array ? bytes.slice().buffer : bytes).replace(/=+$/, "");
}

/** base64url, padded or not; null when it is not base64url at all. */
export function fromBase64url(text: string): Uint8Array | null {
  try {
    return decodeBase64Url(text);
  } catch {
    return null;
  }
}

/** Standard base64, padded or not; null when it is not base64 at all. */
export function fromBase64(text: string): Uint8Array | null {
  try {
    return decodeBase64(text);
  } catch {
    return null;
  }
}

const utf8 = new TextEncoder();

export function utf8Bytes(text: string): Uint8Array {
  return utf8.encode(text);
}
