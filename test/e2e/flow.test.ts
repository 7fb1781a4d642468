// The demo flow end to end: the real worker under `wrangler dev` (./harness.ts), the provider
// simulator, one task per scenario submitted through POST /api/tasks, and the results checked
// against what the simulator saw and served.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemo, type DemoResult } from "../simulator/demo.ts";
import { callbackHeaders, successCallback } from "../simulator/signature.ts";
import { startSimulator, type Simulator } from "../simulator/simulator.ts";
import { WorkerClient } from "../simulator/worker-client.ts";
import { startDevWorker, workerVarsFor, type DevWorker } from "./harness.ts";

const KEYS = { apiToken: "e2e-api-token", hmacKey: "e2e-hmac-key", sunoKey: "e2e-suno-key" };
const OVERDUE_SECONDS = 2;

let sim: Simulator;
let dev: DevWorker;
let worker: WorkerClient;
let results: DemoResult[];
const byName = new Map<string, DemoResult>();

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    apiKey: KEYS.sunoKey,
    hmacKey: KEYS.hmacKey,
    overdueAfterSeconds: OVERDUE_SECONDS,
    callbackDelayMs: 300,
    cronRetryMs: 3000,
  });
  dev = await startDevWorker({ vars: workerVarsFor(sim, KEYS, { OVERDUE_AFTER_SECONDS: String(OVERDUE_SECONDS) }) });
  worker = new WorkerClient(dev.url, KEYS.apiToken);
  results = await runDemo({
    sim,
    worker,
    overdueAfterSeconds: OVERDUE_SECONDS,
    scenarios: [
      { kind: "success" },
      { kind: "success", wav: { bytes: 3_000_001, chunked: true } },
      { kind: "failure", failureCode: 451, failureMsg: "source audio download failed" },
      { kind: "failure", failureCode: 500, failureMsg: "conversion failed" },
      { kind: "duplicate" },
      // The worker's first poll (after OVERDUE_SECONDS) hears PENDING; the next one, 30 s later
      // by the provider's rule, hears SUCCESS.
      { kind: "late", pendingPolls: 1, readyAfterMs: 0 },
    ],
  });
  byName.set("success", results[0]!);
  byName.set("success-chunked", results[1]!);
  byName.set("failure-451", results[2]!);
  byName.set("failure-500", results[3]!);
  byName.set("duplicate", results[4]!);
  byName.set("late", results[5]!);
}, 120_000);

afterAll(async () => {
  await dev?.stop();
  await sim?.stop();
});

const get = (name: string) => byName.get(name)!;

describe("demo flow through the simulator", () => {
  it("every scenario ends as the demo expects", () => {
    const problems = results.filter((r) => !r.ok).map((r) => `${r.scenario} ${r.taskId}: ${r.problems.join("; ")}`);
    expect(problems).toEqual([]);
  });

  it.each(["success", "success-chunked"])("%s: stored, sha256 of task = served = downloaded", (name) => {
    const r = get(name);
    expect(r.task?.state).toBe("stored");
    expect(r.servedSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.task?.wav?.sha256).toBe(r.servedSha256);
    expect(r.downloadedSha256).toBe(r.servedSha256);
    expect(r.task?.wav?.key).toBe(`wav/${r.taskId}.wav`);
    expect(r.task?.wav?.contentType).toBe("audio/wav");
    expect(r.task?.error).toBeNull();
    expect(r.callbacks.map((c) => c.status)).toEqual([200]);
    expect(r.wavFetches).toBe(1);
  });

  it("success-chunked: a source without Content-Length is stored whole", () => {
    const r = get("success-chunked");
    const served = sim.served(sim.tasks.get(r.taskId)!.wavUrl!);
    expect(served[0]?.chunked).toBe(true);
    expect(r.task?.wav?.size).toBe(3_000_000); // 3_000_001 rounded down to whole stereo frames
  });

  it.each([
    ["failure-451", "451"],
    ["failure-500", "500"],
  ])("%s: failed with the provider's code, nothing fetched", (name, code) => {
    const r = get(name);
    expect(r.task?.state).toBe("failed");
    expect(r.task?.error?.code).toBe(code);
    expect(r.task?.wav).toBeNull();
    expect(r.wavFetches).toBe(0);
    expect(r.callbacks.map((c) => c.status)).toEqual([200]);
  });

  it("duplicate: three deliveries (two at once) all answered 200; one download, one attempt", () => {
    const r = get("duplicate");
    expect(r.callbacks).toHaveLength(3);
    expect(r.callbacks.every((c) => c.status === 200)).toBe(true);
    expect(r.task?.state).toBe("stored");
    expect(r.task?.attempts).toBe(1);
    expect(r.wavFetches).toBe(1);
    expect(r.task?.wav?.sha256).toBe(r.servedSha256);
    expect(r.downloadedSha256).toBe(r.servedSha256);
  });

  it("late: no callback; polled once (PENDING), again after 30 s (SUCCESS); stored by the cron path", () => {
    const r = get("late");
    expect(r.callbacks).toEqual([]);
    expect(r.recordInfoPending).toBe(1);
    expect(r.recordInfoCalls).toBe(2);
    expect(r.cronTriggers).toBeGreaterThanOrEqual(2);
    expect(r.task?.state).toBe("stored");
    expect(r.task?.wav?.sha256).toBe(r.servedSha256);
    expect(r.downloadedSha256).toBe(r.servedSha256);
    // The provider asks for at most one poll per task every 30 s.
    const polls = sim.events.filter((e) => e.type === "record-info" && e.taskId === r.taskId).map((e) => e.at);
    expect(polls).toHaveLength(2);
    expect(polls[1]! - polls[0]!).toBeGreaterThanOrEqual(29_000);
    // The worker's own account of its ticks.
    const ticks = dev.cronTicks();
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(ticks.reduce((n, t) => n + t.providerCalls, 0)).toBe(2);
  });

  it("listing: the stored tasks are listed as stored", async () => {
    const { tasks } = await worker.list({ state: "stored", limit: 100 });
    const ids = new Set(tasks.map((t) => t.taskId));
    for (const name of ["success", "success-chunked", "duplicate", "late"]) expect(ids.has(get(name).taskId)).toBe(true);
  });

  it("a callback signed with the wrong key is refused with 401 and records nothing", async () => {
    const taskId = `forged-${Date.now().toString(36)}`;
    const res = await fetch(`${dev.url}/callbacks/wav`, {
      method: "POST",
      headers: callbackHeaders("not-the-key", taskId),
      body: JSON.stringify(successCallback(taskId, sim.wavUrl(taskId))),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_signature");
    expect(await worker.get(taskId)).toBeNull();
    expect(sim.served(sim.wavUrl(taskId))).toEqual([]);
  });

  it("without NOTIFY_URL nothing is announced: notification off, /notify 409 notifications_off", async () => {
    const r = get("success");
    expect(r.task?.notification?.state).toBe("off");
    const res = await worker.redeliver(r.taskId);
    expect(res.status).toBe(409);
    expect(JSON.parse(res.body).error.code).toBe("notifications_off");
  });
});
