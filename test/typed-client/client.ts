// The README's "Call it from your app": a typed client of this worker, generated from its own
// /openapi.json with openapi-typescript (api.d.ts, made by `npx openapi-typescript
// https://<worker>/openapi.json -o api.d.ts`; not committed) and called with openapi-fetch.
// test/e2e/openapi.test.ts generates api.d.ts from a running worker, type-checks this file against
// it and runs it.

import createClient from "openapi-fetch";
import type { paths } from "./api";

export function workerClient(baseUrl: string, token: string) {
  return createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } });
}

/** What an app does first: register a task, read it back, list its kind, and meet a typed error. */
export async function registerAndRead(baseUrl: string, token: string, taskId: string) {
  const api = workerClient(baseUrl, token);
  const put = await api.PUT("/api/tasks/{taskId}", { params: { path: { taskId } }, body: { kind: "music" } });
  if (put.error) throw new Error(put.error.error.message);
  const { data: task, error } = await api.GET("/api/tasks/{taskId}", { params: { path: { taskId } } });
  if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
  const state: "pending" | "downloading" | "stored" | "failed" = task.state;
  const list = await api.GET("/api/tasks", { params: { query: { kind: "music", limit: 10 } } });
  const missing = await api.GET("/api/tasks/{taskId}", { params: { path: { taskId: "no-such-task" } } });
  return {
    created: put.response.status,
    kind: task.kind,
    state,
    listed: list.data?.tasks.map((t) => t.taskId) ?? [],
    missing: { status: missing.response.status, code: missing.error?.error.code },
  };
}
