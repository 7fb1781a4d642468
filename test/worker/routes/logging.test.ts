// Secrets never reach logs or answers (SPEC "Configuration"): every console.* call made while
// the Worker (and its Durable Objects, same isolate) handles requests that carry each secret is
// captured and searched, along with every answer's body and headers.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { route } from "../../helpers/fake-net";
import { makeWav, wavResponse } from "../../helpers/wav";
import { API_TOKEN, callWith, HMAC_KEY, ORIGIN, signature, uniqueTaskId, waitForState } from "../../helpers/worker";

const CALLBACK_TOKEN = "cb-token-7f3a9d1e5b";
const SUNO_API_KEY = "test-suno-key"; // test/vitest.config.ts
const WAV_QUERY_SECRET = "X-Amz-Signature=5e1f0c0ffee0ddba11";
const NOTIFY_SECRET = "whsec_dGVzdC1ub3RpZnktc2VjcmV0LTMyLWJ5dGVzLWxvbmchIQ=="; // test/vitest.config.ts
const SECRETS = [CALLBACK_TOKEN, API_TOKEN, HMAC_KEY, SUNO_API_KEY, WAV_QUERY_SECRET, "5e1f0c0ffee0ddba11", NOTIFY_SECRET, NOTIFY_SECRET.slice(6)];
const SETTINGS = { CALLBACK_TOKEN };
const GENERATE = "https://provider.test/api/v1/wav/generate";

const METHODS = ["log", "warn", "error", "info", "debug"] as const;
let logged: unknown[][] = [];

beforeEach(() => {
  logged = [];
  for (const m of METHODS) vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void logged.push(args));
});
afterEach(() => {
  vi.restoreAllMocks();
});

function stringify(arg: unknown): string {
  if (arg instanceof Error) return `${arg.name} ${arg.message} ${arg.stack ?? ""} ${String(arg.cause ?? "")}`;
  if (typeof arg === "string") return arg;
  try {
    return `${JSON.stringify(arg)} ${String(arg)}`;
  } catch {
    return String(arg);
  }
}

const answers: string[] = [];

