// The cron path: due tasks found through each shard's poll index and polled by the shard itself.
// Time is moved with fake Date (shared by the Worker's code in this isolate); alarms that the
// fake clock would put in the future are run with runDurableObjectAlarm.
import { createScheduledController, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../../src/index";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_POLLS_PER_TICK, runTick } from "../../../src/cron/tick";
import { shardFor, shardNumberOf, SHARD_COUNT } from "../../../src/shard/shards";
import { restoreEnv, swapEnv } from "../../helpers/objects";
import { runDue } from "../../helpers/durable";
import { route, requests } from "../../helpers/fake-net";
import { makeWav, sha256Hex, wavResponse } from "../../helpers/wav";
import { api, getTask, uniqueTaskId } from "../../helpers/worker";

const RECORD_INFO = "https://provider.test/api/v1/wav/record-info";
const OVERDUE_MS = 300_000;

type Answer = { successFlag: string; url?: string; errorCode?: number | string; errorMessage?: string } | { http: number } | { nullData: true };
/** What record-info answers per task id; tasks of other tests stay PENDING. */
let answers: Map<string, Answer>;

beforeEach(() => {
  answers = new Map();
  route("GET", RECORD_INFO, (req) => {
    const taskId = new URL(req.url).searchParams.get("taskId")!;
    const a = answers.get(taskId) ?? { successFlag: "PENDING" };
    if ("http" in a) return new Response("<html>upstream error</html>", { status: a.http });
    if ("nullData" in a) return Response.json({ code: 200, msg: "success", data: null });
    return Response.json({
      code: 200,
      msg: "success",
      data: {
        taskId,
        musicId: "m",
        callbackUrl: "https://edge.test/callbacks/wav",
        musicIndex: 0,
        completeTime: null,
        response: a.url ? { audioWavUrl: a.url } : null,
        successFlag: a.successFlag,
        createTime: 0,
        errorCode: a.errorCode ?? null,
        errorMessage: a.errorMessage ?? null,
      },
    });
  });
});

afterEach(() => {
  vi.useRealTimers();
});

const pollsOf = (taskId: string) =>
  requests.filter((r) => r.url.startsWith(RECORD_INFO) && new URL(r.url).searchParams.get("taskId") === taskId).length;

async function register(taskId: string) {
  const res = await api(`/api/tasks/${taskId}`, { method: "PUT" });
  expect([200, 201]).toContain(res.status);
}

/** Sets the clock (fake Date) and runs one cron tick at that time. */
async function tickAt(ms: number) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(ms);
  return runTick(env, ms);
}

