// One transfer attempt: source → checks → R2, streamed. The object appears under its key only
// when every byte has arrived and passed the checks: a fixed-length put fails if the stream ends
// short or is aborted, and a multipart upload is completed only after the last block.

import { MAX_SINGLE_PUT_BYTES, PART_BYTES, WAV_CONTENT_TYPE, wavKey } from "../storage/layout";
import { hex } from "../lib/encoding";
import { errorText, withoutQuery } from "../lib/redact";
import type { AttemptResult } from "../task/jobs";
import type { WavInfo } from "../task/machine";
import { WavBlocks } from "./blocks";
import { TransferError } from "./errors";
import { openSource } from "./source";

const MAX_METADATA_URL = 1024;

export interface TransferInput {
  taskId: string;
  sourceUrl: string;
  bucket: R2Bucket;
  allowlist: readonly string[];
  maxBytes: number;
  idleTimeoutMs: number;
  /**
   * Told the id of a multipart upload when it is created, and null once it is completed or
   * aborted: an upload an interrupted isolate leaves behind can then be aborted later.
   */
  onMultipartUpload?: (uploadId: string | null) => void;
}

export async function transferWav(input: TransferInput): Promise<AttemptResult> {
  const key = wavKey(input.taskId);
  try {
    const source = await openSource(input.sourceUrl, {
      allowlist: input.allowlist,
      maxBytes: input.maxBytes,
      timeoutMs: input.idleTimeoutMs,
    });
    const blocks = new WavBlocks(source.body, {
      length: source.length,
      maxBytes: input.maxBytes,
      idleTimeoutMs: input.idleTimeoutMs,
    });
    const options: R2PutOptions & R2MultipartOptions = {
      httpMetadata: { contentType: WAV_CONTENT_TYPE },
      // The URL as given (not a redirect target), minus any signed query string.
      customMetadata: { taskId: input.taskId, sourceUrl: metadataUrl(input.sourceUrl) },
    };
    const size =
      source.length !== null && source.length <= MAX_SINGLE_PUT_BYTES
        ? await putFixedLength(input.bucket, key, source.length, blocks, options)
        : await putMultipart(input.bucket, key, blocks, options, input.onMultipartUpload);
    return { ok: true, wav: { key, size, sha256: await blocks.sha256(), contentType: WAV_CONTENT_TYPE } };
  } catch (err) {
    if (err instanceof TransferError) {
      return { ok: false, error: { code: err.code, message: err.message }, retryable: err.retryable, refreshUrl: err.refreshUrl };
    }
    const message = `writing to R2 failed: ${errorText(err)}`;
    // The message only: a stack or cause could carry the source URL's signed query.
    console.error(JSON.stringify({ event: "transfer_error", taskId: input.taskId, message }));
    return { ok: false, error: { code: "storage_failed", message }, retryable: true, refreshUrl: false };
  }
}

/**
 * After an interrupted attempt: the object may have been committed just before the isolate died.
 * R2 writes are all-or-nothing, so an object under the key that names this task and source is a
 * complete copy; it is adopted (hashed as it streams back) instead of fetched again.
 */
export async function adoptStoredWav(bucket: R2Bucket, taskId: string, sourceUrl: string): Promise<WavInfo | null> {
  const key = wavKey(taskId);
  // Metadata first: an object that is not this attempt's is never opened (no body to cancel).
  const head = await bucket.head(key);
  const meta = head?.customMetadata ?? {};
  if (!head || meta.taskId !== taskId || meta.sourceUrl !== metadataUrl(sourceUrl)) return null;
  const object = await bucket.get(key, { onlyIf: { etagMatches: head.etag } });
  if (!object || !("body" in object)) return null; // replaced meanwhile: fetch again
  const digest = new crypto.DigestStream("SHA-256");
  await object.body.pipeTo(digest);
  return { key, size: object.size, sha256: hex(await digest.digest), contentType: WAV_CONTENT_TYPE };
}

/** The source URL as kept in the object's metadata. */
function metadataUrl(sourceUrl: string): string {
  // R2 allows 2 KiB of custom metadata in all; a very long URL is cut to fit.
  return withoutQuery(sourceUrl).slice(0, MAX_METADATA_URL);
}

async function putFixedLength(
  bucket: R2Bucket,
  key: string,
  length: number,
  blocks: WavBlocks,
  options: R2PutOptions,
): Promise<number> {
  // Read the first block (the header check) before R2 sees anything.
  let block = await blocks.next();
  const { readable, writable } = new FixedLengthStream(length);
  const writer = writable.getWriter();
  const put = bucket.put(key, readable, options);
  // If R2 gives up first, nobody reads the stream any more: fail the pending write with R2's error.
  put.catch((err: unknown) => writer.abort(err).catch(() => {}));
  try {
    for (; block !== null; block = await blocks.next()) await writer.write(block);
    await writer.close();
  } catch (err) {
    // Aborting makes the put fail, so no partial object is ever committed.
    await writer.abort(err).catch(() => {});
    await put.catch(() => {});
    await blocks.cancel(err);
    throw err;
  }
  const object = await put;
  return object.size;
}

async function putMultipart(
  bucket: R2Bucket,
  key: string,
  blocks: WavBlocks,
  options: R2MultipartOptions,
  onUpload: (uploadId: string | null) => void = () => {},
): Promise<number> {
  // The header check happens on the first block, before an upload exists to clean up.
  let block = await blocks.next();
  const upload = await bucket.createMultipartUpload(key, options).catch(async (err: unknown) => {
    await blocks.cancel(err);
    throw err;
  });
  onUpload(upload.uploadId);
  const parts: R2UploadedPart[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  let part = new Uint8Array(PART_BYTES);
  let filled = 0;

  // One part uploads while the next one fills: at most two parts in memory.
  const ship = async (bytes: Uint8Array) => {
    await inFlight; // the previous part is in `parts` now, so numbering follows it
    inFlight = upload.uploadPart(parts.length + 1, bytes).then((p) => {
      parts.push(p);
    });
    inFlight.catch(() => {}); // handled where it is awaited; not an unhandled rejection meanwhile
  };

  try {
    for (; block !== null; block = await blocks.next()) {
      let offset = 0;
      while (offset < block.byteLength) {
        const n = Math.min(block.byteLength - offset, PART_BYTES - filled);
        part.set(block.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === PART_BYTES) {
          await ship(part);
          part = new Uint8Array(PART_BYTES);
          filled = 0;
        }
      }
    }
    if (filled > 0) await ship(part.subarray(0, filled));
    await inFlight;
    const object = await upload.complete(parts);
    onUpload(null);
    return object.size;
  } catch (err) {
    await inFlight.catch(() => {});
    await upload.abort().then(() => onUpload(null), () => {});
    await blocks.cancel(err);
    throw err;
  }
}
