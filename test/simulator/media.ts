// The simulator's files other than WAVs: MP3s, JPEGs, PNGs and an MP4, as the provider's file host
// serves them for music tracks, stems, cover images and music videos. Each is a small committed
// fixture (test/fixtures/media, made once by its make.sh with ffmpeg: real MPEG audio frames, real
// images, VP9 video that open-source Chromium plays) with the name from the URL written into it
// where its format keeps a comment — an ID3 tag, a JPEG COM segment, a PNG tEXt chunk, an MP4 `free`
// box — so every URL serves bytes of its own (its own sha256) that still play and decode.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/media");

/** The fixtures of each type, by name (without the extension). */
export const MEDIA = {
  /** 3 s, 4 s and 2 s tones. */
  mp3: ["tone-a", "tone-b", "tone-c"],
  jpeg: ["art-a", "art-b"],
  png: ["cover-a", "cover-b"],
  /** 3 s of VP9 video with an Opus tone. */
  mp4: ["clip"],
} as const;

export type MediaExt = keyof typeof MEDIA;

export const MEDIA_TYPES: Record<MediaExt, string> = { mp3: "audio/mpeg", jpeg: "image/jpeg", png: "image/png", mp4: "video/mp4" };

/** How long each audio fixture plays, in seconds (what a player's `duration` says). */
export const MEDIA_SECONDS: Record<string, number> = { "tone-a": 3, "tone-b": 4, "tone-c": 2, clip: 3 };

/** A name as the file server takes it in a URL: letters, digits, '.', '_' and '-'. */
export const MEDIA_NAME = /^[A-Za-z0-9._-]{1,200}$/;

const cache = new Map<string, Buffer>();

function fixture(ext: MediaExt, name: string): Buffer {
  const key = `${name}.${ext}`;
  let bytes = cache.get(key);
  if (!bytes) {
    bytes = readFileSync(join(FIXTURES, key));
    cache.set(key, bytes);
  }
  return bytes;
}

/** The fixture a name gets when none is asked for: the same one for the same name, every time. */
export function defaultFixture(ext: MediaExt, name: string): string {
  const list = MEDIA[ext];
  const n = createHash("sha256").update(name).digest().readUInt32BE(0);
  return list[n % list.length]!;
}

export function isFixture(ext: MediaExt, name: string): boolean {
  return (MEDIA[ext] as readonly string[]).includes(name);
}

/** The bytes served for `<name>.<ext>`: the fixture, with the name written into it. */
export function mediaBytes(ext: MediaExt, name: string, of: string = defaultFixture(ext, name)): Buffer {
  if (!MEDIA_NAME.test(name)) throw new Error(`not a media name: ${name}`);
  if (!isFixture(ext, of)) throw new Error(`no ${ext} fixture ${of}; there are ${MEDIA[ext].join(", ")}`);
  const base = fixture(ext, of);
  const text = Buffer.from(name, "latin1");
  switch (ext) {
    case "mp3":
      return Buffer.concat([id3Tag(text), base]);
    case "jpeg":
      // A COM segment right after the start-of-image marker.
      return Buffer.concat([base.subarray(0, 2), Buffer.from([0xff, 0xfe]), u16(text.length + 2), text, base.subarray(2)]);
    case "png": {
      // A tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR chunk).
      const data = Buffer.concat([Buffer.from("Comment\0", "latin1"), text]);
      return Buffer.concat([base.subarray(0, 33), pngChunk("tEXt", data), base.subarray(33)]);
    }
    case "mp4":
      // A top-level `free` box at the end: players skip it.
      return Buffer.concat([base, u32(8 + text.length), Buffer.from("free", "latin1"), text]);
  }
}

// ── Generated MP3s of any size (/media/<name>.mp3?bytes=<n>) ───────────────────────────────────
// For large multi-file tasks (the bench's four-stem task): an ID3v2 tag with the name as its title,
// then a deterministic pattern of its own per name — MP3-like (the tag is what a type check reads),
// not playable audio. Made block by block from any offset, never held whole.

/** The pattern's length: odd, so it never lines up with a part or block boundary. */
const PATTERN_BYTES = (1 << 20) - 7;
const patternCache = new Map<string, Buffer>();

function patternOf(name: string): Buffer {
  let p = patternCache.get(name);
  if (p) return p;
  p = Buffer.alloc(PATTERN_BYTES);
  let s = createHash("sha256").update(`mp3:${name}`).digest().readUInt32BE(0) || 1;
  for (let i = 0; i < PATTERN_BYTES; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    p[i] = s & 0xff;
  }
  if (patternCache.size >= 8) patternCache.delete(patternCache.keys().next().value!);
  patternCache.set(name, p);
  return p;
}

export interface GeneratedFile {
  total: number;
  /** The bytes from `offset` to the end, in blocks of at most 256 KiB (views: copy to keep). */
  chunksFrom(offset: number): Generator<Buffer>;
}

/** `<name>.mp3` of exactly `bytes` bytes: the ID3 tag (cut short for a tiny size), then the pattern. */
export function generatedMp3(name: string, bytes: number): GeneratedFile {
  if (!MEDIA_NAME.test(name)) throw new Error(`not a media name: ${name}`);
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError("bytes must be a whole number ≥ 0");
  const tag = id3Tag(Buffer.from(name, "latin1"));
  const pattern = patternOf(name);
  const BLOCK = 256 * 1024;
  return {
    total: bytes,
    *chunksFrom(offset: number) {
      let at = Math.max(0, offset);
      if (at < tag.length && at < bytes) {
        const end = Math.min(tag.length, bytes);
        yield tag.subarray(at, end);
        at = end;
      }
      while (at < bytes) {
        const from = (at - tag.length) % PATTERN_BYTES;
        const n = Math.min(bytes - at, PATTERN_BYTES - from, BLOCK);
        yield pattern.subarray(from, from + n);
        at += n;
      }
    },
  };
}

/** sha256 (hex) of generatedMp3(name, bytes), computed block by block. */
export function generatedMp3Sha256(name: string, bytes: number): string {
  const h = createHash("sha256");
  for (const c of generatedMp3(name, bytes).chunksFrom(0)) h.update(c);
  return h.digest("hex");
}

/** ID3v2.3 with one TIT2 (title) frame. */
function id3Tag(title: Buffer): Buffer {
  const frame = Buffer.concat([Buffer.from("TIT2", "latin1"), u32(title.length + 1), Buffer.from([0, 0, 0]), title]);
  // The tag size is "syncsafe": 7 bits per byte.
  const n = frame.length;
  const size = Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f]);
  return Buffer.concat([Buffer.from("ID3", "latin1"), Buffer.from([3, 0, 0]), size, frame]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, "latin1"), data]);
  return Buffer.concat([u32(data.length), typed, u32(crc32(typed))]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 as PNG chunks carry it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
