// Review fixes in the pure modules (src/task): what a poll that offers nothing new means, a failed
// task's daily look taken out of the poll index while it runs, at most four transfers handed out
// at once, the keys a task refers to again (a removal of one of them no longer applies), and the
// provider's words capped.
import { describe, expect, it } from "vitest";
import type { FileOffer } from "../../../src/kinds/kind";
import { recordError, recordFrom } from "../../../src/kinds/read";
import { FAILED_TASK_POLL_MS, TRANSFER_LEASE_MS } from "../../../src/task/backoff";
import { dueWork, TRANSFERS_AT_ONCE } from "../../../src/task/dispatch";
import { apply, filesDueAt, type Task } from "../../../src/task/machine";
import { liveKeys } from "../../../src/task/objects";
import { pollVerdict, type PollAnswer } from "../../../src/task/poll";
import { ctx, failFile, fileOf, filesOffer, musicOffer, step, storedAs, storeFile, T0, taskAfter, trackFiles, WAV, wavOffer } from "../task/fixtures";

const redact = (text: string) => text;
const said = (stage: "first" | "complete", files: ReturnType<typeof trackFiles>, flag: string): PollAnswer => ({ record: { status: "said", said: { type: "files", stage, files }, flag } });

/** record-info naming the WAV of task "a" at `url`. */
const wavRecord = (url: string): PollAnswer => ({ record: { status: "said", said: { type: "files", stage: "complete", files: wavOffer(url).files }, flag: "SUCCESS" } });

/** A music task whose first track is stored, waiting for the provider to complete. */
function firstTrackStored(): Task {
  let t = taskAfter([musicOffer("first", ["t1"])]);
  t = storeFile(t, "t1.mp3", T0 + 5);
  t = storeFile(t, "t1.jpeg", T0 + 6);
  expect(t.state).toBe("pending");
  return t;
}

/** A WAV task whose transfer failed for good (not for bytes certainly wrong: it is looked at daily). */
function failedWav(url: string): Task {
  const t = failFile(taskAfter([wavOffer(url)]), WAV, T0 + 5, "source_http_error", false);
  expect(t.state).toBe("failed");
  return t;
}

describe("a poll that offers nothing new", () => {
  it("a pending task offered only the files it has: a pending poll, and expired at its age limit", () => {
    const t = firstTrackStored();
    const answer = said("first", trackFiles("t1"), "FIRST_SUCCESS");
    expect(pollVerdict(t, answer, T0 + 400_000, ctx, redact)).toMatchObject({ event: { type: "pollPending" }, outcome: "pending", note: { detail: { flag: "FIRST_SUCCESS" } } });
    expect(pollVerdict(t, answer, T0 + ctx.maxAgeMs, ctx, redact)).toMatchObject({ event: { type: "expired" }, outcome: "failed" });
    // (unchanged) a new track is news.
    expect(pollVerdict(t, said("complete", [...trackFiles("t1"), ...trackFiles("t2")], "SUCCESS"), T0 + 400_000, ctx, redact)).toMatchObject({ event: { type: "offered" }, outcome: "resolved" });
  });

  it("a failed task offered the very source it failed with stays failed until its next daily look", () => {
    const t = failedWav("https://cdn.test/a.wav");
    const same = pollVerdict(t, wavRecord("https://cdn.test/a.wav"), T0 + 60_000, ctx, redact);
    expect(same).toMatchObject({ event: { type: "pollPending" }, outcome: "failed" });
    const after = step(t, same.event, T0 + 60_000);
    expect(after.state).toBe("failed");
    expect(after.pollAt).toBe(T0 + 60_000 + FAILED_TASK_POLL_MS);
    // (unchanged) another source gives it another go.
    const other = pollVerdict(t, wavRecord("https://cdn.test/b.wav"), T0 + 60_000, ctx, redact);
    expect(other).toMatchObject({ event: { type: "offered" }, outcome: "resolved" });
  });
});

