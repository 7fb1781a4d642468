// How long to wait before trying again. Kept apart from the state machine so the policy can be
// read (and changed) in one place.

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** The provider asks for at most one poll per task every 30 s. */
export const MIN_POLL_INTERVAL_MS = 30 * SECOND;
const MAX_POLL_INTERVAL_MS = 30 * MINUTE;

/** Delay after the n-th poll that found the task still PENDING: 30 s, 1 min, 2 min … 30 min. */
export function pollDelayMs(pendingPolls: number): number {
  const n = Math.max(1, pendingPolls);
  return Math.min(MIN_POLL_INTERVAL_MS * 2 ** (n - 1), MAX_POLL_INTERVAL_MS);
}

/** Transfer attempts before a task is failed (the provider keeps its copy ~14 days). */
export const MAX_TRANSFER_ATTEMPTS = 5;

/** Delay after the n-th failed transfer attempt: 30 s, 2 min, 8 min, 32 min. */
export function transferRetryDelayMs(failedAttempts: number): number {
  const n = Math.max(1, failedAttempts);
  return Math.min(30 * SECOND * 4 ** (n - 1), 2 * 60 * MINUTE);
}

/**
 * How long a running transfer may go without finishing before the cron treats it as stalled and
 * kicks the task's object. Longer than an alarm may run (15 min), so a live attempt is never
 * second-guessed.
 */
export const TRANSFER_LEASE_MS = 20 * MINUTE;
