// The service's own numbers (README, "Dashboard" → "Charts"): what a task's change adds to its
// shard's small counters. Pure, like ./history.ts: the shard hands over the task before and after
// an event and the store adds what comes back, in the same synchronous save as the task. The
// charts then read these counters — a few hundred rows per shard — instead of every task row.
//
// Counted, per UTC hour: tasks reaching `stored`, tasks reaching `failed` (by error code), and
// announcements delivered at their first attempt, delivered after retries, or given up. Per UTC
// day: how long stored tasks took from registration (createdAt) to stored, as a histogram of
// log-scale buckets; percentiles are read from the buckets (so they are estimates, and the charts
// say so).

import { failureOf, type Task } from "./machine";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** The charts' window: the last 7 days, the current hour and day included. */
export const WINDOW_HOURS = 7 * 24;
export const WINDOW_DAYS = 7;

export const METRICS = ["stored", "failed", "delivered_first", "delivered_retried", "delivery_failed"] as const;
export type Metric = (typeof METRICS)[number];

/** Error codes are kept this long at most (a provider's code is a number; ours are words). */
const MAX_CODE_LENGTH = 64;

/**
 * The duration histogram's buckets: bucket 0 holds everything under 1 s; bucket k ≥ 1 holds
 * [2^((k-1)/4), 2^(k/4)) seconds — four buckets per doubling, each about 19% wide — up to the
 * last, which also holds everything longer (2^22 s is 48 days: longer than any task lives).
 */
export const BUCKETS_PER_DOUBLING = 4;
export const LAST_BUCKET = 1 + 22 * BUCKETS_PER_DOUBLING;

/** One counter to add 1 to: an hour's metric (a failure's code), or a day's duration bucket. */
export type StatChange = { hour: number; metric: Metric; code: string } | { day: number; bucket: number };

export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS);
}

export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** The bucket a duration (ms) falls in. */
export function durationBucket(ms: number): number {
  const s = Math.max(0, ms) / 1000;
  if (s < 1) return 0;
  return Math.min(LAST_BUCKET, 1 + Math.floor(Math.log2(s) * BUCKETS_PER_DOUBLING));
}

/** A bucket's range in seconds: [low, high) (the last one is open-ended: high is Infinity). */
export function bucketBounds(bucket: number): { low: number; high: number } {
  if (bucket <= 0) return { low: 0, high: 1 };
  const low = 2 ** ((bucket - 1) / BUCKETS_PER_DOUBLING);
  return { low, high: bucket >= LAST_BUCKET ? Infinity : 2 ** (bucket / BUCKETS_PER_DOUBLING) };
}

/**
 * What a bucket stands for, in seconds: its geometric middle (within ±9% of anything in it), or
 * 0.5 s for bucket 0 and the lower bound for the open-ended last one.
 */
export function bucketEstimate(bucket: number): number {
  if (bucket <= 0) return 0.5;
  if (bucket >= LAST_BUCKET) return bucketBounds(bucket).low;
  return 2 ** ((bucket - 0.5) / BUCKETS_PER_DOUBLING);
}

/**
 * The p-th percentile (0 < p ≤ 1, nearest rank) of a histogram `{bucket: count}`, as its bucket's
 * estimate in seconds; null when the histogram is empty.
 */
export function percentile(histogram: ReadonlyMap<number, number>, p: number): number | null {
  const total = [...histogram.values()].reduce((n, c) => n + c, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket)!;
    if (seen >= rank) return bucketEstimate(bucket);
  }
  return null; // not reached: the last bucket brings `seen` to `total`
}

/**
 * The counters a change of a task adds to (none when nothing counted happened). `now` is when the
 * change is saved.
 */
export function statChanges(before: Task | null, after: Task | null, now: number): StatChange[] {
  if (after === null || after === before) return [];
  const changes: StatChange[] = [];
  const hour = hourOf(now);
  if (after.state === "stored" && before?.state !== "stored") {
    changes.push({ hour, metric: "stored", code: "" });
    changes.push({ day: dayOf(now), bucket: durationBucket(now - after.createdAt) });
  }
  if (after.state === "failed" && before?.state !== "failed") {
    const code = (failureOf(after)?.code ?? "unknown").slice(0, MAX_CODE_LENGTH);
    changes.push({ hour, metric: "failed", code });
  }
  const was = before?.notification;
  const n = after.notification;
  // A redelivery that is delivered counts again: each round is a delivery.
  if (n.state === "delivered" && was?.state !== "delivered") {
    changes.push({ hour, metric: n.attempts <= 1 ? "delivered_first" : "delivered_retried", code: "" });
  }
  if (n.state === "failed" && was?.state !== "failed") changes.push({ hour, metric: "delivery_failed", code: "" });
  return changes;
}
