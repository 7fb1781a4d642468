// A typed helper over one task object's SQLite storage: the single row of table `task`.

import type { Task, TaskState } from "./machine";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS task (
  id               INTEGER PRIMARY KEY CHECK (id = 1),
  task_id          TEXT    NOT NULL,
  state            TEXT    NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  attempts         INTEGER NOT NULL,
  source_url       TEXT,
  wav_key          TEXT,
  wav_size         INTEGER,
  wav_sha256       TEXT,
  wav_content_type TEXT,
  error_code       TEXT,
  error_message    TEXT,
  polls            INTEGER NOT NULL,
  last_polled_at   INTEGER,
  attempt_started_at INTEGER,
  due_at           INTEGER,
  -- bumped on every write; the index shard has seen up to indexed_version
  version          INTEGER NOT NULL,
  indexed_version  INTEGER NOT NULL DEFAULT 0
)`;

type Row = {
  task_id: string;
  state: string;
  created_at: number;
  updated_at: number;
  attempts: number;
  source_url: string | null;
  wav_key: string | null;
  wav_size: number | null;
  wav_sha256: string | null;
  wav_content_type: string | null;
  error_code: string | null;
  error_message: string | null;
  polls: number;
  last_polled_at: number | null;
  attempt_started_at: number | null;
  due_at: number | null;
  version: number;
  indexed_version: number;
};

export interface StoredTask {
  task: Task;
  version: number;
  indexedVersion: number;
}

export class TaskStore {
  private hasTable: boolean;

  constructor(private readonly sql: SqlStorage) {
    // The table is made on the first write, so looking up an unknown task writes nothing.
    this.hasTable = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'task'").toArray().length > 0;
  }

  load(): StoredTask | null {
    if (!this.hasTable) return null;
    const row = this.sql.exec<Row>("SELECT * FROM task WHERE id = 1").toArray()[0];
    if (!row) return null;
    return { task: fromRow(row), version: row.version, indexedVersion: row.indexed_version };
  }

  /** Writes the task and bumps its version, so the index learns of the change. */
  save(t: Task): void {
    if (!this.hasTable) {
      this.sql.exec(SCHEMA);
      this.hasTable = true;
    }
    this.sql.exec(
      `INSERT INTO task (id, task_id, state, created_at, updated_at, attempts, source_url,
         wav_key, wav_size, wav_sha256, wav_content_type, error_code, error_message, polls,
         last_polled_at, attempt_started_at, due_at, version)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
       ON CONFLICT (id) DO UPDATE SET
         state = excluded.state, updated_at = excluded.updated_at, attempts = excluded.attempts,
         source_url = excluded.source_url, wav_key = excluded.wav_key, wav_size = excluded.wav_size,
         wav_sha256 = excluded.wav_sha256, wav_content_type = excluded.wav_content_type,
         error_code = excluded.error_code, error_message = excluded.error_message,
         polls = excluded.polls, last_polled_at = excluded.last_polled_at,
         attempt_started_at = excluded.attempt_started_at, due_at = excluded.due_at,
         version = task.version + 1`,
      t.taskId,
      t.state,
      t.createdAt,
      t.updatedAt,
      t.attempts,
      t.sourceUrl,
      t.wav?.key ?? null,
      t.wav?.size ?? null,
      t.wav?.sha256 ?? null,
      t.wav?.contentType ?? null,
      t.error?.code ?? null,
      t.error?.message ?? null,
      t.polls,
      t.lastPolledAt,
      t.attemptStartedAt,
      t.dueAt,
    );
  }

  markIndexed(version: number): void {
    this.sql.exec("UPDATE task SET indexed_version = MAX(indexed_version, ?) WHERE id = 1", version);
  }
}

function fromRow(r: Row): Task {
  return {
    taskId: r.task_id,
    state: r.state as TaskState,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    attempts: r.attempts,
    sourceUrl: r.source_url,
    wav:
      r.wav_key === null
        ? null
        : {
            key: r.wav_key,
            size: r.wav_size ?? 0,
            sha256: r.wav_sha256 ?? "",
            contentType: r.wav_content_type ?? "audio/wav",
          },
    error: r.error_code === null ? null : { code: r.error_code, message: r.error_message ?? "" },
    polls: r.polls,
    lastPolledAt: r.last_polled_at,
    attemptStartedAt: r.attempt_started_at,
    dueAt: r.due_at,
  };
}
