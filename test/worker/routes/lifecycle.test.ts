// Everyday use (SPEC routes table): delete, a task's track and ?audioId=, submit once, and the
// task's history.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { submissionShard } from "../../../src/shard/shards";
import type { TaskView } from "../../../src/task/view";
import { runDue } from "../../helpers/durable";
import { requestsTo, route } from "../../helpers/fake-net";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, clockTick, getTask, jsonOf, sendCallback, successBody, uniqueTaskId, waitForAnnounced, waitForState } from "../../helpers/worker";

const GENERATE = "https://provider.test/api/v1/wav/generate";

function submit(body: unknown) {
  return api("/api/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

async function storedTask(prefix = "del"): Promise<{ taskId: string; url: string }> {
  const taskId = uniqueTaskId(prefix);
  const url = `https://cdn.example.com/${taskId}.wav?sig=abc`;
  route("GET", url, () => wavResponse(makeWav({ seconds: 1 })));
  await sendCallback(successBody(taskId, url));
  await waitForState(taskId, ["stored"]);
  return { taskId, url };
}

describe("DELETE /api/tasks/:taskId", () => {
  it("removes the WAV, the state and the history; a late callback is ignored; PUT brings the id back", async () => {
    const { taskId, url } = await storedTask();
    expect(await env.BUCKET.head(`wav/${taskId}.wav`)).not.toBeNull();

    const res = await api(`/api/tasks/${taskId}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    // Unreachable at once; removed from R2 by the shard's alarm (README, "Routes": DELETE).
    expect((await api(`/api/tasks/${taskId}/wav`)).status).toBe(404);
    await expect.poll(() => env.BUCKET.head(`wav/${taskId}.wav`), { timeout: 5_000 }).toBeNull();
    const gone = await api(`/api/tasks/${taskId}`);
    expect(gone.status).toBe(404);
    expect((await jsonOf(gone)).error.code).toBe("deleted");
    expect((await api(`/api/tasks/${taskId}/events`)).status).toBe(404);

    // The provider's late retry: answered 200, ignored, nothing fetched.
    const late = await sendCallback(successBody(taskId, url), { timestamp: Math.floor(Date.now() / 1000) + 1 });
    expect(late.status).toBe(200);
    // Whatever the late callback set off (nothing, if it was ignored) is run now, not waited for.
    await runDue(taskId);
    expect(requestsTo(url)).toHaveLength(1);
    expect((await api(`/api/tasks/${taskId}`)).status).toBe(404);
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(404);

    const again = await api(`/api/tasks/${taskId}`, { method: "PUT" });
    expect(again.status).toBe(201);
    expect((await jsonOf(again)).state).toBe("pending");
  });

  it("an unknown task is 404 not_found", async () => {
    const res = await api(`/api/tasks/${uniqueTaskId()}`, { method: "DELETE" });
    expect(res.status).toBe(404);
    expect((await jsonOf(res)).error.code).toBe("not_found");
  });
});

describe("a task's track", () => {
  it("PUT's body records music; ?audioId= lists that track's WAV tasks, newest first, with paging", async () => {
    const audioId = uniqueTaskId("track");
    const ids = [uniqueTaskId("m"), uniqueTaskId("m"), uniqueTaskId("m")];
    for (const id of ids) {
      const res = await api(`/api/tasks/${id}`, { method: "PUT", body: JSON.stringify({ musicTaskId: "music-9", audioId }) });
      expect(res.status).toBe(201);
      expect((await jsonOf(res)).music).toEqual({ taskId: "music-9", audioId });
      await clockTick(); // distinct creation times
    }
    await api(`/api/tasks/${uniqueTaskId("m")}`, { method: "PUT", body: JSON.stringify({ musicTaskId: "music-9", audioId: "another" }) });

    const first = await jsonOf(await api(`/api/tasks?audioId=${audioId}&limit=2`));
    expect(first.tasks.map((t: TaskView) => t.taskId)).toEqual([ids[2], ids[1]]);
    const second = await jsonOf(await api(`/api/tasks?audioId=${audioId}&limit=2&cursor=${first.cursor}`));
    expect(second.tasks.map((t: TaskView) => t.taskId)).toEqual([ids[0]]);
    expect(second.cursor).toBeNull();
  });

  it("a PUT body that is not the documented shape is 400 and registers nothing", async () => {
    const taskId = uniqueTaskId("m");
    const res = await api(`/api/tasks/${taskId}`, { method: "PUT", body: JSON.stringify({ audioId: 5 }) });
    expect(res.status).toBe(400);
    expect(await getTask(taskId)).toBeNull();
  });
});

describe("submit once", () => {
  it("concurrent duplicate submits of one {taskId, audioId} make one provider call and one task", async () => {
    const musicTaskId = uniqueTaskId("music");
    const wavTaskId = uniqueTaskId("wav");
    route("POST", GENERATE, async () => {
      await new Promise((r) => setTimeout(r, 50)); // the provider takes a moment
      return Response.json({ code: 200, msg: "success", data: { taskId: wavTaskId } });
    });
    const answers = await Promise.all(Array.from({ length: 8 }, () => submit({ taskId: musicTaskId, audioId: "a1" })));
    expect(requestsTo(GENERATE)).toHaveLength(1);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
    for (const r of answers) expect((await jsonOf(r)).taskId).toBe(wavTaskId);
    expect((await getTask(wavTaskId))?.music).toEqual({ taskId: musicTaskId, audioId: "a1" });

    const later = await submit({ taskId: musicTaskId, audioId: "a1" });
    expect(later.status).toBe(200);
    expect(requestsTo(GENERATE)).toHaveLength(1);
  });

  it("a pair whose task is not registered yet (its register() still under way) is not submitted again", async () => {
    const music = { taskId: uniqueTaskId("music"), audioId: "a1" };
    let n = 0;
    route("POST", GENERATE, () => Response.json({ code: 200, msg: "success", data: { taskId: uniqueTaskId(`wav${n++}`) } }));
    const pairShard = submissionShard(env, music.taskId, music.audioId);
    const first = await pairShard.submit(music, "https://edge.test/callbacks/wav");
    const second = await pairShard.submit(music, "https://edge.test/callbacks/wav");
    expect(requestsTo(GENERATE)).toHaveLength(1);
    expect(second).toEqual({ wavTaskId: (first as { wavTaskId: string }).wavTaskId, created: false });
  });

  it("a pair whose task failed is submitted anew", async () => {
    const musicTaskId = uniqueTaskId("music");
    const first = uniqueTaskId("wav");
    const second = uniqueTaskId("wav");
    let n = 0;
    route("POST", GENERATE, () => Response.json({ code: 200, msg: "success", data: { taskId: ++n === 1 ? first : second } }));
    expect((await submit({ taskId: musicTaskId, audioId: "a1" })).status).toBe(202);
    await sendCallback({ code: 501, msg: "conversion failed", data: { task_id: first } });
    expect((await getTask(first))?.state).toBe("failed");
    const res = await submit({ taskId: musicTaskId, audioId: "a1" });
    expect(res.status).toBe(202);
    expect((await jsonOf(res)).taskId).toBe(second);
    expect(requestsTo(GENERATE)).toHaveLength(2);
  });
});

describe("GET /api/tasks/:taskId/events", () => {
  it("lists what happened, oldest first, without any query string", async () => {
    const taskId = uniqueTaskId("hist");
    const url = `https://cdn.example.com/${taskId}.wav?token=very-secret`;
    let n = 0;
    route("GET", url, () => (++n === 1 ? new Response("busy", { status: 503 }) : wavResponse(makeWav())));
    await api(`/api/tasks/${taskId}`, { method: "PUT" });
    await sendCallback(successBody(taskId, url));
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 5_000 }).toBe("source_http_error");
    await api(`/api/tasks/${taskId}/retry`, { method: "POST" });
    await waitForAnnounced(taskId, ["stored"]);

    const res = await api(`/api/tasks/${taskId}/events`);
    expect(res.status).toBe(200);
    const { events } = await jsonOf(res);
    expect(events.map((e: { type: string }) => e.type)).toEqual([
      "registered",
      "callback",
      "transfer_started",
      "transfer_failed",
      "retry_requested",
      "transfer_started",
      "stored",
      "notification",
    ]);
    expect(events[1]).toMatchObject({ outcome: "applied", code: 200, host: "cdn.example.com" });
    expect(events[2]).toMatchObject({ attempt: 1, host: "cdn.example.com" });
    expect(events[3]).toMatchObject({ attempt: 1, code: "source_http_error", retryable: true, nextAttemptAt: expect.any(String) });
    expect(events[6]).toMatchObject({ size: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const times = events.map((e: { at: string }) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(JSON.stringify(events)).not.toContain("very-secret");

    const unknown = await api(`/api/tasks/${uniqueTaskId()}/events`);
    expect(unknown.status).toBe(404);
  });
});
