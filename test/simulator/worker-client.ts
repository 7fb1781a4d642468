// A small client for the worker's HTTP surface (SPEC.md, "HTTP surface"), for the demo, the e2e
// tests and the bench. Types follow the contract, not the worker's internals.

import { createHash } from "node:crypto";

export type TaskState = "pending" | "downloading" | "stored" | "failed";

/** One of a task's files (SPEC.md, "Every kind of task"). */
export interface FileJson {
  name: string;
  role: string;
  /** The music track it belongs to, else null. */
  track: string | null;
  state: "waiting" | "stored" | "failed";
  size: number | null;
  sha256: string | null;
  contentType: string;
  key: string;
  error: { code: string; message: string } | null;
}

/** A task as the API returns it (SPEC.md, "A task, as JSON"). */
export interface TaskJson {
  taskId: string;
  /** wav, music, stems, video, cover, midi or lyrics (a worker from before kinds has none). */
  kind?: string;
  state: TaskState;
  createdAt: string;
  updatedAt: string;
  attempts: number;
  source: { url: string } | null;
  wav: { key: string; size: number; sha256: string; contentType: string } | null;
  files?: FileJson[];
  error: { code: string; message: string } | null;
  /** Delivery of the task's announcement to NOTIFY_URL (SPEC.md, "Notifications"). */
  notification?: {
    state: "off" | "waiting" | "pending" | "delivered" | "failed";
    attempts: number;
    lastStatus: number | null;
    nextAttemptAt: string | null;
    deliveredAt: string | null;
  };
}

export const FINAL_STATES: readonly TaskState[] = ["stored", "failed"];

export class WorkerApiError extends Error {
  override name = "WorkerApiError";
  status: number;
  body: string;
  constructor(status: number, body: string, what: string) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
    this.status = status;
    this.body = body;
  }
}

export interface Download {
  status: number;
  bytes: number;
  sha256: string;
  headers: Headers;
}

/** A download kept whole (small files: JSON, MIDI). */
export interface WholeDownload extends Download {
  body: Buffer;
}

export class WorkerClient {
  readonly baseUrl: string;
  readonly apiToken: string;

  constructor(baseUrl: string, apiToken: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.apiToken = apiToken;
  }

