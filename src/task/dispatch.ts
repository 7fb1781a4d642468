// What a task's shard must do for it when its alarm comes (README, "Task lifecycle and the cron"
// and "Transfers"): hand the next transfer attempt or announcement attempt to the task's runner,
// or first settle an attempt that was handed out and never answered. Pure: the shard's alarm asks
// this until it says nothing is due.

import { MIN_POLL_INTERVAL_MS } from "./backoff";
import type { Task, TaskEvent } from "./machine";

export type Work =
  /** Apply this event first (a lost attempt, announcements switched off). */
  | { type: "apply"; event: TaskEvent }
  /**
   * Hand out the next transfer attempt. `refreshUrl`: ask record-info for a current URL first;
   * `adopt`: the previous attempt died, and an object it committed may be adopted.
   */
  | { type: "transfer"; refreshUrl: boolean; adopt: boolean }
  /** Hand out the next announcement attempt. */
  | { type: "announce" };

export interface DispatchContext {
  /** Whether NOTIFY_URL is set. */
  notify: boolean;
  /** Whether SUNO_API_KEY is set (a link refresh polls the provider). */
  canPoll: boolean;
}

/** The next thing due for `task` at `now`, or null when nothing is. */
export function dueWork(task: Task, now: number, ctx: DispatchContext): Work | null {
  if (task.state === "downloading" && task.dueAt !== null && task.dueAt <= now) {
    // Handed out and never answered within the lease: the attempt is lost.
    if (task.attemptStartedAt !== null) return { type: "apply", event: { type: "transferInterrupted" } };
    return {
      type: "transfer",
      // A link refresh polls record-info: only with a key, and never within 30 s of the last poll.
      refreshUrl: task.refreshUrl && ctx.canPoll && (task.lastPolledAt === null || now - task.lastPolledAt >= MIN_POLL_INTERVAL_MS),
      adopt: task.error?.code === "interrupted" || task.error?.code === "runner_unreachable",
    };
  }
  const n = task.notification;
  if (n.state !== "pending") return null;
  // NOTIFY_URL was removed: nothing to send.
  if (!ctx.notify) return { type: "apply", event: { type: "notifyDisabled" } };
  if (n.nextAttemptAt === null || n.nextAttemptAt > now) return null;
  if (n.sendingSince !== null) {
    // Handed out and never answered: a failed attempt, and the next one is planned.
    return { type: "apply", event: { type: "notifyAnswered", status: null, outcome: "retry", message: "no answer from the runner" } };
  }
  return { type: "announce" };
}
