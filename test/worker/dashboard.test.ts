// The dashboard through its HTTP surface: session cookie, cross-site refusals, the pages' data
// from the public API, the WAV player's Range answers. The browser tests (test/browser) cover the
// same in a real Chromium; these pin the protocol details.

import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { route } from "../helpers/fake-net";
import { makeWav, wavResponse } from "../helpers/wav";
import { API_TOKEN, call, ORIGIN, sendCallback, successBody, uniqueTaskId, waitForState } from "../helpers/worker";

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = "application/x-www-form-urlencoded";

async function signIn(): Promise<{ cookie: string; setCookie: string }> {
  const res = await call("/sign-in", {
    method: "POST",
    headers: { "content-type": FORM, origin: ORIGIN, "sec-fetch-site": "same-origin" },
    body: form({ token: API_TOKEN }),
    redirect: "manual",
  });
  expect(res.status).toBe(303);
  expect(res.headers.get("location")).toBe("/");
  const setCookie = res.headers.get("set-cookie")!;
  return { cookie: setCookie.split(";")[0]!, setCookie };
}

async function csrfOf(cookie: string): Promise<string> {
  const html = await (await call("/settings", { headers: { cookie } })).text();
  return /name="csrf" value="([^"]+)"/.exec(html)![1]!;
}

