// The acknowledgement path's decisions (src/task/callback.ts): replays, duplicates, redaction.
import { describe, expect, it } from "vitest";
import { callbackEvent, callbackOutcome, isReplay, resultKey, stageOf, type StagedSaid } from "../../../src/task/callback";
import { apply } from "../../../src/task/machine";
import { ctx, musicOffer, storeFile, T0, taskAfter, trackFiles, wav, WAV, wavOffer } from "./fixtures";

const wavFile = (url: string) => wavOffer(url).files;
const url: StagedSaid = { type: "files", stage: "complete", files: wavFile("https://cdn/x.wav") };
const other: StagedSaid = { type: "files", stage: "complete", files: wavFile("https://cdn/evil.wav") };
const failure: StagedSaid = { type: "failed", error: { code: "451", message: "download failed" } };
const id = (t: string) => t;

describe("callback decisions", () => {
  it("the same signed time with another result is a replay; with the same result it is not", () => {
    const said = (s: StagedSaid) => [{ stage: stageOf(s), result: resultKey(s) }];
    expect(isReplay([], url)).toBe(false);
    expect(isReplay(said(url), url)).toBe(false);
    expect(isReplay(said(url), other)).toBe(true);
    expect(isReplay(said(url), failure)).toBe(true);
    expect(isReplay(said(failure), url)).toBe(true); // nothing follows an end, a success no more than a failure
    // A later stage under the same signature is the provider going on within one second (music:
    // text, first, complete); an earlier or equal stage with another result is a replay.
    const text: StagedSaid = { type: "files", stage: "text", files: [] };
    const first: StagedSaid = { type: "files", stage: "first", files: trackFiles("t1") };
    const complete: StagedSaid = { type: "files", stage: "complete", files: [...trackFiles("t1"), ...trackFiles("t2")] };
    expect(isReplay([...said(text), ...said(first)], complete)).toBe(false);
    expect(isReplay(said(first), failure)).toBe(false);
    expect(isReplay(said(complete), first)).toBe(true);
    expect(isReplay(said(first), { ...first, files: trackFiles("t9") })).toBe(true);
    expect(isReplay(said(complete), { ...complete, files: [...complete.files] })).toBe(false);
  });

  it("a callback's event carries its signed time; the provider's words are redacted", () => {
    expect(callbackEvent("wav", url, 1700, id)).toEqual({ type: "offered", kind: "wav", stage: "complete", files: url.files, signedAt: 1700 });
    const e = callbackEvent("music", { type: "failed", error: { code: "400", message: "bad ?token=abc" } }, null, (t) => t.replace("abc", "[secret]"));
    expect(e).toEqual({ type: "providerFailed", kind: "music", error: { code: "400", message: "bad ?token=[secret]" } });
  });

  it("applied, duplicate or ignored: by what the task already knew", () => {
    const known = taskAfter([wavOffer("https://cdn/x.wav")]);
    const created = apply(null, "a", callbackEvent("wav", url, null, id), T0, ctx);
    expect(callbackOutcome(null, created, url)).toBe("applied");
    expect(callbackOutcome(known, known, url)).toBe("duplicate");
    expect(callbackOutcome(known, known, failure)).toBe("ignored"); // a late failure after a URL
    const failed = taskAfter([{ type: "providerFailed", error: failure.error }]);
    expect(callbackOutcome(failed, failed, failure)).toBe("duplicate");
    expect(callbackOutcome(failed, failed, { type: "failed", error: { code: "500", message: "other" } })).toBe("ignored");
    expect(callbackOutcome(null, null, url)).toBe("ignored");
  });

  it("a music complete that repeats files already known is a duplicate only when it names nothing new", () => {
    let t = taskAfter([musicOffer("first", ["t1"])]);
    t = storeFile(storeFile(t, "t1.mp3", T0 + 10), "t1.jpeg", T0 + 11);
    const again: StagedSaid = { type: "files", stage: "first", files: trackFiles("t1") };
    expect(callbackOutcome(t, apply(t, "a", callbackEvent("music", again, null, id), T0 + 20, ctx), again)).toBe("duplicate");
    const complete: StagedSaid = { type: "files", stage: "complete", files: [...trackFiles("t1"), ...trackFiles("t2")] };
    const after = apply(t, "a", callbackEvent("music", complete, null, id), T0 + 20, ctx);
    expect(callbackOutcome(t, after, complete)).toBe("applied");
    // A WAV offered again while its only file is stored: already known.
    const stored = storeFile(taskAfter([wavOffer("https://cdn/x.wav")]), WAV, T0 + 5, wav);
    expect(callbackOutcome(stored, apply(stored, "a", callbackEvent("wav", url, null, id), T0 + 6, ctx), url)).toBe("duplicate");
    expect(callbackOutcome(stored, stored, other)).toBe("ignored");
  });
});
