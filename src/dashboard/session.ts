// The dashboard session (README, "Dashboard" → "How a session works"): server-side state. Signing
// in with an accepted API token (API_TOKEN or API_TOKEN_NEXT) makes a random session id; the
// cookie carries only that id, and the session's row — keyed by the id's SHA-256, so the id itself
// is never stored — lives in the TaskShard the hash picks (a table beside the tasks; nothing on the
// callback path reads it). Every dashboard request reads the row: signing out, "revoke", "sign out
// everywhere" and expiry delete it, and a row started with a token that is no longer accepted has
// ended (rotating the token ends every session). The CSRF token is derived from the session id.

import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { ConfigError, readConfig } from "../config";
import { base64url, hex, utf8Bytes } from "../lib/encoding";
import { hmacSign } from "../lib/hmac";
import { shard, SHARD_COUNT, shardNumberOf } from "../shard/shards";
import type { SessionRow } from "../shard/store";

export const SESSION_COOKIE = "wav_dashboard";
export const SESSION_SECONDS = 8 * 60 * 60;
/** What a session row keeps of the browser's User-Agent. */
const USER_AGENT_CHARS = 256;
/** A session id as this module makes them: 32 random bytes, base64url. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export interface Session {
  /** SHA-256 (hex) of the session id: the row's key, and the id the settings page shows. */
  key: string;
  /** Unix seconds. */
  expires: number;
  /** Must come back in every state-changing form. */
  csrf: string;
}

/** A live session as the settings page lists it. */
export interface SessionInfo {
  key: string;
  createdAt: number;
  lastSeen: number;
  expiresAt: number;
  userAgent: string;
  address: string;
}

const isHttps = (c: Context) => new URL(c.req.url).protocol === "https:";

/** HMAC(token, purpose) as hex: what a session row keeps of the token it was started with. */
async function fingerprint(token: string): Promise<string> {
  return hex(await hmacSign(token, "wav-callback-edge dashboard session v2"));
}

async function fingerprints(env: object): Promise<string[]> {
  return Promise.all(acceptedTokens(env).map(fingerprint));
}

async function keyOf(sessionId: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", utf8Bytes(sessionId)));
}

async function csrfOf(sessionId: string): Promise<string> {
  return base64url(await hmacSign(sessionId, "wav-callback-edge dashboard csrf v1"));
}

/** The shard that keeps the session whose key (the id's SHA-256) this is. */
function sessionShard(env: Env, key: string) {
  return shard(env, shardNumberOf(`session\n${key}`));
}

/** The client's address as Cloudflare gives it (README, "Security"). */
export function clientAddress(c: Context): string {
  return c.req.header("cf-connecting-ip")?.trim() || "unknown";
}

export async function startSession<E extends { Bindings: Env }>(c: Context<E>, token: string): Promise<Session> {
  const id = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const key = await keyOf(id);
  const now = Date.now();
  const row: SessionRow = {
    id: key,
    tokenFp: await fingerprint(token),
    createdAt: now,
    expiresAt: now + SESSION_SECONDS * 1000,
    lastSeen: now,
    userAgent: (c.req.header("user-agent") ?? "").slice(0, USER_AGENT_CHARS),
    address: clientAddress(c),
  };
  await sessionShard(c.env, key).startSession(row, await fingerprints(c.env));
  setCookie(c, SESSION_COOKIE, id, { path: "/", httpOnly: true, sameSite: "Strict", secure: isHttps(c), maxAge: SESSION_SECONDS });
  return { key, expires: Math.floor(row.expiresAt / 1000), csrf: await csrfOf(id) };
}

/** What readSession found for a request, kept so that one request reads its row once. */
const seen = new WeakMap<Request, Promise<Session | null>>();

/** The live session of this request (its row read from its shard), or null. */
export function readSession<E extends { Bindings: Env }>(c: Context<E>): Promise<Session | null> {
  let found = seen.get(c.req.raw);
  if (!found) {
    found = lookUp(c);
    seen.set(c.req.raw, found);
  }
  return found;
}

async function lookUp<E extends { Bindings: Env }>(c: Context<E>): Promise<Session | null> {
  const id = getCookie(c, SESSION_COOKIE);
  if (!id || !SESSION_ID.test(id)) return null;
  const fps = await fingerprints(c.env);
  if (fps.length === 0) return null;
  const key = await keyOf(id);
  const row = await sessionShard(c.env, key).session(key, fps, Date.now());
  if (!row) return null;
  return { key, expires: Math.floor(row.expiresAt / 1000), csrf: await csrfOf(id) };
}

/** Signing out: the row goes (a copy of the cookie opens nothing after this), then the cookie. */
export async function endSession<E extends { Bindings: Env }>(c: Context<E>, session: Session): Promise<void> {
  await sessionShard(c.env, session.key).endSession(session.key);
  forgetCookie(c);
}

export function forgetCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict", secure: isHttps(c) });
}

/** "Revoke" on the settings page: ends one session by its key; false when there was none. */
export async function revokeSession(env: Env, key: string): Promise<boolean> {
  if (!/^[0-9a-f]{64}$/.test(key)) return false;
  return sessionShard(env, key).endSession(key);
}

/** Every live session, newest first (the settings page's list: one call per shard). */
export async function listSessions(env: Env): Promise<SessionInfo[]> {
  const fps = await fingerprints(env);
  const now = Date.now();
  const rows = await Promise.all(Array.from({ length: SHARD_COUNT }, (_, n) => shard(env, n).liveSessions(fps, now)));
  return rows
    .flat()
    .map((r) => ({ key: r.id, createdAt: r.createdAt, lastSeen: r.lastSeen, expiresAt: r.expiresAt, userAgent: r.userAgent, address: r.address }))
    .sort((a, b) => b.createdAt - a.createdAt || a.key.localeCompare(b.key));
}

/** "Sign out everywhere": every session of every shard ends; how many there were. */
export async function endAllSessions(env: Env): Promise<number> {
  const counts = await Promise.all(Array.from({ length: SHARD_COUNT }, (_, n) => shard(env, n).endAllSessions()));
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * The API tokens accepted now (API_TOKEN, then API_TOKEN_NEXT), as readConfig reads them — also
 * when another setting is unusable: the settings page, which names that setting, must stay
 * reachable to a signed-in person (the other pages then answer 500 misconfigured, as the API does).
 */
export function acceptedTokens(env: object): string[] {
  try {
    const c = readConfig(env);
    return [c.API_TOKEN, c.API_TOKEN_NEXT].filter((t): t is string => t !== undefined);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const e = env as { API_TOKEN?: unknown; API_TOKEN_NEXT?: unknown };
    return [e.API_TOKEN, e.API_TOKEN_NEXT].filter((t): t is string => typeof t === "string" && t.trim() !== "");
  }
}