  private async api(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiToken}` };
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(`${this.baseUrl}${path}`, init);
  }

  async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.text();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** POST /api/tasks: has the worker submit a conversion to the provider (202). */
  async submit(taskId: string, audioId: string): Promise<TaskJson> {
    const res = await this.api("POST", "/api/tasks", { taskId, audioId });
    const text = await res.text();
    if (res.status !== 202) throw new WorkerApiError(res.status, text, "POST /api/tasks");
    return JSON.parse(text) as TaskJson;
  }

  /** PUT /api/tasks/:id: registers a task submitted elsewhere (201 new, 200 known); `kind` says which endpoint the cron polls (default wav). */
  async register(taskId: string, body?: { kind?: string; musicTaskId?: string; audioId?: string }): Promise<{ status: number; task: TaskJson }> {
    const res = await this.api("PUT", `/api/tasks/${encodeURIComponent(taskId)}`, body);
    const text = await res.text();
    if (res.status !== 201 && res.status !== 200) throw new WorkerApiError(res.status, text, `PUT /api/tasks/${taskId}`);
    return { status: res.status, task: JSON.parse(text) as TaskJson };
  }

  async get(taskId: string): Promise<TaskJson | null> {
    const res = await this.api("GET", `/api/tasks/${encodeURIComponent(taskId)}`);
    const text = await res.text();
    if (res.status === 404) return null;
    if (res.status !== 200) throw new WorkerApiError(res.status, text, `GET /api/tasks/${taskId}`);
    return JSON.parse(text) as TaskJson;
  }

  async list(query: { state?: TaskState; kind?: string; limit?: number; cursor?: string } = {}): Promise<{ tasks: TaskJson[]; cursor: string | null }> {
    const q = new URLSearchParams();
    if (query.state) q.set("state", query.state);
    if (query.kind) q.set("kind", query.kind);
    if (query.limit !== undefined) q.set("limit", String(query.limit));
    if (query.cursor) q.set("cursor", query.cursor);
    const res = await this.api("GET", `/api/tasks?${q}`);
    const text = await res.text();
    if (res.status !== 200) throw new WorkerApiError(res.status, text, "GET /api/tasks");
    return JSON.parse(text) as { tasks: TaskJson[]; cursor: string | null };
  }

  /** A signed, expiring download link (works without the bearer token). */
  async link(taskId: string, ttlSeconds = 3600): Promise<{ url: string; expiresAt: string }> {
    const res = await this.api("GET", `/api/tasks/${encodeURIComponent(taskId)}/link?ttl=${ttlSeconds}`);
    const text = await res.text();
    if (res.status !== 200) throw new WorkerApiError(res.status, text, `GET /api/tasks/${taskId}/link`);
    return JSON.parse(text) as { url: string; expiresAt: string };
  }

  downloadUrl(taskId: string): string {
    return `${this.baseUrl}/api/tasks/${encodeURIComponent(taskId)}/wav`;
  }

  /** GET /api/tasks/:id/wav, hashed as it streams (never held whole). */
  async download(taskId: string): Promise<Download> {
    return hashed(await this.api("GET", `/api/tasks/${encodeURIComponent(taskId)}/wav`));
  }

  fileUrl(taskId: string, name: string): string {
    return `${this.baseUrl}/api/tasks/${encodeURIComponent(taskId)}/files/${encodeURIComponent(name)}`;
  }

  /** GET /api/tasks/:id/files/:name, hashed as it streams. */
  async downloadFile(taskId: string, name: string): Promise<Download> {
    return hashed(await this.api("GET", `/api/tasks/${encodeURIComponent(taskId)}/files/${encodeURIComponent(name)}`));
  }

  /** GET /api/tasks/:id/files/:name, kept whole (for files small enough to read: JSON, MIDI). */
  async fetchFile(taskId: string, name: string): Promise<WholeDownload> {
    const res = await this.api("GET", `/api/tasks/${encodeURIComponent(taskId)}/files/${encodeURIComponent(name)}`);
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, bytes: body.byteLength, sha256: createHash("sha256").update(body).digest("hex"), headers: res.headers, body };
  }

  /** GET a URL without the bearer token (a signed link), hashed as it streams. */
  async downloadWithoutBearer(url: string): Promise<Download> {
    return hashed(await fetch(url));
  }

  /** POST /api/tasks/:id/notify: sends the task's latest announcement again (202). */
  async redeliver(taskId: string): Promise<{ status: number; body: string }> {
    const res = await this.api("POST", `/api/tasks/${encodeURIComponent(taskId)}/notify`);
    return { status: res.status, body: await res.text() };
  }

  /** GET /api/tasks/:id/events: the task's history, oldest first. */
  async events(taskId: string): Promise<{ at: string; type: string; [k: string]: unknown }[]> {
    const res = await this.api("GET", `/api/tasks/${encodeURIComponent(taskId)}/events`);
    const text = await res.text();
    if (res.status !== 200) throw new WorkerApiError(res.status, text, `GET /api/tasks/${taskId}/events`);
    return (JSON.parse(text) as { events: { at: string; type: string }[] }).events;
  }

  /** Runs the worker's cron once (wrangler dev --test-scheduled); answers after the handler ran. */
  async scheduled(): Promise<{ status: number; ms: number }> {
    const t0 = performance.now();
    const res = await fetch(`${this.baseUrl}/__scheduled?cron=*+*+*+*+*`);
    await res.text();
    return { status: res.status, ms: performance.now() - t0 };
  }

  /** Polls until the task is in one of `states`; returns it. */
  async waitFor(
    taskId: string,
    states: readonly TaskState[] = FINAL_STATES,
    opts: { timeoutMs?: number; intervalMs?: number; onChange?: (t: TaskJson) => void } = {},
  ): Promise<TaskJson> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    let last: TaskJson | null = null;
    for (;;) {
      const t = await this.get(taskId);
      if (t && (last === null || t.state !== last.state)) opts.onChange?.(t);
      last = t;
      if (t && states.includes(t.state)) return t;
      if (Date.now() > deadline) {
        throw new Error(`task ${taskId} did not reach ${states.join("|")} in time; last seen: ${JSON.stringify(last)}`);
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
    }
  }
}

/** A response's body hashed as it streams (never held whole). */
async function hashed(res: Response): Promise<Download> {
  const hash = createHash("sha256");
  let bytes = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
  }
  return { status: res.status, bytes, sha256: hash.digest("hex"), headers: res.headers };
}
