// A task's history (README, "Notifications" → "History"): what a change meant, as entries a
// person can follow. Pure: the shard hands over the task before and after an event (and, for
// outside inputs such as a callback or a poll answer, the input itself) and stores what comes
// back. No entry carries a secret or a URL's query string: hosts only.

import { failureOf, type Task, type TaskEvent, type TaskFile } from "./machine";
import type { CallbackOutcome, StagedSaid } from "./callback";
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
  if (event.type === "retryRequested" && before) notes.push({ type: "retry_requested", detail: { state: before.state, ...(event.bulk ? { bulk: true } : {}) } });
  if (after === null || after === before) return notes;

  if (event.type === "registered" && before === null) {
    notes.push({ type: "registered", detail: { kind: after.kind, ...(after.music ? { music: after.music } : {}) } });
  }
  for (const f of after.files) {
    const was = before?.files.find((b) => b.name === f.name) ?? null;
    notes.push(...fileChanges(after, was, f));
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
  if (after.state === "stored" && before?.state !== "stored") notes.push({ type: "stored", detail: storedDetail(after) });
  if (after.state === "failed" && before?.state !== "failed") {
    const failure = failureOf(after)!;
    notes.push({ type: "failed", detail: { code: failure.code, message: failure.message } });
  }
  return notes;
}

/** One file's attempt started, failed (and when the next is), or stored. */
function fileChanges(t: Task, was: TaskFile | null, f: TaskFile): HistoryNote[] {
  const file = { file: f.name };
  if (f.running !== null && was?.running?.epoch !== f.running.epoch) {
    return [{ type: "transfer_started", detail: { ...file, attempt: f.attempts, host: "url" in f.source ? hostOf(f.source.url) : null } }];
  }
  if (was?.running && f.running === null && f.state !== "stored") {
    const final = f.state === "failed";
    const detail = { ...file, attempt: was.attempts, code: f.error?.code ?? null, message: f.error?.message ?? null };
    return [{ type: "transfer_failed", detail: { ...detail, retryable: !final, nextAttemptAt: final ? null : iso(f.dueAt) } }];
  }
  // Each file of a task with several; a lone file is told by the task's own `stored`.
  if (f.state === "stored" && was?.state !== "stored" && t.files.length > 1) {
    return [{ type: "file_stored", detail: { ...file, size: f.stored!.size, sha256: f.stored!.sha256 } }];
  }
  return [];
}

/** A stored task: its one file's size and sha256, or how many files it has. */
function storedDetail(t: Task): Record<string, unknown> {
  if (t.files.length === 1) return { file: t.files[0]!.name, size: t.files[0]!.stored!.size, sha256: t.files[0]!.stored!.sha256 };
  return { files: t.files.length, size: t.files.reduce((n, f) => n + (f.stored?.size ?? 0), 0) };
}

/** A verified callback and what was done with it: its code, its stage and files, a URL's host. */
export function callbackNote(outcome: CallbackOutcome, said: StagedSaid): HistoryNote {
  if (said.type === "failed") return { type: "callback", detail: { outcome, code: Number(said.error.code) || said.error.code } };
  const url = said.files.map((f) => f.source).find((s) => "url" in s);
  return { type: "callback", detail: { outcome, code: 200, stage: said.stage, files: said.files.length, host: url && "url" in url ? hostOf(url.url) : null } };
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
