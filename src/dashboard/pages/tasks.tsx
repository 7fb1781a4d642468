import { TASK_STATES } from "../../task/machine";
import type { TaskView } from "../../task/view";
import type { StateCounts } from "../api";
import { inProgress, Layout, Notice, TaskTable } from "./layout";
import { RetryFailedForm, type PageNotice } from "./overview";

export function TaskListPage(props: {
  csrf: string;
  state: string | undefined;
  tasks: TaskView[];
  cursor: string | null;
  paged: boolean;
  counts: StateCounts;
  notice: PageNotice | null;
  now: number;
}) {
  const filter = (s: string | undefined) => (s ? `/tasks?state=${s}` : "/tasks");
  const next = new URLSearchParams();
  if (props.state) next.set("state", props.state);
  if (props.cursor) next.set("cursor", props.cursor);
  const total = TASK_STATES.reduce((n, s) => n + props.counts[s], 0);
  const count = (s: string | undefined) => (s ? props.counts[s as keyof StateCounts] : total);
  return (
    // Only the newest page refreshes itself: an older page is one a person is reading on purpose.
    <Layout title="Tasks" csrf={props.csrf} nav="tasks" refresh={!props.paged && props.tasks.some(inProgress)}>
      <h1>Tasks</h1>
      {props.notice && <Notice kind={props.notice.kind}>{props.notice.text}</Notice>}
      <nav class="filters" aria-label="Filter by state">
        {[undefined, ...TASK_STATES].map((s) => (
          <a href={filter(s)} aria-current={props.state === s ? "page" : undefined} data-state={s ?? "all"}>
            {s ?? "all"} <span class="filter-count">{count(s)}</span>
          </a>
        ))}
      </nav>
      <div class="section-head">
        <p class="muted">Newest first.</p>
        {props.state === "failed" && <RetryFailedForm csrf={props.csrf} failed={props.counts.failed} back="failed" />}
      </div>
      <TaskTable tasks={props.tasks} empty={props.state ? `No ${props.state} tasks.` : "No tasks yet."} now={props.now} />
      <p class="pager">
        {props.paged && <a href={filter(props.state)}>← Newest</a>}
        {props.cursor && (
          <a href={`/tasks?${next}`} rel="next">
            Older →
          </a>
        )}
      </p>
    </Layout>
  );
}
