// The dashboard through its HTTP surface: session cookie, cross-site refusals, the pages' data
// from the public API, the WAV player's Range answers. The browser tests (test/browser) cover the
// same in a real Chromium; these pin the protocol details.

import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { TaskPage } from "../../src/dashboard/pages/task";
import type { TaskView } from "../../src/task/view";
import { route } from "../helpers/fake-net";
import { makeWav, wavResponse } from "../helpers/wav";
import { page, textOf } from "../helpers/dashboard";
import { api, API_TOKEN, call, callWith, HMAC_KEY, jsonOf, ORIGIN, sendCallback, successBody, uniqueTaskId, waitForAnnounced, waitForState } from "../helpers/worker";

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

describe("dashboard documents", () => {
  it("every page is a standards-mode document (<!DOCTYPE html>) that links the icon", async () => {
    const { cookie } = await signIn();
    const { taskId } = await storedTask();
    const pages: [string, Response][] = [
      ["/sign-in", await call("/sign-in")],
      ["/", await call("/", { headers: { cookie } })],
      ["/tasks", await call("/tasks", { headers: { cookie } })],
      [`/tasks/${taskId}`, await call(`/tasks/${taskId}`, { headers: { cookie } })],
      ["/settings", await call("/settings", { headers: { cookie } })],
      ["404 page", await call(`/tasks/${uniqueTaskId("nope")}`, { headers: { cookie } })],
      ["403 page", await call("/sign-out", { method: "POST", headers: { cookie, "content-type": FORM, origin: "https://evil.example" }, body: form({}) })],
    ];
    for (const [name, res] of pages) {
      const html = await res.text();
      expect(html.startsWith("<!DOCTYPE html><html"), name).toBe(true);
      expect(html, name).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml"/>');
    }
  });

  it("the icon is served without a session, as SVG and as a real ICO; only GET", async () => {
    const svg = await call("/favicon.svg");
    expect(svg.status).toBe(200);
    expect(svg.headers.get("content-type")).toBe("image/svg+xml");
    expect(await svg.text()).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const ico = await call("/favicon.ico");
    expect(ico.status).toBe(200);
    expect(ico.headers.get("content-type")).toBe("image/x-icon");
    const bytes = new Uint8Array(await ico.arrayBuffer());
    expect([...bytes.slice(0, 8)]).toEqual([0, 0, 1, 0, 1, 0, 16, 16]); // ICO, one 16x16 image
    expect(bytes.length).toBe(6 + 16 + 40 + 16 * 16 * 4 + 16 * 4);
    for (const path of ["/favicon.svg", "/favicon.ico"]) {
      const post = await call(path, { method: "POST" });
      expect(post.status).toBe(405);
      expect(post.headers.get("allow")).toBe("GET, HEAD");
    }
  });
});

