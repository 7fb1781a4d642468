// What a provider poll means (src/task/poll.ts): answer → event, outcome and history entry.
import { describe, expect, it } from "vitest";
import { pollVerdict, type PollAnswer } from "../../../src/task/poll";
import { ctx, T0, taskAfter } from "./fixtures";

const pending = taskAfter([{ type: "registered" }]);
const redact = (text: string) => text.replace("secret-token", "[secret]");
const verdict = (answer: PollAnswer, at = T0 + 400_000) => pollVerdict(pending, answer, at, ctx, redact);

describe("poll verdicts", () => {
  it("any record with a URL is a success, whatever its flag", () => {
    const v = verdict({ record: { status: "success", url: "https://cdn/x.wav", flag: "CALLBACK_EXCEPTION" } });
    expect(v).toEqual({
      event: { type: "wavUrl", url: "https://cdn/x.wav", signedAt: null },
      outcome: "resolved",
      note: { type: "poll", detail: { flag: "CALLBACK_EXCEPTION" } },
    });
  });

  it("a failure flag without a URL fails the task with the provider's words, redacted", () => {
    const v = verdict({ record: { status: "failed", code: "GENERATE_WAV_FAILED", message: "bad callBackUrl ?token=secret-token", flag: "GENERATE_WAV_FAILED" } });
    expect(v.outcome).toBe("failed");
    expect(v.event).toEqual({ type: "providerFailed", error: { code: "GENERATE_WAV_FAILED", message: "bad callBackUrl ?token=[secret]" } });
  });

  it("PENDING and nothing usable back off the task; past the maximum age they expire it", () => {
    expect(verdict({ record: { status: "pending" } })).toMatchObject({ event: { type: "pollPending" }, outcome: "pending", note: { detail: { flag: "PENDING" } } });
    expect(verdict({ record: { status: "unknown", message: "data: null" } })).toMatchObject({
      event: { type: "pollNoResult", message: "data: null" },
      outcome: "pending",
      note: { detail: { error: "data: null" } },
    });
    const late = T0 + ctx.maxAgeMs;
    expect(verdict({ record: { status: "pending" } }, late)).toMatchObject({ event: { type: "expired" }, outcome: "failed" });
    expect(verdict({ record: { status: "unknown", message: "m" } }, late)).toMatchObject({ event: { type: "expired" }, outcome: "failed" });
  });

  it("provider trouble stops the tick but only backs this task off; a task-level error is pending", () => {
    expect(verdict({ providerError: { code: 503, trouble: true } })).toMatchObject({
      event: { type: "pollPending" },
      outcome: "provider_trouble",
      note: { detail: { error: "provider code 503" } },
    });
    expect(verdict({ providerError: { code: 404, trouble: false } }).outcome).toBe("pending");
  });

  it("without SUNO_API_KEY nobody is asked: no poll entry, and the task still expires in time", () => {
    expect(verdict({ noKey: true })).toMatchObject({ event: { type: "pollNoResult" }, outcome: "pending", note: null });
    expect(verdict({ noKey: true }, T0 + ctx.maxAgeMs)).toMatchObject({ event: { type: "expired" }, outcome: "failed", note: null });
  });
});
