// What a change adds to the charts' counters (src/task/stats.ts), and how percentiles are read
// from the duration histogram's log-scale buckets.
import { describe, expect, it } from "vitest";
import { apply, type Task, type TaskEvent } from "../../../src/task/machine";
import {
  bucketBounds,
  bucketEstimate,
  BUCKETS_PER_DOUBLING,
  dayOf,
  durationBucket,
  hourOf,
  LAST_BUCKET,
  percentile,
  statChanges,
} from "../../../src/task/stats";
import { ctx, epochOf, failFile, musicOffer, notifying, storeFile, T0, taskAfter, wav, WAV, wavOffer } from "./fixtures";

/** The counters `event` adds when applied to `before` at `at`. */
function changesFor(before: Task | null, event: TaskEvent, at: number, c = ctx) {
  return statChanges(before, apply(before, "a", event, at, c), at);
}

const AT = T0 + 42 * 60_000;

describe("the charts' counters: what a change adds", () => {
  it("a task reaching stored counts in its hour, and its time from registration in its day's bucket", () => {
    const running = taskAfter([{ type: "registered" }, wavOffer("https://cdn/x.wav"), { type: "transferStarted", file: WAV }]);
    const at = T0 + 90_000; // registered at T0: 90 s later
    expect(changesFor(running, { type: "transferSucceeded", file: WAV, epoch: epochOf(running), stored: wav }, at)).toEqual([
      { hour: hourOf(at), metric: "stored", code: "" },
      { day: dayOf(at), bucket: durationBucket(90_000) },
    ]);
  });

  it("a task reaching failed counts with its error's code; a provider failure with the provider's", () => {
    expect(changesFor(null, { type: "providerFailed", error: { code: "451", message: "no" } }, AT)).toEqual([{ hour: hourOf(AT), metric: "failed", code: "451" }]);
    const offered = taskAfter([wavOffer("https://cdn/x.wav")]);
    expect(statChanges(offered, failFile(offered, WAV, AT, "not_a_wav", false), AT)).toEqual([{ hour: hourOf(AT), metric: "failed", code: "not_a_wav" }]);
    // A long code is cut.
    const long = "x".repeat(300);
    expect(changesFor(null, { type: "providerFailed", error: { code: long, message: "no" } }, AT)).toEqual([{ hour: hourOf(AT), metric: "failed", code: "x".repeat(64) }]);
  });

  it("changes that reach no new outcome count nothing: a duplicate, a retry, an attempt, a stored task again", () => {
    const offered = taskAfter([wavOffer("https://cdn/x.wav")]);
    expect(changesFor(offered, wavOffer("https://cdn/x.wav"), AT)).toEqual([]); // changed nothing
    expect(changesFor(offered, { type: "transferStarted", file: WAV }, AT)).toEqual([]);
    const retrying = failFile(offered, WAV, AT, "http_500", true);
    expect(statChanges(offered, retrying, AT)).toEqual([]);
    const stored = storeFile(offered, WAV, AT, wav);
    expect(changesFor(stored, { type: "retryRequested" }, AT + 1)).toEqual([]);
    expect(statChanges(stored, stored, AT)).toEqual([]);
    expect(statChanges(null, null, AT)).toEqual([]);
  });

  it("failed, retried and failed again counts twice; failed then stored counts each once", () => {
    const failed = taskAfter([{ type: "providerFailed", error: { code: "500", message: "x" } }]);
    const reopened = apply(failed, "a", wavOffer("https://cdn/y.wav"), AT, ctx)!;
    expect(statChanges(failed, reopened, AT)).toEqual([]);
    expect(statChanges(reopened, failFile(reopened, WAV, AT + 1, "not_a_wav", false), AT + 1)).toEqual([{ hour: hourOf(AT + 1), metric: "failed", code: "not_a_wav" }]);
    const stored = storeFile(reopened, WAV, AT + 2, wav);
    expect(statChanges(reopened, stored, AT + 2).map((c) => ("metric" in c ? c.metric : "duration"))).toEqual(["stored", "duration"]);
  });

  it("a music task counts once, when the last file is stored and the provider said complete", () => {
    let t = taskAfter([musicOffer("first", ["t1"])]);
    t = storeFile(storeFile(t, "t1.mp3", T0 + 10), "t1.jpeg", T0 + 20);
    expect(t.state).toBe("pending");
    const complete = apply(t, "a", musicOffer("complete", ["t1", "t2"]), T0 + 30, ctx)!;
    expect(statChanges(t, complete, T0 + 30)).toEqual([]);
    const one = storeFile(complete, "t2.mp3", T0 + 40);
    expect(statChanges(complete, one, T0 + 40)).toEqual([]);
    const all = storeFile(one, "t2.jpeg", T0 + 50_000);
    expect(statChanges(one, all, T0 + 50_000)).toEqual([
      { hour: hourOf(T0 + 50_000), metric: "stored", code: "" },
      { day: dayOf(T0 + 50_000), bucket: durationBucket(50_000) },
    ]);
  });

  it("announcements: delivered at the first attempt, after retries, or given up", () => {
    const stored = storeFile(taskAfter([wavOffer("https://cdn/x.wav")], notifying), WAV, T0 + 10, wav, notifying);
    const sending = apply(stored, "a", { type: "notifyStarted" }, T0 + 20, notifying)!;
    expect(changesFor(sending, { type: "notifyAnswered", status: 204, outcome: "delivered" }, AT, notifying)).toEqual([
      { hour: hourOf(AT), metric: "delivered_first", code: "" },
    ]);
    const retried = apply(apply(sending, "a", { type: "notifyAnswered", status: 500, outcome: "retry" }, T0 + 30, notifying), "a", { type: "notifyStarted" }, T0 + 40, notifying)!;
    expect(retried.notification.attempts).toBe(2);
    expect(changesFor(retried, { type: "notifyAnswered", status: 200, outcome: "delivered" }, AT, notifying)).toEqual([
      { hour: hourOf(AT), metric: "delivered_retried", code: "" },
    ]);
    expect(changesFor(sending, { type: "notifyAnswered", status: 410, outcome: "gone" }, AT, notifying)).toEqual([{ hour: hourOf(AT), metric: "delivery_failed", code: "" }]);
    // An attempt that failed and will be retried counts nothing yet.
    expect(changesFor(sending, { type: "notifyAnswered", status: 500, outcome: "retry" }, AT, notifying)).toEqual([]);
    // A redelivery that is delivered again is another delivery.
    const delivered = apply(sending, "a", { type: "notifyAnswered", status: 204, outcome: "delivered" }, T0 + 30, notifying)!;
    const again = apply(apply(delivered, "a", { type: "notifyRequested" }, T0 + 40, notifying), "a", { type: "notifyStarted" }, T0 + 41, notifying)!;
    expect(changesFor(again, { type: "notifyAnswered", status: 204, outcome: "delivered" }, AT, notifying)).toEqual([{ hour: hourOf(AT), metric: "delivered_first", code: "" }]);
  });
});

