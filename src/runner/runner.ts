// A task's runner: the Durable Object that does the task's outbound work — each file's transfer
// into R2 and the announcements to the user's app — from its own alarm, away from the shard that
// owns the task's state, and reports each outcome back to that shard. Its id comes from
// newUniqueId() and is kept in the task's row, so making one costs no global name check; the
// shard makes it from its alarm, never on a callback's acknowledgement path.
//
// Everything it knows is in its own SQLite tables (see ../storage/layout.ts):
//   jobs       one row per slot (a file's transfer, the announcement): queued → running, deleted
//              once the shard has the report (kept as done, with the report, while the shard
//              cannot be reached). A row found `running` when the alarm starts was cut off by a
//              dead isolate: that is how an interrupted attempt is recognised, from durable state.
//   multipart  multipart uploads in progress; one left behind by a dead attempt is aborted.

import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import { kindOf } from "../kinds";
import { errorText } from "../lib/redact";
import { deliverAnnouncement } from "../notify/deliver";
import { getRecord, ProviderError } from "../provider/client";
import { shardFor } from "../shard/shards";
import { jobSlot, type AnnounceJob, type AnnounceReport, type RunnerJob, type RunnerReport, type TransferJob, type TransferReport } from "../task/jobs";
import { adoptStored, transferFile } from "../transfer/transfer";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS jobs (
     kind   TEXT PRIMARY KEY,   -- the job's slot: 'transfer:<file>' | 'announce'
     job    TEXT NOT NULL,      -- RunnerJob JSON
     phase  TEXT NOT NULL,      -- 'queued' | 'running' | 'done'
     report TEXT                -- RunnerReport JSON once done
   ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS multipart (
     upload_id TEXT PRIMARY KEY,
     key       TEXT NOT NULL      -- the file's R2 key
   ) WITHOUT ROWID`,
];

/** Uploads recorded before tasks had files (table uploads: upload_id, task_id) were WAVs. */
const UPGRADE = [
  `INSERT OR IGNORE INTO multipart (upload_id, key) SELECT upload_id, 'wav/' || task_id || '.wav' FROM uploads`,
  `DROP TABLE uploads`,
];

/** How soon to try again to hand a report to the shard when it could not be reached. */
const REPORT_RETRY_MS = 30_000;

type JobRow = { kind: string; job: string; phase: "queued" | "running" | "done"; report: string | null };

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
    let reportFailed = false;
    // Jobs queued while one runs are picked up by the same loop.
    for (let row = this.nextRow(); row !== null; row = this.nextRow()) {
      const job = JSON.parse(row.job) as RunnerJob;
      if (job.kind === "transfer" && !job.file) {
        // A job of the version before tasks had files: the shard hands out its attempt anew.
        this.sql.exec("DELETE FROM jobs WHERE kind = ?", row.kind);
        continue;
      }
      // `running` here means the alarm that set it never finished: its isolate died.
      const report =
        row.phase === "done" ? (JSON.parse(row.report!) as RunnerReport) : row.phase === "running" ? interruptedReport(job, this.id) : await this.run(row.kind, job);
      if (await this.sendReport(report)) {
        // Forgotten once the shard has it (unless a newer job replaced it meanwhile).
        this.sql.exec("DELETE FROM jobs WHERE kind = ? AND job = ?", row.kind, row.job);
      } else {
        // Kept with its report, so the next alarm hands it over without doing the work again.
        this.sql.exec("UPDATE jobs SET phase = 'done', report = ? WHERE kind = ? AND job = ?", JSON.stringify(report), row.kind, row.job);
        reportFailed = true;
        break;
      }
    }
    // setAlarm last: an alarm set early would suppress the runtime's retries if we threw.
    if (reportFailed) await this.ctx.storage.setAlarm(Date.now() + REPORT_RETRY_MS);
  }

  private nextRow(): JobRow | null {
    return this.sql.exec<JobRow>("SELECT * FROM jobs ORDER BY kind DESC LIMIT 1").toArray()[0] ?? null;
  }

  /** Marks the job running (durably, before any outbound work) and does it. */
  private async run(slot: string, job: RunnerJob): Promise<RunnerReport> {
    this.sql.exec("UPDATE jobs SET phase = 'running' WHERE kind = ?", slot);
    return job.kind === "transfer" ? this.transfer(job) : this.announce(job);
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

  private async transfer(job: TransferJob): Promise<TransferReport> {
    const config = readConfig(this.env);
    await this.abortLeftoverUploads(job.file.key);
    const report = { kind: "transfer", taskId: job.taskId, runnerId: this.id, file: job.file.name, key: job.file.key, epoch: job.epoch } as const;

    let file = job.file;
    let refresh: TransferReport["refresh"];
    if (job.refreshUrl) {
      refresh = await this.currentUrls(job);
      const url = refresh.urls[file.name];
      if (url && "url" in file.source) file = { ...file, source: { url } };
    }

    if (job.adopt) {
      // The dead attempt may have committed the object just before it died.
      try {
        const adopted = await adoptStored(this.env.BUCKET, job.taskId, file);
        if (adopted) return { ...report, refresh, result: { ok: true, stored: adopted } };
      } catch (err) {
        // Reading it back failed: fetch afresh rather than spend an attempt on it.
        console.warn(`transfer ${job.taskId} ${file.name}: adopting the stored object failed (${errorText(err, this.env)}); fetching again`);
      }
    }

    const wav = file.contentType === "audio/wav";
    const result = await transferFile({
      taskId: job.taskId,
      file,
      bucket: this.env.BUCKET,
      allowlist: config.WAV_SOURCE_HOSTS,
      maxBytes: wav ? config.MAX_WAV_BYTES : config.MAX_FILE_BYTES,
      maxSetting: wav ? "MAX_WAV_BYTES" : "MAX_FILE_BYTES",
      idleTimeoutMs: config.SOURCE_IDLE_TIMEOUT_SECONDS * 1000,
      onMultipartUpload: (uploadId) => {
        if (uploadId !== null) this.sql.exec("INSERT OR REPLACE INTO multipart (upload_id, key) VALUES (?, ?)", uploadId, file.key);
        else this.sql.exec("DELETE FROM multipart WHERE key = ?", file.key);
      },
    });
    if (!result.ok) console.warn(`transfer ${job.taskId} ${file.name}: ${result.error.code}: ${result.error.message}`);
    return { ...report, refresh, result };
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

  /** A multipart upload a dead attempt left behind is aborted before the next one starts. */
  private async abortLeftoverUploads(key: string): Promise<void> {
    const rows = this.sql.exec<{ upload_id: string }>("SELECT upload_id FROM multipart WHERE key = ?", key).toArray();
    for (const { upload_id } of rows) {
      try {
        await this.env.BUCKET.resumeMultipartUpload(key, upload_id).abort();
      } catch {
        // Already completed or aborted, or expired by R2: nothing is left to clean up.
      }
      this.sql.exec("DELETE FROM multipart WHERE upload_id = ?", upload_id);
    }
  }

  private async announce(job: AnnounceJob): Promise<AnnounceReport> {
    const config = readConfig(this.env);
    const base = { kind: "announce", taskId: job.taskId, runnerId: this.id, round: job.round, attempt: job.attempt } as const;
    if (!config.NOTIFY_URL || !config.NOTIFY_SECRET) {
      return { ...base, status: null, outcome: "retry", message: "NOTIFY_URL is no longer set" };
    }
    const r = await deliverAnnouncement({ url: config.NOTIFY_URL, secret: config.NOTIFY_SECRET, id: job.messageId, body: job.body });
    return { ...base, status: r.status, outcome: r.outcome, message: r.message };
  }
}

function interruptedReport(job: RunnerJob, runnerId: string): RunnerReport {
  if (job.kind === "transfer") {
    return { kind: "transfer", taskId: job.taskId, runnerId, file: job.file.name, key: job.file.key, epoch: job.epoch, result: { ok: false, interrupted: true } };
  }
  return { kind: "announce", taskId: job.taskId, runnerId, round: job.round, attempt: job.attempt, status: null, outcome: "retry", message: "the attempt was interrupted" };
}
