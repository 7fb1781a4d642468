// Kill and resume (issue 18): the real worker under `wrangler dev`, a ~300 MiB WAV served slowly
// from a file server that honours Range, a SIGKILL of the session's whole process group (workerd
// included) when about half has been served, and a new `wrangler dev` on the same local state.
// The task must end stored with the right sha256, having fetched after the restart no more than
// what the worker had not read yet plus the two parts it may hold when killed — one uploading, one
// filling — and the block it was reading (README, "Resumable transfers").
//
// The provider simulator (test/simulator) does not answer Range requests, so the file comes from
// a minimal ranged server here; the simulator plays the provider's API (record-info).

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callbackHeaders, successCallback } from "../simulator/signature.ts";
import { startSimulator, type Simulator } from "../simulator/simulator.ts";
import { startDevWorker, workerVarsFor, type DevWorker } from "./harness.ts";

const KEYS = { apiToken: "e2e-api-token", hmacKey: "e2e-hmac-key", sunoKey: "e2e-suno-key" };
const MiB = 1 << 20;
const PART = 8 * MiB;
/** ~300 MiB, not a whole number of parts. */
const SIZE = 300 * MiB + 4_242;
/** Slow enough to kill it half-way, fast enough to keep the file's runtime reasonable. */
const BYTES_PER_SECOND = 16 * MiB;
const ETAG = '"e2e-resume-v1"';
const LAST_MODIFIED = "Mon, 01 Dec 2025 10:00:00 GMT";

// ── A ranged file server: a WAV header, then a pattern that depends on the position ──────────────

const CHUNK = 256 * 1024;
/** Byte p of the file past the header is PATTERN[p % 256]; this holds every chunk's bytes. */
const PATTERN = Buffer.alloc(CHUNK + 256);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = (i * 31 + 7) & 0xff;

function wavHeader(size: number): Buffer {
  const b = Buffer.alloc(44);
  const dataBytes = size - 44;
  b.write("RIFF", 0, "ascii");
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write("WAVE", 8, "ascii");
  b.write("fmt ", 12, "ascii");
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(2, 22);
  b.writeUInt32LE(48_000, 24);
  b.writeUInt32LE(48_000 * 4, 28);
  b.writeUInt16LE(4, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36, "ascii");
  b.writeUInt32LE(dataBytes, 40);
  return b;
}
const HEADER = wavHeader(SIZE);

/** The file's bytes [from, from + n), n ≤ CHUNK. */
function bytesAt(from: number, n: number): Buffer {
  const out = Buffer.from(PATTERN.subarray(from % 256, (from % 256) + n));
  if (from < HEADER.length) HEADER.copy(out, 0, from, Math.min(HEADER.length, from + n));
  return out;
}

function sha256OfFile(): string {
  const h = createHash("sha256");
  for (let at = 0; at < SIZE; at += CHUNK) h.update(bytesAt(at, Math.min(CHUNK, SIZE - at)));
  return h.digest("hex");
}

interface Served {
  range: string | null;
  ifRange: string | null;
  status: number;
  start: number;
  sent: number;
  at: number;
  closed: boolean;
}

interface FileServer {
  url: string;
  port: number;
  served: Served[];
  total(): number;
  close(): Promise<void>;
}

async function startFileServer(): Promise<FileServer> {
  const served: Served[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== "/big.wav") {
      res.writeHead(404).end();
      return;
    }
    const range = req.headers.range ?? null;
    const ifRange = (req.headers["if-range"] as string | undefined) ?? null;
    const m = range ? /^bytes=(\d+)-$/.exec(range) : null;
    const honoured = m !== null && (ifRange === null || ifRange === ETAG || ifRange === LAST_MODIFIED) && Number(m[1]) < SIZE;
    const start = honoured ? Number(m![1]) : 0;
    const entry: Served = { range, ifRange, status: honoured ? 206 : 200, start, sent: 0, at: Date.now(), closed: false };
    served.push(entry);
    const headers: Record<string, string> = {
      "content-type": "audio/wav",
      "content-length": String(SIZE - start),
      "accept-ranges": "bytes",
      etag: ETAG,
      "last-modified": LAST_MODIFIED,
    };
    if (honoured) headers["content-range"] = `bytes ${start}-${SIZE - 1}/${SIZE}`;
    res.writeHead(entry.status, headers);
    let pos = start;
    let gone = false;
    res.on("close", () => {
      gone = true;
      entry.closed = true;
    });
    const began = Date.now();
    const pump = async () => {
      while (!gone && pos < SIZE) {
        // Paced: never ahead of BYTES_PER_SECOND since this answer began.
        const due = began + ((pos - start) / BYTES_PER_SECOND) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (gone) return;
        const n = Math.min(CHUNK, SIZE - pos);
        const ok = res.write(bytesAt(pos, n));
        pos += n;
        entry.sent += n;
        if (!ok && !gone) {
          await new Promise<void>((r) => {
            const done = () => {
              res.off("drain", done);
              res.off("close", done);
              r();
            };
            res.on("drain", done);
            res.on("close", done);
          });
        }
      }
      if (!gone) res.end();
    };
    void pump();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    served,
    total: () => served.reduce((s, e) => s + e.sent, 0),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// ── The test ───────────────────────────────────────────────────────────────────────────────────

/**
 * Bytes queued in the kernel on the file server's connections (both ends' Recv-Q and Send-Q, from
 * `ss`): served, as far as the server knows, but not read by the worker. For the failure message
 * only; null where `ss` is not available.
 */
function bytesInSocketBuffers(port: number): number | null {
  try {
    const out = execFileSync("ss", ["-tnH", "state", "established", `( sport = :${port} or dport = :${port} )`], { encoding: "utf8", timeout: 2_000 });
    let sum = 0;
    for (const line of out.trim().split("\n")) {
      const [recvQ, sendQ] = line.trim().split(/\s+/);
      if (recvQ !== undefined && sendQ !== undefined) sum += Number(recvQ) + Number(sendQ);
    }
    return sum;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | null | undefined | Promise<T | null | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type TaskJson = { state: string; wav: { size: number; sha256: string } | null; error: { code: string; message: string } | null; attempts: number };

async function taskOf(dev: DevWorker, taskId: string): Promise<TaskJson | null> {
  try {
    const res = await fetch(`${dev.url}/api/tasks/${taskId}`, { headers: { authorization: `Bearer ${KEYS.apiToken}` }, signal: AbortSignal.timeout(5_000) });
    return res.status === 200 ? ((await res.json()) as TaskJson) : null;
  } catch {
    return null;
  }
}

let sim: Simulator;
let files: FileServer;
let stateDir: string;
const workers: DevWorker[] = [];
let expectedSha256: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKey: KEYS.sunoKey, hmacKey: KEYS.hmacKey, triggerCron: false });
  files = await startFileServer();
  stateDir = mkdtempSync(join(tmpdir(), "wav-edge-resume-"));
  expectedSha256 = sha256OfFile();
}, 60_000);

