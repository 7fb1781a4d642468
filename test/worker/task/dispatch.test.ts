// What the shard's alarm does for a task (src/task/dispatch.ts).
import { describe, expect, it } from "vitest";
import { TRANSFER_LEASE_MS } from "../../../src/task/backoff";
import { dueWork } from "../../../src/task/dispatch";
import { apply } from "../../../src/task/machine";
import { notifying, T0, taskAfter } from "./fixtures";

const live = { notify: true, canPoll: true };

describe("due work", () => {
  it("a task with a URL due now gets its transfer attempt; before its time nothing", () => {
    const t = taskAfter([{ type: "wavUrl", url: "https://cdn/x.wav" }]);
    expect(dueWork(t, T0, live)).toEqual({ type: "transfer", refreshUrl: false, adopt: false });
    expect(dueWork({ ...t, dueAt: T0 + 1000 }, T0, live)).toBeNull();
  });

  it("an attempt not answered within the lease is lost first; the next may adopt what it wrote", () => {
    let t = taskAfter([{ type: "wavUrl", url: "https://cdn/x.wav" }, { type: "transferStarted" }]);
    expect(dueWork(t, T0 + 2, live)).toBeNull(); // in flight
    const late = t.attemptStartedAt! + TRANSFER_LEASE_MS;
    expect(dueWork(t, late, live)).toEqual({ type: "apply", event: { type: "transferInterrupted" } });
    t = apply(t, "a", { type: "transferInterrupted" }, late, notifying)!;
    expect(dueWork(t, late, live)).toEqual({ type: "transfer", refreshUrl: false, adopt: true });
  });

  it("a wanted link refresh needs SUNO_API_KEY and 30 s since the last poll", () => {
    const t = { ...taskAfter([{ type: "wavUrl", url: "https://cdn/x.wav" }]), refreshUrl: true, lastPolledAt: T0 - 10_000 };
    expect(dueWork(t, T0, live)).toMatchObject({ type: "transfer", refreshUrl: false });
    expect(dueWork(t, T0 + 20_000, live)).toMatchObject({ type: "transfer", refreshUrl: true });
    expect(dueWork(t, T0 + 20_000, { ...live, canPoll: false })).toMatchObject({ type: "transfer", refreshUrl: false });
  });

  it("an announcement due is handed out; one never answered counts as a failed attempt; none without NOTIFY_URL", () => {
    let t = taskAfter([{ type: "providerFailed", error: { code: "500", message: "x" } }], notifying);
    expect(dueWork(t, T0, live)).toEqual({ type: "announce" });
    expect(dueWork(t, T0, { ...live, notify: false })).toEqual({ type: "apply", event: { type: "notifyDisabled" } });
    t = apply(t, "a", { type: "notifyStarted" }, T0, notifying)!;
    expect(dueWork(t, T0 + 1, live)).toBeNull();
    expect(dueWork(t, t.notification.nextAttemptAt!, live)).toMatchObject({ type: "apply", event: { type: "notifyAnswered", status: null, outcome: "retry" } });
  });

  it("a stored task whose announcement was delivered has nothing due", () => {
    const t = taskAfter([{ type: "registered" }]);
    expect(dueWork(t, T0 + 10 ** 9, live)).toBeNull(); // polls are the cron's, not the alarm's
  });
});
