// WAV facts (README, "Transfers"): the sample rate, channels and bits per sample from the `fmt `
// chunk, and where the `data` chunk starts and how long it says it is, read from the first bytes of
// the stream as they pass (RIFF little-endian, RIFX big-endian, RF64 with its `ds64` sizes). A
// declared data length of 0 or 0xFFFFFFFF (what a WAV written while streaming carries) means
// unknown: the duration then comes from the bytes that arrived. Pure.

export interface WavFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  durationSeconds: number;
}

/** What the header says, before the length of the whole file is known. */
export interface WavHeader {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** PCM integers, IEEE floats, or something else (compressed, …). */
  encoding: "int" | "float" | "other";
  /** Samples are little-endian (RIFF, RF64) or big-endian (RIFX). */
  littleEndian: boolean;
  /** Bytes per second of audio (the fmt chunk's byte rate). */
  byteRate: number;
  /** Where the audio bytes begin. */
  dataStart: number;
  /** The declared length of the audio bytes; null when unknown (0 or 0xFFFFFFFF). */
  dataBytes: number | null;
}

/** Header bytes looked at, at most: a `data` chunk further in is not waited for. */
const MAX_HEADER_BYTES = 64 * 1024;
const UNKNOWN_32 = 0xffffffff;

/** Collects the stream's first bytes until the header is read (or cannot be). */
export class WavHeaderReader {
  private head = new Uint8Array(0);
  private result: WavHeader | null | undefined = undefined;

  /** Feeds the next bytes (from offset 0 on); cheap once the header is read. */
  push(block: Uint8Array): void {
    if (this.result !== undefined) return;
    const room = MAX_HEADER_BYTES - this.head.byteLength;
    const take = block.subarray(0, Math.max(0, room));
    const next = new Uint8Array(this.head.byteLength + take.byteLength);
    next.set(this.head, 0);
    next.set(take, this.head.byteLength);
    this.head = next;
    const parsed = parseWavHeader(this.head);
    if (parsed !== "more") this.result = parsed;
    else if (this.head.byteLength >= MAX_HEADER_BYTES) this.result = null;
  }

  /** The header, or null when none could be read (yet, or ever). */
  header(): WavHeader | null {
    return this.result ?? null;
  }
}

/** The header in `head`, "more" when more bytes are needed, null when it is not a PCM header. */
export function parseWavHeader(head: Uint8Array): WavHeader | null | "more" {
  if (head.byteLength < 12) return "more";
  const id = ascii(head, 0);
  const little = id !== "RIFX";
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const u16 = (at: number) => view.getUint16(at, little);
  const u32 = (at: number) => view.getUint32(at, little);
  let rf64DataBytes: number | null = null;
  let fmt: { channels: number; sampleRate: number; byteRate: number; bitsPerSample: number; encoding: WavHeader["encoding"] } | null = null;
  let at = 12;
  for (;;) {
    if (at + 8 > head.byteLength) return "more";
    const chunk = ascii(head, at);
    const size = u32(at + 4);
    const body = at + 8;
    if (chunk === "ds64") {
      if (body + 16 > head.byteLength) return "more";
      rf64DataBytes = Number(view.getBigUint64(body + 8, true));
    } else if (chunk === "fmt ") {
      if (body + 16 > head.byteLength) return "more";
      // WAVE_FORMAT_EXTENSIBLE (0xFFFE) names the real format in its sub-format GUID's first bytes.
      let tag = u16(body);
      if (tag === 0xfffe) {
        if (body + 26 > head.byteLength) return "more";
        tag = size >= 40 ? u16(body + 24) : 0;
      }
      const encoding = tag === 1 ? "int" : tag === 3 ? "float" : "other";
      fmt = { channels: u16(body + 2), sampleRate: u32(body + 4), byteRate: u32(body + 8), bitsPerSample: u16(body + 14), encoding };
    } else if (chunk === "data") {
      if (!fmt || fmt.channels === 0 || fmt.sampleRate === 0) return null;
      const declared = id === "RF64" && size === UNKNOWN_32 ? rf64DataBytes : size;
      const dataBytes = declared === null || declared === 0 || declared === UNKNOWN_32 ? null : declared;
      const byteRate = fmt.byteRate || (fmt.sampleRate * fmt.channels * fmt.bitsPerSample) / 8;
      return { ...fmt, byteRate, littleEndian: little, dataStart: body, dataBytes };
    }
    // Chunks are padded to an even length.
    at = body + size + (size % 2);
    if (at > MAX_HEADER_BYTES) return null;
  }
}

/** The file's facts, once `totalBytes` have arrived; and whether the data chunk is cut short. */
export function wavFacts(header: WavHeader, totalBytes: number): { format: WavFormat; truncatedAt: number | null } {
  const arrived = Math.max(0, totalBytes - header.dataStart);
  const declaredEnd = header.dataBytes === null ? null : header.dataStart + header.dataBytes;
  const audioBytes = header.dataBytes === null ? arrived : Math.min(header.dataBytes, arrived);
  const durationSeconds = header.byteRate > 0 ? Math.round((audioBytes / header.byteRate) * 1000) / 1000 : 0;
  return {
    format: { sampleRate: header.sampleRate, channels: header.channels, bitsPerSample: header.bitsPerSample, durationSeconds },
    truncatedAt: declaredEnd !== null && declaredEnd > totalBytes ? declaredEnd : null,
  };
}

function ascii(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}
