// Server-side dashboard sessions (README, "Dashboard" → "How a session works"): the cookie holds a
// random id, the session's row (keyed by the id's SHA-256) lives in a shard; signing out, revoking,
// expiry and token rotation delete it; the settings page lists them. "Sign out everywhere" ends the
// sessions of every test file sharing this runtime, so it is tested in the browser suite, which
// has a worker of its own.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../../src/app";
import { shard, shardNumberOf } from "../../../src/shard/shards";
import { API_TOKEN, call, ORIGIN } from "../../helpers/worker";

const FORM = "application/x-www-form-urlencoded";
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const SAME_ORIGIN = { origin: ORIGIN, "sec-fetch-site": "same-origin" };

afterEach(() => {
  vi.useRealTimers();
});

async function signIn(opts: { token?: string; userAgent?: string; address?: string; envOverride?: Partial<Env> } = {}): Promise<string> {
  const init = {
    method: "POST",
    headers: {
      "content-type": FORM,
      ...SAME_ORIGIN,
      "user-agent": opts.userAgent ?? "session-test",
      "cf-connecting-ip": opts.address ?? "203.0.113.7",
    },
    body: form({ token: opts.token ?? API_TOKEN }),
    redirect: "manual" as const,
  };
  const res = opts.envOverride ? await app.request(`${ORIGIN}/sign-in`, init, { ...env, ...opts.envOverride }) : await call("/sign-in", init);
  expect(res.status).toBe(303);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The session row of a cookie, read straight from the shard its id's hash picks. */
async function rowOf(cookie: string): Promise<Record<string, unknown> | null> {
  const id = cookie.slice(cookie.indexOf("=") + 1);
  const key = await sha256Hex(id);
  return runInDurableObject(shard(env, shardNumberOf(`session\n${key}`)), (_i, state) => {
    return state.storage.sql.exec("SELECT * FROM sessions WHERE id = ?", key).toArray()[0] ?? null;
  });
}

async function status(path: string, cookie: string, overrides?: Partial<Env>): Promise<number> {
  const init = { headers: { cookie }, redirect: "manual" as const };
  const res = overrides ? await app.request(`${ORIGIN}${path}`, init, { ...env, ...overrides }) : await call(path, init);
  await res.body?.cancel();
  return res.status;
}

async function csrfOf(cookie: string): Promise<string> {
  const html = await (await call("/settings", { headers: { cookie } })).text();
  return /name="csrf" value="([^"]+)"/.exec(html)![1]!;
}

describe("a session is a row on the server", () => {
  it("the cookie holds a random id; the shard keeps only its SHA-256, the browser, the address and the times", async () => {
    const cookie = await signIn({ userAgent: "Mozilla/5.0 (test) Row", address: "198.51.100.23" });
    const id = cookie.slice(cookie.indexOf("=") + 1);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await rowOf(cookie);
    expect(row).not.toBeNull();
    expect(row!.id).toBe(await sha256Hex(id));
    expect(JSON.stringify(row)).not.toContain(id);
    expect(JSON.stringify(row)).not.toContain(API_TOKEN);
    expect(row!.user_agent).toBe("Mozilla/5.0 (test) Row");
    expect(row!.address).toBe("198.51.100.23");
    expect(Number(row!.expires_at) - Number(row!.created_at)).toBe(8 * 3600 * 1000);
  });

  it("a copy of the cookie stops working at sign-out: the row is gone", async () => {
    const cookie = await signIn();
    const copy = cookie;
    expect(await status("/", copy)).toBe(200);
    const csrf = await csrfOf(cookie);
    const out = await call("/sign-out", { method: "POST", headers: { cookie, "content-type": FORM, ...SAME_ORIGIN }, body: form({ csrf }), redirect: "manual" });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/^wav_dashboard=; Max-Age=0/);
    expect(await rowOf(copy)).toBeNull();
    const again = await call("/", { headers: { cookie: copy }, redirect: "manual" });
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toBe("/sign-in");
    // A POST with the copy is refused too.
    const post = await call("/retry-failed", { method: "POST", headers: { cookie: copy, "content-type": FORM, ...SAME_ORIGIN }, body: form({ csrf }), redirect: "manual" });
    expect(post.status).toBe(403);
  });

  it("an id that was never handed out is no session", async () => {
    expect(await status("/", `wav_dashboard=${"A".repeat(43)}`)).toBe(303);
    expect(await status("/", "wav_dashboard=not-a-session")).toBe(303);
  });

  it("expiry deletes the row", async () => {
    const cookie = await signIn();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 8 * 3600 * 1000 + 1000);
    expect(await status("/", cookie)).toBe(303);
    vi.useRealTimers();
    expect(await rowOf(cookie)).toBeNull();
  });

  it("last seen is written at most once a minute", async () => {
    const cookie = await signIn();
    const first = Number((await rowOf(cookie))!.last_seen);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(first + 30_000);
    expect(await status("/settings", cookie)).toBe(200);
    expect(Number((await rowOf(cookie))!.last_seen)).toBe(first);
    vi.setSystemTime(first + 61_000);
    expect(await status("/settings", cookie)).toBe(200);
    expect(Number((await rowOf(cookie))!.last_seen)).toBe(first + 61_000);
  });
});

