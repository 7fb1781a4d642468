// Callback acknowledgement: POST /callbacks/wav (signed, a new task id each, small WAVs) against
// GET /healthz of the same worker, same concurrency, same duration, one after the other.

import { join } from "node:path";
import { REPO_ROOT, startDevWorker, workerVarsFor } from "../e2e/harness.ts";
import { callbackHeaders, failureCallback, successCallback } from "../simulator/signature.ts";
import type { Simulator } from "../simulator/simulator.ts";
import { runLoad, type LoadResult } from "./load.ts";

export interface AckOptions {
  sim: Simulator;
  keys: { apiToken: string; hmacKey: string; sunoKey: string };
  connections: number;
  seconds: number;
  warmupSeconds: number;
  wavBytes: number;
  tmpRoot?: string;
  log: (line: string) => void;
}

export interface AckResult {
  connections: number;
  seconds: number;
  healthz: LoadResult;
  callbacks: LoadResult;
  /** Reference, not a target: failure callbacks (a new task each, but no WAV transfer behind them). */
  failures: LoadResult | null;
  /** Reference, not a target: one durable write into a new Durable Object per request (./floor). */
  floor: LoadResult | null;
  /** Tasks the callbacks created that were stored by the time the worker was stopped. */
  storedAfter: { checked: number; stored: number };
}

export async function benchAck(opts: AckOptions): Promise<AckResult> {
  const { sim, keys, log } = opts;
  const dev = await startDevWorker({ vars: workerVarsFor(sim, keys), ...(opts.tmpRoot ? { tmpRoot: opts.tmpRoot } : {}) });
  try {
    const stamp = Date.now().toString(36);
    const ids: string[] = [];
    const callback = (prefix: string) => (i: number) => {
      const id = `${prefix}-${stamp}-${i}`;
      if (prefix === "ack") ids.push(id);
      return {
        method: "POST" as const,
        path: "/callbacks/wav",
        headers: callbackHeaders(keys.hmacKey, id),
        body: JSON.stringify(successCallback(id, sim.wavUrl(id, { bytes: opts.wavBytes }))),
      };
    };
    const healthz = () => ({ method: "GET" as const, path: "/healthz" });

    log(`  warm-up: ${opts.warmupSeconds} s of each`);
    await runLoad({ url: dev.url, connections: opts.connections, duration: opts.warmupSeconds, make: healthz });
    await runLoad({ url: dev.url, connections: opts.connections, duration: opts.warmupSeconds, make: callback("warm") });
    await new Promise((r) => setTimeout(r, 2000)); // let the warm-up's transfers finish

    log(`  GET /healthz: ${opts.seconds} s at concurrency ${opts.connections}`);
    const h = await runLoad({ url: dev.url, connections: opts.connections, duration: opts.seconds, make: healthz });
    log(`    p50 ${h.latencyMs.p50} ms, p99 ${h.latencyMs.p99} ms, ${h.rps.toFixed(0)} req/s, non-2xx ${h.non2xx}, errors ${h.errors}`);
    log(`  POST /callbacks/wav: ${opts.seconds} s at concurrency ${opts.connections} (distinct task ids, ${opts.wavBytes} B WAVs)`);
    const c = await runLoad({ url: dev.url, connections: opts.connections, duration: opts.seconds, make: callback("ack") });
    log(`    p50 ${c.latencyMs.p50} ms, p99 ${c.latencyMs.p99} ms, ${c.rps.toFixed(0)} req/s, non-2xx ${c.non2xx}, errors ${c.errors}`);

    // A sample of the acknowledged tasks must really be stored (the ack is not a lie).
    const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(ids.length / 20)) === 0).slice(0, 20);
    let stored = 0;
    const deadline = Date.now() + 60_000;
    for (const id of sample) {
      for (;;) {
        const res = await fetch(`${dev.url}/api/tasks/${id}`, { headers: { authorization: `Bearer ${keys.apiToken}` } });
        const t = res.status === 200 ? ((await res.json()) as { state: string }) : (await res.text(), null);
        if (t?.state === "stored") {
          stored++;
          break;
        }
        if (t?.state === "failed" || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await dev.stop();

    log(`  POST /callbacks/wav with failure callbacks (code 451: no transfer follows), fresh session, ${opts.seconds} s at concurrency ${opts.connections}`);
    const failures = await benchFailures(opts);
    log(`    p50 ${failures.latencyMs.p50} ms, p99 ${failures.latencyMs.p99} ms, ${failures.rps.toFixed(0)} req/s, non-2xx ${failures.non2xx}, errors ${failures.errors}`);

    log(`  floor: POST /write (one row into a new Durable Object each), ${opts.seconds} s at concurrency ${opts.connections}`);
    const floor = await benchFloor(opts);
    log(`    p50 ${floor.latencyMs.p50} ms, p99 ${floor.latencyMs.p99} ms, ${floor.rps.toFixed(0)} req/s, non-2xx ${floor.non2xx}, errors ${floor.errors}`);
    return { connections: opts.connections, seconds: opts.seconds, healthz: h, callbacks: c, failures, floor, storedAfter: { checked: sample.length, stored } };
  } finally {
    await dev.stop();
  }
}

/** Failure callbacks for new tasks: the ack path (verify, one durable write into the task's shard) without the transfer it starts. */
async function benchFailures(opts: AckOptions): Promise<LoadResult> {
  const dev = await startDevWorker({ vars: workerVarsFor(opts.sim, opts.keys), ...(opts.tmpRoot ? { tmpRoot: opts.tmpRoot } : {}) });
  try {
    const stamp = Date.now().toString(36);
    const failure = (prefix: string) => (i: number) => {
      const id = `${prefix}-${stamp}-${i}`;
      return {
        method: "POST" as const,
        path: "/callbacks/wav",
        headers: callbackHeaders(opts.keys.hmacKey, id),
        body: JSON.stringify(failureCallback(id, 451, "source audio download failed")),
      };
    };
    await runLoad({ url: dev.url, connections: opts.connections, duration: opts.warmupSeconds, make: failure("warm") });
    return await runLoad({ url: dev.url, connections: opts.connections, duration: opts.seconds, make: failure("fail") });
  } finally {
    await dev.stop();
  }
}

/** The same load against ./floor: what a new Durable Object with one durable write costs here. */
async function benchFloor(opts: AckOptions): Promise<LoadResult> {
  const dev = await startDevWorker({ config: join(REPO_ROOT, "test/bench/floor/wrangler.toml"), ...(opts.tmpRoot ? { tmpRoot: opts.tmpRoot } : {}) });
  try {
    const stamp = Date.now().toString(36);
    const write = (prefix: string) => (i: number) => {
      const id = `${prefix}-${stamp}-${i}`;
      return {
        method: "POST" as const,
        path: `/write?id=${id}`,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(successCallback(id, `http://127.0.0.1/wav/${id}.wav`)),
      };
    };
    await runLoad({ url: dev.url, connections: opts.connections, duration: opts.warmupSeconds, make: write("warm") });
    return await runLoad({ url: dev.url, connections: opts.connections, duration: opts.seconds, make: write("floor") });
  } finally {
    await dev.stop();
  }
}
