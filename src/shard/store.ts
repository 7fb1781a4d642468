// A typed helper over one shard's SQLite storage. The tables are documented in
// ../storage/layout.ts; every statement that touches them is here.

import type { KindName } from "../kinds/kind";
import type { HistoryEntry, HistoryNote } from "../task/history";
import { filesDueAt, type Task, type TaskState } from "../task/machine";
import { readTask } from "../task/upgrade";
import { refsChanged, refsOf } from "../task/refs";
import { dayOf, hourOf, statChanges, WINDOW_DAYS, WINDOW_HOURS, type Metric } from "../task/stats";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS tasks (
     task_id    TEXT PRIMARY KEY,
     state      TEXT    NOT NULL,
     created_at INTEGER NOT NULL,
     kind       TEXT NOT NULL DEFAULT 'wav',  -- wav, music, stems, …, for ?kind= listings
     audio_id   TEXT,              -- the track (music.audioId), for ?audioId= listings
     poll_at    INTEGER,           -- pending: when the cron polls it next; else null
     run_at     INTEGER,           -- when the shard's alarm hands work to the runner; else null
     runner_id  TEXT,              -- the task's TaskRunner (newUniqueId), made on first use
     data       TEXT    NOT NULL   -- the whole Task (../task/machine.ts) as JSON
   ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS tasks_poll ON tasks (poll_at) WHERE poll_at IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS tasks_run ON tasks (run_at) WHERE run_at IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS tasks_created ON tasks (created_at, task_id)`,
  `CREATE INDEX IF NOT EXISTS tasks_state_created ON tasks (state, created_at, task_id)`,
  `CREATE INDEX IF NOT EXISTS tasks_audio_created ON tasks (audio_id, created_at, task_id) WHERE audio_id IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS tasks_kind_created ON tasks (kind, created_at, task_id)`,
  `CREATE TABLE IF NOT EXISTS events (
     task_id TEXT    NOT NULL,
     seq     INTEGER NOT NULL,
     at      INTEGER NOT NULL,
     type    TEXT    NOT NULL,
     detail  TEXT    NOT NULL,   -- JSON object of the history entry's other fields
     PRIMARY KEY (task_id, seq)
   ) WITHOUT ROWID`,
  // A verified signature is HMAC(key, "<task_id>.<timestamp>"): exactly one valid signature exists
  // per task and timestamp, so the pair identifies it (whatever base64 spelling was sent). The
  // provider's stages (music: text, first, complete) may come within one second, so under the same
  // signature each stage is remembered on its own.
  `CREATE TABLE IF NOT EXISTS signed_stages (
     task_id   TEXT    NOT NULL,
     signed_at INTEGER NOT NULL,  -- X-Webhook-Timestamp
     stage     TEXT    NOT NULL,  -- text | first | complete | failed
     result    TEXT    NOT NULL,  -- what the callback said, to tell a replay from a duplicate
     PRIMARY KEY (task_id, signed_at, stage)
   ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS signed_stages_at ON signed_stages (signed_at)`,
  // Its predecessor, keyed without the stage: its rows lived 600 s.
  `DROP TABLE IF EXISTS signed_callbacks`,
  `CREATE TABLE IF NOT EXISTS deleted (
     task_id    TEXT PRIMARY KEY,
     deleted_at INTEGER NOT NULL,
     epoch      INTEGER NOT NULL DEFAULT 0  -- the task's last epoch: a new life counts on from it
   ) WITHOUT ROWID`,
  // R2 objects to remove (a deleted task's files, content staged for files now stored), retried
  // from the alarm until R2 has removed them.
  `CREATE TABLE IF NOT EXISTS removals (
     key      TEXT PRIMARY KEY,
     due_at   INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     task_id  TEXT  -- whose key it is: a task of that id that refers to the key again keeps it
   ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS removals_due ON removals (due_at)`,
  `CREATE TABLE IF NOT EXISTS submissions (
     music_task_id TEXT    NOT NULL,
     audio_id      TEXT    NOT NULL,
     wav_task_id   TEXT    NOT NULL,
     created_at    INTEGER NOT NULL,
     PRIMARY KEY (music_task_id, audio_id)
   ) WITHOUT ROWID`,
];

// The charts' counters and the search index (README, "Dashboard": "Charts", "Find a task"), kept
// as tasks change (../task/stats.ts, ../task/refs.ts), so reading them never scans the tasks.
const COUNTER_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS stat_hours (
     hour   INTEGER NOT NULL,           -- unix time / 3600 (UTC hours)
     metric TEXT    NOT NULL,           -- stored | failed | delivered_first | delivered_retried | delivery_failed
     code   TEXT    NOT NULL DEFAULT '', -- failed: the task's error code; else ''
     n      INTEGER NOT NULL,
     PRIMARY KEY (hour, metric, code)
   ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS stat_durations (
     day    INTEGER NOT NULL,  -- unix time / 86400 (UTC days) of reaching stored
     bucket INTEGER NOT NULL,  -- log-scale bucket of createdAt → stored (../task/stats.ts)
     n      INTEGER NOT NULL,
     PRIMARY KEY (day, bucket)
   ) WITHOUT ROWID`,
];
const REFS_TABLE = `CREATE TABLE task_refs (
     ref     TEXT NOT NULL,  -- a music task's track id, or the music task id a task was registered for
     task_id TEXT NOT NULL,
     field   TEXT NOT NULL,  -- track | musicTaskId
     PRIMARY KEY (ref, task_id, field)
   ) WITHOUT ROWID`;
const REFS_INDEX = `CREATE INDEX IF NOT EXISTS task_refs_task ON task_refs (task_id)`;
/** A shard answers at most this many tasks for each way a search can match. */
const SEARCH_LIMIT_MAX = 101;

/** History kept per task (README, "Notifications" → "History"). */
const MAX_HISTORY_PER_TASK = 200;
/**
 * How long an accepted signature is remembered. A replay needs a timestamp within the 300 s
 * window (older ones are refused as stale before they get here), so twice that is plenty.
 */
const SIGNATURE_MEMORY_SECONDS = 600;

export interface ListQuery {
  state?: TaskState;
  kind?: KindName;
  audioId?: string;
  /** Only tasks strictly older than this position (newest first). */
  before?: { createdAt: number; taskId: string };
  limit: number;
}

/** One shard's counters in the charts' window, as ../shard/charts.ts adds them up. */
export interface ShardCounters {
  hours: { hour: number; metric: Metric; code: string; n: number }[];
  durations: { day: number; bucket: number; n: number }[];
}

/** How a search matched a task: its id, its audioId, a music task's track, its music task. */
export type SearchField = "taskId" | "audioId" | "track" | "musicTaskId";

/** Columns added after a table was first made, for shards whose tables are older. */
const ADDED_COLUMNS: [table: string, column: string, definition: string][] = [
  ["tasks", "kind", "kind TEXT NOT NULL DEFAULT 'wav'"],
  ["deleted", "epoch", "epoch INTEGER NOT NULL DEFAULT 0"],
  ["removals", "task_id", "task_id TEXT"],
];

export class ShardStore {
  constructor(private readonly sql: SqlStorage) {
    for (const [table, column, definition] of ADDED_COLUMNS) {
      const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", table).toArray().length > 0;
      const has = exists && sql.exec("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", table, column).toArray().length > 0;
      if (exists && !has) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${definition}`);
    }
    for (const statement of SCHEMA) sql.exec(statement);
    this.createCounters();
  }

  load(taskId: string): Task | null {
    const row = this.sql.exec<{ data: string }>("SELECT data FROM tasks WHERE task_id = ?", taskId).toArray()[0];
    return row ? readTask(row.data, Date.now()) : null;
  }

  /** Writes the task and the columns derived from it (its place in the indexes). */
  save(t: Task): void {
    const n = t.notification;
    const runAt = minOf(filesDueAt(t), n.state === "pending" ? n.nextAttemptAt : null);
    this.sql.exec(
      `INSERT INTO tasks (task_id, state, created_at, kind, audio_id, poll_at, run_at, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (task_id) DO UPDATE SET
         state = excluded.state, kind = excluded.kind, audio_id = excluded.audio_id, poll_at = excluded.poll_at,
         run_at = excluded.run_at, data = excluded.data`,
      t.taskId,
      t.state,
      t.createdAt,
      t.kind,
      t.music?.audioId ?? null,
      t.state === "pending" || t.state === "failed" ? t.pollAt : null,
      runAt,
      JSON.stringify(t),
    );
  }

  runnerId(taskId: string): string | null {
    return this.sql.exec<{ runner_id: string | null }>("SELECT runner_id FROM tasks WHERE task_id = ?", taskId).toArray()[0]?.runner_id ?? null;
  }

  setRunnerId(taskId: string, runnerId: string): void {
    this.sql.exec("UPDATE tasks SET runner_id = ? WHERE task_id = ?", runnerId, taskId);
  }

  /**
   * Removes the task and its history, and remembers the id as deleted (with its last epoch, so a
   * new life of the id counts on from it). Its signatures stay until they are too old to be
   * replayed: a new life of the id must not take an old callback replayed.
   */
  delete(t: Task, now: number): void {
    this.sql.exec("DELETE FROM tasks WHERE task_id = ?", t.taskId);
    this.sql.exec("DELETE FROM events WHERE task_id = ?", t.taskId);
    this.sql.exec("DELETE FROM task_refs WHERE task_id = ?", t.taskId);
    this.sql.exec("INSERT OR REPLACE INTO deleted (task_id, deleted_at, epoch) VALUES (?, ?, ?)", t.taskId, now, t.epoch);
  }

  isDeleted(taskId: string): boolean {
    return this.sql.exec("SELECT 1 FROM deleted WHERE task_id = ?", taskId).toArray().length > 0;
  }

  /** Forgets that the id was deleted; its last epoch (0 if it never was), for the new life. */
  undelete(taskId: string): number {
    const epoch = this.sql.exec<{ epoch: number }>("SELECT epoch FROM deleted WHERE task_id = ?", taskId).toArray()[0]?.epoch ?? 0;
    this.sql.exec("DELETE FROM deleted WHERE task_id = ?", taskId);
    return epoch;
  }

  // R2 objects to remove, retried until R2 has removed them

  scheduleRemoval(taskId: string, keys: readonly string[], at: number): void {
    for (const key of keys) this.sql.exec("INSERT OR REPLACE INTO removals (key, due_at, attempts, task_id) VALUES (?, ?, 0, ?)", key, at, taskId);
  }

  dueRemovals(now: number, limit: number): { key: string; attempts: number; taskId: string | null }[] {
    return this.sql
      .exec<{ key: string; attempts: number; taskId: string | null }>("SELECT key, attempts, task_id AS taskId FROM removals WHERE due_at <= ? ORDER BY due_at LIMIT ?", now, limit)
      .toArray();
  }

  removed(keys: readonly string[]): void {
    for (const key of keys) this.sql.exec("DELETE FROM removals WHERE key = ?", key);
  }

  postponeRemoval(key: string, at: number): void {
    this.sql.exec("UPDATE removals SET due_at = ?, attempts = attempts + 1 WHERE key = ?", at, key);
  }

  // History (the table is called events: GET /api/tasks/:taskId/events lists it)

  addHistory(taskId: string, at: number, { type, detail }: HistoryNote): void {
    const { seq } = this.sql
      .exec<{ seq: number }>(
        `INSERT INTO events (task_id, seq, at, type, detail)
         SELECT ?, coalesce(max(seq), 0) + 1, ?, ?, ? FROM events WHERE task_id = ? RETURNING seq`,
        taskId,
        at,
        type,
        JSON.stringify(detail),
        taskId,
      )
      .one();
    if (seq > MAX_HISTORY_PER_TASK) this.sql.exec("DELETE FROM events WHERE task_id = ? AND seq <= ?", taskId, seq - MAX_HISTORY_PER_TASK);
  }

  history(taskId: string): HistoryEntry[] {
    return this.sql
      .exec<{ at: number; type: string; detail: string }>("SELECT at, type, detail FROM events WHERE task_id = ? ORDER BY seq", taskId)
      .toArray()
      .map((r) => ({ at: new Date(r.at).toISOString(), type: r.type, ...(JSON.parse(r.detail) as object) }));
  }

  // Signatures of accepted callbacks

  /** What the callbacks accepted under this task's signature of time `signedAt` said, by stage. */
  signedResults(taskId: string, signedAt: number): { stage: string; result: string }[] {
    return this.sql.exec<{ stage: string; result: string }>("SELECT stage, result FROM signed_stages WHERE task_id = ? AND signed_at = ?", taskId, signedAt).toArray();
  }

  /** Remembers an accepted callback's signature, and forgets those too old to be replayed. */
  rememberSignature(taskId: string, signedAt: number, stage: string, result: string): void {
    this.sql.exec("INSERT OR IGNORE INTO signed_stages (task_id, signed_at, stage, result) VALUES (?, ?, ?, ?)", taskId, signedAt, stage, result);
    this.sql.exec("DELETE FROM signed_stages WHERE signed_at < ?", signedAt - SIGNATURE_MEMORY_SECONDS);
  }

  // Charts and search (README, "Dashboard"): counters and refs kept as tasks change

  /**
   * Makes the counter tables, and the refs index with the refs of the tasks already here (once:
   * when the table is new; only music tasks and tasks registered for a track have refs).
   */
  private createCounters(): void {
    for (const statement of COUNTER_SCHEMA) this.sql.exec(statement);
    const fresh = this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'task_refs'").toArray().length === 0;
    if (fresh) {
      this.sql.exec(REFS_TABLE);
      const now = Date.now();
      const rows = this.sql.exec<{ data: string }>("SELECT data FROM tasks WHERE kind = 'music' OR audio_id IS NOT NULL").toArray();
      for (const r of rows) this.writeRefs(readTask(r.data, now));
    }
    this.sql.exec(REFS_INDEX);
  }

  /**
   * What a change of a task adds to the charts' counters and the refs index; called with every
   * save of a changed task, in the same synchronous step.
   */
  recordChange(before: Task | null, after: Task | null, now: number): void {
    const changes = statChanges(before, after, now);
    for (const c of changes) {
      if ("metric" in c) {
        this.sql.exec("INSERT INTO stat_hours (hour, metric, code, n) VALUES (?, ?, ?, 1) ON CONFLICT DO UPDATE SET n = n + 1", c.hour, c.metric, c.code);
      } else {
        this.sql.exec("INSERT INTO stat_durations (day, bucket, n) VALUES (?, ?, 1) ON CONFLICT DO UPDATE SET n = n + 1", c.day, c.bucket);
      }
    }
    if (changes.length > 0) this.pruneCounters(now);
    if (after !== null && refsChanged(before, after)) this.writeRefs(after);
  }

  /** Counter rows older than the charts' window go (by primary key: bounded work). */
  private pruneCounters(now: number): void {
    const hour = hourOf(now);
    if (hour === this.prunedAtHour) return;
    this.prunedAtHour = hour;
    this.sql.exec("DELETE FROM stat_hours WHERE hour <= ?", hour - WINDOW_HOURS);
    this.sql.exec("DELETE FROM stat_durations WHERE day <= ?", dayOf(now) - WINDOW_DAYS);
  }
  private prunedAtHour: number | null = null;

  private writeRefs(t: Task): void {
    this.sql.exec("DELETE FROM task_refs WHERE task_id = ?", t.taskId);
    for (const r of refsOf(t)) this.sql.exec("INSERT OR IGNORE INTO task_refs (ref, task_id, field) VALUES (?, ?, ?)", r.ref, t.taskId, r.field);
  }

  /** The counters from `fromHour` and `fromDay` on (the charts' window). */
  counters(fromHour: number, fromDay: number): ShardCounters {
    return {
      hours: this.sql
        .exec<{ hour: number; metric: string; code: string; n: number }>("SELECT hour, metric, code, n FROM stat_hours WHERE hour >= ?", fromHour)
        .toArray()
        .map((r) => ({ hour: r.hour, metric: r.metric as Metric, code: r.code, n: r.n })),
      durations: this.sql
        .exec<{ day: number; bucket: number; n: number }>("SELECT day, bucket, n FROM stat_durations WHERE day >= ?", fromDay)
        .toArray()
        .map((r) => ({ day: r.day, bucket: r.bucket, n: r.n })),
    };
  }

  /**
   * The tasks `q` names here: by task id, by the audioId they were registered with, or through
   * the refs index (a music task's track, the music task a task was registered for). Each lookup
   * uses an index and answers at most `limit` tasks, newest first.
   */
  search(q: string, limit: number): { task: Task; matched: SearchField }[] {
    const n = Math.max(1, Math.min(limit, SEARCH_LIMIT_MAX));
    const now = Date.now();
    const rows = [
      ...this.sql.exec<{ data: string; matched: string }>("SELECT data, 'taskId' AS matched FROM tasks WHERE task_id = ?", q).toArray(),
      ...this.sql
        .exec<{ data: string; matched: string }>("SELECT data, 'audioId' AS matched FROM tasks WHERE audio_id = ? ORDER BY created_at DESC, task_id DESC LIMIT ?", q, n)
        .toArray(),
      ...this.sql
        .exec<{ data: string; matched: string }>(
          `SELECT t.data AS data, r.field AS matched FROM task_refs r JOIN tasks t ON t.task_id = r.task_id
           WHERE r.ref = ? ORDER BY t.created_at DESC, t.task_id DESC LIMIT ?`,
          q,
          n,
        )
        .toArray(),
    ];
    return rows.map((r) => ({ task: readTask(r.data, now), matched: r.matched as SearchField }));
  }

  // The indexes: listings, the cron, the alarm

  list(q: ListQuery): Task[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.state) {
      where.push("state = ?");
      args.push(q.state);
    }
    if (q.kind !== undefined) {
      where.push("kind = ?");
      args.push(q.kind);
    }
    if (q.audioId !== undefined) {
      where.push("audio_id = ?");
      args.push(q.audioId);
    }
    if (q.before) {
      where.push("(created_at < ? OR (created_at = ? AND task_id < ?))");
      args.push(q.before.createdAt, q.before.createdAt, q.before.taskId);
    }
    const sql =
      `SELECT data FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""}` +
      ` ORDER BY created_at DESC, task_id DESC LIMIT ?`;
    const now = Date.now();
    return this.sql
      .exec<{ data: string }>(sql, ...args, q.limit)
      .toArray()
      .map((r) => readTask(r.data, now));
  }

  /** Failed tasks, least recently changed first (so repeated bulk retries reach every one). */
  failedTaskIds(limit: number): string[] {
    return this.sql
      .exec<{ task_id: string }>("SELECT task_id FROM tasks WHERE state = 'failed' ORDER BY json_extract(data, '$.updatedAt'), task_id LIMIT ?", limit)
      .toArray()
      .map((r) => r.task_id);
  }

  countInState(state: TaskState): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM tasks WHERE state = ?", state).one().n;
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.sql.exec<{ state: string; n: number }>("SELECT state, count(*) AS n FROM tasks GROUP BY state")) out[r.state] = r.n;
    return out;
  }

  /** Pending (and failed, on their daily look) tasks whose poll is due, oldest due first (the poll_at index). */
  duePolls(now: number, limit: number): string[] {
    return this.sql
      .exec<{ task_id: string }>("SELECT task_id FROM tasks WHERE poll_at IS NOT NULL AND poll_at <= ? ORDER BY poll_at LIMIT ?", now, limit)
      .toArray()
      .map((r) => r.task_id);
  }

  /** Keeps a due task out of overlapping ticks until its poll has answered (or `until`). */
  claimPoll(taskId: string, until: number): void {
    this.sql.exec("UPDATE tasks SET poll_at = ? WHERE task_id = ? AND poll_at IS NOT NULL", until, taskId);
  }

  /** Tasks with work for the runner due by `now` (a transfer, a lost attempt, an announcement). */
  dueRuns(now: number, limit: number): string[] {
    return this.sql
      .exec<{ task_id: string }>("SELECT task_id FROM tasks WHERE run_at IS NOT NULL AND run_at <= ? ORDER BY run_at LIMIT ?", now, limit)
      .toArray()
      .map((r) => r.task_id);
  }

  /** A task whose work could not be handed out waits until `until` (its next save sets it anew). */
  postponeRun(taskId: string, until: number): void {
    this.sql.exec("UPDATE tasks SET run_at = ? WHERE task_id = ? AND run_at IS NOT NULL AND run_at < ?", until, taskId, until);
  }

  /** When the alarm next has work: a run, or an R2 object to remove. */
  nextRunAt(): number | null {
    const run = this.sql.exec<{ t: number | null }>("SELECT min(run_at) AS t FROM tasks WHERE run_at IS NOT NULL").one().t;
    const removal = this.sql.exec<{ t: number | null }>("SELECT min(due_at) AS t FROM removals").one().t;
    return minOf(run, removal);
  }

  // Submit once: which WAV task was made for a (music task, track) pair

  submission(musicTaskId: string, audioId: string): string | null {
    return (
      this.sql
        .exec<{ wav_task_id: string }>("SELECT wav_task_id FROM submissions WHERE music_task_id = ? AND audio_id = ?", musicTaskId, audioId)
        .toArray()[0]?.wav_task_id ?? null
    );
  }

  rememberSubmission(musicTaskId: string, audioId: string, wavTaskId: string, now: number): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO submissions (music_task_id, audio_id, wav_task_id, created_at) VALUES (?, ?, ?, ?)",
      musicTaskId,
      audioId,
      wavTaskId,
      now,
    );
  }
}

function minOf(...values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? Math.min(...present) : null;
}

// ── Dashboard sessions (README, "Dashboard" → "How a session works") ─────────────────────────
// A session lives in the shard its id hashes to (../dashboard/sessions.ts), beside the tasks:
// no object of its own, and nothing on the callback path reads it.

const SESSION_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS sessions (
     id          TEXT PRIMARY KEY,  -- SHA-256 (hex) of the cookie's session id; the id itself is never stored
     token_fp    TEXT    NOT NULL,  -- fingerprint of the API token it was started with (HMAC, not the token)
     created_at  INTEGER NOT NULL,
     expires_at  INTEGER NOT NULL,
     last_seen   INTEGER NOT NULL,  -- written at most once a minute
     user_agent  TEXT    NOT NULL,  -- cut to 256 characters
     address     TEXT    NOT NULL   -- CF-Connecting-IP at sign-in
   ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at)`,
];

export interface SessionRow {
  id: string;
  tokenFp: string;
  createdAt: number;
  expiresAt: number;
  lastSeen: number;
  userAgent: string;
  address: string;
}

type SessionSqlRow = { id: string; token_fp: string; created_at: number; expires_at: number; last_seen: number; user_agent: string; address: string };

const sessionOf = (r: SessionSqlRow): SessionRow => ({
  id: r.id,
  tokenFp: r.token_fp,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastSeen: r.last_seen,
  userAgent: r.user_agent,
  address: r.address,
});

/** One shard's dashboard sessions. */
export class SessionStore {
  constructor(private readonly sql: SqlStorage) {
    for (const statement of SESSION_SCHEMA) sql.exec(statement);
  }

  insert(s: SessionRow): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO sessions (id, token_fp, created_at, expires_at, last_seen, user_agent, address) VALUES (?, ?, ?, ?, ?, ?, ?)",
      s.id,
      s.tokenFp,
      s.createdAt,
      s.expiresAt,
      s.lastSeen,
      s.userAgent,
      s.address,
    );
  }

  get(id: string): SessionRow | null {
    const row = this.sql.exec<SessionSqlRow>("SELECT * FROM sessions WHERE id = ?", id).toArray()[0];
    return row ? sessionOf(row) : null;
  }

  touch(id: string, at: number): void {
    this.sql.exec("UPDATE sessions SET last_seen = ? WHERE id = ?", at, id);
  }

  delete(id: string): boolean {
    return this.sql.exec("DELETE FROM sessions WHERE id = ? RETURNING id", id).toArray().length > 0;
  }

  /** Every session, oldest first. */
  all(): SessionRow[] {
    return this.sql.exec<SessionSqlRow>("SELECT * FROM sessions ORDER BY created_at, id").toArray().map(sessionOf);
  }

  /** Removes the sessions expired by `now`, and those started with a token no longer accepted. */
  prune(now: number, acceptedFps: readonly string[] | null): number {
    let n = this.sql.exec("DELETE FROM sessions WHERE expires_at <= ? RETURNING id", now).toArray().length;
    if (acceptedFps !== null) {
      const marks = acceptedFps.map(() => "?").join(", ");
      const sql = acceptedFps.length ? `DELETE FROM sessions WHERE token_fp NOT IN (${marks}) RETURNING id` : "DELETE FROM sessions RETURNING id";
      n += this.sql.exec(sql, ...acceptedFps).toArray().length;
    }
    return n;
  }

  deleteAll(): number {
    return this.sql.exec("DELETE FROM sessions RETURNING id").toArray().length;
  }
}
