// Announcements end to end inside the worker: a task that ends stored or failed is announced to
// NOTIFY_URL (the fake app of test/helpers/fake-net.ts), retried durably from the shard's and the
// runner's alarms, and redelivered on request. Every request the app receives is checked with the
// standardwebhooks package's Webhook.verify — a verifier no one here wrote.
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runDue } from "../../helpers/durable";
import { NOTIFY_URL, requestsTo, route, type SeenRequest } from "../../helpers/fake-net";
import { makeWav, sha256Hex, wavResponse } from "../../helpers/wav";
import { api, call, callWith, getTask, jsonOf, ORIGIN, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";

const SECRET = env.NOTIFY_SECRET; // test/vitest.config.ts

afterEach(() => {
  vi.useRealTimers();
});

type Announcement = { type: string; timestamp: string; data: Record<string, unknown> & { taskId: string; downloadUrl?: string; downloadExpiresAt?: string } };

function verified(r: SeenRequest): Announcement {
  return new Webhook(SECRET).verify(r.body ?? "", Object.fromEntries(r.headers)) as Announcement;
}

/** The announcements the app received for one task, in order. */
function announcementsFor(taskId: string): { request: SeenRequest; body: Announcement }[] {
  return requestsTo(NOTIFY_URL)
    .map((request) => ({ request, body: verified(request) }))
    .filter((a) => a.body.data.taskId === taskId);
}

async function notificationState(taskId: string, state: string) {
  await expect.poll(async () => (await getTask(taskId))?.notification.state, { timeout: 10_000 }).toBe(state);
  return (await getTask(taskId))!;
}

/** Moves the clock to the announcement's next attempt and runs what is due. */
async function nextAttempt(taskId: string) {
  const at = Date.parse((await getTask(taskId))!.notification.nextAttemptAt!);
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Math.max(Date.now(), at) + 1);
  await runDue(taskId);
  vi.useRealTimers();
}

async function storedTask(wav = makeWav({ seconds: 1 })): Promise<string> {
  const taskId = uniqueTaskId("ann");
  const url = `https://cdn.example.com/${taskId}.wav`;
  route("GET", url, () => wavResponse(wav));
  await sendCallback(successBody(taskId, url));
  await waitForState(taskId, ["stored"]);
  return taskId;
}

describe("announcements", () => {
  it("a stored task is announced, signed, with a download link that works without the bearer", async () => {
    const wav = makeWav({ seconds: 1, seed: 12 });
    const taskId = await storedTask(wav);
    const task = await notificationState(taskId, "delivered");
    const [a, ...more] = announcementsFor(taskId);
    expect(more).toHaveLength(0);
    expect(a!.request.headers.get("webhook-id")).toMatch(/^msg_/);
    expect(a!.request.headers.get("content-type")).toBe("application/json");
    expect(a!.body).toMatchObject({ type: "wav.stored", data: { taskId, state: "stored", wav: { sha256: await sha256Hex(wav) } } });
    expect(Date.parse(a!.body.timestamp)).toBeLessThanOrEqual(Date.parse(task.notification.deliveredAt!));
    expect(Date.parse(a!.body.data.downloadExpiresAt!) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);

    const link = a!.body.data.downloadUrl!;
    expect(link.startsWith(`${ORIGIN}/api/tasks/${taskId}/wav?`)).toBe(true);
    const download = await call(link.slice(ORIGIN.length)); // no Authorization header
    expect(download.status).toBe(200);
    expect(await sha256Hex(await download.arrayBuffer())).toBe(await sha256Hex(wav));

    expect(task.notification).toMatchObject({ state: "delivered", attempts: 1, lastStatus: 204, nextAttemptAt: null });
    const { events } = await jsonOf(await api(`/api/tasks/${taskId}/events`));
    expect(events.at(-1)).toMatchObject({ type: "notification", attempt: 1, status: 204, outcome: "delivered" });
  });

  it("a failed task is announced as wav.failed, without a link", async () => {
    const taskId = uniqueTaskId("ann");
    await sendCallback({ code: 451, msg: "source download failed", data: { task_id: taskId } });
    await notificationState(taskId, "delivered");
    const [a] = announcementsFor(taskId);
    expect(a!.body).toMatchObject({ type: "wav.failed", data: { taskId, state: "failed", error: { code: "451", message: "source download failed" } } });
    expect(a!.body.data.downloadUrl).toBeUndefined();
  });

  it("500, 500, 200: three attempts with one webhook-id, then delivered", async () => {
    const taskId = uniqueTaskId("ann");
    const answers = [500, 500, 200];
    route("POST", NOTIFY_URL, async (req) => {
      const body = JSON.parse(await req.text()) as Announcement;
      return new Response(null, { status: body.data.taskId === taskId ? answers.shift()! : 204 });
    });
    await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: taskId } });
    await expect.poll(async () => (await getTask(taskId))?.notification.lastStatus, { timeout: 10_000 }).toBe(500);
    const first = (await getTask(taskId))!.notification;
    expect(first).toMatchObject({ state: "pending", attempts: 1 });
    // The second attempt is planned 5 s after the first failed one.
    expect(Date.parse(first.nextAttemptAt!) - Date.now()).toBeLessThanOrEqual(5_000);
    await nextAttempt(taskId);
    expect((await getTask(taskId))!.notification).toMatchObject({ state: "pending", attempts: 2, lastStatus: 500 });
    await nextAttempt(taskId);
    const done = await notificationState(taskId, "delivered");
    expect(done.notification).toMatchObject({ attempts: 3, lastStatus: 200 });
    const sent = announcementsFor(taskId);
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((s) => s.request.headers.get("webhook-id"))).size).toBe(1);
    const { events } = await jsonOf(await api(`/api/tasks/${taskId}/events`));
    expect(events.filter((e: { type: string }) => e.type === "notification").map((e: { outcome: string }) => e.outcome)).toEqual(["retrying", "retrying", "delivered"]);
  });

  it("410 stops at once: one attempt, failed", async () => {
    const taskId = uniqueTaskId("ann");
    route("POST", NOTIFY_URL, () => new Response("gone", { status: 410 }));
    await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: taskId } });
    const task = await notificationState(taskId, "failed");
    expect(task.notification).toMatchObject({ attempts: 1, lastStatus: 410, nextAttemptAt: null });
    expect(announcementsFor(taskId)).toHaveLength(1);
  });

  it("an app slower than 15 s is a failed attempt and holds up nothing else", { timeout: 40_000 }, async () => {
    const slow = uniqueTaskId("slow");
    route("POST", NOTIFY_URL, async (req) => {
      const body = JSON.parse(await req.text()) as Announcement;
      if (body.data.taskId === slow) await new Promise(() => {}); // never answers
      return new Response(null, { status: 204 });
    });
    const started = Date.now();
    await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: slow } });
    await expect.poll(async () => announcementsFor(slow).length, { timeout: 5_000 }).toBe(1);
    // Meanwhile another task is stored and announced at once.
    const other = await storedTask();
    await notificationState(other, "delivered");
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect.poll(async () => (await getTask(slow))?.notification.attempts === 1 && (await getTask(slow))?.notification.nextAttemptAt !== null, { timeout: 25_000, interval: 500 }).toBe(true);
    const task = (await getTask(slow))!;
    expect(task.notification).toMatchObject({ state: "pending", lastStatus: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(15_000);
  });
});

