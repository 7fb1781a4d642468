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
// Durable Object TaskObject (binding TASKS), one per task, named by the provider's WAV task id.
//   table task              one row: the task's state (columns in ../task/store.ts)
//
// Durable Object TaskIndexShard (binding TASK_INDEX), INDEX_SHARDS objects named "shard-<n>";
//   a task belongs to shard hash(taskId) % INDEX_SHARDS.
//   table tasks             one row per task: task_id, state, created_at, updated_at, due_at
//                           indexes: (due_at) for the cron, (created_at, task_id) and
//                           (state, created_at, task_id) for listings
//                           (columns in ../task-index/shard.ts)

/** Task ids are the provider's WAV task ids: opaque, but plain enough to be a key and a path. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function wavKey(taskId: string): string {
  return `wav/${taskId}.wav`;
}

export const WAV_CONTENT_TYPE = "audio/wav";
