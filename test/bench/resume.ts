// Issue 18, "Measured": resume economy. Three runs against the real worker under `wrangler dev`,
// each with a WAV the simulator serves with Content-Length, an ETag and Last-Modified, and Range:
//
//   cut     the source destroys the connection at ~50% (?cutOnce=, the first request only); once
//           the task shows the failed attempt, POST /api/tasks/:id/retry runs the next one at once.
//           Measured: bytes served after the cut against the remainder.
//   kill    the source is paced (?bps=); at ~50% served, SIGKILL of the session's whole process
//           group (wrangler dev and its workerd), as test/e2e/resume.test.ts does; a new session on
//           the same local state (persistTo, keepState) goes on by itself. Measured: bytes served
//           after the restart against the remainder.
//   slices  TRANSFER_SLICE_SECONDS=3 and a paced transfer of ~10 s. Measured: how many requests
//           the source got (one per invocation) and the bytes served in all.
//
// Every run ends with the task stored and its sha256 checked against the file's. Where the excess
// went: the bytes queued in socket buffers at the interruption (ss, as resume.test.ts reads them:
// served but not read by the worker) and the rest, read by the worker but not yet checkpointed
// (README, "Resumable transfers": the part uploading, the part filling, the block being read).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevWorker, workerVarsFor, type DevWorker } from "../e2e/harness.ts";
import { successCallback } from "../simulator/signature.ts";
import type { ServedFile, Simulator } from "../simulator/simulator.ts";
import { wavLayout, wavSha256 } from "../simulator/wav.ts";
import { alive, bytesInSocketBuffers, finalOrLast, isFinal, postCallback, SocketQueueSampler, until, waitForTask, type Keys, type TaskJson } from "./tasks.ts";

export const PART_BYTES = 8 << 20;

export interface ResumeOptions {
  sim: Simulator;
  keys: Keys;
  /** Size of the WAV cut and killed at ~50%. */
  bytes: number;
  /** Pace of the source in the kill run (bytes/s): slow enough to kill it half-way. */
  killBps: number;
  /** The slices run: TRANSFER_SLICE_SECONDS, and a WAV of sliceBytes served at sliceBps. */
  sliceSeconds: number;
  sliceBytes: number;
  sliceBps: number;
  tmpRoot?: string;
  log: (line: string) => void;
}

/** One request the source got, as the simulator recorded it. */
export interface Request {
  status: number;
  rangeStart: number;
  bytesSent: number;
  ifRange: string | null;
  cut: boolean;
  complete: boolean;
}

export interface InterruptionRun {
  how: "cut" | "kill";
  bytes: number;
  /** Bytes the source had sent when the interruption came (the cut offset; served before the kill). */
  sentBefore: number;
  /** Bytes queued in socket buffers at that moment (ss), served but not read by the worker; null without ss. */
  queuedInSockets: number | null;
  /** The same, sampled every 200 ms while the first request streamed (the kill run). */
  queuedWhileStreaming?: { samples: number; median: number | null; max: number | null };
  /** Where the next request started (the checkpoint's end), and its status. */
  resumedFrom: number | null;
  resumedStatus: number | null;
  /** Bytes served after the interruption, and the remainder (bytes − sentBefore). */
  fetchedAfter: number;
  remainder: number;
  /** fetchedAfter − remainder: what was fetched twice. */
  excess: number;
  /** sentBefore − queuedInSockets − resumedFrom: read by the worker, not in its checkpoint (null without ss or a resume). */
  readNotCheckpointed: number | null;
  /** From the retry (cut) or the new session's start (kill) to stored. */
  secondsToStored: number;
  state: string;
  verified: boolean;
  requests: Request[];
  /** The kill run: the source's pace (bytes/s). */
  bps?: number;
  note?: string;
}

export interface SlicesRun {
  sliceSeconds: number;
  bytes: number;
  bps: number;
  /** Requests the source got (each invocation asks for the rest of the file). */
  invocations: number;
  fetched: number;
  excess: number;
  /** Per request but the last: bytes sent past where the next one started (fetched again). */
  wastedPerPause: number[];
  /** Bytes queued in socket buffers on the source's port, sampled every 200 ms during the transfer. */
  queuedWhileStreaming: { samples: number; median: number | null; max: number | null };
  seconds: number;
  state: string;
  verified: boolean;
  requests: Request[];
  note?: string;
}

