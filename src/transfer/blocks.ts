// Reads a body in large blocks (about 1 MiB) so that per-block JS work — hashing, counting,
// writing on — happens a few hundred times for a 256 MiB file rather than tens of thousands.
// Everything the stream must satisfy is checked here as the bytes pass: the file's type (its first
// bytes), the size cap, the declared length, and a limit on how long the source may send nothing.

import { hex } from "../lib/encoding";
import { TransferError } from "./errors";
import type { TypeCheck } from "./file-types";
import { WavHeaderReader, wavFacts, type WavFormat, type WavHeader } from "./wav-format";

const BLOCK_BYTES = 1 << 20;
const MIN_READ_BYTES = 256 << 10;

export interface BlockLimits {
  /** Where in the file the body starts (0, or where a resumed transfer goes on). */
  startOffset?: number;
  /** Exact length of the whole file as the source declared it, or null. */
  length: number | null;
  maxBytes: number;
  /** The setting that set maxBytes, for the error message (MAX_WAV_BYTES, MAX_FILE_BYTES). */
  maxSetting: string;
  idleTimeoutMs: number;
  /** What the first bytes must be; null to take any (also when the body starts past 0). */
  check: TypeCheck | null;
  /**
   * A WAV: its header is read from the first bytes (or was, by the attempt a resumed one goes on
   * from), so the facts can be told and a data chunk cut short is `truncated`.
   */
  wav?: { header: WavHeader | null } | true;
}

