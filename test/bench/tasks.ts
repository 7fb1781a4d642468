// What the bench's phases share: a signed callback to a `wrangler dev` session of the worker, the
// task as GET /api/tasks/:id shows it, waiting for a task to reach a state, and the bytes that sit
// in the kernel's socket buffers on a port (served, but not read by the other end).

import { execFile, execFileSync } from "node:child_process";
import type { DevWorker } from "../e2e/harness.ts";
import { callbackHeaders } from "../simulator/signature.ts";

export interface Keys {
  apiToken: string;
  hmacKey: string;
  sunoKey: string;
}

export interface TaskFileJson {
  name: string;
  state: string;
  size: number | null;
  sha256: string | null;
  error: { code: string; message: string } | null;
}

export interface TaskJson {
  taskId: string;
  state: string;
  attempts: number;
  wav: { size: number; sha256: string } | null;
  files: TaskFileJson[];
  error: { code: string; message: string } | null;
}

/** POSTs a signed callback of `kind` (wav, music, stems, …); throws unless answered 200. */
export async function postCallback(dev: DevWorker, keys: Keys, kind: string, taskId: string, body: object): Promise<void> {
  const res = await fetch(`${dev.url}/callbacks/${kind}`, { method: "POST", headers: callbackHeaders(keys.hmacKey, taskId), body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${kind} callback for ${taskId} answered ${res.status}: ${text.slice(0, 300)}`);
}

/** The task, or null (not found yet, or the session did not answer). */
export async function getTask(dev: DevWorker, keys: Keys, taskId: string): Promise<TaskJson | null> {
  try {
    const res = await fetch(`${dev.url}/api/tasks/${taskId}`, { headers: { authorization: `Bearer ${keys.apiToken}` }, signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) {
      await res.text();
      return null;
    }
    return (await res.json()) as TaskJson;
  } catch {
    return null;
  }
}

/** Polls the task every `everyMs` until `done(task)`; throws after `timeoutMs`. */
export async function waitForTask(
  dev: DevWorker,
  keys: Keys,
  taskId: string,
  done: (t: TaskJson) => boolean,
  opts: { timeoutMs?: number; everyMs?: number; what?: string } = {},
): Promise<TaskJson> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
  let last: TaskJson | null = null;
  for (;;) {
    const t = await getTask(dev, keys, taskId);
    if (t) {
      last = t;
      if (done(t)) return t;
    }
    if (Date.now() > deadline) throw new Error(`task ${taskId}: ${opts.what ?? "did not finish"} in time; it says ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 100));
  }
}

export const isFinal = (t: TaskJson) => t.state === "stored" || t.state === "failed";

/**
 * The task once stored or failed; after `timeoutMs`, the task as last seen (or a stand-in when it
 * was never seen) with `timedOut` — a measurement that ends in a MISS with the reason, not an
 * exception that loses the rest of the run.
 */
export async function finalOrLast(dev: DevWorker, keys: Keys, taskId: string, timeoutMs: number): Promise<TaskJson & { timedOut?: true }> {
  try {
    return await waitForTask(dev, keys, taskId, isFinal, { timeoutMs });
  } catch {
    const last = await getTask(dev, keys, taskId);
    return { ...(last ?? { taskId, state: "unknown", attempts: 0, wav: null, files: [], error: null }), timedOut: true };
  }
}

/** Polls `probe` every 50 ms until it gives a value (not null, undefined or false). */
export async function until<T>(what: string, timeoutMs: number, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Bytes queued in the kernel on the established connections to or from `port` (Recv-Q + Send-Q of
 * both ends, from `ss`), as test/e2e/resume.test.ts measures them: sent by the server, not yet read
 * by the client. Null where `ss` is not available.
 */
export function bytesInSocketBuffers(port: number): number | null {
  try {
    return queuedIn(execFileSync("ss", ["-tnH", "state", "established", `( sport = :${port} or dport = :${port} )`], { encoding: "utf8", timeout: 2_000 }));
  } catch {
    return null;
  }
}

/** The sum of Recv-Q and Send-Q over the lines `ss -tnH` printed. */
function queuedIn(out: string): number {
  let sum = 0;
  for (const line of out.trim().split("\n")) {
    const [recvQ, sendQ] = line.trim().split(/\s+/);
    if (recvQ !== undefined && sendQ !== undefined && /^\d+$/.test(recvQ) && /^\d+$/.test(sendQ)) sum += Number(recvQ) + Number(sendQ);
  }
  return sum;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Samples bytesInSocketBuffers(port) on a timer while a transfer runs: how deep the queues usually are. */
export class SocketQueueSampler {
  private timer: NodeJS.Timeout | null = null;
  private readonly samples: number[] = [];
  private readonly port: number;
  private readonly everyMs: number;

  constructor(port: number, everyMs = 200) {
    this.port = port;
    this.everyMs = everyMs;
  }

  private busy = false;

  /** Runs `ss` without blocking the event loop (the simulator serves from this process). */
  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      execFile("ss", ["-tnH", "state", "established", `( sport = :${this.port} or dport = :${this.port} )`], { encoding: "utf8", timeout: 2_000 }, (err, out) => {
        this.busy = false;
        if (!err && this.timer) this.samples.push(queuedIn(out));
      });
    }, this.everyMs);
  }

  stop(): { samples: number; median: number | null; max: number | null } {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const s = [...this.samples].sort((a, b) => a - b);
    return { samples: s.length, median: s.length ? s[Math.floor(s.length / 2)]! : null, max: s.length ? s.at(-1)! : null };
  }
}