export interface ResumeResult {
  cut: InterruptionRun | null;
  kill: InterruptionRun | null;
  slices: SlicesRun | null;
  /** A run that threw: its message (the others still ran). */
  errors?: Partial<Record<"cut" | "kill" | "slices", string>>;
}

const mib = (b: number) => `${(b / (1 << 20)).toFixed(1)} MiB`;

function requestsOf(list: ServedFile[]): Request[] {
  return list.map((s) => ({
    status: s.status ?? 200,
    rangeStart: s.rangeStart ?? 0,
    bytesSent: s.bytesSent,
    ifRange: s.ifRange ?? null,
    cut: s.cut === true,
    complete: s.complete,
  }));
}

function verify(t: TaskJson, size: number, sha256: string): boolean {
  return t.state === "stored" && t.wav?.size === size && t.wav.sha256 === sha256;
}

/** The file's sha256, computed once per name and size (hashing 1 GiB takes seconds: never while a transfer is measured). */
const shaCache = new Map<string, string>();
function expectedSha256(name: string, bytes: number): string {
  const key = `${name}/${bytes}`;
  let v = shaCache.get(key);
  if (v === undefined) {
    v = wavSha256(name, { bytes });
    shaCache.set(key, v);
  }
  return v;
}

function devOptions(opts: ResumeOptions, extra: Record<string, string> = {}, state?: string) {
  return {
    vars: workerVarsFor(opts.sim, opts.keys, extra),
    ...(opts.tmpRoot ? { tmpRoot: opts.tmpRoot } : {}),
    ...(state ? { persistTo: state, keepState: true } : {}),
  };
}

/** A small WAV through the same path, so neither run pays for a cold start. */
async function warmUp(dev: DevWorker, opts: ResumeOptions, id: string): Promise<void> {
  await postCallback(dev, opts.keys, "wav", id, successCallback(id, opts.sim.wavUrl(id, { bytes: 1 << 20 })));
  await waitForTask(dev, opts.keys, id, isFinal, { timeoutMs: 60_000 });
}

export async function benchCut(opts: ResumeOptions, name: string): Promise<InterruptionRun> {
  const { sim, keys, log } = opts;
  const size = wavLayout(name, { bytes: opts.bytes }).totalBytes;
  // ~50%, not on a part boundary.
  const cutAt = Math.floor(size / 2) + 123_457;
  const url = sim.wavUrl(name, { bytes: opts.bytes }, { cutOnce: cutAt });
  const path = new URL(url).pathname + new URL(url).search;
  const atCut = { queued: null as number | null };
  const off = sim.on((e) => {
    // Synchronously, before the simulator destroys the connection.
    if (e.type === "cut" && e.path === path) atCut.queued = bytesInSocketBuffers(sim.port);
  });
  const dev = await startDevWorker(devOptions(opts));
  try {
    await warmUp(dev, opts, `cut-warm-${Date.now().toString(36)}`);
    const taskId = `cut-${Date.now().toString(36)}`;
    await postCallback(dev, keys, "wav", taskId, successCallback(taskId, url));
    await until("the source to cut the connection", 5 * 60_000, () => sim.served(url)[0]?.ended === true);
    const first = sim.served(url)[0]!;
    const queued = atCut.queued;
    log(`  cut at ${mib(first.bytesSent)} of ${mib(size)} (${queued === null ? "ss unavailable" : `${mib(queued)} in socket buffers`})`);
    // The runner reports the failed attempt (retried in 30 s); POST /retry makes it now.
    const failedOnce = await waitForTask(dev, keys, taskId, (t) => t.error !== null || isFinal(t), { timeoutMs: 2 * 60_000, what: "showed no failed attempt" });
    if (sim.served(url).length > 1) throw new Error("the source was asked again before the retry");
    log(`  the attempt failed: ${failedOnce.error?.code ?? failedOnce.state}; POST /api/tasks/${taskId}/retry`);
    const t0 = performance.now();
    const res = await fetch(`${dev.url}/api/tasks/${taskId}/retry`, { method: "POST", headers: { authorization: `Bearer ${keys.apiToken}` } });
    const text = await res.text();
    if (res.status !== 202) throw new Error(`POST /retry answered ${res.status}: ${text.slice(0, 300)}`);
    const done = await finalOrLast(dev, keys, taskId, 5 * 60_000);
    const secondsToStored = (performance.now() - t0) / 1000;
    return interruption("cut", sim.served(url), size, first.bytesSent, queued, done, secondsToStored, expectedSha256(name, opts.bytes), log);
  } finally {
    off();
    await dev.stop();
  }
}

