// Task rows written before tasks had kinds and files (src/task/upgrade.ts): each is a `wav` task
// whose one file is its WAV, read into the current shape.
import { describe, expect, it } from "vitest";
import { dueWork } from "../../../src/task/dispatch";
import { apply, failureOf, type Task } from "../../../src/task/machine";
import type { Notification } from "../../../src/task/notification";
import { readTask } from "../../../src/task/upgrade";
import { toView } from "../../../src/task/view";
import { ctx, T0, wavOffer } from "./fixtures";

const NOW = T0 + 3_600_000;
const notification: Notification = { state: "off", messageId: null, round: 0, type: null, reachedAt: null, attempts: 0, lastStatus: null, nextAttemptAt: null, firstAttemptAt: null, sendingSince: null, deliveredAt: null };
const storedWav = { key: "wav/old.wav", size: 1234, sha256: "ef".repeat(32), contentType: "audio/wav" };

/** A row as the first versions wrote it. */
function oldRow(over: Record<string, unknown>): string {
  return JSON.stringify({
    taskId: "old",
    state: "pending",
    createdAt: T0,
    updatedAt: T0 + 1000,
    attempts: 0,
    sourceUrl: null,
    sourceSignedAt: null,
    urlKnownAt: null,
    refreshUrl: false,
    wav: null,
    error: null,
    polls: 0,
    lastPolledAt: null,
    attemptStartedAt: null,
    dueAt: null,
    music: null,
    notification,
    ...over,
  });
}

describe("old single-WAV rows", () => {
  it("pending, waiting for its next poll with the provider's last word: no file, a notice, pollAt from dueAt", () => {
    const error = { code: "provider_no_result", message: "the provider has no record of this task (data: null)" };
    const t = readTask(oldRow({ error, polls: 3, lastPolledAt: T0 + 600_000, dueAt: T0 + 720_000, music: { taskId: "m1", audioId: "a1" } }), NOW);
    expect(t).toEqual({
      taskId: "old",
      kind: "wav",
      state: "pending",
      createdAt: T0,
      updatedAt: T0 + 1000,
      ageFrom: T0,
      stage: null,
      files: [],
      failure: null,
      notice: error,
      polls: 3,
      lastPolledAt: T0 + 600_000,
      pollAt: T0 + 720_000,
      epoch: 0,
      bornAtEpoch: 0,
      music: { taskId: "m1", audioId: "a1" },
      notification,
    } satisfies Task);
    expect(toView(t).error).toEqual(error);
    // It goes on like any task: a WAV URL now starts its download.
    expect(apply(t, "old", { ...wavOffer("https://cdn/x.wav"), files: [{ ...wavOffer("x").files[0]!, name: "old.wav" }] }, NOW, ctx)?.state).toBe("downloading");
  });

  it("downloading with an attempt in flight: the WAV is waiting and due at once, its attempts and last error kept", () => {
    const t = readTask(
      oldRow({
        state: "downloading",
        attempts: 2,
        sourceUrl: "https://cdn.test/old.wav?token=abc",
        sourceSignedAt: 1_700_000_100,
        urlKnownAt: T0 + 5,
        error: { code: "truncated", message: "short" },
        attemptStartedAt: NOW - 1000,
        dueAt: NOW - 1000 + 1_200_000,
        ageFrom: T0 + 7,
      }),
      NOW,
    );
    expect(t).toMatchObject({ kind: "wav", state: "downloading", stage: "complete", pollAt: null, failure: null, notice: null, ageFrom: T0 + 7, epoch: 0 });
    expect(t.files).toEqual([
      {
        name: "old.wav",
        role: "wav",
        track: null,
        contentType: "audio/wav",
        source: { url: "https://cdn.test/old.wav?token=abc" },
        signedAt: 1_700_000_100,
        knownAt: T0 + 5,
        state: "waiting",
        attempts: 2,
        running: null,
        dueAt: NOW,
        refreshUrl: false,
        error: { code: "truncated", message: "short" },
        stored: null,
      },
    ]);
    expect(dueWork(t, NOW, { notify: false, canPoll: true })).toEqual({ type: "transfer", file: "old.wav", refreshUrl: false, adopt: false });
    const next = apply(t, "old", { type: "transferStarted", file: "old.wav" }, NOW, ctx)!;
    expect(next.files[0]).toMatchObject({ attempts: 3, running: { epoch: 1, since: NOW } });
  });

  it("downloading between attempts: due when it was", () => {
    const t = readTask(oldRow({ state: "downloading", attempts: 1, sourceUrl: "https://cdn.test/old.wav", urlKnownAt: T0, refreshUrl: true, dueAt: NOW + 30_000 }), NOW);
    expect(t.files[0]).toMatchObject({ state: "waiting", dueAt: NOW + 30_000, refreshUrl: true, running: null });
  });

  it("stored: its WAV is the stored file, and the API still shows it as wav", () => {
    const t = readTask(oldRow({ state: "stored", attempts: 1, sourceUrl: "https://cdn.test/old.wav", urlKnownAt: T0, wav: storedWav }), NOW);
    expect(t).toMatchObject({ kind: "wav", state: "stored", stage: "complete", failure: null, notice: null, pollAt: null });
    expect(t.files[0]).toMatchObject({ name: "old.wav", state: "stored", stored: storedWav, error: null, dueAt: null });
    expect(toView(t)).toMatchObject({ wav: storedWav, files: [{ name: "old.wav", key: "wav/old.wav", size: 1234 }] });
    // Final: nothing moves it.
    expect(apply(t, "old", { type: "retryRequested" }, NOW, ctx)).toBe(t);
  });

  it("failed after bytes that were not a WAV: the file failed for that reason, and a retry downloads it again", () => {
    const error = { code: "not_a_wav", message: "the source served text/html" };
    const t = readTask(oldRow({ state: "failed", attempts: 1, sourceUrl: "https://cdn.test/old.wav", urlKnownAt: T0, error }), NOW);
    expect(t).toMatchObject({ kind: "wav", state: "failed", failure: error, notice: null, pollAt: null });
    expect(t.files[0]).toMatchObject({ state: "failed", error, dueAt: null });
    expect(failureOf(t)).toEqual(error);
    const retried = apply(t, "old", { type: "retryRequested" }, NOW, ctx)!;
    expect(retried).toMatchObject({ state: "downloading", failure: null });
    expect(retried.files[0]).toMatchObject({ state: "waiting", attempts: 0, refreshUrl: true, dueAt: NOW, error: null });
  });

  it("failed by the provider: no file, the provider's failure", () => {
    const error = { code: "451", message: "download failed" };
    const t = readTask(oldRow({ state: "failed", error, polls: 1 }), NOW);
    expect(t).toMatchObject({ kind: "wav", state: "failed", stage: null, files: [], failure: error, notice: null, pollAt: null });
    expect(toView(t).error).toEqual(error);
  });

  it("a row in the current shape is read as it is", () => {
    const current = apply(null, "a", wavOffer("https://cdn/x.wav"), T0, ctx)!;
    expect(readTask(JSON.stringify(current), NOW)).toEqual(current);
  });
});
