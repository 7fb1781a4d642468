// A task's history (README, "Notifications" → "History"): what a change meant, as entries a
// person can follow. Pure: the shard hands over the task before and after an event (and, for
// outside inputs such as a callback or a poll answer, the input itself) and stores what comes
// back. No entry carries a secret or a URL's query string: hosts only.

import type { Task, TaskEvent } from "./machine";
import type { CallbackOutcome, ProviderResult } from "./callback";
import { iso } from "../lib/time";

/** One entry as the API lists it: `{"at", "type", ...details}`. */
export interface HistoryEntry {
  at: string;
  type: string;
  [detail: string]: unknown;
}

/** An entry before the store gives it its time. */
export interface HistoryNote {
  type: string;
  detail: Record<string, unknown>;
}

/** The entries an applied event means, in order (none when it changed nothing worth telling). */
export function meaningOf(before: Task | null, event: TaskEvent, after: Task | null): HistoryNote[] {
  const notes: HistoryNote[] = [];
  if (event.type === "retryRequested" && before) notes.push({ type: "retry_requested", detail: { state: before.state } });
  if (after === null || after === before) return notes;

  if (event.type === "registered" && before === null) {
    notes.push({ type: "registered", detail: after.music ? { music: after.music } : {} });
  }
  if (event.type === "transferStarted" && after.attemptStartedAt !== null && before?.attemptStartedAt === null) {
    notes.push({ type: "transfer_started", detail: { attempt: after.attempts, host: hostOf(after.sourceUrl) } });
  }
  if (event.type === "notifyAnswered" && before) {
    const n = after.notification;
    notes.push({
      type: "notification",
      detail: {
        attempt: before.notification.attempts,
        status: event.status,
        outcome: n.state === "delivered" ? "delivered" : n.state === "failed" ? "failed" : "retrying",
        message: event.message ?? "",
        nextAttemptAt: n.state === "pending" ? iso(n.nextAttemptAt) : null,
      },
    });
  }
  notes.push(...outcomeOf(before, after));
  return notes;
}

/** Stored, failed, or a failed attempt and its plan. */
function outcomeOf(before: Task | null, after: Task): HistoryNote[] {
  const wasRunning = before !== null && before.attemptStartedAt !== null;
  if (after.state === "stored" && before?.state !== "stored") {
    return [{ type: "stored", detail: { size: after.wav!.size, sha256: after.wav!.sha256 } }];
  }
  if (after.state === "failed" && before?.state !== "failed") {
    const failed = { type: "failed", detail: { code: after.error!.code, message: after.error!.message } };
    if (!wasRunning) return [failed];
    return [{ type: "transfer_failed", detail: { attempt: before.attempts, code: after.error!.code, retryable: false, nextAttemptAt: null } }, failed];
  }
  if (after.state === "downloading" && wasRunning && after.attemptStartedAt === null) {
    return [{ type: "transfer_failed", detail: { attempt: before.attempts, code: after.error?.code ?? null, retryable: true, nextAttemptAt: iso(after.dueAt) } }];
  }
  return [];
}

/** A verified callback and what was done with it: its code and the URL's host. */
export function callbackNote(outcome: CallbackOutcome, r: ProviderResult): HistoryNote {
  const said = r.type === "wavUrl" ? { code: 200, host: hostOf(r.url) } : { code: Number(r.error.code) || r.error.code };
  return { type: "callback", detail: { outcome, ...said } };
}

/** A record-info answer: the provider's flag, or why there was none. */
export function pollNote(answer: { flag: string | null } | { error: string }): HistoryNote {
  return { type: "poll", detail: "error" in answer ? { error: answer.error } : { flag: answer.flag } };
}

function hostOf(url: string | null): string | null {
  if (url === null) return null;
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