describe("cron tick", () => {
  it("leaves tasks alone until they are overdue", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("cron");
    await register(taskId);
    await tickAt(t0 + OVERDUE_MS - 5_000);
    expect(pollsOf(taskId)).toBe(0);
    await tickAt(t0 + OVERDUE_MS + 1_000);
    expect(pollsOf(taskId)).toBe(1);
  });

  it("overdue → SUCCESS → the same transfer as a callback → stored with the right bytes", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("cron");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 1, seed: 7 });
    route("GET", url, () => wavResponse(wav));
    answers.set(taskId, { successFlag: "SUCCESS", url });
    await register(taskId);

    const report = await tickAt(t0 + OVERDUE_MS + 1_000);
    expect(report.outcomes.resolved).toBeGreaterThanOrEqual(1);
    expect((await getTask(taskId))?.state).toBe("downloading");
    await runDue(taskId);
    const task = await getTask(taskId);
    expect(task?.state).toBe("stored");
    expect(task?.wav?.sha256).toBe(await sha256Hex(wav));
    const object = await env.BUCKET.get(`wav/${taskId}.wav`);
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(wav);
  });

  it("overdue → CALLBACK_EXCEPTION with a WAV URL (the provider could not call us) → fetched and stored", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("cron");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 1, seed: 11 });
    route("GET", url, () => wavResponse(wav));
    answers.set(taskId, { successFlag: "CALLBACK_EXCEPTION", url, errorCode: 500, errorMessage: "callback failed" });
    await register(taskId);
    const report = await tickAt(t0 + OVERDUE_MS + 1_000);
    expect(report.outcomes.resolved).toBeGreaterThanOrEqual(1);
    await runDue(taskId);
    const task = await getTask(taskId);
    expect(task).toMatchObject({ state: "stored", error: null });
    expect(task?.wav?.sha256).toBe(await sha256Hex(wav));
  });

  it("overdue → CALLBACK_EXCEPTION without a URL is not a failure: polled again later", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("cron");
    answers.set(taskId, { successFlag: "CALLBACK_EXCEPTION" });
    await register(taskId);
    await tickAt(t0 + OVERDUE_MS + 1_000);
    expect((await getTask(taskId))?.state).toBe("pending");
    await tickAt(t0 + OVERDUE_MS + 31_000);
    expect(pollsOf(taskId)).toBe(2);
  });

  for (const flag of ["CREATE_TASK_FAILED", "GENERATE_WAV_FAILED"]) {
    it(`overdue → ${flag} → failed with the provider's errorCode and errorMessage`, async () => {
      const t0 = Date.now();
      const taskId = uniqueTaskId("cron");
      answers.set(taskId, { successFlag: flag, errorCode: 531, errorMessage: `${flag.toLowerCase()} for the test` });
      await register(taskId);
      await tickAt(t0 + OVERDUE_MS + 1_000);
      const task = await getTask(taskId);
      expect(task?.state).toBe("failed");
      expect(task?.error).toEqual({ code: "531", message: `${flag.toLowerCase()} for the test` });
    });
  }

  it("PENDING: no second poll within 30 s, then backoff 30 s, 1 min, 2 min", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("cron");
    await register(taskId);
    const first = t0 + OVERDUE_MS + 1_000;
    await tickAt(first);
    expect(pollsOf(taskId)).toBe(1);
    await tickAt(first + 10_000);
    await tickAt(first + 29_000);
    expect(pollsOf(taskId)).toBe(1); // never twice within 30 s
    await tickAt(first + 30_000);
    expect(pollsOf(taskId)).toBe(2);
    await tickAt(first + 30_000 + 59_000);
    expect(pollsOf(taskId)).toBe(2); // now waits 1 min
    await tickAt(first + 30_000 + 60_000);
    expect(pollsOf(taskId)).toBe(3);
    await tickAt(first + 90_000 + 119_000);
    expect(pollsOf(taskId)).toBe(3); // then 2 min
    await tickAt(first + 90_000 + 120_000);
    expect(pollsOf(taskId)).toBe(4);
    expect((await getTask(taskId))?.state).toBe("pending");
  });

  it("gives up on a task still pending after TASK_MAX_AGE_SECONDS", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("cron");
    await register(taskId);
    await tickAt(t0 + OVERDUE_MS + 1_000);
    expect((await getTask(taskId))?.state).toBe("pending");
    await tickAt(t0 + 86_400_000 + 1_000);
    const task = await getTask(taskId);
    expect(task?.state).toBe("failed");
    expect(task?.error?.code).toBe("expired");
    expect(task?.error?.message).toContain("86400 s");
    // A failed task is no longer due: later ticks leave it alone.
    const polls = pollsOf(taskId);
    await tickAt(t0 + 86_400_000 + 3_600_000);
    expect(pollsOf(taskId)).toBe(polls);
  });

  /** Provider calls of the last tick, per shard of the task asked about. */
  function callsPerShard(): Map<number, number> {
    const calls = new Map<number, number>();
    for (const r of requests.filter((x) => x.url.startsWith(RECORD_INFO))) {
      const n = shardNumberOf(new URL(r.url).searchParams.get("taskId")!);
      calls.set(n, (calls.get(n) ?? 0) + 1);
    }
    return calls;
  }

  it("on a 5xx each shard stops polling at once, and the tick goes on with the other shards", async () => {
    const t0 = Date.now();
    // A dozen tasks in one shard, and a few elsewhere.
    const crowded = shardNumberOf(uniqueTaskId("trouble"));
    const ids: string[] = [];
    while (ids.filter((id) => shardNumberOf(id) === crowded).length < 12) {
      const id = uniqueTaskId("trouble");
      if (shardNumberOf(id) === crowded || ids.length < 24) ids.push(id);
    }
    for (const id of ids) {
      answers.set(id, { http: 503 });
      await register(id);
    }
    // Every other task (from earlier tests) is in trouble too.
    route("GET", RECORD_INFO, () => new Response("maintenance", { status: 503 }));
    const report = await tickAt(t0 + OVERDUE_MS + 1_000);
    expect(report.stoppedForTrouble).toBe(true);
    // One 5xx does not leave the shards after it unasked…
    expect(report.shardsVisited).toBe(SHARD_COUNT);
    expect(callsPerShard().size).toBeGreaterThan(1);
    // …but no shard goes on asking a provider in trouble: its concurrent polls at most.
    for (const calls of callsPerShard().values()) expect(calls).toBeLessThanOrEqual(4);
    expect(callsPerShard().get(crowded)).toBeLessThan(ids.filter((id) => shardNumberOf(id) === crowded).length);
    for (const id of ids) expect((await getTask(id))?.state).toBe("pending");
  });

  it("provider code 455 (maintenance) in a 200 answer is trouble too", async () => {
    const t0 = Date.now();
    const ids = Array.from({ length: 8 }, () => uniqueTaskId("maint"));
    for (const id of ids) await register(id);
    route("GET", RECORD_INFO, () => Response.json({ code: 455, msg: "maintenance" }));
    const report = await tickAt(t0 + OVERDUE_MS + 1_000);
    expect(report.stoppedForTrouble).toBe(true);
    for (const calls of callsPerShard().values()) expect(calls).toBeLessThanOrEqual(4);
  });

  it("time during which the provider could not be asked does not count toward TASK_MAX_AGE_SECONDS", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("outage");
    // This task's shard gives tasks 15 minutes (not a day), so the outage below can outlast that.
    const shard = shardFor(env, taskId);
    await swapEnv(shard, { TASK_MAX_AGE_SECONDS: "900" });
    try {
      await register(taskId);
      // The provider is down from the first poll on, for 40 minutes.
      answers.set(taskId, { http: 503 });
      let at = t0 + OVERDUE_MS + 1_000;
      let last = at;
      while (at < t0 + 30 * 60_000) {
        await tickAt(at);
        last = at;
        const task = await getTask(taskId);
        expect(task?.state, `at +${(at - t0) / 1000} s`).toBe("pending");
        at = Math.max(at + 60_000, Date.parse(task!.nextAttemptAt!));
      }
      // Past the maximum age by the clock, but the outage did not count.
      expect(last - t0).toBeGreaterThan(900_000);
      // Back up, with nothing yet (asked a few minutes after its last failed poll): the task waits
      // on; its age counts again from its last poll the provider could not answer.
      answers.set(taskId, { successFlag: "PENDING" });
      await tickAt(last + 5 * 60_000);
      await api(`/api/tasks/${taskId}/retry`, { method: "POST" });
      expect((await getTask(taskId))?.state).toBe("pending");
      // Without an outage, the same 15 minutes do end it.
      const other = uniqueTaskId("no-outage");
      await register(other);
      await tickAt(Date.now() + 16 * 60_000);
      expect(shardNumberOf(other) === shardNumberOf(taskId) ? (await getTask(other))?.state : "failed").toBe("failed");
    } finally {
      await restoreEnv(shard);
    }
  });

  it("an answer about one task (data: null, SUCCESS without a URL) backs off that task and the tick goes on", async () => {
    const t0 = Date.now();
    const unknown = uniqueTaskId("odd");
    const noUrl = uniqueTaskId("odd");
    const others = Array.from({ length: 4 }, () => uniqueTaskId("odd"));
    answers.set(unknown, { nullData: true });
    answers.set(noUrl, { successFlag: "SUCCESS" });
    for (const id of [unknown, noUrl, ...others]) await register(id);
    const report = await tickAt(t0 + OVERDUE_MS + 1_000);
    expect(report.stoppedForTrouble).toBe(false);
    for (const id of [unknown, noUrl, ...others]) expect(pollsOf(id)).toBe(1);
    for (const id of [unknown, noUrl]) {
      const task = await getTask(id);
      expect(task).toMatchObject({ state: "pending", error: { code: "provider_no_result" } });
      // Counted against that task: its next poll is 30 s later, not at once.
      expect(Date.parse(task!.nextAttemptAt!)).toBeGreaterThanOrEqual(t0 + OVERDUE_MS + 1_000 + 30_000);
    }
    await tickAt(t0 + OVERDUE_MS + 20_000);
    expect(pollsOf(unknown)).toBe(1);
  });

  it("garbage from the provider leaves the task pending and polled again later", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("garbage");
    await register(taskId);
    route("GET", RECORD_INFO, () => new Response("{not json", { status: 200 }));
    await tickAt(t0 + OVERDUE_MS + 1_000);
    expect((await getTask(taskId))?.state).toBe("pending");
    expect(pollsOf(taskId)).toBe(1);
  });

  it("with thousands of tracked tasks, polls only the due ones", async () => {
    const t0 = Date.now();
    const due = Array.from({ length: 60 }, () => uniqueTaskId("due"));
    const notDue = Array.from({ length: 2000 }, () => uniqueTaskId("later"));
    const registerAll = async (ids: string[]) => {
      for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map(register));
    };
    await registerAll(due);
    // The rest is registered 4 minutes later, so at the tick it is not yet overdue.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(t0 + 240_000);
    await registerAll(notDue);
    const report = await tickAt(t0 + OVERDUE_MS + 1_000);

    for (const id of due) expect(pollsOf(id)).toBe(1);
    const polledLater = notDue.filter((id) => pollsOf(id) > 0);
    expect(polledLater).toEqual([]);
    expect(report.providerCalls).toBeGreaterThanOrEqual(due.length);
    expect(report.providerCalls).toBeLessThan(due.length + 40); // plus stragglers of earlier tests
    expect(MAX_POLLS_PER_TICK).toBeGreaterThan(due.length);
  }, 120_000);

  it("runs through the Worker's scheduled handler", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("sched");
    answers.set(taskId, { successFlag: "GENERATE_WAV_FAILED", errorCode: 500, errorMessage: "conversion failed" });
    await register(taskId);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(t0 + OVERDUE_MS + 1_000);
    await worker.scheduled(createScheduledController({ scheduledTime: t0 + OVERDUE_MS + 1_000, cron: "* * * * *" }), env);
    expect((await getTask(taskId))?.state).toBe("failed");
  });
});
