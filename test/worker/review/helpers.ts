// Shared steps of the review-fix tests (not a test file itself): a task whose first attempt met a
// 503 and now waits to retry (a quiet state to set things up in), the shard handing out an attempt,
// a runner left mid-attempt by an earlier slice (its job row and checkpoint, with the parts R2
// really has), and the shard's and runner's alarms run at a time of the test's choosing.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { TaskRunner } from "../../../src/runner/runner";
import type { RunnerJob, TransferJob } from "../../../src/task/jobs";
import type { Task } from "../../../src/task/machine";
import type { Checkpoint } from "../../../src/transfer/transfer";
import { parseWavHeader, type WavHeader } from "../../../src/transfer/wav-format";
import { prepareRunner, shardOf } from "../../helpers/durable";
import { route, type Handler } from "../../helpers/fake-net";
import { getTask, sendCallback, successBody, uniqueTaskId } from "../../helpers/worker";

export const MiB = 1 << 20;
export const PART = 8 * MiB;
export const LEASE_MS = 20 * 60_000;
export const DAY = 86_400_000;

/**
 * A WAV task whose first attempt met a 503 and now waits (about 30 s) to retry; every later
 * request to its URL is answered by `then` (another 503 when not given).
 */
export async function waitingToRetry(opts: { prefix?: string; url?: (taskId: string) => string; then?: Handler } = {}): Promise<{ taskId: string; url: string }> {
  const taskId = uniqueTaskId(opts.prefix ?? "rv");
  const url = opts.url?.(taskId) ?? `https://cdn.example.com/${taskId}.wav`;
  let n = 0;
  route("GET", url, (req) => (++n === 1 || !opts.then ? new Response("busy", { status: 503 }) : opts.then(req)));
  expect((await sendCallback(successBody(taskId, url))).status).toBe(200);
  await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe("source_http_error");
  return { taskId, url };
}

/**
 * The shard hands out the next attempt of the task's WAV, as its alarm does (the shard's own
 * transition; the job is what it would send the runner). Returns the job.
 */
export async function handOut(taskId: string, opts: { refreshUrl?: boolean; adopt?: boolean; url?: string } = {}): Promise<TransferJob> {
  return runInDurableObject(shardOf(taskId), (instance) => {
    const shard = instance as unknown as { commit(id: string, e: { type: "transferStarted"; file: string; refreshUrl?: boolean }, now: number): { after: Task } };
    const name = `${taskId}.wav`;
    const { after } = shard.commit(taskId, { type: "transferStarted", file: name, refreshUrl: opts.refreshUrl }, Date.now());
    const file = after.files.find((f) => f.name === name)!;
    return {
      kind: "transfer",
      taskId,
      taskKind: "wav",
      file: { name, key: `wav/${taskId}.wav`, contentType: file.contentType, source: opts.url ? { url: opts.url } : file.source },
      epoch: file.running!.epoch,
      refreshUrl: opts.refreshUrl ?? false,
      adopt: opts.adopt ?? false,
    } satisfies TransferJob;
  });
}

/** The parts an earlier slice put into R2 for `key`: a real multipart upload, not completed. */
export async function leftoverUpload(key: string, taskId: string, sourceUrl: string, parts: Uint8Array[]): Promise<{ uploadId: string; parts: Checkpoint["parts"] }> {
  const upload = await env.BUCKET.createMultipartUpload(key, { httpMetadata: { contentType: "audio/wav" }, customMetadata: { taskId, sourceUrl } });
  const done: Checkpoint["parts"] = [];
  let offset = 0;
  for (const [i, bytes] of parts.entries()) {
    const p = await upload.uploadPart(i + 1, bytes);
    done.push({ partNumber: i + 1, etag: p.etag, offset, length: bytes.byteLength });
    offset += bytes.byteLength;
  }
  return { uploadId: upload.uploadId, parts: done };
}

/** The WAV header at the start of `bytes` (as the first part's checkpoint keeps it). */
export function headerOf(bytes: Uint8Array): WavHeader {
  const h = parseWavHeader(bytes.subarray(0, 4096));
  if (!h || h === "more") throw new Error("no WAV header");
  return h;
}

