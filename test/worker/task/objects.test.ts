// Which R2 objects a task refers to (src/task/objects.ts): staged content released once the files
// made from it are stored; every key of a task for its deletion.
import { describe, expect, it } from "vitest";
import { releasedKeys, taskKeys } from "../../../src/task/objects";
import type { TaskEvent } from "../../../src/task/machine";
import { failFile, filesOffer, musicOffer, storedAs, storeFile, T0, taskAfter, wav, WAV, wavOffer } from "./fixtures";

const STAGED = "midi/a/incoming/0f1e2d.json";
const midi: TaskEvent = {
  type: "offered",
  kind: "midi",
  stage: "complete",
  files: [
    { name: "midi.json", role: "midi", track: null, contentType: "application/json", source: { staged: STAGED } },
    { name: "midi.mid", role: "midi", track: null, contentType: "audio/midi", source: { staged: STAGED, convert: "midi" } },
  ],
};

describe("staged content released", () => {
  it("only once both midi.json and midi.mid, made from it, are stored", () => {
    const offered = taskAfter([midi]);
    expect(releasedKeys(null, offered)).toEqual([]);
    const json = storeFile(offered, "midi.json", T0 + 5, storedAs("midi.json", "midi"));
    expect(releasedKeys(offered, json)).toEqual([]);
    const both = storeFile(json, "midi.mid", T0 + 6, storedAs("midi.mid", "midi"));
    expect(both.state).toBe("stored");
    expect(releasedKeys(json, both)).toEqual([STAGED]);
    // Once released, it is not released again.
    expect(releasedKeys(both, both)).toEqual([]);
  });

  it("not while a file made from it may still be retried; all of it when the task is gone", () => {
    const json = storeFile(taskAfter([midi]), "midi.json", T0 + 5, storedAs("midi.json", "midi"));
    const failed = failFile(json, "midi.mid", T0 + 6, "midi_invalid", false);
    expect(failed.state).toBe("failed");
    expect(releasedKeys(json, failed)).toEqual([]);
    expect(releasedKeys(failed, null)).toEqual([STAGED]);
  });

  it("tasks whose files all come from URLs have none", () => {
    const t = taskAfter([musicOffer("complete", ["t1"])]);
    expect(releasedKeys(t, storeFile(storeFile(t, "t1.mp3", T0 + 1), "t1.jpeg", T0 + 2))).toEqual([]);
  });
});

describe("every key of a task", () => {
  it("each file's key (stored or not) and the staged content, each once", () => {
    const t = taskAfter([midi]);
    expect(taskKeys(t).sort()).toEqual(["midi/a/midi.json", "midi/a/midi.mid", STAGED].sort());
  });

  it("a WAV under wav/<id>.wav; other kinds under <kind>/<id>/<name>; a stored file where it was stored", () => {
    // A WAV's waveform lies beside it (<key>.peaks.json), and goes with the task.
    expect(taskKeys(taskAfter([wavOffer("https://cdn/x.wav")]))).toEqual(["wav/a.wav", "wav/a.wav.peaks.json"]);
    expect(taskKeys(storeFile(taskAfter([wavOffer("https://cdn/x.wav")]), WAV, T0 + 1, wav))).toEqual(["wav/a.wav", "wav/a.wav.peaks.json"]);
    const movedWav = storeFile(taskAfter([wavOffer("https://cdn/x.wav")]), WAV, T0 + 1, { ...wav, key: "wav/elsewhere.wav" });
    expect(taskKeys(movedWav)).toEqual(["wav/elsewhere.wav", "wav/elsewhere.wav.peaks.json"]);
    // Other kinds' files (MP3s here) have none.
    const stems = taskAfter([filesOffer("stems", ["vocal.mp3", "drums.mp3"])]);
    expect(taskKeys(stems)).toEqual(["stems/a/vocal.mp3", "stems/a/drums.mp3"]);
    const moved = storeFile(stems, "vocal.mp3", T0 + 1, { ...storedAs("vocal.mp3", "stems"), key: "stems/a/elsewhere.mp3" });
    expect(taskKeys(moved)).toEqual(["stems/a/elsewhere.mp3", "stems/a/drums.mp3"]);
  });

  it("a task without files has none", () => {
    expect(taskKeys(taskAfter([{ type: "registered", kind: "music" }]))).toEqual([]);
  });
});
