// A local stand-in for the Suno API's WAV endpoints (SPEC.md, "Provider facts"), on node:http:
//
//   POST /api/v1/wav/generate      bearer check; answers a fresh WAV task id and plays the
//                                   task's scenario against the callBackUrl it was given
//   GET  /api/v1/wav/record-info   the task's state as the provider would report it
//   GET  /wav/<name>.wav?bytes=|seconds=[&chunked=1]
//                                   a real WAV made on the fly, streamed in blocks, hashed as it
//                                   goes (Content-Length unless chunked=1)
//   anything else                   HTTP 404 (under /api/: 200 with code 404, as the provider)
//
// Scenarios: success (one signed callback), failure (a failure callback, code 451 by default),
// duplicate (the same signed callback 3 times, two of them at once), late (no callback at all:
// record-info says PENDING, then SUCCESS; the simulator triggers the worker's cron through
// wrangler dev's /__scheduled once the task is overdue). The demo CLI (./main.ts), the e2e tests
// and the bench all drive this module.

import { randomBytes, createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { callbackHeaders, failureCallback, successCallback } from "./signature.ts";
import { wavChunks, wavLayout, wavQuery, wavSpecFromQuery, type WavSpec } from "./wav.ts";

export const SCENARIOS = ["success", "failure", "duplicate", "late"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Scenario {
  kind: ScenarioName;
  /** The WAV the task resolves to (success, duplicate, late). */
  wav?: WavSpec;
  /** Time from submission to the (first) callback; default: the simulator's callbackDelayMs. */
  callbackDelayMs?: number;
  /** failure: the callback's code (400, 451, 500 or 501); default 451. */
  failureCode?: number;
  failureMsg?: string;
  /** duplicate: how many times the same callback is delivered; default 3. */
  copies?: number;
  /** duplicate: the first two copies go out at once, the rest this far apart; default 1000 ms. */
  duplicateGapMs?: number;
  /** late: record-info answers PENDING at least this many times before SUCCESS; default 0. */
  pendingPolls?: number;
  /** late: and stays PENDING until this long after submission; default 5000 ms. */
  readyAfterMs?: number;
}

export type SuccessFlag = "PENDING" | "SUCCESS" | "GENERATE_WAV_FAILED";

export interface CallbackDelivery {
  copy: number;
  attempt: number;
  at: number;
  status: number | null;
  body: string;
  ms: number;
  error?: string;
}

export interface SimTask {
  taskId: string;
  musicTaskId: string;
  audioId: string;
  callBackUrl: string;
  scenario: Scenario;
  createdAt: number;
  /** Where the task's WAV is served; null for failures. */
  wavUrl: string | null;
  /** The task's WAV as a file name (served under /wav/<wavName>.wav). */
  wavName: string;
  /** When the provider considers the conversion finished (null: not yet). */
  completedAt: number | null;
  recordInfoCalls: number;
  pendingAnswers: number;
  successAnswers: number;
  callbacks: CallbackDelivery[];
  cronTriggers: { at: number; status: number | null; ms: number }[];
}

export interface ServedWav {
  name: string;
  /** Path and query as requested. */
  path: string;
  chunked: boolean;
  /** Bytes the file has. */
  totalBytes: number;
  /** Bytes written before the end (or the client went away). */
  bytesSent: number;
  complete: boolean;
  /** sha256 (hex) of the bytes sent; of the whole file when complete. */
  sha256: string;
  startedAt: number;
  ms: number;
}

export type SimEvent =
  | { type: "submitted"; at: number; task: SimTask }
  | { type: "callback"; at: number; task: SimTask; delivery: CallbackDelivery }
  | { type: "record-info"; at: number; taskId: string; task: SimTask | null; flag: SuccessFlag }
  | { type: "ready"; at: number; task: SimTask }
  | { type: "wav-start"; at: number; name: string; path: string; totalBytes: number; chunked: boolean }
  | { type: "wav-end"; at: number; served: ServedWav }
  | { type: "cron-start"; at: number; task: SimTask; run: number }
  | { type: "cron"; at: number; task: SimTask; run: number; status: number | null; ms: number; recordInfoCalls: number; error?: string }
  | { type: "refused"; at: number; path: string; why: string };

export interface Counters {
  generate: number;
  recordInfo: number;
  wav: number;
  wavComplete: number;
  wavBytes: number;
  callbacksSent: number;
  callbacksOk: number;
  callbacksFailed: number;
  cronTriggers: number;
  unauthorized: number;
  notFound: number;
}

export interface GenerateRequest {
  taskId: string;
  audioId: string;
  callBackUrl: string;
}

export interface SimulatorOptions {
  /** Default 8788; 0 picks a free port. */
  port?: number;
  host?: string;
  /** The bearer key the worker must send (SUNO_API_KEY); default "dev-suno-key". */
  apiKey?: string;
  /** Signs callbacks with this key (WEBHOOK_HMAC_KEY); null sends them unsigned. Default "dev-webhook-key". */
  hmacKey?: string | null;
  /** Origin put into WAV URLs; default http://<host>:<port>. */
  publicBase?: string;
  /** The worker's OVERDUE_AFTER_SECONDS: when to trigger its cron for late tasks. Default 15. */
  overdueAfterSeconds?: number;
  /** Default delay from submission to a task's callback; default 500 ms. */
  callbackDelayMs?: number;
  /** A failed delivery (network error or non-2xx) is retried after these delays; default [1000, 5000, 15000]. */
  callbackRetryDelaysMs?: number[];
  /** Trigger the worker's /__scheduled for late tasks (wrangler dev --test-scheduled); default true. */
  triggerCron?: boolean;
  /** After the first trigger, trigger again this often until the late task's WAV was fetched; default 5000 ms. */
  cronRetryMs?: number;
  /** Which scenario a submission plays; default: the audioId's prefix ("late-7" → late), else defaultScenario. */
  scenarioFor?: (req: GenerateRequest) => Scenario | ScenarioName;
  defaultScenario?: ScenarioName;
  /** The WAV a scenario gets when it names none; default 2 s of stereo 48 kHz (≈ 375 KiB). */
  defaultWav?: WavSpec;
  /** record-info for a task id the simulator never issued: "pending" (default) or "not_found". */
  unknownTasks?: "pending" | "not_found";
  onEvent?: (e: SimEvent) => void;
}

export interface Simulator {
  readonly url: string;
  readonly port: number;
  readonly counters: Counters;
  readonly tasks: Map<string, SimTask>;
  readonly events: SimEvent[];
  resetCounters(): void;
  on(listener: (e: SimEvent) => void): () => void;
  /** URL of a WAV this simulator serves. */
  wavUrl(name: string, spec?: WavSpec): string;
  /** Every time the WAV at `url` (full URL or path+query) was served, oldest first. */
  served(url: string): ServedWav[];
  /** sha256 of the last complete serving of `url`, if any. */
  servedSha256(url: string): string | undefined;
  /** The next submission with this audioId plays `scenario` (overrides scenarioFor and the prefix rule). */
  plan(audioId: string, scenario: Scenario | ScenarioName): void;
  /** Registers a task as if submitted (no HTTP), and plays its scenario. */
  submit(req: GenerateRequest, scenario?: Scenario | ScenarioName): SimTask;
  /** Delivers one callback the way the provider does (signed, 15 s timeout). */
  deliver(callBackUrl: string, body: object, taskId: string, timestamp?: number): Promise<{ status: number | null; body: string; ms: number; error?: string }>;
  /** Resolves when every task has finished its scenario on the provider's side (callbacks answered, late WAVs fetched). */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const CALLBACK_TIMEOUT_MS = 15_000;

function newCounters(): Counters {
  return {
    generate: 0,
    recordInfo: 0,
    wav: 0,
    wavComplete: 0,
    wavBytes: 0,
    callbacksSent: 0,
    callbacksOk: 0,
    callbacksFailed: 0,
    cronTriggers: 0,
    unauthorized: 0,
    notFound: 0,
  };
}

function pathKey(url: string): string {
  const u = new URL(url, "http://x");
  return u.pathname + u.search;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).byteLength;
    if (n > limit) throw new Error("body too large");
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString("utf8");
}

/** Waits until `res` can take more bytes; false when the client went away first. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? "127.0.0.1";
  const apiKey = options.apiKey ?? "dev-suno-key";
  const hmacKey = options.hmacKey === undefined ? "dev-webhook-key" : options.hmacKey;
  const overdueMs = (options.overdueAfterSeconds ?? 15) * 1000;
  const callbackDelayMs = options.callbackDelayMs ?? 500;
  const retryDelays = options.callbackRetryDelaysMs ?? [1000, 5000, 15000];
  const triggerCron = options.triggerCron ?? true;
  const cronRetryMs = options.cronRetryMs ?? 5000;
  const defaultWav = options.defaultWav ?? { seconds: 2 };

  let counters = newCounters();
  const tasks = new Map<string, SimTask>();
  const events: SimEvent[] = [];
  const listeners = new Set<(e: SimEvent) => void>();
  if (options.onEvent) listeners.add(options.onEvent);
  const served = new Map<string, ServedWav[]>();
  const planned = new Map<string, Scenario | ScenarioName>();
  const timers = new Set<NodeJS.Timeout>();
  const aborts = new Set<AbortController>();
  /** Provider-side work still under way, per task (callbacks to make, cron to trigger). */
  const busy = new Map<string, number>();
  let stopped = false;
  let base = "";

  const emit = (e: SimEvent) => {
    events.push(e);
    if (events.length > 100_000) events.splice(0, 50_000);
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        // a listener's trouble is not the provider's
      }
    }
  };

  const later = (ms: number, fn: () => void | Promise<void>) => {
    if (stopped) return;
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) void fn();
    }, ms);
    timers.add(t);
  };

  const hold = (taskId: string) => busy.set(taskId, (busy.get(taskId) ?? 0) + 1);
  const release = (taskId: string) => {
    const n = (busy.get(taskId) ?? 1) - 1;
    if (n <= 0) busy.delete(taskId);
    else busy.set(taskId, n);
  };

  const scenarioOf = (req: GenerateRequest, given?: Scenario | ScenarioName): Scenario => {
    const plan = planned.get(req.audioId);
    if (plan !== undefined) planned.delete(req.audioId);
    const pick = given ?? plan ?? options.scenarioFor?.(req);
    if (pick !== undefined) return typeof pick === "string" ? { kind: pick } : pick;
    const prefix = SCENARIOS.find((s) => req.audioId === s || req.audioId.startsWith(`${s}-`) || req.audioId.startsWith(`${s}_`));
    return { kind: prefix ?? options.defaultScenario ?? "success" };
  };

  const wavUrlFor = (name: string, spec: WavSpec = defaultWav) => `${base}/wav/${encodeURIComponent(name)}.wav${wavQuery(spec)}`;

  async function deliver(callBackUrl: string, body: object, taskId: string, timestamp?: number) {
    const controller = new AbortController();
    aborts.add(controller);
    const timer = setTimeout(() => controller.abort(), CALLBACK_TIMEOUT_MS);
    const started = performance.now();
    counters.callbacksSent++;
    try {
      const res = await fetch(callBackUrl, {
        method: "POST",
        headers: callbackHeaders(hmacKey, taskId, timestamp),
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      const text = await res.text();
      if (res.ok) counters.callbacksOk++;
      else counters.callbacksFailed++;
      return { status: res.status, body: text, ms: performance.now() - started };
    } catch (err) {
      counters.callbacksFailed++;
      const why = controller.signal.aborted ? `no answer within ${CALLBACK_TIMEOUT_MS / 1000} s` : String((err as Error).cause ?? err);
      return { status: null, body: "", ms: performance.now() - started, error: why };
    } finally {
      clearTimeout(timer);
      aborts.delete(controller);
    }
  }

  /** One copy of a task's callback, with the provider's retries on failure. */
  function sendCopy(task: SimTask, body: object, copy: number, timestamp: number, attempt = 1): void {
    hold(task.taskId);
    void (async () => {
      try {
        const r = await deliver(task.callBackUrl, body, task.taskId, attempt === 1 ? timestamp : undefined);
        const delivery: CallbackDelivery = { copy, attempt, at: Date.now(), status: r.status, body: r.body, ms: r.ms };
        if (r.error !== undefined) delivery.error = r.error;
        task.callbacks.push(delivery);
        emit({ type: "callback", at: delivery.at, task, delivery });
        const ok = r.status !== null && r.status >= 200 && r.status < 300;
        const delay = retryDelays[attempt - 1];
        if (!ok && delay !== undefined && !stopped) {
          hold(task.taskId);
          later(delay, () => {
            release(task.taskId);
            sendCopy(task, body, copy, timestamp, attempt + 1);
          });
        }
      } finally {
        release(task.taskId);
      }
    })();
  }

  function play(task: SimTask): void {
    const s = task.scenario;
    const delay = s.callbackDelayMs ?? callbackDelayMs;
    switch (s.kind) {
      case "success":
      case "failure": {
        hold(task.taskId);
        later(delay, () => {
          release(task.taskId);
          task.completedAt = Date.now();
          const body =
            s.kind === "success"
              ? successCallback(task.taskId, task.wavUrl!)
              : failureCallback(task.taskId, s.failureCode ?? 451, s.failureMsg ?? "source audio download failed");
          sendCopy(task, body, 1, Math.floor(Date.now() / 1000));
        });
        break;
      }
      case "duplicate": {
        const copies = Math.max(1, s.copies ?? 3);
        const gap = s.duplicateGapMs ?? 1000;
        hold(task.taskId);
        later(delay, () => {
          task.completedAt = Date.now();
          // "The same callback": one body, one timestamp, one signature, several deliveries.
          const body = successCallback(task.taskId, task.wavUrl!);
          const ts = Math.floor(Date.now() / 1000);
          sendCopy(task, body, 1, ts);
          if (copies >= 2) sendCopy(task, body, 2, ts); // concurrently with the first
          for (let c = 3; c <= copies; c++) {
            hold(task.taskId);
            later(gap * (c - 2), () => {
              release(task.taskId);
              sendCopy(task, body, c, ts);
            });
          }
          release(task.taskId);
        });
        break;
      }
      case "late": {
        const readyAfter = s.readyAfterMs ?? 5000;
        hold(task.taskId);
        later(readyAfter, () => {
          release(task.taskId);
          maybeReady(task);
        });
        if (triggerCron) {
          // The worker counts overdue from its own registration, a moment after ours.
          const first = overdueMs + 1500;
          const deadline = Date.now() + first + 60_000 + (s.pendingPolls ?? 0) * 35_000;
          hold(task.taskId);
          const tick = async () => {
            const origin = new URL(task.callBackUrl).origin;
            const started = performance.now();
            const polledBefore = task.recordInfoCalls;
            counters.cronTriggers++;
            const run = task.cronTriggers.length + 1;
            emit({ type: "cron-start", at: Date.now(), task, run });
            let status: number | null = null;
            let error: string | undefined;
            try {
              const res = await fetch(`${origin}/__scheduled?cron=*+*+*+*+*`);
              await res.text();
              status = res.status;
            } catch (err) {
              error = String((err as Error).cause ?? err);
            }
            const ms = performance.now() - started;
            task.cronTriggers.push({ at: Date.now(), status, ms });
            const ev: SimEvent = { type: "cron", at: Date.now(), task, run, status, ms, recordInfoCalls: task.recordInfoCalls - polledBefore };
            if (error !== undefined) ev.error = error;
            emit(ev);
            // Once the worker has been told SUCCESS it has the URL: the transfer is its own job.
            if (task.successAnswers > 0 || Date.now() > deadline || stopped) release(task.taskId);
            else later(cronRetryMs, tick);
          };
          later(first, tick);
        }
        break;
      }
    }
  }

  /** A late task turns SUCCESS once it is old enough and has said PENDING often enough. */
  function maybeReady(task: SimTask): void {
    const s = task.scenario;
    if (task.completedAt !== null) return;
    if (Date.now() - task.createdAt < (s.readyAfterMs ?? 5000)) return;
    if (task.pendingAnswers < (s.pendingPolls ?? 0)) return;
    task.completedAt = Date.now();
    emit({ type: "ready", at: task.completedAt, task });
  }

  function flagOf(task: SimTask): SuccessFlag {
    if (task.completedAt === null) return "PENDING";
    return task.scenario.kind === "failure" ? "GENERATE_WAV_FAILED" : "SUCCESS";
  }

  function submit(req: GenerateRequest, given?: Scenario | ScenarioName): SimTask {
    const scenario = scenarioOf(req, given);
    const taskId = randomBytes(16).toString("hex");
    const wavName = `${scenario.kind}-${taskId}`;
    const task: SimTask = {
      taskId,
      musicTaskId: req.taskId,
      audioId: req.audioId,
      callBackUrl: req.callBackUrl,
      scenario,
      createdAt: Date.now(),
      wavUrl: scenario.kind === "failure" ? null : wavUrlFor(wavName, scenario.wav ?? defaultWav),
      wavName,
      completedAt: null,
      recordInfoCalls: 0,
      pendingAnswers: 0,
      successAnswers: 0,
      callbacks: [],
      cronTriggers: [],
    };
    tasks.set(taskId, task);
    emit({ type: "submitted", at: task.createdAt, task });
    play(task);
    return task;
  }

  const authorized = (req: IncomingMessage) => req.headers.authorization === `Bearer ${apiKey}`;

  async function handleGenerate(req: IncomingMessage, res: ServerResponse) {
    counters.generate++;
    if (!authorized(req)) {
      counters.unauthorized++;
      return sendJson(res, 200, { code: 401, msg: "You do not have access permissions", data: null });
    }
    let body: Partial<GenerateRequest>;
    try {
      body = JSON.parse(await readBody(req)) as Partial<GenerateRequest>;
    } catch {
      return sendJson(res, 200, { code: 400, msg: "the body is not JSON", data: null });
    }
    const missing = (["taskId", "audioId", "callBackUrl"] as const).filter((k) => typeof body[k] !== "string" || body[k] === "");
    if (missing.length > 0) return sendJson(res, 200, { code: 400, msg: `missing ${missing.join(", ")}`, data: null });
    try {
      new URL(body.callBackUrl!);
    } catch {
      return sendJson(res, 200, { code: 400, msg: "callBackUrl is not a URL", data: null });
    }
    const task = submit(body as GenerateRequest);
    sendJson(res, 200, { code: 200, msg: "success", data: { taskId: task.taskId } });
  }

  function handleRecordInfo(url: URL, req: IncomingMessage, res: ServerResponse) {
    counters.recordInfo++;
    if (!authorized(req)) {
      counters.unauthorized++;
      return sendJson(res, 200, { code: 401, msg: "You do not have access permissions", data: null });
    }
    const taskId = url.searchParams.get("taskId") ?? "";
    const task = tasks.get(taskId) ?? null;
    if (!task && (options.unknownTasks ?? "pending") === "not_found") {
      return sendJson(res, 200, { code: 400, msg: `no task ${taskId}`, data: null });
    }
    let flag: SuccessFlag = "PENDING";
    if (task) {
      task.recordInfoCalls++;
      if (task.scenario.kind === "late") maybeReady(task);
      flag = flagOf(task);
      if (flag === "PENDING") task.pendingAnswers++;
      if (flag === "SUCCESS") task.successAnswers++;
    }
    emit({ type: "record-info", at: Date.now(), taskId, task, flag });
    const failed = flag === "GENERATE_WAV_FAILED";
    sendJson(res, 200, {
      code: 200,
      msg: "success",
      data: {
        taskId,
        musicId: task?.audioId ?? null,
        callbackUrl: task?.callBackUrl ?? null,
        musicIndex: 0,
        completeTime: task?.completedAt ?? null,
        response: flag === "SUCCESS" ? { audioWavUrl: task!.wavUrl } : null,
        successFlag: flag,
        createTime: task?.createdAt ?? Date.now(),
        errorCode: failed ? (task!.scenario.failureCode ?? 451) : null,
        errorMessage: failed ? (task!.scenario.failureMsg ?? "source audio download failed") : null,
      },
    });
  }

  async function handleWav(name: string, url: URL, req: IncomingMessage, res: ServerResponse) {
    let spec: WavSpec;
    let layout;
    try {
      spec = wavSpecFromQuery(url.searchParams);
      layout = wavLayout(name, spec);
    } catch (err) {
      return sendJson(res, 400, { error: String((err as Error).message) });
    }
    const chunked = spec.chunked === true;
    const headers: Record<string, string | number> = { "content-type": "audio/wav", "cache-control": "no-store" };
    if (!chunked) headers["content-length"] = layout.totalBytes;
    res.writeHead(200, headers);
    if (req.method === "HEAD") return res.end();

    counters.wav++;
    const path = url.pathname + url.search;
    const startedAt = Date.now();
    const t0 = performance.now();
    emit({ type: "wav-start", at: startedAt, name, path, totalBytes: layout.totalBytes, chunked });
    const hash = createHash("sha256");
    let sent = 0;
    let complete = true;
    for (const chunk of wavChunks(layout)) {
      if (res.destroyed) {
        complete = false;
        break;
      }
      hash.update(chunk);
      sent += chunk.byteLength;
      counters.wavBytes += chunk.byteLength;
      if (!res.write(chunk) && !(await drained(res))) {
        complete = false;
        break;
      }
    }
    if (complete) {
      await new Promise<void>((resolve) => res.end(resolve));
      counters.wavComplete++;
    }
    const record: ServedWav = {
      name,
      path,
      chunked,
      totalBytes: layout.totalBytes,
      bytesSent: sent,
      complete,
      sha256: hash.digest("hex"),
      startedAt,
      ms: performance.now() - t0,
    };
    const list = served.get(path) ?? [];
    list.push(record);
    served.set(path, list);
    emit({ type: "wav-end", at: Date.now(), served: record });
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://simulator");
    const route = async () => {
      if (req.method === "POST" && url.pathname === "/api/v1/wav/generate") return handleGenerate(req, res);
      if (req.method === "GET" && url.pathname === "/api/v1/wav/record-info") return handleRecordInfo(url, req, res);
      const wav = /^\/wav\/([A-Za-z0-9._-]+)\.wav$/.exec(url.pathname);
      if (wav && (req.method === "GET" || req.method === "HEAD")) return handleWav(wav[1]!, url, req, res);
      if (req.method === "GET" && url.pathname === "/healthz") return sendJson(res, 200, { ok: true });
      counters.notFound++;
      emit({ type: "refused", at: Date.now(), path: url.pathname, why: "no such route" });
      // The API answers in the provider's style (HTTP 200, the status in "code"); the file server
      // answers a file it does not have with a real 404, as a CDN does (the worker retries those).
      if (url.pathname.startsWith("/api/")) return sendJson(res, 200, { code: 404, msg: `no route ${req.method} ${url.pathname}`, data: null });
      return sendJson(res, 404, { error: `no file ${url.pathname}; WAVs are served under /wav/<name>.wav?seconds=<s>` });
    };
    route().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { code: 500, msg: String(err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8788, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  base = (options.publicBase ?? `http://${host}:${port}`).replace(/\/+$/, "");

  return {
    url: `http://${host}:${port}`,
    port,
    get counters() {
      return counters;
    },
    tasks,
    events,
    resetCounters() {
      counters = newCounters();
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    wavUrl: wavUrlFor,
    plan: (audioId, scenario) => void planned.set(audioId, scenario),
    served: (url) => served.get(pathKey(url)) ?? [],
    servedSha256(url) {
      const list = (served.get(pathKey(url)) ?? []).filter((w) => w.complete);
      return list.at(-1)?.sha256;
    },
    submit,
    deliver,
    async idle(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (busy.size > 0) {
        if (Date.now() > deadline) throw new Error(`simulator still busy with ${[...busy.keys()].join(", ")}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const a of aborts) a.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