/**
 * The task's runner as an earlier slice left it: `job` in `phase` (running: the isolate died;
 * paused: the slice ended; queued: handed out, not begun), and the file's checkpoint if given
 * (`sliceFrom`: where the slice that died began). Its alarm is set, to be run by the test.
 */
export async function seedRunner(
  taskId: string,
  job: RunnerJob,
  phase: "queued" | "running" | "paused",
  checkpoint?: Checkpoint | string,
  sliceFrom = 0,
): Promise<DurableObjectStub<TaskRunner>> {
  const runner = await prepareRunner(taskId);
  await runInDurableObject(runner, async (_i, state) => {
    const slot = job.kind === "transfer" ? `transfer:${job.file.name}` : "announce";
    state.storage.sql.exec("INSERT OR REPLACE INTO jobs (kind, job, phase, report) VALUES (?, ?, ?, NULL)", slot, JSON.stringify(job), phase);
    if (checkpoint !== undefined && job.kind === "transfer") {
      const text = typeof checkpoint === "string" ? checkpoint : JSON.stringify(checkpoint);
      state.storage.sql.exec("INSERT OR REPLACE INTO checkpoints (key, checkpoint, slice_from) VALUES (?, ?, ?)", job.file.key, text, sliceFrom);
    }
    await state.storage.setAlarm(Date.now() + 60_000);
  });
  return runner;
}

/** Runs an object's alarm now, setting one first if it has none (runDurableObjectAlarm needs one). */
export async function runAlarm(stub: DurableObjectStub): Promise<boolean> {
  await runInDurableObject(stub, async (_i, state) => {
    if ((await state.storage.getAlarm()) === null) await state.storage.setAlarm(Date.now() + 60_000);
  });
  return runDurableObjectAlarm(stub);
}

/** The runner's job rows (slot, phase, epoch). */
export async function jobsOf(runner: DurableObjectStub<TaskRunner>): Promise<{ kind: string; phase: string; epoch: number | null }[]> {
  return runInDurableObject(runner, (_i, state) =>
    state.storage.sql
      .exec<{ kind: string; phase: string; job: string }>("SELECT kind, phase, job FROM jobs ORDER BY kind")
      .toArray()
      .map((r) => ({ kind: r.kind, phase: r.phase, epoch: (JSON.parse(r.job) as { epoch?: number }).epoch ?? null })),
  );
}

/** The runner's checkpoint of `key`, or null. */
export async function checkpointOf(runner: DurableObjectStub<TaskRunner>, key: string): Promise<Checkpoint | null> {
  return runInDurableObject(runner, (_i, state) => {
    const row = state.storage.sql.exec<{ checkpoint: string }>("SELECT checkpoint FROM checkpoints WHERE key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.checkpoint) as Checkpoint) : null;
  });
}

/** Whether a multipart upload can still take parts (an aborted one cannot). */
export async function uploadIsOpen(key: string, uploadId: string): Promise<boolean> {
  try {
    await env.BUCKET.resumeMultipartUpload(key, uploadId).uploadPart(99, new Uint8Array(16));
    return true;
  } catch {
    return false;
  }
}

/** The bytes a body carries. */
export async function bytesOf(body: ReadableStream<Uint8Array> | Response | null): Promise<Uint8Array> {
  return new Uint8Array(await (body instanceof Response ? body : new Response(body)).arrayBuffer());
}

/** The shard's removal row for `key`, or null. */
export async function removalRow(taskId: string, key: string): Promise<{ due_at: number; attempts: number; task_id: string | null } | null> {
  return runInDurableObject(shardOf(taskId), (_i, state) =>
    state.storage.sql.exec<{ due_at: number; attempts: number; task_id: string | null }>("SELECT * FROM removals WHERE key = ?", key).toArray()[0] ?? null,
  );
}

/**
 * Waits (on real timers, so it also works while Date is faked and frozen) until `cond` holds;
 * throws after about `ms`.
 */
export async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  for (let waited = 0; !(await cond()); waited += 10) {
    if (waited >= ms) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
