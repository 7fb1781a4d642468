// The pure state machine, driven without any runtime.
import { describe, expect, it } from "vitest";
import { pollDelayMs, transferRetryDelayMs } from "../../../src/task/backoff";
import { apply, failureOf, isExpired, mayPoll, type MachineContext, type Task, type TaskEvent } from "../../../src/task/machine";
import { epochOf, fileOf, wav, wavOffer, WAV } from "./fixtures";

const RETENTION_MS = 1_123_200_000; // 13 days
let ids = 0;
const limits: MachineContext = { overdueAfterMs: 300_000, maxAgeMs: 86_400_000, retentionMs: RETENTION_MS, notify: false, newMessageId: () => `msg_${++ids}` };
const notifying: MachineContext = { ...limits, notify: true };
const T0 = 1_700_000_000_000;

const started: TaskEvent = { type: "transferStarted", file: WAV };

function run(events: [TaskEvent, number][], start: Task | null = null): Task | null {
  return events.reduce<Task | null>((t, [e, at]) => apply(t, "a", e, at, limits), start);
}

/** The WAV's running attempt answered with `result` at `at`. */
function answer(t: Task, result: { ok: true } | { code: string; message?: string; retryable: boolean; refreshUrl?: boolean }, at: number, c = limits): Task {
  const epoch = epochOf(t);
  const e: TaskEvent =
    "ok" in result
      ? { type: "transferSucceeded", file: WAV, epoch, stored: wav }
      : { type: "transferFailed", file: WAV, epoch, error: { code: result.code, message: result.message ?? "m" }, retryable: result.retryable, refreshUrl: result.refreshUrl };
  return apply(t, "a", e, at, c)!;
}