describe("the duration histogram: log-scale buckets and percentiles", () => {
  it("bucket 0 is under 1 s; then four buckets per doubling; the last is open-ended", () => {
    expect(BUCKETS_PER_DOUBLING).toBe(4);
    expect(durationBucket(0)).toBe(0);
    expect(durationBucket(999)).toBe(0);
    expect(durationBucket(1000)).toBe(1);
    expect(durationBucket(2000)).toBe(5);
    expect(durationBucket(4000)).toBe(9);
    expect(durationBucket(-5)).toBe(0);
    expect(durationBucket(365 * 86_400_000)).toBe(LAST_BUCKET);
    expect(bucketBounds(0)).toEqual({ low: 0, high: 1 });
    expect(bucketBounds(5)).toEqual({ low: 2, high: 2 ** 1.25 });
    expect(bucketBounds(LAST_BUCKET).high).toBe(Infinity);
    // Every duration lies in its bucket's bounds, and the bucket's estimate is within ±9% of it.
    for (const s of [1, 1.5, 3, 10, 42, 60, 299, 3600, 7 * 3600, 86_400 * 3]) {
      const b = durationBucket(s * 1000);
      const { low, high } = bucketBounds(b);
      expect(s).toBeGreaterThanOrEqual(low);
      expect(s).toBeLessThan(high);
      expect(Math.abs(bucketEstimate(b) - s) / s).toBeLessThanOrEqual(0.0906);
    }
  });

  it("percentiles by nearest rank over the buckets; null for an empty histogram", () => {
    const histogram = (seconds: number[]) => {
      const h = new Map<number, number>();
      for (const s of seconds) h.set(durationBucket(s * 1000), (h.get(durationBucket(s * 1000)) ?? 0) + 1);
      return h;
    };
    expect(percentile(new Map(), 0.5)).toBeNull();
    const twenty = Array.from({ length: 20 }, (_, i) => (i + 1) * 10); // 10 s … 200 s
    // p50 of 20 is the 10th (100 s), p95 the 19th (190 s): each read as its bucket's estimate.
    expect(percentile(histogram(twenty), 0.5)).toBe(bucketEstimate(durationBucket(100_000)));
    expect(percentile(histogram(twenty), 0.95)).toBe(bucketEstimate(durationBucket(190_000)));
    expect(percentile(histogram([5]), 0.5)).toBe(bucketEstimate(durationBucket(5000)));
    expect(percentile(histogram([0.2, 0.3]), 0.95)).toBe(0.5);
  });
});
