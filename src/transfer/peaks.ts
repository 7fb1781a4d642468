// A WAV's waveform (README, "Waveforms"): the min and max of each channel over buckets of about
// 2,000 per channel, computed while the file streams through the runner — never by buffering it —
// in the JSON that audio tools already read (audiowaveform's: version, channels, sample_rate,
// samples_per_pixel, bits, length, data). 8/16/24/32-bit PCM and 32-bit float, little-endian, are
// read; anything else has no waveform, and says why. Values are scaled to 16 bits.
//
// The state (every bucket so far, the bucket being filled, a partial frame) is plain data, so a
// transfer that pauses or is cut off keeps it with its checkpoint and goes on where it left off.

import type { WavHeader } from "./wav-format";

/** About this many buckets per channel when the length is known. */
const TARGET_BUCKETS = 2000;
/** With an unknown length, buckets double in width whenever there would be more than this. */
const MAX_BUCKETS = 4096;
const START_SPP_UNKNOWN = 256;

export interface PeaksState {
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  float: boolean;
  /** Frames per bucket. */
  spp: number;
  /** Completed buckets, per bucket and channel: [min, max, min, max, …]. */
  data: number[];
  /** The bucket being filled, per channel. */
  curMin: number[];
  curMax: number[];
  curFrames: number;
  /** Bytes of a frame split across two pushes. */
  pending: number[];
}

/** audiowaveform's JSON (version 2). */
export interface WaveformJson {
  version: 2;
  channels: number;
  sample_rate: number;
  samples_per_pixel: number;
  bits: 16;
  length: number;
  data: number[];
}

/** Channels a waveform is computed for: a file with more has none (it is stored as usual). */
const MAX_CHANNELS = 16;

/** Why a WAV gets no waveform, or null when it gets one. */
export function waveformUnsupported(h: WavHeader): string | null {
  // The checkpoint keeps a min and max per channel per bucket: kept small, like the page's drawing.
  if (h.channels > MAX_CHANNELS) return `waveforms are drawn for at most ${MAX_CHANNELS} channels (this file has ${h.channels})`;
  if (!h.littleEndian) return "big-endian (RIFX) samples are not read for waveforms";
  if (h.encoding === "float") return h.bitsPerSample === 32 ? null : `${h.bitsPerSample}-bit float samples are not read for waveforms`;
  if (h.encoding !== "int") return "compressed or unknown sample formats are not read for waveforms";
  return [8, 16, 24, 32].includes(h.bitsPerSample) ? null : `${h.bitsPerSample}-bit samples are not read for waveforms`;
}

export class PeaksBuilder {
  private constructor(private s: PeaksState) {}

  /** A builder for `header`, whose audio is `frames` long when known. */
  static start(header: WavHeader, frames: number | null): PeaksBuilder {
    const spp = frames !== null && frames > 0 ? Math.max(1, Math.ceil(frames / TARGET_BUCKETS)) : START_SPP_UNKNOWN;
    const fresh = () => Array.from({ length: header.channels }, () => 0);
    return new PeaksBuilder({
      channels: header.channels,
      sampleRate: header.sampleRate,
      bitsPerSample: header.bitsPerSample,
      float: header.encoding === "float",
      spp,
      data: [],
      curMin: fresh().map(() => Infinity),
      curMax: fresh().map(() => -Infinity),
      curFrames: 0,
      pending: [],
    });
  }

  static resume(state: PeaksState): PeaksBuilder {
    const s = structuredClone(state);
    // JSON keeps an empty bucket's starting extremes (±Infinity) as null: they come back as such.
    s.curMin = s.curMin.map((v) => (v as number | null) ?? Infinity);
    s.curMax = s.curMax.map((v) => (v as number | null) ?? -Infinity);
    return new PeaksBuilder(s);
  }

  /** The state to keep with a checkpoint (a copy). */
  save(): PeaksState {
    return structuredClone(this.s);
  }

