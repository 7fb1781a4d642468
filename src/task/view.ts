import type { Task, TaskError, TaskState, WavInfo } from "./machine";

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
}

export function toView(t: Task): TaskView {
  return {
    taskId: t.taskId,
    state: t.state,
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
    attempts: t.attempts,
    source: t.sourceUrl === null ? null : { url: t.sourceUrl },
    wav: t.wav,
    error: t.error,
  };
}
