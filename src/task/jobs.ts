// What a shard hands a task's runner, what the runner reports back, and what a report means for
// the task. A runner holds one job per file (and one announcement) at a time. Every transfer job
// carries the epoch the machine gave its attempt, and every report names it (announcements name
// their round and attempt), so a late or repeated report — of an older attempt, of a redelivery's
// previous round, of a task's earlier life — is credited to nothing else. Pure: the runner and the
// shard do the I/O.

import type { FileSource, KindName } from "../kinds/kind";
import { pollNote, type HistoryNote } from "./history";
import type { StoredFile, Task, TaskError, TaskEvent } from "./machine";

export interface TransferJob {
  kind: "transfer";
  taskId: string;
  /** The task's kind: which record-info a link refresh asks. */
  taskKind: KindName;
  /** The file: its name, where it goes, what it must be, and where its bytes come from. */
  file: { name: string; key: string; contentType: string; source: FileSource };
  /** The attempt's epoch (README, "Transfers"). */
  epoch: number;
  /** Ask record-info for current URLs before fetching (an expired or moved link). */
  refreshUrl: boolean;
  /** The previous attempt was interrupted: an object it committed may be adopted. */
  adopt: boolean;
}

export interface AnnounceJob {
  kind: "announce";
  taskId: string;
  /** The notification round (a redelivery starts a new one) and the attempt within it. */
  round: number;
  attempt: number;
  messageId: string;
  /** The announcement's JSON body, built by the shard when the attempt was handed out. */
  body: string;
}

export type RunnerJob = TransferJob | AnnounceJob;

/** The job's row in the runner: one per file, one for the announcement. */
export function jobSlot(job: RunnerJob): string {
  return job.kind === "transfer" ? `transfer:${job.file.name}` : "announce";
}

/** What one transfer attempt that ran to its end gave. */
export type AttemptResult = { ok: true; stored: StoredFile } | { ok: false; error: TaskError; retryable: boolean; refreshUrl?: boolean };

export type TransferResult =
  | AttemptResult
  /** The runner found the attempt marked running when it woke: its isolate died mid-way. */
  | { ok: false; interrupted: true };

export interface TransferReport {
  kind: "transfer";
  taskId: string;
  /** The runner's own id: the shard accepts reports only from the task's current runner. */
  runnerId: string;
  file: string;
  /** The file's R2 key (removed again when the task is gone by the time the report arrives). */
  key: string;
  epoch: number;
  /** The record-info look-up made before the fetch, if any: current URLs by file name. */
  refresh?: { urls: Record<string, string>; flag?: string; error?: string };
  result: TransferResult;
}

export interface AnnounceReport {
  kind: "announce";
  taskId: string;
  runnerId: string;
  round: number;
  attempt: number;
  status: number | null;
  outcome: "delivered" | "retry" | "gone";
  message: string;
}

export type RunnerReport = TransferReport | AnnounceReport;

/** One step of applying a report: an entry for the history first (if any), then an event. */
export interface ReportStep {
  note?: HistoryNote;
  event?: TaskEvent;
}

/**
 * What a report from the task's current runner means for `task`: the steps to apply in order, or
 * none. The machine credits an attempt's failure only to the attempt it names; a success of any
 * attempt of this life counts (the bytes are in R2).
 */
export function reportSteps(task: Task, r: RunnerReport): ReportStep[] {
  if (r.kind === "announce") {
    const n = task.notification;
    if (n.round !== r.round || n.attempts !== r.attempt) return [];
    return [{ event: { type: "notifyAnswered", status: r.status, outcome: r.outcome, message: r.message } }];
  }
  const file = task.files.find((f) => f.name === r.file);
  if (!file) return [];
  const current = file.running?.epoch === r.epoch;
  const steps: ReportStep[] = [];
  if (current && r.refresh) {
    steps.push({
      note: pollNote(r.refresh.error ? { error: r.refresh.error } : { flag: r.refresh.flag ?? null }),
      event: Object.keys(r.refresh.urls).length > 0 ? { type: "urlsRefreshed", file: r.file, urls: r.refresh.urls } : undefined,
    });
  }
  const result = r.result;
  steps.push({
    event: result.ok
      ? { type: "transferSucceeded", file: r.file, epoch: r.epoch, stored: result.stored }
      : "interrupted" in result
        ? { type: "transferInterrupted", file: r.file, epoch: r.epoch }
        : { type: "transferFailed", file: r.file, epoch: r.epoch, error: result.error, retryable: result.retryable, refreshUrl: result.refreshUrl },
  });
  return steps;
}
