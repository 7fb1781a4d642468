// What an announcement says (README, "Notifications"): a stable id per announcement and the
// JSON body `{"type", "timestamp", "data": <task JSON> [+ download link]}`.

import type { AnnouncementType } from "../task/notification";

/**
 * A new `webhook-id`: "msg_" + 32 hex digits. Made once per announcement and kept for every
 * attempt and redelivery of it, so the app can drop duplicates by id.
 */
export function newMessageId(): string {
  return `msg_${crypto.randomUUID().replaceAll("-", "")}`;
}

export interface AnnouncementInput {
  type: AnnouncementType;
  /** When the task reached the state announced (epoch ms); the body's `timestamp`. */
  reachedAt: number;
  /** The task as the API shows it, as it is when this attempt is sent. */
  task: object;
  /** For wav.stored: a signed link to the WAV (as /link makes it). expiresAt: ISO or epoch ms. */
  download?: { url: string; expiresAt: string | number };
}

/** The body of one attempt, as the exact string that is signed and sent. */
export function announcementBody(input: AnnouncementInput): string {
  if (input.download && input.type !== "wav.stored") {
    throw new Error("only a wav.stored announcement carries a download link");
  }
  const data: Record<string, unknown> = { ...input.task };
  if (input.download) {
    data.downloadUrl = input.download.url;
    data.downloadExpiresAt = new Date(input.download.expiresAt).toISOString();
  }
  return JSON.stringify({ type: input.type, timestamp: new Date(input.reachedAt).toISOString(), data });
}
