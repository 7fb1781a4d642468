// The overview's charts (README, "Dashboard" → "Charts"), drawn on the server as SVG from
// GET /api/stats/charts: tasks stored and failed per hour, time to stored per day (p50 and p95),
// failures by error code, and announcement delivery, over the last 7 days. Every bar has its
// numbers in a <title> (shown on hover) and in data attributes; colours come from the stylesheet.

import type { Charts } from "../../shard/charts";
import { HOUR_MS } from "../../task/stats";

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const r2 = (n: number) => Math.round(n * 100) / 100;
const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** "Mon 24": a UTC day as the axis names it. */
function dayLabel(ms: number): string {
  const d = new Date(ms);
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()}`;
}

/** "2026-11-24 14:00–15:00 UTC". */
function hourText(ms: number): string {
  const start = new Date(ms).toISOString();
  const end = new Date(ms + HOUR_MS).toISOString();
  return `${start.slice(0, 10)} ${start.slice(11, 16)}–${end.slice(11, 16)} UTC`;
}

/** A duration for a label: "0.8 s", "42 s", "3.5 min", "2.1 h", "1.5 days". */
export function secondsText(s: number): string {
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${(s / 60).toFixed(s < 600 ? 1 : 0)} min`;
  if (s < 86_400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} days`;
}

/** The smallest of 1, 2, 5 × 10^k at least `n` (at least 1): the top of a count axis. */
export function niceMax(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

// ── Tasks stored and failed per hour ──────────────────────────────────────────────────────

const H = { left: 44, top: 10, plot: 150, bottom: 26, col: 5, bar: 4 };
/** About how wide "Wed 30" is on the axis. */
const DAY_LABEL_WIDTH = 48;

function HourlyChart(props: { charts: Charts }) {
  const c = props.charts;
  const hours = c.hourly;
  const width = H.left + hours.length * H.col + 8;
  const height = H.top + H.plot + H.bottom;
  const top = niceMax(Math.max(0, ...hours.map((h) => h.stored + h.failed)));
  const y = (n: number) => H.top + H.plot - (n / top) * H.plot;
  const ticks = top >= 2 && top % 2 === 0 ? [0, top / 2, top] : [0, top];
  const firstHour = Date.parse(hours[0]!.hour);
  const midnights = hours.map((h, i) => ({ i, ms: Date.parse(h.hour) })).filter((h) => h.ms % 86_400_000 === 0);
  return (
    <figure class="chart wide" id="chart-hourly">
      <figcaption>
        <h3>Tasks stored and failed per hour</h3>
        <p class="small muted">
          {`The last 7 days, one bar per UTC hour: ${plural(c.totals.stored, "task")} stored and ${plural(c.totals.failed, "task")} failed (a task that fails again after a retry counts again).`}
        </p>
      </figcaption>
      <div class="chart-scroll">
        <svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Tasks per hour over the last 7 days: ${c.totals.stored} stored, ${c.totals.failed} failed`}>
          {ticks.map((t) => (
            <g class="axis">
              <line class="grid" x1={String(H.left)} x2={String(width - 8)} y1={String(r2(y(t)))} y2={String(r2(y(t)))} />
              <text class="axis-text" x={String(H.left - 6)} y={String(r2(y(t)) + 4)} text-anchor="end">
                {String(t)}
              </text>
            </g>
          ))}
          {midnights.map((m) => {
            const x = H.left + m.i * H.col;
            // A day that began less than a label's width ago is named left of its line.
            const left = x + DAY_LABEL_WIDTH > width - 8;
            return (
              <g class="axis">
                <line class="tick" x1={String(x)} x2={String(x)} y1={String(H.top)} y2={String(H.top + H.plot + 4)} />
                <text class="axis-text" x={String(left ? x - 3 : x + 3)} y={String(H.top + H.plot + 18)} text-anchor={left ? "end" : undefined}>
                  {dayLabel(m.ms)}
                </text>
              </g>
            );
          })}
          {hours.map((h, i) => {
            if (h.stored + h.failed === 0) return null;
            const x = H.left + i * H.col + (H.col - H.bar) / 2;
            const storedTop = y(h.stored);
            const failedTop = y(h.stored + h.failed);
            return (
              <g class="bar" data-hour={h.hour} data-stored={String(h.stored)} data-failed={String(h.failed)}>
                <title>{`${hourText(firstHour + i * HOUR_MS)}: ${h.stored} stored, ${h.failed} failed`}</title>
                {h.stored > 0 && <rect class="bar-stored" x={String(x)} y={String(r2(Math.min(storedTop, H.top + H.plot - 1.5)))} width={String(H.bar)} height={String(r2(Math.max(H.top + H.plot - storedTop, 1.5)))} />}
                {h.failed > 0 && (
                  <rect class="bar-failed" x={String(x)} y={String(r2(Math.min(failedTop, storedTop - 1.5)))} width={String(H.bar)} height={String(r2(Math.max(storedTop - failedTop, 1.5)))} />
                )}
              </g>
            );
          })}
          <line class="axis-line" x1={String(H.left)} x2={String(width - 8)} y1={String(H.top + H.plot)} y2={String(H.top + H.plot)} />
          {c.totals.stored + c.totals.failed === 0 && (
            <text class="chart-empty" x={String(H.left + (hours.length * H.col) / 2)} y={String(H.top + H.plot / 2)} text-anchor="middle">
              Nothing stored or failed in the last 7 days
            </text>
          )}
        </svg>
      </div>
      <ul class="chart-legend small">
        <li>
          <span class="swatch-box bar-stored" aria-hidden="true"></span>
          {`stored (${c.totals.stored})`}
        </li>
        <li>
          <span class="swatch-box bar-failed" aria-hidden="true"></span>
          {`failed (${c.totals.failed})`}
        </li>
      </ul>
    </figure>
  );
}

