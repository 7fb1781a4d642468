// Where things live. The one place that documents the persistent layout; README links here.
//
// R2 (binding BUCKET)
//   wav/<taskId>.wav        a `wav` task's WAV, byte for byte as the provider served it.
//   <kind>/<taskId>/<name>  every other file of a task (../kinds/: music/<id>/<track>.mp3 and
//                           .jpeg, stems/<id>/drums.mp3, video/<id>/video.mp4, cover/<id>/cover-1.png,
//                           midi/<id>/midi.json and midi.mid, lyrics/<id>/lyrics.json).
//                           httpMetadata.contentType = the file's type (audio/wav, audio/mpeg, …)
//                           customMetadata = { taskId, sourceUrl } (sourceUrl without its query
//                           string, at most 1,024 characters; "" for content the callback carried)
//                           Written once, atomically: a single put of a fixed-length stream, or a
//                           multipart upload completed only after the last byte was checked.
//   <key>.peaks.json        a stored WAV's waveform (audiowaveform's JSON), beside it; not one of
//                           the task's files (../transfer/peaks.ts)
//   <kind>/<taskId>/incoming/<sha256>.json
//                           content a callback or record-info answer carried (MIDI notes, lyrics),
//                           named by its sha256, until the files made from it are stored
//                           (../storage/staging.ts); then removed.
//
// Durable Object TaskShard (binding SHARDS), SHARD_COUNT (32) objects named "shard-<n>"; a task
//   belongs to shard fnv1a(taskId) % 32 (../shard/shards.ts). The one home of task state; every
//   statement is in ../shard/store.ts.
//   table tasks             one row per task: task_id, state, created_at, kind, audio_id, poll_at
//                           (the cron's due index), run_at (the alarm's: a file's next transfer, a
//                           lost attempt or an announcement), runner_id, data (the whole Task as
//                           JSON; rows from before kinds are read as wav tasks, ../task/upgrade.ts)
//                           indexes: (poll_at), (run_at), (created_at, task_id), (state, created_at,
//                           task_id), (kind, created_at, task_id), (audio_id, created_at, task_id)
//   table events            the task's history, at most 200 rows per task (task_id, seq, at,
//                           type, detail JSON); no secret and no URL query string in any entry
//   table signed_stages     (task_id, signed_at, stage, result) of accepted signed callbacks of the
//                           last 600 s (a replay must be within the 300 s window); one valid
//                           signature exists per task and time, so under it another result for a
//                           stage already said, or a stage that does not come later — in any
//                           base64 spelling of the signature — is refused
//   table deleted           task ids deleted through the API (a late callback is ignored), with
//                           the task's last epoch (a new life of the id counts on from it)
//   table removals          R2 keys to remove (a deleted task's files, staged content no longer
//                           needed), retried from the alarm until removed
//   table submissions       (music_task_id, audio_id) → wav_task_id, in the pair's shard
//                           (fnv1a("submission\n<musicTaskId>\n<audioId>") % 32): submit once
//   table stat_hours        the charts' counters (README, "Dashboard" → "Charts"): per UTC hour
//                           (unix time / 3600), metric (stored, failed, delivered_first,
//                           delivered_retried, delivery_failed) and, for failed, the error code: n;
//                           added to in the same save as the task (../task/stats.ts), rows older
//                           than 7 days pruned by primary key
//   table stat_durations    per UTC day and log-scale bucket of createdAt → stored: n (likewise)
//   table task_refs         (ref, task_id, field): a music task's track ids (field track) and the
//                           music task id a task was registered for (musicTaskId), for search
//                           (../task/refs.ts); rewritten when they change, built from the tasks
//                           the first time a shard has the table
//
//   table sessions          dashboard sessions (../dashboard/session.ts), in the shard
//                           fnv1a("session\n<id>") % 32 where id = hex SHA-256 of the cookie's
//                           random session id (the id itself is stored nowhere): token_fp (an HMAC
//                           fingerprint of the API token it was started with), created_at,
//                           expires_at (+8 h), last_seen (written at most once a minute),
//                           user_agent (≤ 256 chars), address (CF-Connecting-IP). Deleted at
//                           sign-out, revoke, "sign out everywhere", expiry (when read, and by the
//                           shard's tick) and once token_fp is no accepted token's. index (expires_at)
//
// Rate Limiting binding GUESS_LIMITER (wrangler.toml [[ratelimits]]): counters keyed
//   "guess:<CF-Connecting-IP>" of failed sign-ins and API requests without a valid token
//   (../middleware/guess-limit); kept by the platform, per 60 s window.
//
// Static assets (binding ASSETS, wrangler.toml [assets], directory public/, not committed):
//   api-reference/scalar.js  Scalar's standalone bundle, copied from node_modules by npm install
//                            (test/local/vendor-assets.mjs); served by ../openapi/reference.tsx.
//
// Durable Object TaskRunner (binding RUNNERS), one per task that needs outbound work, id from
//   newUniqueId() kept in the task's row (../runner/runner.ts).
//   table jobs              at most one per slot ('transfer:<file>' | 'announce'): the job and its
//                           phase, queued → running (→ paused → running … between time slices),
//                           deleted once the shard has the report (kept as done, with the report,
//                           while the shard cannot be reached)
//   table checkpoints       per file being uploaded in parts: the upload id, the source's total
//                           length and validators, every part R2 has (number, etag, byte range),
//                           a WAV's header; slice_from: where the running slice began (progress?)
//   table stale_uploads     uploads the version before checkpoints left (aborted, then forgotten)

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

/** Where a WAV's waveform is kept: beside it, not a file of its task (README, "Waveforms"). */
export function peaksKey(fileKey: string): string {
  return `${fileKey}.peaks.json`;
}

/** Where content a callback carried is kept until its files are stored. */
export function stagedKey(kind: string, taskId: string, sha256: string): string {
  return `${kind}/${taskId}/incoming/${sha256}.json`;
}
