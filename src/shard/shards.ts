// Which shard owns a task. A fixed set of SHARD_COUNT objects holds every task row, so a callback
// lands in an object that already exists (no per-task object on the acknowledgement path) and no
// single object sits on every task's path. The count is part of the storage layout: changing it
// moves tasks to other shards, so it must not change once tasks are stored (README, "Design").
//
// Capacity: one Durable Object serializes its requests; a shard's write here is one small SQLite
// transaction (~0.1–0.3 ms of CPU), and a single object is documented to sustain about 500–1,000
// simple requests/s. 32 shards therefore allow for roughly 16,000 callbacks/s spread evenly, and
// ~500/s for any one shard — far above a provider's callback rate for one account.

export const SHARD_COUNT = 32;

export function shardNumberOf(key: string): number {
  // FNV-1a: stable, cheap, and spreads provider ids (hex) evenly.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARD_COUNT;
}

// The stubs' types come from Env (src/worker-configuration.d.ts types SHARDS with TaskShard).
export function shard(env: Env, n: number) {
  return env.SHARDS.get(env.SHARDS.idFromName(`shard-${n}`));
}

/** The shard that owns a task's row. */
export function shardFor(env: Env, taskId: string) {
  return shard(env, shardNumberOf(taskId));
}

/** The shard that remembers which WAV task was submitted for a (music task, track) pair. */
export function submissionShard(env: Env, musicTaskId: string, audioId: string) {
  return shard(env, shardNumberOf(`submission\n${musicTaskId}\n${audioId}`));
}
