// A task shard: the one home of the state of every task whose id hashes here. Each request loads
// a task, applies an event through the pure state machine (../task/machine.ts), and saves the
// result — and its history entry — in the same synchronous step, so what a callback recorded is
// what the next GET, listing or cron tick reads. Outbound work is not done here: the shard's
// alarm hands due transfers and announcements to the task's runner (../runner/runner.ts), which
// reports back through report(). The cron asks each shard to poll its overdue tasks (tick()).

import { DurableObject } from "cloudflare:workers";
import type { ProviderResult } from "../callback/schema";
import { readConfig, type Config } from "../config";
import { redactSecrets } from "../http/errors";
import { DEFAULT_DOWNLOAD_LINK_TTL_SECONDS, makeDownloadLink } from "../download/signed-link";
import { announcementBody, newMessageId } from "../notify/message";
import { getWavRecord, ProviderError, submitWav } from "../provider/client";
import type { AnnounceReport, RunnerJob, RunnerReport, TransferReport } from "../runner/jobs";
import type { TaskRunner } from "../runner/runner";
import { wavKey } from "../storage/layout";
import { MIN_POLL_INTERVAL_MS } from "../task/backoff";
import { apply, isExpired, isFinal, mayPoll, type Limits, type MusicRef, type Task, type TaskEvent } from "../task/machine";
import { toView, type TaskView } from "../task/view";
import { shardFor } from "./shards";
import { bulkRetryQueries, ShardStore, type HistoryEntry, type ListQuery } from "./store";

/** A shard polls at most this many tasks per tick, well inside a Worker's subrequest limit. */
export const MAX_POLLS_PER_SHARD = 40;
/** Due tasks polled at once within a shard. */
const POLL_CONCURRENCY = 4;
/** A due row taken by a tick is not due again for this long, unless its poll says otherwise. */
const CLAIM_MS = 60_000;
/** Runs handed to runners per alarm; the alarm comes back at once for the rest. */
const MAX_RUNS_PER_ALARM = 50;
const RUN_CONCURRENCY = 8;

export type PollOutcome =
  | "not_due" // polled less than 30 s ago, or no longer pending
  | "pending" // the provider says PENDING (or has nothing usable about this task)
  | "resolved" // the provider gave a WAV URL
  | "failed" // the provider reported failure, or the task outlived its maximum age
  | "provider_trouble"; // the provider is down, rate-limiting or in maintenance

export interface ShardTickReport {
  due: number;
  polled: number;
  providerCalls: number;
  outcomes: Partial<Record<PollOutcome, number>>;
  trouble: boolean;
  /** Polls that failed before an answer. */
  errors: number;
}

/** What a callback did, as its history entry says. */
export type CallbackOutcome = "applied" | "duplicate" | "ignored" | "signature_reused";

export type TaskLookup = { task: TaskView } | { deleted: true } | null;

