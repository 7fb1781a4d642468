// Reaching the Durable Objects behind a task, for tests that move time or simulate a crash. Alarms
// that a fake clock put in the future are run by hand with runDurableObjectAlarm.

import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { RunnerJob } from "../../src/task/jobs";
import type { TaskRunner } from "../../src/runner/runner";
import { shardFor } from "../../src/shard/shards";
import type { TaskShard } from "../../src/shard/shard";
import type { Task } from "../../src/task/machine";

export function shardOf(taskId: string): DurableObjectStub<TaskShard> {
  return shardFor(env, taskId);
}

/** The task's runner, or null while the shard has not made one. */
export async function runnerOf(taskId: string): Promise<DurableObjectStub<TaskRunner> | null> {
  const id = await runInDurableObject(shardOf(taskId), (_i, state) =>
    state.storage.sql.exec<{ runner_id: string | null }>("SELECT runner_id FROM tasks WHERE task_id = ?", taskId).toArray()[0]?.runner_id ?? null,
  );
  return id ? env.RUNNERS.get(env.RUNNERS.idFromString(id)) : null;
}

/** The task as its shard stores it (internal fields included). */
export function storedTask(taskId: string): Promise<Task | null> {
  return runInDurableObject(shardOf(taskId), (_i, state) => {
    const row = state.storage.sql.exec<{ data: string }>("SELECT data FROM tasks WHERE task_id = ?", taskId).toArray()[0];
    return row ? (JSON.parse(row.data) as Task) : null;
  });
}

/** Runs the task's shard alarm and its runner's alarm until neither has anything due. */
export async function runDue(taskId: string, rounds = 6): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const shardRan = await runDurableObjectAlarm(shardOf(taskId));
    const runner = await runnerOf(taskId);
    const runnerRan = runner ? await runDurableObjectAlarm(runner) : false;
    if (!shardRan && !runnerRan) return;
  }
}

/**
 * Leaves the task as a killed isolate would: the shard handed attempt N to the runner, and the
 * runner had marked it running when it died (the runtime cannot be killed from inside a test, so
 * the rows are written as it would leave them). Then a fresh runner instance, as after the crash,
 * and the alarm the runtime retries. Returns whether that alarm ran.
 */
export async function crashMidAttempt(
  taskId: string,
  opts: { leftover?: { uploadId: string; etag: string; length: number }; evict?: boolean } = {},
): Promise<boolean> {
  const job = await runInDurableObject(shardOf(taskId), (instance) => {
    // The shard's own transition, as its alarm makes it (private to the class, used here alone).
    const shard = instance as unknown as { commit(id: string, e: { type: "transferStarted"; file: string }, now: number): { after: Task } };
    const name = `${taskId}.wav`;
    const { after } = shard.commit(taskId, { type: "transferStarted", file: name }, Date.now());
    const file = after.files.find((f) => f.name === name)!;
    return {
      kind: "transfer",
      taskId,
      taskKind: "wav",
      file: { name, key: `wav/${taskId}.wav`, contentType: file.contentType, source: file.source },
      epoch: file.running!.epoch,
      refreshUrl: false,
      adopt: false,
    } satisfies RunnerJob;
  });
  const runner = await prepareRunner(taskId);
  await runInDurableObject(runner, async (_i, state) => {
    state.storage.sql.exec("INSERT OR REPLACE INTO jobs (kind, job, phase, report) VALUES (?, ?, 'running', NULL)", `transfer:${job.file.name}`, JSON.stringify(job));
    // The dead attempt had put one part of a multipart upload into R2, and checkpointed it.
    if (opts.leftover) {
      const checkpoint = {
        uploadId: opts.leftover.uploadId,
        total: null,
        etag: null,
        lastModified: null,
        parts: [{ partNumber: 1, etag: opts.leftover.etag, offset: 0, length: opts.leftover.length }],
        wavHeader: null,
      };
      state.storage.sql.exec("INSERT INTO checkpoints (key, checkpoint, slice_from) VALUES (?, ?, 0)", job.file.key, JSON.stringify(checkpoint));
    }
    // The runtime's retry of the dead alarm; in the future here so that only this test runs it.
    await state.storage.setAlarm(Date.now() + 60_000);
  });
  if (opts.evict !== false) await evictDurableObject(runner);
  return runDurableObjectAlarm(runner);
}

/** The task's runner, made (and kept in the task's row) if the shard has none yet. */
export async function prepareRunner(taskId: string): Promise<DurableObjectStub<TaskRunner>> {
  const existing = await runnerOf(taskId);
  if (existing) return existing;
  const id = env.RUNNERS.newUniqueId();
  await runInDurableObject(shardOf(taskId), (_i, state) => {
    state.storage.sql.exec("UPDATE tasks SET runner_id = ? WHERE task_id = ?", id.toString(), taskId);
  });
  return env.RUNNERS.get(id);
}
