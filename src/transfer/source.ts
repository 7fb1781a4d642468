// Opening a file's source URL: every hop checked against the URL policy, redirects followed by hand,
// the status and declared size judged before a byte of the body is read.

import { withoutQuery } from "../lib/redact";
import { checkSourceUrl } from "./source-url";
import { TransferError } from "./errors";

const MAX_REDIRECTS = 3;

export interface OpenedSource {
  body: ReadableStream<Uint8Array>;
  /** The exact body length when the source declares it (identity encoding), else null. */
  length: number | null;
}

export interface SourceOptions {
  allowlist: readonly string[];
  maxBytes: number;
  /** The setting that set maxBytes, for messages. */
  maxSetting: string;
  /** How long to wait for the response headers. */
  timeoutMs: number;
}

export async function openSource(rawUrl: string, opts: SourceOptions): Promise<OpenedSource> {
  let current = rawUrl;
  for (let hop = 0; ; hop++) {
    const verdict = checkSourceUrl(current, opts.allowlist);
    if (!verdict.ok) {
      throw new TransferError("source_refused", `refused to fetch ${withoutQuery(current)}: ${verdict.reason}`, false);
    }
    const res = await fetchWithTimeout(verdict.url, opts.timeoutMs);

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

    if (res.status !== 200 || res.body === null) {
      await res.body?.cancel();
      throw new TransferError("source_http_error", `source answered HTTP ${res.status}`, true, isExpiredLinkStatus(res.status));
    }

    const length = declaredLength(res.headers);
    if (length !== null && length > opts.maxBytes) {
      await res.body.cancel();
      throw new TransferError(
        "too_large",
        `source declares ${length} bytes, more than ${opts.maxSetting} (${opts.maxBytes})`,
        false,
      );
    }
    return { body: res.body, length };
  }
}

async function fetchWithTimeout(url: URL, timeoutMs: number): Promise<Response> {
  // A timer, not AbortSignal.timeout(): the signal would also cut off the body later on.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(url, {
      redirect: "manual",
      // Ask for the bytes as stored, so Content-Length is the length we will read.
      headers: { "accept-encoding": "identity", accept: "*/*" },
      signal: controller.signal,
    });
  } catch {
    const why = controller.signal.aborted ? `sent no answer within ${timeoutMs / 1000} s` : "could not be reached";
    throw new TransferError("source_unreachable", `${url.host} ${why}`, true);
  } finally {
    clearTimeout(timer);
  }
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