describe("a failed task's daily look", () => {
  it("pollStarted plans the next look a day on, so the poll index does not offer it again meanwhile", () => {
    const t = failedWav("https://cdn.test/a.wav");
    const at = t.pollAt! + 1_000;
    const started = apply(t, "a", { type: "pollStarted" }, at, ctx)!;
    expect(started).toMatchObject({ state: "failed", polls: t.polls + 1, lastPolledAt: at });
    expect(started.pollAt).toBe(at + FAILED_TASK_POLL_MS);
  });
});

describe("transfers handed out at once", () => {
  it("at most 4 of a task's files run at once; the next goes when one is answered", () => {
    expect(TRANSFERS_AT_ONCE).toBe(4);
    const names = Array.from({ length: 6 }, (_, i) => `s${i}.mp3`);
    let t = taskAfter([filesOffer("stems", names)]);
    const live = { notify: false, canPoll: true };
    for (let i = 0; i < 4; i++) {
      const work = dueWork(t, T0 + 10, live);
      expect(work).toMatchObject({ type: "transfer", file: names[i] });
      t = step(t, { type: "transferStarted", file: names[i]! }, T0 + 10);
    }
    expect(dueWork(t, T0 + 10, live)).toBeNull();
    // Nor is the task due again (the shard's alarm) before one answers or its lease ends.
    expect(filesDueAt(t)).toBe(T0 + 10 + TRANSFER_LEASE_MS);
    t = step(t, { type: "transferSucceeded", file: names[0]!, epoch: fileOf(t, names[0]).running!.epoch, stored: storedAs(names[0]!, "stems") }, T0 + 11);
    expect(filesDueAt(t)).toBe(fileOf(t, names[4]).dueAt); // the waiting files' own due time again
    expect(dueWork(t, T0 + 11, live)).toMatchObject({ type: "transfer", file: names[4] });
  });
});

describe("the keys a task refers to now", () => {
  it("its stored files and the file being written (with a WAV's waveform), and staged content still needed — not a file only waiting", () => {
    const wavTask = taskAfter([wavOffer("https://cdn.test/a.wav")]);
    expect([...liveKeys(wavTask)]).toEqual([]); // waiting, no attempt: nothing of it is in R2
    const writing = step(wavTask, { type: "transferStarted", file: WAV }, T0 + 5);
    expect([...liveKeys(writing)].sort()).toEqual(["wav/a.wav", "wav/a.wav.peaks.json"]);
    const stored = storeFile(wavTask, WAV, T0 + 5, { key: "wav/a.wav", size: 10, sha256: "ab".repeat(32), contentType: "audio/wav" });
    expect([...liveKeys(stored)].sort()).toEqual(["wav/a.wav", "wav/a.wav.peaks.json"]);

    const staged = "lyrics/a/incoming/ff.json";
    const lyrics = taskAfter([{ type: "offered", kind: "lyrics", stage: "complete", files: [{ name: "lyrics.json", role: "lyrics", track: null, contentType: "application/json", source: { staged } }] }]);
    expect([...liveKeys(lyrics)]).toEqual([staged]);
    const done = storeFile(lyrics, "lyrics.json", T0 + 5, storedAs("lyrics.json", "lyrics"));
    expect([...liveKeys(done)]).toEqual(["lyrics/a/lyrics.json"]);
  });
});

describe("the provider's words", () => {
  it("a record's flag and error code are kept to 64 characters, its message to 2,000", () => {
    expect(recordError("GENERATE_WAV_FAILED", "E".repeat(100), "m".repeat(5000))).toEqual({ code: "E".repeat(64), message: "m".repeat(2000) });
    expect(recordError("F".repeat(100), null, null)).toEqual({ code: "F".repeat(64), message: "F".repeat(100) });
    const flag = "X".repeat(100);
    const files: FileOffer[] = [{ name: WAV, role: "wav", track: null, contentType: "audio/wav", source: { url: "https://cdn.test/a.wav" } }];
    expect(recordFrom({ flag, files, pending: [], failures: [] })).toMatchObject({ status: "said", flag: "X".repeat(64) });
    expect(recordFrom({ flag, files: [], pending: [], failures: [flag.slice(0, 64)] })).toMatchObject({ said: { type: "failed", error: { code: "X".repeat(64) } } });
  });
});
