import { redact } from "../transfer/source";
import { nextAttemptAt, type MusicRef, type NotificationState, type Task, type TaskError, type TaskState, type WavInfo } from "./machine";

/** A task as the API shows it (SPEC.md, "A task, as JSON"). */
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

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toView(t: Task): TaskView {
  const n = t.notification;
  return {
    taskId: t.taskId,
    state: t.state,
    createdAt: iso(t.createdAt)!,
    updatedAt: iso(t.updatedAt)!,
    attempts: t.attempts,
    // Without its query string: a signed link's token is nobody's business (SPEC "Configuration").
    source: t.sourceUrl === null ? null : { url: redact(t.sourceUrl) },
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
