// Task rows written before tasks had kinds and files (README, "Upgrading"): every such task is a
// `wav` task whose one file is its WAV. Read once into the current shape; saved in it the next time
// the task changes. Pure.

import { CONTENT_TYPES } from "../kinds/kind";
import type { Notification } from "./notification";
import type { MusicRef, StoredFile, Task, TaskError, TaskFile, TaskState } from "./machine";

/** The task as the first versions stored it. */
interface WavOnlyTask {
  taskId: string;
  state: TaskState;
  createdAt: number;
  updatedAt: number;
  ageFrom?: number;
  attempts: number;
  sourceUrl: string | null;
  sourceSignedAt: number | null;
  urlKnownAt: number | null;
  refreshUrl: boolean;
  wav: StoredFile | null;
  error: TaskError | null;
  polls: number;
  lastPolledAt: number | null;
  attemptStartedAt: number | null;
  dueAt: number | null;
  music: MusicRef | null;
  notification: Notification;
}

/** A stored task row's JSON, in the current shape whatever version wrote it. */
export function readTask(json: string, now: number): Task {
  const raw = JSON.parse(json) as Task | WavOnlyTask;
  return "kind" in raw ? raw : fromWavOnly(raw, now);
}

function fromWavOnly(t: WavOnlyTask, now: number): Task {
  const files: TaskFile[] = [];
  if (t.sourceUrl !== null) {
    const failedTransfer = t.state === "failed" && t.error !== null;
    files.push({
      name: `${t.taskId}.wav`,
      role: "wav",
      track: null,
      contentType: CONTENT_TYPES.wav,
      source: { url: t.sourceUrl },
      signedAt: t.sourceSignedAt,
      knownAt: t.urlKnownAt ?? t.createdAt,
      state: t.state === "stored" ? "stored" : failedTransfer ? "failed" : "waiting",
      attempts: t.attempts,
      // An attempt handed out by the old version is not waited for: the next one starts at once.
      running: null,
      dueAt: t.state === "downloading" ? (t.attemptStartedAt !== null ? now : (t.dueAt ?? now)) : null,
      refreshUrl: t.refreshUrl,
      error: t.state === "stored" ? null : t.error,
      stored: t.wav,
    });
  }
  return {
    taskId: t.taskId,
    kind: "wav",
    state: t.state,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    ageFrom: t.ageFrom ?? t.createdAt,
    stage: t.sourceUrl !== null ? "complete" : null,
    files,
    failure: t.state === "failed" ? t.error : null,
    notice: t.state === "pending" ? t.error : null,
    polls: t.polls,
    lastPolledAt: t.lastPolledAt,
    pollAt: t.state === "pending" ? t.dueAt : null,
    epoch: 0,
    bornAtEpoch: 0,
    music: t.music,
    notification: t.notification,
  };
}
