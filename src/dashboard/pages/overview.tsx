import { TASK_STATES } from "../../task/machine";
import type { TaskView } from "../../task/view";
import type { StateCounts } from "../api";
import { Layout, TaskTable } from "./layout";

export function OverviewPage(props: { csrf: string; counts: StateCounts; failures: TaskView[]; latest: TaskView[] }) {
  const total = TASK_STATES.reduce((n, s) => n + props.counts[s], 0);
  return (
    <Layout title="Overview" csrf={props.csrf} nav="overview">
      <h1>Overview</h1>
      <section class="counts" aria-label="Tasks by state">
        {TASK_STATES.map((s) => (
          <a class={`count state-${s}`} href={`/tasks?state=${s}`} data-state={s}>
            <span class="n">{props.counts[s]}</span>
            <span class="label">{s}</span>
          </a>
        ))}
      </section>
      <p class="muted">{`${total} task${total === 1 ? "" : "s"} in all.`}</p>
      <section>
        <h2>Latest failures</h2>
        <TaskTable tasks={props.failures} empty="No failed tasks." />
        {props.failures.length > 0 && (
          <p>
            <a href="/tasks?state=failed">All failed tasks →</a>
          </p>
        )}
      </section>
      <section>
        <h2>Latest tasks</h2>
        <TaskTable tasks={props.latest} empty="No tasks yet. Submit one with POST /api/tasks." />
        <p>
          <a href="/tasks">All tasks →</a>
        </p>
      </section>
    </Layout>
  );
}