describe("settings page", () => {
  /** Signs in to a worker with these settings (the session is keyed by its API_TOKEN). */
  async function settingsPage(settings: Record<string, string>): Promise<string> {
    const token = settings.API_TOKEN ?? API_TOKEN;
    const signedIn = await callWith(settings, "/sign-in", {
      method: "POST",
      headers: { "content-type": FORM, origin: ORIGIN, "sec-fetch-site": "same-origin" },
      body: form({ token }),
      redirect: "manual",
    });
    expect(signedIn.status).toBe(303);
    const cookie = signedIn.headers.get("set-cookie")!.split(";")[0]!;
    const res = await callWith(settings, "/settings", { headers: { cookie } });
    expect(res.status).toBe(200);
    return res.text();
  }

  function finding(html: string, name: string): { level: string; text: string } {
    const m = new RegExp(`data-setting="${name}" data-level="([a-z]+)">([\\s\\S]*?)</li>`).exec(html);
    expect(m, name).not.toBeNull();
    return { level: m![1]!, text: textOf(m![2]!) };
  }

  it("says where the provider's keys come from, and a random value only for API_TOKEN", async () => {
    const dev = await settingsPage({ API_TOKEN: "dev-api-token", WEBHOOK_HMAC_KEY: "dev-webhook-key", SUNO_API_KEY: "dev-suno-key" });
    const hmac = finding(dev, "WEBHOOK_HMAC_KEY");
    expect(hmac.level).toBe("problem");
    expect(hmac.text).toContain("webhook signing key of your Suno API account");
    expect(hmac.text).toContain("webhook security settings of the provider's dashboard");
    expect(hmac.text).toContain("CALLBACK_TOKEN");
    expect(hmac.text).not.toMatch(/long random/i);
    const suno = finding(dev, "SUNO_API_KEY");
    expect(suno.level).toBe("problem");
    expect(suno.text).toContain("API key page of the provider's dashboard");
    expect(suno.text).not.toMatch(/random/i);
    const token = finding(dev, "API_TOKEN");
    expect(token.text).toContain("long random value");
    expect(token.text).toContain("openssl rand -hex 32");

    const unset = await settingsPage({ WEBHOOK_HMAC_KEY: "", SUNO_API_KEY: "" });
    expect(finding(unset, "WEBHOOK_HMAC_KEY").text).toContain("webhook security settings");
    expect(finding(unset, "SUNO_API_KEY").text).toContain("API key page");
    // A callback token instead of signatures is a documented choice: worth a look, not an error.
    const tokenOnly = finding(await settingsPage({ WEBHOOK_HMAC_KEY: "", CALLBACK_TOKEN: "a-callback-token-of-mine" }), "WEBHOOK_HMAC_KEY");
    expect(tokenOnly.level).toBe("warn");
    expect(tokenOnly.text).toContain("CALLBACK_TOKEN alone");
  });

  it("shows the effective non-secret settings, defaults included, and never a secret", async () => {
    const secrets = { CALLBACK_TOKEN: "callback-secret-value", PUBLIC_URL: "https://user:url-secret@edge.test/base" };
    const html = await settingsPage(secrets);
    const effective = (name: string) => {
      const m = new RegExp(`<dd data-effective="${name}">([\\s\\S]*?)</dd>`).exec(html);
      expect(m, name).not.toBeNull();
      return textOf(m![1]!).trim();
    };
    expect(effective("OVERDUE_AFTER_SECONDS")).toBe("300 s — 5 min");
    expect(effective("TASK_MAX_AGE_SECONDS")).toBe("86400 s — 24 h");
    expect(effective("PROVIDER_RETENTION_SECONDS")).toBe("1123200 s — 13 days");
    expect(effective("SOURCE_IDLE_TIMEOUT_SECONDS")).toBe("1 s");
    expect(effective("MAX_WAV_BYTES")).toBe(`${32 * 1024 * 1024} — 32 MiB`);
    expect(effective("SUNO_API_BASE")).toBe("https://provider.test");
    expect(effective("PUBLIC_URL")).toBe("https://edge.test/base");
    expect(effective("WAV_SOURCE_HOSTS")).toBe("(empty) — any public https host");
    expect(effective("NOTIFY_URL")).toBe("app.test — host only; announcements are on");
    expect(html).not.toContain("/hooks/wav");
    for (const secret of [API_TOKEN, HMAC_KEY, "test-suno-key", "callback-secret-value", "url-secret", String(env.NOTIFY_SECRET)]) expect(html).not.toContain(secret);
  });
});

describe("task pages in words", () => {
  it("a failed task that never had a URL says so, and its history reads as sentences", async () => {
    const { cookie } = await signIn();
    const taskId = uniqueTaskId("dash-fail");
    await sendCallback({ code: 451, msg: "source audio download failed", data: { task_id: taskId } });
    await waitForAnnounced(taskId, ["failed"]);
    const text = textOf(await page(`/tasks/${taskId}`, cookie));
    expect(text).toContain("none: the provider never gave a WAV URL");
    expect(text).toContain("none: there was nothing to fetch");
    expect(text).not.toContain("not known yet");
    expect(text).toContain("The provider called back: the conversion failed (code 451: the source audio could not be downloaded).");
    expect(text).toContain("Failed: the provider reported a failure (code 451: source audio download failed).");
    expect(text).not.toMatch(/retryable|nextAttemptAt|"code"|outcome:/);
  });

  it("a transfer being retried: its page says why in words with the next try, refreshes itself, and the overview lists it under Needs attention", async () => {
    const { cookie } = await signIn();
    const taskId = uniqueTaskId("dash-404");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, () => new Response("gone", { status: 404 }));
    await sendCallback(successBody(taskId, url));
    await expect.poll(async () => (await jsonOf(await api(`/api/tasks/${taskId}`))).error?.code, { timeout: 15_000 }).toBe("source_http_error");
    const html = await page(`/tasks/${taskId}`, cookie);
    expect(html).toMatch(/<body data-refresh="\d+">/);
    const text = textOf(html);
    expect(text).toMatch(/Transfer attempt 1 failed: the source answered 404 — next try in \d+ s\./);
    expect(text).toContain("Transfer attempt 1 started, from cdn.example.com.");
    expect(html).toMatch(/<time datetime="[^"]+Z" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">(just now|\d+ s ago)<\/time>/);

    const overview = await page("/", cookie);
    const attention = /<section id="attention">([\s\S]*?)<\/section>/.exec(overview)![1]!;
    expect(attention).toContain(`data-task-id="${taskId}" data-state="downloading"`);
    expect(textOf(attention)).toContain("retrying — source_http_error");
  });

  it("pages of finished tasks do not refresh themselves; a pending one does", async () => {
    const { cookie } = await signIn();
    const { taskId } = await storedTask();
    expect(await page(`/tasks/${taskId}`, cookie)).not.toContain("data-refresh");
    const pending = uniqueTaskId("dash-pending");
    expect((await api(`/api/tasks/${pending}`, { method: "PUT" })).status).toBe(201);
    expect(await page(`/tasks/${pending}`, cookie)).toMatch(/<body data-refresh="\d+">/);
  });

  it("Redeliver is offered only when notifications are on", async () => {
    const { cookie } = await signIn();
    const on = uniqueTaskId("dash-on");
    await sendCallback({ code: 451, msg: "no", data: { task_id: on } });
    await waitForAnnounced(on, ["failed"]);
    expect(await page(`/tasks/${on}`, cookie)).toContain(`action="/tasks/${on}/notify"`);

    // A task that ended while NOTIFY_URL was unset: the shards here all announce (test/vitest.config.ts),
    // so the page is rendered from such a task's JSON (the browser tests see one through HTTP).
    const task = (await jsonOf(await api(`/api/tasks/${on}`))) as TaskView;
    const off: TaskView = { ...task, notification: { state: "off", attempts: 0, lastStatus: null, nextAttemptAt: null, deliveredAt: null } };
    const html = String(await TaskPage({ csrf: "x", task: off, history: [], link: null, now: Date.now() }));
    expect(textOf(html)).toContain("off — NOTIFY_URL is not set");
    expect(html).not.toContain("/notify");
    expect(html).toContain(`action="/tasks/${on}/retry"`);
    expect(html).toContain(`action="/tasks/${on}/delete"`);
  });

  it("the task list shows a count on every state filter", async () => {
    const { cookie } = await signIn();
    const counts = (await jsonOf(await api("/api/stats"))).counts as Record<string, number>;
    const html = await page("/tasks", cookie);
    const shown = Object.fromEntries([...html.matchAll(/data-state="([a-z]+)">[a-z]+ <span class="filter-count">(\d+)<\/span>/g)].map((m) => [m[1], Number(m[2])]));
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(shown).toEqual({ all: total, ...counts });
  });
});

