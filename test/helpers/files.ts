// Small but real files of every type the kinds keep: each starts the way its format does (what the
// worker checks), and carries a seed so two files differ. An HTML page stands in for a wrong body.

function withHead(head: number[] | string, size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 7) & 0xff;
  const h = typeof head === "string" ? [...head].map((c) => c.charCodeAt(0)) : head;
  bytes.set(h, 0);
  return bytes;
}

/** An MP3 that starts with an ID3v2 tag. */
export const makeMp3 = (seed = 0, size = 4096) => withHead([0x49, 0x44, 0x33, 0x04, 0x00, 0x00], size, seed);
/** A JPEG start-of-image marker and APP0. */
export const makeJpeg = (seed = 0, size = 2048) => withHead([0xff, 0xd8, 0xff, 0xe0], size, seed);
/** The PNG signature. */
export const makePng = (seed = 0, size = 2048) => withHead([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], size, seed);
/** An MP4 whose first box is ftyp. */
export const makeMp4 = (seed = 0, size = 8192) => withHead([0, 0, 0, 0x20, ..."ftypisom".split("").map((c) => c.charCodeAt(0))], size, seed);

export const HTML_PAGE = new TextEncoder().encode("<!doctype html><html><body>Access denied</body></html>");

/** A file host's answer: the bytes with the Content-Length a real server sends. */
export function fileResponse(bytes: Uint8Array, contentType = "application/octet-stream"): Response {
  return new Response(bytes, { headers: { "content-type": contentType, "content-length": String(bytes.byteLength) } });
}
