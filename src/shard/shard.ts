// A task shard: the one home of the state of every task whose id hashes here. It is an I/O shell
// around the pure modules of ../task/: each request loads a task, asks a pure function what an
// input means (an event for the machine), applies it, and saves the task and the history entries
// the change means in the same synchronous step — so what a callback recorded is what the next
// GET, listing or cron tick reads — then sets its alarm. Outbound work is not done here: the
// alarm hands due transfers and announcements to the task's runner (../runner/runner.ts), which
// reports back through report(). The cron asks each shard to poll its overdue tasks (tick()).

import { DurableObject } from "cloudflare:workers";
import { ConfigError, readConfig } from "../config";
import { ANNOUNCEMENT_LINK_TTL_SECONDS, filePath, makeDownloadLink, wavPath } from "../download/signed-link";
import { kindOf } from "../kinds";
import type { KindName } from "../kinds/kind";
import { errorText, redactText } from "../lib/redact";
import { announcementBody, newMessageId, type AnnouncedFile } from "../notify/message";
import { getRecord, ProviderError, submitWav } from "../provider/client";
import { stageSaid } from "../storage/staging";
import { callbackEvent, callbackOutcome, isReplay, resultKey, stageOf, type CallbackOutcome, type StagedSaid } from "../task/callback";
import { dueWork } from "../task/dispatch";
import { callbackNote, meaningOf, type HistoryEntry, type HistoryNote } from "../task/history";
import { reportSteps, type RunnerJob, type RunnerReport } from "../task/jobs";
import { apply, isFinal, mayPoll, type MachineContext, type MusicRef, type Task, type TaskEvent } from "../task/machine";
import { liveKeys, releasedKeys, taskKeys, unneededStaged } from "../task/objects";
import { pollVerdict, type PollAnswer, type PollOutcome, type StagedRecord } from "../task/poll";
import { toView, type TaskView } from "../task/view";
import { peaksKey } from "../storage/layout";
import { shardFor } from "./shards";
import { SessionStore, ShardStore, type ListQuery, type SearchField, type SessionRow, type ShardCounters } from "./store";

/** A shard polls at most this many tasks per tick, well inside a Worker's subrequest limit. */
export const MAX_POLLS_PER_SHARD = 40;
/** Due tasks polled at once within a shard. */
const POLL_CONCURRENCY = 4;
/** A due row taken by a tick is not due again for this long, unless its poll says otherwise. */
const CLAIM_MS = 60_000;
/** Tasks handled per alarm; the alarm comes back at once for the rest. */
const MAX_RUNS_PER_ALARM = 50;
const RUN_CONCURRENCY = 8;
/** How soon an alarm that found the settings unusable looks again. */
const MISCONFIGURED_RETRY_MS = 5 * 60_000;
/** A session's "last seen" is written at most this often (README, "Dashboard"). */
const SESSION_SEEN_RESOLUTION_MS = 60_000;
/** R2 objects removed per alarm (one batch delete). */
const REMOVALS_PER_ALARM = 500;

export interface ShardTickReport {
  due: number;
  polled: number;
  providerCalls: number;
  outcomes: Partial<Record<PollOutcome, number>>;
  trouble: boolean;
  /** Polls that failed before an answer. */
  errors: number;
}

export type TaskLookup = { task: TaskView } | { deleted: true } | null;

/** A known task of another kind: nothing is changed (README, "What it keeps"). */
export type KindMismatch = { kindMismatch: KindName };

