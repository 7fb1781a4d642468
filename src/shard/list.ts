// Reading across all shards: listings newest first (each shard answers its own newest page after
// the cursor, and the pages are merged) and counts per state. The cursor is the last task's
// (createdAt, taskId), so pages stay stable while new tasks arrive.

import type { KindName } from "../kinds/kind";
import { base64url, fromBase64url, utf8Bytes } from "../lib/encoding";
import { TASK_STATES, type TaskState } from "../task/machine";
import type { TaskView } from "../task/view";
import { shard, SHARD_COUNT } from "./shards";

export interface ListPage {
  tasks: TaskView[];
  cursor: string | null;
}

export async function listTasks(
  env: Env,
  query: { state?: TaskState; kind?: KindName; audioId?: string; limit: number; cursor?: { createdAt: number; taskId: string } },
): Promise<ListPage> {
  const pages = await Promise.all(
    Array.from({ length: SHARD_COUNT }, (_, n) =>
      shard(env, n).list({ state: query.state, kind: query.kind, audioId: query.audioId, before: query.cursor, limit: query.limit + 1 }),
    ),
  );
  const merged = pages.flat().sort(newestFirst);
  const tasks = merged.slice(0, query.limit);
  const last = tasks.at(-1);
  const more = merged.length > query.limit;
  return { tasks, cursor: more && last ? encodeCursor(Date.parse(last.createdAt), last.taskId) : null };
}

export async function countTasks(env: Env): Promise<Record<TaskState, number>> {
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  const perShard = await Promise.all(Array.from({ length: SHARD_COUNT }, (_, n) => shard(env, n).counts()));
  for (const c of perShard) for (const s of TASK_STATES) counts[s] += c[s] ?? 0;
  return counts;
}

function newestFirst(a: TaskView, b: TaskView): number {
  const byTime = Date.parse(b.createdAt) - Date.parse(a.createdAt);
  return byTime !== 0 ? byTime : a.taskId < b.taskId ? 1 : a.taskId > b.taskId ? -1 : 0;
}

function encodeCursor(createdAt: number, taskId: string): string {
  return base64url(utf8Bytes(`${createdAt}:${taskId}`));
}

export function decodeCursor(cursor: string): { createdAt: number; taskId: string } | null {
  const bytes = fromBase64url(cursor);
  if (bytes === null) return null;
  const [time, ...rest] = new TextDecoder().decode(bytes).split(":");
  const createdAt = Number(time);
  const taskId = rest.join(":");
  return Number.isSafeInteger(createdAt) && taskId !== "" ? { createdAt, taskId } : null;
}
