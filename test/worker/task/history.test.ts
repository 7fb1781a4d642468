// What a change meant (src/task/history.ts): the entries the shard stores for each transition.
import { describe, expect, it } from "vitest";
import { callbackNote, meaningOf, pollNote } from "../../../src/task/history";
import { apply, type TaskEvent } from "../../../src/task/machine";
import { ctx, notifying, T0, taskAfter, wav } from "./fixtures";

/** The entries `event` means when applied to `before` at `at`. */
function notesFor(before: ReturnType<typeof taskAfter> | null, event: TaskEvent, at = T0 + 100, c = ctx) {
  return meaningOf(before, event, apply(before, "a", event, at, c));
}

describe("task history: what a change meant", () => {
  it("registration, with the track when it is known; registering again says nothing", () => {
    expect(notesFor(null, { type: "registered", music: { taskId: "m", audioId: "x" } })).toEqual([
      { type: "registered", detail: { music: { taskId: "m", audioId: "x" } } },
    ]);
    expect(notesFor(null, { type: "registered" })).toEqual([{ type: "registered", detail: {} }]);
    expect(notesFor(taskAfter([{ type: "registered" }]), { type: "registered" })).toEqual([]);
  });

  it("an attempt handed out names its number and the source's host, never the query string", () => {
    const t = taskAfter([{ type: "wavUrl", url: "https://cdn.example.com/x.wav?token=secret" }]);
    const notes = notesFor(t, { type: "transferStarted" });
    expect(notes).toEqual([{ type: "transfer_started", detail: { attempt: 1, host: "cdn.example.com" } }]);
    expect(JSON.stringify(notes)).not.toContain("secret");
  });

  it("a failed attempt with retries left says when the next one is; a final one says failed too", () => {
    const running = taskAfter([{ type: "wavUrl", url: "https://cdn/x.wav" }, { type: "transferStarted" }]);
    const retry = notesFor(running, { type: "transferFailed", error: { code: "truncated", message: "short" }, retryable: true }, T0 + 1000);
    expect(retry).toEqual([{ type: "transfer_failed", detail: { attempt: 1, code: "truncated", retryable: true, nextAttemptAt: new Date(T0 + 1000 + 30_000).toISOString() } }]);
    const final = notesFor(running, { type: "transferFailed", error: { code: "not_a_wav", message: "html" }, retryable: false });
    expect(final).toEqual([
      { type: "transfer_failed", detail: { attempt: 1, code: "not_a_wav", retryable: false, nextAttemptAt: null } },
      { type: "failed", detail: { code: "not_a_wav", message: "html" } },
    ]);
  });

  it("stored names the size and sha256; a provider failure names its code and message", () => {
    const running = taskAfter([{ type: "wavUrl", url: "https://cdn/x.wav" }, { type: "transferStarted" }]);
    expect(notesFor(running, { type: "transferSucceeded", wav })).toEqual([{ type: "stored", detail: { size: wav.size, sha256: wav.sha256 } }]);
    expect(notesFor(null, { type: "providerFailed", error: { code: "451", message: "download failed" } })).toEqual([
      { type: "failed", detail: { code: "451", message: "download failed" } },
    ]);
  });

  it("a retry request is told even when it changes nothing; a failed task's retry says which state it left", () => {
    const downloading = taskAfter([{ type: "wavUrl", url: "https://cdn/x.wav" }]);
    expect(notesFor(downloading, { type: "retryRequested" }, T0)).toEqual([{ type: "retry_requested", detail: { state: "downloading" } }]);
    const failed = taskAfter([{ type: "providerFailed", error: { code: "500", message: "x" } }]);
    expect(notesFor(failed, { type: "retryRequested" })[0]).toEqual({ type: "retry_requested", detail: { state: "failed" } });
  });

  it("an announcement attempt's answer: its number, status, outcome, message and the next try", () => {
    let t = taskAfter([{ type: "providerFailed", error: { code: "500", message: "x" } }], notifying);
    t = apply(t, "a", { type: "notifyStarted" }, T0 + 10, notifying)!;
    const notes = notesFor(t, { type: "notifyAnswered", status: 500, outcome: "retry", message: "app.test answered 500" }, T0 + 20, notifying);
    expect(notes).toEqual([
      {
        type: "notification",
        detail: { attempt: 1, status: 500, outcome: "retrying", message: "app.test answered 500", nextAttemptAt: new Date(T0 + 20 + 5_000).toISOString() },
      },
    ]);
    // A late answer (no attempt in flight) means nothing.
    const answered = apply(t, "a", { type: "notifyAnswered", status: 204, outcome: "delivered" }, T0 + 30, notifying)!;
    expect(notesFor(answered, { type: "notifyAnswered", status: 204, outcome: "delivered" }, T0 + 40, notifying)).toEqual([]);
  });

  it("a callback names its outcome, code and the URL's host; a poll its flag or error", () => {
    expect(callbackNote("applied", { type: "wavUrl", url: "https://cdn.example.com/a.wav?sig=abc" })).toEqual({
      type: "callback",
      detail: { outcome: "applied", code: 200, host: "cdn.example.com" },
    });
    expect(callbackNote("duplicate", { type: "providerFailed", error: { code: "451", message: "m" } }).detail).toEqual({ outcome: "duplicate", code: 451 });
    expect(pollNote({ flag: "PENDING" })).toEqual({ type: "poll", detail: { flag: "PENDING" } });
    expect(pollNote({ error: "provider code 500" })).toEqual({ type: "poll", detail: { error: "provider code 500" } });
  });
});
