// What a task can be found by besides its id (src/task/refs.ts): a music task's tracks, the music
// task a WAV task was registered for.
import { describe, expect, it } from "vitest";
import { refsChanged, refsOf } from "../../../src/task/refs";
import { musicOffer, step, T0, taskAfter, wavOffer } from "./fixtures";

describe("task refs for search", () => {
  it("a music task: each track once, in the provider's order", () => {
    const t = taskAfter([musicOffer("complete", ["trk-1", "trk-2"])]);
    expect(refsOf(t)).toEqual([
      { ref: "trk-1", field: "track" },
      { ref: "trk-2", field: "track" },
    ]);
  });

  it("a WAV task registered for a track: its music task (the audioId has its own column)", () => {
    const t = taskAfter([{ type: "registered", music: { taskId: "music-1", audioId: "trk-1" } }]);
    expect(refsOf(t)).toEqual([{ ref: "music-1", field: "musicTaskId" }]);
    expect(refsOf(taskAfter([{ type: "registered" }]))).toEqual([]);
    expect(refsOf(null)).toEqual([]);
  });

  it("the index is rewritten only when the refs change", () => {
    const first = taskAfter([musicOffer("first", ["trk-1"])]);
    const complete = step(first, musicOffer("complete", ["trk-1", "trk-2"]), T0 + 10);
    expect(refsChanged(null, first)).toBe(true);
    expect(refsChanged(first, complete)).toBe(true);
    expect(refsChanged(complete, step(complete, { type: "transferStarted", file: "trk-1.mp3" }, T0 + 20))).toBe(false);
    const wav = taskAfter([wavOffer("https://cdn/x.wav")]);
    expect(refsChanged(null, wav)).toBe(false);
    expect(refsChanged(wav, step(wav, { type: "registered", music: { taskId: "m", audioId: "x" } }, T0 + 5))).toBe(true);
  });
});