export class FileBlocks {
  private readonly reader: ReadableStreamBYOBReader;
  private readonly digest = new crypto.DigestStream("SHA-256");
  private readonly digestWriter = this.digest.getWriter();
  /** Bytes of the file up to here (from its start, not from where this body began). */
  private total: number;
  private readonly start: number;
  private done = false;
  private readonly wavReader: WavHeaderReader | null;
  private readonly knownWav: WavHeader | null;

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly limits: BlockLimits,
  ) {
    this.reader = byobReader(body);
    this.start = limits.startOffset ?? 0;
    this.total = this.start;
    this.wavReader = limits.wav === true && this.start === 0 ? new WavHeaderReader() : null;
    this.knownWav = limits.wav && limits.wav !== true ? limits.wav.header : null;
  }

  /** Bytes of the file read so far, counted from its start. */
  offset(): number {
    return this.total;
  }

  /** The WAV header, once read (or as the attempt this one goes on from read it). */
  wavHeader(): WavHeader | null {
    return this.wavReader?.header() ?? this.knownWav;
  }

  /** A complete WAV's facts; null for other files or a header that could not be read. */
  wavFormat(): WavFormat | null {
    const header = this.wavHeader();
    return header ? wavFacts(header, this.total).format : null;
  }

  /** The next block, or null at the end of a complete body. Throws a TransferError otherwise. */
  async next(): Promise<Uint8Array | null> {
    if (this.done) return null;
    const min = this.total === this.start && this.start === 0 ? Math.max(1, this.limits.check?.headerBytes ?? 1) : MIN_READ_BYTES;
    const { value, done } = await this.read(min);
    const block = value && value.byteLength > 0 ? value : null;

    try {
      if (block !== null) await this.check(block, done);
      if (done) {
        this.done = true;
        this.checkComplete();
      }
    } catch (err) {
      await this.cancel(err); // let the source connection go at once
      throw err;
    }
    return block ?? (this.done ? null : this.next());
  }

  /** Type, size cap and declared length, then the block goes into the hash. */
  private async check(block: Uint8Array, done: boolean): Promise<void> {
    if (this.total === 0) this.checkType(block, done);
    if (this.wavReader && this.wavReader.header() === null) {
      this.wavReader.push(block);
      this.checkDeclaredWav();
    }
    this.total += block.byteLength;
    if (this.total > this.limits.maxBytes) {
      throw new TransferError("too_large", `the file is larger than ${this.limits.maxSetting} (${this.limits.maxBytes})`, false);
    }
    if (this.limits.length !== null && this.total > this.limits.length) {
      throw new TransferError("length_mismatch", `the source sent more than the ${this.limits.length} bytes it declared`, true);
    }
    await this.digestWriter.write(block);
  }

  /**
   * The first bytes against the file's type. A body that ended before the check had its bytes is
   * certainly wrong only when it is complete; one cut short of its declared length is truncated.
   */
  private checkType(head: Uint8Array, done: boolean): void {
    const check = this.limits.check;
    if (!check) return;
    if (head.byteLength < check.headerBytes) {
      if (done && this.limits.length !== null && head.byteLength < this.limits.length) {
        throw new TransferError("truncated", `the source sent ${head.byteLength} of the ${this.limits.length} bytes it declared`, true);
      }
      throw new TransferError(check.code, `the source's body is too short to hold ${check.what}`, false);
    }
    if (!check.matches(head)) throw new TransferError(check.code, `the source's body does not start with ${check.what}`, false);
  }

  /** Lower-case hex sha256 of every byte read; call after next() returned null. */
  async sha256(): Promise<string> {
    await this.digestWriter.close();
    return hex(await this.digest.digest);
  }

  /** Stops reading after a failure elsewhere (a refused write, say). */
  async cancel(reason: unknown): Promise<void> {
    await this.reader.cancel(reason).catch(() => {});
  }

  /**
   * A WAV whose data chunk says it is longer than the length the source declared is cut short:
   * known from the header already, before any byte goes to R2 (a fixed-length put would commit it).
   */
  private checkDeclaredWav(): void {
    const header = this.wavReader?.header();
    if (!header || this.limits.length === null) return;
    const cut = wavFacts(header, this.limits.length).truncatedAt;
    if (cut !== null) throw new TransferError("truncated", `the WAV's data chunk ends at byte ${cut}, but the source declares ${this.limits.length} bytes`, true);
  }

  private checkComplete(): void {
    // A WAV whose data chunk says it is longer than what arrived was cut short at the provider.
    const header = this.wavHeader();
    const cut = header ? wavFacts(header, this.total).truncatedAt : null;
    if (cut !== null) throw new TransferError("truncated", `the WAV's data chunk ends at byte ${cut}, but only ${this.total} bytes arrived`, true);
    if (this.total === 0) {
      if (this.limits.length !== null && this.limits.length > 0) {
        throw new TransferError("truncated", `the source sent 0 of the ${this.limits.length} bytes it declared`, true);
      }
      throw new TransferError(this.limits.check?.code ?? "empty", "the source sent an empty body", false);
    }
    if (this.limits.length !== null && this.total !== this.limits.length) {
      throw new TransferError("truncated", `the source sent ${this.total} of the ${this.limits.length} bytes it declared`, true);
    }
  }

  /**
   * Fills one block until it holds at least `min` bytes (or the body ends). Each network read
   * lands straight in the block's free part, and the idle timer restarts after every read that
   * brought bytes: it measures silence, not how long a slow but steady source takes to fill
   * `min`. JS runs once per network read; hashing and writing stay per block.
   */
  private async read(min: number): Promise<{ value: Uint8Array | null; done: boolean }> {
    let buffer = new ArrayBuffer(BLOCK_BYTES);
    let filled = 0;
    try {
      while (filled < min) {
        const { value, done } = await this.readOrStall(new Uint8Array(buffer, filled, BLOCK_BYTES - filled));
        if (value === undefined) {
          // Only a cancelled stream answers without handing the buffer back.
          if (filled > 0) throw new TransferError("source_interrupted", "the source's body was cancelled", true);
          return { value: null, done: true };
        }
        buffer = value.buffer as ArrayBuffer; // the read transferred it; this is the same memory
        filled += value.byteLength;
        if (done) return { value: filled > 0 ? new Uint8Array(buffer, 0, filled) : null, done: true };
      }
      return { value: new Uint8Array(buffer, 0, filled), done: false };
    } catch (err) {
      await this.cancel(err);
      if (err instanceof TransferError) throw err;
      throw new TransferError("source_interrupted", `reading the source failed: ${String(err)}`, true);
    }
  }

  /** One read, abandoned when the source sends nothing for the idle timeout. */
  private async readOrStall(view: Uint8Array): Promise<ReadableStreamReadResult<Uint8Array>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TransferError("source_stalled", `the source sent nothing for ${this.limits.idleTimeoutMs / 1000} s`, true),
          ),
        this.limits.idleTimeoutMs,
      );
    });
    try {
      return await Promise.race([this.reader.read(view), stalled]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** fetch() bodies are byte streams; a JS-made stream is first piped into one. */
function byobReader(body: ReadableStream<Uint8Array>): ReadableStreamBYOBReader {
  try {
    return body.getReader({ mode: "byob" });
  } catch {
    return body.pipeThrough(new IdentityTransformStream()).getReader({ mode: "byob" });
  }
}