export async function benchKill(opts: ResumeOptions, name: string): Promise<InterruptionRun> {
  const { sim, keys, log } = opts;
  const size = wavLayout(name, { bytes: opts.bytes }).totalBytes;
  const url = sim.wavUrl(name, { bytes: opts.bytes }, { bps: opts.killBps });
  const state = mkdtempSync(join(opts.tmpRoot ?? tmpdir(), "wav-edge-bench-kill-"));
  const sessions: DevWorker[] = [];
  try {
    const first = await startDevWorker(devOptions(opts, {}, state));
    sessions.push(first);
    await warmUp(first, opts, `kill-warm-${Date.now().toString(36)}`);
    const taskId = `kill-${Date.now().toString(36)}`;
    const sampler = new SocketQueueSampler(sim.port);
    await postCallback(first, keys, "wav", taskId, successCallback(taskId, url));
    sampler.start();
    await until("half the file to be served", 10 * 60_000, () => (sim.served(url)[0]?.bytesSent ?? 0) >= size / 2);
    const streaming = sampler.stop();
    const workerd = first.workerdProcesses().map((p) => p.pid);
    const queued = bytesInSocketBuffers(sim.port);
    process.kill(-first.pid, "SIGKILL"); // wrangler dev's whole process group, workerd included
    await until("every process of the session to be gone", 15_000, () => [first.pid, ...workerd].every((p) => !alive(p)));
    await until("the source connection to close", 15_000, () => sim.served(url)[0]?.ended === true);
    await first.stop(); // the harness's temporary files; the state directory stays
    const before = sim.served(url)[0]!.bytesSent;
    log(`  killed at ${mib(before)} of ${mib(size)} served (${queued === null ? "ss unavailable" : `${mib(queued)} in socket buffers`})`);

    // A new session on the same local state, and nothing else: the runner's alarm goes on.
    const t0 = performance.now();
    const second = await startDevWorker(devOptions(opts, {}, state));
    sessions.push(second);
    await until("a request for the rest after the restart", 2 * 60_000, () => sim.served(url).length >= 2);
    const done = await finalOrLast(second, keys, taskId, 5 * 60_000);
    const secondsToStored = (performance.now() - t0) / 1000;
    return { ...interruption("kill", sim.served(url), size, before, queued, done, secondsToStored, expectedSha256(name, opts.bytes), log), bps: opts.killBps, queuedWhileStreaming: streaming };
  } finally {
    for (const s of sessions) await s.stop().catch(() => {});
    rmSync(state, { recursive: true, force: true });
  }
}

function interruption(
  how: "cut" | "kill",
  served: ServedFile[],
  size: number,
  sentBefore: number,
  queued: number | null,
  done: TaskJson,
  secondsToStored: number,
  sha256: string,
  log: (line: string) => void,
): InterruptionRun {
  const after = served.slice(1);
  const fetchedAfter = after.reduce((n, s) => n + s.bytesSent, 0);
  const remainder = size - sentBefore;
  const resumed = after[0] ?? null;
  const run: InterruptionRun = {
    how,
    bytes: size,
    sentBefore,
    queuedInSockets: queued,
    resumedFrom: resumed ? (resumed.rangeStart ?? 0) : null,
    resumedStatus: resumed ? (resumed.status ?? 200) : null,
    fetchedAfter,
    remainder,
    excess: fetchedAfter - remainder,
    readNotCheckpointed: resumed && queued !== null ? sentBefore - queued - (resumed.rangeStart ?? 0) : null,
    secondsToStored,
    state: done.state,
    verified: verify(done, size, sha256),
    requests: requestsOf(served),
  };
  if (done.state !== "stored") run.note = `${"timedOut" in done ? "not final within 5 min" : "ended"}: ${done.state}, ${JSON.stringify(done.error)}`;
  log(
    `  resumed from ${run.resumedFrom === null ? "?" : mib(run.resumedFrom)} (HTTP ${run.resumedStatus}); fetched after ${mib(fetchedAfter)} for a remainder of ${mib(remainder)}: excess ${mib(run.excess)}; ` +
      `${done.state} in ${secondsToStored.toFixed(1)} s${run.verified ? ", sha256 verified" : ", NOT VERIFIED"}`,
  );
  return run;
}

