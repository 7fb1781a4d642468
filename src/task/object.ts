// The Durable Object that owns one task: a thin shell that loads the task, applies an event
// through the pure state machine, persists the result, and lets its alarm do the slow work
// (the WAV transfer, telling the index shard). One object per task keeps every callback's path
// free of shared objects.

import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import { indexShardFor, type IndexEntry } from "../task-index/shards";
import { getWavRecord, ProviderError } from "../provider/client";
import { adoptStoredWav, transferWav } from "../transfer/transfer";
import { MIN_POLL_INTERVAL_MS, TRANSFER_LEASE_MS } from "./backoff";
import { apply, isExpired, mayPoll, type Limits, type Task, type TaskEvent } from "./machine";
import { TaskStore } from "./store";
import { toView, type TaskView } from "./view";

/** Results the provider reports through a callback or a poll. */
export type ProviderResult = Extract<TaskEvent, { type: "wavUrl" } | { type: "providerFailed" }>;

export type PollOutcome =
  | "unknown" // no such task here
  | "final" // stored or failed: nothing to do
  | "not_due" // polled less than 30 s ago
  | "kicked" // downloading: the transfer was (re)scheduled
  | "pending" // the provider says PENDING
  | "resolved" // the provider gave a WAV URL
  | "failed" // the provider reported failure, or the task outlived its maximum age
  | "provider_trouble"; // the provider is down, rate-limiting or in maintenance

export interface PollReport {
  outcome: PollOutcome;
  /** Whether this poll called the provider (the cron counts them). */
  providerCalled: boolean;
  entry: IndexEntry | null;
}

/** A transfer that has not finished this long after its due time is picked up by the cron. */
const STALL_GRACE_MS = 5 * 60_000;
/** How soon to retry telling the index shard about a change when it could not be reached. */
const INDEX_RETRY_MS = 30_000;

