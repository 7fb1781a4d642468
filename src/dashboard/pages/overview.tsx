import { TASK_STATES } from "../../task/machine";
import type { TaskView } from "../../task/view";
import type { StateCounts } from "../api";
import { anyInProgress, CsrfField, Layout, Notice, TaskTable } from "./layout";
import type { Charts } from "../../shard/charts";
import { ChartsSection } from "./charts";

export interface PageNotice {
  kind: "ok" | "error";
  text: string;
}

/** "Retry all failed": asks for confirmation, then POST /retry-failed (README, "Dashboard"). */
export function RetryFailedForm(props: { csrf: string; failed: number; back: "overview" | "failed" }) {
  if (props.failed === 0) return null;
  return (
    <form method="post" action="/retry-failed" class="inline" data-confirm={`Retry all ${props.failed} failed task${props.failed === 1 ? "" : "s"} now?`}>
      <CsrfField token={props.csrf} />
      <input type="hidden" name="back" value={props.back} />
      <button type="submit">{`Retry all failed (${props.failed})`}</button>
    </form>
  );
}

export function OverviewPage(props: {
  csrf: string;
  counts: StateCounts;
  attention: TaskView[];
  latest: TaskView[];
  notice: PageNotice | null;
  now: number;
  /** The last 7 days as charts (README, "Dashboard" → "Charts"); null when unreadable. */
  charts?: Charts | null;
}) {
  const total = TASK_STATES.reduce((n, s) => n + props.counts[s], 0);
  return (
    <Layout title="Overview" csrf={props.csrf} nav="overview" refresh={anyInProgress(props.counts)}>
      <h1>Overview</h1>
      {props.notice && <Notice kind={props.notice.kind}>{props.notice.text}</Notice>}
      <section class="counts" aria-label="Tasks by state">
        {TASK_STATES.map((s) => (
          <a class={`count state-${s}`} href={`/tasks?state=${s}`} data-state={s}>
            <span class="n">{props.counts[s]}</span>
            <span class="label">{s}</span>
          </a>
        ))}
      </section>
      <p class="muted">{`${total} task${total === 1 ? "" : "s"} in all.`}</p>
      {props.charts !== undefined && <ChartsSection charts={props.charts} />}
      <section id="attention">
        <div class="section-head">
          <h2>Needs attention</h2>
          <RetryFailedForm csrf={props.csrf} failed={props.counts.failed} back="overview" />
        </div>
        <p class="muted small">Failed tasks, and tasks whose last transfer or poll went wrong and that are being retried.</p>
        <TaskTable tasks={props.attention} empty="Nothing needs attention: no failed tasks, and none being retried." now={props.now} />
        {props.counts.failed > 0 && (
          <p>
            <a href="/tasks?state=failed">All failed tasks →</a>
          </p>
        )}
      </section>
      <section id="latest">
        <h2>Latest tasks</h2>
        <TaskTable tasks={props.latest} empty="No tasks yet. Submit one with POST /api/tasks." now={props.now} />
        <p>
          <a href="/tasks">All tasks →</a>
        </p>
      </section>
    </Layout>
  );
}
