// What an announcement says (README, "Notifications"): a stable id per announcement and the
// JSON body `{"type", "timestamp", "data": <task JSON> [+ download links]}`.

import type { AnnouncementType } from "../task/notification";

/**
 * A new `webhook-id`: "msg_" + 32 hex digits. Made once per announcement and kept for every
 * attempt and redelivery of it, so the app can drop duplicates by id.
 */
export function newMessageId(): string {
  return `msg_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** A stored file's signed download link, as the announcement lists it. */
export interface AnnouncedFile {
  name: string;
  url: string;
  expiresAt: string;
}

export interface AnnouncementInput {
  type: AnnouncementType;
  /** When the task reached the state announced (epoch ms); the body's `timestamp`. */
  reachedAt: number;
  /** The task as the API shows it (TaskView), as it is when this attempt is sent. */
  task: object;
  /** A stored WAV task's link to its WAV (as /link makes it). expiresAt: ISO or epoch ms. */
  download?: { url: string; expiresAt: string | number };
  /** A link for each stored file (also in `.failed`, for the files that were stored). */
  files?: AnnouncedFile[];
}

/** The body of one attempt, as the exact string that is signed and sent. */
export function announcementBody(input: AnnouncementInput): string {
  if (input.download && input.type !== "wav.stored") {
    throw new Error("only a wav.stored announcement carries a task-level download link");
  }
  const data: Record<string, unknown> = { ...input.task };
  if (input.download) {
    data.downloadUrl = input.download.url;
    data.downloadExpiresAt = new Date(input.download.expiresAt).toISOString();
  }
  if (input.files && Array.isArray(data.files)) {
    // Each stored file gets its own link beside its other fields.
    const links = new Map(input.files.map((f) => [f.name, f]));
    data.files = (data.files as { name: string }[]).map((f) => {
      const link = links.get(f.name);
      return link ? { ...f, downloadUrl: link.url, downloadExpiresAt: new Date(link.expiresAt).toISOString() } : f;
    });
  }
  return JSON.stringify({ type: input.type, timestamp: new Date(input.reachedAt).toISOString(), data });
}
