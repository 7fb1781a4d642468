// The task page's history in words: every entry type the worker writes (README, "Notifications
// (tell your app)", "History") becomes a sentence; unknown types and odd fields still read as words.
import { describe, expect, it } from "vitest";
import { describeEvent, eventTone, type HistoryEntryJson } from "../../../src/dashboard/history";
import { duration, exactTime, relativeTime } from "../../../src/dashboard/time";

const NOW = Date.parse("2026-12-01T21:12:00.000Z");
const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const entry = (type: string, detail: Record<string, unknown> = {}, offsetMs = -60_000): HistoryEntryJson => ({ at: at(offsetMs), type, ...detail });
const say = (e: HistoryEntryJson) => describeEvent(e, NOW);

/** What a sentence must never look like: machine output. */
function expectWords(text: string): void {
  expect(text).not.toMatch(/[{}[\]]/); // no JSON
  expect(text).not.toMatch(/\b(retryable|nextAttemptAt|transfer_started|transfer_failed|signature_reused|sha256:|true|false|undefined|null|NaN)\b/);
  expect(text).toMatch(/^[A-Z]/);
  expect(text).toMatch(/\.$/);
}

describe("history entries in words", () => {
  it.each<[string, HistoryEntryJson, string]>([
    ["registered", entry("registered"), "Registered: waiting for the provider's callback (the cron asks the provider if it is late)."],
    [
      "registered with its track",
      entry("registered", { music: { taskId: "m-1", audioId: "a-1" } }),
      "Registered for track a-1 of music task m-1: waiting for the provider's callback (the cron asks the provider if it is late).",
    ],
    ["a success callback", entry("callback", { outcome: "applied", code: 200, host: "cdn.example.com" }), "The provider called back: the WAV is ready at cdn.example.com."],
    ["a failure callback", entry("callback", { outcome: "applied", code: 451 }), "The provider called back: the conversion failed (code 451: the source audio could not be downloaded)."],
    ["a failure callback with an undocumented code", entry("callback", { outcome: "applied", code: 500 }), "The provider called back: the conversion failed (code 500)."],
    [
      "a duplicate",
      entry("callback", { outcome: "duplicate", code: 200, host: "cdn.example.com" }),
      "The provider called back again with the same result (the WAV is ready at cdn.example.com); nothing changed.",
    ],
    [
      "an ignored callback",
      entry("callback", { outcome: "ignored", code: 200, host: "other.example.com" }),
      "The provider called back (the WAV is ready at other.example.com), but that changed nothing: the task had already moved on.",
    ],
    [
      "a replayed signature",
      entry("callback", { outcome: "signature_reused", code: 200, host: "evil.example" }),
      "A callback reused the signature of an earlier one with a different result and was refused (409).",
    ],
    ["a poll: pending", entry("poll", { flag: "PENDING" }), "Asked the provider (record-info): still converting."],
    ["a poll: success", entry("poll", { flag: "SUCCESS" }), "Asked the provider (record-info): the WAV is ready."],
    ["a poll: callback exception", entry("poll", { flag: "CALLBACK_EXCEPTION" }), "Asked the provider (record-info): the WAV is ready (its callback to this worker had failed)."],
    ["a poll: failed", entry("poll", { flag: "GENERATE_WAV_FAILED" }), "Asked the provider (record-info): the conversion failed."],
    ["a poll: an undocumented flag", entry("poll", { flag: "SOMETHING_NEW" }), "Asked the provider (record-info): it says SOMETHING_NEW."],
    ["a poll without an answer", entry("poll", { error: "provider code 455" }), "Asked the provider (record-info), with no usable answer: provider code 455."],
    ["transfer started", entry("transfer_started", { attempt: 1, host: "cdn.example.com" }), "Transfer attempt 1 started, from cdn.example.com."],
    [
      "a failed attempt, retried later",
      entry("transfer_failed", { attempt: 2, code: "source_http_error", message: "source answered HTTP 404", retryable: true, nextAttemptAt: at(120_000) }),
      "Transfer attempt 2 failed: the source answered 404 — next try in 2 min.",
    ],
    [
      "a failed attempt whose retry time has passed",
      entry("transfer_failed", { attempt: 1, code: "source_unreachable", retryable: true, nextAttemptAt: at(-570_000) }, -600_000),
      "Transfer attempt 1 failed: the source could not be reached — next try was 30 s later.",
    ],
    [
      "a failed attempt before messages were recorded",
      entry("transfer_failed", { attempt: 3, code: "source_http_error", retryable: true, nextAttemptAt: null }),
      "Transfer attempt 3 failed: the source answered with an HTTP error.",
    ],
    ["a failed attempt that ends the task", entry("transfer_failed", { attempt: 1, code: "not_a_wav", retryable: false, nextAttemptAt: null }), "Transfer attempt 1 failed for good: what the source sent is not a WAV."],
    [
      "stored",
      entry("stored", { size: 384_044, sha256: "798db05c064e8029c1f5535ad822fc180364fcac1f98f40c606dd98d6e7e5c6c" }),
      "Stored in R2: 375 KiB (384,044 bytes), SHA-256 798db05c064e8029c1f5535ad822fc180364fcac1f98f40c606dd98d6e7e5c6c.",
    ],
    ["failed by the provider", entry("failed", { code: "451", message: "source audio download failed" }), "Failed: the provider reported a failure (code 451: source audio download failed)."],
    ["failed: expired", entry("failed", { code: "expired", message: "no result from the provider within 86400 s of registration" }), "Failed: no result from the provider within 86400 s of registration."],
    [
      "failed after the retention",
      entry("failed", { code: "source_http_error", message: "source answered HTTP 503 (gave up after 14 attempts: the provider keeps a WAV only 1123200 s)" }),
      "Failed: the source answered 503 — gave up after 14 attempts, at the end of the provider's retention (PROVIDER_RETENTION_SECONDS).",
    ],
    ["failed: not a WAV", entry("failed", { code: "not_a_wav", message: "the source's body does not start with a RIFF/WAVE header" }), "Failed: what the source sent is not a WAV."],
    ["retry by hand", entry("retry_requested", { state: "failed" }), "Retry requested by hand (the task was failed)."],
    ["retry of every failed task", entry("retry_requested", { state: "failed", bulk: true }), "Retry requested with Retry all failed (the task was failed)."],
    ["announcement delivered", entry("notification", { attempt: 2, status: 204, outcome: "delivered", message: "app.example.com answered 204", nextAttemptAt: null }), "Your app was told (attempt 2): it answered 204."],
    [
      "announcement to be retried",
      entry("notification", { attempt: 1, status: 500, outcome: "retrying", message: "app.example.com answered 500", nextAttemptAt: at(5_000) }),
      "Telling your app failed (attempt 1): it answered 500 — next try in 5 s.",
    ],
    [
      "announcement without an answer",
      entry("notification", { attempt: 3, status: null, outcome: "retrying", message: "app.example.com sent no answer within 15 s", nextAttemptAt: at(300_000) }),
      "Telling your app failed (attempt 3): app.example.com sent no answer within 15 s — next try in 5 min.",
    ],
    [
      "a message that ends a sentence of its own",
      entry("notification", { attempt: 2, status: null, outcome: "retrying", message: "could not reach 127.0.0.1:8789: Network connection lost.", nextAttemptAt: at(30_000) }),
      "Telling your app failed (attempt 2): could not reach 127.0.0.1:8789: Network connection lost — next try in 30 s.",
    ],
    ["announcement given up", entry("notification", { attempt: 1, status: 410, outcome: "failed", message: "app.example.com answered 410", nextAttemptAt: null }), "Gave up telling your app (attempt 1): it answered 410."],
  ])("%s", (_, e, sentence) => {
    const text = say(e);
    expect(text).toBe(sentence);
    expectWords(text);
  });

  it.each<[string, string, HistoryEntryJson, string]>([
    ["registered", "music", entry("registered", { kind: "music" }), "Registered as a music generation task: waiting for the provider's callback (the cron asks the provider if it is late)."],
    ["music text", "music", entry("callback", { outcome: "applied", code: 200, stage: "text", files: 0, host: null }), "The provider called back: the lyrics are written; no track yet."],
    ["music first", "music", entry("callback", { outcome: "applied", code: 200, stage: "first", files: 2, host: "cdn.example.com" }), "The provider called back: the first track is ready at cdn.example.com (2 files)."],
    ["music complete", "music", entry("callback", { outcome: "applied", code: 200, stage: "complete", files: 4, host: "cdn.example.com" }), "The provider called back: every track is ready at cdn.example.com (4 files)."],
    ["a music failure", "music", entry("callback", { outcome: "applied", code: 501 }), "The provider called back: the generation failed (code 501)."],
    ["a video", "video", entry("callback", { outcome: "applied", code: 200, stage: "complete", files: 1, host: "cdn.example.com" }), "The provider called back: the file is ready at cdn.example.com (1 file)."],
    ["inline content", "midi", entry("callback", { outcome: "applied", code: 200, stage: "complete", files: 2, host: null }), "The provider called back: the result came inside the callback (2 files)."],
    ["a poll of a music task", "music", entry("poll", { flag: "FIRST_SUCCESS" }), "Asked the provider (record-info): the first track is ready."],
    ["a poll of a cover task", "cover", entry("poll", { flag: "GENERATING" }), "Asked the provider (record-info): still working on it."],
    ["a file's transfer", "cover", entry("transfer_started", { file: "cover-1.png", attempt: 1, host: "cdn.example.com" }), "Transfer attempt 1 of cover-1.png started, from cdn.example.com."],
    ["content kept first", "lyrics", entry("transfer_started", { file: "lyrics.json", attempt: 1, host: null }), "Transfer attempt 1 of lyrics.json started, from the content the callback carried."],
    [
      "a file that is not what it claims",
      "music",
      entry("transfer_failed", { file: "a.jpeg", attempt: 1, code: "not_jpeg", message: "not a JPEG", retryable: false, nextAttemptAt: null }),
      "Transfer attempt 1 of a.jpeg failed for good: what the source sent is not a JPEG image.",
    ],
    ["one file stored", "stems", entry("file_stored", { file: "drums.mp3", size: 2048, sha256: "ab".repeat(32) }), `Stored drums.mp3 in R2: 2.0 KiB (2,048 bytes), SHA-256 ${"ab".repeat(32)}.`],
    ["all stored", "stems", entry("stored", { files: 4, size: 4096 }), "Stored: all 4 files are in R2, 4.0 KiB in all."],
    ["failed, naming the file", "cover", entry("failed", { code: "not_png", message: "cover-2.png: the body is not a PNG" }), "Failed: cover-2.png could not be stored — what the source sent is not a PNG image."],
  ])("%s (a %s task)", (_, kind, e, sentence) => {
    const text = describeEvent(e, NOW, kind);
    expect(text).toBe(sentence);
    expectWords(text);
  });

  it("an unknown type still reads as words, with its details but no JSON", () => {
    const text = say(entry("quota_warning", { remainingCredits: 12, plan: "basic", nested: { a: 1 } }));
    expect(text).toBe("Quota warning: remaining credits 12, plan basic, nested (details).");
    expectWords(text);
    expect(say(entry("something-new"))).toBe("Something new.");
  });

  it("missing or odd fields do not break a sentence", () => {
    for (const e of [
      entry("transfer_started"),
      entry("transfer_failed"),
      entry("stored"),
      entry("failed"),
      entry("callback"),
      entry("poll"),
      entry("notification"),
      entry("retry_requested"),
      entry("transfer_failed", { attempt: "x", nextAttemptAt: "not a time", code: 42 }),
      { at: "not a time", type: "transfer_failed", attempt: 1, code: "truncated", retryable: true, nextAttemptAt: at(30_000) },
    ]) {
      expectWords(say(e));
    }
    expect(say(entry("transfer_failed"))).toBe("A transfer attempt failed: for an unknown reason.");
    expect(say(entry("stored"))).toBe("Stored in R2.");
  });

  it("marks trouble and success", () => {
    expect(eventTone(entry("stored"))).toBe("good");
    expect(eventTone(entry("failed"))).toBe("bad");
    expect(eventTone(entry("transfer_failed"))).toBe("bad");
    expect(eventTone(entry("callback", { outcome: "applied", code: 200 }))).toBe("neutral");
    expect(eventTone(entry("callback", { outcome: "applied", code: 451 }))).toBe("bad");
    expect(eventTone(entry("notification", { outcome: "delivered" }))).toBe("good");
    expect(eventTone(entry("notification", { outcome: "retrying" }))).toBe("bad");
    expect(eventTone(entry("whatever"))).toBe("neutral");
  });
});

describe("times in words", () => {
  it("relative to now, and exact for the hover title", () => {
    expect(relativeTime(NOW, NOW)).toBe("just now");
    expect(relativeTime(NOW - 45_000, NOW)).toBe("45 s ago");
    expect(relativeTime(NOW + 120_000, NOW)).toBe("in 2 min");
    expect(relativeTime(NOW - 3 * 3600_000, NOW)).toBe("3 h ago");
    expect(relativeTime(NOW + 7 * 86_400_000, NOW)).toBe("in 7 days");
    expect(duration(32 * 60_000)).toBe("32 min");
    expect(exactTime(Date.parse("2026-12-01T21:13:40.053Z"))).toBe("2026-12-01 21:13:40 UTC");
  });
});
