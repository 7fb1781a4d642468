// Where things live. The one place that documents the persistent layout; README links here.
//
// R2 (binding BUCKET)
//   wav/<taskId>.wav        the WAV, byte for byte as the provider served it.
//                           httpMetadata.contentType = "audio/wav"
//                           customMetadata = { taskId, sourceUrl } (sourceUrl without its
//                           query string, at most 1,024 characters)
//                           Written once, atomically: a single put of a fixed-length stream, or a
//                           multipart upload completed only after the last byte was checked.
//
// Durable Object TaskShard (binding SHARDS), SHARD_COUNT (32) objects named "shard-<n>"; a task
//   belongs to shard fnv1a(taskId) % 32 (../shard/shards.ts). The one home of task state; every
//   statement is in ../shard/store.ts.
//   table tasks             one row per task: task_id, state, created_at, audio_id, poll_at (the
//                           cron's due index), run_at (the alarm's: next transfer, lost attempt or
//                           announcement), runner_id, data (the whole Task as JSON)
//                           indexes: (poll_at), (run_at), (created_at, task_id),
//                           (state, created_at, task_id), (audio_id, created_at, task_id)
//   table events            the task's history, at most 200 rows per task (task_id, seq, at,
//                           type, detail JSON); no secret and no URL query string in any entry
//   table signed_callbacks  (task_id, signed_at, result) of accepted signed callbacks of the last
//                           600 s (a replay must be within the 300 s window); one valid signature
//                           exists per task and time, so a replay with another result — in any
//                           base64 spelling of the signature — is refused
//   table deleted           task ids deleted through the API (a late callback is ignored)
//   table submissions       (music_task_id, audio_id) → wav_task_id, in the pair's shard
//                           (fnv1a("submission\n<musicTaskId>\n<audioId>") % 32): submit once
//
// Durable Object TaskRunner (binding RUNNERS), one per task that needs outbound work, id from
//   newUniqueId() kept in the task's row (../runner/runner.ts).
//   table jobs              at most one per kind ('transfer' | 'announce'): the job and its phase,
//                           queued → running, deleted once the shard has the report (kept as
//                           done, with the report, while the shard cannot be reached)
//   table uploads           multipart uploads in progress (aborted if an attempt died mid-way)

import { z } from "zod";

/** Task ids are the provider's task ids: opaque, but plain enough to be a key and a path. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** The task-id rule as every input (route parameter, callback, provider answer) checks it. */
export const TaskId = z
  .string({ error: (issue) => (issue.input === undefined ? "is missing" : "must be a string") })
  .regex(TASK_ID_PATTERN, "must be 1-128 letters, digits, '_' or '-'");

/** R2 needs equal parts of at least 5 MiB (the last may be smaller). */
export const PART_BYTES = 8 << 20;
/** R2 takes at most 10,000 parts per upload: the largest file this worker can store. */
export const MAX_UPLOAD_BYTES = 10_000 * PART_BYTES;
/**
 * One R2 put takes at most 5 GiB. Known lengths above 4 GiB (RF64 WAVs) go through multipart too,
 * which keeps MAX_WAV_BYTES free of the single-put limit; the margin keeps clear of it.
 */
export const MAX_SINGLE_PUT_BYTES = 4 * 1024 ** 3;

export function wavKey(taskId: string): string {
  return `wav/${taskId}.wav`;
}

export const WAV_CONTENT_TYPE = "audio/wav";