export class TaskShard extends DurableObject<Env> {
  private readonly store: ShardStore;
  /** Submissions in flight here, so concurrent duplicates share one provider call. */
  private readonly submitting = new Map<string, Promise<{ wavTaskId: string }>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ShardStore(ctx.storage.sql);
  }

  // ── The acknowledgement path ────────────────────────────────────────────────────────────

  /**
   * A verified callback: recorded (with its history entry) before this returns. `signedAt` is its
   * verified X-Webhook-Timestamp (null without signatures): one valid signature exists per task
   * and time, so the time identifies it.
   */
  async ingest(taskId: string, result: ProviderResult, signedAt: number | null): Promise<{ outcome: CallbackOutcome }> {
    const known = this.store.load(taskId);
    if (!known && this.store.isDeleted(taskId)) return { outcome: "ignored" }; // a late callback for a deleted task
    const said = resultKey(result);
    const now = Date.now();
    if (signedAt !== null && known) {
      const earlier = this.store.signedResult(taskId, signedAt);
      if (earlier !== null && earlier !== said) {
        // The signature covers the task id and time, not the body: the same headers with another
        // result are a replay, not the provider (SPEC "Replayed signatures").
        this.history(taskId, now, "callback", { outcome: "signature_reused", ...resultDetail(result) });
        return { outcome: "signature_reused" };
      }
    }
    const event: TaskEvent =
      result.type === "wavUrl"
        ? { ...result, signedAt }
        : // The provider's text may quote the callBackUrl, and that carries ?token=.
          { ...result, error: { code: result.error.code, message: redactSecrets(result.error.message, this.env) } };
    const after = apply(known, taskId, event, now, this.limits());
    if (after !== null && after !== known) this.store.save(after);
    if (signedAt !== null) this.store.rememberSignature(taskId, signedAt, said, known !== null);
    const outcome: CallbackOutcome = after !== known ? "applied" : sameResult(known, result) ? "duplicate" : "ignored";
    this.history(taskId, now, "callback", { outcome, ...resultDetail(result) });
    if (after !== known) this.recordOutcome(known, after!, now);
    // Also for a duplicate: the provider's redelivery re-arms a shard whose alarm was lost.
    await this.armAlarm();
    return { outcome };
  }

  /** Registers a task (submitted here or elsewhere); `created` is false when it was known. */
  async register(taskId: string, music: MusicRef | null = null): Promise<{ created: boolean; task: TaskView }> {
    const now = Date.now();
    this.store.undelete(taskId); // PUT registers a deleted id anew
    const known = this.store.load(taskId);
    const { after } = this.update(taskId, { type: "registered", music }, now);
    if (!known) this.history(taskId, now, "registered", music ? { music } : {});
    return { created: known === null, task: toView(after!) };
  }

  // ── Reading ─────────────────────────────────────────────────────────────────────────────

  async get(taskId: string): Promise<TaskLookup> {
    const task = this.store.load(taskId);
    if (task) return { task: toView(task) };
    return this.store.isDeleted(taskId) ? { deleted: true } : null;
  }

  async events(taskId: string): Promise<HistoryEntry[] | null> {
    return this.store.load(taskId) ? this.store.events(taskId) : null;
  }

  async list(query: ListQuery): Promise<TaskView[]> {
    return this.store.list(query).map(toView);
  }

  async counts(): Promise<Record<string, number>> {
    return this.store.counts();
  }

  // ── Actions ─────────────────────────────────────────────────────────────────────────────

  /** POST /retry: another go now. Null for an unknown task; `stored` cannot be retried. */
  async retry(taskId: string): Promise<{ task: TaskView } | { alreadyStored: true } | null> {
    const task = this.store.load(taskId);
    if (!task) return null;
    if (task.state === "stored") return { alreadyStored: true };
    const now = Date.now();
    this.history(taskId, now, "retry_requested", { state: task.state });
    let { after } = this.update(taskId, { type: "retryRequested" }, now);
    this.recordOutcome(task, after, now);
    // A pending task (or a failed one without a URL) is polled now, within the 30 s rule.
    if (after!.state === "pending" && mayPoll(after!, now)) {
      await this.pollTask(taskId);
      after = this.store.load(taskId);
      if (!after) return null; // deleted while the provider answered
    }
    await this.armAlarm();
    return { task: toView(after!) };
  }

  /** POST /notify: the latest announcement again, same webhook-id. */
  async redeliver(taskId: string): Promise<{ task: TaskView } | { notFinal: true } | { off: true } | null> {
    const task = this.store.load(taskId);
    if (!task) return null;
    if (!this.limits().notify) return { off: true };
    if (!isFinal(task.state)) return { notFinal: true };
    const { after } = this.update(taskId, { type: "notifyRequested" }, Date.now());
    await this.armAlarm();
    return { task: toView(after!) };
  }

  /** DELETE: the WAV, the state and the history go; the id is remembered as deleted. */
  async delete(taskId: string): Promise<boolean> {
    if (!this.store.load(taskId)) return false;
    // State first: a runner's report that arrives meanwhile finds no task and removes its object.
    this.store.delete(taskId, Date.now());
    await this.env.BUCKET.delete(wavKey(taskId));
    return true;
  }

  /**
   * POST /api/tasks: submits the pair once (this shard is the pair's, see submissionShard). A
   * known pair answers its WAV task unless that task failed; concurrent duplicates share one call.
   */
  async submit(
    music: MusicRef,
    callBackUrl: string,
  ): Promise<{ wavTaskId: string; created: boolean } | { providerCode: number; providerMsg: string }> {
    const known = this.store.submission(music.taskId, music.audioId);
    if (known !== null) {
      const lookup = await shardFor(this.env, known).get(known);
      // A resubmission (of a failed task) may have landed while we asked.
      const now = this.store.submission(music.taskId, music.audioId);
      if (now !== known) return { wavTaskId: now!, created: false };
      // Not registered yet (its register() is under way, or failed and is redone by the route) is
      // still this pair's task; only a failed or deleted one is submitted anew.
      if (lookup === null || ("task" in lookup && lookup.task.state !== "failed")) return { wavTaskId: known, created: false };
    }
    const key = `${music.taskId}\n${music.audioId}`;
    const inFlight = this.submitting.get(key);
    if (inFlight) {
      try {
        return { ...(await inFlight), created: false };
      } catch (err) {
        if (err instanceof ProviderError) return { providerCode: err.code, providerMsg: err.message };
        throw err;
      }
    }
    const call = (async () => {
      const config = readConfig(this.env);
      const wavTaskId = await submitWav(
        { baseUrl: config.SUNO_API_BASE, apiKey: config.SUNO_API_KEY },
        { taskId: music.taskId, audioId: music.audioId, callBackUrl },
      );
      this.store.rememberSubmission(music.taskId, music.audioId, wavTaskId, Date.now());
      return { wavTaskId };
    })();
    this.submitting.set(key, call);
    try {
      return { ...(await call), created: true };
    } catch (err) {
      // Returned, not thrown: an error crossing RPC keeps only its message.
      if (err instanceof ProviderError) return { providerCode: err.code, providerMsg: err.message };
      throw err;
    } finally {
      this.submitting.delete(key);
    }
  }

  // ── Reports from runners ────────────────────────────────────────────────────────────────

  async report(r: RunnerReport): Promise<void> {
    const now = Date.now();
    const task = this.store.load(r.taskId);
    if (!task) {
      // Deleted while the runner worked: whatever it may have written goes too (an interrupted
      // attempt may have committed its object before it died).
      if (r.kind === "transfer") await this.env.BUCKET.delete(wavKey(r.taskId));
      return;
    }
    // Only from the task's current runner: one from before a delete and re-registration is stale,
    // and an object it wrote is not this task's (unless this task's own attempt may be writing).
    if (r.runnerId !== this.store.runnerId(r.taskId)) {
      if (r.kind === "transfer" && task.state !== "stored" && task.attemptStartedAt === null) await this.env.BUCKET.delete(wavKey(r.taskId));
      return;
    }
    if (r.kind === "transfer") this.applyTransferReport(task, r, now);
    else this.applyAnnounceReport(task, r, now);
    await this.armAlarm();
  }

  private applyTransferReport(task: Task, r: TransferReport, now: number): void {
    // Only the attempt handed out last; a late or repeated report changes nothing. (A success
    // for an attempt already counted as lost still counts: the machine takes it.)
    if (task.state !== "downloading" || task.attempts !== r.attempt) return;
    if (r.refresh) {
      this.history(task.taskId, now, "poll", r.refresh.error ? { error: r.refresh.error } : { flag: r.refresh.flag ?? null });
      if (r.refresh.url) this.update(task.taskId, { type: "urlRefreshed", url: r.refresh.url }, now);
    }
    const result = r.result;
    const event: TaskEvent = result.ok
      ? { type: "transferSucceeded", wav: result.wav }
      : "interrupted" in result
        ? { type: "transferInterrupted" }
        : { type: "transferFailed", error: result.error, retryable: result.retryable, refreshUrl: result.refreshUrl };
    const { before, after } = this.update(task.taskId, event, now);
    this.recordOutcome(before, after, now);
  }

  private applyAnnounceReport(task: Task, r: AnnounceReport, now: number): void {
    const n = task.notification;
    // Only the round and attempt handed out last (a redelivery starts a new round).
    if (n.round !== r.round || n.attempts !== r.attempt) return;
    this.announcementAnswered(task, r.status, r.outcome, r.message, now);
  }

  /** The answer to the announcement attempt in flight, with its history entry. */
  private announcementAnswered(task: Task, status: number | null, outcome: AnnounceReport["outcome"], message: string, now: number): void {
    if (task.notification.sendingSince === null) return;
    const attempt = task.notification.attempts;
    const { after } = this.update(task.taskId, { type: "notifyAnswered", status, outcome }, now);
    if (!after) return;
    const n = after.notification;
    this.history(task.taskId, now, "notification", {
      attempt,
      status,
      outcome: n.state === "delivered" ? "delivered" : n.state === "failed" ? "failed" : "retrying",
      message,
      nextAttemptAt: n.state === "pending" ? iso(n.nextAttemptAt) : null,
    });
  }

  // ── The alarm: hand due work to runners ─────────────────────────────────────────────────

  override async alarm(): Promise<void> {
    const now = Date.now();
    const due = this.store.dueRuns(now, MAX_RUNS_PER_ALARM);
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const taskId = due[next++]!;
        try {
          await this.dispatch(taskId, now);
        } catch (err) {
          // One task's trouble must not leave the others without their alarm.
          console.error(`shard: dispatch ${taskId} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: RUN_CONCURRENCY }, worker));
    // setAlarm last: an alarm set early would suppress the runtime's retries if we threw.
    const at = this.store.nextRunAt();
    if (at !== null) await this.ctx.storage.setAlarm(Math.max(at, Date.now()));
  }

  private async dispatch(taskId: string, now: number): Promise<void> {
    let task = this.store.load(taskId);
    if (!task) return;
    if (task.state === "downloading" && task.dueAt !== null && task.dueAt <= now) {
      if (task.attemptStartedAt !== null) {
        // Handed out and never answered within the lease: the attempt is lost.
        const { before, after } = this.update(taskId, { type: "transferInterrupted" }, now);
        this.recordOutcome(before, after, now);
        task = after!;
      }
      if (task.state === "downloading" && task.attemptStartedAt === null && task.dueAt !== null && task.dueAt <= now) {
        await this.startTransfer(task, now);
        const reloaded = this.store.load(taskId);
        if (!reloaded) return; // deleted meanwhile
        task = reloaded;
      }
    }
    const n = task.notification;
    if (n.state === "pending" && !this.limits().notify) {
      this.update(taskId, { type: "notifyDisabled" }, now); // NOTIFY_URL was removed: nothing to send
      return;
    }
    if (n.state === "pending" && n.nextAttemptAt !== null && n.nextAttemptAt <= now) {
      if (n.sendingSince !== null) {
        // Handed out and never answered: count it as a failed attempt and plan the next.
        this.announcementAnswered(task, null, "retry", "no answer from the runner", now);
      } else {
        await this.startAnnouncement(task, now);
      }
    }
  }

  private async startTransfer(task: Task, now: number): Promise<void> {
    // A link refresh polls record-info: only with a key, and never within 30 s of the last poll.
    const refreshUrl = task.refreshUrl && Boolean(readConfig(this.env).SUNO_API_KEY) && (task.lastPolledAt === null || now - task.lastPolledAt >= MIN_POLL_INTERVAL_MS);
    // The previous attempt may have committed its object before it was lost: adopt it if so.
    const adopt = task.error?.code === "interrupted" || task.error?.code === "runner_unreachable";
    const { after } = this.update(task.taskId, { type: "transferStarted", refreshUrl }, now);
    this.history(task.taskId, now, "transfer_started", { attempt: after!.attempts, host: hostOf(after!.sourceUrl) });
    const job: RunnerJob = { kind: "transfer", taskId: task.taskId, attempt: after!.attempts, sourceUrl: after!.sourceUrl!, refreshUrl, adopt };
    try {
      await this.runner(task.taskId).start(job);
    } catch (err) {
      console.error(`shard: runner for ${task.taskId} unreachable: ${err instanceof Error ? err.message : String(err)}`);
      const failed = this.update(task.taskId, {
        type: "transferFailed",
        error: { code: "runner_unreachable", message: "the transfer could not be started; it will be retried" },
        retryable: true,
      }, Date.now());
      this.recordOutcome(failed.before, failed.after, Date.now());
    }
  }

  private async startAnnouncement(task: Task, now: number): Promise<void> {
    const { after } = this.update(task.taskId, { type: "notifyStarted" }, now);
    const t = after!;
    const n = t.notification;
    const download = t.state === "stored" ? await this.downloadFor(t.taskId) : undefined;
    const body = announcementBody({ type: n.type!, reachedAt: n.reachedAt!, task: toView(t), download });
    if (!this.store.load(t.taskId)) return; // deleted meanwhile
    try {
      await this.runner(t.taskId).start({ kind: "announce", taskId: t.taskId, round: n.round, attempt: n.attempts, messageId: n.messageId!, body });
    } catch (err) {
      console.error(`shard: runner for ${t.taskId} unreachable: ${err instanceof Error ? err.message : String(err)}`);
      const current = this.store.load(t.taskId);
      if (current && current.notification.round === n.round && current.notification.attempts === n.attempts) {
        this.announcementAnswered(current, null, "retry", "the runner could not be reached", Date.now());
      }
    }
  }

  private async downloadFor(taskId: string): Promise<{ url: string; expiresAt: string } | undefined> {
    const config = readConfig(this.env);
    // Without PUBLIC_URL the shard cannot know the worker's address: no link (README says so).
    if (!config.API_TOKEN || !config.PUBLIC_URL) return undefined;
    return makeDownloadLink(config.API_TOKEN, config.PUBLIC_URL, taskId, DEFAULT_DOWNLOAD_LINK_TTL_SECONDS);
  }

  /** The task's runner, made (with a unique id kept in the row) the first time it is needed. */
  private runner(taskId: string): DurableObjectStub<TaskRunner> {
    let id = this.store.runnerId(taskId);
    if (id === null) {
      id = this.env.RUNNERS.newUniqueId().toString();
      this.store.setRunnerId(taskId, id);
    }
    return this.env.RUNNERS.get(this.env.RUNNERS.idFromString(id));
  }

  // ── The cron ────────────────────────────────────────────────────────────────────────────

  /** One cron tick for this shard: poll the due tasks, oldest due first. */
  async tick(maxPolls: number): Promise<ShardTickReport> {
    const now = Date.now();
    const limit = Math.max(0, Math.min(maxPolls, MAX_POLLS_PER_SHARD));
    const due = this.store.duePolls(now, limit);
    const report: ShardTickReport = { due: due.length, polled: 0, providerCalls: 0, outcomes: {}, trouble: false, errors: 0 };
    // Claimed for this tick: an overlapping tick will not pick them again before they answer.
    for (const taskId of due) this.store.claimPoll(taskId, now + CLAIM_MS);
    let next = 0;
    const worker = async () => {
      while (!report.trouble && next < due.length) {
        const taskId = due[next++]!;
        try {
          const r = await this.pollTask(taskId);
          report.polled++;
          if (r.providerCalled) report.providerCalls++;
          report.outcomes[r.outcome] = (report.outcomes[r.outcome] ?? 0) + 1;
          if (r.outcome === "provider_trouble") report.trouble = true;
        } catch (err) {
          console.error(`poll ${taskId} failed: ${err instanceof Error ? err.message : String(err)}`);
          report.errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: POLL_CONCURRENCY }, worker));
    // A lost alarm is found here at the latest: due runs get their alarm back.
    await this.armAlarm();
    return report;
  }

  /** Polls record-info for one pending task, within the provider's 30 s rule. */
  private async pollTask(taskId: string): Promise<{ outcome: PollOutcome; providerCalled: boolean }> {
    const task = this.store.load(taskId);
    const now = Date.now();
    if (!task || task.state !== "pending") return { outcome: "not_due", providerCalled: false };
    const limits = this.limits();
    if (!mayPoll(task, now)) {
      this.store.save(task); // back in the index at its due time
      return { outcome: "not_due", providerCalled: false };
    }
    const config = readConfig(this.env);
    if (!config.SUNO_API_KEY) {
      // Nobody to ask: the task waits (and expires) without counting as provider trouble.
      const event: TaskEvent = isExpired(task, now, limits) ? { type: "expired" } : { type: "pollNoResult", message: "SUNO_API_KEY is not set, so the provider cannot be asked" };
      const { before, after } = this.update(taskId, event, now);
      this.recordOutcome(before, after, now);
      return { outcome: event.type === "expired" ? "failed" : "pending", providerCalled: false };
    }
    // Recorded before the call: an overlapping poll sees it and stays away for 30 s.
    this.update(taskId, { type: "pollStarted" }, now);

    let event: TaskEvent;
    let outcome: PollOutcome;
    try {
      const record = await getWavRecord({ baseUrl: config.SUNO_API_BASE, apiKey: config.SUNO_API_KEY }, taskId);
      if (!this.store.load(taskId)) return { outcome: "not_due", providerCalled: true }; // deleted meanwhile
      this.history(taskId, Date.now(), "poll", record.status === "success" || record.status === "failed" ? { flag: record.flag } : record.status === "pending" ? { flag: "PENDING" } : { error: record.message });
      if (record.status === "success") [event, outcome] = [{ type: "wavUrl", url: record.url, signedAt: null }, "resolved"];
      else if (record.status === "failed") {
        const error = { code: redactSecrets(record.code, this.env), message: redactSecrets(record.message, this.env) };
        [event, outcome] = [{ type: "providerFailed", error }, "failed"];
      }
      else if (isExpired(task, now, limits)) [event, outcome] = [{ type: "expired" }, "failed"];
      else if (record.status === "unknown") [event, outcome] = [{ type: "pollNoResult", message: record.message }, "pending"];
      else [event, outcome] = [{ type: "pollPending" }, "pending"];
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (!this.store.load(taskId)) return { outcome: "not_due", providerCalled: true }; // deleted meanwhile
      this.history(taskId, Date.now(), "poll", { error: `provider code ${err.code}` });
      if (isExpired(task, now, limits)) [event, outcome] = [{ type: "expired" }, "failed"];
      else [event, outcome] = [{ type: "pollPending" }, err.trouble ? "provider_trouble" : "pending"];
    }
    const { before, after } = this.update(taskId, event, Date.now());
    this.recordOutcome(before, after, Date.now());
    return { outcome, providerCalled: true };
  }

  // ── Bulk retry (POST /api/tasks/retry?state=failed; README, "Routes") ───────────────────

  /**
   * Reopens at most `limit` of this shard's failed tasks, least recently changed first, as
   * POST /retry does one, but without asking the provider here: a reopened task without a WAV URL
   * is polled by the next cron tick, a transfer is handed out by the alarm. `remaining` counts
   * the tasks still failed afterwards.
   */
  async retryFailed(limit: number): Promise<{ retried: number; remaining: number }> {
    const queries = bulkRetryQueries(this.ctx.storage.sql);
    const now = Date.now();
    let retried = 0;
    for (const taskId of queries.failedTaskIds(limit)) {
      const task = this.store.load(taskId);
      if (!task || task.state !== "failed") continue;
      this.history(taskId, now, "retry_requested", { state: task.state, bulk: true });
      const { after } = this.update(taskId, { type: "retryRequested" }, now);
      this.recordOutcome(task, after, now);
      retried++;
    }
    if (retried > 0) await this.armAlarm();
    return { retried, remaining: queries.countInState("failed") };
  }

  // ── Helpers ─────────────────────────────────────────────────────────────────────────────

  /**
   * Loads, applies, and saves when something changed (synchronously: one transaction). Only a
   * registration makes a task here (a callback does in ingest): an event for a task deleted while
   * its poll or report was under way must not bring it back.
   */
  private update(taskId: string, event: TaskEvent, now: number): { before: Task | null; after: Task | null } {
    const before = this.store.load(taskId);
    if (!before && event.type !== "registered") return { before, after: null };
    const after = apply(before, taskId, event, now, this.limits());
    if (after !== null && after !== before) this.store.save(after);
    return { before, after };
  }

  /** History entries for what a change meant: stored, failed, a failed attempt's plan. */
  private recordOutcome(before: Task | null, after: Task | null, now: number): void {
    if (after === null || before === after) return;
    if (after.state === "stored" && before?.state !== "stored") {
      this.history(after.taskId, now, "stored", { size: after.wav!.size, sha256: after.wav!.sha256 });
    } else if (after.state === "failed" && before?.state !== "failed") {
      if (before?.attemptStartedAt) this.history(after.taskId, now, "transfer_failed", { attempt: before.attempts, code: after.error!.code, retryable: false, nextAttemptAt: null });
      this.history(after.taskId, now, "failed", { code: after.error!.code, message: after.error!.message });
    } else if (after.state === "downloading" && before?.attemptStartedAt && after.attemptStartedAt === null) {
      this.history(after.taskId, now, "transfer_failed", {
        attempt: before.attempts,
        code: after.error?.code ?? null,
        message: after.error?.message ?? null,
        retryable: true,
        nextAttemptAt: iso(after.dueAt),
      });
    }
  }

  private history(taskId: string, at: number, type: string, detail: Record<string, unknown> = {}): void {
    this.store.addEvent(taskId, at, type, detail);
  }

  /** Makes sure the alarm fires no later than the earliest due run (not for use inside alarm()). */
  private async armAlarm(): Promise<void> {
    const at = this.store.nextRunAt();
    if (at === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  private limits(): Limits {
    return limitsOf(readConfig(this.env));
  }
}

function limitsOf(c: Config): Limits {
  return {
    overdueAfterMs: c.OVERDUE_AFTER_SECONDS * 1000,
    maxAgeMs: c.TASK_MAX_AGE_SECONDS * 1000,
    retentionMs: c.PROVIDER_RETENTION_SECONDS * 1000,
    notify: Boolean(c.NOTIFY_URL),
    newMessageId,
  };
}

/** What a callback said, to tell an identical redelivery from a replay with another body. */
function resultKey(r: ProviderResult): string {
  return r.type === "wavUrl" ? `url ${r.url}` : `failed ${r.error.code} ${r.error.message}`;
}

function sameResult(task: Task | null, r: ProviderResult): boolean {
  if (!task) return false;
  return r.type === "wavUrl" ? task.sourceUrl === r.url : task.state === "failed" && task.error?.code === r.error.code;
}

/** History detail of a callback: its code and the WAV URL's host (never its query string). */
function resultDetail(r: ProviderResult): Record<string, unknown> {
  return r.type === "wavUrl" ? { code: 200, host: hostOf(r.url) } : { code: Number(r.error.code) || r.error.code };
}

function hostOf(url: string | null): string | null {
  if (url === null) return null;
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
