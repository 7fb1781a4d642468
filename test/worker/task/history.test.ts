// What a change meant (src/task/history.ts): the entries the shard stores for each transition.
import { describe, expect, it } from "vitest";
import { callbackNote, meaningOf, pollNote } from "../../../src/task/history";
import { apply, type Task, type TaskEvent } from "../../../src/task/machine";
import { ctx, epochOf, filesOffer, musicOffer, notifying, storedAs, storeFile, T0, taskAfter, trackFiles, wav, WAV, wavOffer } from "./fixtures";

/** The entries `event` means when applied to `before` at `at`. */
function notesFor(before: Task | null, event: TaskEvent, at = T0 + 100, c = ctx) {
  return meaningOf(before, event, apply(before, "a", event, at, c));
}

const started = (file = WAV): TaskEvent => ({ type: "transferStarted", file });

describe("task history: what a change meant", () => {
  it("registration, with the track when it is known; registering again says nothing", () => {
    expect(notesFor(null, { type: "registered", music: { taskId: "m", audioId: "x" } })).toEqual([
      { type: "registered", detail: { kind: "wav", music: { taskId: "m", audioId: "x" } } },
    ]);
    expect(notesFor(null, { type: "registered" })).toEqual([{ type: "registered", detail: { kind: "wav" } }]);
    expect(notesFor(null, { type: "registered", kind: "stems" })).toEqual([{ type: "registered", detail: { kind: "stems" } }]);
    expect(notesFor(taskAfter([{ type: "registered" }]), { type: "registered" })).toEqual([]);
  });

  it("an attempt handed out names its number and the source's host, never the query string", () => {
    const t = taskAfter([wavOffer("https://cdn.example.com/x.wav?token=secret")]);
    const notes = notesFor(t, started());
    expect(notes).toEqual([{ type: "transfer_started", detail: { file: WAV, attempt: 1, host: "cdn.example.com" } }]);
    expect(JSON.stringify(notes)).not.toContain("secret");
  });

  it("a failed attempt with retries left says when the next one is; a final one says failed too", () => {
    const running = taskAfter([wavOffer("https://cdn/x.wav"), started()]);
    const epoch = epochOf(running);
    const retry = notesFor(running, { type: "transferFailed", file: WAV, epoch, error: { code: "truncated", message: "short" }, retryable: true }, T0 + 1000);
    expect(retry).toEqual([
      { type: "transfer_failed", detail: { file: WAV, attempt: 1, code: "truncated", message: "short", retryable: true, nextAttemptAt: new Date(T0 + 1000 + 30_000).toISOString() } },
    ]);
    const final = notesFor(running, { type: "transferFailed", file: WAV, epoch, error: { code: "not_a_wav", message: "html" }, retryable: false });
    expect(final).toEqual([
      { type: "transfer_failed", detail: { file: WAV, attempt: 1, code: "not_a_wav", message: "html", retryable: false, nextAttemptAt: null } },
      { type: "failed", detail: { code: "not_a_wav", message: "html" } },
    ]);
    // A report for another attempt changed nothing, so it means nothing.
    expect(notesFor(running, { type: "transferFailed", file: WAV, epoch: epoch + 1, error: { code: "truncated", message: "short" }, retryable: true })).toEqual([]);
  });

  it("stored names the size and sha256; a provider failure names its code and message", () => {
    const running = taskAfter([wavOffer("https://cdn/x.wav"), started()]);
    expect(notesFor(running, { type: "transferSucceeded", file: WAV, epoch: epochOf(running), stored: wav })).toEqual([
      { type: "stored", detail: { file: WAV, size: wav.size, sha256: wav.sha256 } },
    ]);
    expect(notesFor(null, { type: "providerFailed", error: { code: "451", message: "download failed" } })).toEqual([
      { type: "failed", detail: { code: "451", message: "download failed" } },
    ]);
  });

  it("a retry request is told even when it changes nothing; a failed task's retry says which state it left", () => {
    const downloading = taskAfter([wavOffer("https://cdn/x.wav")]);
    expect(notesFor(downloading, { type: "retryRequested" }, T0)).toEqual([{ type: "retry_requested", detail: { state: "downloading" } }]);
    const failed = taskAfter([{ type: "providerFailed", error: { code: "500", message: "x" } }]);
    expect(notesFor(failed, { type: "retryRequested" })[0]).toEqual({ type: "retry_requested", detail: { state: "failed" } });
    // One of every failed task retried at once (POST /api/tasks/retry) says so.
    expect(notesFor(failed, { type: "retryRequested", bulk: true })[0]).toEqual({ type: "retry_requested", detail: { state: "failed", bulk: true } });
  });

  it("an announcement attempt's answer: its number, status, outcome, message and the next try", () => {
    let t = taskAfter([{ type: "providerFailed", error: { code: "500", message: "x" } }], notifying);
    t = apply(t, "a", { type: "notifyStarted" }, T0 + 10, notifying)!;
    const notes = notesFor(t, { type: "notifyAnswered", status: 500, outcome: "retry", message: "app.test answered 500" }, T0 + 20, notifying);
    expect(notes).toEqual([
      {
        type: "notification",
        detail: { attempt: 1, status: 500, outcome: "retrying", message: "app.test answered 500", nextAttemptAt: new Date(T0 + 20 + 5_000).toISOString() },
      },
    ]);
    // A late answer (no attempt in flight) means nothing.
    const answered = apply(t, "a", { type: "notifyAnswered", status: 204, outcome: "delivered" }, T0 + 30, notifying)!;
    expect(notesFor(answered, { type: "notifyAnswered", status: 204, outcome: "delivered" }, T0 + 40, notifying)).toEqual([]);
  });

  it("a callback names its outcome, code and the URL's host; a poll its flag or error", () => {
    const said = { type: "files" as const, stage: "complete" as const, files: wavOffer("https://cdn.example.com/a.wav?sig=abc").files };
    expect(callbackNote("applied", said)).toEqual({
      type: "callback",
      detail: { outcome: "applied", code: 200, stage: "complete", files: 1, host: "cdn.example.com" },
    });
    expect(JSON.stringify(callbackNote("applied", said))).not.toContain("sig=");
    expect(callbackNote("duplicate", { type: "failed", error: { code: "451", message: "m" } }).detail).toEqual({ outcome: "duplicate", code: 451 });
    // A failure code that is not a number (a record's flag) stays as it is.
    expect(callbackNote("applied", { type: "failed", error: { code: "error", message: "m" } }).detail).toEqual({ outcome: "applied", code: "error" });
    // Music's text stage names no file, and content carried inline has no host.
    expect(callbackNote("applied", { type: "files", stage: "text", files: [] }).detail).toEqual({ outcome: "applied", code: 200, stage: "text", files: 0, host: null });
    const staged = { type: "files" as const, stage: "complete" as const, files: [{ name: "lyrics.json", role: "lyrics" as const, track: null, contentType: "application/json", source: { staged: "lyrics/a/incoming/x.json" } }] };
    expect(callbackNote("applied", staged).detail).toMatchObject({ files: 1, host: null });
    expect(pollNote({ flag: "PENDING" })).toEqual({ type: "poll", detail: { flag: "PENDING" } });
    expect(pollNote({ error: "provider code 500" })).toEqual({ type: "poll", detail: { error: "provider code 500" } });
  });
});