// ── Time from registration to stored, p50 and p95 per day ─────────────────────────────────

const D = { left: 56, top: 22, plot: 140, bottom: 38, col: 100, bar: 30 };
/** The log axis's marks, in seconds; the bottom of the axis is 0.25 s (under a second still shows). */
const LOG_TICKS = [1, 10, 60, 600, 3600, 21_600, 86_400, 604_800, 2_592_000];
const LOG_FLOOR = 0.25;

function DurationsChart(props: { charts: Charts }) {
  const days = props.charts.durations.days;
  const width = D.left + days.length * D.col + 8;
  const height = D.top + D.plot + D.bottom;
  const highest = Math.max(LOG_TICKS[0]!, ...days.map((d) => d.p95Seconds ?? 0));
  const top = LOG_TICKS.find((t) => t >= highest) ?? LOG_TICKS.at(-1)!;
  const y = (s: number) => D.top + D.plot - (Math.log(Math.max(s, LOG_FLOOR) / LOG_FLOOR) / Math.log(top / LOG_FLOOR)) * D.plot;
  const ticks = LOG_TICKS.filter((t) => t <= top);
  const any = days.some((d) => d.stored > 0);
  return (
    <figure class="chart wide" id="chart-durations">
      <figcaption>
        <h3>Time from registration to stored</h3>
        <p class="small muted">
          {`p50 and p95 per UTC day of the tasks stored that day, on a log scale. The percentiles are ${props.charts.durations.note}.`}
        </p>
      </figcaption>
      <div class="chart-scroll">
        <svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Time from registration to stored, p50 and p95 per day">
          {ticks.map((t) => (
            <g class="axis">
              <line class="grid" x1={String(D.left)} x2={String(width - 8)} y1={String(r2(y(t)))} y2={String(r2(y(t)))} />
              <text class="axis-text" x={String(D.left - 6)} y={String(r2(y(t)) + 4)} text-anchor="end">
                {secondsText(t).replace(/\.0 /, " ")}
              </text>
            </g>
          ))}
          {days.map((d, i) => {
            const x0 = D.left + i * D.col;
            const ms = Date.parse(`${d.day}T00:00:00Z`);
            const bars = [
              { cls: "bar-p50", label: "p50", v: d.p50Seconds, x: x0 + D.col / 2 - D.bar - 2 },
              { cls: "bar-p95", label: "p95", v: d.p95Seconds, x: x0 + D.col / 2 + 2 },
            ];
            return (
              <g class="day" data-day={d.day} data-stored={String(d.stored)} data-p50={d.p50Seconds === null ? undefined : String(d.p50Seconds)} data-p95={d.p95Seconds === null ? undefined : String(d.p95Seconds)}>
                <title>
                  {d.stored === 0
                    ? `${d.day}: no task stored`
                    : `${d.day}: ${plural(d.stored, "task")} stored; p50 ${secondsText(d.p50Seconds!)}, p95 ${secondsText(d.p95Seconds!)} (estimated from histogram buckets)`}
                </title>
                {d.stored > 0 &&
                  bars.map((b) => (
                    <g class="bar" data-percentile={b.label}>
                      <title>{`${d.day} ${b.label}: ${secondsText(b.v!)} (estimated from histogram buckets, within ±9%)`}</title>
                      <rect class={b.cls} x={String(r2(b.x))} y={String(r2(y(b.v!)))} width={String(D.bar)} height={String(r2(Math.max(D.top + D.plot - y(b.v!), 1.5)))} />
                      <text class="bar-value" x={String(r2(b.x + D.bar / 2))} y={String(r2(y(b.v!) - 4))} text-anchor="middle">
                        {secondsText(b.v!)}
                      </text>
                    </g>
                  ))}
                <text class="axis-text" x={String(x0 + D.col / 2)} y={String(D.top + D.plot + 16)} text-anchor="middle">
                  {dayLabel(ms)}
                </text>
                <text class="axis-text muted-text" x={String(x0 + D.col / 2)} y={String(D.top + D.plot + 31)} text-anchor="middle">
                  {d.stored === 0 ? "none" : `${d.stored} stored`}
                </text>
              </g>
            );
          })}
          <line class="axis-line" x1={String(D.left)} x2={String(width - 8)} y1={String(D.top + D.plot)} y2={String(D.top + D.plot)} />
          {!any && (
            <text class="chart-empty" x={String(D.left + (days.length * D.col) / 2)} y={String(D.top + D.plot / 2)} text-anchor="middle">
              No task stored in the last 7 days
            </text>
          )}
        </svg>
      </div>
      <ul class="chart-legend small">
        <li>
          <span class="swatch-box bar-p50" aria-hidden="true"></span>p50 (half the tasks took less)
        </li>
        <li>
          <span class="swatch-box bar-p95" aria-hidden="true"></span>p95 (all but 1 in 20 took less)
        </li>
      </ul>
    </figure>
  );
}

