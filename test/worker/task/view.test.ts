// A task as the API shows it (src/task/view.ts).
import { describe, expect, it } from "vitest";
import { apply, type TaskEvent } from "../../../src/task/machine";
import { toView } from "../../../src/task/view";
import { ctx, epochOf, failFile, filesOffer, musicOffer, notifying, step, storedAs, storeFile, T0, taskAfter, wav, WAV, wavOffer } from "./fixtures";

const iso = (ms: number) => new Date(ms).toISOString();

describe("the task view", () => {
  it("a stored WAV task: its wav, its one file, its source without the query string", () => {
    const t = storeFile(taskAfter([wavOffer("https://cdn.test/a.wav?token=secret")]), WAV, T0 + 5, wav);
    const v = toView(t);
    expect(v).toMatchObject({
      taskId: "a",
      kind: "wav",
      state: "stored",
      createdAt: iso(T0),
      updatedAt: iso(T0 + 5),
      attempts: 1,
      source: { url: "https://cdn.test/a.wav" },
      wav,
      error: null,
      nextAttemptAt: null,
      music: null,
    });
    expect(v.files).toEqual([{ name: WAV, role: "wav", track: null, state: "stored", size: 10, sha256: wav.sha256, contentType: "audio/wav", key: "wav/a.wav", error: null }]);
    expect(JSON.stringify(v)).not.toContain("secret");
  });

  it("a WAV not stored yet: no wav, no size or sha256, its key still wav/<id>.wav, its last error and next attempt", () => {
    let t = taskAfter([wavOffer("https://cdn.test/a.wav")]);
    expect(toView(t)).toMatchObject({ wav: null, error: null, nextAttemptAt: iso(T0), files: [{ state: "waiting", size: null, sha256: null, key: "wav/a.wav" }] });
    t = failFile(t, WAV, T0 + 10, "truncated", true);
    const v = toView(t);
    expect(v).toMatchObject({ state: "downloading", attempts: 1, error: { code: "truncated", message: "truncated happened" }, nextAttemptAt: iso(T0 + 10 + 30_000) });
    expect(v.files[0]!.error).toEqual({ code: "truncated", message: "truncated happened" });
  });

  it("a music task: each file under music/<id>/<name>, attempts summed, no one source and no wav", () => {
    let t = taskAfter([musicOffer("complete", ["t1", "t2"])]);
    t = failFile(t, "t1.mp3", T0 + 1, "truncated", true);
    t = storeFile(t, "t2.mp3", T0 + 2, storedAs("t2.mp3", "music", 300));
    t = storeFile(t, "t1.jpeg", T0 + 3, storedAs("t1.jpeg", "music", 20));
    const v = toView(t);
    expect(v).toMatchObject({ kind: "music", state: "downloading", attempts: 3, source: null, wav: null });
    expect(v.files.map((f) => [f.name, f.role, f.track, f.state, f.size, f.key])).toEqual([
      ["t1.mp3", "audio", "t1", "waiting", null, "music/a/t1.mp3"],
      ["t1.jpeg", "image", "t1", "stored", 20, "music/a/t1.jpeg"],
      ["t2.mp3", "audio", "t2", "stored", 300, "music/a/t2.mp3"],
      ["t2.jpeg", "image", "t2", "waiting", null, "music/a/t2.jpeg"],
    ]);
    // The earliest next attempt among the files waiting: t2.jpeg is due since it was offered.
    expect(v.nextAttemptAt).toBe(iso(T0));
    expect(v.error).toEqual({ code: "truncated", message: "truncated happened" });
  });

  it("a single file of another kind shows its URL as the source; content the callback carried has none", () => {
    const video = taskAfter([{ type: "offered", kind: "video", stage: "complete", files: [{ name: "video.mp4", role: "video", track: null, contentType: "video/mp4", source: { url: "https://cdn.test/v.mp4?sig=1" } }] }]);
    expect(toView(video)).toMatchObject({ source: { url: "https://cdn.test/v.mp4" }, wav: null, files: [{ key: "video/a/video.mp4" }] });
    const lyrics = taskAfter([{ type: "offered", kind: "lyrics", stage: "complete", files: [{ name: "lyrics.json", role: "lyrics", track: null, contentType: "application/json", source: { staged: "lyrics/a/incoming/h.json" } }] }]);
    expect(toView(lyrics)).toMatchObject({ source: null, files: [{ key: "lyrics/a/lyrics.json" }] });
  });

  it("error: the task's failure (naming the file) before any waiting file's error, that before the provider's notice", () => {
    // A file that can never be stored, while another waits after a failed attempt.
    let t = taskAfter([filesOffer("stems", ["vocal.mp3", "drums.mp3"])]);
    t = failFile(t, "vocal.mp3", T0 + 1, "truncated", true);
    expect(toView(t).error).toEqual({ code: "truncated", message: "truncated happened" });
    t = failFile(t, "drums.mp3", T0 + 2, "not_mp3", false);
    // vocal.mp3 still waits for its next attempt, so the task downloads on; its error already names drums.mp3.
    const failing = toView(t);
    expect(failing).toMatchObject({ state: "downloading", error: { code: "not_mp3", message: "drums.mp3: not_mp3 happened" }, nextAttemptAt: iso(T0 + 1 + 30_000) });
    expect(failing.files.find((f) => f.name === "drums.mp3")!.error).toEqual({ code: "not_mp3", message: "not_mp3 happened" });
    expect(failing.files.find((f) => f.name === "vocal.mp3")!.error).toEqual({ code: "truncated", message: "truncated happened" });
    // Once vocal.mp3 is stored the task has failed, with the same error and no next attempt.
    t = storeFile(t, "vocal.mp3", T0 + 1 + 30_000, storedAs("vocal.mp3", "stems"));
    const failed = toView(t);
    expect(failed).toMatchObject({ state: "failed", error: { code: "not_mp3", message: "drums.mp3: not_mp3 happened" } });
    expect(failed.nextAttemptAt).toBeNull();
    // Pending with the provider's last word.
    let pending = taskAfter([{ type: "registered", kind: "music" }]);
    expect(toView(pending).error).toBeNull();
    pending = step(pending, { type: "pollStarted" }, T0 + 300_000);
    pending = step(pending, { type: "pollNoResult", message: "the provider has no record of this task (data: null)" }, T0 + 300_000);
    expect(toView(pending)).toMatchObject({ state: "pending", error: { code: "provider_no_result" }, nextAttemptAt: iso(pending.pollAt!) });
  });

  it("a stored file's old error is not shown", () => {
    let t = taskAfter([filesOffer("stems", ["vocal.mp3", "drums.mp3"])]);
    t = failFile(t, "vocal.mp3", T0 + 1, "truncated", true);
    t = storeFile(t, "vocal.mp3", T0 + 40_000, storedAs("vocal.mp3", "stems"));
    const v = toView(t);
    expect(v.files[0]).toMatchObject({ state: "stored", error: null });
    expect(v.error).toBeNull();
  });

  it("the announcement: its next attempt only while one is due and none is being sent", () => {
    let t = taskAfter([{ type: "providerFailed", error: { code: "500", message: "x" } } as TaskEvent], notifying);
    expect(toView(t).notification).toEqual({ state: "pending", attempts: 0, lastStatus: null, nextAttemptAt: iso(T0), deliveredAt: null });
    t = apply(t, "a", { type: "notifyStarted" }, T0 + 1, notifying)!;
    expect(toView(t).notification).toMatchObject({ attempts: 1, nextAttemptAt: null });
    t = apply(t, "a", { type: "notifyAnswered", status: 204, outcome: "delivered" }, T0 + 2, notifying)!;
    expect(toView(t).notification).toEqual({ state: "delivered", attempts: 1, lastStatus: 204, nextAttemptAt: null, deliveredAt: iso(T0 + 2) });
  });

  it("an attempt running is counted; the file shows no next attempt while it runs", () => {
    const t = step(taskAfter([wavOffer("https://cdn.test/a.wav")]), { type: "transferStarted", file: WAV }, T0 + 1, ctx);
    expect(epochOf(t)).toBe(1);
    expect(toView(t)).toMatchObject({ attempts: 1, nextAttemptAt: null, files: [{ state: "waiting" }] });
  });
});
