// One transfer attempt of one file: source → checks → R2, streamed, and resumed rather than
// restarted (README, "Transfers" and "Resumable transfers"). The object appears under its key only
// when every byte has arrived and passed the checks: a fixed-length put fails if the stream ends
// short or is aborted, and a multipart upload is completed only after the last byte.
//
// A file above 64 MiB (or of unknown length) goes up as a multipart upload in 8 MiB parts, and each
// part that R2 has is checkpointed (number, etag, byte range) as it completes. The next attempt —
// after the runtime was killed, the source cut off or stalled, or the invocation's time slice ran
// out — resumes that upload and asks the source only for the rest; the sha256 of a file that was
// not streamed whole in one go is read back from R2 once, never fetched from the source again.
// The source is the provider's URL, or content a callback carried that the worker staged in R2
// (copied as it is, or made into a Standard MIDI File).

import type { FileSource } from "../kinds/kind";
import { CONTENT_TYPES } from "../kinds/kind";
import { hex } from "../lib/encoding";
import { errorText, withoutQuery } from "../lib/redact";
import { PART_BYTES, peaksKey } from "../storage/layout";
import type { AttemptResult } from "../task/jobs";
import type { StoredFile } from "../task/machine";
import { FileBlocks } from "./blocks";
import { TransferError } from "./errors";
import { typeCheckFor } from "./file-types";
import { midiFileFrom } from "./midi-file";
import { openSource, type OpenedSource } from "./source";
import { WaveformTracker, type WaveformProgress } from "./peaks";
import { parseWavHeader, wavFacts, type WavHeader } from "./wav-format";

const MAX_METADATA_URL = 1024;
/** Files up to this size (with a known length) go up in one put; larger ones are resumable. */
export const SINGLE_PUT_MAX_BYTES = 64 << 20;

/** What a resumable upload has done so far, kept durably by the runner after every part. */
export interface Checkpoint {
  uploadId: string;
  /** The whole file's length and validators, from the answer the upload began with. */
  total: number | null;
  etag: string | null;
  lastModified: string | null;
  /** The source URL without its query: a link to another file without validators is not resumed. */
  source?: string;
  /** Parts R2 has, in order; each covers [offset, offset + length). */
  parts: { partNumber: number; etag: string; offset: number; length: number }[];
  /** A WAV's header, read from the first part (the facts are told at the end). */
  wavHeader: WavHeader | null;
  /** A WAV's waveform so far, exactly through the last part (README, "Waveforms"). */
  waveform?: WaveformProgress | null;
}

/** Where the runner keeps a file's checkpoint. */
export interface Checkpoints {
  load(): Checkpoint | null;
  save(checkpoint: Checkpoint): void;
  clear(): void;
}

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
  checkpoints: Checkpoints;
  /** No new part is started after this time (epoch ms): the attempt pauses, to go on later. */
  sliceEndsAt?: number;
  /** Compute a WAV's waveform as it streams (WAVEFORM_PEAKS). */
  waveform?: boolean;
  /**
   * Upload in checkpointed parts whatever the size: the attempt after an interrupted one does, so
   * that a file up to 64 MiB cut off twice is resumed the second time rather than fetched whole.
   */
  inParts?: boolean;
}

/** An attempt that stopped at the end of its time slice, with the file this far in R2. */
export type Paused = { paused: { offset: number; total: number | null } };

export type TransferOutcome = AttemptResult | Paused;

/** Bytes of the file R2 has, by the checkpoint. */
export function checkpointOffset(cp: Checkpoint): number {
  const last = cp.parts.at(-1);
  return last ? last.offset + last.length : 0;
}

export async function transferFile(input: TransferInput): Promise<TransferOutcome> {
  try {
    const { source } = input.file;
    if ("staged" in source) return await transferStaged(input, source);
    const { opened, resume } = await openForAttempt(input, source.url);
    if (!resume && !input.inParts && opened.length !== null && opened.length <= SINGLE_PUT_MAX_BYTES) return await putWhole(input, opened);
    return await putInParts(input, opened, resume);
  } catch (err) {
    return failure(input, err);
  }
}

/**
 * Opens the source: from where the checkpoint left off when the source gives exactly that rest of
 * the same file (a 206 starting there, with the same total and validators), else from byte 0 —
 * and then the old upload is aborted and the checkpoint forgotten.
 */
