// Which R2 objects a task refers to: its files' keys and the staged content its files are still
// to be made from. The shard removes what a task no longer needs (staged content once its files
// are stored; everything once the task is deleted). Pure.

import { kindOf } from "../kinds";
import { CONTENT_TYPES } from "../kinds/kind";
import { peaksKey } from "../storage/layout";
import type { StagedSaid } from "./callback";
import type { Task, TaskFile } from "./machine";

/** Staged content that files not stored yet are still to be made from. */
export function stagedInUse(t: Task | null): Set<string> {
  const keys = new Set<string>();
  for (const f of t?.files ?? []) if (f.state !== "stored" && "staged" in f.source) keys.add(f.source.staged);
  return keys;
}

/** Staged content a callback or record-info answer carried that `task` does not need (a replay, a redelivery after its files were stored, another kind's task). */
export function unneededStaged(said: StagedSaid, task: Task | null): string[] {
  if (said.type !== "files") return [];
  const needed = stagedInUse(task);
  return [...new Set(said.files.flatMap((f) => ("staged" in f.source && !needed.has(f.source.staged) ? [f.source.staged] : [])))];
}

/** Staged content that `before` still needed and `after` no longer does. */
export function releasedKeys(before: Task | null, after: Task | null): string[] {
  const still = stagedInUse(after);
  return [...stagedInUse(before)].filter((k) => !still.has(k));
}

/**
 * The objects a task refers to now: its stored files and those being written (with their
 * waveforms), and the staged content still needed. A removal scheduled for one of them — before
 * a delete and a new life of the same id, or after a stale runner's report — no longer applies;
 * an object under the key of a file neither stored nor being written is no file of the task's.
 */
export function liveKeys(t: Task): Set<string> {
  const keys = stagedInUse(t);
  for (const f of t.files) {
    if (f.state !== "stored" && !f.running) continue;
    for (const key of fileKeys(t, f)) keys.add(key);
  }
  return keys;
}

/** Every object of the task: its files (stored or being written), their waveforms, staged content. */
export function taskKeys(t: Task): string[] {
  const keys = new Set<string>();
  for (const f of t.files) {
    for (const key of fileKeys(t, f)) keys.add(key);
    if ("staged" in f.source) keys.add(f.source.staged);
  }
  return [...keys];
}

/** A file's object and, for a WAV, its waveform beside it. */
function fileKeys(t: Task, f: TaskFile): string[] {
  const key = f.stored?.key ?? kindOf(t.kind).key(t.taskId, f.name);
  return f.contentType === CONTENT_TYPES.wav ? [key, peaksKey(key)] : [key];
}
