// Issue 17, "Performance": signed `complete` music callbacks, each a new task with two tracks (an
// MP3 and a JPEG cover each, small fixtures from the simulator), against GET /healthz of the same
// `wrangler dev` session, same concurrency and duration, one after the other. Afterwards a sample
// of the acknowledged tasks must end stored with all four files.

import { startDevWorker, workerVarsFor } from "../e2e/harness.ts";
import { callbackHeaders } from "../simulator/signature.ts";
import type { Simulator } from "../simulator/simulator.ts";
import { runLoad, type LoadResult } from "./load.ts";
import { getTask, type Keys } from "./tasks.ts";

export interface MusicAckOptions {
  sim: Simulator;
  keys: Keys;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  /** How many acknowledged tasks to check, spread over the run. */
  sample: number;
  /** How long the sample may take to be stored after the load ends. */
  storedTimeoutMs: number;
  tmpRoot?: string;
  log: (line: string) => void;
}

export interface MusicAckResult {
  connections: number;
  seconds: number;
  healthz: LoadResult;
  callbacks: LoadResult;
  /** Sampled tasks: stored with all four files (two MP3s, two JPEGs), and how long after the load. */
  storedAfter: { checked: number; stored: number; allFour: number; seconds: number; notStored: string[] };
}

/** The provider's `complete` music callback for a task with two tracks. */
export function musicCompleteCallback(sim: Simulator, taskId: string): object {
  const track = (n: number) => {
    const id = `${taskId}-t${n}`;
    const audio = sim.mediaUrl(id, "mp3", n === 1 ? "tone-a" : "tone-b");
    return {
      id,
      audio_url: audio,
      source_audio_url: audio,
      stream_audio_url: `${sim.url}/stream/${id}`,
      source_stream_audio_url: `${sim.url}/stream/${id}`,
      image_url: sim.mediaUrl(id, "jpeg", n === 1 ? "art-a" : "art-b"),
      source_image_url: sim.mediaUrl(id, "jpeg", n === 1 ? "art-a" : "art-b"),
      prompt: "[Verse] Night city lights shining bright",
      model_name: "chirp-v4",
      title: n === 1 ? "Night City Lights" : "Harbour at Dawn",
      tags: "synthwave",
      createTime: "2025-01-01 00:00:00",
      duration: n === 1 ? 3 : 4,
    };
  };
  return { code: 200, msg: "All generated successfully.", data: { callbackType: "complete", task_id: taskId, data: [track(1), track(2)] } };
}

export async function benchMusicAck(opts: MusicAckOptions): Promise<MusicAckResult> {
  const { sim, keys, log } = opts;
  const dev = await startDevWorker({ vars: workerVarsFor(sim, keys), ...(opts.tmpRoot ? { tmpRoot: opts.tmpRoot } : {}) });
  try {
    const stamp = Date.now().toString(36);
    const ids: string[] = [];
    const callback = (prefix: string) => (i: number) => {
      const id = `${prefix}-${stamp}-${i}`;
      if (prefix === "music") ids.push(id);
      return {
        method: "POST" as const,
        path: "/callbacks/music",
        headers: callbackHeaders(keys.hmacKey, id),
        body: JSON.stringify(musicCompleteCallback(sim, id)),
      };
    };
    const healthz = () => ({ method: "GET" as const, path: "/healthz" });

    log(`  warm-up: ${opts.warmupSeconds} s of each`);
    await runLoad({ url: dev.url, connections: opts.connections, duration: opts.warmupSeconds, make: healthz });
    await runLoad({ url: dev.url, connections: opts.connections, duration: opts.warmupSeconds, make: callback("warm") });
    await new Promise((r) => setTimeout(r, 3000)); // let the warm-up's transfers finish

    log(`  GET /healthz: ${opts.seconds} s at concurrency ${opts.connections}`);
    const h = await runLoad({ url: dev.url, connections: opts.connections, duration: opts.seconds, make: healthz });
    log(`    p50 ${h.latencyMs.p50} ms, p99 ${h.latencyMs.p99} ms, ${h.rps.toFixed(0)} req/s, non-2xx ${h.non2xx}, errors ${h.errors}`);
    log(`  POST /callbacks/music (complete, two tracks: 2 MP3 + 2 JPEG): ${opts.seconds} s at concurrency ${opts.connections}`);
    const c = await runLoad({ url: dev.url, connections: opts.connections, duration: opts.seconds, make: callback("music") });
    log(`    p50 ${c.latencyMs.p50} ms, p99 ${c.latencyMs.p99} ms, ${c.rps.toFixed(0)} req/s, non-2xx ${c.non2xx}, errors ${c.errors}`);

    // A sample spread over the run (the last ones are the last to be worked on): stored, four files.
    const step = Math.max(1, Math.floor(ids.length / opts.sample));
    const sample = ids.filter((_, i) => i % step === 0).slice(0, opts.sample - 1);
    if (ids.length > 0 && !sample.includes(ids.at(-1)!)) sample.push(ids.at(-1)!);
    const t0 = performance.now();
    const deadline = Date.now() + opts.storedTimeoutMs;
    let stored = 0;
    let allFour = 0;
    const notStored: string[] = [];
    for (const id of sample) {
      for (;;) {
        const t = await getTask(dev, keys, id);
        if (t?.state === "stored") {
          stored++;
          const files = t.files ?? [];
          if (files.length === 4 && files.every((f) => f.state === "stored" && f.size !== null && f.sha256 !== null)) allFour++;
          break;
        }
        if (t?.state === "failed" || Date.now() > deadline) {
          notStored.push(`${id}: ${t ? `${t.state} ${JSON.stringify(t.error)}` : "not found"}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    log(`  sample: ${stored} of ${sample.length} stored (${allFour} with all four files), ${seconds.toFixed(1)} s after the load`);
    return { connections: opts.connections, seconds: opts.seconds, healthz: h, callbacks: c, storedAfter: { checked: sample.length, stored, allFour, seconds, notStored: notStored.slice(0, 5) } };
  } finally {
    await dev.stop();
  }
}
