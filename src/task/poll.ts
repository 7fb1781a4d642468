// What a provider poll means for a pending task (README, "Task lifecycle and the cron"): the
// record-info answer — or the error that stood in for one — becomes one machine event, the poll's
// outcome for the cron's report, and the history entry of the poll. Pure.

import type { HistoryNote } from "./history";
import { pollNote } from "./history";
import { isExpired, type MachineContext, type Task, type TaskEvent } from "./machine";

/** A record-info answer about one WAV task, as the provider client reads it. */
export type WavRecord =
  | { status: "pending" }
  | { status: "success"; url: string; flag: string }
  | { status: "failed"; code: string; message: string; flag: string }
  /** Nothing usable about this one task (`data: null`, SUCCESS without a URL, …). */
  | { status: "unknown"; message: string };

export type PollOutcome =
  | "not_due" // polled less than 30 s ago, or no longer pending
  | "pending" // the provider says PENDING (or has nothing usable about this task)
  | "resolved" // the provider gave a WAV URL
  | "failed" // the provider reported failure, or the task outlived its maximum age
  | "provider_trouble"; // the provider is down, rate-limiting or in maintenance

/** What asking the provider gave: a record, an error instead of one, or nobody to ask. */
export type PollAnswer =
  | { record: WavRecord }
  | { providerError: { code: number; trouble: boolean } }
  /** SUNO_API_KEY is not set: the task waits (and expires) without counting as provider trouble. */
  | { noKey: true };

export interface PollVerdict {
  event: TaskEvent;
  outcome: PollOutcome;
  /** The poll's history entry (none when nobody was asked). */
  note: HistoryNote | null;
}

/**
 * The verdict on `task` (as loaded when the poll began, at `startedAt`) for `answer`. `redact`
 * cleans the provider's own words, which may quote the callBackUrl and its ?token=.
 */
export function pollVerdict(task: Task, answer: PollAnswer, startedAt: number, ctx: MachineContext, redact: (text: string) => string): PollVerdict {
  const expired = isExpired(task, startedAt, ctx);
  if ("noKey" in answer) {
    if (expired) return { event: { type: "expired" }, outcome: "failed", note: null };
    return { event: { type: "pollNoResult", message: "SUNO_API_KEY is not set, so the provider cannot be asked" }, outcome: "pending", note: null };
  }
  if ("providerError" in answer) {
    const note = pollNote({ error: `provider code ${answer.providerError.code}` });
    if (expired) return { event: { type: "expired" }, outcome: "failed", note };
    return { event: { type: "pollPending" }, outcome: answer.providerError.trouble ? "provider_trouble" : "pending", note };
  }
  const r = answer.record;
  switch (r.status) {
    case "success":
      // Whatever the flag: CALLBACK_EXCEPTION only says the provider could not call us back.
      return { event: { type: "wavUrl", url: r.url, signedAt: null }, outcome: "resolved", note: pollNote({ flag: r.flag }) };
    case "failed":
      return {
        event: { type: "providerFailed", error: { code: redact(r.code), message: redact(r.message) } },
        outcome: "failed",
        note: pollNote({ flag: r.flag }),
      };
    case "pending":
    case "unknown": {
      const note = r.status === "pending" ? pollNote({ flag: "PENDING" }) : pollNote({ error: r.message });
      if (expired) return { event: { type: "expired" }, outcome: "failed", note };
      if (r.status === "unknown") return { event: { type: "pollNoResult", message: r.message }, outcome: "pending", note };
      return { event: { type: "pollPending" }, outcome: "pending", note };
    }
  }
}