afterAll(async () => {
  for (const w of workers) await w.stop().catch(() => {});
  await files?.close();
  await sim?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

function start(): Promise<DevWorker> {
  return startDevWorker({
    persistTo: stateDir,
    keepState: true,
    vars: workerVarsFor(sim, KEYS, { WAV_SOURCE_HOSTS: `127.0.0.1:${sim.port},127.0.0.1:${files.port}` }),
  }).then((w) => {
    workers.push(w);
    return w;
  });
}

describe("kill and resume against wrangler dev", () => {
  it("SIGKILL of the whole process group at ~50%: a new session resumes with Range and stores the file whole", { timeout: 115_000 }, async () => {
    const first = await start();
    const taskId = `e2e-resume-${Date.now().toString(36)}`;
    const fileUrl = `${files.url}/big.wav`;
    const res = await fetch(`${first.url}/callbacks/wav`, {
      method: "POST",
      headers: callbackHeaders(KEYS.hmacKey, taskId),
      body: JSON.stringify(successCallback(taskId, fileUrl)),
    });
    expect(res.status).toBe(200);

    // About half served: kill wrangler dev and its workerd processes, all at once.
    await until("half the file to be served", 45_000, () => files.total() >= SIZE / 2);
    const workerd = first.workerdProcesses().map((p) => p.pid);
    expect(workerd.length).toBeGreaterThan(0);
    const queued = bytesInSocketBuffers(files.port);
    process.kill(-first.pid, "SIGKILL");
    await until("every process of the session to be gone", 10_000, () => [first.pid, ...workerd].every((p) => !alive(p)));
    await until("the source connection to close", 10_000, () => files.served.every((s) => s.closed));
    await first.stop(); // cleans up the harness's temporary files; the state directory stays
    const before = files.total();
    expect(files.served).toHaveLength(1);
    expect(before).toBeGreaterThanOrEqual(SIZE / 2);
    expect(before).toBeLessThan(SIZE);

    // A new session on the same local state, and nothing else: no callback, no request to the task.
    const restartedAt = Date.now();
    const second = await start();
    try {
      await until("a request for the rest of the file after the restart (the runner's alarm firing again)", 30_000, () => files.served.length >= 2);
    } catch (err) {
      const task = await taskOf(second, taskId);
      throw new Error(
        `${(err as Error).message}: nothing fetched the file within 30 s of the new session; the task says ${JSON.stringify(task)}`,
      );
    }
    const task = await until("the task to end stored or failed", 60_000, async () => {
      const t = await taskOf(second, taskId);
      return t && (t.state === "stored" || t.state === "failed") ? t : null;
    });
    expect(task).toMatchObject({ state: "stored", error: null, wav: { size: SIZE, sha256: expectedSha256 } });

    // Asked only for the rest, from a part boundary, of the same file.
    const resumed = files.served[1]!;
    expect(resumed.at).toBeGreaterThanOrEqual(restartedAt);
    expect(resumed.range).toMatch(/^bytes=\d+-$/);
    expect(resumed.status).toBe(206);
    expect(resumed.start % PART).toBe(0);
    expect(resumed.start).toBeGreaterThan(0);
    expect([ETAG, LAST_MODIFIED]).toContain(resumed.ifRange);
    // The stored bytes are the file's.
    const wav = await fetch(`${second.url}/api/tasks/${taskId}/wav`, { headers: { authorization: `Bearer ${KEYS.apiToken}` } });
    expect(wav.status).toBe(200);
    const h = createHash("sha256");
    for await (const chunk of wav.body!) h.update(chunk as Uint8Array);
    expect(h.digest("hex")).toBe(expectedSha256);

    // Fetched after the restart: the remainder of what the worker had read, plus what it held and
    // had not checkpointed (README, "Resumable transfers": one part uploading, one filling, one block).
    expect(files.served).toHaveLength(2);
    const after = files.total() - before;
    const mib = (n: number) => `${(n / MiB).toFixed(2)} MiB`;
    const numbers =
      `served before the kill ${mib(before)}, resumed from ${mib(resumed.start)} (the checkpoint was ${mib(before - resumed.start)} behind), ` +
      `served after the restart ${mib(after)} for a remainder of ${mib(SIZE - before)}; ` +
      `at the kill ${queued === null ? "(unknown)" : mib(queued)} of what was served sat in socket buffers, unread by the worker`;
    const unread = queued ?? 0;
    expect(after, numbers).toBeLessThanOrEqual(SIZE - (before - unread) + 2 * PART + MiB);
  });
});
