// The acknowledgement path's decisions (src/task/callback.ts): replays, duplicates, redaction.
import { describe, expect, it } from "vitest";
import { callbackEvent, callbackOutcome, isReplay, resultKey } from "../../../src/task/callback";
import { apply } from "../../../src/task/machine";
import { ctx, T0, taskAfter } from "./fixtures";

const url = { type: "wavUrl", url: "https://cdn/x.wav" } as const;
const other = { type: "wavUrl", url: "https://cdn/evil.wav" } as const;
const failure = { type: "providerFailed", error: { code: "451", message: "download failed" } } as const;

describe("callback decisions", () => {
  it("the same signed time with another result is a replay; with the same result it is not", () => {
    expect(isReplay(null, url)).toBe(false);
    expect(isReplay(resultKey(url), url)).toBe(false);
    expect(isReplay(resultKey(url), other)).toBe(true);
    expect(isReplay(resultKey(url), failure)).toBe(true);
  });

  it("a callback's event carries its signed time; the provider's words are redacted", () => {
    expect(callbackEvent(url, 1700, (t) => t)).toEqual({ type: "wavUrl", url: url.url, signedAt: 1700 });
    const e = callbackEvent({ type: "providerFailed", error: { code: "400", message: "bad ?token=abc" } }, null, (t) => t.replace("abc", "[secret]"));
    expect(e).toEqual({ type: "providerFailed", error: { code: "400", message: "bad ?token=[secret]" } });
  });

  it("applied, duplicate or ignored: by what the task already knew", () => {
    const known = taskAfter([{ type: "wavUrl", url: url.url }]);
    const created = apply(null, "a", callbackEvent(url, null, (t) => t), T0, ctx);
    expect(callbackOutcome(null, created, url)).toBe("applied");
    expect(callbackOutcome(known, known, url)).toBe("duplicate");
    expect(callbackOutcome(known, known, failure)).toBe("ignored"); // a late failure after a URL
    const failed = taskAfter([failure]);
    expect(callbackOutcome(failed, failed, failure)).toBe("duplicate");
    expect(callbackOutcome(null, null, url)).toBe("ignored");
  });
});