  /** The next audio bytes (from the `data` chunk only, in order). */
  push(bytes: Uint8Array): void {
    const s = this.s;
    const sampleBytes = s.bitsPerSample / 8;
    const frame = sampleBytes * s.channels;
    let from = 0;
    if (s.pending.length > 0) {
      // Complete the frame split across the previous push.
      const need = frame - s.pending.length;
      if (bytes.byteLength < need) {
        s.pending.push(...bytes);
        return;
      }
      this.frames(Uint8Array.from([...s.pending, ...bytes.subarray(0, need)]), 0, 1);
      s.pending = [];
      from = need;
    }
    const whole = Math.floor((bytes.byteLength - from) / frame);
    if (whole > 0) {
      const at = bytes.byteOffset + from;
      // Typed-array views need aligned offsets; a misaligned run (rare) is copied first.
      const aligned = at % Math.min(sampleBytes, 4) === 0 ? bytes : bytes.slice(from);
      this.frames(aligned, aligned === bytes ? from : 0, whole);
    }
    const rest = from + whole * frame;
    if (rest < bytes.byteLength) s.pending = Array.from(bytes.subarray(rest));
  }

  /** The waveform so far (the bucket being filled counts as the last one). */
  finish(): WaveformJson {
    const s = this.s;
    const data = [...s.data];
    if (s.curFrames > 0) for (let c = 0; c < s.channels; c++) data.push(clamp(s.curMin[c]!), clamp(s.curMax[c]!));
    return {
      version: 2,
      channels: s.channels,
      sample_rate: s.sampleRate,
      samples_per_pixel: s.spp,
      bits: 16,
      length: data.length / (2 * s.channels),
      data,
    };
  }

  /** `count` whole frames of `bytes` from byte `offset`, folded into the buckets. */
  private frames(bytes: Uint8Array, offset: number, count: number): void {
    const s = this.s;
    const ch = s.channels;
    // 16-bit PCM, by far the most common, is read straight from an Int16Array; the others through
    // an accessor that scales them to 16 bits.
    const int16 = s.bitsPerSample === 16 ? new Int16Array(bytes.buffer, bytes.byteOffset + offset, count * ch) : null;
    const samples = int16 ? null : this.samplesOf(bytes, offset, count * ch);
    // A bucket's worth of frames at a time, one channel at a time, with the extremes in locals:
    // this loop runs for every sample of every WAV, on the path that must keep up with the network.
    for (let frame = 0; frame < count; ) {
      const take = Math.min(s.spp - s.curFrames, count - frame);
      const end = (frame + take) * ch;
      for (let c = 0; c < ch; c++) {
        let lo = s.curMin[c]!;
        let hi = s.curMax[c]!;
        if (int16) {
          for (let i = frame * ch + c; i < end; i += ch) {
            const v = int16[i]!;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
        } else {
          for (let i = frame * ch + c; i < end; i += ch) {
            const v = samples!.value(i);
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
        }
        s.curMin[c] = lo;
        s.curMax[c] = hi;
      }
      frame += take;
      s.curFrames += take;
      if (s.curFrames === s.spp) this.closeBucket();
    }
  }

  /** The bucket being filled is full: it joins the others, and a fresh one begins. */
  private closeBucket(): void {
    const s = this.s;
    for (let c = 0; c < s.channels; c++) {
      s.data.push(clamp(s.curMin[c]!), clamp(s.curMax[c]!));
      s.curMin[c] = Infinity;
      s.curMax[c] = -Infinity;
    }
    s.curFrames = 0;
    if (s.data.length > MAX_BUCKETS * 2 * s.channels) this.halve();
  }

  /** Two buckets into one, so an unknown length never makes too many. */
  private halve(): void {
    const s = this.s;
    const per = 2 * s.channels;
    const merged: number[] = [];
    const buckets = s.data.length / per;
    for (let b = 0; b + 1 < buckets; b += 2) {
      for (let c = 0; c < s.channels; c++) {
        merged.push(Math.min(s.data[b * per + 2 * c]!, s.data[(b + 1) * per + 2 * c]!), Math.max(s.data[b * per + 2 * c + 1]!, s.data[(b + 1) * per + 2 * c + 1]!));
      }
    }
    if (buckets % 2 === 1) {
      // The odd last bucket becomes the start of the (twice as wide) bucket being filled.
      const last = (buckets - 1) * per;
      for (let c = 0; c < s.channels; c++) {
        s.curMin[c] = Math.min(s.curMin[c]!, s.data[last + 2 * c]!);
        s.curMax[c] = Math.max(s.curMax[c]!, s.data[last + 2 * c + 1]!);
      }
      s.curFrames += s.spp;
    }
    s.data = merged;
    s.spp *= 2;
  }

  /** The samples as 16-bit-scaled numbers, read straight from the bytes (no copy). */
  private samplesOf(bytes: Uint8Array, offset: number, n: number): { length: number; value(i: number): number } {
    const s = this.s;
    const at = bytes.byteOffset + offset;
    switch (s.bitsPerSample) {
      case 8: {
        const v = new Uint8Array(bytes.buffer, at, n);
        return { length: n, value: (i) => (v[i]! - 128) * 256 };
      }
      case 24: {
        const b = new Uint8Array(bytes.buffer, at, n * 3);
        return { length: n, value: (i) => ((b[i * 3 + 2]! << 24) | (b[i * 3 + 1]! << 16) | (b[i * 3]! << 8)) >> 16 };
      }
      default: {
        if (s.float) {
          const v = new Float32Array(bytes.buffer, at, n);
          return { length: n, value: (i) => v[i]! * 32767 };
        }
        const v = new Int32Array(bytes.buffer, at, n);
        return { length: n, value: (i) => v[i]! >> 16 };
      }
    }
  }
}

function clamp(v: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(v)));
}

