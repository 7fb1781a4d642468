// Shareable download links: /api/tasks/<id>/wav?expires=<unix s>&sig=<base64url HMAC>. The HMAC
// covers the path and the expiry, so neither can be changed; its key is derived from API_TOKEN,
// so rotating that token revokes every link.

const LINK_CONTEXT = "wav-callback-edge download link v1";
/** Longest a link may live. */
export const MAX_LINK_TTL_SECONDS = 7 * 24 * 3600;
export const DEFAULT_LINK_TTL_SECONDS = 3600;

const keys = new Map<string, Promise<CryptoKey>>();

function linkKey(apiToken: string): Promise<CryptoKey> {
  let key = keys.get(apiToken);
  if (!key) {
    const raw = new TextEncoder().encode(`${LINK_CONTEXT}\n${apiToken}`);
    key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(apiToken, key);
  }
  return key;
}

const message = (path: string, expires: number) => new TextEncoder().encode(`${path}\n${expires}`);

export async function signLink(apiToken: string, path: string, expires: number): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await linkKey(apiToken), message(path, expires));
  return btoa(String.fromCharCode(...new Uint8Array(mac))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** True only for an unexpired link whose signature matches (checked in constant time). */
export async function verifyLink(
  apiToken: string,
  path: string,
  expiresParam: string | undefined,
  sigParam: string | undefined,
  nowSeconds: number,
): Promise<boolean> {
  if (!expiresParam || !sigParam || !/^\d{1,12}$/.test(expiresParam)) return false;
  const expires = Number(expiresParam);
  if (expires < nowSeconds) return false;
  let sig: Uint8Array;
  try {
    sig = Uint8Array.from(atob(sigParam.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  } catch {
    return false;
  }
  return crypto.subtle.verify("HMAC", await linkKey(apiToken), sig, message(path, expires));
}

/** How long the link in a `wav.stored` announcement lives (SPEC "Notifications"). */
export const DEFAULT_DOWNLOAD_LINK_TTL_SECONDS = MAX_LINK_TTL_SECONDS;

/**
 * A signed link to a task's WAV under `base` (PUBLIC_URL, path included, or the request's origin),
 * valid for `ttlSeconds`. It is signed over the worker's own path; the URL carries the signature
 * and expiry, never API_TOKEN itself.
 */
export async function makeDownloadLink(
  apiToken: string,
  base: URL | string,
  taskId: string,
  ttlSeconds: number,
): Promise<{ url: string; expiresAt: string }> {
  const path = `/api/tasks/${taskId}/wav`;
  const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
  const url = new URL(`${String(base).replace(/\/+$/, "")}${path}`);
  url.searchParams.set("expires", String(expires));
  url.searchParams.set("sig", await signLink(apiToken, path, expires));
  return { url: url.toString(), expiresAt: new Date(expires * 1000).toISOString() };
}
