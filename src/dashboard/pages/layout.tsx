import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import type { TaskView } from "../../task/view";
import type { StateCounts } from "../api";
import { CSRF_FIELD } from "../csrf";
import { formatBytes } from "../format";
import { KIND_LABELS, KIND_WORDS } from "../kinds";
import { exactTime, parseTime, relativeTime } from "../time";
import { SearchBox } from "./search-box";

export { formatBytes };


/** How often a page whose tasks are still moving reloads itself (dashboard.js reads data-refresh). */
export const REFRESH_SECONDS = 5;

export function Layout(props: {
  title: string;
  csrf?: string;
  nav?: "overview" | "tasks" | "settings";
  /** Reload the page every few seconds while something on it is still under way. */
  refresh?: boolean;
  children: Child;
}) {
  return (
    <>
      {/* Standards mode: without a doctype the browser renders in quirks mode. */}
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="referrer" content="same-origin" />
          <title>{`${props.title} · WAV callback edge`}</title>
          <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
          <link rel="stylesheet" href="/assets/dashboard.css" />
          <script src="/assets/dashboard.js" defer></script>
        </head>
        <body data-refresh={props.refresh ? String(REFRESH_SECONDS) : undefined}>
          <header class="top">
            <a class="brand" href="/">
              WAV callback edge
            </a>
            {props.csrf !== undefined && <SearchBox />}
            {props.csrf !== undefined && (
              <nav>
                <a href="/" aria-current={props.nav === "overview" ? "page" : undefined}>
                  Overview
                </a>
                <a href="/tasks" aria-current={props.nav === "tasks" ? "page" : undefined}>
                  Tasks
                </a>
                <a href="/settings" aria-current={props.nav === "settings" ? "page" : undefined}>
                  Settings
                </a>
                <a href="/api-reference">API</a>
                <form method="post" action="/sign-out" class="inline">
                  <CsrfField token={props.csrf} />
                  <button type="submit" class="link">
                    Sign out
                  </button>
                </form>
              </nav>
            )}
          </header>
          <main>{props.children}</main>
        </body>
      </html>
    </>
  );
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.token} />;
}

export function StateBadge(props: { state: string }) {
  return <span class={`badge state-${props.state}`}>{props.state}</span>;
}

export function KindBadge(props: { kind: string }) {
  return (
    <span class={`badge kind kind-${props.kind}`} data-kind={props.kind} title={`A ${KIND_WORDS[props.kind] ?? props.kind} task`}>
      {KIND_LABELS[props.kind] ?? props.kind}
    </span>
  );
}

/** A time relative to the page's rendering ("3 min ago"), the exact UTC time on hover. */
export function Time(props: { at: string | null | undefined; now: number }) {
  const ms = parseTime(props.at);
  if (ms === null) return <span class="muted">—</span>;
  return (
    <time datetime={new Date(ms).toISOString()} title={exactTime(ms)}>
      {relativeTime(ms, props.now)}
    </time>
  );
}

export function Notice(props: { kind: "ok" | "error"; children: Child }) {
  return (
    <p class={`notice notice-${props.kind}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.children}
    </p>
  );
}

/** Whether a task is still under way (its page and lists holding it refresh themselves). */
export function inProgress(t: Pick<TaskView, "state">): boolean {
  return t.state === "pending" || t.state === "downloading";
}

/** Whether any task is still under way, by the overview's counts. */
export function anyInProgress(counts: StateCounts): boolean {
  return counts.pending > 0 || counts.downloading > 0;
}

/** A task's result column: its size (and how many files), or why it failed or is being retried. */
function Result(props: { t: TaskView }) {
  const t = props.t;
  if (t.wav) return <>{formatBytes(t.wav.size)}</>;
  if (t.state === "stored" && t.files.length > 0) {
    const size = t.files.reduce((n, f) => n + (f.size ?? 0), 0);
    return <>{`${t.files.length} file${t.files.length === 1 ? "" : "s"}, ${formatBytes(size)}`}</>;
  }
  if (t.error) {
    const retrying = t.state !== "failed";
    return <span class={retrying ? "warn-text" : "error-text"}>{`${retrying ? "retrying — " : ""}${t.error.code}: ${t.error.message}`}</span>;
  }
  return <span class="muted">—</span>;
}

/** The cells every table of tasks begins with (Task, Kind, State, Created): its link and what it is. */
export function TaskCells(props: { t: TaskView; now: number }) {
  const t = props.t;
  return (
    <>
      <td data-label="Task">
        <a class="mono" href={`/tasks/${encodeURIComponent(t.taskId)}`}>
          {t.taskId}
        </a>
      </td>
      <td data-label="Kind">
        <KindBadge kind={t.kind} />
      </td>
      <td data-label="State">
        <StateBadge state={t.state} />
      </td>
      <td data-label="Created">
        <Time at={t.createdAt} now={props.now} />
      </td>
    </>
  );
}

/** A table of tasks; one card per task on a phone. */
export function TaskTable(props: { tasks: TaskView[]; empty: string; now: number }) {
  if (props.tasks.length === 0) return <p class="muted">{props.empty}</p>;
  return (
    <table class="tasks">
      <thead>
        <tr>
          <th>Task</th>
          <th>Kind</th>
          <th>State</th>
          <th>Created</th>
          <th>Attempts</th>
          <th>Result</th>
        </tr>
      </thead>
      <tbody>
        {props.tasks.map((t) => (
          <tr data-task-id={t.taskId} data-state={t.state} data-kind={t.kind}>
            <TaskCells t={t} now={props.now} />
            <td data-label="Attempts">
              {t.source || (t.kind !== "wav" && t.files.length > 0) ? String(t.attempts) : <span class="muted" title="The provider has named no file yet: nothing to fetch">—</span>}
            </td>
            <td data-label="Result">
              <Result t={t} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
