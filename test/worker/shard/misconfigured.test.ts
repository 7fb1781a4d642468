// Issue 18's finding: unusable settings made a shard's alarm re-fire at once, forever (an alarm
// storm at 100% CPU). Now the alarm looks again in 5 minutes; /healthz answers 503 `misconfigured`
// without naming the setting; the dashboard's settings page names it.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runDue, shardOf, storedTask } from "../../helpers/durable";
import { route } from "../../helpers/fake-net";
import { atTime, restoreEnv, swapEnv } from "../../helpers/objects";
import { makeWav, wavResponse } from "../../helpers/wav";
import { API_TOKEN, call, callWith, getTask, jsonOf, ORIGIN, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";

const BAD = { OVERDUE_AFTER_SECONDS: "abc" };
const FIVE_MINUTES = 5 * 60_000;

const swapped: DurableObjectStub[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const stub of swapped.splice(0)) await restoreEnv(stub);
});

describe("a shard's alarm with unusable settings", () => {
  it("sets its next alarm at least 5 minutes ahead instead of firing again at once, and hands out nothing", async () => {
    const taskId = uniqueTaskId("cfg");
    const url = `https://cdn.example.com/${taskId}.wav`;
    let n = 0;
    route("GET", url, () => (++n === 1 ? new Response("busy", { status: 503 }) : wavResponse(makeWav())));
    await sendCallback(successBody(taskId, url));
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe("source_http_error");
    const due = Date.parse((await getTask(taskId))!.nextAttemptAt!);

    // The second attempt is due, and the shard's settings have become unusable.
    const shard = shardOf(taskId);
    await swapEnv(shard, BAD);
    swapped.push(shard);
    const at = due + 1_000;
    expect(await atTime(at, () => runDurableObjectAlarm(shard))).toBe(true);
    const next = await runInDurableObject(shard, (_i, state) => state.storage.getAlarm());
    expect(next).not.toBeNull();
    expect(next! - at).toBeGreaterThanOrEqual(FIVE_MINUTES);
    // Nothing was handed to the runner.
    expect(n).toBe(1);
    expect((await storedTask(taskId))?.files[0]).toMatchObject({ running: null, attempts: 1 });

    // Once the settings are usable again, the next alarm hands the transfer out as usual.
    await restoreEnv(shard);
    swapped.length = 0;
    await atTime(at, () => runDue(taskId));
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
    expect(n).toBe(2);
  });
});

describe("GET /healthz", () => {
  it("answers 200 {ok: true} with usable settings", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual({ ok: true });
  });

  it("answers 503 misconfigured without naming the setting or its value", async () => {
    const res = await callWith(BAD, "/healthz");
    expect(res.status).toBe(503);
    const text = await res.text();
    const body = JSON.parse(text) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("misconfigured");
    expect(text).not.toContain("OVERDUE_AFTER_SECONDS");
    expect(text).not.toContain("abc");
  });
});

describe("the dashboard's settings page", () => {
  /** GET /settings for a person who signed in while the settings were fine (the cookie is keyed by API_TOKEN alone). */
  async function settingsWithBadSettings(): Promise<Response> {
    const signedIn = await call("/sign-in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "sec-fetch-site": "same-origin" },
      body: new URLSearchParams({ token: API_TOKEN }).toString(),
      redirect: "manual",
    });
    expect(signedIn.status).toBe(303);
    const cookie = signedIn.headers.get("set-cookie")!.split(";")[0]!;
    return callWith(BAD, "/settings", { headers: { cookie } });
  }

  it("names the unusable setting", async () => {
    const html = await (await settingsWithBadSettings()).text();
    expect(html).toContain("OVERDUE_AFTER_SECONDS");
    expect(html).not.toContain(API_TOKEN);
  });

  it("is the settings page with its check (a `configuration` problem), not an error page in its place", async () => {
    const res = await settingsWithBadSettings();
    const html = await res.text();
    expect(res.status).toBe(200);
    const finding = /data-setting="configuration" data-level="problem">([\s\S]*?)<\/li>/.exec(html);
    expect(finding?.[1]).toContain("OVERDUE_AFTER_SECONDS");
  });
});
