// What a shard hands a task's runner, and what the runner reports back. One job of each kind at a
// time per runner. Every report names the runner that made it and the attempt (and, for
// announcements, the round) it answers, so a late or repeated report — of an older attempt, of a
// redelivery's previous round, of a runner from before the task was deleted — changes nothing.

import type { TaskError, WavInfo } from "../task/machine";

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

export type TransferResult =
  | { ok: true; wav: WavInfo }
  | { ok: false; error: TaskError; retryable: boolean; refreshUrl?: boolean }
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