describe("task history: tasks with several files", () => {
  const music = () => taskAfter([musicOffer("complete", ["t1", "t2"])]);

  it("each file's attempts are told with its name; each file stored is told; the task's stored counts its files", () => {
    let t = music();
    expect(notesFor(t, started("t2.jpeg"))).toEqual([{ type: "transfer_started", detail: { file: "t2.jpeg", attempt: 1, host: "cdn.test" } }]);
    t = apply(t, "a", started("t1.mp3"), T0 + 1, ctx)!;
    const failedNotes = notesFor(t, { type: "transferFailed", file: "t1.mp3", epoch: epochOf(t, "t1.mp3"), error: { code: "truncated", message: "short" }, retryable: true }, T0 + 2);
    expect(failedNotes).toEqual([{ type: "transfer_failed", detail: { file: "t1.mp3", attempt: 1, code: "truncated", message: "short", retryable: true, nextAttemptAt: new Date(T0 + 2 + 30_000).toISOString() } }]);

    t = music();
    t = storeFile(t, "t1.mp3", T0 + 10, storedAs("t1.mp3", "music", 100));
    t = storeFile(t, "t1.jpeg", T0 + 11, storedAs("t1.jpeg", "music", 20));
    t = storeFile(t, "t2.mp3", T0 + 12, storedAs("t2.mp3", "music", 300));
    const last = apply(t, "a", started("t2.jpeg"), T0 + 13, ctx)!;
    const notes = notesFor(last, { type: "transferSucceeded", file: "t2.jpeg", epoch: epochOf(last, "t2.jpeg"), stored: storedAs("t2.jpeg", "music", 4) });
    expect(notes).toEqual([
      { type: "file_stored", detail: { file: "t2.jpeg", size: 4, sha256: "cd".repeat(32) } },
      { type: "stored", detail: { files: 4, size: 424 } },
    ]);
  });

  it("a file stored while others wait is told alone; the task is not stored yet", () => {
    const t = apply(music(), "a", started("t1.mp3"), T0 + 1, ctx)!;
    expect(notesFor(t, { type: "transferSucceeded", file: "t1.mp3", epoch: epochOf(t, "t1.mp3"), stored: storedAs("t1.mp3") })).toEqual([
      { type: "file_stored", detail: { file: "t1.mp3", size: 100, sha256: "cd".repeat(32) } },
    ]);
  });

  it("a file that can never be stored: its failed attempt, then the task's failure naming it", () => {
    const t = apply(taskAfter([filesOffer("stems", ["vocal.mp3", "drums.mp3"])]), "a", started("drums.mp3"), T0 + 1, ctx)!;
    const refused: TaskEvent = { type: "transferFailed", file: "drums.mp3", epoch: epochOf(t, "drums.mp3"), error: { code: "not_mp3", message: "the bytes are not an MP3" }, retryable: false };
    // vocal.mp3 still waits: the failed attempt alone, the task not failed yet.
    expect(notesFor(t, refused)).toEqual([
      { type: "transfer_failed", detail: { file: "drums.mp3", attempt: 1, code: "not_mp3", message: "the bytes are not an MP3", retryable: false, nextAttemptAt: null } },
    ]);
    const waiting = apply(apply(t, "a", refused, T0 + 100, ctx)!, "a", started("vocal.mp3"), T0 + 101, ctx)!;
    const notes = notesFor(waiting, { type: "transferSucceeded", file: "vocal.mp3", epoch: epochOf(waiting, "vocal.mp3"), stored: storedAs("vocal.mp3", "stems") }, T0 + 102);
    expect(notes).toEqual([
      { type: "file_stored", detail: { file: "vocal.mp3", size: 100, sha256: "cd".repeat(32) } },
      { type: "failed", detail: { code: "not_mp3", message: "drums.mp3: the bytes are not an MP3" } },
    ]);
  });

  // BUG (src/task/machine.ts retried, via history.ts fileChanges): a retry of a failed task resets
  // every file not stored, a sibling whose attempt is still running included (running → null), so
  // the history tells of a failed attempt that never failed: transfer_failed with code null.
  it("a retry while a sibling's attempt still runs tells no failed attempt for it", () => {
    // t1.jpeg can never be stored while t1.mp3's attempt runs; then the provider fails the task.
    let t = taskAfter([musicOffer("first", ["t1"]), started("t1.mp3")]);
    const jpeg = apply(t, "a", started("t1.jpeg"), T0 + 5, ctx)!;
    t = apply(jpeg, "a", { type: "transferFailed", file: "t1.jpeg", epoch: epochOf(jpeg, "t1.jpeg"), error: { code: "not_jpeg", message: "html" }, retryable: false }, T0 + 6, ctx)!;
    expect(t.state).toBe("downloading");
    t = apply(t, "a", { type: "providerFailed", kind: "music", error: { code: "501", message: "Audio generation failed" } }, T0 + 7, ctx)!;
    expect(t.state).toBe("failed");
    expect(t.files.find((f) => f.name === "t1.mp3")!.running).not.toBeNull();
    const notes = notesFor(t, { type: "retryRequested" }, T0 + 10);
    expect(notes.filter((n) => n.type === "transfer_failed")).toEqual([]);
  });

  it("music's first stage: files offered are no entry of their own; storing them leaves the task pending", () => {
    let t = taskAfter([musicOffer("first", ["t1"])]);
    expect(t.files.map((f) => f.name)).toEqual(trackFiles("t1").map((f) => f.name));
    t = storeFile(t, "t1.mp3", T0 + 5);
    const last = apply(t, "a", started("t1.jpeg"), T0 + 6, ctx)!;
    const notes = notesFor(last, { type: "transferSucceeded", file: "t1.jpeg", epoch: epochOf(last, "t1.jpeg"), stored: storedAs("t1.jpeg") });
    expect(notes).toEqual([{ type: "file_stored", detail: { file: "t1.jpeg", size: 100, sha256: "cd".repeat(32) } }]);
    expect(apply(last, "a", { type: "transferSucceeded", file: "t1.jpeg", epoch: epochOf(last, "t1.jpeg"), stored: storedAs("t1.jpeg") }, T0 + 100, ctx)!.state).toBe("pending");
  });
});
