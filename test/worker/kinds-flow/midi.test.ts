// MIDI: the notes travel inside the callback; midi.json keeps them as received and midi.mid is a
// Standard MIDI File made from them.
import { parseMidi } from "midi-file";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, jsonOf, sendCallback, uniqueTaskId, waitForState } from "../../helpers/worker";

const NOTES = {
  state: "complete",
  instruments: [
    { name: "Drums", notes: [{ pitch: 36, start: "0.0", end: "0.25", velocity: 1 }, { pitch: 38, start: 0.5, end: "0.75", velocity: 0.8 }] },
    { name: "Electric Bass (finger)", notes: [{ pitch: 40, start: 0, end: 1.5, velocity: 1 }, { pitch: 43, start: "1.5", end: 2, velocity: 0.5 }, { pitch: 45, start: 2, end: 3, velocity: 0.9 }] },
  ],
};

describe("midi", () => {
  it("keeps the notes as midi.json and makes midi.mid that parses back to the same notes; the staged copy goes", async () => {
    const taskId = uniqueTaskId("midi");
    const res = await sendCallback({ task_id: taskId, code: 200, msg: "success", data: NOTES }, { kind: "midi" });
    expect(res.status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    expect(task.files.map((f) => [f.name, f.contentType])).toEqual([["midi.json", "application/json"], ["midi.mid", "audio/midi"]]);
    expect(await jsonOf(await api(`/api/tasks/${taskId}/files/midi.json`))).toEqual(NOTES);
    const mid = parseMidi(new Uint8Array(await (await api(`/api/tasks/${taskId}/files/midi.mid`)).arrayBuffer()));
    const instruments = mid.tracks.slice(1); // track 0 holds the tempo
    const name = (t: typeof instruments[number]) => t.find((e) => e.type === "trackName") as { text: string } | undefined;
    expect(instruments.map((t) => name(t)?.text)).toEqual(["Drums", "Electric Bass (finger)"]);
    const ons = instruments.map((t) => t.filter((e) => e.type === "noteOn") as { noteNumber: number; channel: number; deltaTime: number }[]);
    expect(ons.map((n) => n.length)).toEqual([2, 3]);
    expect(ons[1]!.map((n) => n.noteNumber)).toEqual([40, 43, 45]);
    expect(ons[0]!.every((n) => n.channel === 9)).toBe(true);
    // The second bass note starts at 1.5 s: 1,440 ticks at 960 a second.
    let tick = 0;
    const starts: number[] = [];
    for (const e of instruments[1]!) {
      tick += e.deltaTime;
      if (e.type === "noteOn") starts.push(tick);
    }
    expect(starts).toEqual([0, 1440, 1920]);
    await expect.poll(async () => (await env.BUCKET.list({ prefix: `midi/${taskId}/incoming/` })).objects.length, { timeout: 5_000 }).toBe(0);
  });
});
