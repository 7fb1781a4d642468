// A task's runner: the Durable Object that does the task's outbound work — each file's transfer
// into R2 and the announcements to the user's app — from its own alarm, away from the shard that
// owns the task's state, and reports each outcome back to that shard. Its id comes from
// newUniqueId() and is kept in the task's row, so making one costs no global name check; the
// shard makes it from its alarm, never on a callback's acknowledgement path.
//
// An invocation works for at most TRANSFER_SLICE_SECONDS: then it starts no new part (nor job),
// and the same attempt goes on from the runner's next alarm, right away (README, "Resumable
// transfers"). Everything it knows is in its own SQLite tables (see ../storage/layout.ts):
//   jobs         one row per slot (a file's transfer, the announcement): queued → running →
//                (paused → running …) → deleted once the shard has the report (kept as done, with
//                the report, while the shard cannot be reached). A row found `running` when the
//                alarm starts was cut off by a dead isolate: that is how an interrupted attempt is
//                recognised, from durable state — and whether it got anywhere, from its checkpoint.
//   checkpoints  one per file being uploaded in parts: the upload id and every part R2 has.
//   stale_uploads  uploads left by the version before checkpoints, aborted before the next attempt.

import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import { kindOf } from "../kinds";
import { CONTENT_TYPES } from "../kinds/kind";
import { errorText } from "../lib/redact";
import { deliverAnnouncement } from "../notify/deliver";
import { getRecord, ProviderError } from "../provider/client";
import { TRANSFERS_AT_ONCE } from "../task/dispatch";
import { shardFor } from "../shard/shards";
import { jobSlot, type AnnounceJob, type AnnounceReport, type RunnerJob, type RunnerReport, type TransferJob, type TransferReport } from "../task/jobs";
import { adoptStored, checkpointOffset, transferFile, type Checkpoint, type Checkpoints, type TransferOutcome } from "../transfer/transfer";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS jobs (
     kind   TEXT PRIMARY KEY,   -- the job's slot: 'transfer:<file>' | 'announce'
     job    TEXT NOT NULL,      -- RunnerJob JSON
     phase  TEXT NOT NULL,      -- 'queued' | 'running' | 'paused' | 'done'
     report TEXT                -- RunnerReport JSON once done
   ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS checkpoints (
     key        TEXT PRIMARY KEY,  -- the file's R2 key
     checkpoint TEXT NOT NULL,     -- Checkpoint JSON (../transfer/transfer.ts)
     slice_from INTEGER NOT NULL DEFAULT 0  -- where the running slice began: progress since then?
   ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS stale_uploads (
     upload_id TEXT PRIMARY KEY,
     key       TEXT NOT NULL
   ) WITHOUT ROWID`,
];

/** Uploads the version before checkpoints recorded (table uploads: upload_id, task_id) were WAVs. */
const UPGRADE = [
  `INSERT OR IGNORE INTO stale_uploads (upload_id, key) SELECT upload_id, 'wav/' || task_id || '.wav' FROM uploads`,
  `DROP TABLE uploads`,
];

/** How soon to try again to hand a report to the shard when it could not be reached. */
const REPORT_RETRY_MS = 30_000;
/** Jobs of the task worked on at once: a slow file does not hold up its siblings. */
const JOBS_AT_ONCE = TRANSFERS_AT_ONCE;

type JobRow = { kind: string; job: string; phase: "queued" | "running" | "paused" | "done"; report: string | null };

export class TaskRunner extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  /** This runner's id, as the task's row keeps it. */
  private readonly id: string;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.id = ctx.id.toString();
    for (const statement of SCHEMA) this.sql.exec(statement);
    if (this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'uploads'").toArray().length > 0) {
      for (const statement of UPGRADE) this.sql.exec(statement);
    }
  }

  /** Queues a job (replacing an older one in its slot) and wakes the alarm to run it. */
  async start(job: RunnerJob): Promise<void> {
    this.sql.exec("INSERT OR REPLACE INTO jobs (kind, job, phase, report) VALUES (?, ?, 'queued', NULL)", jobSlot(job), JSON.stringify(job));
    const now = Date.now();
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > now) await this.ctx.storage.setAlarm(now);
  }

  override async alarm(): Promise<void> {
    const sliceEndsAt = Date.now() + readConfig(this.env).TRANSFER_SLICE_SECONDS * 1000;
    let next: number | null = null;
    const later = (at: number) => {
      next = next === null ? at : Math.min(next, at);
    };
    // Slots taken by a worker of this invocation; a job queued meanwhile is picked up too.
    const taken = new Set<string>();
    const worker = async () => {
      for (let row = this.nextRow(taken); row !== null; row = this.nextRow(taken)) {
        if (Date.now() >= sliceEndsAt) return later(Date.now()); // the rest in a fresh invocation, right away
        taken.add(row.kind);
        const job = JSON.parse(row.job) as RunnerJob;
        if (job.kind === "transfer" && !job.file) {
          // A job of the version before tasks had files: the shard hands out its attempt anew.
          this.sql.exec("DELETE FROM jobs WHERE kind = ?", row.kind);
          continue;
        }
        let outcome: RunnerReport | "paused" | "dropped";
        try {
          outcome = await this.step(row, job, sliceEndsAt);
        } catch (err) {
          // Trouble of our own (not the source's or R2's, which are outcomes): a failed attempt,
          // reported like any other, rather than an alarm that throws with its siblings running.
          console.error(`runner: ${row.kind} of ${job.taskId} failed: ${errorText(err, this.env)}`);
          outcome = failedReport(job, this.id, errorText(err, this.env));
          // What it was going on from may be the cause: the next attempt starts afresh.
          if (job.kind === "transfer") await this.forgetUpload(job.file.key);
        }
        if (outcome === "paused") later(Date.now());
        else if (outcome === "dropped") continue;
        else if (await this.sendReport(outcome)) {
          // Forgotten once the shard has it (unless a newer job replaced it meanwhile).
          this.sql.exec("DELETE FROM jobs WHERE kind = ? AND job = ?", row.kind, row.job);
        } else {
          // Kept with its report, so the next alarm hands it over without doing the work again.
          this.sql.exec("UPDATE jobs SET phase = 'done', report = ? WHERE kind = ? AND job = ?", JSON.stringify(outcome), row.kind, row.job);
          later(Date.now() + REPORT_RETRY_MS);
        }
      }
    };
    await Promise.all(Array.from({ length: JOBS_AT_ONCE }, worker));
    // A job queued while its slot's previous one ran here is for a fresh invocation, right away.
    if (this.sql.exec("SELECT 1 FROM jobs WHERE phase = 'queued' LIMIT 1").toArray().length > 0) later(Date.now());
    // setAlarm last: an alarm set early would suppress the runtime's retries if we threw.
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  /** The next job no worker of this invocation has taken: transfers first, a paused one first of all. */
  private nextRow(taken: ReadonlySet<string>): JobRow | null {
    const rows = this.sql.exec<JobRow>("SELECT * FROM jobs ORDER BY phase = 'paused' DESC, kind DESC").toArray();
    return rows.find((r) => !taken.has(r.kind)) ?? null;
  }

  /** One row's work: its report, "paused" (to go on in a fresh invocation), or "dropped". */
  private async step(row: JobRow, job: RunnerJob, sliceEndsAt: number): Promise<RunnerReport | "paused" | "dropped"> {
    if (row.phase === "done") return JSON.parse(row.report!) as RunnerReport;
    if (row.phase === "running") {
      // The alarm that set `running` never finished: its isolate died. A transfer whose checkpoint
      // advanced since that slice began made progress and simply goes on; otherwise the attempt
      // was interrupted (a failure, with the usual backoff).
      if (job.kind !== "transfer" || !this.advanced(job.file.key)) return interruptedReport(job, this.id);
    }
    // Every statement names the job too: start() may have put a newer job in the slot meanwhile.
    this.sql.exec("UPDATE jobs SET phase = 'running' WHERE kind = ? AND job = ?", row.kind, row.job);
    if (job.kind === "announce") {
      const report = await this.announce(job);
      if (report) return report;
      return this.drop(row, job);
    }
    // A queued attempt the task no longer wants (deleted, its file stored, a newer attempt handed
    // out while this runner could not be reached) is not begun.
    if (row.phase === "queued" && !(await this.transferWanted(job))) return this.drop(row, job);
    const outcome = await this.transfer(job, row.phase === "queued", sliceEndsAt);
    if ("report" in outcome) return outcome.report;
    // Paused: tell the shard (it renews the attempt's lease); a task that moved on drops it.
    if (!(await this.progress(job, outcome.paused.offset, outcome.paused.total))) return this.drop(row, job);
    this.sql.exec("UPDATE jobs SET phase = 'paused' WHERE kind = ? AND job = ?", row.kind, row.job);
    return "paused";
  }

  /**
   * Forgets a job the task no longer wants. A transfer's upload in parts is aborted with it —
   * unless a newer job for the same file took the slot meanwhile and goes on from it.
   */
  private async drop(row: JobRow, job: RunnerJob): Promise<"dropped"> {
    this.sql.exec("DELETE FROM jobs WHERE kind = ? AND job = ?", row.kind, row.job);
    const replaced = this.sql.exec("SELECT 1 FROM jobs WHERE kind = ?", row.kind).toArray().length > 0;
    if (job.kind === "transfer" && !replaced) await this.forgetUpload(job.file.key);
    return "dropped";
  }

  /** Aborts a file's upload in parts (if its checkpoint can say which) and forgets the checkpoint. */
  private async forgetUpload(key: string): Promise<void> {
    let uploadId: unknown;
    try {
      uploadId = this.checkpointsFor(key).load()?.uploadId;
    } catch {
      // Unreadable: R2 expires an upload left behind after 7 days.
    }
    if (typeof uploadId === "string") await this.env.BUCKET.resumeMultipartUpload(key, uploadId).abort().catch(() => {});
    this.checkpointsFor(key).clear();
  }

  /** Whether the file's checkpoint moved on since its last slice began. */
  private advanced(key: string): boolean {
    const row = this.sql.exec<{ checkpoint: string; slice_from: number }>("SELECT checkpoint, slice_from FROM checkpoints WHERE key = ?", key).toArray()[0];
    return row !== undefined && checkpointOffset(JSON.parse(row.checkpoint) as Checkpoint) > row.slice_from;
  }

  /** Hands a report to the task's shard; false when the shard could not be reached. */
  private async sendReport(report: RunnerReport): Promise<boolean> {
    try {
      await shardFor(this.env, report.taskId).report(report);
      return true;
    } catch (err) {
      console.error(`runner: report for ${report.taskId} not delivered: ${errorText(err, this.env)}`);
      return false;
    }
  }

  /** Whether the task still wants this transfer attempt; true when its shard cannot say. */
  private async transferWanted(job: TransferJob): Promise<boolean> {
    try {
      return await shardFor(this.env, job.taskId).transferWanted({ taskId: job.taskId, runnerId: this.id, file: job.file.name, epoch: job.epoch });
    } catch (err) {
      console.error(`runner: could not ask whether ${job.taskId}'s transfer is still wanted: ${errorText(err, this.env)}`);
      return true;
    }
  }

  /** A paused transfer's progress, for the shard; false when the attempt is no longer wanted. */
  private async progress(job: TransferJob, offset: number, total: number | null): Promise<boolean> {
    try {
      return await shardFor(this.env, job.taskId).progress({ taskId: job.taskId, runnerId: this.id, file: job.file.name, epoch: job.epoch, offset, total });
    } catch (err) {
      // Unreachable now: go on anyway; the next slice tells it again.
      console.error(`runner: progress of ${job.taskId} not delivered: ${errorText(err, this.env)}`);
      return true;
    }
  }

  /**
   * One slice of a transfer attempt. A fresh attempt (`first`) first adopts what an interrupted
   * one may have committed — before any link refresh, which would change the source the object's
   * metadata names — then asks record-info for current URLs when the shard said to.
   */
  private async transfer(job: TransferJob, first: boolean, sliceEndsAt: number): Promise<{ report: TransferReport } | { paused: { offset: number; total: number | null } }> {
    const config = readConfig(this.env);
    await this.abortStaleUploads(job.file.key);
    const report = { kind: "transfer", taskId: job.taskId, runnerId: this.id, file: job.file.name, key: job.file.key, epoch: job.epoch } as const;

    if (first && job.adopt && !this.hasCheckpoint(job.file.key)) {
      // The dead attempt may have committed the object just before it died.
      try {
        const adopted = await adoptStored(this.env.BUCKET, job.taskId, job.file);
        if (adopted) return { report: { ...report, result: { ok: true, stored: adopted } } };
      } catch (err) {
        // Reading it back failed: fetch afresh rather than spend an attempt on it.
        console.warn(`transfer ${job.taskId} ${job.file.name}: adopting the stored object failed (${errorText(err, this.env)}); fetching again`);
      }
    }

    let file = job.file;
    let refresh: TransferReport["refresh"];
    if (first && job.refreshUrl) {
      refresh = await this.currentUrls(job);
      const url = refresh.urls[file.name];
      if (url && "url" in file.source) file = { ...file, source: { url } };
    }

    const wav = file.contentType === CONTENT_TYPES.wav;
    this.sql.exec("UPDATE checkpoints SET slice_from = ? WHERE key = ?", this.offsetOf(file.key), file.key);
    const outcome: TransferOutcome = await transferFile({
      taskId: job.taskId,
      file,
      bucket: this.env.BUCKET,
      allowlist: config.WAV_SOURCE_HOSTS,
      maxBytes: wav ? config.MAX_WAV_BYTES : config.MAX_FILE_BYTES,
      maxSetting: wav ? "MAX_WAV_BYTES" : "MAX_FILE_BYTES",
      idleTimeoutMs: config.SOURCE_IDLE_TIMEOUT_SECONDS * 1000,
      checkpoints: this.checkpointsFor(file.key),
      sliceEndsAt,
      waveform: config.WAVEFORM_PEAKS,
      inParts: job.adopt,
    });
    if ("paused" in outcome) return outcome;
    if (!outcome.ok) console.warn(`transfer ${job.taskId} ${file.name}: ${outcome.error.code}: ${outcome.error.message}`);
    return { report: { ...report, refresh, result: outcome } };
  }

  /** The checkpoint of one file, in this runner's SQLite (saved after every part R2 has). */
  private checkpointsFor(key: string): Checkpoints {
    return {
      load: () => {
        const row = this.sql.exec<{ checkpoint: string }>("SELECT checkpoint FROM checkpoints WHERE key = ?", key).toArray()[0];
        return row ? (JSON.parse(row.checkpoint) as Checkpoint) : null;
      },
      save: (cp) => {
        this.sql.exec(
          "INSERT INTO checkpoints (key, checkpoint, slice_from) VALUES (?, ?, 0) ON CONFLICT (key) DO UPDATE SET checkpoint = excluded.checkpoint",
          key,
          JSON.stringify(cp),
        );
      },
      clear: () => {
        this.sql.exec("DELETE FROM checkpoints WHERE key = ?", key);
      },
    };
  }

  private hasCheckpoint(key: string): boolean {
    return this.checkpointsFor(key).load() !== null;
  }

  private offsetOf(key: string): number {
    const cp = this.checkpointsFor(key).load();
    return cp ? checkpointOffset(cp) : 0;
  }

  /** record-info's current URLs for the task's files (the shard has checked the 30 s poll rule). */
  private async currentUrls(job: TransferJob): Promise<NonNullable<TransferReport["refresh"]>> {
    const config = readConfig(this.env);
    try {
      const record = await getRecord({ baseUrl: config.SUNO_API_BASE, apiKey: config.SUNO_API_KEY }, kindOf(job.taskKind), job.taskId);
      if (record.status === "unknown") return { urls: {}, error: record.message };
      const urls: Record<string, string> = {};
      if (record.status === "said" && record.said.type === "files") {
        for (const f of record.said.files) if ("url" in f.source) urls[f.name] = f.source.url;
      }
      return { urls, flag: record.flag };
    } catch (err) {
      return { urls: {}, error: err instanceof ProviderError ? `provider code ${err.code}` : "provider unreachable" };
    }
  }

  /** Uploads the version before checkpoints left behind are aborted before the next attempt. */
  private async abortStaleUploads(key: string): Promise<void> {
    const rows = this.sql.exec<{ upload_id: string }>("SELECT upload_id FROM stale_uploads WHERE key = ?", key).toArray();
    for (const { upload_id } of rows) {
      try {
        await this.env.BUCKET.resumeMultipartUpload(key, upload_id).abort();
      } catch {
        // Already completed or aborted, or expired by R2: nothing is left to clean up.
      }
      this.sql.exec("DELETE FROM stale_uploads WHERE upload_id = ?", upload_id);
    }
  }

  /**
   * One announcement attempt — unless the task no longer wants it (deleted, reopened, another
   * round): the shard is asked right before sending. Null when dropped.
   */
  private async announce(job: AnnounceJob): Promise<AnnounceReport | null> {
    const config = readConfig(this.env);
    const base = { kind: "announce", taskId: job.taskId, runnerId: this.id, round: job.round, attempt: job.attempt } as const;
    if (!config.NOTIFY_URL || !config.NOTIFY_SECRET) {
      return { ...base, status: null, outcome: "retry", message: "NOTIFY_URL is no longer set" };
    }
    let wanted = true;
    try {
      wanted = await shardFor(this.env, job.taskId).announcementWanted({ taskId: job.taskId, runnerId: this.id, round: job.round, attempt: job.attempt });
    } catch (err) {
      // The shard cannot say: send (an announcement is at least once; the app drops duplicates by id).
      console.error(`runner: could not ask whether ${job.taskId}'s announcement is still wanted: ${errorText(err, this.env)}`);
    }
    if (!wanted) return null;
    const r = await deliverAnnouncement({ url: config.NOTIFY_URL, secret: config.NOTIFY_SECRET, id: job.messageId, body: job.body });
    return { ...base, status: r.status, outcome: r.outcome, message: r.message };
  }
}

/** An attempt that threw: retried with the usual backoff, like trouble with the source or R2. */
function failedReport(job: RunnerJob, runnerId: string, message: string): RunnerReport {
  if (job.kind === "transfer") {
    const error = { code: "runner_error", message: `the transfer failed: ${message}` };
    return { kind: "transfer", taskId: job.taskId, runnerId, file: job.file.name, key: job.file.key, epoch: job.epoch, result: { ok: false, error, retryable: true } };
  }
  return { kind: "announce", taskId: job.taskId, runnerId, round: job.round, attempt: job.attempt, status: null, outcome: "retry", message: `the attempt failed: ${message}` };
}

function interruptedReport(job: RunnerJob, runnerId: string): RunnerReport {
  if (job.kind === "transfer") {
    return { kind: "transfer", taskId: job.taskId, runnerId, file: job.file.name, key: job.file.key, epoch: job.epoch, result: { ok: false, interrupted: true } };
  }
  return { kind: "announce", taskId: job.taskId, runnerId, round: job.round, attempt: job.attempt, status: null, outcome: "retry", message: "the attempt was interrupted" };
}
