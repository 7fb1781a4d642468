// Which index shard holds a task. A fixed number of shards spreads index writes and cron work
// over several objects, so no single object sits on every task's path; the count is part of the
// storage layout and must not change once tasks are stored (see README, "Design").

import type { TaskState } from "../task/machine";
import type { TaskView } from "../task/view";
import type { TaskIndexShard } from "./shard";

export const INDEX_SHARDS = 16;

/** One task as its shard knows it. */
export interface IndexEntry {
  taskId: string;
  state: TaskState;
  createdAt: number;
  updatedAt: number;
  /** When the cron must look at the task (epoch ms); null once the task is final. */
  dueAt: number | null;
  /** The task object's write counter: an older entry never overwrites a newer one. */
  version: number;
  view: TaskView;
}

export function shardNumberOf(taskId: string): number {
  // FNV-1a: stable, cheap, and spreads provider ids (hex) evenly.
  let h = 0x811c9dc5;
  for (let i = 0; i < taskId.length; i++) {
    h ^= taskId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % INDEX_SHARDS;
}

export function indexShard(env: Env, n: number): DurableObjectStub<TaskIndexShard> {
  return env.TASK_INDEX.get(env.TASK_INDEX.idFromName(`shard-${n}`));
}

export function indexShardFor(env: Env, taskId: string): DurableObjectStub<TaskIndexShard> {
  return indexShard(env, shardNumberOf(taskId));
}