async function storedTask(seconds = 1) {
  const taskId = uniqueTaskId("dash");
  const url = `https://cdn.example.com/${taskId}.wav`;
  const wav = makeWav({ seconds });
  route("GET", url, () => wavResponse(wav));
  await sendCallback(successBody(taskId, url));
  await waitForState(taskId, ["stored"]);
  return { taskId, wav };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("dashboard session", () => {
  it("pages need a session: GET redirects to the sign-in page", async () => {
    for (const path of ["/", "/tasks", "/settings", "/tasks/x/wav"]) {
      const res = await call(path, { redirect: "manual" });
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location")).toBe("/sign-in");
    }
    const page = await call("/sign-in");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain('name="token" type="password"');
  });

  it("a wrong token is 401 and sets no cookie", async () => {
    const res = await call("/sign-in", {
      method: "POST",
      headers: { "content-type": FORM, origin: ORIGIN },
      body: form({ token: "not-the-token" }),
      redirect: "manual",
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain("not this worker");
  });

  it("the right token gives a signed, expiring, HttpOnly, SameSite=Strict, Secure cookie without the token", async () => {
    const { cookie, setCookie } = await signIn();
    expect(setCookie).toMatch(/; Max-Age=28800/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).not.toContain(API_TOKEN);
    const res = await call("/", { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Overview");
  });

  it("an altered cookie is no session", async () => {
    const { cookie } = await signIn();
    const [name, value] = cookie.split("=");
    const decoded = decodeURIComponent(value!);
    const [exp, rest] = [decoded.slice(0, decoded.indexOf("~")), decoded.slice(decoded.indexOf("~"))];
    const forged = `${name}=${encodeURIComponent(`${Number(exp) + 86_400}${rest}`)}`;
    const res = await call("/", { headers: { cookie: forged }, redirect: "manual" });
    expect(res.status).toBe(303);
  });

  it("a session ends when it expires", async () => {
    const { cookie } = await signIn();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 8 * 3600 * 1000 - 60_000);
    expect((await call("/", { headers: { cookie }, redirect: "manual" })).status).toBe(200);
    vi.setSystemTime(Date.now() + 120_000);
    const res = await call("/", { headers: { cookie }, redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/sign-in");
  });

  it("rotating API_TOKEN ends every session", async () => {
    const { cookie } = await signIn();
    const same = await app.request(`${ORIGIN}/`, { headers: { cookie } }, { ...env });
    expect(same.status).toBe(200);
    const rotated = await app.request(`${ORIGIN}/`, { headers: { cookie } }, { ...env, API_TOKEN: "a-new-api-token-after-rotation" });
    expect(rotated.status).toBe(303);
    expect(rotated.headers.get("location")).toBe("/sign-in");
  });

  it("sign-in from another site is refused", async () => {
    const res = await call("/sign-in", {
      method: "POST",
      headers: { "content-type": FORM, origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      body: form({ token: API_TOKEN }),
      redirect: "manual",
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("sign-out needs the form token and clears the cookie", async () => {
    const { cookie } = await signIn();
    const csrf = await csrfOf(cookie);
    const without = await call("/sign-out", { method: "POST", headers: { cookie, "content-type": FORM, origin: ORIGIN }, body: form({}), redirect: "manual" });
    expect(without.status).toBe(403);
    const res = await call("/sign-out", { method: "POST", headers: { cookie, "content-type": FORM, origin: ORIGIN }, body: form({ csrf }), redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie")).toMatch(/^wav_dashboard=; Max-Age=0/);
  });
});

describe("dashboard actions are refused cross-site", () => {
  it("a POST with the session cookie and the right form token but a foreign Origin is 403 and changes nothing", async () => {
    const { cookie } = await signIn();
    const csrf = await csrfOf(cookie);
    const taskId = uniqueTaskId("dash-x");
    await sendCallback({ code: 451, msg: "no", data: { task_id: taskId } });
    await waitForState(taskId, ["failed"]);
    for (const headers of <Record<string, string>[]>[
      { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      { origin: "https://evil.example" },
      { "sec-fetch-site": "same-site" },
      {},
    ]) {
      const res = await call(`/tasks/${taskId}/retry`, {
        method: "POST",
        headers: { cookie, "content-type": FORM, ...headers },
        body: form({ csrf }),
        redirect: "manual",
      });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    }
    expect((await waitForState(taskId, ["failed"])).state).toBe("failed");
  });

  it("a same-origin POST without the session's form token is 403", async () => {
    const { cookie } = await signIn();
    const res = await call(`/tasks/anything/retry`, {
      method: "POST",
      headers: { cookie, "content-type": FORM, origin: ORIGIN, "sec-fetch-site": "same-origin" },
      body: form({ csrf: "guessed" }),
      redirect: "manual",
    });
    expect(res.status).toBe(403);
  });
});

describe("dashboard pages", () => {
  it("the player's WAV route serves only a stored task, whatever the bucket holds", async () => {
    const { cookie } = await signIn();
    const taskId = uniqueTaskId("dash");
    await call(`/api/tasks/${taskId}`, { method: "PUT", headers: { authorization: `Bearer ${API_TOKEN}` } });
    await env.BUCKET.put(`wav/${taskId}.wav`, makeWav({ seconds: 1 })); // left over, not this task's
    expect((await call(`/tasks/${taskId}/wav`, { headers: { cookie } })).status).toBe(404);
  });

  it("carry a strict Content-Security-Policy and are not cached", async () => {
    const { cookie } = await signIn();
    const res = await call("/", { headers: { cookie } });
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).not.toMatch(/<script>|\son[a-z]+="/);
  });

  it("the task page shows a stored task's fields, player and copy link; the WAV answers Range with 206", async () => {
    const { cookie } = await signIn();
    const { taskId, wav } = await storedTask();
    const html = await (await call(`/tasks/${taskId}`, { headers: { cookie } })).text();
    expect(html).toContain(`src="/tasks/${taskId}/wav"`);
    expect(html).toContain(`${ORIGIN}/api/tasks/${taskId}/wav?expires=`);
    expect(html).not.toContain(API_TOKEN);
    const ranged = await call(`/tasks/${taskId}/wav`, { headers: { cookie, range: "bytes=0-99" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 0-99/${wav.byteLength}`);
    expect(ranged.headers.get("cache-control")).toBe("no-store");
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(wav.slice(0, 100));
    // A player's first request: the whole file, as a 206 so it knows it may seek by range.
    const opening = await call(`/tasks/${taskId}/wav`, { headers: { cookie, range: "bytes=0-" } });
    expect(opening.status).toBe(206);
    expect(opening.headers.get("content-range")).toBe(`bytes 0-${wav.byteLength - 1}/${wav.byteLength}`);
    expect(new Uint8Array(await opening.arrayBuffer())).toEqual(wav);
    const whole = await call(`/tasks/${taskId}/wav`, { headers: { cookie } });
    expect(whole.status).toBe(200);
    await whole.arrayBuffer();
  });

  it("the task list pages newest first through the API's cursor", async () => {
    const { cookie } = await signIn();
    const ids = Array.from({ length: 27 }, () => uniqueTaskId("dash-page"));
    for (const id of ids) expect((await call(`/api/tasks/${id}`, { method: "PUT", headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(201);
    const rows = (html: string) => [...html.matchAll(/<tr data-task-id="([^"]+)" data-state="([a-z]+)"/g)].map((m) => ({ id: m[1]!, state: m[2]! }));
    const first = await (await call("/tasks?state=pending", { headers: { cookie } })).text();
    const page1 = rows(first);
    expect(page1).toHaveLength(25);
    expect(page1.every((r) => r.state === "pending")).toBe(true);
    const next = /<a href="([^"]+)" rel="next">/.exec(first)![1]!.replace(/&amp;/g, "&");
    expect(next).toMatch(/^\/tasks\?state=pending&cursor=/);
    const page2 = rows(await (await call(next, { headers: { cookie } })).text());
    const seen = [...page1, ...page2].map((r) => r.id);
    expect(new Set(seen).size).toBe(seen.length);
    // The 27 newest pending tasks are ours.
    expect(seen.slice(0, 27).sort()).toEqual([...ids].sort());
  });

  it("an unknown task is an HTML 404; the JSON API keeps its own 404", async () => {
    const { cookie } = await signIn();
    const page = await call(`/tasks/${uniqueTaskId("nope")}`, { headers: { cookie } });
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const json = await call("/api/nothing-here");
    expect(json.status).toBe(404);
    expect(json.headers.get("content-type")).toMatch(/json/);
    expect(json.headers.get("content-security-policy")).toBeNull();
  });

  it("the settings check names what is unsafe in the test settings", async () => {
    const { cookie } = await signIn();
    const html = await (await call("/settings", { headers: { cookie } })).text();
    const level = (name: string) => new RegExp(`data-setting="${name}" data-level="([a-z]+)"`).exec(html)?.[1];
    expect(level("WAV_SOURCE_HOSTS")).toBe("problem"); // empty in test/vitest.config.ts
    expect(level("NOTIFY_URL")).toBe("ok"); // the fake app of test/helpers/fake-net.ts
    expect(level("WEBHOOK_HMAC_KEY")).toBe("ok");
    expect(level("ALLOW_UNVERIFIED_CALLBACKS")).toBe("ok");
    expect(level("PUBLIC_URL")).toBe("ok");
    expect(html).not.toContain(API_TOKEN);
  });
});
