// Which R2 objects a task refers to: its files' keys and the staged content its files are still
// to be made from. The shard removes what a task no longer needs (staged content once its files
// are stored; everything once the task is deleted). Pure.

import { kindOf } from "../kinds";
import { CONTENT_TYPES } from "../kinds/kind";
import { peaksKey } from "../storage/layout";
import type { Task } from "./machine";

/** Staged content that files not stored yet are still to be made from. */
export function stagedInUse(t: Task | null): Set<string> {
  const keys = new Set<string>();
  for (const f of t?.files ?? []) if (f.state !== "stored" && "staged" in f.source) keys.add(f.source.staged);
  return keys;
}

/** Staged content that `before` still needed and `after` no longer does. */
export function releasedKeys(before: Task | null, after: Task | null): string[] {
  const still = stagedInUse(after);
  return [...stagedInUse(before)].filter((k) => !still.has(k));
}

/** Every object of the task: its files (stored or being written), their waveforms, staged content. */
export function taskKeys(t: Task): string[] {
  const kind = kindOf(t.kind);
  const keys = new Set<string>();
  for (const f of t.files) {
    const key = f.stored?.key ?? kind.key(t.taskId, f.name);
    keys.add(key);
    if (f.contentType === CONTENT_TYPES.wav) keys.add(peaksKey(key));
    if ("staged" in f.source) keys.add(f.source.staged);
  }
  return [...keys];
}
