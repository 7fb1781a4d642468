// Limits on guessing the API token (README, "Security" → "Rate limits"), with the real Workers Rate
// Limiting binding from wrangler.toml: /api/* requests with a missing or wrong bearer token count
// per client address; past 10 a minute that address gets 429 with Retry-After in the API's JSON
// error shape. Requests with the right token and callbacks are never limited. API_TOKEN_NEXT is
// accepted beside API_TOKEN.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../../src/app";
import { route } from "../../helpers/fake-net";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, API_TOKEN, call, jsonOf, ORIGIN, randomAddress, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";

/** Windows are counted on the wall clock: a test that fills one waits if it is about to roll over. */
async function awayFromWindowEdge(): Promise<void> {
  const into = (Date.now() / 1000) % 60;
  if (into > 45) await new Promise((r) => setTimeout(r, (61 - into) * 1000));
}

describe("wrong bearer tokens are limited per address", () => {
  it("10 failures a minute are 401; then 429 with Retry-After and the JSON error shape, until the window passes", async () => {
    await awayFromWindowEdge();
    const address = randomAddress();
    const from = (authorization?: string) =>
      call("/api/tasks", { headers: { "cf-connecting-ip": address, ...(authorization === undefined ? {} : { authorization }) } });
    // Missing, malformed and wrong all count.
    const tries = [undefined, "Basic abc", "Bearer", ...Array.from({ length: 7 }, (_, i) => `Bearer wrong-${i}`)];
    for (const [i, authorization] of tries.entries()) {
      const res = await from(authorization);
      expect(res.status, `try ${i + 1}: ${authorization}`).toBe(401);
      await res.body?.cancel();
    }
    for (const authorization of ["Bearer wrong-again", undefined]) {
      const res = await from(authorization);
      expect(res.status).toBe(429);
      const retryAfter = Number(res.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(res.headers.get("content-type")).toContain("application/json");
      const body = await jsonOf(res);
      expect(body.error.code).toBe("rate_limited");
      expect(body.error.message).toMatch(/try again in \d+ s/);
      expect(JSON.stringify(body)).not.toContain("wrong-again");
    }
    // The right token from another address works; so does it from this one: authenticated requests are never limited.
    expect((await api("/api/stats", { headers: { "cf-connecting-ip": randomAddress() } })).status).toBe(200);
    expect((await api("/api/stats", { headers: { "cf-connecting-ip": address } })).status).toBe(200);
    // Callbacks from that address are not limited either.
    const taskId = uniqueTaskId("limited");
    const cb = await sendCallback({ code: 451, msg: "no", data: { task_id: taskId } }, { headers: { "cf-connecting-ip": address } });
    expect(cb.status).toBe(200);
  });

  it("300 authenticated calls in a burst from one address are all answered 200", async () => {
    const address = randomAddress();
    const taskId = uniqueTaskId("burst");
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);
    const answers = await Promise.all(Array.from({ length: 300 }, () => api(`/api/tasks/${taskId}`, { headers: { "cf-connecting-ip": address } })));
    const statuses = await Promise.all(
      answers.map(async (r) => {
        await r.body?.cancel();
        return r.status;
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // And they did not count: 10 wrong ones from that address are still 401.
    await awayFromWindowEdge();
    for (let i = 0; i < 10; i++) {
      const res = await call("/api/stats", { headers: { "cf-connecting-ip": address, authorization: `Bearer nope-${i}` } });
      expect(res.status).toBe(401);
      await res.body?.cancel();
    }
  }, 90_000);
});

describe("API_TOKEN_NEXT", () => {
  const NEXT = "rotation-next-token-abcdef";
  const request = (token: string, overrides: Partial<Env>) =>
    app.request(`${ORIGIN}/api/stats`, { headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": randomAddress() } }, { ...env, ...overrides });

  it("is accepted beside API_TOKEN while set, and not once unset", async () => {
    expect((await request(API_TOKEN, { API_TOKEN_NEXT: NEXT })).status).toBe(200);
    expect((await request(NEXT, { API_TOKEN_NEXT: NEXT })).status).toBe(200);
    expect((await request(NEXT, {})).status).toBe(401);
    expect((await request("neither", { API_TOKEN_NEXT: NEXT })).status).toBe(401);
  });

  it("download links stay signed with API_TOKEN's key: one made with API_TOKEN_NEXT set works without it, and ends when API_TOKEN changes", async () => {
    const taskId = uniqueTaskId("next-link");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 1 });
    route("GET", url, () => wavResponse(wav));
    await sendCallback(successBody(taskId, url));
    await waitForState(taskId, ["stored"]);
    const made = await app.request(
      `${ORIGIN}/api/tasks/${taskId}/link`,
      { headers: { authorization: `Bearer ${NEXT}`, "cf-connecting-ip": randomAddress() } },
      { ...env, API_TOKEN_NEXT: NEXT },
    );
    expect(made.status).toBe(200);
    const link = new URL((await jsonOf(made)).url);
    const open = (overrides: Partial<Env>) => app.request(`${ORIGIN}${link.pathname}${link.search}`, { headers: { "cf-connecting-ip": randomAddress() } }, { ...env, ...overrides });
    const same = await open({});
    expect(same.status).toBe(200);
    expect(new Uint8Array(await same.arrayBuffer())).toEqual(wav);
    const rotated = await open({ API_TOKEN: NEXT });
    expect(rotated.status).toBe(403);
  });
});
