// GET /api/stats/charts (README, "Dashboard" → "Charts"): the numbers of a known set of tasks,
// driven to stored and failed through the HTTP surface at known (fake) times, read back from the
// shards' counters — per hour, per day (percentiles from the histogram's buckets), by error code,
// and by announcement outcome. The window is read at the real time.
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ChartsSchema as ChartsAnswer } from "../../../src/openapi/schemas";
import { shardNumberOf } from "../../../src/shard/shards";
import { bucketEstimate, DAY_MS, dayOf, durationBucket, HOUR_MS, hourOf, WINDOW_HOURS } from "../../../src/task/stats";
import { runDue, shardOf } from "../../helpers/durable";
import { NOTIFY_URL, route } from "../../helpers/fake-net";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, call, getTask, jsonOf, sendCallback, successBody, uniqueTaskId, waitForAnnounced, waitForState } from "../../helpers/worker";

afterEach(() => {
  vi.useRealTimers();
});

type Charts = ReturnType<typeof ChartsAnswer.parse>;

async function charts(): Promise<Charts> {
  const res = await api("/api/stats/charts");
  expect(res.status).toBe(200);
  return ChartsAnswer.parse(await jsonOf(res)); // the answer is what its schema says
}

function at(ms: number): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(ms);
}

/** A WAV task registered at `registeredAt` whose callback comes `afterMs` later; stored and announced then. */
async function storedAfter(registeredAt: number, afterMs: number): Promise<string> {
  const taskId = uniqueTaskId("chart");
  const url = `https://cdn.example.com/${taskId}.wav`;
  route("GET", url, () => wavResponse(makeWav({ seconds: 0.1 })));
  at(registeredAt);
  expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);
  at(registeredAt + afterMs);
  expect((await sendCallback(successBody(taskId, url))).status).toBe(200);
  await waitForAnnounced(taskId, ["stored"]);
  return taskId;
}

async function failedWith(when: number, code: number): Promise<string> {
  const taskId = uniqueTaskId("chart");
  at(when);
  expect((await sendCallback({ code, msg: "conversion failed", data: { task_id: taskId } })).status).toBe(200);
  await waitForAnnounced(taskId, ["failed"]);
  return taskId;
}

const failuresOf = (c: Charts) => Object.fromEntries(c.failures.map((f) => [f.code, f.count]));

