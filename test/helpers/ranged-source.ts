// A file host for the resume tests: a large WAV made on the fly (never held whole), served with
// Content-Length and an ETag, honouring `Range: bytes=<from>-` with a 206 — or not, or cut off
// after a number of bytes, or slowly — and counting every byte it sends.

import { makeWav } from "./wav";

export interface RangedSource {
  readonly size: number;
  /** Bytes sent over every answer so far. */
  sent(): number;
  /** The Range headers asked for, in order (null for a request without one). */
  ranges: (string | null)[];
  /** Each request's answer: where it started and how many bytes it has sent so far. */
  answers: { start: number; sent: number }[];
  /** How to answer the next requests. */
  behaviour: { cutAfter?: number; ignoreRange?: boolean; etag?: string; bytesPerSecond?: number };
  handler(req: Request): Response;
  /** The sha256 of the whole file, computed the same way it is served. */
  sha256(): Promise<string>;
}

const CHUNK = 256 << 10;

/** Byte i of the file: a WAV header, then a pattern that depends on the position. */
function fill(into: Uint8Array, from: number, header: Uint8Array): void {
  for (let i = 0; i < into.length; i++) {
    const at = from + i;
    into[i] = at < header.length ? header[at]! : (at * 31 + 7) & 0xff;
  }
}

/**
 * `opts.header`: the file's first bytes (default a 16-bit mono WAV header for `size`), e.g. an ID3
 * tag for an MP3; `opts.contentType` its Content-Type (default audio/wav).
 */
export function rangedSource(size: number, opts: { header?: Uint8Array; contentType?: string } = {}): RangedSource {
  const header = opts.header ?? makeWav({ bytes: size }).subarray(0, 44);
  let sent = 0;
  const source: RangedSource = {
    size,
    sent: () => sent,
    ranges: [],
    answers: [],
    behaviour: { etag: '"v1"' },
    handler(req) {
      const range = req.headers.get("range");
      source.ranges.push(range);
      const b = source.behaviour;
      const m = range && !b.ignoreRange ? /^bytes=(\d+)-$/.exec(range) : null;
      const start = m ? Number(m[1]) : 0;
      let pos = start;
      let servedHere = 0;
      const answer = { start, sent: 0 };
      source.answers.push(answer);
      const started = Date.now();
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (b.cutAfter !== undefined && sent >= b.cutAfter) {
            c.error(new Error("connection reset by the source"));
            return;
          }
          if (pos >= size) return c.close();
          if (b.bytesPerSecond) {
            const due = started + (servedHere / b.bytesPerSecond) * 1000;
            if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          }
          const n = Math.min(CHUNK, size - pos, b.cutAfter !== undefined ? b.cutAfter - sent : Infinity);
          const chunk = new Uint8Array(n);
          fill(chunk, pos, header);
          pos += n;
          sent += n;
          servedHere += n;
          answer.sent += n;
          c.enqueue(chunk);
        },
      });
      const headers: Record<string, string> = { "content-type": opts.contentType ?? "audio/wav", "content-length": String(size - start), "accept-ranges": "bytes" };
      if (b.etag) headers.etag = b.etag;
      if (!m) return new Response(body, { status: 200, headers });
      return new Response(body, { status: 206, headers: { ...headers, "content-range": `bytes ${start}-${size - 1}/${size}` } });
    },
    async sha256() {
      const digest = new crypto.DigestStream("SHA-256");
      const w = digest.getWriter();
      for (let pos = 0; pos < size; pos += CHUNK) {
        const chunk = new Uint8Array(Math.min(CHUNK, size - pos));
        fill(chunk, pos, header);
        await w.write(chunk);
      }
      await w.close();
      return Array.from(new Uint8Array(await digest.digest), (x) => x.toString(16).padStart(2, "0")).join("");
    },
  };
  return source;
}
