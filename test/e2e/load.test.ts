// The load case: 300 signed success callbacks for 300 distinct tasks, 30 at a time (autocannon,
// 30 connections, one request in flight on each), against the real worker under `wrangler dev`.
// Every callback must be answered 200, and every task must end `stored` with the sha256 of the
// WAV the simulator served for it.

import autocannon from "autocannon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callbackHeaders, successCallback } from "../simulator/signature.ts";
import { startSimulator, type Simulator } from "../simulator/simulator.ts";
import type { WavSpec } from "../simulator/wav.ts";
import { WorkerClient, type TaskJson } from "../simulator/worker-client.ts";
import { startDevWorker, workerVarsFor, type DevWorker } from "./harness.ts";

const KEYS = { apiToken: "e2e-api-token", hmacKey: "e2e-hmac-key", sunoKey: "e2e-suno-key" };
const CALLBACKS = 300;
const CONCURRENCY = 30;

let sim: Simulator;
let dev: DevWorker;
let worker: WorkerClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKey: KEYS.sunoKey, hmacKey: KEYS.hmacKey });
  dev = await startDevWorker({ vars: workerVarsFor(sim, KEYS) });
  worker = new WorkerClient(dev.url, KEYS.apiToken);
}, 120_000);

afterAll(async () => {
  await dev?.stop();
  await sim?.stop();
});

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

describe(`${CALLBACKS} signed callbacks at concurrency ${CONCURRENCY}`, () => {
  const stamp = Date.now().toString(36);
  const tasks = Array.from({ length: CALLBACKS }, (_, i) => {
    // Small WAVs; every tenth one without Content-Length (the multipart path).
    const spec: WavSpec = { bytes: 48_044 + i * 4, ...(i % 10 === 0 ? { chunked: true } : {}) };
    return { id: `load-${stamp}-${i}`, spec };
  });
  const statuses = new Map<string, number[]>();
  let result: autocannon.Result;

  it("every callback is answered 200", async () => {
    let next = 0;
    result = await autocannon({
      url: dev.url,
      connections: CONCURRENCY,
      pipelining: 1,
      amount: CALLBACKS,
      timeout: 30,
      requests: [
        {
          method: "POST",
          path: "/callbacks/wav",
          setupRequest: (req, context) => {
            const t = tasks[next++ % tasks.length]!;
            (context as { taskId?: string }).taskId = t.id;
            return {
              ...req,
              headers: callbackHeaders(KEYS.hmacKey, t.id),
              body: JSON.stringify(successCallback(t.id, sim.wavUrl(t.id, t.spec))),
            };
          },
          onResponse: (status, _body, context) => {
            const id = (context as { taskId: string }).taskId;
            statuses.set(id, [...(statuses.get(id) ?? []), status]);
          },
        },
      ],
    });
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result["2xx"]).toBe(CALLBACKS);
    expect(next).toBe(CALLBACKS);
    expect(statuses.size).toBe(CALLBACKS);
    for (const t of tasks) expect(statuses.get(t.id), t.id).toEqual([200]);
  });

  it("every task ends stored, with the sha256 of the WAV the simulator served", async () => {
    const deadline = Date.now() + 60_000;
    let pending = tasks;
    const final = new Map<string, TaskJson>();
    while (pending.length > 0 && Date.now() < deadline) {
      const seen = await pool(pending, 10, (t) => worker.get(t.id));
      seen.forEach((task, i) => {
        if (task && (task.state === "stored" || task.state === "failed")) final.set(pending[i]!.id, task);
      });
      pending = pending.filter((t) => !final.has(t.id));
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(pending.map((t) => t.id)).toEqual([]);

    const wrong: string[] = [];
    for (const t of tasks) {
      const task = final.get(t.id)!;
      const url = sim.wavUrl(t.id, t.spec);
      const served = sim.servedSha256(url);
      if (task.state !== "stored") wrong.push(`${t.id}: ${task.state} ${JSON.stringify(task.error)}`);
      else if (!served || task.wav?.sha256 !== served) wrong.push(`${t.id}: sha256 ${task.wav?.sha256} ≠ served ${served}`);
      else if (task.wav.size !== sim.served(url).find((s) => s.complete)!.totalBytes) wrong.push(`${t.id}: size ${task.wav.size}`);
    }
    expect(wrong).toEqual([]);
    // Each WAV was fetched once: no transfer was repeated.
    expect(sim.counters.wavComplete).toBe(CALLBACKS);
  });

  it("spot check: downloads give back the served bytes", async () => {
    for (const t of [tasks[0]!, tasks[1]!, tasks[CALLBACKS - 1]!]) {
      const d = await worker.download(t.id);
      expect(d.status).toBe(200);
      expect(d.sha256).toBe(sim.servedSha256(sim.wavUrl(t.id, t.spec)));
    }
  });
});
