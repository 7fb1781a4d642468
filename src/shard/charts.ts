// The overview's charts across all shards (README, "Dashboard" → "Charts"): each shard answers
// its small counters of the last 7 days (../task/stats.ts; a few hundred rows at most), and they
// are added up here. Histograms add bucket by bucket, so the percentiles of the sum are exact
// percentiles of every shard's durations together — up to the width of a bucket.

import { iso } from "../lib/time";
import { BUCKETS_PER_DOUBLING, DAY_MS, dayOf, HOUR_MS, hourOf, percentile, WINDOW_DAYS, WINDOW_HOURS } from "../task/stats";
import { shard, SHARD_COUNT } from "./shards";
import type { ShardCounters } from "./store";

/** What the charts say of percentiles (the page shows it under the chart). */
export const PERCENTILE_NOTE = `estimated from log-scale histogram buckets (${BUCKETS_PER_DOUBLING} per doubling of time), so each is within ±9% of the true value`;

export interface Charts {
  generatedAt: string;
  window: { from: string; to: string; hours: number; days: number };
  /** Oldest first, one per UTC hour of the window (the current one last). */
  hourly: { hour: string; stored: number; failed: number }[];
  totals: { stored: number; failed: number };
  durations: {
    note: string;
    bucketsPerDoubling: number;
    /** Oldest first, one per UTC day of the window (today last). */
    days: { day: string; stored: number; p50Seconds: number | null; p95Seconds: number | null }[];
  };
  /** Most frequent first. */
  failures: { code: string; count: number }[];
  announcements: { deliveredFirstAttempt: number; deliveredAfterRetries: number; failed: number };
}

export async function readCharts(env: Env, now: number): Promise<Charts> {
  const fromHour = hourOf(now) - WINDOW_HOURS + 1;
  const fromDay = dayOf(now) - WINDOW_DAYS + 1;
  const perShard = await Promise.all(Array.from({ length: SHARD_COUNT }, (_, n) => shard(env, n).counters(fromHour, fromDay)));
  return chartsOf(perShard, now);
}

/** The charts from every shard's counters (pure). */
export function chartsOf(perShard: ShardCounters[], now: number): Charts {
  const fromHour = hourOf(now) - WINDOW_HOURS + 1;
  const fromDay = dayOf(now) - WINDOW_DAYS + 1;
  const hourly = Array.from({ length: WINDOW_HOURS }, (_, i) => ({ hour: iso((fromHour + i) * HOUR_MS), stored: 0, failed: 0 }));
  const histograms = Array.from({ length: WINDOW_DAYS }, () => new Map<number, number>());
  const failures = new Map<string, number>();
  const announcements = { deliveredFirstAttempt: 0, deliveredAfterRetries: 0, failed: 0 };
  for (const s of perShard) {
    for (const r of s.hours) {
      const i = r.hour - fromHour;
      if (i < 0 || i >= WINDOW_HOURS) continue;
      if (r.metric === "stored") hourly[i]!.stored += r.n;
      else if (r.metric === "failed") {
        hourly[i]!.failed += r.n;
        failures.set(r.code, (failures.get(r.code) ?? 0) + r.n);
      } else if (r.metric === "delivered_first") announcements.deliveredFirstAttempt += r.n;
      else if (r.metric === "delivered_retried") announcements.deliveredAfterRetries += r.n;
      else if (r.metric === "delivery_failed") announcements.failed += r.n;
    }
    for (const r of s.durations) {
      const histogram = histograms[r.day - fromDay];
      if (histogram) histogram.set(r.bucket, (histogram.get(r.bucket) ?? 0) + r.n);
    }
  }
  return {
    generatedAt: iso(now),
    window: { from: iso(fromHour * HOUR_MS), to: iso((fromHour + WINDOW_HOURS) * HOUR_MS), hours: WINDOW_HOURS, days: WINDOW_DAYS },
    hourly,
    totals: { stored: hourly.reduce((n, h) => n + h.stored, 0), failed: hourly.reduce((n, h) => n + h.failed, 0) },
    durations: {
      note: PERCENTILE_NOTE,
      bucketsPerDoubling: BUCKETS_PER_DOUBLING,
      days: histograms.map((h, i) => ({
        day: iso((fromDay + i) * DAY_MS).slice(0, 10),
        stored: [...h.values()].reduce((n, c) => n + c, 0),
        p50Seconds: rounded(percentile(h, 0.5)),
        p95Seconds: rounded(percentile(h, 0.95)),
      })),
    },
    failures: [...failures].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1)),
    announcements,
  };
}

function rounded(s: number | null): number | null {
  return s === null ? null : Math.round(s * 1000) / 1000;
}
