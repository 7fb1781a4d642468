// What a shard hands a task's runner, and what the runner reports back. One job of each kind at a
// time per runner; an attempt number ties every report to the attempt the shard recorded, so a
// late or repeated report of an older attempt changes nothing.

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
  attempt: number;
  /** The record-info look-up made before the fetch, if any. */
  refresh?: { url: string | null; flag?: string; error?: string };
  result: TransferResult;
}

export interface AnnounceReport {
  kind: "announce";
  taskId: string;
  attempt: number;
  status: number | null;
  outcome: "delivered" | "retry" | "gone";
  message: string;
}

export type RunnerReport = TransferReport | AnnounceReport;
