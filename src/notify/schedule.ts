// When an announcement that was not delivered is tried again (SPEC.md, "Notifications"): 5 s,
// 30 s, 5 min, 30 min, 2 h, 5 h and 10 h after the failed attempt, then every 10 h, until 3 days
// after the first attempt. Pure: the task state machine (../task/machine.ts) asks it after each failed attempt.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The gap after the 1st, 2nd, … failed attempt; the last one repeats. */
export const NOTIFY_RETRY_DELAYS_MS: readonly number[] = [5 * SECOND, 30 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR];
/** No attempt is made later than this after the first one. */
export const NOTIFY_GIVE_UP_AFTER_MS = 3 * 24 * HOUR;

/**
 * When to try again after `failedAttempts` (≥ 1) failed attempts, the last at `lastAttemptAt` and
 * the first at `firstAttemptAt` (epoch ms); null when the next one would fall after the 3 days:
 * give up (`notification.state` failed). A 410 answer gives up at once without asking this.
 */
export function nextDeliveryAt(failedAttempts: number, lastAttemptAt: number, firstAttemptAt: number): number | null {
  if (!Number.isSafeInteger(failedAttempts) || failedAttempts < 1) {
    throw new RangeError("nextDeliveryAt: failedAttempts must be a whole number ≥ 1");
  }
  const delay = NOTIFY_RETRY_DELAYS_MS[Math.min(failedAttempts, NOTIFY_RETRY_DELAYS_MS.length) - 1]!;
  const next = lastAttemptAt + delay;
  return next > firstAttemptAt + NOTIFY_GIVE_UP_AFTER_MS ? null : next;
}
