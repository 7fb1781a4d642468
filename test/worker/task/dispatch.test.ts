// What the shard's alarm does for a task (src/task/dispatch.ts).
import { describe, expect, it } from "vitest";
import { TRANSFER_LEASE_MS } from "../../../src/task/backoff";
import { dueWork } from "../../../src/task/dispatch";
import { apply, type Task } from "../../../src/task/machine";
import { epochOf, fileOf, filesOffer, musicOffer, notifying, storeFile, T0, taskAfter, WAV, wavOffer } from "./fixtures";

const live = { notify: true, canPoll: true };

/** `t` with its WAV changed by `change` (a state the machine reaches only after several steps). */
function withWav(t: Task, change: Partial<Task["files"][number]>): Task {
  return { ...t, files: t.files.map((f) => (f.name === WAV ? { ...f, ...change } : f)) };
}

describe("due work", () => {
  it("a task with a URL due now gets its transfer attempt; before its time nothing", () => {
    const t = taskAfter([wavOffer("https://cdn/x.wav")]);
    expect(dueWork(t, T0, live)).toEqual({ type: "transfer", file: WAV, refreshUrl: false, adopt: false });
    expect(dueWork(withWav(t, { dueAt: T0 + 1000 }), T0, live)).toBeNull();
  });

  it("an attempt not answered within the lease is lost first; the next may adopt what it wrote", () => {
    let t = taskAfter([wavOffer("https://cdn/x.wav"), { type: "transferStarted", file: WAV }]);
    expect(dueWork(t, T0 + 2, live)).toBeNull(); // in flight
    const late = fileOf(t).running!.since + TRANSFER_LEASE_MS;
    expect(dueWork(t, late - 1, live)).toBeNull();
    expect(dueWork(t, late, live)).toEqual({ type: "apply", event: { type: "transferInterrupted", file: WAV, epoch: epochOf(t) } });
    t = apply(t, "a", { type: "transferInterrupted", file: WAV, epoch: epochOf(t) }, late, notifying)!;
    expect(fileOf(t).running).toBeNull();
    expect(dueWork(t, fileOf(t).dueAt!, live)).toEqual({ type: "transfer", file: WAV, refreshUrl: false, adopt: true });
  });

  it("an attempt the runner could not be reached for may be adopted too; one that was refused may not", () => {
    const t = taskAfter([wavOffer("https://cdn/x.wav")]);
    const after = (code: string) => withWav(t, { error: { code, message: "m" } });
    expect(dueWork(after("runner_unreachable"), T0, live)).toMatchObject({ type: "transfer", adopt: true });
    expect(dueWork(after("interrupted"), T0, live)).toMatchObject({ type: "transfer", adopt: true });
    expect(dueWork(after("truncated"), T0, live)).toMatchObject({ type: "transfer", adopt: false });
  });

  it("a wanted link refresh needs SUNO_API_KEY and 30 s since the last poll", () => {
    const t = { ...withWav(taskAfter([wavOffer("https://cdn/x.wav")]), { refreshUrl: true }), lastPolledAt: T0 - 10_000 };
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
    let stored = storeFile(taskAfter([wavOffer("https://cdn/x.wav")], notifying), WAV, T0 + 5, undefined, notifying);
    expect(stored.state).toBe("stored");
    stored = apply(stored, "a", { type: "notifyStarted" }, T0 + 6, notifying)!;
    stored = apply(stored, "a", { type: "notifyAnswered", status: 204, outcome: "delivered" }, T0 + 7, notifying)!;
    expect(dueWork(stored, T0 + 10 ** 9, live)).toBeNull();
  });

  it("several files due: their transfers are handed out one after another, each once", () => {
    let t = taskAfter([filesOffer("stems", ["vocal.mp3", "drums.mp3", "bass.mp3"])]);
    const handed: string[] = [];
    for (let work = dueWork(t, T0 + 10, live); work !== null; work = dueWork(t, T0 + 10, live)) {
      expect(work.type).toBe("transfer");
      if (work.type !== "transfer") break;
      handed.push(work.file);
      t = apply(t, "a", { type: "transferStarted", file: work.file, refreshUrl: work.refreshUrl }, T0 + 10, notifying)!;
    }
    expect(handed).toEqual(["vocal.mp3", "drums.mp3", "bass.mp3"]);
    // Each took the next epoch.
    expect(t.files.map((f) => f.running?.epoch)).toEqual([1, 2, 3]);
    expect(t.epoch).toBe(3);
  });

  it("a lost lease names the file and the epoch of its running attempt, not a sibling's", () => {
    let t = taskAfter([filesOffer("stems", ["vocal.mp3", "drums.mp3"]), { type: "transferStarted", file: "vocal.mp3" }]);
    const later = T0 + 60_000;
    t = apply(t, "a", { type: "transferStarted", file: "drums.mp3" }, later, notifying)!;
    expect(epochOf(t, "drums.mp3")).toBe(2);
    // vocal's lease ends first; drums' attempt is still live then.
    const vocalLost = fileOf(t, "vocal.mp3").running!.since + TRANSFER_LEASE_MS;
    expect(dueWork(t, vocalLost, live)).toEqual({ type: "apply", event: { type: "transferInterrupted", file: "vocal.mp3", epoch: 1 } });
    t = apply(t, "a", { type: "transferInterrupted", file: "vocal.mp3", epoch: 1 }, vocalLost, notifying)!;
    const vocalAgain = fileOf(t, "vocal.mp3").dueAt!;
    expect(dueWork(t, vocalAgain, live)).toEqual({ type: "transfer", file: "vocal.mp3", refreshUrl: false, adopt: true });
    t = apply(t, "a", { type: "transferStarted", file: "vocal.mp3" }, vocalAgain, notifying)!;
    expect(dueWork(t, later + TRANSFER_LEASE_MS, live)).toEqual({ type: "apply", event: { type: "transferInterrupted", file: "drums.mp3", epoch: 2 } });
  });

  it("a failed task hands out no transfer, even for a file still waiting", () => {
    // t1.mp3 can never be stored: the task still downloads, so its sibling's attempt is handed out…
    let t = taskAfter([musicOffer("first", ["t1"])], notifying);
    const started = apply(t, "a", { type: "transferStarted", file: "t1.mp3" }, T0 + 5, notifying)!;
    t = apply(started, "a", { type: "transferFailed", file: "t1.mp3", epoch: epochOf(started, "t1.mp3"), error: { code: "not_mp3", message: "html" }, retryable: false }, T0 + 6, notifying)!;
    expect(t.state).toBe("downloading");
    expect(dueWork(t, T0 + 10, live)).toEqual({ type: "transfer", file: "t1.jpeg", refreshUrl: false, adopt: false });
    // …until the provider fails the task: then none, though t1.jpeg is still waiting and due.
    t = apply(t, "a", { type: "providerFailed", kind: "music", error: { code: "501", message: "Audio generation failed" } }, T0 + 7, notifying)!;
    expect(t.state).toBe("failed");
    expect(fileOf(t, "t1.jpeg")).toMatchObject({ state: "waiting", running: null, dueAt: T0 });
    expect(dueWork(t, T0 + 10, { ...live, notify: false })).toEqual({ type: "apply", event: { type: "notifyDisabled" } });
    expect(dueWork(t, T0 + 10, live)).toEqual({ type: "announce" });
  });
});