// ── Horizontal bars: failures by code, announcement delivery ──────────────────────────────

interface HBar {
  /** data-* name and value identifying the row. */
  key: [string, string];
  label: string;
  count: number;
  title: string;
  cls: string;
}

/** Narrow, so that in half the page's width its words are still the size of the page's small print. */
const B = { label: 185, bar: 160, value: 50, row: 26, top: 4 };

function HBarChart(props: { rows: HBar[]; label: string }) {
  const top = niceMax(Math.max(0, ...props.rows.map((r) => r.count)));
  const width = B.label + B.bar + B.value;
  const height = B.top * 2 + props.rows.length * B.row;
  return (
    <svg class="chart-svg hbars" xmlns="http://www.w3.org/2000/svg" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.label}>
      {props.rows.map((r, i) => {
        const y = B.top + i * B.row;
        const w = r.count === 0 ? 0 : Math.max((r.count / top) * B.bar, 2);
        return (
          <g class="hbar" {...{ [`data-${r.key[0]}`]: r.key[1] }} data-count={String(r.count)}>
            <title>{r.title}</title>
            <text class="axis-text" x={String(B.label - 8)} y={String(y + 17)} text-anchor="end">
              {r.label}
            </text>
            <rect class="hbar-track" x={String(B.label)} y={String(y + 4)} width={String(B.bar)} height={String(B.row - 8)} />
            {w > 0 && <rect class={r.cls} x={String(B.label)} y={String(y + 4)} width={String(r2(w))} height={String(B.row - 8)} />}
            <text class="bar-value" x={String(r2(B.label + w + 6))} y={String(y + 17)}>
              {r.count.toLocaleString("en-US")}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** Codes shown one by one; the rest are added up in one row. */
const MAX_CODES = 8;

function FailuresChart(props: { charts: Charts }) {
  const failures = props.charts.failures;
  const shown = failures.slice(0, MAX_CODES);
  const rest = failures.slice(MAX_CODES).reduce((n, f) => n + f.count, 0);
  const rows: HBar[] = shown.map((f) => ({
    key: ["code", f.code],
    label: f.code.length > 20 ? `${f.code.slice(0, 19)}…` : f.code,
    count: f.count,
    title: `${f.code}: ${plural(f.count, "task")} failed with this code in the last 7 days`,
    cls: "bar-failed",
  }));
  if (rest > 0) rows.push({ key: ["code", "other"], label: "other codes", count: rest, title: `${plural(rest, "task")} failed with ${failures.length - MAX_CODES} other codes`, cls: "bar-failed" });
  return (
    <figure class="chart" id="chart-failures">
      <figcaption>
        <h3>Failures by error code</h3>
        <p class="small muted">Tasks that failed in the last 7 days, by the code of their error.</p>
      </figcaption>
      {rows.length === 0 ? <p class="muted chart-none">No task failed in the last 7 days.</p> : <HBarChart rows={rows} label="Failures by error code over the last 7 days" />}
    </figure>
  );
}

function AnnouncementsChart(props: { charts: Charts }) {
  const a = props.charts.announcements;
  const total = a.deliveredFirstAttempt + a.deliveredAfterRetries + a.failed;
  const rows: HBar[] = [
    { key: ["outcome", "first"], label: "delivered at first attempt", count: a.deliveredFirstAttempt, title: `${plural(a.deliveredFirstAttempt, "announcement")} delivered at the first attempt`, cls: "bar-stored" },
    { key: ["outcome", "retried"], label: "delivered after retries", count: a.deliveredAfterRetries, title: `${plural(a.deliveredAfterRetries, "announcement")} delivered after one or more failed attempts`, cls: "bar-retried" },
    { key: ["outcome", "failed"], label: "failed", count: a.failed, title: `${plural(a.failed, "announcement")} given up (retried for 3 days, or the app answered 410)`, cls: "bar-failed" },
  ];
  return (
    <figure class="chart" id="chart-announcements">
      <figcaption>
        <h3>Announcement delivery</h3>
        <p class="small muted">Announcements to your app (NOTIFY_URL) that ended in the last 7 days.</p>
      </figcaption>
      {total === 0 ? <p class="muted chart-none">No announcement ended in the last 7 days.</p> : <HBarChart rows={rows} label="Announcement delivery over the last 7 days" />}
    </figure>
  );
}

export function ChartsSection(props: { charts: Charts | null }) {
  return (
    <section id="charts">
      <h2>The last 7 days</h2>
      {props.charts === null ? (
        <p class="muted">The charts could not be read just now; they come back with the next reload.</p>
      ) : (
        <div class="charts">
          <HourlyChart charts={props.charts} />
          <DurationsChart charts={props.charts} />
          <FailuresChart charts={props.charts} />
          <AnnouncementsChart charts={props.charts} />
        </div>
      )}
    </section>
  );
}
