// Shareable download links: /api/tasks/<id>/files/<name>?expires=<unix s>&sig=<base64url HMAC>
// (and /api/tasks/<id>/wav for a WAV task's WAV). The HMAC covers the path and the expiry, so
// neither can be changed; its key is derived from API_TOKEN, so rotating that token revokes every
// link (README, "Routes": /link).

import { base64url, fromBase64url } from "../lib/encoding";
import { hmacSign, hmacVerify } from "../lib/hmac";

const LINK_CONTEXT = "wav-callback-edge download link v1";

/** The longest a link may live (`/link?ttl=` above it is refused). */
export const LINK_TTL_MAX_SECONDS = 7 * 24 * 3600;
/** `/link` without `?ttl=`. */
export const LINK_TTL_DEFAULT_SECONDS = 3600;
/** The link in a `wav.stored` announcement: as long as links may live (README, "Notifications"). */
export const ANNOUNCEMENT_LINK_TTL_SECONDS = LINK_TTL_MAX_SECONDS;

/** The signing secret: API_TOKEN within this purpose, so the HMAC is of no use elsewhere. */
const linkSecret = (apiToken: string) => `${LINK_CONTEXT}\n${apiToken}`;
const message = (path: string, expires: number) => `${path}\n${expires}`;

async function signLink(apiToken: string, path: string, expires: number): Promise<string> {
  return base64url(await hmacSign(linkSecret(apiToken), message(path, expires)));
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
  const sig = fromBase64url(sigParam);
  return sig !== null && hmacVerify(linkSecret(apiToken), message(path, expires), sig);
}

/** The download route of a `wav` task's WAV. */
export function wavPath(taskId: string): string {
  return `/api/tasks/${taskId}/wav`;
}

/** The download route of one of a task's files. */
export function filePath(taskId: string, name: string): string {
  return `/api/tasks/${taskId}/files/${name}`;
}

/**
 * A signed link to one of the worker's download paths (wavPath, filePath) under `base`
 * (PUBLIC_URL, path included, or the request's origin), valid for `ttlSeconds`. It is signed over
 * the worker's own path; the URL carries the signature and expiry, never API_TOKEN itself.
 */
export async function makeDownloadLink(
  apiToken: string,
  base: URL | string,
  path: string,
  ttlSeconds: number,
): Promise<{ url: string; expiresAt: string }> {
  const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
  const url = new URL(`${String(base).replace(/\/+$/, "")}${path}`);
  url.searchParams.set("expires", String(expires));
  url.searchParams.set("sig", await signLink(apiToken, path, expires));
  return { url: url.toString(), expiresAt: new Date(expires * 1000).toISOString() };
}