async function openForAttempt(input: TransferInput, url: string): Promise<{ opened: OpenedSource; resume: Checkpoint | null }> {
  const opts = { allowlist: input.allowlist, maxBytes: input.maxBytes, maxSetting: input.maxSetting, timeoutMs: input.idleTimeoutMs };
  const cp = input.checkpoints.load();
  if (cp) {
    const from = checkpointOffset(cp);
    // R2 has every byte (the last part landed just before the attempt stopped): nothing to fetch.
    if (cp.total !== null && from >= cp.total) return { opened: nothingLeft(from, cp), resume: cp };
    // Without validators, the URL is all that says it is the same file (a refreshed link differs
    // only in its signed query).
    const sameFile = cp.etag !== null || cp.lastModified !== null || cp.source === undefined || cp.source === withoutQuery(url);
    let opened: OpenedSource | null = null;
    try {
      if (sameFile) opened = await openSource(url, { ...opts, range: { from, etag: cp.etag, lastModified: cp.lastModified } });
    } catch (err) {
      // A range the source cannot satisfy (and that is not the file's end): start over.
      if (!(err instanceof TransferError && err.code === "range_not_satisfiable")) throw err;
    }
    if (opened && resumable(opened, cp, from)) return { opened, resume: cp };
    await abandon(input, cp);
    // A 200 is the whole file again: start over with it rather than asking twice.
    if (opened && !opened.range) return { opened, resume: null };
    await opened?.body.cancel().catch(() => {});
  }
  return { opened: await openSource(url, opts), resume: null };
}

/** The empty rest of a file R2 already has whole (in parts not yet completed into the object). */
function nothingLeft(from: number, cp: Checkpoint): OpenedSource {
  const body = new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  return { body, length: 0, range: { start: from, total: cp.total }, etag: cp.etag, lastModified: cp.lastModified };
}

/** Whether an answer is the rest of the very file the checkpoint has the beginning of. */
function resumable(o: OpenedSource, cp: Checkpoint, from: number): boolean {
  if (!o.range || o.range.start !== from) return false;
  if (cp.total !== null && o.range.total !== cp.total) return false;
  if (cp.etag !== null && o.etag !== cp.etag) return false;
  if (cp.lastModified !== null && o.lastModified !== cp.lastModified) return false;
  return true;
}

/** A known length up to 64 MiB: one put through a FixedLengthStream. */
async function putWhole(input: TransferInput, opened: OpenedSource | { body: ReadableStream<Uint8Array>; length: number }): Promise<AttemptResult> {
  const { key, contentType } = input.file;
  const length = opened.length!;
  const blocks = blocksFor(input, opened.body, length, 0, null);
  const waveform = waveformFor(input, null);
  let offset = 0;
  // Read the first block (the type check) before R2 sees anything.
  let block = await blocks.next();
  const { readable, writable } = new FixedLengthStream(length);
  const writer = writable.getWriter();
  const put = input.bucket.put(key, readable, putOptions(input));
  // If R2 gives up first, nobody reads the stream any more: fail the pending write with R2's error.
  put.catch((err: unknown) => writer.abort(err).catch(() => {}));
  try {
    for (; block !== null; block = await blocks.next()) {
      waveform?.feed(block, offset, blocks.wavHeader(), length);
      offset += block.byteLength;
      await writer.write(block);
    }
    await writer.close();
  } catch (err) {
    // Aborting makes the put fail, so no partial object is ever committed.
    await writer.abort(err).catch(() => {});
    await put.catch(() => {});
    await blocks.cancel(err);
    throw err;
  }
  const object = await put;
  const file = { key, size: object.size, sha256: await blocks.sha256(), contentType, etag: object.etag };
  return stored(input, await withWaveform(input, file, waveform), blocks.wavFormat());
}

/**
 * A multipart upload, begun here or resumed from its checkpoint: parts of 8 MiB, one uploading
 * while the next fills, each recorded in the checkpoint once R2 has it. Stops starting new parts
 * once the time slice is over (Paused); completes the upload only after the last byte passed
 * every check.
 */
