// Bytes are what they claim (README, "What it keeps"): each type's first bytes, checked before
// anything is stored. A WAV is RIFF (or RIFX/RF64) … WAVE; an MP3 starts with an ID3 tag or an MPEG
// frame sync; a JPEG with FF D8 FF; a PNG with its 8-byte signature; an MP4 has `ftyp` at offset 4.
// An HTML or JSON error page served with status 200 fails the check.

import { CONTENT_TYPES } from "../kinds/kind";

export interface TypeCheck {
  /** The error code when the bytes are something else: not_a_wav, not_mp3, … */
  code: string;
  /** What a person calls it. */
  what: string;
  /** How many leading bytes the check needs. */
  headerBytes: number;
  matches(head: Uint8Array): boolean;
}

const ascii = (head: Uint8Array, from: number, length: number) => String.fromCharCode(...head.subarray(from, from + length));

const CHECKS: Record<string, TypeCheck> = {
  [CONTENT_TYPES.wav]: {
    code: "not_a_wav",
    what: "a RIFF/WAVE header",
    headerBytes: 12,
    // RIFF (little-endian) and RIFX/RF64 (big-endian, >4 GiB) are all WAVE containers.
    matches: (h) => ["RIFF", "RIFX", "RF64"].includes(ascii(h, 0, 4)) && ascii(h, 8, 4) === "WAVE",
  },
  [CONTENT_TYPES.mp3]: {
    code: "not_mp3",
    what: "an ID3 tag or an MPEG audio frame",
    headerBytes: 3,
    matches: (h) => ascii(h, 0, 3) === "ID3" || (h[0] === 0xff && (h[1]! & 0xe0) === 0xe0),
  },
  [CONTENT_TYPES.jpeg]: {
    code: "not_jpeg",
    what: "a JPEG start-of-image marker",
    headerBytes: 3,
    matches: (h) => h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff,
  },
  [CONTENT_TYPES.png]: {
    code: "not_png",
    what: "the PNG signature",
    headerBytes: 8,
    matches: (h) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => h[i] === b),
  },
  [CONTENT_TYPES.mp4]: {
    code: "not_mp4",
    what: "an MP4 ftyp box",
    headerBytes: 8,
    matches: (h) => ascii(h, 4, 4) === "ftyp",
  },
};

/** The check for a content type; null for content this worker made itself (JSON, MIDI). */
export function typeCheckFor(contentType: string): TypeCheck | null {
  return CHECKS[contentType] ?? null;
}