export async function benchSlices(opts: ResumeOptions, name: string): Promise<SlicesRun> {
  const { sim, keys, log } = opts;
  const size = wavLayout(name, { bytes: opts.sliceBytes }).totalBytes;
  const url = sim.wavUrl(name, { bytes: opts.sliceBytes }, { bps: opts.sliceBps });
  const dev = await startDevWorker(devOptions(opts, { TRANSFER_SLICE_SECONDS: String(opts.sliceSeconds) }));
  try {
    await warmUp(dev, opts, `slices-warm-${Date.now().toString(36)}`);
    const taskId = `slices-${Date.now().toString(36)}`;
    const sampler = new SocketQueueSampler(sim.port);
    const t0 = performance.now();
    await postCallback(dev, keys, "wav", taskId, successCallback(taskId, url));
    sampler.start();
    const done = await finalOrLast(dev, keys, taskId, 3 * 60_000);
    const seconds = (performance.now() - t0) / 1000;
    const queuedWhileStreaming = sampler.stop();
    await until("the last answer to end", 10_000, () => sim.served(url).every((s) => s.ended)).catch(() => {});
    const served = sim.served(url);
    const fetched = served.reduce((n, s) => n + s.bytesSent, 0);
    const run: SlicesRun = {
      sliceSeconds: opts.sliceSeconds,
      bytes: size,
      bps: opts.sliceBps,
      invocations: served.length,
      fetched,
      excess: fetched - size,
      wastedPerPause: served.slice(0, -1).map((s, i) => s.bytesSent - ((served[i + 1]!.rangeStart ?? 0) - (s.rangeStart ?? 0))),
      queuedWhileStreaming,
      seconds,
      state: done.state,
      verified: verify(done, size, expectedSha256(name, opts.sliceBytes)),
      requests: requestsOf(served),
    };
    if (done.state !== "stored") run.note = `${"timedOut" in done ? "not final within 3 min" : "ended"}: ${done.state}, ${JSON.stringify(done.error)}`;
    log(
      `  ${served.length} requests (${served.map((s) => `HTTP ${s.status} from ${mib(s.rangeStart ?? 0)}: ${mib(s.bytesSent)}`).join(", ")}); fetched ${mib(fetched)} of ${mib(size)} (excess ${mib(run.excess)}); ` +
        `${done.state} in ${seconds.toFixed(1)} s${run.verified ? ", sha256 verified" : ", NOT VERIFIED"}`,
    );
    return run;
  } finally {
    await dev.stop();
  }
}

export async function benchResume(opts: ResumeOptions, which: { cut: boolean; kill: boolean; slices: boolean }): Promise<ResumeResult> {
  const stamp = Date.now().toString(36);
  // The cut and the kill serve the same file (the same name and size, other serving options).
  const name = `resume-${stamp}`;
  const out: ResumeResult = { cut: null, kill: null, slices: null };
  const attempt = async <K extends "cut" | "kill" | "slices">(k: K, fn: () => Promise<NonNullable<ResumeResult[K]>>) => {
    try {
      out[k] = await fn();
    } catch (err) {
      (out.errors ??= {})[k] = ((err as Error).message ?? String(err)).slice(0, 2000);
      opts.log(`  ${k} FAILED: ${(err as Error).stack ?? String(err)}`);
    }
  };
  if (which.cut) {
    opts.log(`  -- a source cut at ~50% of ${mib(opts.bytes)}, then POST /retry`);
    await attempt("cut", () => benchCut(opts, name));
  }
  if (which.kill) {
    opts.log(`  -- SIGKILL of wrangler dev's process group at ~50% of ${mib(opts.bytes)} served at ${mib(opts.killBps)}/s, then a new session`);
    await attempt("kill", () => benchKill(opts, name));
  }
  if (which.slices) {
    opts.log(`  -- TRANSFER_SLICE_SECONDS=${opts.sliceSeconds}, ${mib(opts.sliceBytes)} served at ${mib(opts.sliceBps)}/s`);
    await attempt("slices", () => benchSlices(opts, `slices-${stamp}`));
  }
  return out;
}
