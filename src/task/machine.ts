// The task state machine: pure functions from (task, event, now) to the next task. No I/O, no
// runtime: the Durable Object (./object.ts) loads a task, applies an event, and persists the
// result; unit tests drive these functions directly.
//
//   pending ──wavUrl──▶ downloading ──transferSucceeded──▶ stored (final)
//      │                  │    ▲
//      │                  │    └── transferFailed (retryable, attempts left)
//      │                  └──────── transferFailed (final, or out of attempts) ──▶ failed
//      └── providerFailed / expired ─────────────────────────────────────────────▶ failed
//   failed ──wavUrl──▶ downloading   (a later verified WAV URL gives a failed task another go)
//   downloading ──wavUrl (another URL, no attempt running)──▶ downloading with that URL, at once

import { MAX_TRANSFER_ATTEMPTS, pollDelayMs, TRANSFER_LEASE_MS, transferRetryDelayMs } from "./backoff";

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

export interface Task {
  taskId: string;
  state: TaskState;
  /** Times are epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** Transfer attempts made for the current source URL. */
  attempts: number;
  sourceUrl: string | null;
  wav: WavInfo | null;
  /** Why the task failed, or why the last transfer attempt failed while retries remain. */
  error: TaskError | null;
  /** Provider polls made (cron). */
  polls: number;
  lastPolledAt: number | null;
  /** When an attempt was recorded as started and not yet finished; null when none runs. */
  attemptStartedAt: number | null;
  /**
   * When the task next needs attention: pending → its next poll; downloading → its next
   * transfer attempt (or, while one runs, when that attempt counts as stalled); final → null.
   */
  dueAt: number | null;
}

export interface Limits {
  overdueAfterMs: number;
  maxAgeMs: number;
}

export type TaskEvent =
  | { type: "registered" }
  | { type: "wavUrl"; url: string }
  | { type: "providerFailed"; error: TaskError }
  | { type: "transferStarted" }
  | { type: "transferSucceeded"; wav: WavInfo }
  | { type: "transferFailed"; error: TaskError; retryable: boolean }
  /** An attempt was recorded but never finished (the isolate died): try again at once. */
  | { type: "transferInterrupted" }
  | { type: "pollPending" }
  | { type: "expired" };

function blank(taskId: string, now: number): Task {
  return {
    taskId,
    state: "pending",
    createdAt: now,
    updatedAt: now,
    attempts: 0,
    sourceUrl: null,
    wav: null,
    error: null,
    polls: 0,
    lastPolledAt: null,
    attemptStartedAt: null,
    dueAt: null,
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
  limits: Limits,
): Task | null {
  const current = task ?? blank(taskId, now);
  const next = step(current, event, now, limits);
  if (next === current) return task;
  return { ...next, updatedAt: now };
}

function step(t: Task, e: TaskEvent, now: number, limits: Limits): Task {
  switch (e.type) {
    case "registered":
      // Registering a known task is a no-op; a new one waits for its callback until overdue.
      return t.dueAt === null && t.state === "pending"
        ? { ...t, dueAt: t.createdAt + limits.overdueAfterMs }
        : t;

    case "wavUrl":
      if (t.state === "pending" || t.state === "failed") {
        return {
          ...t,
          state: "downloading",
          sourceUrl: e.url,
          attempts: 0,
          error: null,
          attemptStartedAt: null,
          dueAt: now,
        };
      }
      if (t.state === "downloading" && t.attemptStartedAt === null && e.url !== t.sourceUrl) {
        // A new URL while waiting to retry (a redelivery may carry a fresh link): use it now.
        return { ...t, sourceUrl: e.url, attempts: 0, error: null, dueAt: now };
      }
      return t; // a duplicate, a new URL while an attempt runs, or stored (final)

    case "providerFailed":
      if (t.state !== "pending") return t; // a result we already act on wins over a late failure
      return { ...t, state: "failed", error: e.error, dueAt: null };

    case "transferStarted":
      if (t.state !== "downloading") return t;
      return { ...t, attempts: t.attempts + 1, attemptStartedAt: now, dueAt: now + TRANSFER_LEASE_MS };

    case "transferSucceeded":
      if (t.state !== "downloading") return t;
      return { ...t, state: "stored", wav: e.wav, error: null, attemptStartedAt: null, dueAt: null };

    case "transferFailed": {
      if (t.state !== "downloading") return t;
      const giveUp = !e.retryable || t.attempts >= MAX_TRANSFER_ATTEMPTS;
      if (giveUp) {
        const error = e.retryable
          ? { code: e.error.code, message: `${e.error.message} (gave up after ${t.attempts} attempts)` }
          : e.error;
        return { ...t, state: "failed", error, attemptStartedAt: null, dueAt: null };
      }
      return { ...t, error: e.error, attemptStartedAt: null, dueAt: now + transferRetryDelayMs(t.attempts) };
    }

    case "transferInterrupted": {
      if (t.state !== "downloading" || t.attemptStartedAt === null) return t;
      const error = { code: "interrupted", message: `transfer attempt ${t.attempts} was interrupted` };
      if (t.attempts >= MAX_TRANSFER_ATTEMPTS) {
        return { ...t, state: "failed", error: { ...error, message: `${error.message} (gave up after ${t.attempts} attempts)` }, attemptStartedAt: null, dueAt: null };
      }
      return { ...t, error, attemptStartedAt: null, dueAt: now };
    }

    case "pollPending":
      if (t.state !== "pending") return t;
      return { ...t, polls: t.polls + 1, lastPolledAt: now, dueAt: now + pollDelayMs(t.polls + 1) };

    case "expired":
      if (t.state !== "pending") return t;
      return {
        ...t,
        state: "failed",
        dueAt: null,
        error: {
          code: "expired",
          message: `no result from the provider within ${Math.round(limits.maxAgeMs / 1000)} s of registration`,
        },
      };
  }
}

/** Whether a pending task may be polled now without breaking the provider's 30 s rule. */
export function mayPoll(t: Task, now: number, minIntervalMs: number): boolean {
  return t.state === "pending" && (t.lastPolledAt === null || now - t.lastPolledAt >= minIntervalMs);
}

/** Whether a pending task has outlived the configured maximum age. */
export function isExpired(t: Task, now: number, limits: Limits): boolean {
  return t.state === "pending" && now - t.createdAt >= limits.maxAgeMs;
}
