// The dashboard session: signing in with API_TOKEN gives a signed cookie that carries its own
// expiry and a per-session CSRF token. The signing key is derived from API_TOKEN, so rotating
// the token ends every session; the token itself is never stored in the cookie or the page.

import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { timingSafeEqual } from "hono/utils/buffer";
import { ConfigError, readConfig } from "../config";
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
  const token = apiToken(c.env);
  if (!token) return null;
  const value = await getSignedCookie(c, await sessionKey(token), SESSION_COOKIE);
  if (!value) return null;
  const [exp, csrf] = value.split("~");
  const expires = Number(exp);
  if (!Number.isSafeInteger(expires) || !csrf || expires <= Math.floor(Date.now() / 1000)) return null;
  return { expires, csrf };
}

/**
 * API_TOKEN as readConfig reads it — also when another setting is unusable: the settings page,
 * which names that setting, must stay reachable to a signed-in person (the other pages then
 * answer 500 misconfigured, as the API does).
 */
function apiToken(env: object): string | undefined {
  try {
    return readConfig(env).API_TOKEN;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const raw = (env as { API_TOKEN?: unknown }).API_TOKEN;
    return typeof raw === "string" && raw.trim() !== "" ? raw : undefined;
  }
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict", secure: isHttps(c) });
}
