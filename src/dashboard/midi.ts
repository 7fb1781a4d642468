// A MIDI task's notes as the task page draws them (README, "Dashboard"): midi.json — the
// provider's `{state, instruments: [{name, notes: [{pitch, start, end, velocity}]}]}`, times in
// seconds, sometimes sent as strings — read leniently into a piano roll's geometry: time across,
// pitch up, one colour per instrument. Pure: JSON in, numbers out; the page turns them into SVG.

export interface RollNote {
  pitch: number;
  start: number;
  end: number;
  velocity: number | null;
}

export interface RollInstrument {
  name: string;
  colour: string;
  notes: RollNote[];
}

export interface PianoRoll {
  instruments: RollInstrument[];
  /** Notes in all. */
  total: number;
  /** Notes drawn (at most MAX_ROLL_NOTES). */
  drawn: number;
  /** The lowest and highest pitch drawn. */
  low: number;
  high: number;
  /** Seconds from 0 to the last note's end. */
  seconds: number;
}

/** A roll draws at most this many notes: one SVG element each. */
export const MAX_ROLL_NOTES = 10_000;

/** Distinct on white and from each other; the legend repeats them. */
const PALETTE = ["#2455c3", "#d1495b", "#1f7a3d", "#e09f3e", "#7b4fb5", "#1b9aaa", "#8a6d00", "#c2185b"];

const NOTE_NAMES = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"];

/** "C4" for 60, as General MIDI names pitches. */
export function pitchName(pitch: number): string {
  return `${NOTE_NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
}

/** Seconds sent as a number or a numeric string; null for anything else. */
function seconds(v: unknown): number | null {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** midi.json read into a roll; null when it holds no notes in the documented form. */
export function pianoRollOf(json: unknown): PianoRoll | null {
  const instruments = (json as { instruments?: unknown } | null)?.instruments;
  if (!Array.isArray(instruments)) return null;
  const out: RollInstrument[] = [];
  let total = 0;
  let drawn = 0;
  let low = 127;
  let high = 0;
  let last = 0;
  for (const [i, raw] of instruments.entries()) {
    const inst = raw as { name?: unknown; notes?: unknown } | null;
    const name = typeof inst?.name === "string" && inst.name.trim() !== "" ? inst.name.trim().slice(0, 100) : `Instrument ${i + 1}`;
    const notes: RollNote[] = [];
    for (const n of Array.isArray(inst?.notes) ? inst.notes : []) {
      const note = n as { pitch?: unknown; start?: unknown; end?: unknown; velocity?: unknown } | null;
      const pitch = note?.pitch;
      const start = seconds(note?.start);
      const end = seconds(note?.end);
      if (typeof pitch !== "number" || !Number.isInteger(pitch) || pitch < 0 || pitch > 127 || start === null || end === null) continue;
      total++;
      if (drawn >= MAX_ROLL_NOTES) continue;
      drawn++;
      notes.push({ pitch, start, end: Math.max(end, start), velocity: typeof note?.velocity === "number" ? note.velocity : null });
      low = Math.min(low, pitch);
      high = Math.max(high, pitch);
      last = Math.max(last, end);
    }
    out.push({ name, colour: PALETTE[i % PALETTE.length]!, notes });
  }
  if (total === 0) return null;
  return { instruments: out, total, drawn, low, high, seconds: last };
}
