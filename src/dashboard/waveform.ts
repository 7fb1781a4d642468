// A WAV's waveform as the task page draws it (README, "Waveforms"): the peaks file — audiowaveform's
// JSON, `{version, channels, sample_rate, samples_per_pixel, bits, length, data}` with `data` as
// [min, max] per channel for each bucket — read leniently into one column per bucket: the lowest
// min and highest max over the channels, scaled to -1…1. Pure: JSON in, numbers out; the page
// turns them into SVG.

export interface Waveform {
  /** One per bucket, in time order; values -1…1. */
  columns: { min: number; max: number }[];
  channels: number;
  sampleRate: number;
  samplesPerPixel: number;
  /** Seconds of audio the columns cover. */
  seconds: number;
}

/** Buckets drawn at most (the worker makes about 2,000; a longer file from elsewhere is cut). */
export const MAX_COLUMNS = 8192;

/** The peaks file read into columns; null when it is not audiowaveform's JSON. */
export function waveformOf(json: unknown): Waveform | null {
  const w = json as Record<string, unknown> | null;
  if (typeof w !== "object" || w === null) return null;
  const channels = w.channels ?? 1; // version 1 has no `channels`: one
  const { sample_rate: rate, samples_per_pixel: spp, bits, length, data } = w;
  if (!Number.isInteger(channels) || (channels as number) < 1 || (channels as number) > 64) return null;
  if (!Number.isInteger(rate) || (rate as number) <= 0 || !Number.isInteger(spp) || (spp as number) <= 0) return null;
  if ((bits !== 8 && bits !== 16) || !Number.isInteger(length) || (length as number) < 0 || !Array.isArray(data)) return null;
  const ch = channels as number;
  const n = Math.min(length as number, Math.floor(data.length / (2 * ch)));
  if (n === 0) return null;
  const full = bits === 8 ? 128 : 32768;
  const columns: Waveform["columns"] = [];
  for (let b = 0; b < Math.min(n, MAX_COLUMNS); b++) {
    let min = Infinity;
    let max = -Infinity;
    for (let c = 0; c < ch; c++) {
      const lo = Number(data[(b * ch + c) * 2]);
      const hi = Number(data[(b * ch + c) * 2 + 1]);
      if (Number.isFinite(lo)) min = Math.min(min, lo);
      if (Number.isFinite(hi)) max = Math.max(max, hi);
    }
    if (min === Infinity || max === -Infinity) min = max = 0;
    columns.push({ min: Math.max(-1, min / full), max: Math.min(1, max / full) });
  }
  return { columns, channels: ch, sampleRate: rate as number, samplesPerPixel: spp as number, seconds: (columns.length * (spp as number)) / (rate as number) };
}

/** "1:05" for 65 s; "0:04.2" under 10 s. */
export function clockTime(seconds: number): string {
  const s = Math.max(0, seconds);
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  return s < 10 ? `0:0${rest.toFixed(1)}` : `${m}:${String(Math.floor(rest)).padStart(2, "0")}`;
}