describe("task state machine", () => {
  it("registration makes a pending task due once it is overdue; registering again changes nothing", () => {
    const t = run([[{ type: "registered" }, T0]])!;
    expect(t).toMatchObject({ taskId: "a", kind: "wav", state: "pending", createdAt: T0, pollAt: T0 + 300_000, files: [], epoch: 0 });
    expect(apply(t, "a", { type: "registered" }, T0 + 5, limits)).toBe(t);
  });

  it("a WAV URL starts a download due now; a duplicate changes nothing", () => {
    const t = run([[{ type: "registered" }, T0], [wavOffer("https://x/a.wav"), T0 + 10]])!;
    expect(t).toMatchObject({ state: "downloading", stage: "complete", pollAt: null, updatedAt: T0 + 10 });
    expect(t.files).toHaveLength(1);
    expect(fileOf(t)).toMatchObject({ source: { url: "https://x/a.wav" }, state: "waiting", attempts: 0, dueAt: T0 + 10, knownAt: T0 + 10 });
    expect(apply(t, "a", wavOffer("https://x/a.wav"), T0 + 20, limits)).toBe(t);
  });

  it("an unknown task is created by a WAV URL or by a failure", () => {
    expect(run([[wavOffer("https://x/a.wav"), T0]])?.state).toBe("downloading");
    const failed = run([[{ type: "providerFailed", error: { code: "451", message: "download failed" } }, T0]])!;
    expect(failed).toMatchObject({ state: "failed", failure: { code: "451", message: "download failed" }, files: [] });
    expect(failureOf(failed)).toEqual({ code: "451", message: "download failed" });
  });

  it("transfer attempts count, retry with backoff, and store", () => {
    let t = run([[wavOffer("u"), T0], [started, T0]])!;
    expect(fileOf(t)).toMatchObject({ attempts: 1, running: { epoch: 1, since: T0 }, dueAt: null });
    t = answer(t, { code: "truncated", message: "short", retryable: true }, T0 + 5);
    expect(t.state).toBe("downloading");
    expect(fileOf(t)).toMatchObject({ state: "waiting", running: null, dueAt: T0 + 5 + transferRetryDelayMs(1), error: { code: "truncated" } });
    t = apply(t, "a", started, T0 + 40_000, limits)!;
    t = answer(t, { ok: true }, T0 + 41_000);
    expect(t).toMatchObject({ state: "stored", failure: null });
    expect(fileOf(t)).toMatchObject({ state: "stored", stored: wav, error: null, dueAt: null, running: null, attempts: 2 });
  });

  it("retries with growing gaps (30 s, 2 min, 8 min, 32 min, then 2 h) until the provider's retention ends", () => {
    expect([1, 2, 3, 4, 5, 9].map(transferRetryDelayMs)).toEqual([30e3, 120e3, 480e3, 1920e3, 7200e3, 7200e3]);
    let t = run([[wavOffer("u"), T0]])!;
    let now = T0;
    while (t.state === "downloading") {
      now = Math.max(now + 1, fileOf(t).dueAt!);
      t = apply(t, "a", started, now, limits)!;
      t = answer(t, { code: "source_http_error", message: "HTTP 503", retryable: true }, now);
    }
    // Nothing is given up while the provider may still hold the WAV: about 13 days of attempts.
    expect(now).toBeGreaterThan(T0 + RETENTION_MS - 2 * 3600_000);
    expect(now).toBeLessThanOrEqual(T0 + RETENTION_MS);
    expect(fileOf(t).attempts).toBeGreaterThan(150);
    expect(t.state).toBe("failed");
    expect(fileOf(t)).toMatchObject({ state: "failed", error: { code: "source_http_error" } });
    expect(failureOf(t)?.code).toBe("source_http_error");
    expect(failureOf(t)?.message).toContain("gave up after");

    let u = run([[wavOffer("u"), T0], [started, T0]])!;
    u = answer(u, { code: "not_a_wav", message: "html", retryable: false }, T0);
    expect(u.state).toBe("failed");
    // A wav task's failure is its WAV's, in its own words.
    expect(failureOf(u)).toEqual({ code: "not_a_wav", message: "html" });
  });

  it("an expired link, and every third failed attempt, asks for a current URL first — never within 30 s of a poll", () => {
    let t = run([[wavOffer("u"), T0], [started, T0]])!;
    t = answer(t, { code: "source_http_error", message: "HTTP 403", retryable: true, refreshUrl: true }, T0 + 1);
    expect(t.state).toBe("downloading");
    expect(fileOf(t)).toMatchObject({ refreshUrl: true, dueAt: T0 + 1 + 30_000 });
    t = apply(t, "a", { type: "transferStarted", file: WAV, refreshUrl: true }, T0 + 40_000, limits)!;
    expect(fileOf(t).refreshUrl).toBe(false);
    expect(t).toMatchObject({ lastPolledAt: T0 + 40_000, polls: 1 });
    t = apply(t, "a", { type: "urlsRefreshed", file: WAV, urls: { [WAV]: "u2" } }, T0 + 40_001, limits)!;
    expect(fileOf(t).source).toEqual({ url: "u2" });
    // Attempt 2 fails plainly (no refresh); attempt 3's failure asks for one again.
    t = answer(t, { code: "truncated", message: "short", retryable: true }, T0 + 41_000);
    expect(fileOf(t).refreshUrl).toBe(false);
    t = apply(t, "a", started, fileOf(t).dueAt!, limits)!;
    const third = fileOf(t).running!.since;
    t = answer(t, { code: "truncated", message: "short", retryable: true }, third + 1);
    expect(fileOf(t)).toMatchObject({ attempts: 3, refreshUrl: true });
    expect(fileOf(t).dueAt).toBeGreaterThanOrEqual(T0 + 40_000 + 30_000);
  });

  it("stored is final: nothing changes it", () => {
    let t = run([[wavOffer("u"), T0], [started, T0]])!;
    t = answer(t, { ok: true }, T0);
    expect(t.state).toBe("stored");
    for (const e of [
      wavOffer("v"),
      { type: "providerFailed", error: { code: "500", message: "x" } },
      { type: "registered" },
      { type: "pollPending" },
      { type: "expired" },
      started,
      { type: "retryRequested" },
      { type: "urlsRefreshed", file: WAV, urls: { [WAV]: "v" } },
    ] as TaskEvent[]) {
      expect(apply(t, "a", e, T0 + 1, limits)).toBe(t);
    }
  });

  it("a failed task gets another go from a later WAV URL, with a fresh attempt budget", () => {
    const failed = run([[{ type: "providerFailed", error: { code: "500", message: "x" } }, T0]])!;
    const t = apply(failed, "a", wavOffer("u"), T0 + 1, limits)!;
    expect(t).toMatchObject({ state: "downloading", failure: null });
    expect(fileOf(t)).toMatchObject({ attempts: 0, error: null, source: { url: "u" }, dueAt: T0 + 1 });
    // A WAV that could never be stored: another URL starts its attempts over.
    let lost = run([[wavOffer("u"), T0], [started, T0]])!;
    lost = answer(lost, { code: "not_a_wav", retryable: false }, T0 + 2);
    const again = apply(lost, "a", wavOffer("w"), T0 + 3, limits)!;
    expect(again.state).toBe("downloading");
    expect(fileOf(again)).toMatchObject({ state: "waiting", attempts: 0, error: null, knownAt: T0 + 3, dueAt: T0 + 3, source: { url: "w" } });
  });

  it("a signed URL replaces the known one only while waiting or failed, and only when newer", () => {
    let t = run([[wavOffer("u1", 1000), T0], [started, T0]])!;
    t = apply(t, "a", { type: "transferInterrupted", file: WAV, epoch: epochOf(t) }, T0 + 1, limits)!;
    expect(apply(t, "a", wavOffer("evil", 1000), T0 + 2, limits)).toBe(t); // same time: a replay
    expect(apply(t, "a", wavOffer("older", 999), T0 + 2, limits)).toBe(t);
    t = apply(t, "a", wavOffer("u2", 1001), T0 + 3, limits)!;
    expect(fileOf(t)).toMatchObject({ source: { url: "u2" }, signedAt: 1001 });
  });

  it("another WAV URL while waiting to retry replaces the old one; while an attempt runs it waits", () => {
    let t = run([[wavOffer("u1"), T0], [started, T0]])!;
    expect(apply(t, "a", wavOffer("u2"), T0 + 1, limits)).toBe(t);
    t = answer(t, { code: "source_http_error", message: "HTTP 403", retryable: true }, T0 + 2);
    t = apply(t, "a", wavOffer("u2"), T0 + 3, limits)!;
    expect(t.state).toBe("downloading");
    expect(fileOf(t)).toMatchObject({ source: { url: "u2" }, attempts: 1, error: null, dueAt: T0 + 3 });
  });

  it("a late provider failure does not override a download in progress", () => {
    const t = run([[wavOffer("u"), T0]])!;
    expect(apply(t, "a", { type: "providerFailed", error: { code: "500", message: "x" } }, T0 + 1, limits)).toBe(t);
  });

  it("polls back off 30 s, 1 min, 2 min … capped at 30 min, and respect the 30 s rule", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(pollDelayMs)).toEqual([30e3, 60e3, 120e3, 240e3, 480e3, 960e3, 1800e3, 1800e3]);
    let t = run([[{ type: "registered" }, T0]])!;
    expect(mayPoll(t, T0)).toBe(true);
    t = apply(t, "a", { type: "pollStarted" }, T0 + 300_000, limits)!;
    expect(t.pollAt).toBe(T0 + 330_000); // not due for another tick while its answer is awaited
    t = apply(t, "a", { type: "pollPending" }, T0 + 300_000, limits)!;
    expect(t).toMatchObject({ polls: 1, lastPolledAt: T0 + 300_000, pollAt: T0 + 330_000 });
    expect(mayPoll(t, T0 + 329_999)).toBe(false);
    expect(mayPoll(t, T0 + 330_000)).toBe(true);
    t = apply(t, "a", { type: "pollStarted" }, T0 + 330_000, limits)!;
    t = apply(t, "a", { type: "pollPending" }, T0 + 330_000, limits)!;
    expect(t.pollAt).toBe(T0 + 330_000 + 60_000);
  });

  it("expires a pending task past its maximum age", () => {
    const t = run([[{ type: "registered" }, T0]])!;
    expect(isExpired(t, T0 + limits.maxAgeMs - 1, limits)).toBe(false);
    expect(isExpired(t, T0 + limits.maxAgeMs, limits)).toBe(true);
    const failed = apply(t, "a", { type: "expired" }, T0 + limits.maxAgeMs, limits)!;
    expect(failed).toMatchObject({ state: "failed", failure: { code: "expired" } });
    expect(failed.failure?.message).toBe("no result from the provider within 86400 s of registration");
  });

  it("a manual retry reopens a failed task: with a URL it downloads anew (asking for a current one), without one it polls", () => {
    let t = run([[wavOffer("u"), T0], [started, T0]])!;
    t = answer(t, { code: "not_a_wav", message: "html", retryable: false }, T0);
    t = apply(t, "a", { type: "retryRequested" }, T0 + 10, limits)!;
    expect(t).toMatchObject({ state: "downloading", failure: null, ageFrom: T0 + 10 });
    expect(fileOf(t)).toMatchObject({ state: "waiting", attempts: 0, refreshUrl: true, knownAt: T0 + 10, dueAt: T0 + 10, error: null });
    const failed = run([[{ type: "providerFailed", error: { code: "500", message: "x" } }, T0]])!;
    expect(apply(failed, "a", { type: "retryRequested" }, T0 + 10, limits)).toMatchObject({ state: "pending", pollAt: T0 + 10, failure: null });
  });

  it("a final state starts an announcement with a new id; answers follow the retry schedule; 410 stops", () => {
    let t = apply(null, "a", { type: "registered" }, T0, notifying)!;
    expect(t.notification.state).toBe("waiting");
    t = apply(t, "a", { type: "providerFailed", error: { code: "500", message: "x" } }, T0 + 5, notifying)!;
    expect(t.notification).toMatchObject({ state: "pending", type: "wav.failed", reachedAt: T0 + 5, nextAttemptAt: T0 + 5, attempts: 0 });
    const id = t.notification.messageId;
    expect(id).toMatch(/^msg_/);
    t = apply(t, "a", { type: "notifyStarted" }, T0 + 6, notifying)!;
    t = apply(t, "a", { type: "notifyAnswered", status: 500, outcome: "retry" }, T0 + 7, notifying)!;
    expect(t.notification).toMatchObject({ state: "pending", attempts: 1, lastStatus: 500, nextAttemptAt: T0 + 7 + 5_000, messageId: id });
    t = apply(t, "a", { type: "notifyStarted" }, T0 + 5_007, notifying)!;
    t = apply(t, "a", { type: "notifyAnswered", status: 410, outcome: "gone" }, T0 + 5_008, notifying)!;
    expect(t.notification).toMatchObject({ state: "failed", attempts: 2, nextAttemptAt: null });
    t = apply(t, "a", { type: "notifyRequested" }, T0 + 9_000, notifying)!;
    expect(t.notification).toMatchObject({ state: "pending", attempts: 0, messageId: id, nextAttemptAt: T0 + 9_000 });
  });

  it("a task stored again after a retry is announced with a new id; without NOTIFY_URL nothing is", () => {
    let t = apply(null, "a", wavOffer("u"), T0, notifying)!;
    t = apply(t, "a", started, T0, notifying)!;
    t = answer(t, { code: "not_a_wav", message: "html", retryable: false }, T0, notifying);
    expect(t.notification).toMatchObject({ state: "pending", type: "wav.failed" });
    const first = t.notification.messageId;
    t = apply(t, "a", { type: "retryRequested" }, T0 + 1, notifying)!;
    t = apply(t, "a", started, T0 + 2, notifying)!;
    t = answer(t, { ok: true }, T0 + 3, notifying);
    expect(t.notification).toMatchObject({ state: "pending", type: "wav.stored" });
    expect(t.notification.messageId).not.toBe(first);
    let quiet = run([[wavOffer("u"), T0], [started, T0]])!;
    quiet = answer(quiet, { ok: true }, T0);
    expect(quiet.state).toBe("stored");
    expect(quiet.notification.state).toBe("off");
  });

  it("the same callback again does not reopen a failed task; another URL does", () => {
    let failed = run([
      [wavOffer("https://cdn/x.html"), T0],
      [started, T0 + 1],
    ])!;
    failed = answer(failed, { code: "not_a_wav", message: "html", retryable: false }, T0 + 2);
    expect(failed.state).toBe("failed");
    expect(apply(failed, "a", wavOffer("https://cdn/x.html"), T0 + 60_000, limits)).toBe(failed);
    expect(apply(failed, "a", wavOffer("https://cdn/y.wav"), T0 + 60_000, limits)?.state).toBe("downloading");
  });

  it("reopening a failed task stops its wav.failed announcement; its next outcome is a new round", () => {
    let t = apply(null, "a", { type: "providerFailed", error: { code: "500", message: "x" } }, T0, notifying)!;
    t = apply(t, "a", { type: "notifyStarted" }, T0 + 1, notifying)!;
    t = apply(t, "a", { type: "notifyAnswered", status: 503, outcome: "retry" }, T0 + 2, notifying)!;
    expect(t.notification).toMatchObject({ state: "pending", type: "wav.failed", round: 1 });
    t = apply(t, "a", wavOffer("https://cdn/x.wav"), T0 + 3, notifying)!;
    expect(t.state).toBe("downloading");
    expect(t.notification).toMatchObject({ state: "waiting", nextAttemptAt: null, messageId: null });
    t = apply(t, "a", started, T0 + 4, notifying)!;
    t = answer(t, { ok: true }, T0 + 5, notifying);
    expect(t.notification).toMatchObject({ state: "pending", type: "wav.stored", round: 2, attempts: 0 });
  });

  it("a redelivery starts a new round, so the previous round's answer is told apart", () => {
    let t = apply(null, "a", { type: "providerFailed", error: { code: "500", message: "x" } }, T0, notifying)!;
    t = apply(t, "a", { type: "notifyStarted" }, T0 + 1, notifying)!;
    const before = t.notification.round;
    t = apply(t, "a", { type: "notifyRequested" }, T0 + 2, notifying)!;
    expect(t.notification.round).toBe(before + 1);
    expect(t.notification).toMatchObject({ attempts: 0, sendingSince: null, state: "pending" });
  });

  it("a link refresh that could not be made is still wanted by the next attempt", () => {
    let t = run([[wavOffer("u"), T0], [started, T0]])!;
    t = answer(t, { code: "source_http_error", message: "HTTP 410", retryable: true, refreshUrl: true }, T0 + 1);
    t = apply(t, "a", { type: "transferStarted", file: WAV, refreshUrl: false }, fileOf(t).dueAt!, limits)!;
    expect(fileOf(t).refreshUrl).toBe(true);
    expect(t.polls).toBe(0); // no refresh was made, so no poll either
    t = answer(t, { code: "truncated", message: "short", retryable: true }, fileOf(t).running!.since + 1);
    t = apply(t, "a", { type: "transferStarted", file: WAV, refreshUrl: true }, fileOf(t).dueAt!, limits)!;
    expect(fileOf(t).refreshUrl).toBe(false);
  });

  it("an announcement stops (off) when NOTIFY_URL is no longer set", () => {
    let t = apply(null, "a", { type: "providerFailed", error: { code: "500", message: "x" } }, T0, notifying)!;
    expect(t.notification.state).toBe("pending");
    t = apply(t, "a", { type: "notifyDisabled" }, T0 + 1, limits)!;
    expect(t.notification).toMatchObject({ state: "off", nextAttemptAt: null });
  });
});
