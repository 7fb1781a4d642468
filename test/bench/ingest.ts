// Ingest of one large WAV served by the simulator: seconds from the callback to `stored`, and the
// peak growth of the worker's workerd resident memory over its idle level. The reference is a
// minimal worker (./baseline) doing `await env.BUCKET.put(key, (await fetch(url)).body)` for the
// same URL. Every run gets a fresh `wrangler dev` session (fresh process, fresh local state) and
// a small warm-up transfer through the same path first, so neither side pays for cold starts.

import { join } from "node:path";
import { REPO_ROOT, startDevWorker, workerVarsFor, type DevWorker } from "../e2e/harness.ts";
import { callbackHeaders, successCallback } from "../simulator/signature.ts";
import type { Simulator } from "../simulator/simulator.ts";
import type { WavSpec } from "../simulator/wav.ts";
import { RssSampler } from "./rss.ts";

export type IngestMode = "baseline" | "worker" | "worker-chunked";

export interface IngestRun {
  mode: IngestMode;
  bytes: number;
  chunked: boolean;
  seconds: number;
  mibPerSecond: number;
  idleRssBytes: number;
  peakRssBytes: number;
  rssGrowthBytes: number;
  /** The stored object's size and sha256 were those served (the baseline reports size only). */
  verified: boolean;
  note?: string;
  /** Worker runs: whether the stored WAV has a waveform (GET /api/tasks/:id, files[0].waveform). */
  waveform?: boolean;
  /** Worker settings this run had beyond the bench's own (e.g. WAVEFORM_PEAKS=false). */
  vars?: Record<string, string>;
}

export interface IngestOptions {
  sim: Simulator;
  keys: { apiToken: string; hmacKey: string; sunoKey: string };
  bytes: number;
  tmpRoot?: string;
  log: (line: string) => void;
  /** More worker settings (the worker modes only). */
  vars?: Record<string, string>;
}

const WARMUP_BYTES = 1 << 20;

export async function startBaseline(tmpRoot?: string): Promise<DevWorker> {
  return startDevWorker({ config: join(REPO_ROOT, "test/bench/baseline/wrangler.toml"), readyPath: "/", ...(tmpRoot ? { tmpRoot } : {}) });
}

export async function baselinePut(dev: DevWorker, url: string, key: string): Promise<{ size: number | null }> {
  const res = await fetch(`${dev.url}/put?url=${encodeURIComponent(url)}&key=${encodeURIComponent(key)}`, { method: "POST" });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`baseline put answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as { size: number | null };
}

async function workerIngest(
  dev: DevWorker,
  opts: IngestOptions,
  taskId: string,
  url: string,
): Promise<TaskResult> {
  const res = await fetch(`${dev.url}/callbacks/wav`, {
    method: "POST",
    headers: callbackHeaders(opts.keys.hmacKey, taskId),
    body: JSON.stringify(successCallback(taskId, url)),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`callback answered ${res.status}: ${text}`);
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`task ${taskId} did not finish within 10 minutes`);
    const r = await fetch(`${dev.url}/api/tasks/${taskId}`, { headers: { authorization: `Bearer ${opts.keys.apiToken}` } });
    if (r.status === 200) {
      const t = (await r.json()) as TaskResult;
      if (t.state === "stored" || t.state === "failed") return t;
    } else {
      await r.text();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type TaskResult = { state: string; wav: { size: number; sha256: string } | null; error: unknown; files?: { waveform?: { available: boolean } }[] };

export async function benchIngest(mode: IngestMode, opts: IngestOptions): Promise<IngestRun> {
  const { sim } = opts;
  const chunked = mode === "worker-chunked";
  const stamp = Date.now().toString(36);
  const spec: WavSpec = { bytes: opts.bytes, ...(chunked ? { chunked: true } : {}) };
  const warmSpec: WavSpec = { bytes: WARMUP_BYTES, ...(chunked ? { chunked: true } : {}) };
  const name = `ingest-${mode}-${stamp}`;
  const url = sim.wavUrl(name, spec);
  const warmUrl = sim.wavUrl(`${name}-warm`, warmSpec);

  const dev =
    mode === "baseline"
      ? await startBaseline(opts.tmpRoot)
      : await startDevWorker({ vars: workerVarsFor(sim, opts.keys, opts.vars ?? {}), ...(opts.tmpRoot ? { tmpRoot: opts.tmpRoot } : {}) });
  try {
    const sampler = new RssSampler(() => dev.workerdPids(), 50);
    // Warm up the same path with a small WAV, then take the idle level.
    if (mode === "baseline") await baselinePut(dev, warmUrl, `warm-${stamp}`);
    else await workerIngest(dev, opts, `warm-${stamp}`, warmUrl);
    await new Promise((r) => setTimeout(r, 500));
    const idle = await sampler.baseline(1000);

    sampler.start();
    const t0 = performance.now();
    let verified = false;
    let note: string | undefined;
    let waveform: boolean | undefined;
    if (mode === "baseline") {
      const r = await baselinePut(dev, url, `wav/${name}.wav`);
      verified = r.size === sim.served(url).find((s) => s.complete && !s.rangeStart)?.totalBytes;
    } else {
      const t = await workerIngest(dev, opts, name, url);
      if (t.state !== "stored") note = `ended ${t.state}: ${JSON.stringify(t.error)}`;
      waveform = t.files?.[0]?.waveform?.available;
      const served = sim.served(url).find((s) => s.complete && !s.rangeStart);
      verified = t.state === "stored" && !!served && t.wav?.size === served.totalBytes && t.wav.sha256 === served.sha256;
    }
    const seconds = (performance.now() - t0) / 1000;
    const rss = sampler.stop();
    const run: IngestRun = {
      mode,
      bytes: opts.bytes,
      chunked,
      seconds,
      mibPerSecond: opts.bytes / (1 << 20) / seconds,
      idleRssBytes: idle,
      peakRssBytes: rss.peakBytes,
      rssGrowthBytes: rss.growthBytes,
      verified,
    };
    if (note !== undefined) run.note = note;
    if (opts.vars && Object.keys(opts.vars).length > 0) run.vars = opts.vars;
    if (waveform !== undefined) run.waveform = waveform;
    return run;
  } finally {
    await dev.stop();
  }
}
