// Real WAV files made on the fly: a 44-byte RIFF/WAVE header and 16-bit PCM of a tone that pulses
// (a beat every second that fades, louder and softer over four seconds), so a waveform drawn from
// it looks like sound. Any integer frequency repeats exactly every second and the pulses every
// four, so four seconds of samples are computed once and the body is that buffer repeated: a
// 1 GiB file costs no more CPU than copying it, and it is produced block by block, never held whole.

import { createHash } from "node:crypto";

export const WAV_HEADER_BYTES = 44;

export interface WavSpec {
  /** Total file size in bytes (header included); rounded down to whole sample frames. */
  bytes?: number;
  /** Duration, used when `bytes` is not given. Default 2 s. */
  seconds?: number;
  /** Default 48000. */
  sampleRate?: number;
  /** 1 or 2; default 2. */
  channels?: number;
  /** Served without Content-Length (Transfer-Encoding: chunked). */
  chunked?: boolean;
}

export interface WavLayout {
  sampleRate: number;
  channels: number;
  dataBytes: number;
  totalBytes: number;
  /** Tone of the left channel (the right one is a fifth above); derived from the name. */
  frequency: number;
}

/** A stable small number from a name, so different names give different files (and hashes). */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function wavLayout(name: string, spec: WavSpec = {}): WavLayout {
  const sampleRate = spec.sampleRate ?? 48_000;
  const channels = spec.channels ?? 2;
  const frame = 2 * channels;
  let dataBytes: number;
  if (spec.bytes !== undefined) {
    dataBytes = Math.max(0, Math.floor((spec.bytes - WAV_HEADER_BYTES) / frame) * frame);
  } else {
    dataBytes = Math.round((spec.seconds ?? 2) * sampleRate) * frame;
  }
  if (dataBytes > 0xffffffff - 36) throw new RangeError("a RIFF WAV holds at most 4 GiB");
  return { sampleRate, channels, dataBytes, totalBytes: WAV_HEADER_BYTES + dataBytes, frequency: 220 + (nameHash(name) % 440) };
}

export function wavHeader(l: WavLayout): Buffer {
  const b = Buffer.alloc(WAV_HEADER_BYTES);
  b.write("RIFF", 0, "ascii");
  b.writeUInt32LE(36 + l.dataBytes, 4);
  b.write("WAVE", 8, "ascii");
  b.write("fmt ", 12, "ascii");
  b.writeUInt32LE(16, 16); // fmt chunk size
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(l.channels, 22);
  b.writeUInt32LE(l.sampleRate, 24);
  b.writeUInt32LE(l.sampleRate * l.channels * 2, 28); // byte rate
  b.writeUInt16LE(l.channels * 2, 32); // block align
  b.writeUInt16LE(16, 34); // bits per sample
  b.write("data", 36, "ascii");
  b.writeUInt32LE(l.dataBytes, 40);
  return b;
}

const periodCache = new Map<string, Buffer>();

/** A few seconds of samples (a whole number of tone periods), repeated to make the body. */
function period(l: WavLayout): Buffer {
  const key = `${l.sampleRate}/${l.channels}/${l.frequency}`;
  let buf = periodCache.get(key);
  if (buf) return buf;
  const seconds = 4; // ~768 KB at 48 kHz stereo: large writes, few of them
  const frames = l.sampleRate * seconds;
  buf = Buffer.alloc(frames * l.channels * 2);
  const freqs = [l.frequency, Math.round(l.frequency * 1.5)];
  for (let i = 0; i < frames; i++) {
    const t = i / l.sampleRate;
    // A beat each second that fades (attack over 10 ms), and a swell over the four seconds.
    const beat = Math.min(1, (t % 1) / 0.01) * (0.2 + 0.8 * Math.exp(-4 * (t % 1)));
    const swell = 0.45 + 0.55 * Math.sin((Math.PI * t) / seconds) ** 2;
    const amplitude = 4_000 + 20_000 * beat * swell;
    for (let c = 0; c < l.channels; c++) {
      const v = Math.round(Math.sin((2 * Math.PI * freqs[c % 2]! * i) / l.sampleRate) * amplitude);
      buf.writeInt16LE(v, (i * l.channels + c) * 2);
    }
  }
  if (periodCache.size > 64) periodCache.clear();
  periodCache.set(key, buf);
  return buf;
}

/** The file's bytes, in order, as views of shared buffers (copy them before keeping them). */
export function* wavChunks(l: WavLayout): Generator<Buffer> {
  yield wavHeader(l);
  const p = period(l);
  let left = l.dataBytes;
  while (left > 0) {
    const n = Math.min(left, p.byteLength);
    yield n === p.byteLength ? p : p.subarray(0, n);
    left -= n;
  }
}

/**
 * The file's bytes from `offset` to the end, in order (views of shared buffers, as wavChunks):
 * what a `Range: bytes=<offset>-` answer carries. Byte p of the data is the period's byte
 * p mod its length, so any offset starts without producing what comes before it.
 */
export function* wavChunksFrom(l: WavLayout, offset: number): Generator<Buffer> {
  if (offset <= 0) {
    yield* wavChunks(l);
    return;
  }
  if (offset < WAV_HEADER_BYTES) yield wavHeader(l).subarray(offset);
  const p = period(l);
  let at = Math.max(0, offset - WAV_HEADER_BYTES);
  while (at < l.dataBytes) {
    const from = at % p.byteLength;
    const n = Math.min(l.dataBytes - at, p.byteLength - from);
    yield p.subarray(from, from + n);
    at += n;
  }
}

/** The whole file in memory: for small test files only. */
export function wavBytes(name: string, spec: WavSpec = {}): Buffer {
  return Buffer.concat([...wavChunks(wavLayout(name, spec))]);
}

/** sha256 (lower-case hex) of the file `name` with `spec`, computed without keeping it. */
export function wavSha256(name: string, spec: WavSpec = {}): string {
  const h = createHash("sha256");
  for (const c of wavChunks(wavLayout(name, spec))) h.update(c);
  return h.digest("hex");
}

/** Parses ?bytes=, ?seconds=, ?rate=, ?channels=, ?chunked= of a WAV URL. */
export function wavSpecFromQuery(q: URLSearchParams): WavSpec {
  const num = (k: string) => {
    const v = q.get(k);
    if (v === null || v === "") return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new RangeError(`?${k}= must be a non-negative number`);
    return n;
  };
  const spec: WavSpec = {};
  const bytes = num("bytes");
  const seconds = num("seconds");
  const rate = num("rate");
  const channels = num("channels");
  if (bytes !== undefined) spec.bytes = Math.floor(bytes);
  if (seconds !== undefined) spec.seconds = seconds;
  if (rate !== undefined) spec.sampleRate = Math.floor(rate);
  if (channels !== undefined) spec.channels = channels === 1 ? 1 : 2;
  const chunked = q.get("chunked");
  if (chunked !== null && chunked !== "0" && chunked !== "false") spec.chunked = true;
  return spec;
}

/** The query string that wavSpecFromQuery reads back into `spec`. */
export function wavQuery(spec: WavSpec): string {
  const q = new URLSearchParams();
  if (spec.bytes !== undefined) q.set("bytes", String(spec.bytes));
  else if (spec.seconds !== undefined) q.set("seconds", String(spec.seconds));
  if (spec.sampleRate !== undefined) q.set("rate", String(spec.sampleRate));
  if (spec.channels !== undefined) q.set("channels", String(spec.channels));
  if (spec.chunked) q.set("chunked", "1");
  const s = q.toString();
  return s ? `?${s}` : "";
}
