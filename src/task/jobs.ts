// What a shard hands a task's runner, what the runner reports back, and what a report means for
// the task. One job of each kind at a time per runner. Every report names the runner that made it
// and the attempt (and, for announcements, the round) it answers, so a late or repeated report —
// of an older attempt, of a redelivery's previous round, of a runner from before the task was
// deleted — changes nothing. Pure: the runner and the shard do the I/O.

import { pollNote, type HistoryNote } from "./history";
import type { Task, TaskError, TaskEvent, WavInfo } from "./machine";

export interface TransferJob {
  kind: "transfer";
  taskId: string;
  attempt: number;
  sourceUrl: string;
  /** Ask record-info for a current URL before fetching (an expired or moved link). */
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

/** What one transfer attempt that ran to its end gave. */
export type AttemptResult = { ok: true; wav: WavInfo } | { ok: false; error: TaskError; retryable: boolean; refreshUrl?: boolean };

export type TransferResult =
  | AttemptResult
  /** The runner found the attempt marked running when it woke: its isolate died mid-way. */
  | { ok: false; interrupted: true };

export interface TransferReport {
  kind: "transfer";
  taskId: string;
  /** The runner's own id: the shard accepts reports only from the task's current runner. */
  runnerId: string;
  attempt: number;
  /** The record-info look-up made before the fetch, if any. */
  refresh?: { url: string | null; flag?: string; error?: string };
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
 * What a report from the task's current runner means for `task`: nothing (a late or repeated
 * report, of an attempt or round other than the one handed out last), or the steps to apply in
 * order. A success for an attempt already counted as lost still counts: the machine takes it.
 */
export function reportSteps(task: Task, r: RunnerReport): ReportStep[] {
  if (r.kind === "announce") {
    const n = task.notification;
    if (n.round !== r.round || n.attempts !== r.attempt) return [];
    return [{ event: { type: "notifyAnswered", status: r.status, outcome: r.outcome, message: r.message } }];
  }
  if (task.state !== "downloading" || task.attempts !== r.attempt) return [];
  const steps: ReportStep[] = [];
  if (r.refresh) {
    steps.push({
      note: pollNote(r.refresh.error ? { error: r.refresh.error } : { flag: r.refresh.flag ?? null }),
      event: r.refresh.url ? { type: "urlRefreshed", url: r.refresh.url } : undefined,
    });
  }
  const result = r.result;
  steps.push({
    event: result.ok
      ? { type: "transferSucceeded", wav: result.wav }
      : "interrupted" in result
        ? { type: "transferInterrupted" }
        : { type: "transferFailed", error: result.error, retryable: result.retryable, refreshUrl: result.refreshUrl },
  });
  return steps;
}
