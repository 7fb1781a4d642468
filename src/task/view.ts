// A task as the API shows it (README, "Routes": "A task, as JSON"): times as ISO text, the source
// URL without its query string, internal bookkeeping left out.

import { iso } from "../lib/time";
import { withoutQuery } from "../lib/redact";
import { nextAttemptAt, type MusicRef, type Task, type TaskError, type TaskState, type WavInfo } from "./machine";
import type { NotificationState } from "./notification";

export interface TaskView {
  taskId: string;
  state: TaskState;
  createdAt: string;
  updatedAt: string;
  attempts: number;
  source: { url: string } | null;
  wav: WavInfo | null;
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

export function toView(t: Task): TaskView {
  const n = t.notification;
  return {
    taskId: t.taskId,
    state: t.state,
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
    attempts: t.attempts,
    // A signed link's token is nobody's business (README, "Configuration").
    source: t.sourceUrl === null ? null : { url: withoutQuery(t.sourceUrl) },
    wav: t.wav,
    error: t.error,
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