async function putInParts(input: TransferInput, opened: OpenedSource, resume: Checkpoint | null): Promise<TransferOutcome> {
  const { key, contentType } = input.file;
  const start = resume ? checkpointOffset(resume) : 0;
  const total = resume ? (resume.total ?? opened.range?.total ?? null) : opened.length;
  const blocks = blocksFor(input, opened.body, total, start, resume);
  // The type check happens on the first block, before an upload exists to clean up.
  let block = await blocks.next();
  const waveform = waveformFor(input, resume);
  let cp: Checkpoint;
  let upload: R2MultipartUpload;
  if (resume) {
    cp = resume;
    upload = input.bucket.resumeMultipartUpload(key, resume.uploadId);
  } else {
    upload = await input.bucket.createMultipartUpload(key, putOptions(input)).catch(async (err: unknown) => {
      await blocks.cancel(err);
      throw err;
    });
    const source = "url" in input.file.source ? withoutQuery(input.file.source.url) : undefined;
    cp = { uploadId: upload.uploadId, total, etag: opened.etag, lastModified: opened.lastModified, source, parts: [], wavHeader: null, waveform: waveform?.progress() ?? null };
    input.checkpoints.save(cp);
  }

  let inFlight: Promise<void> = Promise.resolve();
  let offset = start;
  // One part uploads while the next fills: at most two parts in memory.
  const ship = async (bytes: Uint8Array) => {
    await inFlight; // the previous part is in the checkpoint now, so numbering follows it
    const partNumber = cp.parts.length + 1;
    const at = offset;
    offset += bytes.byteLength;
    // Fed per part, so the waveform kept with a part's checkpoint covers exactly the parts R2 has.
    waveform?.feed(bytes, at, blocks.wavHeader(), total);
    const progress = waveform?.progress() ?? null;
    inFlight = upload.uploadPart(partNumber, bytes).then((p) => {
      cp = {
        ...cp,
        parts: [...cp.parts, { partNumber, etag: p.etag, offset: at, length: bytes.byteLength }],
        wavHeader: cp.wavHeader ?? blocks.wavHeader(),
        waveform: progress,
      };
      input.checkpoints.save(cp);
    });
    inFlight.catch(() => {}); // handled where it is awaited; not an unhandled rejection meanwhile
  };

  let part = new Uint8Array(PART_BYTES);
  let filled = 0;
  try {
    for (; block !== null; block = await blocks.next()) {
      let at = 0;
      while (at < block.byteLength) {
        const n = Math.min(block.byteLength - at, PART_BYTES - filled);
        part.set(block.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === PART_BYTES) {
          await ship(part);
          part = new Uint8Array(PART_BYTES);
          filled = 0;
          // The slice is over: no new part. What R2 has is checkpointed; the rest comes later —
          // unless this was the file's last byte, and only completing the upload is left.
          const atEnd = total !== null && offset >= total;
          if (!atEnd && input.sliceEndsAt !== undefined && Date.now() >= input.sliceEndsAt) {
            // The source goes first: whatever it sent while the last part uploads would only be
            // fetched again by the next slice.
            await blocks.cancel("paused");
            await inFlight;
            return { paused: { offset: checkpointOffset(cp), total } };
          }
        }
      }
    }
    if (filled > 0) await ship(part.subarray(0, filled));
    await inFlight;
    const object = await upload.complete(cp.parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })));
    input.checkpoints.clear();
    // Hashed as it streamed only when the whole file streamed here; else read back from R2 once.
    const sha256 = start === 0 ? await blocks.sha256() : await sha256Of(input.bucket, key);
    const file = { key, size: object.size, sha256, contentType, etag: object.etag };
    return stored(input, await withWaveform(input, file, waveform), blocks.wavFormat());
  } catch (err) {
    await inFlight.catch(() => {});
    await blocks.cancel(err);
    // What may pass (a source cut off, a stall, R2 trouble) keeps the upload for the next attempt;
    // bytes that are certainly wrong do not.
    if (!(err instanceof TransferError) || !err.retryable || err.code === "length_mismatch") await abandon(input, cp);
    throw err;
  }
}

/** Content the callback carried, from its staged copy: small (at most 1 MiB), one put. */
async function transferStaged(input: TransferInput, source: { staged: string; convert?: "midi" }): Promise<AttemptResult> {
  const staged = await input.bucket.get(source.staged);
  // Staged content is removed only once every file made from it is stored: missing means R2 lost
  // it, and the provider's record-info can give it again.
  if (!staged) throw new TransferError("staged_missing", "the content the callback carried is no longer in R2", true, true);
  if (source.convert !== "midi") return putWhole(input, { body: staged.body, length: staged.size });
  const bytes = midiFileFrom(await staged.json());
  return putWhole(input, { body: new Blob([bytes]).stream(), length: bytes.byteLength });
}

function blocksFor(input: TransferInput, body: ReadableStream<Uint8Array>, length: number | null, start: number, resume: Checkpoint | null): FileBlocks {
  const wav = input.file.contentType === CONTENT_TYPES.wav;
  return new FileBlocks(body, {
    startOffset: start,
    length,
    maxBytes: input.maxBytes,
    maxSetting: input.maxSetting,
    idleTimeoutMs: input.idleTimeoutMs,
    check: start === 0 ? typeCheckFor(input.file.contentType) : null,
    wav: wav ? (resume ? { header: resume.wavHeader } : true) : undefined,
  });
}