/** A waveform in the making for one transfer: built as audio bytes pass, or why there is none. */
export type WaveformProgress = { state: PeaksState } | { none: string };

/**
 * Feeds a transfer's bytes (with their place in the file) to a PeaksBuilder once the WAV header
 * is known; keeps its state for a checkpoint, or the reason there is no waveform.
 */
export class WaveformTracker {
  private builder: PeaksBuilder | null = null;
  private none: string | null = null;

  constructor(enabled: boolean, resumed?: WaveformProgress | null) {
    if (!enabled) this.none = "waveforms are off (WAVEFORM_PEAKS)";
    else if (resumed && "state" in resumed) this.builder = PeaksBuilder.resume(resumed.state);
    else if (resumed && "none" in resumed) this.none = resumed.none;
  }

  /** Bytes [offset, offset + length) of the file, in order; `total`: the file's length if known. */
  feed(bytes: Uint8Array, offset: number, header: WavHeader | null, total: number | null): void {
    if (this.none !== null) return;
    try {
      this.push(bytes, offset, header, total);
    } catch (err) {
      // A waveform is a nicety: whatever goes wrong with it, the file is still stored.
      this.builder = null;
      this.none = `the waveform could not be computed (${err instanceof Error ? err.message : String(err)})`;
    }
  }

  private push(bytes: Uint8Array, offset: number, header: WavHeader | null, total: number | null): void {
    if (header === null) {
      this.none = "no WAV header could be read";
      return;
    }
    if (this.builder === null) {
      const why = waveformUnsupported(header);
      if (why) {
        this.none = why;
        return;
      }
      const frameBytes = (header.bitsPerSample / 8) * header.channels;
      const audio = header.dataBytes ?? (total !== null ? total - header.dataStart : null);
      this.builder = PeaksBuilder.start(header, audio !== null ? Math.floor(audio / frameBytes) : null);
    }
    const end = header.dataBytes !== null ? header.dataStart + header.dataBytes : Infinity;
    const from = Math.max(offset, header.dataStart);
    const to = Math.min(offset + bytes.byteLength, end);
    if (to > from) this.builder.push(bytes.subarray(from - offset, to - offset));
  }

  progress(): WaveformProgress {
    return this.none !== null || this.builder === null ? { none: this.none ?? "no audio yet" } : { state: this.builder.save() };
  }

  result(): WaveformJson | { none: string } {
    if (!this.builder || this.none !== null) return { none: this.none ?? "the file has no audio" };
    try {
      return this.builder.finish();
    } catch (err) {
      return { none: `the waveform could not be computed (${err instanceof Error ? err.message : String(err)})` };
    }
  }
}