export class TaskShard extends DurableObject<Env> {
  private readonly store: ShardStore;
  /** Dashboard sessions whose id hashes here (README, "Dashboard"). */
  private readonly sessions: SessionStore;
  /** Submissions in flight here, so concurrent duplicates share one provider call. */
  private readonly submitting = new Map<string, Promise<{ wavTaskId: string }>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ShardStore(ctx.storage.sql);
    this.sessions = new SessionStore(ctx.storage.sql);
  }

  // ── The acknowledgement path ────────────────────────────────────────────────────────────

  /**
   * A verified callback: recorded (with its history entry) before this returns. Content it carried
   * inline is already staged in R2 (its key is in `said`). `signedAt` is its verified
   * X-Webhook-Timestamp (null without signatures): one valid signature exists per task and time,
   * so the time identifies it.
   */
  async ingest(kind: KindName, taskId: string, said: StagedSaid, signedAt: number | null): Promise<{ outcome: CallbackOutcome; task?: KindName }> {
    const known = this.store.load(taskId);
    const now = Date.now();
    const answer = async (outcome: CallbackOutcome, task: Task | null, extra: { task?: KindName } = {}) => {
      // Content staged for this callback that the task does not need (a replay, a redelivery after
      // its files were stored, another kind's task) goes again — from the alarm, which keeps it if
      // a concurrent identical callback made the task need it after all (same sha256, same key).
      this.store.scheduleRemoval(taskId, unneededStaged(said, task), now);
      // Also for a duplicate: the provider's redelivery re-arms a shard whose alarm was lost.
      await this.armAlarm();
      return { outcome, ...extra };
    };
    if (!known && this.store.isDeleted(taskId)) return answer("ignored", null); // a late callback for a deleted task
    if (known && known.kind !== kind) return answer("kind_mismatch", known, { task: known.kind });
    if (signedAt !== null && known && isReplay(this.store.signedResults(taskId, signedAt), said)) {
      this.store.addHistory(taskId, now, callbackNote("signature_reused", said));
      return answer("signature_reused", known);
    }
    const event = callbackEvent(kind, said, signedAt, (text) => redactText(text, this.env));
    const after = apply(known, taskId, event, now, this.context());
    if (after !== null && after !== known) {
      this.store.save(after);
      this.store.recordChange(known, after, now);
      this.store.scheduleRemoval(taskId, releasedKeys(known, after), now);
    }
    if (signedAt !== null) this.store.rememberSignature(taskId, signedAt, stageOf(said), resultKey(said));
    const outcome = callbackOutcome(known, after, said);
    this.record(taskId, now, [callbackNote(outcome, said), ...meaningOf(known, event, after)]);
    return answer(outcome, after);
  }

  /** Registers a task (submitted here or elsewhere); `created` is false when it was known. */
  async register(taskId: string, kind: KindName = "wav", music: MusicRef | null = null): Promise<{ created: boolean; task: TaskView } | KindMismatch> {
    const known = this.store.load(taskId);
    if (known && known.kind !== kind) return { kindMismatch: known.kind };
    const epoch = this.store.undelete(taskId); // PUT registers a deleted id anew, counting on from its last epoch
    const { before, after } = this.commit(taskId, { type: "registered", kind, music, epoch }, Date.now());
    return { created: before === null, task: toView(after!) };
  }

  // ── Reading ─────────────────────────────────────────────────────────────────────────────

  async get(taskId: string): Promise<TaskLookup> {
    const task = this.store.load(taskId);
    if (task) return { task: toView(task) };
    return this.store.isDeleted(taskId) ? { deleted: true } : null;
  }

  async history(taskId: string): Promise<HistoryEntry[] | null> {
    return this.store.load(taskId) ? this.store.history(taskId) : null;
  }

  async list(query: ListQuery): Promise<TaskView[]> {
    return this.store.list(query).map(toView);
  }

  async counts(): Promise<Record<string, number>> {
    return this.store.counts();
  }

  /** This shard's chart counters from `fromHour` and `fromDay` on (README, "Dashboard" → "Charts"). */
  async counters(fromHour: number, fromDay: number): Promise<ShardCounters> {
    return this.store.counters(fromHour, fromDay);
  }

  /** The tasks here that `q` names, each with how it matched (README, "Dashboard" → "Find a task"). */
  async search(q: string, limit: number): Promise<{ task: TaskView; matched: SearchField }[]> {
    return this.store.search(q, limit).map((m) => ({ task: toView(m.task), matched: m.matched }));
  }

  // ── Actions ─────────────────────────────────────────────────────────────────────────────

  /** POST /retry: another go now. Null for an unknown task; `stored` cannot be retried. */
  async retry(taskId: string): Promise<{ task: TaskView } | { alreadyStored: true } | null> {
    const task = this.store.load(taskId);
    if (!task) return null;
    if (task.state === "stored") return { alreadyStored: true };
    const now = Date.now();
    let { after } = this.commit(taskId, { type: "retryRequested" }, now);
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
    if (!this.context().notify) return { off: true };
    if (!isFinal(task.state)) return { notFinal: true };
    const { after } = this.commit(taskId, { type: "notifyRequested" }, Date.now());
    await this.armAlarm();
    return { task: toView(after!) };
  }

  /**
   * DELETE: the state and the history go at once, and the id is remembered as deleted; the files
   * are unreachable from then on and removed from R2 by the alarm, retried until R2 has done it.
   */
  async delete(taskId: string): Promise<boolean> {
    const task = this.store.load(taskId);
    if (!task) return false;
    const now = Date.now();
    // State first: a runner's report that arrives meanwhile finds no task and removes its object.
    this.store.delete(task, now);
    this.store.scheduleRemoval(taskId, taskKeys(task), now);
    await this.armAlarm();
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
    let call = this.submitting.get(key);
    const created = call === undefined;
    if (!call) {
      call = (async () => {
        const config = readConfig(this.env);
        const provider = { baseUrl: config.SUNO_API_BASE, apiKey: config.SUNO_API_KEY };
        const wavTaskId = await submitWav(provider, { taskId: music.taskId, audioId: music.audioId, callBackUrl });
        this.store.rememberSubmission(music.taskId, music.audioId, wavTaskId, Date.now());
        return { wavTaskId };
      })();
      this.submitting.set(key, call);
      call.finally(() => this.submitting.delete(key)).catch(() => {});
    }
    try {
      return { ...(await call), created };
    } catch (err) {
      // Returned, not thrown: an error crossing RPC keeps only its message.
      if (err instanceof ProviderError) return { providerCode: err.code, providerMsg: err.message };
      throw err;
    }
  }

  // ── Reports from runners ────────────────────────────────────────────────────────────────

  async report(r: RunnerReport): Promise<void> {
    const task = this.store.load(r.taskId);
    const now = Date.now();
    if (!task) {
      // Deleted while the runner worked: whatever it may have written goes too (an interrupted
      // attempt may have committed its object before it died).
      if (r.kind === "transfer") this.store.scheduleRemoval(r.taskId, [r.key, ...writtenBeside(r.key)], now);
      await this.armAlarm();
      return;
    }
    // Only from the task's current runner: one from before a delete and re-registration is stale,
    // and an object it wrote is not this task's (unless this task's own attempt may be writing).
    if (r.runnerId !== this.store.runnerId(r.taskId)) {
      const file = r.kind === "transfer" ? task.files.find((f) => f.name === r.file) : undefined;
      if (r.kind === "transfer" && file?.state !== "stored" && !file?.running) {
        this.store.scheduleRemoval(r.taskId, [r.key, ...writtenBeside(r.key)], now);
        await this.armAlarm();
      }
      return;
    }
    for (const step of reportSteps(task, r)) {
      if (step.note) this.record(r.taskId, now, [step.note]);
      const event = step.event;
      if (event?.type === "transferSucceeded" && !(await this.stillThere(r.taskId, event))) continue;
      if (event) this.commit(r.taskId, event, Date.now());
    }
    await this.armAlarm();
  }

  /**
   * A success reported for an attempt the task no longer waits on (its lease ended, a newer one
   * runs) is credited only if the object that attempt wrote is still the one under the key.
   */
  private async stillThere(taskId: string, e: Extract<TaskEvent, { type: "transferSucceeded" }>): Promise<boolean> {
    const file = this.store.load(taskId)?.files.find((f) => f.name === e.file);
    if (!file || file.running?.epoch === e.epoch) return true;
    const head = await this.env.BUCKET.head(e.stored.key);
    return head !== null && head.size === e.stored.size && (e.stored.etag === undefined || head.etag === e.stored.etag);
  }

  /**
   * A transfer in parts paused at the end of its time slice (README, "Resumable transfers"): the
   * attempt's lease starts again. False when the task no longer wants that attempt (deleted,
   * reopened, another attempt runs): the runner then drops it.
   */
  async progress(p: { taskId: string; runnerId: string; file: string; epoch: number; offset: number; total: number | null }): Promise<boolean> {
    const task = this.store.load(p.taskId);
    const file = task?.files.find((f) => f.name === p.file);
    if (!task || p.runnerId !== this.store.runnerId(p.taskId) || file?.running?.epoch !== p.epoch) return false;
    this.commit(p.taskId, { type: "transferProgress", file: p.file, epoch: p.epoch, offset: p.offset, total: p.total }, Date.now());
    await this.armAlarm();
    return true;
  }

  /** Asked by the runner before it begins a queued transfer: is this attempt still the one wanted? */
  async transferWanted(t: { taskId: string; runnerId: string; file: string; epoch: number }): Promise<boolean> {
    const file = this.store.load(t.taskId)?.files.find((f) => f.name === t.file);
    return t.runnerId === this.store.runnerId(t.taskId) && file?.running?.epoch === t.epoch;
  }

  /** Asked by the runner right before it sends: is this announcement attempt still the one wanted? */
  async announcementWanted(a: { taskId: string; runnerId: string; round: number; attempt: number }): Promise<boolean> {
    const task = this.store.load(a.taskId);
    const n = task?.notification;
    return !!n && a.runnerId === this.store.runnerId(a.taskId) && n.state === "pending" && n.sendingSince !== null && n.round === a.round && n.attempts === a.attempt;
  }

  // ── The alarm: hand due work to runners ─────────────────────────────────────────────────

  override async alarm(): Promise<void> {
    const now = Date.now();
    try {
      readConfig(this.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // Unusable settings: nothing can be handed out until they are fixed. Look again later, not
      // at once (the settings page names the setting).
      console.error(JSON.stringify({ event: "misconfigured", message: "the shard's alarm waits for usable settings" }));
      await this.ctx.storage.setAlarm(now + MISCONFIGURED_RETRY_MS);
      return;
    }
    const due = this.store.dueRuns(now, MAX_RUNS_PER_ALARM);
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const taskId = due[next++]!;
        try {
          await this.dispatch(taskId, now);
        } catch (err) {
          // One task's trouble must not leave the others without their alarm, nor bring the alarm
          // straight back for it: it is looked at again in a minute.
          console.error(`shard: dispatch ${taskId} failed: ${errorText(err, this.env)}`);
          this.store.postponeRun(taskId, Date.now() + DISPATCH_RETRY_MS);
        }
      }
    };
    await Promise.all([...Array.from({ length: RUN_CONCURRENCY }, worker), this.removeDue(now)]);
    // setAlarm last: an alarm set early would suppress the runtime's retries if we threw.
    const at = this.store.nextRunAt();
    if (at !== null) await this.ctx.storage.setAlarm(Math.max(at, Date.now()));
  }

  /** Does what is due for one task, as ../task/dispatch.ts decides, until nothing is. */
  private async dispatch(taskId: string, now: number): Promise<void> {
    const config = readConfig(this.env);
    const ctx = { notify: Boolean(config.NOTIFY_URL), canPoll: Boolean(config.SUNO_API_KEY) };
    // Each step changes what is due (an attempt handed out is not due again), so this ends; the
    // bound is a guard: every file twice (a lost attempt, then the next), and the announcement.
    const task = this.store.load(taskId);
    for (let i = 0; task && i < task.files.length * 2 + 2; i++) {
      const current = this.store.load(taskId);
      const work = current && dueWork(current, now, ctx);
      if (!work) return;
      if (work.type === "apply") this.commit(taskId, work.event, now);
      else if (work.type === "transfer") await this.startTransfer(current, work.file, work.refreshUrl, work.adopt, now);
      else await this.startAnnouncement(taskId, now);
    }
  }

  private async startTransfer(task: Task, name: string, refreshUrl: boolean, adopt: boolean, now: number): Promise<void> {
    const { after } = this.commit(task.taskId, { type: "transferStarted", file: name, refreshUrl }, now);
    const file = after!.files.find((f) => f.name === name)!;
    const epoch = file.running!.epoch;
    const job: RunnerJob = {
      kind: "transfer",
      taskId: task.taskId,
      taskKind: task.kind,
      file: { name, key: kindOf(task.kind).key(task.taskId, name), contentType: file.contentType, source: file.source },
      epoch,
      refreshUrl,
      adopt,
    };
    try {
      await this.runner(task.taskId).start(job);
    } catch (err) {
      console.error(`shard: runner for ${task.taskId} unreachable: ${errorText(err, this.env)}`);
      const error = { code: "runner_unreachable", message: "the transfer could not be started; it will be retried" };
      this.commit(task.taskId, { type: "transferFailed", file: name, epoch, error, retryable: true }, Date.now());
    }
  }

  /** Removes the R2 objects whose removal is due (one batch); what fails is tried again later. */
  private async removeDue(now: number): Promise<void> {
    const due = this.store.dueRemovals(now, REMOVALS_PER_ALARM);
    if (due.length === 0) return;
    // A key the task of its id refers to again (a new life, a file stored since) is kept.
    const live = new Map<string, Set<string>>();
    const liveFor = (taskId: string) => {
      if (!live.has(taskId)) {
        const task = this.store.load(taskId);
        live.set(taskId, task ? liveKeys(task) : new Set());
      }
      return live.get(taskId)!;
    };
    const keep = due.filter((d) => d.taskId !== null && liveFor(d.taskId).has(d.key)).map((d) => d.key);
    this.store.removed(keep);
    const remove = due.map((d) => d.key).filter((k) => !keep.includes(k));
    if (remove.length === 0) return;
    try {
      await this.env.BUCKET.delete(remove);
      this.store.removed(remove);
    } catch (err) {
      console.error(`shard: removing ${remove.length} R2 objects failed: ${errorText(err, this.env)}`);
      for (const d of due) if (remove.includes(d.key)) this.store.postponeRemoval(d.key, Date.now() + removalRetryMs(d.attempts));
    }
  }

  private async startAnnouncement(taskId: string, now: number): Promise<void> {
    const t = this.commit(taskId, { type: "notifyStarted" }, now).after!;
    const n = t.notification;
    const view = toView(t);
    const links = await this.downloadsFor(view);
    const body = announcementBody({ type: n.type!, reachedAt: n.reachedAt!, task: view, ...links });
    if (!this.store.load(taskId)) return; // deleted meanwhile
    try {
      await this.runner(taskId).start({ kind: "announce", taskId, round: n.round, attempt: n.attempts, messageId: n.messageId!, body });
    } catch (err) {
      console.error(`shard: runner for ${taskId} unreachable: ${errorText(err, this.env)}`);
      const current = this.store.load(taskId);
      if (current && current.notification.round === n.round && current.notification.attempts === n.attempts) {
        this.commit(taskId, { type: "notifyAnswered", status: null, outcome: "retry", message: "the runner could not be reached" }, Date.now());
      }
    }
  }

  /**
   * Signed links for the announcement: one per stored file, and a stored WAV task's own link to
   * its WAV (as before tasks had files).
   */
  private async downloadsFor(view: TaskView): Promise<{ download?: { url: string; expiresAt: string }; files?: AnnouncedFile[] }> {
    const config = readConfig(this.env);
    // Without PUBLIC_URL the shard cannot know the worker's address: no links (README says so).
    if (!config.API_TOKEN || !config.PUBLIC_URL) return {};
    const link = (path: string) => makeDownloadLink(config.API_TOKEN!, config.PUBLIC_URL!, path, ANNOUNCEMENT_LINK_TTL_SECONDS);
    const files = await Promise.all(
      view.files.map(async (f) => (f.state === "stored" ? { name: f.name, ...(await link(filePath(view.taskId, f.name))) } : null)),
    );
    const download = view.kind === "wav" && view.state === "stored" ? await link(wavPath(view.taskId)) : undefined;
    return { download, files: files.filter((f): f is AnnouncedFile => f !== null) };
  }

  /** The task's runner, made (with a unique id kept in the row) the first time it is needed. */
  private runner(taskId: string) {
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
          console.error(`poll ${taskId} failed: ${errorText(err, this.env)}`);
          report.errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: POLL_CONCURRENCY }, worker));
    // A lost alarm is found here at the latest: due runs get their alarm back.
    await this.armAlarm();
    this.sessions.prune(now, null); // expired dashboard sessions go within a minute
    return report;
  }

  /** Polls record-info for one pending task, within the provider's 30 s rule. */
  private async pollTask(taskId: string): Promise<{ outcome: PollOutcome; providerCalled: boolean }> {
    const task = this.store.load(taskId);
    const now = Date.now();
    // Pending tasks, and failed ones on their daily look (README, "Task lifecycle and the cron").
    if (!task || (task.state !== "pending" && task.state !== "failed")) return { outcome: "not_due", providerCalled: false };
    if (!mayPoll(task, now)) {
      this.store.save(task); // back in the index at its due time
      return { outcome: "not_due", providerCalled: false };
    }
    const config = readConfig(this.env);
    let answer: PollAnswer;
    if (!config.SUNO_API_KEY) answer = { noKey: true };
    else {
      // Recorded before the call: an overlapping poll sees it and stays away for 30 s.
      this.commit(taskId, { type: "pollStarted" }, now);
      try {
        const record = await getRecord({ baseUrl: config.SUNO_API_BASE, apiKey: config.SUNO_API_KEY }, kindOf(task.kind), taskId);
        answer = { record: await this.staged(task, record) };
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        answer = { providerError: { code: err.code, trouble: err.trouble } };
      }
    }
    const answeredAt = Date.now();
    // Content staged from the answer that the task does not need afterwards is removed again.
    const dropStaged = () => {
      if ("record" in answer && answer.record.status === "said") this.store.scheduleRemoval(taskId, unneededStaged(answer.record.said, this.store.load(taskId)), answeredAt);
    };
    if (!this.store.load(taskId)) {
      dropStaged(); // deleted meanwhile
      // The alarm removes it: POST /retry, which asked, has no task left to arm it for.
      await this.armAlarm();
      return { outcome: "not_due", providerCalled: true };
    }
    const verdict = pollVerdict(task, answer, now, this.context(), (text) => redactText(text, this.env));
    if (verdict.note) this.record(taskId, answeredAt, [verdict.note]);
    this.commit(taskId, verdict.event, answeredAt);
    dropStaged();
    return { outcome: verdict.outcome, providerCalled: !("noKey" in answer) };
  }

  /** A record-info answer with its inline content (MIDI notes, lyrics) staged in R2. */
  private async staged(task: Task, record: Awaited<ReturnType<typeof getRecord>>): Promise<StagedRecord> {
    if (record.status !== "said") return record;
    return { ...record, said: await stageSaid(this.env.BUCKET, task.kind, task.taskId, record.said) };
  }

  // ── Bulk retry (POST /api/tasks/retry?state=failed; README, "Routes") ───────────────────

  /**
   * Reopens at most `limit` of this shard's failed tasks, least recently changed first, as
   * POST /retry does one, but without asking the provider here: a reopened task without a file
   * to fetch is polled by the next cron tick, a transfer is handed out by the alarm. `remaining`
   * counts the tasks still failed afterwards.
   */
  async retryFailed(limit: number): Promise<{ retried: number; remaining: number }> {
    const now = Date.now();
    let retried = 0;
    for (const taskId of this.store.failedTaskIds(limit)) {
      const { before, after } = this.commit(taskId, { type: "retryRequested", bulk: true }, now);
      if (before?.state === "failed" && after !== before) retried++;
    }
    if (retried > 0) await this.armAlarm();
    return { retried, remaining: this.store.countInState("failed") };
  }

  // ── The shell ───────────────────────────────────────────────────────────────────────────

  /**
   * Loads, applies, and saves when something changed, with the history entries the change means
   * (synchronously: one transaction). Only a registration makes a task here (a callback does in
   * ingest): an event for a task deleted while its poll or report was under way must not bring
   * it back.
   */
  private commit(taskId: string, event: TaskEvent, now: number): { before: Task | null; after: Task | null } {
    const before = this.store.load(taskId);
    if (!before && event.type !== "registered") return { before, after: null };
    const after = apply(before, taskId, event, now, this.context());
    if (after !== null && after !== before) {
      this.store.save(after);
      this.store.recordChange(before, after, now);
      // Staged content whose files are all stored now is removed (from the alarm).
      this.store.scheduleRemoval(taskId, releasedKeys(before, after), now);
    }
    this.record(taskId, now, meaningOf(before, event, after));
    return { before, after };
  }

  private record(taskId: string, at: number, notes: HistoryNote[]): void {
    for (const note of notes) this.store.addHistory(taskId, at, note);
  }

  /** Makes sure the alarm fires no later than the earliest due run (not for use inside alarm()). */
  private async armAlarm(): Promise<void> {
    const at = this.store.nextRunAt();
    if (at === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  private context(): MachineContext {
    const c = readConfig(this.env);
    return {
      overdueAfterMs: c.OVERDUE_AFTER_SECONDS * 1000,
      maxAgeMs: c.TASK_MAX_AGE_SECONDS * 1000,
      retentionMs: c.PROVIDER_RETENTION_SECONDS * 1000,
      notify: Boolean(c.NOTIFY_URL),
      newMessageId,
    };
  }

  // ── Dashboard sessions (README, "Dashboard" → "How a session works") ────────────────────
  // `id` is the SHA-256 of the cookie's session id; `fps` the fingerprints of the API tokens
  // accepted now: a session started with a token no longer accepted has ended.

  async startSession(row: SessionRow, fps: string[]): Promise<void> {
    this.sessions.prune(row.createdAt, fps);
    this.sessions.insert(row);
  }

  /** The live session, its last-seen time written at most once a minute; null (and gone) once ended. */
  async session(id: string, fps: string[], now: number): Promise<SessionRow | null> {
    const row = this.sessions.get(id);
    if (!row) return null;
    if (row.expiresAt <= now || !fps.includes(row.tokenFp)) {
      this.sessions.delete(id);
      return null;
    }
    if (now - row.lastSeen >= SESSION_SEEN_RESOLUTION_MS) {
      this.sessions.touch(id, now);
      row.lastSeen = now;
    }
    return row;
  }

  async endSession(id: string): Promise<boolean> {
    return this.sessions.delete(id);
  }

  /** This shard's live sessions (ended ones are removed first). */
  async liveSessions(fps: string[], now: number): Promise<SessionRow[]> {
    this.sessions.prune(now, fps);
    return this.sessions.all();
  }

  async endAllSessions(): Promise<number> {
    return this.sessions.deleteAll();
  }
}

/** Objects a transfer may write beside a file (a WAV's waveform). */
function writtenBeside(key: string): string[] {
  return [peaksKey(key)];
}

/** How long a task whose dispatch threw waits before the alarm tries it again. */
const DISPATCH_RETRY_MS = 60_000;

/** Backoff for an R2 removal that failed: 30 s, 1 min, 2 min, … at most an hour. */
function removalRetryMs(attempts: number): number {
  return Math.min(30_000 * 2 ** attempts, 3_600_000);
}