/** A WAV's waveform tracker (resumed from its checkpoint); null for other files. */
function waveformFor(input: TransferInput, resume: Checkpoint | null): WaveformTracker | null {
  if (input.file.contentType !== CONTENT_TYPES.wav) return null;
  return new WaveformTracker(input.waveform !== false, resume ? (resume.waveform ?? { none: "the transfer began before waveforms were kept" }) : null);
}

/** The waveform beside the file in R2 (`<key>.peaks.json`), or why there is none. */
async function withWaveform(input: TransferInput, file: StoredFile, waveform: WaveformTracker | null): Promise<StoredFile> {
  if (!waveform) return file;
  const result = waveform.result();
  if ("none" in result) return { ...file, waveform: { none: result.none } };
  try {
    await input.bucket.put(peaksKey(file.key), JSON.stringify(result), { httpMetadata: { contentType: "application/json" }, customMetadata: { taskId: input.taskId } });
  } catch (err) {
    // The file is stored: a waveform that could not be written does not undo that.
    return { ...file, waveform: { none: `the waveform could not be written to R2 (${errorText(err)})` } };
  }
  return { ...file, waveform: { buckets: result.length } };
}

function putOptions(input: TransferInput): R2PutOptions & R2MultipartOptions {
  return {
    httpMetadata: { contentType: input.file.contentType },
    // The URL as given (not a redirect target), minus any signed query string.
    customMetadata: { taskId: input.taskId, sourceUrl: metadataUrl(input.file.source) },
  };
}

function stored(input: TransferInput, file: StoredFile, wavFormat: ReturnType<FileBlocks["wavFormat"]>): AttemptResult {
  return { ok: true, stored: wavFormat ? { ...file, format: wavFormat } : file };
}

/** Aborts an upload that will not be resumed, and forgets its checkpoint. */
async function abandon(input: TransferInput, cp: Checkpoint): Promise<void> {
  await input.bucket.resumeMultipartUpload(input.file.key, cp.uploadId).abort().catch(() => {});
  input.checkpoints.clear();
}

function failure(input: TransferInput, err: unknown): AttemptResult {
  if (err instanceof TransferError) {
    return { ok: false, error: { code: err.code, message: err.message }, retryable: err.retryable, refreshUrl: err.refreshUrl };
  }
  const message = `writing to R2 failed: ${errorText(err)}`;
  // The message only: a stack or cause could carry the source URL's signed query.
  console.error(JSON.stringify({ event: "transfer_error", taskId: input.taskId, message }));
  return { ok: false, error: { code: "storage_failed", message }, retryable: true, refreshUrl: false };
}

/** The sha256 of an object in R2, read back once. */
async function sha256Of(bucket: R2Bucket, key: string): Promise<string> {
  const object = await bucket.get(key);
  if (!object) throw new Error(`${key} is not in R2 right after its upload completed`);
  const digest = new crypto.DigestStream("SHA-256");
  await object.body.pipeTo(digest);
  return hex(await digest.digest);
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
  const adopted: StoredFile = { key: file.key, size: object.size, sha256: hex(await digest.digest), contentType: file.contentType, etag: object.etag };
  if (file.contentType !== CONTENT_TYPES.wav) return adopted;
  // A WAV's facts from its header, read back too; a WAV cut short of its data chunk is not adopted.
  const head64 = await bucket.get(file.key, { range: { offset: 0, length: 64 * 1024 } });
  const header = head64 ? parseWavHeader(new Uint8Array(await head64.arrayBuffer())) : null;
  if (!header || header === "more") return adopted;
  const facts = wavFacts(header, object.size);
  return facts.truncatedAt !== null ? null : { ...adopted, format: facts.format, waveform: await adoptedWaveform(bucket, head) };
}

/**
 * An adopted WAV's waveform (README, "Waveforms"): the one its attempt wrote beside it after the
 * file (a peaks object at least as new), else none — the attempt was cut off before writing it.
 */
async function adoptedWaveform(bucket: R2Bucket, wav: R2Object): Promise<StoredFile["waveform"]> {
  const none = { none: "the attempt that stored this WAV was cut off before its waveform was written" };
  const peaks = await bucket.get(peaksKey(wav.key));
  if (!peaks || peaks.uploaded < wav.uploaded) {
    await peaks?.body.cancel();
    return none;
  }
  try {
    const { length } = (await peaks.json()) as { length?: unknown };
    return typeof length === "number" && length > 0 ? { buckets: length } : none;
  } catch {
    return none;
  }
}

/** The source as kept in the object's metadata: the URL without its query; "" for staged content. */
function metadataUrl(source: FileSource): string {
  // R2 allows 2 KiB of custom metadata in all; a very long URL is cut to fit.
  return "url" in source ? withoutQuery(source.url).slice(0, MAX_METADATA_URL) : "";
}
