/**
 * A transfer attempt that did not store its file; `retryable` decides between retry and failed,
 * and `refreshUrl` asks for a current link from record-info first (an expired or moved link).
 */
export class TransferError extends Error {
  override name = "TransferError";
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    readonly refreshUrl = false,
  ) {
    super(message);
  }
}
