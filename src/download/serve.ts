// A stored file, straight from R2: R2 itself applies the Range and evaluates If-None-Match/If-Match
// from the request's headers, so the body streams from R2 to the client without passing through
// our code.

import { apiError } from "../http/errors";

/** What to serve: the object's key, its type, and the name a download is saved under. */
export interface Served {
  key: string;
  contentType: string;
  filename: string;
  /** `attachment` (a download) or `inline` (shown in a page: players, images). */
  disposition?: "attachment" | "inline";
}

export async function serveFile(bucket: R2Bucket, file: Served, request: Request): Promise<Response> {
  const { key } = file;
  if (request.method === "HEAD") {
    const head = await bucket.head(key);
    if (!head) return notStored(file);
    if (matchesIfNoneMatch(request.headers.get("if-none-match"), head.httpEtag)) return notModified(head);
    return new Response(null, { status: 200, headers: objectHeaders(head, file, head.size) });
  }

  // A Range is parsed here and handed to R2 as offsets: R2 then refuses one that selects nothing
  // (instead of quietly sending the whole object), and no body is opened just to be dropped.
  const wanted = parseRange(request.headers.get("range"));
  let object: R2Object | R2ObjectBody | null;
  try {
    object = await bucket.get(key, { range: wanted ?? undefined, onlyIf: request.headers });
  } catch (err) {
    if (!wanted) throw err;
    const head = await bucket.head(key);
    if (!head) return notStored(file);
    // Past the end: 416 with the size (README, "Routes"). Otherwise (an end past the end) clamp and ask again.
    const fitted = fitRange(wanted, head.size);
    if (!fitted) throw unsatisfiable(head.size);
    object = await bucket.get(key, { range: fitted, onlyIf: request.headers });
  }
  if (!object) return notStored(file);
  if (!("body" in object)) {
    // A precondition failed: If-Match / If-Unmodified-Since → 412, otherwise (If-None-Match,
    // If-Modified-Since) → 304.
    if (failsIfMatch(request.headers, object)) {
      throw apiError(412, "precondition_failed", `The stored ${file.filename} does not match If-Match / If-Unmodified-Since.`);
    }
    return notModified(object);
  }

  const range = wanted ? resolveRange(object.range, object.size) : null;
  // Any satisfiable Range is answered 206, the whole object included: a player's opening
  // "bytes=0-" expects a partial answer it can seek from.
  if (range) {
    const headers = objectHeaders(object, file, range.length);
    headers.set("content-range", `bytes ${range.offset}-${range.offset + range.length - 1}/${object.size}`);
    return new Response(object.body, { status: 206, headers });
  }
  return new Response(object.body, { status: 200, headers: objectHeaders(object, file, object.size) });
}

function objectHeaders(object: R2Object, file: Served, length: number): Headers {
  const headers = new Headers();
  object.writeHttpMetadata(headers);
  headers.set("content-type", file.contentType);
  headers.set("content-length", String(length));
  headers.set("etag", object.httpEtag);
  headers.set("accept-ranges", "bytes");
  // Names are task ids and file names: letters, digits, '_', '-' and '.', safe inside quotes.
  headers.set("content-disposition", `${file.disposition ?? "attachment"}; filename="${file.filename}"`);
  headers.set("cache-control", "private, max-age=0, must-revalidate");
  return headers;
}

function resolveRange(range: R2Range | undefined, size: number): { offset: number; length: number } | null {
  if (!range) return null;
  if ("suffix" in range && range.suffix !== undefined) {
    const length = Math.min(range.suffix, size);
    return { offset: size - length, length };
  }
  const offset = "offset" in range && range.offset !== undefined ? range.offset : 0;
  const length = "length" in range && range.length !== undefined ? range.length : size - offset;
  return { offset, length: Math.min(length, size - offset) };
}

/**
 * One byte range ("bytes=first-[last]" or "bytes=-suffix") as R2 takes it; null for no Range or
 * one this server ignores, as HTTP allows (malformed, several ranges, another unit).
 */
function parseRange(header: string | null): R2Range | null {
  if (header === null) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") return { suffix: Number(m[2]) };
  const offset = Number(m[1]);
  if (m[2] === "") return { offset };
  const last = Number(m[2]);
  return last < offset ? null : { offset, length: last - offset + 1 };
}

/** `range` cut to an object of `size` bytes; null when it selects none of them (RFC 9110, 14.1.2). */
function fitRange(range: R2Range, size: number): R2Range | null {
  if ("suffix" in range && range.suffix !== undefined) return range.suffix > 0 && size > 0 ? { suffix: Math.min(range.suffix, size) } : null;
  const offset = "offset" in range && range.offset !== undefined ? range.offset : 0;
  if (offset >= size) return null;
  const length = "length" in range && range.length !== undefined ? range.length : size - offset;
  return { offset, length: Math.min(length, size - offset) };
}

function unsatisfiable(size: number) {
  return apiError(416, "range_not_satisfiable", `The file has ${size} bytes.`, { "content-range": `bytes */${size}` });
}

function failsIfMatch(headers: Headers, object: R2Object): boolean {
  const ifMatch = headers.get("if-match");
  if (ifMatch !== null && ifMatch.trim() !== "*" && !ifMatch.split(",").some((t) => t.trim() === object.httpEtag)) return true;
  const since = headers.get("if-unmodified-since");
  return since !== null && !Number.isNaN(Date.parse(since)) && object.uploaded.getTime() > Date.parse(since) + 999;
}

function matchesIfNoneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.trim() === "*" || header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

function notModified(object: R2Object): Response {
  return new Response(null, { status: 304, headers: { etag: object.httpEtag } });
}

function notStored(file: Served): never {
  throw apiError(404, "not_stored", `${file.filename} is not stored (yet).`);
}