describe("deleting a task", () => {
  it("goes through DELETE /api/tasks/:taskId: the WAV, state and history are gone", async () => {
    const { cookie } = await signIn();
    const csrf = await csrfOf(cookie);
    const { taskId } = await storedTask();
    expect(await page(`/tasks/${taskId}`, cookie)).toMatch(new RegExp(`action="/tasks/${taskId}/delete" data-confirm="Delete task ${taskId}\\?`));

    const refused = await call(`/tasks/${taskId}/delete`, { method: "POST", headers: { cookie, "content-type": FORM, origin: "https://evil.example" }, body: form({ csrf }), redirect: "manual" });
    expect(refused.status).toBe(403);
    expect((await api(`/api/tasks/${taskId}`)).status).toBe(200);

    const res = await call(`/tasks/${taskId}/delete`, { method: "POST", headers: { cookie, "content-type": FORM, origin: ORIGIN }, body: form({ csrf }), redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/tasks?notice=deleted");
    expect((await jsonOf(await api(`/api/tasks/${taskId}`))).error.code).toBe("deleted");
    expect(await env.BUCKET.head(`wav/${taskId}.wav`)).toBeNull();
    expect(textOf(await page("/tasks?notice=deleted", cookie))).toContain("Task deleted: its WAV, state and history are gone.");

    const again = await call(`/tasks/${taskId}/delete`, { method: "POST", headers: { cookie, "content-type": FORM, origin: ORIGIN }, body: form({ csrf }), redirect: "manual" });
    expect(again.headers.get("location")).toBe("/tasks?notice=gone");
  });
});

// Last in this file: it reopens every failed task the file made.
describe("Retry all failed", () => {
  it("reopens the failed tasks through POST /api/tasks/retry?state=failed and says how many", async () => {
    const { cookie } = await signIn();
    const csrf = await csrfOf(cookie);
    const ids = [uniqueTaskId("dash-all"), uniqueTaskId("dash-all")];
    for (const id of ids) {
      await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: id } });
      await waitForAnnounced(id, ["failed"]);
    }
    const overview = await page("/", cookie);
    expect(overview).toMatch(/<form method="post" action="\/retry-failed" class="inline" data-confirm="Retry all \d+ failed tasks? now\?">/);

    const refused = await call("/retry-failed", { method: "POST", headers: { cookie, "content-type": FORM, origin: "https://evil.example" }, body: form({ csrf }), redirect: "manual" });
    expect(refused.status).toBe(403);
    for (const id of ids) expect((await jsonOf(await api(`/api/tasks/${id}`))).state).toBe("failed");

    const res = await call("/retry-failed", { method: "POST", headers: { cookie, "content-type": FORM, origin: ORIGIN }, body: form({ csrf, back: "failed" }), redirect: "manual" });
    expect(res.status).toBe(303);
    const to = res.headers.get("location")!;
    expect(to).toMatch(/^\/tasks\?state=failed&notice=bulk-retried&n=\d+&left=0$/);
    for (const id of ids) expect((await jsonOf(await api(`/api/tasks/${id}`))).state).toBe("pending");
    const n = Number(/n=(\d+)/.exec(to)![1]);
    expect(n).toBeGreaterThanOrEqual(2);
    expect(textOf(await page(to, cookie))).toContain(`Retry requested for ${n} failed tasks: they have another go now.`);
  });
});