export class TaskObject extends DurableObject<Env> {
  private readonly store: TaskStore;
  /** True while this instance runs a transfer; a recorded attempt without it was interrupted. */
  private transferring = false;
  /** True while this instance waits for the provider's answer to a poll. */
  private polling = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new TaskStore(ctx.storage.sql);
  }

  /** A verified callback (or a poll answer): recorded durably before this returns. */
  async ingest(taskId: string, result: ProviderResult): Promise<TaskView> {
    const { task, changed } = this.update(taskId, result);
    // A redelivered callback also re-arms a task whose alarm was lost (it changes nothing else).
    if (changed || (await this.needsAlarm(task!))) await this.wake(Date.now());
    return toView(task!);
  }

  /** Registers a task submitted elsewhere; `created` is false when it was already known. */
  async register(taskId: string): Promise<{ created: boolean; task: TaskView }> {
    const created = this.store.load() === null;
    const { task } = this.update(taskId, { type: "registered" });
    // Listings should show a task as soon as the API call that made it returns.
    if (created && !(await this.syncIndex())) await this.wake(Date.now() + INDEX_RETRY_MS);
    return { created, task: toView(task!) };
  }

  async get(): Promise<TaskView | null> {
    const stored = this.store.load();
    return stored ? toView(stored.task) : null;
  }

  /** Called by the cron (through the index shard) when the task is due. */
  async poll(taskId: string): Promise<PollReport> {
    // Two overlapping ticks must not both reach the provider within 30 s.
    if (this.polling) {
      const current = this.store.load();
      return { outcome: "not_due", providerCalled: false, entry: current ? indexEntry(current.task, current.version) : null };
    }
    this.polling = true;
    try {
      return await this.pollOnce(taskId);
    } finally {
      this.polling = false;
    }
  }

  private async pollOnce(taskId: string): Promise<PollReport> {
    const stored = this.store.load();
    if (!stored) return { outcome: "unknown", providerCalled: false, entry: null };
    const task = stored.task;
    const now = Date.now();

    if (task.state === "downloading") {
      if (!this.transferring) await this.ctx.storage.setAlarm(now);
      return { outcome: "kicked", providerCalled: false, entry: indexEntry(task, stored.version, now + STALL_GRACE_MS) };
    }
    if (task.state !== "pending") return { outcome: "final", providerCalled: false, entry: indexEntry(task, stored.version) };
    if (!mayPoll(task, now, MIN_POLL_INTERVAL_MS)) {
      return { outcome: "not_due", providerCalled: false, entry: indexEntry(task, stored.version) };
    }

    const config = readConfig(this.env);
    let event: TaskEvent;
    let outcome: PollOutcome;
    try {
      const record = await getWavRecord({ baseUrl: config.SUNO_API_BASE, apiKey: config.SUNO_API_KEY }, taskId);
      if (record.status === "success") {
        [event, outcome] = [{ type: "wavUrl", url: record.url }, "resolved"];
      } else if (record.status === "failed") {
        [event, outcome] = [{ type: "providerFailed", error: { code: record.code, message: record.message } }, "failed"];
      } else if (isExpired(task, now, this.limits())) {
        [event, outcome] = [{ type: "expired" }, "failed"];
      } else {
        [event, outcome] = [{ type: "pollPending" }, "pending"];
      }
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (isExpired(task, now, this.limits())) {
        [event, outcome] = [{ type: "expired" }, "failed"];
      } else {
        // A task the provider does not answer for is treated as still pending (with backoff);
        // provider-wide trouble is reported so the tick stops calling.
        [event, outcome] = [{ type: "pollPending" }, err.trouble ? "provider_trouble" : "pending"];
        if (!err.trouble) console.warn(`poll ${taskId}: provider code ${err.code}: ${err.message}`);
      }
    }
    if (this.update(taskId, event).changed) await this.wake(Date.now());
    const after = this.store.load()!;
    return { outcome, providerCalled: true, entry: indexEntry(after.task, after.version) };
  }

  /** The durable worker: runs due transfers and keeps the index shard up to date. */
  override async alarm(): Promise<void> {
    const stored = this.store.load();
    if (!stored) return;
    let task = stored.task;
    const taskId = task.taskId;

    if (task.state === "downloading" && !this.transferring && task.attemptStartedAt !== null) {
      // An attempt was recorded but this instance is not running it: the isolate died mid-way.
      task = this.update(taskId, { type: "transferInterrupted" }).task!;
    }
    if (task.state === "downloading" && !this.transferring && task.dueAt !== null && task.dueAt <= Date.now()) {
      await this.runTransfer(task);
    }

    const indexed = await this.syncIndex();
    // setAlarm last: an alarm set early would suppress the runtime's retries if we threw.
    const next = this.nextAlarm(indexed);
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  private async runTransfer(task: Task): Promise<void> {
    const config = readConfig(this.env);
    this.update(task.taskId, { type: "transferStarted" });
    this.transferring = true;
    try {
      // The shard learns of the download (and of its lease) before it starts, not after.
      await this.syncIndex();
      const adopted = task.error?.code === "interrupted" ? await adoptStoredWav(this.env.BUCKET, task.taskId, task.sourceUrl!) : null;
      const outcome = adopted ? ({ ok: true, wav: adopted } as const) : await transferWav({
        taskId: task.taskId,
        sourceUrl: task.sourceUrl!,
        bucket: this.env.BUCKET,
        allowlist: config.WAV_SOURCE_HOSTS,
        maxBytes: config.MAX_WAV_BYTES,
        idleTimeoutMs: config.SOURCE_IDLE_TIMEOUT_SECONDS * 1000,
      });
      this.update(
        task.taskId,
        outcome.ok
          ? { type: "transferSucceeded", wav: outcome.wav }
          : { type: "transferFailed", error: outcome.error, retryable: outcome.retryable },
      );
      if (!outcome.ok) console.warn(`transfer ${task.taskId}: ${outcome.error.code}: ${outcome.error.message}`);
    } finally {
      this.transferring = false;
    }
  }

  /** Loads, applies, and persists when something changed. */
  private update(taskId: string, event: TaskEvent): { task: Task | null; changed: boolean } {
    const before = this.store.load()?.task ?? null;
    const after = apply(before, taskId, event, Date.now(), this.limits());
    const changed = after !== null && after !== before;
    if (changed) this.store.save(after);
    return { task: after, changed };
  }

  /** A task with work left (a download, an index update) but no alarm set and nothing running. */
  private async needsAlarm(task: Task): Promise<boolean> {
    if (this.transferring) return false;
    const stored = this.store.load();
    const pendingWork = task.state === "downloading" || (stored !== null && stored.indexedVersion < stored.version);
    return pendingWork && (await this.ctx.storage.getAlarm()) === null;
  }

  /** Makes sure the alarm fires no later than `at` (not for use inside alarm()). */
  private async wake(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /** Tells the index shard about the latest version; false when that failed. */
  private async syncIndex(): Promise<boolean> {
    const stored = this.store.load();
    if (!stored || stored.indexedVersion >= stored.version) return true;
    try {
      await indexShardFor(this.env, stored.task.taskId).upsert(indexEntry(stored.task, stored.version));
      this.store.markIndexed(stored.version);
      return true;
    } catch (err) {
      console.error(`index sync for ${stored.task.taskId} failed`, err);
      return false;
    }
  }

  private nextAlarm(indexed: boolean): number | null {
    const stored = this.store.load();
    if (!stored) return null;
    const times: number[] = [];
    const { state, dueAt, attemptStartedAt } = stored.task;
    if (state === "downloading" && dueAt !== null) {
      // Should an alarm ever run beside a live transfer, look again when its lease ends, not now.
      times.push(this.transferring && attemptStartedAt !== null ? Math.max(dueAt, attemptStartedAt + TRANSFER_LEASE_MS) : dueAt);
    }
    if (stored.indexedVersion < stored.version) times.push(Date.now() + (indexed ? 0 : INDEX_RETRY_MS));
    return times.length > 0 ? Math.min(...times) : null;
  }

  private limits(): Limits {
    const c = readConfig(this.env);
    return { overdueAfterMs: c.OVERDUE_AFTER_SECONDS * 1000, maxAgeMs: c.TASK_MAX_AGE_SECONDS * 1000 };
  }
}

/** The shard's view of a task: enough to list it and to know when the cron must look at it. */
function indexEntry(t: Task, version: number, dueAt?: number): IndexEntry {
  const due =
    dueAt ??
    (t.state === "pending" ? t.dueAt : t.state === "downloading" && t.dueAt !== null ? t.dueAt + STALL_GRACE_MS : null);
  return {
    taskId: t.taskId,
    state: t.state,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    dueAt: due,
    version,
    view: toView(t),
  };
}
