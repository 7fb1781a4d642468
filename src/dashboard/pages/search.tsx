// Find a task (README, "Dashboard" → "Find a task"): what GET /search shows when a query names no
// task or several (exactly one goes straight to its page).

import type { SearchAnswer } from "../api";
import { Layout, TaskCells } from "./layout";
import { SearchBox } from "./search-box";

/** How a query matched, in words. */
const MATCHED_WORDS: Record<string, string> = {
  taskId: "its task id",
  audioId: "the track (audioId) it was registered with",
  track: "a track of this music task",
  musicTaskId: "the music task it was registered for",
};

export function SearchPage(props: { csrf: string; q: string; found: SearchAnswer | null; now: number }) {
  const results = props.found?.results ?? [];
  return (
    <Layout title="Find a task" csrf={props.csrf}>
      <h1>Find a task</h1>
      <div class="search-page">
        <SearchBox q={props.q} />
      </div>
      <p class="muted small">
        A task id, a track id (the <span class="mono">audioId</span> a WAV task was registered with, or a track of a music task) or a music task id
        (the one a WAV task was registered for). Exactly one match goes straight to its task.
      </p>
      {props.found === null ? null : results.length === 0 ? (
        <p class="notice notice-error" role="status" id="no-match">{`No task matches “${props.q}”.`}</p>
      ) : (
        <section id="matches">
          <h2>{`${results.length}${props.found.more ? "+" : ""} tasks match “${props.q}”`}</h2>
          <table class="tasks">
            <thead>
              <tr>
                <th>Task</th>
                <th>Kind</th>
                <th>State</th>
                <th>Created</th>
                <th>Matched by</th>
              </tr>
            </thead>
            <tbody>
              {results.map((r) => (
                <tr data-task-id={r.task.taskId} data-matched={r.matched.join(" ")}>
                  <TaskCells t={r.task} now={props.now} />
                  <td data-label="Matched by">{r.matched.map((m) => MATCHED_WORDS[m] ?? m).join("; ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {props.found.more && <p class="muted small">More tasks match than are shown here; the newest are first.</p>}
        </section>
      )}
    </Layout>
  );
}
