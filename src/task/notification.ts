// The announcement of a task's outcome to the user's app (README, "Notifications"): a sub-machine
// of the task's, pure like it. A task that reaches `stored` or `failed` starts an announcement
// with a new `webhook-id`; each attempt is handed to the runner and answered; failed attempts are
// retried on the schedule in ./backoff.ts; a redelivery starts a new round with the same id.
//
//   off ◀──notifyDisabled── (any)            waiting ──outcome──▶ pending
//   pending ──notifyStarted──▶ pending (sending) ──notifyAnswered──▶ delivered | failed | pending
//   delivered / failed / pending ──notifyRequested──▶ pending (a new round, same webhook-id)

import type { KindName } from "../kinds/kind";
import { NOTIFY_SENDING_LEASE_MS, nextDeliveryAt } from "./backoff";

const NOTIFICATION_STATES = ["off", "waiting", "pending", "delivered", "failed"] as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[number];

/** `<kind>.stored`, `<kind>.failed` (`wav.stored`, `music.failed`, …): what an announcement says happened. */
export type AnnouncementType = `${KindName}.${"stored" | "failed"}`;

export interface Notification {
  state: NotificationState;
  /** The announcement's `webhook-id`: one per final outcome, kept across redeliveries. */
  messageId: string | null;
  /**
   * Counts rounds of attempts (a new outcome or a redelivery starts one): an answer is credited
   * only to the round and attempt it was handed out for.
   */
  round: number;
  type: AnnouncementType | null;
  /** When the task reached the announced state (the body's `timestamp`). */
  reachedAt: number | null;
  /** Attempts started in the current round (a redelivery starts a new round). */
  attempts: number;
  lastStatus: number | null;
  /** When the next attempt is due; null when none is planned. */
  nextAttemptAt: number | null;
  /** First attempt of the current round (the retry horizon counts from it). */
  firstAttemptAt: number | null;
  /** An attempt was handed to the runner at this time and has not been answered yet. */
  sendingSince: number | null;
  deliveredAt: number | null;
}

/** What the sub-machine needs of the deployment. */
export interface NotifyContext {
  /** Whether NOTIFY_URL is set. */
  notify: boolean;
  /** A fresh `webhook-id` (msg_…); only called when an announcement starts. */
  newMessageId: () => string;
}

export type NotificationEvent =
  | { type: "notifyStarted" }
  /** The runner's answer to the attempt in flight (`message` is for the history only). */
  | { type: "notifyAnswered"; status: number | null; outcome: "delivered" | "retry" | "gone"; message?: string }
  | { type: "notifyRequested" }
  /** NOTIFY_URL is no longer set: a pending announcement stops (state off). */
  | { type: "notifyDisabled" };

const OFF: Notification = {
  state: "off",
  messageId: null,
  round: 0,
  type: null,
  reachedAt: null,
  attempts: 0,
  lastStatus: null,
  nextAttemptAt: null,
  firstAttemptAt: null,
  sendingSince: null,
  deliveredAt: null,
};

/** A new task's notification: waiting for an outcome, or off. */
export function initialNotification(ctx: NotifyContext): Notification {
  return { ...OFF, state: ctx.notify ? "waiting" : "off" };
}

/** Starts the announcement of a final outcome (a new `webhook-id` for each outcome). */
export function announce(n: Notification, kind: KindName, outcome: "stored" | "failed", now: number, ctx: NotifyContext): Notification {
  if (!ctx.notify) return { ...OFF, round: n.round };
  return {
    ...OFF,
    round: n.round + 1,
    state: "pending",
    messageId: ctx.newMessageId(),
    type: `${kind}.${outcome}`,
    reachedAt: now,
    nextAttemptAt: now,
  };
}

/** A task that is not final (again): nothing to announce until its next outcome. */
export function quiet(n: Notification, ctx: NotifyContext): Notification {
  return { ...OFF, round: n.round, state: ctx.notify ? "waiting" : "off" };
}

/**
 * Applies one event to the notification of a task whose final outcome is `outcome` (null while
 * the task is not final). Returns the same object when nothing changes.
 */
export function notificationStep(
  n: Notification,
  e: NotificationEvent,
  kind: KindName,
  outcome: "stored" | "failed" | null,
  now: number,
  ctx: NotifyContext,
): Notification {
  switch (e.type) {
    case "notifyStarted":
      if (n.state !== "pending" || n.sendingSince !== null) return n;
      return { ...n, attempts: n.attempts + 1, firstAttemptAt: n.firstAttemptAt ?? now, sendingSince: now, nextAttemptAt: now + NOTIFY_SENDING_LEASE_MS };

    case "notifyAnswered": {
      if (n.state !== "pending" || n.sendingSince === null) return n;
      const answered = { ...n, sendingSince: null, lastStatus: e.status };
      if (e.outcome === "delivered") return { ...answered, state: "delivered", nextAttemptAt: null, deliveredAt: now };
      const next = e.outcome === "gone" ? null : nextDeliveryAt(n.attempts, now, n.firstAttemptAt ?? now);
      return next === null ? { ...answered, state: "failed", nextAttemptAt: null } : { ...answered, nextAttemptAt: next };
    }

    case "notifyDisabled":
      // Stopped, but the outcome keeps its webhook-id: a redelivery after NOTIFY_URL is set again
      // carries the same one.
      return n.state === "off" ? n : { ...OFF, round: n.round, messageId: n.messageId, type: n.type, reachedAt: n.reachedAt };

    case "notifyRequested": {
      if (outcome === null || !ctx.notify) return n;
      const fresh = n.messageId === null ? announce(n, kind, outcome, now, ctx) : n;
      return {
        ...fresh,
        round: fresh.round + 1,
        state: "pending",
        attempts: 0,
        firstAttemptAt: null,
        sendingSince: null,
        nextAttemptAt: now,
        deliveredAt: null,
      };
    }
  }
}
