// midi.mid (README, "What it keeps"): a Standard MIDI File made from the provider's notes. The
// bytes are written by the `midi-file` library; this module only turns notes in seconds into its
// events. Format 1: a tempo track (120 bpm, 480 ticks a beat, so 960 ticks a second) and one
// track per instrument, named after it; drums on channel 10, as General MIDI has them.
// Velocities arrive as 0–1 (or 0–127).

import { writeMidi, type MidiEvent } from "midi-file";
import { MidiData } from "../kinds/midi";
import { TransferError } from "./errors";

const TICKS_PER_BEAT = 480;
const MICROSECONDS_PER_BEAT = 500_000; // 120 bpm
const TICKS_PER_SECOND = (TICKS_PER_BEAT * 1_000_000) / MICROSECONDS_PER_BEAT;
const PERCUSSION_CHANNEL = 9;

type Timed = { tick: number; event: MidiEvent };

export function midiFileFrom(json: unknown): Uint8Array {
  const parsed = MidiData.safeParse(json);
  if (!parsed.success) throw new TransferError("not_midi_notes", "the MIDI content has no instruments and notes in the documented form", false);
  const tempo: MidiEvent[] = [
    { deltaTime: 0, type: "setTempo", meta: true, microsecondsPerBeat: MICROSECONDS_PER_BEAT },
    { deltaTime: 0, type: "endOfTrack", meta: true },
  ];
  let nextChannel = 0;
  const tracks = parsed.data.instruments.map((instrument) => {
    const name = instrument.name ?? "";
    let channel: number;
    if (/drum|percussion|kit/i.test(name)) channel = PERCUSSION_CHANNEL;
    else {
      if (nextChannel === PERCUSSION_CHANNEL) nextChannel++;
      channel = nextChannel++ % 16;
    }
    const timed: Timed[] = [];
    for (const n of instrument.notes) {
      const velocity = Math.max(1, Math.min(127, Math.round(n.velocity === null || n.velocity === undefined ? 100 : n.velocity > 1 ? n.velocity : n.velocity * 127)));
      const on = Math.round(n.start * TICKS_PER_SECOND);
      const off = Math.max(on + 1, Math.round(n.end * TICKS_PER_SECOND));
      timed.push({ tick: on, event: { deltaTime: 0, type: "noteOn", channel, noteNumber: n.pitch, velocity } });
      timed.push({ tick: off, event: { deltaTime: 0, type: "noteOff", channel, noteNumber: n.pitch, velocity: 0 } });
    }
    // In time order; at the same tick a note ends before the next one starts.
    timed.sort((a, b) => a.tick - b.tick || (a.event.type === "noteOff" ? -1 : 0) - (b.event.type === "noteOff" ? -1 : 0));
    const events: MidiEvent[] = [{ deltaTime: 0, type: "trackName", meta: true, text: name }];
    let last = 0;
    for (const { tick, event } of timed) {
      events.push({ ...event, deltaTime: tick - last });
      last = tick;
    }
    events.push({ deltaTime: 0, type: "endOfTrack", meta: true });
    return events;
  });
  const header = { format: 1 as const, numTracks: tracks.length + 1, ticksPerBeat: TICKS_PER_BEAT };
  return Uint8Array.from(writeMidi({ header, tracks: [tempo, ...tracks] }));
}
