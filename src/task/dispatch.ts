// What a task's shard must do for it when its alarm comes (README, "Task lifecycle and the cron"
// and "Transfers"): hand each file's next transfer attempt, and the next announcement attempt, to
// the task's runner, or first settle an attempt that was handed out and never answered. Pure: the
// shard's alarm asks this until it says nothing is due.

import { MIN_POLL_INTERVAL_MS, TRANSFERS_AT_ONCE } from "./backoff";
import { leaseEnds, type Task, type TaskEvent } from "./machine";

export type Work =
  /** Apply this event first (a lost attempt, announcements switched off). */
  | { type: "apply"; event: TaskEvent }
  /**
   * Hand out the next transfer attempt of `file`. `refreshUrl`: ask record-info for current URLs
   * first; `adopt`: the previous attempt died, and an object it committed may be adopted.
   */
  | { type: "transfer"; file: string; refreshUrl: boolean; adopt: boolean }
  /** Hand out the next announcement attempt. */
  | { type: "announce" };

export { TRANSFERS_AT_ONCE };

export interface DispatchContext {
  /** Whether NOTIFY_URL is set. */
  notify: boolean;
  /** Whether SUNO_API_KEY is set (a link refresh polls the provider). */
  canPoll: boolean;
}

/** The next thing due for `task` at `now`, or null when nothing is. */
export function dueWork(task: Task, now: number, ctx: DispatchContext): Work | null {
  if (task.state === "downloading") {
    let running = task.files.filter((f) => f.running !== null).length;
    for (const f of task.files) {
      if (f.state !== "waiting") continue;
      // Handed out and never answered within the lease: the attempt is lost.
      if (f.running !== null && leaseEnds(f)! <= now) return { type: "apply", event: { type: "transferInterrupted", file: f.name, epoch: f.running.epoch } };
      if (f.running !== null || f.dueAt === null || f.dueAt > now || running >= TRANSFERS_AT_ONCE) continue;
      running++;
      return {
        type: "transfer",
        file: f.name,
        // A link refresh polls record-info: only with a key, and never within 30 s of the last poll.
        refreshUrl: f.refreshUrl && ctx.canPoll && (task.lastPolledAt === null || now - task.lastPolledAt >= MIN_POLL_INTERVAL_MS),
        adopt: f.error?.code === "interrupted" || f.error?.code === "runner_unreachable",
      };
    }
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
