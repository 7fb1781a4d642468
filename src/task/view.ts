// A task as the API shows it (README, "Routes": "A task, as JSON"): times as ISO text, source URLs
// without their query strings, internal bookkeeping left out.

import type { FileRole, KindName, TaskError } from "../kinds/kind";
import { kindOf } from "../kinds";
import { withoutQuery } from "../lib/redact";
import { iso } from "../lib/time";
import type { WavFormat } from "../transfer/wav-format";
import { failureOf, nextAttemptAt, type FileState, type MusicRef, type StoredFile, type Task, type TaskState, type WavInfo } from "./machine";
import type { NotificationState } from "./notification";

export interface FileView {
  name: string;
  role: FileRole;
  /** The music track it belongs to, else null. */
  track: string | null;
  state: FileState;
  size: number | null;
  sha256: string | null;
  contentType: string;
  key: string;
  error: TaskError | null;
  /** A stored WAV's facts: sample rate, channels, bits per sample, duration. */
  format?: WavFormat;
  /** A stored WAV's waveform: at …/files/:name/peaks, or why there is none. */
  waveform?: { available: true } | { available: false; reason: string };
}

export interface TaskView {
  taskId: string;
  kind: KindName;
  state: TaskState;
  createdAt: string;
  updatedAt: string;
  attempts: number;
  source: { url: string } | null;
  /** A `wav` task's WAV once stored (as before tasks had files); null otherwise. */
  wav: WavInfo | null;
  files: FileView[];
  error: TaskError | null;
  nextAttemptAt: string | null;
  music: MusicRef | null;
  notification: {
    state: NotificationState;
    attempts: number;
    lastStatus: number | null;
    nextAttemptAt: string | null;
    deliveredAt: string | null;
  };
}

/** A stored file as the API shows it: R2's etag is internal bookkeeping. */
function storedView(s: StoredFile): WavInfo {
  return { key: s.key, size: s.size, sha256: s.sha256, contentType: s.contentType, ...(s.format ? { format: s.format } : {}) };
}

export function toView(t: Task): TaskView {
  const n = t.notification;
  const kind = kindOf(t.kind);
  const only = t.files.length === 1 ? t.files[0]! : null;
  return {
    taskId: t.taskId,
    kind: t.kind,
    state: t.state,
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
    attempts: t.files.reduce((sum, f) => sum + f.attempts, 0),
    // A signed link's token is nobody's business (README, "Configuration"). A task with several
    // files has no one source: each file is listed instead.
    source: only && "url" in only.source ? { url: withoutQuery(only.source.url) } : null,
    wav: t.kind === "wav" && only?.stored ? storedView(only.stored) : null,
    files: t.files.map((f) => ({
      name: f.name,
      role: f.role,
      track: f.track,
      state: f.state,
      size: f.stored?.size ?? null,
      sha256: f.stored?.sha256 ?? null,
      contentType: f.contentType,
      key: f.stored?.key ?? kind.key(t.taskId, f.name),
      error: f.state === "stored" ? null : f.error,
      ...(f.stored?.format ? { format: f.stored.format } : {}),
      ...(f.stored?.waveform ? { waveform: "none" in f.stored.waveform ? { available: false as const, reason: f.stored.waveform.none } : { available: true as const } } : {}),
    })),
    // Why it failed; else why it waits (the last failed attempt, or the provider had nothing).
    error: failureOf(t) ?? t.files.find((f) => f.state === "waiting" && f.error)?.error ?? t.notice,
    nextAttemptAt: iso(nextAttemptAt(t)),
    music: t.music,
    notification: {
      state: n.state,
      attempts: n.attempts,
      lastStatus: n.lastStatus,
      nextAttemptAt: n.state === "pending" && n.sendingSince === null ? iso(n.nextAttemptAt) : null,
      deliveredAt: iso(n.deliveredAt),
    },
  };
}
