// The task state machine: pure functions from (task, event, now, context) to the next task. No
// I/O, no runtime: the shard object (../shard/shard.ts) loads a task, applies an event, and saves
// the result in the same synchronous step; unit tests drive these functions directly. The states
// and what moves a task between them are README's "States" and "Task lifecycle and the cron".
//
//   pending ──wavUrl──▶ downloading ──transferSucceeded──▶ stored (final)
//      │                  │    ▲
//      │                  │    └── transferFailed (retryable, within the provider's retention)
//      │                  └──────── transferFailed (final, or past the retention) ──▶ failed
//      └── providerFailed / expired ─────────────────────────────────────────────────▶ failed
//   failed ──wavUrl / retryRequested──▶ downloading (or pending when no URL is known)
//
// Reaching `stored` or `failed` also starts the task's announcement (`notification`) when the
// deployment announces tasks; that sub-machine is ./notification.ts, and its events pass through
// apply() like the others.

import { MIN_POLL_INTERVAL_MS, pollDelayMs, REFRESH_EVERY_ATTEMPTS, TRANSFER_LEASE_MS, transferRetryDelayMs } from "./backoff";
import {
  announce,
  initialNotification,
  notificationStep,
  quiet,
  type Notification,
  type NotificationEvent,
  type NotifyContext,
} from "./notification";

export const TASK_STATES = ["pending", "downloading", "stored", "failed"] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface WavInfo {
  key: string;
  size: number;
  sha256: string;
  contentType: string;
}

export interface TaskError {
  code: string;
  message: string;
}

export interface MusicRef {
  taskId: string;
  audioId: string;
}

export interface Task {
  taskId: string;
  state: TaskState;
  /** Times are epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** Transfer attempts made since the WAV URL became known (or since the last manual retry). */
  attempts: number;
  sourceUrl: string | null;
  /** Signed timestamp (unix s) of the callback that brought `sourceUrl`; null if unsigned/polled. */
  sourceSignedAt: number | null;
  /** Where TASK_MAX_AGE_SECONDS counts from: registration, or the last manual retry. */
  ageFrom: number;
  /** When a WAV URL was first known: transfers are retried until the provider's retention ends. */
  urlKnownAt: number | null;
  /** The next attempt first asks record-info for a current URL (an expired or moved link). */
  refreshUrl: boolean;
  wav: WavInfo | null;
  /** Why the task failed, or why the last transfer attempt failed while retries remain. */
  error: TaskError | null;
  /** Provider polls made (cron, retries, link refreshes). */
  polls: number;
  lastPolledAt: number | null;
  /** When an attempt was handed to the runner and not yet answered; null when none runs. */
  attemptStartedAt: number | null;
  /**
   * When the task next needs attention: pending → its next poll; downloading → its next
   * transfer attempt (or, while one runs, when that attempt counts as lost); final → null.
   */
  dueAt: number | null;
  music: MusicRef | null;
  notification: Notification;
}

/** What the machine needs to know about the deployment (and how to name a new announcement). */
export interface MachineContext extends NotifyContext {
  overdueAfterMs: number;
  maxAgeMs: number;
  /** PROVIDER_RETENTION_SECONDS in ms: how long after a URL is known transfers are retried. */
  retentionMs: number;
}

export type TaskEvent =
  | { type: "registered"; music?: MusicRef | null }
  /** A WAV URL from a verified callback (`signedAt`: its signature's timestamp) or a poll. */
  | { type: "wavUrl"; url: string; signedAt?: number | null }
  | { type: "providerFailed"; error: TaskError }
  | { type: "transferStarted"; refreshUrl?: boolean }
  /** The runner's record-info look-up gave a current URL for the running attempt. */
  | { type: "urlRefreshed"; url: string }
  | { type: "transferSucceeded"; wav: WavInfo }
  /** `refreshUrl`: the source said the link is expired or moved (401/403/404/410). */
  | { type: "transferFailed"; error: TaskError; retryable: boolean; refreshUrl?: boolean }
  /** An attempt was handed out but never answered (the runner's isolate died): again at once. */
  | { type: "transferInterrupted" }
  | { type: "pollStarted" }
  | { type: "pollPending" }
  /** record-info had nothing usable about this task (`data: null`, SUCCESS without a URL). */
  | { type: "pollNoResult"; message: string }
  | { type: "expired" }
  | { type: "retryRequested" }
  | NotificationEvent;

function blank(taskId: string, now: number, ctx: MachineContext): Task {
  return {
    taskId,
    state: "pending",
    createdAt: now,
    updatedAt: now,
    ageFrom: now,
    attempts: 0,
    sourceUrl: null,
    sourceSignedAt: null,
    urlKnownAt: null,
    refreshUrl: false,
    wav: null,
    error: null,
    polls: 0,
    lastPolledAt: null,
    attemptStartedAt: null,
    dueAt: null,
    music: null,
    notification: initialNotification(ctx),
  };
}

