import type { Child } from "hono/jsx";
import type { TaskView } from "../../task/view";
import { CSRF_FIELD } from "../csrf";

export function Layout(props: { title: string; csrf?: string; nav?: "overview" | "tasks" | "settings"; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${props.title} · WAV callback edge`}</title>
        <link rel="stylesheet" href="/assets/dashboard.css" />
        <script src="/assets/dashboard.js" defer></script>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">
            WAV callback edge
          </a>
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
  );
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.token} />;
}

export function StateBadge(props: { state: string }) {
  return <span class={`badge state-${props.state}`}>{props.state}</span>;
}

/** A time as UTC text, with the ISO value for machines. */
export function Time(props: { at: string | null | undefined }) {
  if (!props.at) return <span class="muted">—</span>;
  return <time datetime={props.at}>{props.at.replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function Notice(props: { kind: "ok" | "error"; children: Child }) {
  return (
    <p class={`notice notice-${props.kind}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.children}
    </p>
  );
}

/** A table of tasks; one card per task on a phone. */
export function TaskTable(props: { tasks: TaskView[]; empty: string }) {
  if (props.tasks.length === 0) return <p class="muted">{props.empty}</p>;
  return (
    <table class="tasks">
      <thead>
        <tr>
          <th>Task</th>
          <th>State</th>
          <th>Created</th>
          <th>Attempts</th>
          <th>Result</th>
        </tr>
      </thead>
      <tbody>
        {props.tasks.map((t) => (
          <tr data-task-id={t.taskId} data-state={t.state}>
            <td data-label="Task">
              <a class="mono" href={`/tasks/${encodeURIComponent(t.taskId)}`}>
                {t.taskId}
              </a>
            </td>
            <td data-label="State">
              <StateBadge state={t.state} />
            </td>
            <td data-label="Created">
              <Time at={t.createdAt} />
            </td>
            <td data-label="Attempts">{t.attempts}</td>
            <td data-label="Result">
              {t.wav ? formatBytes(t.wav.size) : t.error ? <span class="error-text">{`${t.error.code}: ${t.error.message}`}</span> : <span class="muted">—</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
