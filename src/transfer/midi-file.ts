// midi.mid (README, "What it keeps"): a Standard MIDI File made from the provider's notes, with
// @tonejs/midi rather than hand-written bytes. One track per instrument, named after it (and given
// its General MIDI program when the name is one); drums go to channel 10, as General MIDI has them.
// Times are seconds at the library's default tempo; velocities arrive as 0–1 (or 0–127).

import { Midi } from "@tonejs/midi";
import { MidiData } from "../kinds/midi";
import { TransferError } from "./errors";

const PERCUSSION_CHANNEL = 9;

export function midiFileFrom(json: unknown): Uint8Array {
  const parsed = MidiData.safeParse(json);
  if (!parsed.success) throw new TransferError("not_midi_notes", "the MIDI content has no instruments and notes in the documented form", false);
  const midi = new Midi();
  let channel = 0;
  for (const instrument of parsed.data.instruments) {
    const track = midi.addTrack();
    const name = instrument.name ?? "";
    track.name = name;
    if (/drum|percussion|kit/i.test(name)) track.channel = PERCUSSION_CHANNEL;
    else {
      if (channel === PERCUSSION_CHANNEL) channel++;
      track.channel = channel++ % 16;
      track.instrument.name = name.toLowerCase(); // a General MIDI name sets the program; others leave piano
    }
    for (const n of instrument.notes) {
      const velocity = n.velocity === null || n.velocity === undefined ? 0.8 : n.velocity > 1 ? n.velocity / 127 : n.velocity;
      track.addNote({ midi: n.pitch, time: n.start, duration: Math.max(n.end - n.start, 0.001), velocity });
    }
  }
  return midi.toArray();
}
