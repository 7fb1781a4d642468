// What happens in a shard while it waits: a DELETE during a poll, a report from a runner of a
// task's earlier life, an answer to a redelivery's previous round. Each case is driven through the
// HTTP surface and the shard's own report() (as a runner calls it).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TaskShard } from "../../../src/shard/shard";
import { runnerOf, shardOf, storedTask } from "../../helpers/durable";
import { heldRoute, NOTIFY_URL, requestsTo, route } from "../../helpers/fake-net";
import { makeWav, sha256Hex, wavResponse } from "../../helpers/wav";
import { api, getTask, jsonOf, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";

const RECORD_INFO = "https://provider.test/api/v1/wav/record-info";

describe("a shard that waits", () => {
  it("a poll that answers after DELETE does not bring the task back", async () => {
    const taskId = uniqueTaskId("race");
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    route("GET", RECORD_INFO, async () => {
      await gate;
      return Response.json({ code: 200, msg: "success", data: { taskId, successFlag: "SUCCESS", response: { audioWavUrl: `https://cdn.example.com/${taskId}.wav` } } });
    });
    const retrying = api(`/api/tasks/${taskId}/retry`, { method: "POST" });
    await expect.poll(() => requestsTo(RECORD_INFO).length, { timeout: 5_000 }).toBe(1);
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);
    release();
    expect((await retrying).status).toBe(404);
    expect(await storedTask(taskId)).toBeNull();
    const res = await api(`/api/tasks/${taskId}`);
    expect((await jsonOf(res)).error.code).toBe("deleted");
    expect(requestsTo(`https://cdn.example.com/${taskId}.wav`)).toHaveLength(0);
  });

  it("a report from the runner of a task's earlier life (before DELETE and PUT) changes nothing", async () => {
    const taskId = uniqueTaskId("race");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, () => wavResponse(makeWav()));
    await sendCallback(successBody(taskId, url));
    await waitForState(taskId, ["stored"]);
    const oldRunner = (await runnerOf(taskId))!;
    const oldId = (await runInDurableObject(oldRunner, (_i, state) => state.id.toString())) as string;
    await api(`/api/tasks/${taskId}`, { method: "DELETE" });
    await api(`/api/tasks/${taskId}`, { method: "PUT" });
    const wav = makeWav({ seconds: 1, seed: 5 });
    const release = heldRoute(url, () => wavResponse(wav)); // the new life's attempt 1 is in flight
    await sendCallback(successBody(taskId, url), { timestamp: Math.floor(Date.now() / 1000) + 1 });
    await expect.poll(() => requestsTo(url).length, { timeout: 5_000 }).toBe(2);
    // The old runner's success for "attempt 1" arrives late.
    await shardOf(taskId).report({
      kind: "transfer",
      taskId,
      runnerId: oldId,
      file: `${taskId}.wav`,
      key: `wav/${taskId}.wav`,
      epoch: 1,
      result: { ok: true, stored: { key: `wav/${taskId}.wav`, size: 1, sha256: "0".repeat(64), contentType: "audio/wav" } },
    });
    expect(await getTask(taskId)).toMatchObject({ state: "downloading", wav: null });
    expect((await api(`/api/tasks/${taskId}/wav`)).status).toBe(404);
    release();
    const task = await waitForState(taskId, ["stored"]);
    expect(task.wav?.sha256).toBe(await sha256Hex(wav));
  });

  it("an answer to a redelivery's previous round is not credited to the new round", async () => {
    const taskId = uniqueTaskId("race");
    await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: taskId } });
    await expect.poll(async () => (await getTask(taskId))?.notification.state, { timeout: 10_000 }).toBe("delivered");
    const runnerId = (await runInDurableObject((await runnerOf(taskId))!, (_i, state) => state.id.toString())) as string;
    const before = await runInDurableObject(shardOf(taskId), (instance: TaskShard) =>
      (instance as unknown as { store: { load(id: string): { notification: { round: number } } } }).store.load(taskId).notification.round,
    );
    // Redelivery: a new round, whose attempt 1 is in flight (the app is slow). Then the previous
    // round's attempt 1 "answers" 410 late: it must not fail the new round.
    let answer!: () => void;
    const slow = new Promise<void>((r) => (answer = r));
    route("POST", NOTIFY_URL, async () => {
      await slow;
      return new Response(null, { status: 204 });
    });
    expect((await api(`/api/tasks/${taskId}/notify`, { method: "POST" })).status).toBe(202);
    await expect.poll(() => requestsTo(NOTIFY_URL).filter((r) => r.body?.includes(taskId)).length, { timeout: 5_000 }).toBe(2);
    await shardOf(taskId).report({ kind: "announce", taskId, runnerId, round: before, attempt: 1, status: 410, outcome: "gone", message: "late" });
    expect((await getTask(taskId))?.notification.state).toBe("pending");
    answer();
    await expect.poll(async () => (await getTask(taskId))?.notification.state, { timeout: 10_000 }).toBe("delivered");
    expect((await getTask(taskId))?.notification.lastStatus).toBe(204);
  });

  it("provider text is recorded without URL query strings (it may quote the callBackUrl's token)", async () => {
    const taskId = uniqueTaskId("race");
    const msg = `could not reach https://edge.test/callbacks/wav?token=cb-secret-123 in time`;
    await sendCallback({ code: 500, msg, data: { task_id: taskId } });
    const task = await getTask(taskId);
    expect(task?.error?.message).not.toContain("cb-secret-123");
    expect(task?.error?.message).toContain("https://edge.test/callbacks/wav");
    const { events } = await jsonOf(await api(`/api/tasks/${taskId}/events`));
    expect(JSON.stringify(events)).not.toContain("cb-secret-123");
  });

  it("DELETE and PUT while a transfer is in flight: the old runner's object is removed when it reports", async () => {
    const taskId = uniqueTaskId("race");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const release = heldRoute(url, () => wavResponse(makeWav({ seconds: 1 })));
    await sendCallback(successBody(taskId, url));
    await expect.poll(() => requestsTo(url).length, { timeout: 5_000 }).toBe(1);
    const oldRunner = (await runnerOf(taskId))!;
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);
    release();
    // The old runner has written its object and handed in its report (its job is gone) …
    const jobsLeft = () =>
      runInDurableObject(oldRunner, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM jobs").one().n);
    await expect.poll(jobsLeft, { timeout: 10_000 }).toBe(0);
    // … and nothing of it is left under the re-registered task's key (removed by the shard's alarm).
    await expect.poll(() => env.BUCKET.head(`wav/${taskId}.wav`), { timeout: 5_000 }).toBeNull();
    expect(await getTask(taskId)).toMatchObject({ state: "pending", wav: null });
  });
});
