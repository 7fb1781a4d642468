// The dashboard session: signing in with API_TOKEN gives a signed cookie that carries its own
// expiry and a per-session CSRF token. The signing key is derived from API_TOKEN, so rotating
// the token ends every session; the token itself is never stored in the cookie or the page.

import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { timingSafeEqual } from "hono/utils/buffer";
import { readConfig } from "../config";
import { base64url, hex } from "../lib/encoding";
import { hmacSign } from "../lib/hmac";

export const SESSION_COOKIE = "wav_dashboard";
const SESSION_SECONDS = 8 * 60 * 60;

export interface Session {
  /** Unix seconds. */
  expires: number;
  /** Must come back in every state-changing form. */
  csrf: string;
}

/** HMAC(API_TOKEN, purpose) as hex: the cookie-signing secret, never the token itself. */
async function sessionKey(token: string): Promise<string> {
  return hex(await hmacSign(token, "wav-callback-edge dashboard session v1"));
}

function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

const isHttps = (c: Context) => new URL(c.req.url).protocol === "https:";

/** Constant-time comparison of what the person typed with API_TOKEN. */
export async function tokenMatches(given: string, token: string): Promise<boolean> {
  return timingSafeEqual(given, token);
}

export async function startSession(c: Context, token: string): Promise<Session> {
  const session: Session = { expires: Math.floor(Date.now() / 1000) + SESSION_SECONDS, csrf: randomToken() };
  await setSignedCookie(c, SESSION_COOKIE, `${session.expires}~${session.csrf}`, await sessionKey(token), {
    path: "/",
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
    maxAge: SESSION_SECONDS,
  });
  return session;
}

/** The valid, unexpired session of this request, or null. */
export async function readSession(c: Context): Promise<Session | null> {
  const token = readConfig(c.env).API_TOKEN;
  if (!token) return null;
  const value = await getSignedCookie(c, await sessionKey(token), SESSION_COOKIE);
  if (!value) return null;
  const [exp, csrf] = value.split("~");
  const expires = Number(exp);
  if (!Number.isSafeInteger(expires) || !csrf || expires <= Math.floor(Date.now() / 1000)) return null;
  return { expires, csrf };
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict", secure: isHttps(c) });
}
