// What a runner's report means (src/task/jobs.ts): only the attempt and round handed out last.
import { describe, expect, it } from "vitest";
import { jobSlot, reportSteps, type ReportStep, type RunnerReport, type TransferReport } from "../../../src/task/jobs";
import { apply, type Task } from "../../../src/task/machine";
import { ctx, epochOf, fileOf, filesOffer, notifying, T0, taskAfter, wav, WAV, wavOffer } from "./fixtures";

const running = taskAfter([wavOffer("https://cdn/x.wav"), { type: "transferStarted", file: WAV }]);
const current = epochOf(running);
const transfer = (epoch: number, extra: Partial<TransferReport> = {}): RunnerReport => ({
  kind: "transfer",
  taskId: "a",
  runnerId: "r",
  file: WAV,
  key: "wav/a.wav",
  epoch,
  result: { ok: true, stored: wav },
  ...extra,
});

/** The task after applying the steps' events in order. */
function applied(t: Task, steps: ReportStep[], at = T0 + 100): Task {
  return steps.reduce((x, s) => (s.event ? apply(x, "a", s.event, at, ctx)! : x), t);
}

describe("runner reports", () => {
  it("the attempt handed out last is credited; another attempt's report changes nothing", () => {
    expect(reportSteps(running, transfer(current))).toEqual([{ event: { type: "transferSucceeded", file: WAV, epoch: current, stored: wav } }]);
    expect(applied(running, reportSteps(running, transfer(current))).state).toBe("stored");
    // A later epoch was never handed out; epoch 0 is before this task's first attempt.
    expect(applied(running, reportSteps(running, transfer(current + 1)))).toBe(running);
    expect(applied(running, reportSteps(running, transfer(0)))).toBe(running);
    // A report about a file the task does not have means nothing.
    expect(reportSteps(running, transfer(current, { file: "other.wav" }))).toEqual([]);
  });

  it("a link refresh made before the fetch is a poll entry, and its URL is taken", () => {
    const steps = reportSteps(running, transfer(current, { refresh: { urls: { [WAV]: "https://cdn/y.wav" }, flag: "SUCCESS" } }));
    expect(steps[0]).toEqual({ note: { type: "poll", detail: { flag: "SUCCESS" } }, event: { type: "urlsRefreshed", file: WAV, urls: { [WAV]: "https://cdn/y.wav" } } });
    expect(steps).toHaveLength(2);
    const failedRefresh = reportSteps(running, transfer(current, { refresh: { urls: {}, error: "provider code 500" } }));
    expect(failedRefresh[0]).toEqual({ note: { type: "poll", detail: { error: "provider code 500" } }, event: undefined });
    // Taken for the file still to fetch when the attempt then fails.
    const failing = transfer(current, { refresh: { urls: { [WAV]: "https://cdn/y.wav" }, flag: "SUCCESS" }, result: { ok: false, error: { code: "truncated", message: "m" }, retryable: true } });
    expect(fileOf(applied(running, reportSteps(running, failing))).source).toEqual({ url: "https://cdn/y.wav" });
  });

  it("failures and interruptions become the machine's events", () => {
    const failed = reportSteps(running, transfer(current, { result: { ok: false, error: { code: "truncated", message: "m" }, retryable: true, refreshUrl: false } }));
    expect(failed).toEqual([{ event: { type: "transferFailed", file: WAV, epoch: current, error: { code: "truncated", message: "m" }, retryable: true, refreshUrl: false } }]);
    expect(reportSteps(running, transfer(current, { result: { ok: false, interrupted: true } }))).toEqual([{ event: { type: "transferInterrupted", file: WAV, epoch: current } }]);
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

  it("a runner holds one job per file and one announcement", () => {
    const job = (name: string) => ({ kind: "transfer" as const, taskId: "a", taskKind: "stems" as const, file: { name, key: `stems/a/${name}`, contentType: "audio/mpeg", source: { url: "https://cdn.test/x" } }, epoch: 1, refreshUrl: false, adopt: false });
    expect(jobSlot(job("vocal.mp3"))).toBe("transfer:vocal.mp3");
    expect(jobSlot(job("drums.mp3"))).not.toBe(jobSlot(job("vocal.mp3")));
    expect(jobSlot({ kind: "announce", taskId: "a", round: 1, attempt: 1, messageId: "msg_1", body: "{}" })).toBe("announce");
  });
});

describe("runner reports of an earlier attempt", () => {
  // vocal.mp3's first attempt was counted as lost; its second runs now.
  const stems = taskAfter([filesOffer("stems", ["vocal.mp3", "drums.mp3"]), { type: "transferStarted", file: "vocal.mp3" }]);
  const first = epochOf(stems, "vocal.mp3");
  const lost = apply(stems, "a", { type: "transferInterrupted", file: "vocal.mp3", epoch: first }, T0 + 10, ctx)!;
  const retrying = apply(lost, "a", { type: "transferStarted", file: "vocal.mp3" }, T0 + 20, ctx)!;
  const second = epochOf(retrying, "vocal.mp3");
  const vocal = { key: "stems/a/vocal.mp3", size: 5, sha256: "ef".repeat(32), contentType: "audio/mpeg" };
  const report = (epoch: number, extra: Partial<TransferReport> = {}): TransferReport => ({
    kind: "transfer",
    taskId: "a",
    runnerId: "r",
    file: "vocal.mp3",
    key: "stems/a/vocal.mp3",
    epoch,
    result: { ok: true, stored: vocal },
    ...extra,
  });

  it("its link refresh is neither a poll entry nor taken: only the current attempt's is", () => {
    expect(second).toBeGreaterThan(first);
    const stale = reportSteps(retrying, report(first, { refresh: { urls: { "vocal.mp3": "https://cdn.test/stale.mp3" }, flag: "SUCCESS" }, result: { ok: false, error: { code: "truncated", message: "m" }, retryable: true } }));
    expect(stale.some((s) => s.note !== undefined || s.event?.type === "urlsRefreshed")).toBe(false);
    const fresh = reportSteps(retrying, report(second, { refresh: { urls: { "vocal.mp3": "https://cdn.test/fresh.mp3" }, flag: "SUCCESS" } }));
    expect(fresh[0]).toEqual({ note: { type: "poll", detail: { flag: "SUCCESS" } }, event: { type: "urlsRefreshed", file: "vocal.mp3", urls: { "vocal.mp3": "https://cdn.test/fresh.mp3" } } });
  });

  it("its failure changes nothing: the running attempt is not charged for it", () => {
    const steps = reportSteps(retrying, report(first, { result: { ok: false, error: { code: "truncated", message: "m" }, retryable: true } }));
    expect(applied(retrying, steps)).toBe(retrying);
    expect(applied(retrying, reportSteps(retrying, report(first, { result: { ok: false, interrupted: true } })))).toBe(retrying);
  });

  it("its success still stores the file: the bytes are in R2", () => {
    const steps = reportSteps(retrying, report(first));
    expect(steps).toEqual([{ event: { type: "transferSucceeded", file: "vocal.mp3", epoch: first, stored: vocal } }]);
    const after = applied(retrying, steps);
    expect(fileOf(after, "vocal.mp3")).toMatchObject({ state: "stored", running: null, stored: { size: 5 } });
    // The newer attempt's own report then changes nothing.
    expect(applied(after, reportSteps(after, report(second)))).toBe(after);
  });
});
