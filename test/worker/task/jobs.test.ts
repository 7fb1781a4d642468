// What a runner's report means (src/task/jobs.ts): only the attempt and round handed out last.
import { describe, expect, it } from "vitest";
import { reportSteps, type RunnerReport } from "../../../src/task/jobs";
import { apply } from "../../../src/task/machine";
import { notifying, T0, taskAfter, wav } from "./fixtures";

const running = taskAfter([{ type: "wavUrl", url: "https://cdn/x.wav" }, { type: "transferStarted" }]);
const transfer = (attempt: number, extra: Partial<Extract<RunnerReport, { kind: "transfer" }>> = {}): RunnerReport => ({
  kind: "transfer",
  taskId: "a",
  runnerId: "r",
  attempt,
  result: { ok: true, wav },
  ...extra,
});

describe("runner reports", () => {
  it("the attempt handed out last is credited; another attempt's report changes nothing", () => {
    expect(reportSteps(running, transfer(1))).toEqual([{ event: { type: "transferSucceeded", wav } }]);
    expect(reportSteps(running, transfer(2))).toEqual([]);
    expect(reportSteps(running, transfer(0))).toEqual([]);
  });

  it("a link refresh made before the fetch is a poll entry, and its URL is taken", () => {
    const steps = reportSteps(running, transfer(1, { refresh: { url: "https://cdn/y.wav", flag: "SUCCESS" } }));
    expect(steps[0]).toEqual({ note: { type: "poll", detail: { flag: "SUCCESS" } }, event: { type: "urlRefreshed", url: "https://cdn/y.wav" } });
    const failedRefresh = reportSteps(running, transfer(1, { refresh: { url: null, error: "provider code 500" } }));
    expect(failedRefresh[0]).toEqual({ note: { type: "poll", detail: { error: "provider code 500" } }, event: undefined });
  });

  it("failures and interruptions become the machine's events", () => {
    const failed = reportSteps(running, transfer(1, { result: { ok: false, error: { code: "truncated", message: "m" }, retryable: true, refreshUrl: false } }));
    expect(failed).toEqual([{ event: { type: "transferFailed", error: { code: "truncated", message: "m" }, retryable: true, refreshUrl: false } }]);
    expect(reportSteps(running, transfer(1, { result: { ok: false, interrupted: true } }))).toEqual([{ event: { type: "transferInterrupted" } }]);
  });

  it("an announcement answer counts only for its round and attempt", () => {
    let t = taskAfter([{ type: "providerFailed", error: { code: "500", message: "x" } }], notifying);
    t = apply(t, "a", { type: "notifyStarted" }, T0 + 5, notifying)!;
    const answer = (round: number, attempt: number): RunnerReport => ({ kind: "announce", taskId: "a", runnerId: "r", round, attempt, status: 204, outcome: "delivered", message: "ok" });
    const { round, attempts } = t.notification;
    expect(reportSteps(t, answer(round, attempts))).toEqual([{ event: { type: "notifyAnswered", status: 204, outcome: "delivered", message: "ok" } }]);
    expect(reportSteps(t, answer(round - 1, attempts))).toEqual([]);
    expect(reportSteps(t, answer(round, attempts + 1))).toEqual([]);
  });
});