async function send(path: string, init: RequestInit = {}, settings: Record<string, string> = SETTINGS): Promise<Response> {
  const res = await callWith(settings, path, init);
  // The bytes, decoded here: an answer may be a WAV, and .text() on audio/wav makes workerd warn.
  const text = new TextDecoder().decode(await res.clone().arrayBuffer());
  answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${text}`);
  return res;
}

async function callback(body: unknown, query: string, taskId: string): Promise<Response> {
  const ts = Math.floor(Date.now() / 1000);
  return send(`/callbacks/wav${query}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-webhook-timestamp": String(ts), "x-webhook-signature": await signature(taskId, ts) },
    body: JSON.stringify(body),
  });
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe("logging", () => {
  it("no secret or signed query reaches a log line or an answer; each request gets one query-less line", async () => {
    answers.length = 0;
    // A stored WAV whose URL carries a signed query.
    const stored = uniqueTaskId("log");
    const wavUrl = `https://cdn.example.com/${stored}.wav?${WAV_QUERY_SECRET}&X-Amz-Credential=abc`;
    route("GET", wavUrl, () => wavResponse(makeWav({ seconds: 0.25 })));
    expect((await callback({ code: 200, msg: "success", data: { task_id: stored, audioWavUrl: wavUrl } }, `?token=${CALLBACK_TOKEN}`, stored)).status).toBe(200);
    await waitForState(stored, ["stored"]);

    // Sources that fail: a 403, one that cannot be reached (no route: fake-net throws with the URL).
    const refused = uniqueTaskId("log");
    const refusedUrl = `https://cdn.example.com/${refused}.wav?${WAV_QUERY_SECRET}`;
    route("GET", refusedUrl, () => new Response(`denied ${refusedUrl}`, { status: 403 }));
    await callback({ code: 200, data: { task_id: refused, audio_wav_url: refusedUrl } }, `?token=${CALLBACK_TOKEN}`, refused);
    const unreachable = uniqueTaskId("log");
    await callback({ code: 200, data: { task_id: unreachable, audioWavUrl: `https://nowhere.example.com/x.wav?${WAV_QUERY_SECRET}` } }, `?token=${CALLBACK_TOKEN}`, unreachable);
    await expect.poll(async () => (await waitForState(refused, ["downloading", "failed"])).error?.code).toBe("source_http_error");
    await expect.poll(async () => (await waitForState(unreachable, ["downloading", "failed"])).error?.code).toBe("source_unreachable");

    // Wrong token, bad callback, wrong bearer, good bearer, signed link (good and altered).
    expect((await callback({ code: 500, data: { task_id: refused } }, `?token=${CALLBACK_TOKEN}x`, refused)).status).toBe(401);
    expect((await callback({ code: "x", data: {} }, `?token=${CALLBACK_TOKEN}`, "")).status).toBe(400);
    expect((await send(`/api/tasks/${stored}`, bearer(`${API_TOKEN}-wrong`))).status).toBe(401);
    expect((await send(`/api/tasks/${stored}`, bearer(API_TOKEN))).status).toBe(200);
    // (The link's own answer is the one place its sig belongs, so it is not searched.)
    const link = (await (await callWith(SETTINGS, `/api/tasks/${stored}/link`, bearer(API_TOKEN))).json()) as { url: string };
    const sig = new URL(link.url).searchParams.get("sig")!;
    expect((await send(link.url.slice(ORIGIN.length))).status).toBe(200);
    expect((await send(link.url.slice(ORIGIN.length).replace(/sig=./, "sig=0"))).status).toBe(403);

    // A provider that quotes the callBackUrl (with its token) back in an error.
    route("POST", GENERATE, async (req) => {
      const sent = (await req.json()) as { callBackUrl: string };
      return Response.json({ code: 400, msg: `callBackUrl ${sent.callBackUrl} is not reachable`, data: null });
    });
    const submit = await send("/api/tasks", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${API_TOKEN}` }, body: JSON.stringify({ taskId: "m", audioId: "a" }) });
    expect(submit.status).toBe(502);

    // A misconfigured deployment, called with the token.
    const bad = await send(`/callbacks/wav?token=${CALLBACK_TOKEN}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }, { ...SETTINGS, WAV_SOURCE_HOSTS: "https://cdn.example.com" });
    expect(bad.status).toBe(500);

    const lines = logged.map((args) => args.map(stringify).join(" "));
    for (const secret of [...SECRETS, sig]) {
      for (const line of lines) expect(line, `a log line carries ${secret}`).not.toContain(secret);
      for (const answer of answers) expect(answer, `an answer carries ${secret}`).not.toContain(secret);
    }

    const requestLines = lines.filter((l) => l.startsWith('{"event":"request"')).map((l) => JSON.parse(l));
    expect(requestLines).toContainEqual({ event: "request", method: "POST", path: "/callbacks/wav", status: 200, ms: expect.any(Number) });
    expect(requestLines).toContainEqual({ event: "request", method: "POST", path: "/callbacks/wav", status: 401, ms: expect.any(Number) });
    expect(requestLines).toContainEqual({ event: "request", method: "POST", path: "/callbacks/wav", status: 500, ms: expect.any(Number) });
    expect(requestLines).toContainEqual({ event: "request", method: "GET", path: `/api/tasks/${stored}/wav`, status: 403, ms: expect.any(Number) });
    expect(requestLines).toContainEqual({ event: "request", method: "POST", path: "/api/tasks", status: 502, ms: expect.any(Number) });
    // One line per request sent here (waitForState's own calls go through another entry point).
    expect(requestLines.length).toBeGreaterThanOrEqual(answers.length);
  });

  it("API_TOKEN_NEXT, sign-in (right, wrong, limited), sessions and /openapi.json: no token and no session id in a log line or another answer", async () => {
    answers.length = 0;
    const NEXT = "next-api-token-9c1d7e3f5a2b";
    const settings = { ...SETTINGS, API_TOKEN_NEXT: NEXT };
    const form = (token: string) => ({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "sec-fetch-site": "same-origin", "cf-connecting-ip": "198.51.100.200" },
      body: new URLSearchParams({ token }).toString(),
      redirect: "manual" as const,
    });
    expect((await send("/api/stats", bearer(NEXT), settings)).status).toBe(200);
    expect((await send("/api/stats", bearer(`${NEXT}-wrong`), settings)).status).toBe(401);
    // The sign-in answer is the one place the session id belongs (Set-Cookie): kept out of the search.
    const signedIn = await callWith(settings, "/sign-in", form(NEXT));
    expect(signedIn.status).toBe(303);
    const cookie = signedIn.headers.get("set-cookie")!.split(";")[0]!;
    const sessionId = cookie.slice(cookie.indexOf("=") + 1);
    expect((await send("/settings", { headers: { cookie } }, settings)).status).toBe(200);
    // Rate-limit windows are counted on the wall clock: not across a window's end.
    const into = (Date.now() / 1000) % 60;
    if (into > 50) await new Promise((r) => setTimeout(r, (61 - into) * 1000));
    for (let i = 0; i < 11; i++) await send("/sign-in", form(`${NEXT}-guess-${i}`), settings);
    expect(answers.at(-1)).toMatch(/^429 /);
    expect((await send("/openapi.json", {}, settings)).status).toBe(200);

    const lines = logged.map((args) => args.map(stringify).join(" "));
    for (const secret of [...SECRETS, NEXT, sessionId]) {
      for (const line of lines) expect(line, `a log line carries ${secret}`).not.toContain(secret);
      for (const answer of answers) expect(answer, `an answer carries ${secret}`).not.toContain(secret);
    }
  });
});
