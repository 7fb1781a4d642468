// Finding a task by what a person has at hand (README, "Dashboard" → "Find a task"): its own id,
// the track id it was registered with (audioId) or that a music task made, or the music task id
// it was registered for. Every shard looks through its indexes (the task id's primary key, the
// audio_id index, the task_refs index) for at most `limit` tasks each; the answers are merged
// newest first. Work: 32 indexed lookups, whatever the number of tasks.

import type { TaskView } from "../task/view";
import { shard, SHARD_COUNT } from "./shards";
import type { SearchField } from "./store";

export interface SearchHit {
  task: TaskView;
  /** How the query matched the task (one task may match more than one way). */
  matched: SearchField[];
}

export interface SearchResult {
  hits: SearchHit[];
  /** More tasks match than were answered. */
  more: boolean;
}

export async function searchTasks(env: Env, q: string, limit: number): Promise<SearchResult> {
  const perShard = await Promise.all(Array.from({ length: SHARD_COUNT }, (_, n) => shard(env, n).search(q, limit + 1)));
  const byId = new Map<string, SearchHit>();
  for (const m of perShard.flat()) {
    const hit = byId.get(m.task.taskId);
    if (!hit) byId.set(m.task.taskId, { task: m.task, matched: [m.matched] });
    else if (!hit.matched.includes(m.matched)) hit.matched.push(m.matched);
  }
  const hits = [...byId.values()].sort(newestFirst);
  return { hits: hits.slice(0, limit), more: hits.length > limit };
}

function newestFirst(a: SearchHit, b: SearchHit): number {
  const byTime = Date.parse(b.task.createdAt) - Date.parse(a.task.createdAt);
  return byTime !== 0 ? byTime : a.task.taskId < b.task.taskId ? 1 : a.task.taskId > b.task.taskId ? -1 : 0;
}
