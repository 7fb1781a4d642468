// What a provider poll means for a pending task (README, "Task lifecycle and the cron"): the
// record-info answer — or the error that stood in for one — becomes one machine event, the poll's
// outcome for the cron's report, and the history entry of the poll. Pure.

import type { KindName } from "../kinds/kind";
import type { StagedSaid } from "./callback";
import { pollNote, type HistoryNote } from "./history";
import { apply, isExpired, type MachineContext, type Task, type TaskEvent } from "./machine";

/** A record-info answer (inline content already staged), as the shard hands it over. */
export type StagedRecord =
  | { status: "said"; said: StagedSaid; flag: string }
  | { status: "pending"; flag: string }
  | { status: "unknown"; message: string };

export type PollOutcome =
  | "not_due" // polled less than 30 s ago, or no longer pending
  | "pending" // the provider is still working (or has nothing usable about this task)
  | "resolved" // the provider named files (or said how far it got)
  | "failed" // the provider reported failure, or the task outlived its maximum age
  | "provider_trouble"; // the provider is down, rate-limiting or in maintenance

/** What asking the provider gave: a record, an error instead of one, or nobody to ask. */
export type PollAnswer =
  | { record: StagedRecord }
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
  const kind: KindName = task.kind;
  if ("noKey" in answer) {
    if (expired) return { event: { type: "expired" }, outcome: "failed", note: null };
    return { event: { type: "pollNoResult", message: "SUNO_API_KEY is not set, so the provider cannot be asked" }, outcome: "pending", note: null };
  }
  if ("providerError" in answer) {
    const note = pollNote({ error: `provider code ${answer.providerError.code}` });
    // Trouble with the provider as a whole: not the task's fault, and not its time either.
    if (answer.providerError.trouble) return { event: { type: "pollTrouble", previousPollAt: task.lastPolledAt }, outcome: "provider_trouble", note };
    if (expired) return { event: { type: "expired" }, outcome: "failed", note };
    return { event: { type: "pollPending" }, outcome: "pending", note };
  }
  const r = answer.record;
  // Files (or a stage) the task has already are no news: the poll goes on as if still pending.
  const news = (event: TaskEvent) => apply(task, task.taskId, event, startedAt, ctx) !== task;
  if (task.state === "failed") {
    // The daily look at a failed task: files the provider names now give it another go; anything
    // else leaves it failed until the next look.
    const note = r.status === "unknown" ? pollNote({ error: r.message }) : pollNote({ flag: r.flag });
    if (r.status === "said" && r.said.type === "files" && r.said.files.length > 0) {
      const event: TaskEvent = { type: "offered", kind, stage: r.said.stage, files: r.said.files, signedAt: null };
      if (news(event)) return { event, outcome: "resolved", note };
    }
    return { event: { type: "pollPending" }, outcome: "failed", note };
  }
  if (r.status === "said" && r.said.type === "failed") {
    const error = { code: redact(r.said.error.code), message: redact(r.said.error.message) };
    return { event: { type: "providerFailed", kind, error }, outcome: "failed", note: pollNote({ flag: r.flag }) };
  }
  if (r.status === "said" && r.said.type === "files" && (r.said.files.length > 0 || r.said.stage === "complete")) {
    // Whatever the flag: CALLBACK_EXCEPTION only says the provider could not call us back.
    const event: TaskEvent = { type: "offered", kind, stage: r.said.stage, files: r.said.files, signedAt: null };
    if (news(event)) return { event, outcome: "resolved", note: pollNote({ flag: r.flag }) };
  }
  const note = r.status === "unknown" ? pollNote({ error: r.message }) : pollNote({ flag: r.flag });
  if (expired) return { event: { type: "expired" }, outcome: "failed", note };
  if (r.status === "unknown") return { event: { type: "pollNoResult", message: r.message }, outcome: "pending", note };
  return { event: { type: "pollPending" }, outcome: "pending", note };
}
