// Listing tasks newest first across all shards: each shard answers its own newest page after the
// cursor, and the pages are merged. The cursor is the last task's (createdAt, taskId), so pages
// stay stable while new tasks arrive.

import type { TaskState } from "../task/machine";
import type { TaskView } from "../task/view";
import { INDEX_SHARDS, indexShard } from "./shards";

export interface ListPage {
  tasks: TaskView[];
  cursor: string | null;
}

export async function listTasks(
  env: Env,
  query: { state?: TaskState; limit: number; cursor?: { createdAt: number; taskId: string } },
): Promise<ListPage> {
  const pages = await Promise.all(
    Array.from({ length: INDEX_SHARDS }, (_, n) =>
      indexShard(env, n).list({ state: query.state, before: query.cursor, limit: query.limit + 1 }),
    ),
  );
  const merged = pages.flat().sort(newestFirst);
  const tasks = merged.slice(0, query.limit);
  const last = tasks.at(-1);
  const more = merged.length > query.limit;
  return { tasks, cursor: more && last ? encodeCursor(Date.parse(last.createdAt), last.taskId) : null };
}

function newestFirst(a: TaskView, b: TaskView): number {
  const byTime = Date.parse(b.createdAt) - Date.parse(a.createdAt);
  return byTime !== 0 ? byTime : a.taskId < b.taskId ? 1 : a.taskId > b.taskId ? -1 : 0;
}

export function encodeCursor(createdAt: number, taskId: string): string {
  return btoa(`${createdAt}:${taskId}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string): { createdAt: number; taskId: string } | null {
  try {
    const [time, ...rest] = atob(cursor.replace(/-/g, "+").replace(/_/g, "/")).split(":");
    const createdAt = Number(time);
    const taskId = rest.join(":");
    return Number.isSafeInteger(createdAt) && taskId !== "" ? { createdAt, taskId } : null;
  } catch {
    return null;
  }
}
