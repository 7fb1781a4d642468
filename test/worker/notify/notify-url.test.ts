// Issue 18's findings about announcements: removing and restoring NOTIFY_URL keeps the outcome's
// webhook-id; an announcement already handed to the runner is not sent once the task was reopened
// or deleted (the runner asks the shard right before sending). Every request the app receives is
// checked with the standardwebhooks package's Webhook.verify.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runnerOf, shardOf, storedTask } from "../../helpers/durable";
import { NOTIFY_URL, requestsTo, route, type SeenRequest } from "../../helpers/fake-net";
import { atTime, restoreEnv, swapEnv } from "../../helpers/objects";
import { api, getTask, sendCallback, uniqueTaskId } from "../../helpers/worker";

const RECORD_INFO = "https://provider.test/api/v1/wav/record-info";

type Announcement = { type: string; data: { taskId: string } };

function verified(r: SeenRequest): Announcement {
  return new Webhook(env.NOTIFY_SECRET!).verify(r.body ?? "", Object.fromEntries(r.headers)) as Announcement;
}

/** What the app received for one task, in order. */
function receivedFor(taskId: string): { id: string | null; body: Announcement }[] {
  return requestsTo(NOTIFY_URL)
    .map((r) => ({ id: r.headers.get("webhook-id"), body: verified(r) }))
    .filter((a) => a.body.data.taskId === taskId);
}

const swapped: DurableObjectStub[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const stub of swapped.splice(0)) await restoreEnv(stub);
});

describe("NOTIFY_URL removed and set again", () => {
  it("keeps the outcome's webhook-id: the redelivery afterwards carries the same one", async () => {
    const taskId = uniqueTaskId("nurl");
    let first = true;
    route("POST", NOTIFY_URL, async (req) => {
      const body = JSON.parse(await req.text()) as Announcement;
      if (body.data.taskId !== taskId) return new Response(null, { status: 204 });
      const status = first ? 500 : 204;
      first = false;
      return new Response(null, { status });
    });
    await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: taskId } });
    await expect.poll(async () => (await getTask(taskId))?.notification.lastStatus, { timeout: 10_000 }).toBe(500);
    const [attempt1] = receivedFor(taskId);
    expect(attempt1!.id).toMatch(/^msg_/);
    const retryAt = Date.parse((await getTask(taskId))!.notification.nextAttemptAt!);

    // The operator removes NOTIFY_URL: the pending announcement stops.
    const shard = shardOf(taskId);
    await swapEnv(shard, { NOTIFY_URL: "" });
    swapped.push(shard);
    await atTime(retryAt + 1_000, () => runDurableObjectAlarm(shard));
    expect((await storedTask(taskId))?.notification.state).toBe("off");
    expect(receivedFor(taskId)).toHaveLength(1);

    // …and sets it again, then asks for the announcement again.
    await restoreEnv(shard);
    swapped.length = 0;
    expect((await api(`/api/tasks/${taskId}/notify`, { method: "POST" })).status).toBe(202);
    await expect.poll(async () => (await getTask(taskId))?.notification.state, { timeout: 10_000 }).toBe("delivered");
    const received = receivedFor(taskId);
    expect(received).toHaveLength(2);
    expect(received[1]!.body.type).toBe("wav.failed");
    expect(received[1]!.id).toBe(attempt1!.id);
  });
});

describe("an announcement already handed to the runner", () => {
  /**
   * A failed task whose announcement the shard has handed to the runner, which has not sent it yet.
   * The clock is an hour ahead (fake Date), so the alarms set now wait for runDurableObjectAlarm.
   */
  async function handedOut(): Promise<{ taskId: string; runner: DurableObjectStub }> {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 3_600_000);
    const taskId = uniqueTaskId("handed");
    route("GET", RECORD_INFO, () => Response.json({ code: 200, msg: "success", data: { taskId, successFlag: "PENDING", response: null } }));
    expect((await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: taskId } })).status).toBe(200);
    await runDurableObjectAlarm(shardOf(taskId));
    await expect.poll(async () => (await storedTask(taskId))?.notification.sendingSince ?? null, { timeout: 5_000 }).not.toBeNull();
    const runner = (await runnerOf(taskId))!;
    const queued = await runInDurableObject(runner, (_i, state) => state.storage.sql.exec<{ kind: string }>("SELECT kind FROM jobs").toArray());
    expect(queued).toEqual([{ kind: "announce" }]);
    expect(receivedFor(taskId)).toHaveLength(0);
    return { taskId, runner };
  }

  async function runnerJobs(runner: DurableObjectStub): Promise<number> {
    return runInDurableObject(runner, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM jobs").one().n);
  }

  it("is sent when nothing changed (the setup works)", async () => {
    const { taskId, runner } = await handedOut();
    expect(await runDurableObjectAlarm(runner)).toBe(true);
    const received = receivedFor(taskId);
    expect(received.map((r) => r.body.type)).toEqual(["wav.failed"]);
    expect(await runnerJobs(runner)).toBe(0);
  });

  it("is not sent after the task was reopened by POST /retry", async () => {
    const { taskId, runner } = await handedOut();
    expect((await api(`/api/tasks/${taskId}/retry`, { method: "POST" })).status).toBe(202);
    expect((await getTask(taskId))?.state).toBe("pending");
    expect(await runDurableObjectAlarm(runner)).toBe(true);
    expect(receivedFor(taskId)).toHaveLength(0);
    expect(await runnerJobs(runner)).toBe(0); // dropped, not kept for later
  });

  it("is dropped once the task was deleted: nothing reaches the app", async () => {
    const { taskId, runner } = await handedOut();
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);
    expect(await runDurableObjectAlarm(runner)).toBe(true);
    expect(receivedFor(taskId)).toHaveLength(0);
    expect(await runnerJobs(runner)).toBe(0);
  });
});
