// The dashboard's only way to data and actions: the worker's own JSON API (../api.ts), called
// in-process with the bearer API_TOKEN added here, server-side — straight into the API's own app,
// not through the root's middleware again. The browser never sees the token, and the rest of the
// dashboard never cares how tasks are stored.

import type { Context } from "hono";
import type { z } from "zod";
import { api } from "../api";
import { readConfig } from "../config";
import type { BulkRetrySchema } from "../openapi/schemas";
import type { HistoryEntry } from "../task/history";
import type { TaskState } from "../task/machine";
import type { TaskView } from "../task/view";
import type { Charts } from "../shard/charts";
import type { SearchField } from "../shard/store";

export type StateCounts = Record<TaskState, number>;

/** The largest JSON file a page reads to show it (midi.json, lyrics.json): a callback's limit. */
const MAX_PAGE_JSON_BYTES = 1024 * 1024;

/** A non-2xx answer from the API, with its JSON error code. */
export class ApiCallError extends Error {
  override name = "ApiCallError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DashboardApi {
  stats(): Promise<StateCounts>;
  list(q: { state?: string; kind?: string; limit?: number; cursor?: string }): Promise<{ tasks: TaskView[]; cursor: string | null }>;
  /** null when the task is unknown. */
  task(taskId: string): Promise<TaskView | null>;
  /** null when the task is gone (deleted meanwhile). */
  history(taskId: string): Promise<HistoryEntry[] | null>;
  retry(taskId: string): Promise<TaskView>;
  notify(taskId: string): Promise<void>;
  /** A signed, expiring download URL; null when the task has no stored WAV. */
  link(taskId: string, ttlSeconds: number): Promise<{ url: string; expiresAt: string } | null>;
  /** A stored file's JSON (midi.json, lyrics.json), read for the page; why not, when it cannot be. */
  fileJson(taskId: string, name: string): Promise<{ json: unknown } | { problem: string }>;
  /** DELETE: the task's WAV, state and history go. */
  delete(taskId: string): Promise<void>;
  /** POST /api/tasks/retry?state=failed: one bounded round of reopening failed tasks. */
  retryFailed(): Promise<BulkRetry>;
  /** GET /api/stats/charts: the overview's charts of the last 7 days. */
  charts(): Promise<Charts>;
  /** GET /api/search?q=: the tasks a task id, track id or music task id names. */
  search(q: string, limit: number): Promise<SearchAnswer>;
  /** A stored WAV's waveform (GET …/files/:name/peaks), or why it cannot be shown. */
  peaks(taskId: string, name: string): Promise<{ json: unknown } | { problem: string }>;
}

/** What GET /api/search answers. */
export interface SearchAnswer {
  query: string;
  results: { task: TaskView; matched: SearchField[] }[];
  more: boolean;
}

/** The largest waveform a page reads (~2,000 buckets of 2 channels is about 50 KB). */
const MAX_PEAKS_BYTES = 4 * 1024 * 1024;

/** What POST /api/tasks/retry?state=failed answers. */
export type BulkRetry = z.output<typeof BulkRetrySchema>;

export function apiFor(c: Context): DashboardApi {
  const call = async (method: string, path: string): Promise<Response> => {
    const token = readConfig(c.env).API_TOKEN;
    if (!token) throw new ApiCallError(503, "api_token_not_configured", "API_TOKEN is not set.");
    // Same origin as the page, so links the API builds (without PUBLIC_URL) point back here.
    const req = new Request(new URL(path, c.req.url), { method, headers: { authorization: `Bearer ${token}` } });
    let ctx: Parameters<typeof api.fetch>[2];
    try {
      ctx = c.executionCtx;
    } catch {
      ctx = undefined; // not in a Worker invocation (some tests)
    }
    return api.fetch(req, c.env, ctx);
  };
  const json = async <T>(method: string, path: string): Promise<T> => {
    const res = await call(method, path);
    if (res.ok) return (await res.json()) as T;
    throw await errorOf(res);
  };
  const id = encodeURIComponent;

  return {
    stats: async () => (await json<{ counts: StateCounts }>("GET", "/api/stats")).counts,
    list: (q) => {
      const params = new URLSearchParams();
      if (q.state) params.set("state", q.state);
      if (q.kind) params.set("kind", q.kind);
      if (q.limit) params.set("limit", String(q.limit));
      if (q.cursor) params.set("cursor", q.cursor);
      return json("GET", `/api/tasks?${params}`);
    },
    task: async (taskId) => {
      try {
        return await json<TaskView>("GET", `/api/tasks/${id(taskId)}`);
      } catch (err) {
        if (err instanceof ApiCallError && err.status === 404) return null;
        throw err;
      }
    },
    history: async (taskId) => {
      const res = await call("GET", `/api/tasks/${id(taskId)}/events`);
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (!res.ok) throw await errorOf(res);
      return ((await res.json()) as { events: HistoryEntry[] }).events;
    },
    retry: (taskId) => json("POST", `/api/tasks/${id(taskId)}/retry`),
    notify: async (taskId) => {
      const res = await call("POST", `/api/tasks/${id(taskId)}/notify`);
      if (!res.ok) throw await errorOf(res);
      await res.body?.cancel();
    },
    delete: async (taskId) => {
      const res = await call("DELETE", `/api/tasks/${id(taskId)}`);
      if (!res.ok) throw await errorOf(res);
      await res.body?.cancel();
    },
    retryFailed: () => json("POST", "/api/tasks/retry?state=failed"),
    charts: () => json("GET", "/api/stats/charts"),
    search: (q, limit) => json("GET", `/api/search?${new URLSearchParams({ q, limit: String(limit) })}`),
    peaks: async (taskId, name) => {
      const res = await call("GET", `/api/tasks/${id(taskId)}/files/${id(name)}/peaks`);
      if (!res.ok) {
        const err = await errorOf(res);
        return { problem: err.code === "no_waveform" ? err.message : `it could not be read (HTTP ${res.status})` };
      }
      const text = await res.text();
      if (text.length > MAX_PEAKS_BYTES) return { problem: "it is too large to draw here" };
      try {
        return { json: JSON.parse(text) };
      } catch {
        return { problem: "it is not JSON" };
      }
    },
    fileJson: async (taskId, name) => {
      const res = await call("GET", `/api/tasks/${id(taskId)}/files/${id(name)}`);
      if (!res.ok) {
        await res.body?.cancel();
        return { problem: `it could not be read (HTTP ${res.status})` };
      }
      // What a callback may carry (1 MiB) is all a page reads.
      if (Number(res.headers.get("content-length") ?? 0) > MAX_PAGE_JSON_BYTES) {
        await res.body?.cancel();
        return { problem: "it is too large to show here" };
      }
      try {
        return { json: JSON.parse(await res.text()) };
      } catch {
        return { problem: "it is not JSON" };
      }
    },
    link: async (taskId, ttl) => {
      try {
        return await json<{ url: string; expiresAt: string }>("GET", `/api/tasks/${id(taskId)}/link?ttl=${ttl}`);
      } catch (err) {
        if (err instanceof ApiCallError && err.status === 404) return null;
        throw err;
      }
    },
  };
}

async function errorOf(res: Response): Promise<ApiCallError> {
  let code = `http_${res.status}`;
  let message = res.statusText;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // not JSON: keep the status
  }
  return new ApiCallError(res.status, code, message);
}