/**
 * Applies one event. Returns the same object when the event changes nothing, so callers can
 * skip the write (`next === task`). A task that does not exist yet is `null`.
 */
export function apply(
  task: Task | null,
  taskId: string,
  event: TaskEvent,
  now: number,
  ctx: MachineContext,
): Task | null {
  const current = task ?? blank(taskId, now, ctx);
  let next = step(current, event, now, ctx);
  if (next === current) return task;
  if (isFinal(next.state) && !isFinal(current.state)) {
    next = { ...next, notification: announce(next.notification, next.state as "stored" | "failed", now, ctx) };
  }
  // Reopened (a retry, a new URL): the old outcome's announcement stops; the next outcome has its own.
  if (!isFinal(next.state) && isFinal(current.state)) next = { ...next, notification: quiet(next.notification, ctx) };
  return { ...next, updatedAt: now };
}

export function isFinal(state: TaskState): boolean {
  return state === "stored" || state === "failed";
}

function step(t: Task, e: TaskEvent, now: number, ctx: MachineContext): Task {
  switch (e.type) {
    case "registered": {
      // Registering a known task changes nothing but a missing track reference.
      const music = t.music ?? e.music ?? null;
      const due = t.dueAt === null && t.state === "pending" ? t.createdAt + ctx.overdueAfterMs : t.dueAt;
      return music === t.music && due === t.dueAt ? t : { ...t, music, dueAt: due };
    }

    case "wavUrl": {
      const signedAt = e.signedAt ?? null;
      // A failed task takes another URL (not the same callback again) that is newer than its own.
      if (t.state === "pending" || (t.state === "failed" && e.url !== t.sourceUrl && newerSource(t, signedAt))) {
        return {
          ...t,
          state: "downloading",
          sourceUrl: e.url,
          sourceSignedAt: signedAt,
          urlKnownAt: now,
          refreshUrl: false,
          attempts: 0,
          error: null,
          attemptStartedAt: null,
          dueAt: now,
        };
      }
      // A different URL replaces the known one only while waiting to retry, and only when it is
      // newer than the one it replaces (README, "Replayed signatures").
      if (t.state === "downloading" && t.attemptStartedAt === null && e.url !== t.sourceUrl && newerSource(t, signedAt)) {
        return { ...t, sourceUrl: e.url, sourceSignedAt: signedAt, refreshUrl: false, error: null, dueAt: now };
      }
      return t; // a duplicate, an older or replayed URL, a new URL while an attempt runs, or stored
    }

    case "providerFailed":
      if (t.state !== "pending") return t; // a result we already act on wins over a late failure
      return { ...t, state: "failed", error: e.error, dueAt: null };

    case "transferStarted":
      if (t.state !== "downloading" || t.attemptStartedAt !== null) return t;
      return {
        ...t,
        attempts: t.attempts + 1,
        attemptStartedAt: now,
        dueAt: now + TRANSFER_LEASE_MS,
        // A refresh that could not be made now (no key, polled < 30 s ago) is still wanted next time.
        refreshUrl: e.refreshUrl ? false : t.refreshUrl,
        ...(e.refreshUrl ? { polls: t.polls + 1, lastPolledAt: now } : {}),
      };

    case "urlRefreshed":
      if (t.state !== "downloading" || e.url === t.sourceUrl) return t;
      return { ...t, sourceUrl: e.url, sourceSignedAt: null };

    case "transferSucceeded":
      // Also when the attempt was already counted as lost (the runner's late answer): it is stored.
      if (t.state !== "downloading") return t;
      return { ...t, state: "stored", wav: e.wav, error: null, attemptStartedAt: null, refreshUrl: false, dueAt: null };

    case "transferFailed": {
      if (t.state !== "downloading" || t.attemptStartedAt === null) return t;
      return failedAttempt(t, e.error, e.retryable, e.refreshUrl === true || t.attempts % REFRESH_EVERY_ATTEMPTS === 0, now, ctx);
    }

    case "transferInterrupted": {
      if (t.state !== "downloading" || t.attemptStartedAt === null) return t;
      const error = { code: "interrupted", message: `transfer attempt ${t.attempts} was interrupted` };
      const next = failedAttempt(t, error, true, t.attempts % REFRESH_EVERY_ATTEMPTS === 0, now, ctx);
      // Interrupted (not refused): try again at once rather than after the backoff.
      return next.state === "downloading" ? { ...next, dueAt: next.refreshUrl ? refreshTime(next, now) : now } : next;
    }

    case "pollStarted":
      if (t.state !== "pending" && t.state !== "failed") return t;
      // Not due again before the answer sets its real time (and never within the 30 s rule), so
      // an overlapping tick leaves it alone.
      return { ...t, polls: t.polls + 1, lastPolledAt: now, dueAt: t.state === "pending" ? now + MIN_POLL_INTERVAL_MS : t.dueAt };

    case "pollPending":
    case "pollNoResult":
      if (t.state !== "pending") return t;
      return {
        ...t,
        dueAt: now + pollDelayMs(t.polls),
        error: e.type === "pollNoResult" ? { code: "provider_no_result", message: e.message } : t.error,
      };

    case "expired":
      if (t.state !== "pending") return t;
      return {
        ...t,
        state: "failed",
        dueAt: null,
        error: {
          code: "expired",
          message: `no result from the provider within ${Math.round(ctx.maxAgeMs / 1000)} s of registration`,
        },
      };

    case "retryRequested":
      if (t.state === "failed") {
        if (t.sourceUrl === null) {
          // The provider never gave a URL: ask it again (poll now, within the 30 s rule).
          return { ...t, state: "pending", error: null, ageFrom: now, dueAt: Math.max(now, pollAllowedAt(t)) };
        }
        // A new retention horizon from now; the first attempt asks for a current URL.
        return {
          ...t,
          state: "downloading",
          error: null,
          attempts: 0,
          urlKnownAt: now,
          attemptStartedAt: null,
          refreshUrl: true,
          dueAt: now,
        };
      }
      if (t.state === "downloading" && t.attemptStartedAt === null) return t.dueAt === now ? t : { ...t, dueAt: now };
      if (t.state === "pending") {
        const at = Math.max(now, pollAllowedAt(t));
        return t.dueAt === at ? t : { ...t, dueAt: at };
      }
      return t;

    case "notifyStarted":
    case "notifyAnswered":
    case "notifyDisabled":
    case "notifyRequested": {
      const outcome = t.state === "stored" || t.state === "failed" ? t.state : null;
      const notification = notificationStep(t.notification, e, outcome, now, ctx);
      return notification === t.notification ? t : { ...t, notification };
    }
  }
}

