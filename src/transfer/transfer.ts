// One transfer attempt of one file: source → checks → R2, streamed (README, "Transfers"). The
// object appears under its key only when every byte has arrived and passed the checks: a
// fixed-length put fails if the stream ends short or is aborted, and a multipart upload is
// completed only after the last block. The source is the provider's URL, or content a callback
// carried that the worker staged in R2 (copied as it is, or made into a Standard MIDI File).

import type { FileSource } from "../kinds/kind";
import { hex } from "../lib/encoding";
import { errorText, withoutQuery } from "../lib/redact";
import { MAX_SINGLE_PUT_BYTES, PART_BYTES } from "../storage/layout";
import type { AttemptResult } from "../task/jobs";
import type { StoredFile } from "../task/machine";
import { FileBlocks } from "./blocks";
import { TransferError } from "./errors";
import { typeCheckFor } from "./file-types";
import { midiFileFrom } from "./midi-file";
import { openSource } from "./source";

const MAX_METADATA_URL = 1024;

export interface TransferInput {
  taskId: string;
  /** Where the file goes, what it must be, and where its bytes come from. */
  file: { key: string; contentType: string; source: FileSource };
  bucket: R2Bucket;
  allowlist: readonly string[];
  maxBytes: number;
  /** The setting that set maxBytes, for messages (MAX_WAV_BYTES or MAX_FILE_BYTES). */
  maxSetting: string;
  idleTimeoutMs: number;
  /**
   * Told the id of a multipart upload when it is created, and null once it is completed or
   * aborted: an upload an interrupted isolate leaves behind can then be aborted later.
   */
  onMultipartUpload?: (uploadId: string | null) => void;
}

export async function transferFile(input: TransferInput): Promise<AttemptResult> {
  const { key, contentType, source } = input.file;
  try {
    const opened = await open(input);
    const blocks = new FileBlocks(opened.body, {
      length: opened.length,
      maxBytes: input.maxBytes,
      maxSetting: input.maxSetting,
      idleTimeoutMs: input.idleTimeoutMs,
      check: typeCheckFor(contentType),
    });
    const options: R2PutOptions & R2MultipartOptions = {
      httpMetadata: { contentType },
      // The URL as given (not a redirect target), minus any signed query string.
      customMetadata: { taskId: input.taskId, sourceUrl: metadataUrl(source) },
    };
    const size =
      opened.length !== null && opened.length <= MAX_SINGLE_PUT_BYTES
        ? await putFixedLength(input.bucket, key, opened.length, blocks, options)
        : await putMultipart(input.bucket, key, blocks, options, input.onMultipartUpload);
    return { ok: true, stored: { key, size, sha256: await blocks.sha256(), contentType } };
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

/** The file's bytes: from the provider's URL, or from content staged in R2. */
async function open(input: TransferInput): Promise<{ body: ReadableStream<Uint8Array>; length: number | null }> {
  const source = input.file.source;
  if ("url" in source) {
    return openSource(source.url, { allowlist: input.allowlist, maxBytes: input.maxBytes, maxSetting: input.maxSetting, timeoutMs: input.idleTimeoutMs });
  }
  const staged = await input.bucket.get(source.staged);
  // Staged content is removed only once every file made from it is stored: missing means R2 lost
  // it, and the provider's record-info can give it again.
  if (!staged) throw new TransferError("staged_missing", "the content the callback carried is no longer in R2", true, true);
  if (source.convert !== "midi") return { body: staged.body, length: staged.size };
  // The notes (at most 1 MiB, as the callback was) are read whole to write the MIDI file.
  const bytes = midiFileFrom(await staged.json());
  return { body: new Blob([bytes]).stream(), length: bytes.byteLength };
}

/**
 * After an interrupted attempt: the object may have been committed just before the isolate died.
 * R2 writes are all-or-nothing, so an object under the key that names this task and source is a
 * complete copy; it is adopted (hashed as it streams back) instead of fetched again.
 */
export async function adoptStored(bucket: R2Bucket, taskId: string, file: TransferInput["file"]): Promise<StoredFile | null> {
  // Metadata first: an object that is not this attempt's is never opened (no body to cancel).
  const head = await bucket.head(file.key);
  const meta = head?.customMetadata ?? {};
  if (!head || meta.taskId !== taskId || meta.sourceUrl !== metadataUrl(file.source)) return null;
  const object = await bucket.get(file.key, { onlyIf: { etagMatches: head.etag } });
  if (!object || !("body" in object)) return null; // replaced meanwhile: fetch again
  const digest = new crypto.DigestStream("SHA-256");
  await object.body.pipeTo(digest);
  return { key: file.key, size: object.size, sha256: hex(await digest.digest), contentType: file.contentType };
}

/** The source as kept in the object's metadata: the URL without its query; "" for staged content. */
function metadataUrl(source: FileSource): string {
  // R2 allows 2 KiB of custom metadata in all; a very long URL is cut to fit.
  return "url" in source ? withoutQuery(source.url).slice(0, MAX_METADATA_URL) : "";
}

async function putFixedLength(bucket: R2Bucket, key: string, length: number, blocks: FileBlocks, options: R2PutOptions): Promise<number> {
  // Read the first block (the type check) before R2 sees anything.
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
  blocks: FileBlocks,
  options: R2MultipartOptions,
  onUpload: (uploadId: string | null) => void = () => {},
): Promise<number> {
  // The type check happens on the first block, before an upload exists to clean up.
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
