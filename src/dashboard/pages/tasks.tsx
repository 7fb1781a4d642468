import { TASK_STATES } from "../../task/machine";
import type { TaskView } from "../../task/view";
import { Layout, TaskTable } from "./layout";

export function TaskListPage(props: { csrf: string; state: string | undefined; tasks: TaskView[]; cursor: string | null; paged: boolean }) {
  const filter = (s: string | undefined) => (s ? `/tasks?state=${s}` : "/tasks");
  const next = new URLSearchParams();
  if (props.state) next.set("state", props.state);
  if (props.cursor) next.set("cursor", props.cursor);
  return (
    <Layout title="Tasks" csrf={props.csrf} nav="tasks">
      <h1>Tasks</h1>
      <nav class="filters" aria-label="Filter by state">
        {[undefined, ...TASK_STATES].map((s) => (
          <a href={filter(s)} aria-current={props.state === s ? "page" : undefined}>
            {s ?? "all"}
          </a>
        ))}
      </nav>
      <p class="muted">Newest first.</p>
      <TaskTable tasks={props.tasks} empty={props.state ? `No ${props.state} tasks.` : "No tasks yet."} />
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
