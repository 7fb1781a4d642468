// What a provider poll means (src/task/poll.ts): answer → event, outcome and history entry.
import { describe, expect, it } from "vitest";
import { pollVerdict, type PollAnswer } from "../../../src/task/poll";
import { ctx, T0, taskAfter, trackFiles, wavOffer } from "./fixtures";

const pending = taskAfter([{ type: "registered" }]);
const redact = (text: string) => text.replace("secret-token", "[secret]");
const verdict = (answer: PollAnswer, at = T0 + 400_000, task = pending) => pollVerdict(task, answer, at, ctx, redact);
const wavFiles = wavOffer("https://cdn/x.wav").files;

describe("poll verdicts", () => {
  it("any record with a URL is a success, whatever its flag", () => {
    const v = verdict({ record: { status: "said", said: { type: "files", stage: "complete", files: wavFiles }, flag: "CALLBACK_EXCEPTION" } });
    expect(v).toEqual({
      event: { type: "offered", kind: "wav", stage: "complete", files: wavFiles, signedAt: null },
      outcome: "resolved",
      note: { type: "poll", detail: { flag: "CALLBACK_EXCEPTION" } },
    });
  });

  it("a failure flag without a URL fails the task with the provider's words, redacted", () => {
    const v = verdict({ record: { status: "said", said: { type: "failed", error: { code: "GENERATE_WAV_FAILED", message: "bad callBackUrl ?token=secret-token" } }, flag: "GENERATE_WAV_FAILED" } });
    expect(v.outcome).toBe("failed");
    expect(v.event).toEqual({ type: "providerFailed", kind: "wav", error: { code: "GENERATE_WAV_FAILED", message: "bad callBackUrl ?token=[secret]" } });
    expect(v.note).toEqual({ type: "poll", detail: { flag: "GENERATE_WAV_FAILED" } });
  });

  it("PENDING and nothing usable back off the task; past the maximum age they expire it", () => {
    expect(verdict({ record: { status: "pending", flag: "PENDING" } })).toMatchObject({ event: { type: "pollPending" }, outcome: "pending", note: { detail: { flag: "PENDING" } } });
    expect(verdict({ record: { status: "unknown", message: "data: null" } })).toMatchObject({
      event: { type: "pollNoResult", message: "data: null" },
      outcome: "pending",
      note: { detail: { error: "data: null" } },
    });
    const late = T0 + ctx.maxAgeMs;
    expect(verdict({ record: { status: "pending", flag: "PENDING" } }, late)).toMatchObject({ event: { type: "expired" }, outcome: "failed" });
    expect(verdict({ record: { status: "unknown", message: "m" } }, late)).toMatchObject({ event: { type: "expired" }, outcome: "failed" });
  });

  it("provider trouble stops the tick but only backs this task off; a task-level error is pending", () => {
    expect(verdict({ providerError: { code: 503, trouble: true } })).toMatchObject({
      event: { type: "pollTrouble", previousPollAt: null },
      outcome: "provider_trouble",
      note: { detail: { error: "provider code 503" } },
    });
    expect(verdict({ providerError: { code: 404, trouble: false } })).toMatchObject({ event: { type: "pollPending" }, outcome: "pending" });
    // The provider's trouble is not the task's time: it does not expire it; a task-level error past the age does.
    expect(verdict({ providerError: { code: 503, trouble: true } }, T0 + ctx.maxAgeMs).outcome).toBe("provider_trouble");
    expect(verdict({ providerError: { code: 404, trouble: false } }, T0 + ctx.maxAgeMs)).toMatchObject({ event: { type: "expired" }, outcome: "failed" });
  });

  it("without SUNO_API_KEY nobody is asked: no poll entry, and the task still expires in time", () => {
    expect(verdict({ noKey: true })).toMatchObject({ event: { type: "pollNoResult" }, outcome: "pending", note: null });
    expect(verdict({ noKey: true }, T0 + ctx.maxAgeMs)).toMatchObject({ event: { type: "expired" }, outcome: "failed", note: null });
  });

  it("music: FIRST_SUCCESS with the first track's files is offered as first; the task's kind names the event", () => {
    const music = taskAfter([{ type: "registered", kind: "music" }]);
    const v = verdict({ record: { status: "said", said: { type: "files", stage: "first", files: trackFiles("t1") }, flag: "FIRST_SUCCESS" } }, T0 + 400_000, music);
    expect(v).toEqual({
      event: { type: "offered", kind: "music", stage: "first", files: trackFiles("t1"), signedAt: null },
      outcome: "resolved",
      note: { type: "poll", detail: { flag: "FIRST_SUCCESS" } },
    });
    const failed = verdict({ record: { status: "said", said: { type: "failed", error: { code: "501", message: "m" } }, flag: "GENERATE_AUDIO_FAILED" } }, T0 + 400_000, music);
    expect(failed.event).toMatchObject({ type: "providerFailed", kind: "music" });
  });
});