describe("POST /api/tasks/:taskId/notify", () => {
  it("sends the latest announcement again with the same webhook-id and a fresh link", async () => {
    const taskId = await storedTask();
    await notificationState(taskId, "delivered");
    const res = await api(`/api/tasks/${taskId}/notify`, { method: "POST" });
    expect(res.status).toBe(202);
    await expect.poll(() => announcementsFor(taskId).length, { timeout: 10_000 }).toBe(2);
    const [first, second] = announcementsFor(taskId);
    expect(second!.request.headers.get("webhook-id")).toBe(first!.request.headers.get("webhook-id"));
    expect(second!.body.type).toBe("wav.stored");
    await notificationState(taskId, "delivered");
  });

  it("409 not_final before the task is stored or failed; 404 for an unknown task; 409 notifications_off without NOTIFY_URL", async () => {
    const taskId = uniqueTaskId("ann");
    await api(`/api/tasks/${taskId}`, { method: "PUT" });
    expect((await getTask(taskId))?.notification.state).toBe("waiting");
    const early = await api(`/api/tasks/${taskId}/notify`, { method: "POST" });
    expect(early.status).toBe(409);
    expect((await jsonOf(early)).error.code).toBe("not_final");
    const unknown = await api(`/api/tasks/${uniqueTaskId()}/notify`, { method: "POST" });
    expect(unknown.status).toBe(404);
    const off = await callWith({ NOTIFY_URL: "" }, `/api/tasks/${taskId}/notify`, { method: "POST", headers: { authorization: `Bearer ${env.API_TOKEN}` } });
    expect(off.status).toBe(409);
    expect((await jsonOf(off)).error.code).toBe("notifications_off");
    const unknownOff = await callWith({ NOTIFY_URL: "" }, `/api/tasks/${uniqueTaskId()}/notify`, { method: "POST", headers: { authorization: `Bearer ${env.API_TOKEN}` } });
    expect(unknownOff.status).toBe(404);
  });

  it("NOTIFY_URL without a usable NOTIFY_SECRET is 500 misconfigured", async () => {
    const res = await callWith({ NOTIFY_SECRET: "not-a-secret" }, `/api/tasks/${uniqueTaskId()}`, { headers: { authorization: `Bearer ${env.API_TOKEN}` } });
    expect(res.status).toBe(500);
    const body = await jsonOf(res);
    expect(body.error.code).toBe("misconfigured");
    expect(body.error.message).toContain("NOTIFY_SECRET");
  });
});
