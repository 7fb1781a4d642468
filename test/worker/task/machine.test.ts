// The pure state machine, driven without any runtime.
import { describe, expect, it } from "vitest";
import { MAX_TRANSFER_ATTEMPTS, pollDelayMs, transferRetryDelayMs } from "../../../src/task/backoff";
import { apply, isExpired, mayPoll, type Limits, type Task, type TaskEvent } from "../../../src/task/machine";

const limits: Limits = { overdueAfterMs: 300_000, maxAgeMs: 86_400_000 };
const T0 = 1_700_000_000_000;
const wav = { key: "wav/a.wav", size: 10, sha256: "ab", contentType: "audio/wav" };

function run(events: [TaskEvent, number][], start: Task | null = null): Task | null {
  return events.reduce<Task | null>((t, [e, at]) => apply(t, "a", e, at, limits), start);
}

describe("task state machine", () => {
  it("registration makes a pending task due once it is overdue; registering again changes nothing", () => {
    const t = run([[{ type: "registered" }, T0]])!;
    expect(t).toMatchObject({ taskId: "a", state: "pending", createdAt: T0, dueAt: T0 + 300_000, attempts: 0 });
    expect(apply(t, "a", { type: "registered" }, T0 + 5, limits)).toBe(t);
  });

  it("a WAV URL starts a download due now; a duplicate changes nothing", () => {
    const t = run([[{ type: "registered" }, T0], [{ type: "wavUrl", url: "https://x/a.wav" }, T0 + 10]])!;
    expect(t).toMatchObject({ state: "downloading", sourceUrl: "https://x/a.wav", dueAt: T0 + 10, updatedAt: T0 + 10 });
    expect(apply(t, "a", { type: "wavUrl", url: "https://x/a.wav" }, T0 + 20, limits)).toBe(t);
  });

  it("an unknown task is created by a WAV URL or by a failure", () => {
    expect(run([[{ type: "wavUrl", url: "https://x/a.wav" }, T0]])?.state).toBe("downloading");
    const failed = run([[{ type: "providerFailed", error: { code: "451", message: "download failed" } }, T0]]);
    expect(failed).toMatchObject({ state: "failed", error: { code: "451", message: "download failed" }, dueAt: null });
  });

  it("transfer attempts count, retry with backoff, and store", () => {
    let t = run([[{ type: "wavUrl", url: "u" }, T0], [{ type: "transferStarted" }, T0]])!;
    expect(t).toMatchObject({ attempts: 1, attemptStartedAt: T0 });
    t = apply(t, "a", { type: "transferFailed", error: { code: "truncated", message: "short" }, retryable: true }, T0 + 5, limits)!;
    expect(t).toMatchObject({ state: "downloading", attemptStartedAt: null, dueAt: T0 + 5 + transferRetryDelayMs(1), error: { code: "truncated" } });
    t = apply(t, "a", { type: "transferStarted" }, T0 + 40_000, limits)!;
    t = apply(t, "a", { type: "transferSucceeded", wav }, T0 + 41_000, limits)!;
    expect(t).toMatchObject({ state: "stored", wav, error: null, dueAt: null, attempts: 2 });
  });

  it("gives up after the last attempt, and at once on a final error", () => {
    let t = run([[{ type: "wavUrl", url: "u" }, T0]])!;
    for (let i = 1; i <= MAX_TRANSFER_ATTEMPTS; i++) {
      t = apply(t, "a", { type: "transferStarted" }, T0 + i, limits)!;
      t = apply(t, "a", { type: "transferFailed", error: { code: "source_http_error", message: "HTTP 503" }, retryable: true }, T0 + i, limits)!;
      expect(t.state).toBe(i < MAX_TRANSFER_ATTEMPTS ? "downloading" : "failed");
    }
    expect(t.error?.message).toContain(`gave up after ${MAX_TRANSFER_ATTEMPTS} attempts`);

    let u = run([[{ type: "wavUrl", url: "u" }, T0], [{ type: "transferStarted" }, T0]])!;
    u = apply(u, "a", { type: "transferFailed", error: { code: "not_a_wav", message: "html" }, retryable: false }, T0, limits)!;
    expect(u).toMatchObject({ state: "failed", error: { code: "not_a_wav", message: "html" } });
  });

  it("an interrupted attempt is retried at once and counts toward the limit", () => {
    let t = run([[{ type: "wavUrl", url: "u" }, T0], [{ type: "transferStarted" }, T0]])!;
    t = apply(t, "a", { type: "transferInterrupted" }, T0 + 7, limits)!;
    expect(t).toMatchObject({ state: "downloading", attempts: 1, attemptStartedAt: null, dueAt: T0 + 7, error: { code: "interrupted" } });
    expect(apply(t, "a", { type: "transferInterrupted" }, T0 + 8, limits)).toBe(t); // no attempt running: nothing to do
    for (let i = 2; i <= MAX_TRANSFER_ATTEMPTS; i++) {
      t = apply(t, "a", { type: "transferStarted" }, T0 + i, limits)!;
      t = apply(t, "a", { type: "transferInterrupted" }, T0 + i, limits)!;
    }
    expect(t).toMatchObject({ state: "failed", error: { code: "interrupted" } });
  });

  it("stored is final: nothing changes it", () => {
    const t = run([[{ type: "wavUrl", url: "u" }, T0], [{ type: "transferStarted" }, T0], [{ type: "transferSucceeded", wav }, T0]])!;
    for (const e of [
      { type: "wavUrl", url: "v" },
      { type: "providerFailed", error: { code: "500", message: "x" } },
      { type: "registered" },
      { type: "pollPending" },
      { type: "expired" },
      { type: "transferStarted" },
    ] as TaskEvent[]) {
      expect(apply(t, "a", e, T0 + 1, limits)).toBe(t);
    }
  });

  it("a failed task gets another go from a later WAV URL, with a fresh attempt budget", () => {
    const failed = run([[{ type: "providerFailed", error: { code: "500", message: "x" } }, T0]])!;
    const t = apply(failed, "a", { type: "wavUrl", url: "u" }, T0 + 1, limits)!;
    expect(t).toMatchObject({ state: "downloading", attempts: 0, error: null, sourceUrl: "u" });
  });

  it("another WAV URL while waiting to retry replaces the old one; while an attempt runs it waits", () => {
    let t = run([[{ type: "wavUrl", url: "u1" }, T0], [{ type: "transferStarted" }, T0]])!;
    expect(apply(t, "a", { type: "wavUrl", url: "u2" }, T0 + 1, limits)).toBe(t);
    t = apply(t, "a", { type: "transferFailed", error: { code: "source_http_error", message: "HTTP 403" }, retryable: true }, T0 + 2, limits)!;
    t = apply(t, "a", { type: "wavUrl", url: "u2" }, T0 + 3, limits)!;
    expect(t).toMatchObject({ state: "downloading", sourceUrl: "u2", attempts: 0, error: null, dueAt: T0 + 3 });
  });

  it("a late provider failure does not override a download in progress", () => {
    const t = run([[{ type: "wavUrl", url: "u" }, T0]])!;
    expect(apply(t, "a", { type: "providerFailed", error: { code: "500", message: "x" } }, T0 + 1, limits)).toBe(t);
  });

  it("polls back off 30 s, 1 min, 2 min … capped at 30 min, and respect the 30 s rule", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(pollDelayMs)).toEqual([30e3, 60e3, 120e3, 240e3, 480e3, 960e3, 1800e3, 1800e3]);
    let t = run([[{ type: "registered" }, T0]])!;
    expect(mayPoll(t, T0, 30_000)).toBe(true);
    t = apply(t, "a", { type: "pollPending" }, T0 + 300_000, limits)!;
    expect(t).toMatchObject({ polls: 1, lastPolledAt: T0 + 300_000, dueAt: T0 + 330_000 });
    expect(mayPoll(t, T0 + 329_999, 30_000)).toBe(false);
    expect(mayPoll(t, T0 + 330_000, 30_000)).toBe(true);
    t = apply(t, "a", { type: "pollPending" }, T0 + 330_000, limits)!;
    expect(t.dueAt).toBe(T0 + 330_000 + 60_000);
  });

  it("expires a pending task past its maximum age", () => {
    const t = run([[{ type: "registered" }, T0]])!;
    expect(isExpired(t, T0 + limits.maxAgeMs - 1, limits)).toBe(false);
    expect(isExpired(t, T0 + limits.maxAgeMs, limits)).toBe(true);
    const failed = apply(t, "a", { type: "expired" }, T0 + limits.maxAgeMs, limits)!;
    expect(failed).toMatchObject({ state: "failed", error: { code: "expired" }, dueAt: null });
  });
});