/** A failed attempt: retried with growing gaps until the provider's retention ends. */
function failedAttempt(t: Task, error: TaskError, retryable: boolean, refresh: boolean, now: number, ctx: MachineContext): Task {
  const horizon = (t.urlKnownAt ?? now) + ctx.retentionMs;
  if (!retryable) return { ...t, state: "failed", error, attemptStartedAt: null, refreshUrl: false, dueAt: null };
  const retryAt = now + transferRetryDelayMs(t.attempts);
  if (retryAt >= horizon) {
    const gaveUp = {
      code: error.code,
      message: `${error.message} (gave up after ${t.attempts} attempts: the provider keeps a WAV only ${Math.round(ctx.retentionMs / 1000)} s)`,
    };
    return { ...t, state: "failed", error: gaveUp, attemptStartedAt: null, refreshUrl: false, dueAt: null };
  }
  const next = { ...t, error, attemptStartedAt: null, refreshUrl: refresh };
  return { ...next, dueAt: refresh ? Math.max(retryAt, refreshTime(next, now)) : retryAt };
}

/** A link refresh polls the provider: never within 30 s of the task's last poll. */
function refreshTime(t: Task, now: number): number {
  return Math.max(now, pollAllowedAt(t));
}

function pollAllowedAt(t: Task): number {
  return t.lastPolledAt === null ? 0 : t.lastPolledAt + MIN_POLL_INTERVAL_MS;
}

/** Whether a URL signed at `signedAt` may replace the task's current one. */
function newerSource(t: Task, signedAt: number | null): boolean {
  if (t.sourceUrl === null) return true;
  // When signatures are in use, only a newer signed timestamp wins; a polled URL (null) is current.
  return signedAt === null || t.sourceSignedAt === null || signedAt > t.sourceSignedAt;
}

/** Whether a pending task may be polled now without breaking the provider's 30 s rule. */
export function mayPoll(t: Task, now: number): boolean {
  return (t.state === "pending" || t.state === "failed") && now >= pollAllowedAt(t);
}

/** Whether a pending task has outlived the configured maximum age. */
export function isExpired(t: Task, now: number, ctx: MachineContext): boolean {
  return t.state === "pending" && now - (t.ageFrom ?? t.createdAt) >= ctx.maxAgeMs;
}

/** When the task's transfer is next due, as the API shows it (null while one runs or when final). */
export function nextAttemptAt(t: Task): number | null {
  if (t.state === "pending") return t.dueAt;
  if (t.state === "downloading" && t.attemptStartedAt === null) return t.dueAt;
  return null;
}
