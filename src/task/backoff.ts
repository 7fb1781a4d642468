// How long to wait before trying again: provider polls, transfer attempts and announcement
// deliveries. Kept apart from the state machines so the policy can be read (and changed) in one
// place (README, "Task lifecycle and the cron", "Transfers" and "Notifications").

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The provider asks for at most one poll per task every 30 s. */
export const MIN_POLL_INTERVAL_MS = 30 * SECOND;
const MAX_POLL_INTERVAL_MS = 30 * MINUTE;

/** Delay after the n-th poll that found nothing yet: 30 s, 1 min, 2 min … 30 min. */
export function pollDelayMs(polls: number): number {
  const n = Math.max(1, polls);
  return Math.min(MIN_POLL_INTERVAL_MS * 2 ** (n - 1), MAX_POLL_INTERVAL_MS);
}

/**
 * Delay after the n-th failed transfer attempt: 30 s, 2 min, 8 min, 32 min, then every 2 h —
 * until PROVIDER_RETENTION_SECONDS after the URL was first known (the machine stops there).
 */
export function transferRetryDelayMs(failedAttempts: number): number {
  const n = Math.max(1, failedAttempts);
  return n <= 4 ? 30 * SECOND * 4 ** (n - 1) : 2 * HOUR;
}

/** A failed task that never had a usable file is polled once a day while the provider keeps files. */
export const FAILED_TASK_POLL_MS = 24 * HOUR;

/** After every third failed attempt the next one first asks record-info for a current URL. */
export const REFRESH_EVERY_ATTEMPTS = 3;

/**
 * How long an attempt handed to the runner may go unanswered before it counts as lost. Longer
 * than an alarm may run (15 min), so a live attempt is never second-guessed.
 */
export const TRANSFER_LEASE_MS = 20 * MINUTE;

/**
 * Transfers of one task handed out at once: its runner works on this many together, and an
 * attempt that waited in the runner's queue would spend its lease there.
 */
export const TRANSFERS_AT_ONCE = 4;

/** An announcement attempt (15 s timeout) not answered within this long is tried again. */
export const NOTIFY_SENDING_LEASE_MS = 2 * MINUTE;

/** The gap after the 1st, 2nd, … failed announcement attempt; the last one repeats. */
const NOTIFY_RETRY_DELAYS_MS: readonly number[] = [5 * SECOND, 30 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR];
/** No announcement attempt is made later than this after the first one. */
export const NOTIFY_GIVE_UP_AFTER_MS = 3 * 24 * HOUR;

/**
 * When to try an announcement again after `failedAttempts` (≥ 1) failed attempts, the last at
 * `lastAttemptAt` and the first at `firstAttemptAt` (epoch ms): 5 s, 30 s, 5 min, 30 min, 2 h,
 * 5 h and 10 h after the failed attempt, then every 10 h; null when the next one would fall after
 * the 3 days (give up). A 410 answer gives up at once without asking this.
 */
export function nextDeliveryAt(failedAttempts: number, lastAttemptAt: number, firstAttemptAt: number): number | null {
  if (!Number.isSafeInteger(failedAttempts) || failedAttempts < 1) {
    throw new RangeError("nextDeliveryAt: failedAttempts must be a whole number ≥ 1");
  }
  const delay = NOTIFY_RETRY_DELAYS_MS[Math.min(failedAttempts, NOTIFY_RETRY_DELAYS_MS.length) - 1]!;
  const next = lastAttemptAt + delay;
  return next > firstAttemptAt + NOTIFY_GIVE_UP_AFTER_MS ? null : next;
}
