// What a task can be found by besides its own id (README, "Dashboard" → "Find a task"): the
// tracks of a music task (files[].track) and the music task a WAV task was registered for
// (music.taskId). The audioId a task was registered with has its own column in the tasks table.
// Pure: the store keeps these in a small index table, rewritten only when they change.

import type { Task } from "./machine";

export const REF_FIELDS = ["track", "musicTaskId"] as const;
export type RefField = (typeof REF_FIELDS)[number];

export interface TaskRef {
  ref: string;
  field: RefField;
}

/** The refs of a task, each once, in a stable order. */
export function refsOf(t: Task | null): TaskRef[] {
  if (t === null) return [];
  const refs: TaskRef[] = [];
  for (const track of new Set(t.files.map((f) => f.track))) if (track) refs.push({ ref: track, field: "track" });
  if (t.music?.taskId) refs.push({ ref: t.music.taskId, field: "musicTaskId" });
  return refs;
}

/** Whether a change of the task changed its refs (the index is rewritten only then). */
export function refsChanged(before: Task | null, after: Task | null): boolean {
  const a = refsOf(before);
  const b = refsOf(after);
  return a.length !== b.length || a.some((r, i) => r.ref !== b[i]!.ref || r.field !== b[i]!.field);
}
