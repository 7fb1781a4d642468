// The stored WAV, straight from R2: R2 itself evaluates Range and If-None-Match/If-Match from the
// request's headers, so the body streams from R2 to the client without passing through our code.

import { apiError } from "../http/errors";
import { wavKey } from "../storage/layout";

export async function serveWav(bucket: R2Bucket, taskId: string, request: Request): Promise<Response> {
  const key = wavKey(taskId);
  if (request.method === "HEAD") {
    const head = await bucket.head(key);
    if (!head) return notStored(taskId);
    if (matchesIfNoneMatch(request.headers.get("if-none-match"), head.httpEtag)) return notModified(head);
    return new Response(null, { status: 200, headers: objectHeaders(head, taskId, head.size) });
  }

  let object: R2Object | R2ObjectBody | null;
  try {
    object = await bucket.get(key, { range: request.headers, onlyIf: request.headers });
  } catch (err) {
    if (!request.headers.has("range")) throw err;
    // A Range R2 refuses to apply: decided below, against the object's size.
    object = await bucket.get(key, { onlyIf: request.headers });
  }
  if (!object) return notStored(taskId);
  if (!("body" in object)) {
    // A precondition failed: If-Match / If-Unmodified-Since → 412, otherwise (If-None-Match,
    // If-Modified-Since) → 304.
    if (failsIfMatch(request.headers, object)) {
      throw apiError(412, "precondition_failed", "The stored WAV does not match If-Match / If-Unmodified-Since.");
    }
    return notModified(object);
  }

  // R2 answers a Range past the end with the whole object (or refuses it, above). A well-formed
  // one that selects nothing is 416 with the size (SPEC); a malformed one is ignored: 200.
  const rangeHeader = request.headers.get("range");
  if (rangeHeader !== null && isUnsatisfiable(rangeHeader, object.size)) {
    await object.body.cancel();
    throw unsatisfiable(object.size);
  }
  const range = resolveRange(object.range, object.size);
  // A range R2 could not apply comes back as the whole object: answer 200, as HTTP allows.
  const partial = range !== null && request.headers.has("range") && range.length < object.size;
  if (range && partial) {
    if (range.length <= 0) {
      await object.body.cancel();
      throw unsatisfiable(object.size);
    }
    const headers = objectHeaders(object, taskId, range.length);
    headers.set("content-range", `bytes ${range.offset}-${range.offset + range.length - 1}/${object.size}`);
    return new Response(object.body, { status: 206, headers });
  }
  return new Response(object.body, { status: 200, headers: objectHeaders(object, taskId, object.size) });
}

function objectHeaders(object: R2Object, taskId: string, length: number): Headers {
  const headers = new Headers();
  object.writeHttpMetadata(headers);
  headers.set("content-type", "audio/wav");
  headers.set("content-length", String(length));
  headers.set("etag", object.httpEtag);
  headers.set("accept-ranges", "bytes");
  headers.set("content-disposition", `attachment; filename="${taskId}.wav"`);
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

/** A single well-formed byte range that selects nothing of `size` bytes (RFC 9110, 14.1.2). */
function isUnsatisfiable(header: string, size: number): boolean {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return false;
  if (m[1] === "") return Number(m[2]) === 0; // suffix "-0"
  if (m[2] !== "" && Number(m[2]) < Number(m[1])) return false; // malformed: last before first
  return Number(m[1]) >= size;
}

function unsatisfiable(size: number) {
  return apiError(416, "range_not_satisfiable", `The WAV has ${size} bytes.`, { "content-range": `bytes */${size}` });
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

function notStored(taskId: string): never {
  throw apiError(404, "not_stored", `No WAV is stored for task ${taskId} (yet); see GET /api/tasks/${taskId}.`);
}
