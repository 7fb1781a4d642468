/** A transfer attempt that did not store the WAV; `retryable` decides between retry and failed. */
export class TransferError extends Error {
  override name = "TransferError";
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}
