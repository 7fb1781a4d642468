// Opening a file's source URL: every hop checked against the URL policy, redirects followed by hand,
// the status and declared size judged before a byte of the body is read. A resumed transfer asks
// for the rest (`Range: bytes=<from>-`, with `If-Range` when the source gave a validator), and
// learns from the answer whether it got that rest (206) or the whole file again (200).

import { withoutQuery } from "../lib/redact";
import { checkSourceUrl } from "./source-url";
import { TransferError } from "./errors";

const MAX_REDIRECTS = 3;

export interface OpenedSource {
  body: ReadableStream<Uint8Array>;
  /** The exact body length when the source declares it (identity encoding), else null. */
  length: number | null;
  /** For a 206: where the body starts and the whole file's length (null when "*"). */
  range: { start: number; total: number | null } | null;
  /** Validators that tell the same file from another: kept with a checkpoint, checked on resume. */
  etag: string | null;
  lastModified: string | null;
}

/** What a resumed transfer asks for: the bytes from `from` on, of the file with these validators. */
export interface RangeRequest {
  from: number;
  etag: string | null;
  lastModified: string | null;
}

export interface SourceOptions {
  allowlist: readonly string[];
  maxBytes: number;
  /** The setting that set maxBytes, for messages. */
  maxSetting: string;
  /** How long to wait for the response headers. */
  timeoutMs: number;
  /** Ask for the rest of the file only. */
  range?: RangeRequest;
}

export async function openSource(rawUrl: string, opts: SourceOptions): Promise<OpenedSource> {
  let current = rawUrl;
  for (let hop = 0; ; hop++) {
    const verdict = checkSourceUrl(current, opts.allowlist);
    if (!verdict.ok) {
      throw new TransferError("source_refused", `refused to fetch ${withoutQuery(current)}: ${verdict.reason}`, false);
    }
    const res = await fetchWithTimeout(verdict.url, opts.timeoutMs, opts.range);

    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const location = res.headers.get("location");
      if (location === null) {
        throw new TransferError("source_http_error", `source answered ${res.status} without a Location`, true);
      }
      if (hop >= MAX_REDIRECTS) {
        throw new TransferError("too_many_redirects", `source redirected more than ${MAX_REDIRECTS} times`, true, true);
      }
      try {
        current = new URL(location, verdict.url).toString();
      } catch {
        throw new TransferError("source_http_error", `source redirected to an invalid Location`, true, true);
      }
      continue;
    }

    if (res.status === 416 && opts.range !== undefined) {
      await res.body?.cancel();
      // `bytes */<length>`: when the file is exactly as long as what R2 has, the rest is empty.
      const length = /^\s*bytes\s+\*\/(\d+)\s*$/i.exec(res.headers.get("content-range") ?? "");
      if (length && Number(length[1]) === opts.range.from) {
        const body = new ReadableStream<Uint8Array>({ start: (c) => c.close() });
        // A 416 to an If-Range request means the validator matched (else the answer is a 200).
        const etag = res.headers.get("etag") ?? opts.range.etag;
        const lastModified = res.headers.get("last-modified") ?? opts.range.lastModified;
        return { body, length: 0, range: { start: opts.range.from, total: opts.range.from }, etag, lastModified };
      }
      throw new TransferError("range_not_satisfiable", `source cannot send bytes from ${opts.range.from} on`, true);
    }

    const partial = res.status === 206 && opts.range !== undefined;
    if ((res.status !== 200 && !partial) || res.body === null) {
      await res.body?.cancel();
      throw new TransferError("source_http_error", `source answered HTTP ${res.status}`, true, isExpiredLinkStatus(res.status));
    }

    const length = declaredLength(res.headers);
    const range = partial ? contentRange(res.headers.get("content-range")) : null;
    const total = range ? range.total : length;
    if (total !== null && total > opts.maxBytes) {
      await res.body.cancel();
      throw new TransferError("too_large", `source declares ${total} bytes, more than ${opts.maxSetting} (${opts.maxBytes})`, false);
    }
    return { body: res.body, length, range, etag: res.headers.get("etag"), lastModified: res.headers.get("last-modified") };
  }
}

async function fetchWithTimeout(url: URL, timeoutMs: number, range?: RangeRequest): Promise<Response> {
  // A timer, not AbortSignal.timeout(): the signal would also cut off the body later on.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  // Ask for the bytes as stored, so Content-Length is the length we will read.
  const headers: Record<string, string> = { "accept-encoding": "identity", accept: "*/*" };
  if (range) {
    headers.range = `bytes=${range.from}-`;
    // The rest only if the file is still the one begun; otherwise the server sends it whole (200).
    const validator = range.etag && !range.etag.startsWith("W/") ? range.etag : range.lastModified;
    if (validator) headers["if-range"] = validator;
  }
  try {
    return await fetch(url, { redirect: "manual", headers, signal: controller.signal });
  } catch {
    const why = controller.signal.aborted ? `sent no answer within ${timeoutMs / 1000} s` : "could not be reached";
    throw new TransferError("source_unreachable", `${url.host} ${why}`, true);
  } finally {
    clearTimeout(timer);
  }
}

/** `Content-Range: bytes <start>-<end>/<total|*>`, or null when it is not one. */
function contentRange(header: string | null): { start: number; total: number | null } | null {
  const m = header === null ? null : /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header);
  if (!m) return null;
  return { start: Number(m[1]), total: m[3] === "*" ? null : Number(m[3]) };
}

function declaredLength(headers: Headers): number | null {
  const encoding = headers.get("content-encoding");
  if (encoding !== null && encoding.toLowerCase() !== "identity") return null;
  const raw = headers.get("content-length");
  if (raw === null || !/^\d+$/.test(raw.trim())) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * Any HTTP error may pass while the provider keeps the file (a CDN not yet published, an outage),
 * so all are retried; these say the link itself expired or moved, so record-info is asked for a
 * current one first (README, "Transfers").
 */
function isExpiredLinkStatus(status: number): boolean {
  return status === 401 || status === 403 || status === 404 || status === 410;
}