describe("GET /api/stats/charts", () => {
  it("counts a known set of tasks per hour, per day (p50/p95 from buckets), by code and by announcement outcome", async () => {
    const before = await charts();
    // Three days ago, five minutes into an hour: every step below stays within that hour and day.
    const hour0 = (hourOf(Date.now()) - 72) * HOUR_MS;
    const t0 = hour0 + 5 * 60_000;

    // Four tasks stored 10 s, 20 s, 40 s and 10 min after registration.
    for (const seconds of [10, 20, 40, 600]) await storedAfter(t0, seconds * 1000);

    // Three provider failures (codes 531, 531, 532) and a WAV that is not one (not_a_wav), an hour later.
    const hour1 = hour0 + HOUR_MS;
    await failedWith(hour1 + 60_000, 531);
    await failedWith(hour1 + 61_000, 531);
    await failedWith(hour1 + 62_000, 532);
    const notWav = uniqueTaskId("chart");
    route("GET", `https://cdn.example.com/${notWav}.wav`, () => new Response("<html>nope</html>", { headers: { "content-type": "text/html" } }));
    at(hour1 + 63_000);
    await sendCallback(successBody(notWav, `https://cdn.example.com/${notWav}.wav`));
    await waitForAnnounced(notWav, ["failed"]);
    expect((await getTask(notWav))!.error!.code).toBe("not_a_wav");

    // A day earlier: one announcement delivered at its second attempt, one the app refuses for good (410).
    const hour2 = hour0 - 24 * HOUR_MS;
    let refusals = 0;
    route("POST", NOTIFY_URL, () => new Response(null, { status: refusals++ === 0 ? 500 : 204 }));
    at(hour2 + 60_000);
    const retried = uniqueTaskId("chart");
    route("GET", `https://cdn.example.com/${retried}.wav`, () => wavResponse(makeWav({ seconds: 0.1 })));
    await sendCallback(successBody(retried, `https://cdn.example.com/${retried}.wav`));
    await waitForState(retried, ["stored"]);
    await expect.poll(async () => (await getTask(retried))!.notification.lastStatus, { timeout: 10_000 }).toBe(500);
    at(hour2 + 120_000); // past the 5 s retry
    await runDue(retried);
    await expect.poll(async () => (await getTask(retried))!.notification.state, { timeout: 10_000 }).toBe("delivered");
    route("POST", NOTIFY_URL, () => new Response(null, { status: 410 }));
    const refused = uniqueTaskId("chart");
    route("GET", `https://cdn.example.com/${refused}.wav`, () => wavResponse(makeWav({ seconds: 0.1 })));
    await sendCallback(successBody(refused, `https://cdn.example.com/${refused}.wav`));
    await expect.poll(async () => (await getTask(refused))!.notification.state, { timeout: 10_000 }).toBe("failed");
    vi.useRealTimers();

    const after = await charts();
    expect(after.hourly).toHaveLength(WINDOW_HOURS);
    expect(after.durations.days).toHaveLength(7);
    const hourEntry = (ms: number) => after.hourly.find((h) => h.hour === new Date(ms).toISOString());
    expect(hourEntry(hour0)).toEqual({ hour: new Date(hour0).toISOString(), stored: 4, failed: 0 });
    expect(hourEntry(hour1)).toEqual({ hour: new Date(hour1).toISOString(), stored: 0, failed: 4 });
    expect(hourEntry(hour2)).toEqual({ hour: new Date(hour2).toISOString(), stored: 2, failed: 0 });
    expect(after.totals.stored - before.totals.stored).toBe(6);
    expect(after.totals.failed - before.totals.failed).toBe(4);

    // The day of the four: p50 is the 2nd of 4 (20 s), p95 the 4th (600 s), each its bucket's estimate.
    const day = after.durations.days.find((d) => d.day === new Date(dayOf(t0) * DAY_MS).toISOString().slice(0, 10))!;
    expect(day.stored).toBe(4);
    expect(day.p50Seconds).toBeCloseTo(bucketEstimate(durationBucket(20_000)), 3);
    expect(day.p95Seconds).toBeCloseTo(bucketEstimate(durationBucket(600_000)), 3);
    expect(Math.abs(day.p50Seconds! - 20) / 20).toBeLessThan(0.1);
    expect(Math.abs(day.p95Seconds! - 600) / 600).toBeLessThan(0.1);
    expect(after.durations.note).toMatch(/histogram buckets/);

    const failures = failuresOf(after);
    const was = failuresOf(before);
    expect((failures["531"] ?? 0) - (was["531"] ?? 0)).toBe(2);
    expect((failures["532"] ?? 0) - (was["532"] ?? 0)).toBe(1);
    expect((failures.not_a_wav ?? 0) - (was.not_a_wav ?? 0)).toBe(1);
    expect(after.failures.map((f) => f.count)).toEqual([...after.failures.map((f) => f.count)].sort((a, b) => b - a));

    // Eight announced at the first attempt (4 stored, 4 failed), one after a retry, one given up.
    expect(after.announcements.deliveredFirstAttempt - before.announcements.deliveredFirstAttempt).toBe(8);
    expect(after.announcements.deliveredAfterRetries - before.announcements.deliveredAfterRetries).toBe(1);
    expect(after.announcements.failed - before.announcements.failed).toBe(1);
  });

  it("p50 and p95 of a day alone, and a day without stored tasks is null", async () => {
    // Five days ago: ten tasks, stored 1 s … 9 s and 100 s after registration (in many shards).
    const hour = (hourOf(Date.now()) - 5 * 24) * HOUR_MS;
    const t0 = hour + 60_000;
    for (const s of [1, 2, 3, 4, 5, 6, 7, 8, 9, 100]) await storedAfter(t0, s * 1000);
    vi.useRealTimers();
    const c = await charts();
    const day = c.durations.days.find((d) => d.day === new Date(dayOf(t0) * DAY_MS).toISOString().slice(0, 10))!;
    expect(day.stored).toBe(10);
    expect(day.p50Seconds).toBeCloseTo(bucketEstimate(durationBucket(5000)), 3); // the 5th of 10
    expect(day.p95Seconds).toBeCloseTo(bucketEstimate(durationBucket(100_000)), 3); // the 10th
    // The day before: nothing in this file was stored then.
    const empty = c.durations.days.find((d) => d.day === new Date((dayOf(t0) - 1) * DAY_MS).toISOString().slice(0, 10));
    expect(empty).toEqual({ day: new Date((dayOf(t0) - 1) * DAY_MS).toISOString().slice(0, 10), stored: 0, p50Seconds: null, p95Seconds: null });
  });

  it("keeps only the window: older counters are pruned from a shard when it counts again", async () => {
    const old = uniqueTaskId("chart-old");
    let recent = uniqueTaskId("chart-new"); // a task of the same shard, counted now
    while (shardNumberOf(recent) !== shardNumberOf(old)) recent = uniqueTaskId("chart-new");
    const tenDaysAgo = Date.now() - 10 * DAY_MS;
    const rows = () =>
      runInDurableObject(shardOf(old), (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM stat_hours WHERE hour = ?", hourOf(tenDaysAgo)).one().n);
    at(tenDaysAgo);
    expect((await sendCallback({ code: 534, msg: "x", data: { task_id: old } })).status).toBe(200);
    await waitForAnnounced(old, ["failed"]);
    vi.useRealTimers();
    expect(await rows()).toBeGreaterThan(0);
    expect(failuresOf(await charts())["534"]).toBeUndefined(); // outside the window
    expect((await sendCallback({ code: 535, msg: "x", data: { task_id: recent } })).status).toBe(200);
    await waitForAnnounced(recent, ["failed"]);
    expect(await rows()).toBe(0);
    expect(failuresOf(await charts())["535"]).toBe(1);
  });

  it("needs the bearer token", async () => {
    const res = await call("/api/stats/charts");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });
});