describe("API_TOKEN_NEXT and rotation", () => {
  const NEXT = "the-next-api-token-0123456789";

  it("signing in with API_TOKEN_NEXT works while it is set", async () => {
    const cookie = await signIn({ token: NEXT, envOverride: { API_TOKEN_NEXT: NEXT } });
    expect(await status("/", cookie, { API_TOKEN_NEXT: NEXT })).toBe(200);
    // Unset again (the rotation abandoned): that session has ended, and its row goes.
    expect(await status("/", cookie)).toBe(303);
    expect(await rowOf(cookie)).toBeNull();
  });

  it("a session lives while its token is accepted: promoting API_TOKEN_NEXT keeps its sessions, dropping the old token ends the old ones", async () => {
    const old = await signIn();
    const next = await signIn({ token: NEXT, envOverride: { API_TOKEN_NEXT: NEXT } });
    // Step 1 of the rotation: both accepted.
    expect(await status("/", old, { API_TOKEN_NEXT: NEXT })).toBe(200);
    expect(await status("/", next, { API_TOKEN_NEXT: NEXT })).toBe(200);
    // Step 2: API_TOKEN is the new token, API_TOKEN_NEXT unset.
    expect(await status("/", next, { API_TOKEN: NEXT, API_TOKEN_NEXT: "" })).toBe(200);
    expect(await status("/", old, { API_TOKEN: NEXT, API_TOKEN_NEXT: "" })).toBe(303);
    expect(await rowOf(old)).toBeNull();
  });
});

describe("the settings check and API_TOKEN_NEXT", () => {
  it("says a rotation is under way while API_TOKEN_NEXT is set, and never shows either token", async () => {
    const NEXT = "settings-next-token-0123456789abc";
    const cookie = await signIn();
    const page = async (overrides: Partial<Env>) => (await app.request(`${ORIGIN}/settings`, { headers: { cookie } }, { ...env, ...overrides })).text();
    const finding = (html: string) => /data-setting="API_TOKEN_NEXT" data-level="([a-z]+)">([\s\S]*?)<\/li>/.exec(html);
    expect(finding(await page({}))).toBeNull();
    const during = await page({ API_TOKEN_NEXT: NEXT });
    expect(finding(during)?.[1]).toBe("warn");
    expect(finding(during)?.[2]).toContain("rotation is under way");
    expect(during).not.toContain(NEXT);
    expect(during).not.toContain(API_TOKEN);
    expect(finding(await page({ API_TOKEN_NEXT: API_TOKEN }))?.[2]).toContain("The same as API_TOKEN");
  });
});

describe("the settings page lists sessions; revoke ends one", () => {
  it("shows each session's browser, address and times, and this browser's own; revoking another ends it there", async () => {
    const mine = await signIn({ userAgent: "Browser Mine/1.0", address: "192.0.2.10" });
    const other = await signIn({ userAgent: "Browser Other/2.0 <b>", address: "192.0.2.20" });
    const html = await (await call("/settings", { headers: { cookie: mine } })).text();
    expect(html).toContain("Active sessions");
    expect(html).toContain("Browser Mine/1.0");
    expect(html).toContain("Browser Other/2.0 &lt;b&gt;"); // escaped, never markup
    expect(html).toContain("192.0.2.20");
    const otherKey = (await rowOf(other))!.id as string;
    const mineKey = (await rowOf(mine))!.id as string;
    expect(html).toMatch(new RegExp(`data-session="${mineKey}" data-current="true"`));
    expect(html).toContain(`data-session="${otherKey}"`);

    const csrf = await csrfOf(mine);
    const revoke = (session: string, token = csrf) =>
      call("/settings/sessions/revoke", { method: "POST", headers: { cookie: mine, "content-type": FORM, ...SAME_ORIGIN }, body: form({ csrf: token, session }), redirect: "manual" });
    expect((await revoke(otherKey, "wrong")).status).toBe(403);
    expect(await status("/", other)).toBe(200);
    const res = await revoke(otherKey);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/settings?notice=revoked");
    expect(await status("/", other)).toBe(303);
    expect(await status("/", mine)).toBe(200);
    expect((await revoke(otherKey)).headers.get("location")).toBe("/settings?notice=revoke-gone");

    // Revoking this browser's own session signs it out.
    const own = await revoke(mineKey);
    expect(own.headers.get("location")).toBe("/sign-in");
    expect(await status("/", mine)).toBe(303);
  });
});

describe("sign-in abuse", () => {
  it("a 2 MB sign-in body is 413, a readable page, and signs nobody in", async () => {
    const res = await call("/sign-in", {
      method: "POST",
      headers: { "content-type": FORM, ...SAME_ORIGIN },
      body: form({ token: API_TOKEN, padding: "x".repeat(2 * 1024 * 1024) }),
      redirect: "manual",
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("larger than 8 KiB");
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("past 10 wrong sign-ins a minute an address gets 429 with Retry-After, as a page; another address still signs in", async () => {
    await awayFromWindowEdge();
    const address = "203.0.113.99";
    const attempt = (token: string, from = address) =>
      call("/sign-in", { method: "POST", headers: { "content-type": FORM, ...SAME_ORIGIN, "cf-connecting-ip": from }, body: form({ token }), redirect: "manual" });
    for (let i = 0; i < 10; i++) {
      const res = await attempt(`wrong-${i}`);
      expect(res.status, `attempt ${i + 1}`).toBe(401);
      await res.body?.cancel();
    }
    const limited = await attempt("wrong-again");
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get("content-type")).toMatch(/^text\/html/);
    const text = await limited.text();
    expect(text).toContain("Too many failed sign-ins");
    expect(text).not.toContain("wrong-again");
    // Another address is not affected.
    expect((await attempt(API_TOKEN, "203.0.113.100")).status).toBe(303);
  });
});

/** Rate-limit windows are counted on the wall clock: a test that fills one waits if it is about to roll over. */
async function awayFromWindowEdge(): Promise<void> {
  const into = (Date.now() / 1000) % 60;
  if (into > 45) await new Promise((r) => setTimeout(r, (61 - into) * 1000));
}
