// One shard of the task index: a SQLite table of its tasks, indexed by due time (for the cron)
// and by creation time (for listings). Task objects push their changes here from their alarms;
// the cron asks each shard for its due tasks and has the tasks' own objects do the polling.

import { DurableObject } from "cloudflare:workers";
import type { TaskState } from "../task/machine";
import type { PollOutcome, PollReport } from "../task/object";
import { taskObject } from "../task/objects";
import type { TaskView } from "../task/view";
import type { IndexEntry } from "./shards";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS tasks (
     task_id    TEXT PRIMARY KEY,
     state      TEXT    NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     due_at     INTEGER,           -- null once final: such rows never reach the cron
     version    INTEGER NOT NULL,
     view       TEXT    NOT NULL   -- the task's JSON, so a listing needs no task object
   ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS tasks_due ON tasks (due_at) WHERE due_at IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS tasks_created ON tasks (created_at, task_id)`,
  `CREATE INDEX IF NOT EXISTS tasks_state_created ON tasks (state, created_at, task_id)`,
];

/** A shard makes at most this many calls per tick, well inside a Worker's subrequest limit. */
export const MAX_POLLS_PER_SHARD = 40;
/** Due tasks polled at once within a shard. */
const POLL_CONCURRENCY = 4;
/** A due row taken by a tick is not due again for this long, unless its poll says otherwise. */
const CLAIM_MS = 60_000;

export interface ListQuery {
  state?: TaskState;
  /** Only tasks strictly older than this position (newest first). */
  before?: { createdAt: number; taskId: string };
  limit: number;
}

export interface ShardTickReport {
  due: number;
  polled: number;
  providerCalls: number;
  outcomes: Partial<Record<PollOutcome, number>>;
  trouble: boolean;
  /** Polls that failed before an answer (the task object threw). */
  errors: number;
}

export class TaskIndexShard extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const statement of SCHEMA) this.sql.exec(statement);
  }

  async upsert(entry: IndexEntry): Promise<void> {
    this.write(entry);
  }

  async list(query: ListQuery): Promise<TaskView[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (query.state) {
      where.push("state = ?");
      args.push(query.state);
    }
    if (query.before) {
      where.push("(created_at < ? OR (created_at = ? AND task_id < ?))");
      args.push(query.before.createdAt, query.before.createdAt, query.before.taskId);
    }
    const sql =
      `SELECT view FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""}` +
      ` ORDER BY created_at DESC, task_id DESC LIMIT ?`;
    return this.sql
      .exec<{ view: string }>(sql, ...args, query.limit)
      .toArray()
      .map((r) => JSON.parse(r.view) as TaskView);
  }

  /** How many of this shard's tasks are in each state (GET /api/stats sums these over shards). */
  async counts(): Promise<Partial<Record<TaskState, number>>> {
    const out: Partial<Record<TaskState, number>> = {};
    for (const r of this.sql.exec<{ state: TaskState; n: number }>("SELECT state, count(*) AS n FROM tasks GROUP BY state")) {
      out[r.state] = r.n;
    }
    return out;
  }

  /** Number of tasks and of due tasks here (for the benchmark and the tests). */
  async stats(now: number): Promise<{ tasks: number; due: number }> {
    const tasks = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM tasks").one().n;
    const due = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM tasks WHERE due_at <= ?", now).one().n;
    return { tasks, due };
  }

  /** One cron tick for this shard: poll the due tasks, oldest due first, through their objects. */
  async tick(now: number, maxPolls: number): Promise<ShardTickReport> {
    const limit = Math.max(0, Math.min(maxPolls, MAX_POLLS_PER_SHARD));
    const due = this.sql
      .exec<{ task_id: string }>(
        "SELECT task_id FROM tasks WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?",
        now,
        limit,
      )
      .toArray()
      .map((r) => r.task_id);

    const report: ShardTickReport = { due: due.length, polled: 0, providerCalls: 0, outcomes: {}, trouble: false, errors: 0 };
    // Claimed for this tick: an overlapping tick will not pick them again before they answer.
    for (const taskId of due) this.sql.exec("UPDATE tasks SET due_at = ? WHERE task_id = ?", now + CLAIM_MS, taskId);
    let next = 0;
    const worker = async () => {
      while (!report.trouble && next < due.length) {
        const taskId = due[next++]!;
        let result: PollReport;
        try {
          result = await taskObject(this.env, taskId).poll(taskId);
        } catch (err) {
          // One object failing (reset, overloaded) must not end the tick; it is due again later.
          console.error(`poll ${taskId} failed`, err);
          report.errors++;
          continue;
        }
        report.polled++;
        if (result.providerCalled) report.providerCalls++;
        report.outcomes[result.outcome] = (report.outcomes[result.outcome] ?? 0) + 1;
        if (result.outcome === "provider_trouble") report.trouble = true;
        if (result.entry) this.write(result.entry);
        else this.sql.exec("DELETE FROM tasks WHERE task_id = ?", taskId);
      }
    };
    await Promise.all(Array.from({ length: POLL_CONCURRENCY }, worker));
    return report;
  }

  private write(e: IndexEntry): void {
    this.sql.exec(
      `INSERT INTO tasks (task_id, state, created_at, updated_at, due_at, version, view)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (task_id) DO UPDATE SET
         state = excluded.state, updated_at = excluded.updated_at, due_at = excluded.due_at,
         version = excluded.version, view = excluded.view
       WHERE excluded.version >= tasks.version`,
      e.taskId,
      e.state,
      e.createdAt,
      e.updatedAt,
      e.dueAt,
      e.version,
      JSON.stringify(e.view),
    );
  }
}
