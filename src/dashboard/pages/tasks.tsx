import { KIND_NAMES } from "../../kinds/kind";
import { TASK_STATES } from "../../task/machine";
import type { TaskView } from "../../task/view";
import type { StateCounts } from "../api";
import { KIND_LABELS, KIND_WORDS } from "../kinds";
import { inProgress, Layout, Notice, TaskTable } from "./layout";
import { RetryFailedForm, type PageNotice } from "./overview";

/** /tasks with these filters (either may be absent). */
function listHref(state: string | undefined, kind: string | undefined): string {
  const q = new URLSearchParams();
  if (state) q.set("state", state);
  if (kind) q.set("kind", kind);
  const query = q.toString();
  return query ? `/tasks?${query}` : "/tasks";
}

export function TaskListPage(props: {
  csrf: string;
  state: string | undefined;
  kind?: string | undefined;
  tasks: TaskView[];
  cursor: string | null;
  paged: boolean;
  counts: StateCounts;
  notice: PageNotice | null;
  now: number;
}) {
  const { state, kind } = props;
  const next = new URLSearchParams();
  if (state) next.set("state", state);
  if (kind) next.set("kind", kind);
  if (props.cursor) next.set("cursor", props.cursor);
  const total = TASK_STATES.reduce((n, s) => n + props.counts[s], 0);
  const count = (s: string | undefined) => (s ? props.counts[s as keyof StateCounts] : total);
  const what = [state, kind ? (KIND_WORDS[kind] ?? kind) : null].filter(Boolean).join(" ");
  return (
    // Only the newest page refreshes itself: an older page is one a person is reading on purpose.
    <Layout title="Tasks" csrf={props.csrf} nav="tasks" refresh={!props.paged && props.tasks.some(inProgress)}>
      <h1>Tasks</h1>
      {props.notice && <Notice kind={props.notice.kind}>{props.notice.text}</Notice>}
      <nav class="filters" aria-label="Filter by state">
        {[undefined, ...TASK_STATES].map((s) => (
          <a href={listHref(s, kind)} aria-current={state === s ? "page" : undefined} data-state={s ?? "all"}>
            {s ?? "all"}
            {/* The counts are of every kind (GET /api/stats): shown only when no kind is picked. */}
            {kind === undefined && (
              <>
                {" "}
                <span class="filter-count">{count(s)}</span>
              </>
            )}
          </a>
        ))}
      </nav>
      <nav class="filters kinds" aria-label="Filter by kind">
        {[undefined, ...KIND_NAMES].map((k) => (
          <a href={listHref(state, k)} aria-current={kind === k ? "page" : undefined} data-kind={k ?? "all"} title={k ? `Only ${KIND_WORDS[k]} tasks` : "Tasks of every kind"}>
            {k ? (KIND_LABELS[k] ?? k) : "every kind"}
          </a>
        ))}
      </nav>
      <div class="section-head">
        <p class="muted">Newest first.</p>
        {state === "failed" && kind === undefined && <RetryFailedForm csrf={props.csrf} failed={props.counts.failed} back="failed" />}
      </div>
      <TaskTable tasks={props.tasks} empty={what ? `No ${what} tasks.` : "No tasks yet."} now={props.now} />
      <p class="pager">
        {props.paged && <a href={listHref(state, kind)}>← Newest</a>}
        {props.cursor && (
          <a href={`/tasks?${next}`} rel="next">
            Older →
          </a>
        )}
      </p>
    </Layout>
  );
}
