// The answers of the JSON API as zod schemas, for the OpenAPI document (README, "API description").
// The requests are described by the very schemas that validate them (../routes/tasks.ts, the kinds'
// callback schemas); these describe what the handlers send. The type checks at the end keep them
// equal to the TypeScript types the handlers are written against (src/task/view.ts and friends),
// and the contract tests validate real answers against the document.

import { z } from "zod";
import { FILE_ROLES, KIND_NAMES } from "../kinds/kind";
import { FILE_STATES, TASK_STATES } from "../task/machine";
import type { FileView, TaskView } from "../task/view";

const Iso = z.string().meta({ format: "date-time", description: "ISO 8601, UTC" });

export const ErrorBody = z
  .strictObject({
    error: z.strictObject({
      code: z.string().meta({ description: "A machine word: not_found, invalid_query, unauthorized, rate_limited, …" }),
      message: z.string().meta({ description: "What happened and what to do, for a person" }),
    }),
  })
  .meta({ id: "Error", description: "Every error the worker answers (README, Routes)." });

export const ProviderErrorBody = z
  .strictObject({
    error: z.strictObject({
      code: z.literal("provider_error"),
      message: z.string(),
      providerCode: z.number().int().optional(),
      providerMsg: z.string().optional(),
    }),
  })
  .meta({ id: "ProviderError", description: "The provider refused or failed a submission; nothing was registered." });

const TaskErrorSchema = z.strictObject({ code: z.string(), message: z.string() }).meta({ id: "TaskError" });

const WavFormatSchema = z
  .strictObject({ sampleRate: z.number().int(), channels: z.number().int(), bitsPerSample: z.number().int(), durationSeconds: z.number() })
  .meta({ id: "WavFormat", description: "A stored WAV's facts, from its header." });

const StoredWav = z
  .strictObject({ key: z.string(), size: z.number().int(), sha256: z.string(), contentType: z.string(), format: WavFormatSchema.optional() })
  .meta({ id: "StoredWav" });

export const FileViewSchema = z
  .strictObject({
    name: z.string(),
    role: z.enum(FILE_ROLES),
    track: z.string().nullable().meta({ description: "The music track it belongs to, else null" }),
    state: z.enum(FILE_STATES),
    size: z.number().int().nullable(),
    sha256: z.string().nullable(),
    contentType: z.string(),
    key: z.string().meta({ description: "Its R2 key" }),
    error: TaskErrorSchema.nullable(),
    format: WavFormatSchema.optional(),
    waveform: z
      .union([z.strictObject({ available: z.literal(true) }), z.strictObject({ available: z.literal(false), reason: z.string() })])
      .optional()
      .meta({ description: "A stored WAV's waveform: at …/files/{name}/peaks, or why there is none" }),
  })
  .meta({ id: "File" });

export const TaskViewSchema = z
  .strictObject({
    taskId: z.string(),
    kind: z.enum(KIND_NAMES),
    state: z.enum(TASK_STATES),
    createdAt: Iso,
    updatedAt: Iso,
    attempts: z.number().int(),
    source: z.strictObject({ url: z.string() }).nullable().meta({ description: "A single-file task's source URL, without its query string" }),
    wav: StoredWav.nullable().meta({ description: "A stored wav task's WAV, else null" }),
    files: z.array(FileViewSchema),
    error: TaskErrorSchema.nullable(),
    nextAttemptAt: Iso.nullable(),
    music: z.strictObject({ taskId: z.string(), audioId: z.string() }).nullable(),
    notification: z.strictObject({
      state: z.enum(["off", "waiting", "pending", "delivered", "failed"]),
      attempts: z.number().int(),
      lastStatus: z.number().int().nullable(),
      nextAttemptAt: Iso.nullable(),
      deliveredAt: Iso.nullable(),
    }),
  })
  .meta({ id: "Task", description: "A task, as JSON (README, Routes)." });

export const TaskListSchema = z
  .strictObject({ tasks: z.array(TaskViewSchema), cursor: z.string().nullable().meta({ description: "Pass as ?cursor= for the next page; null on the last" }) })
  .meta({ id: "TaskList" });

export const LinkSchema = z
  .strictObject({ url: z.string().meta({ format: "uri" }), expiresAt: Iso })
  .meta({ id: "DownloadLink", description: "A signed download URL that works without the bearer token until it expires." });

export const HistoryEntrySchema = z
  .looseObject({ at: Iso, type: z.string() })
  .meta({ id: "HistoryEntry", description: "One step of a task's history; the other fields depend on its type (README, Notifications → History)." });

export const EventsSchema = z.strictObject({ events: z.array(HistoryEntrySchema) }).meta({ id: "Events" });

export const StatsSchema = z
  .strictObject({ counts: z.strictObject({ pending: z.number().int(), downloading: z.number().int(), stored: z.number().int(), failed: z.number().int() }) })
  .meta({ id: "Stats" });

export const BulkRetrySchema = z
  .strictObject({ retried: z.number().int(), remaining: z.number().int(), more: z.boolean() })
  .meta({ id: "BulkRetry", description: "remaining: tasks still failed; call again while more is true." });

export const HealthSchema = z.strictObject({ ok: z.literal(true) }).meta({ id: "Health" });

export const CallbackAckSchema = z.strictObject({ code: z.literal(200), msg: z.literal("success") }).meta({ id: "CallbackAck", description: "The provider's documented acknowledgement." });

export const PeaksSchema = z
  .strictObject({
    version: z.literal(2),
    channels: z.number().int(),
    sample_rate: z.number().int(),
    samples_per_pixel: z.number().int(),
    bits: z.literal(16),
    length: z.number().int(),
    data: z.array(z.number().int()).meta({ description: "min, max per channel per bucket" }),
  })
  .meta({ id: "Peaks", description: "A WAV's waveform in audiowaveform's JSON (version 2)." });

const count = z.number().int().min(0);
const isoTime = z.iso.datetime();

/** What GET /api/stats/charts answers (README, "Dashboard" → "Charts"). */
export const ChartsSchema = z.strictObject({
  generatedAt: isoTime,
  window: z.strictObject({
    from: isoTime.describe("start of the first hour counted (UTC)"),
    to: isoTime.describe("end of the current hour"),
    hours: z.literal(168),
    days: z.literal(7),
  }),
  hourly: z
    .array(z.strictObject({ hour: isoTime, stored: count, failed: count }))
    .describe("one entry per UTC hour of the last 7 days, oldest first: tasks that reached stored and failed in it"),
  totals: z.strictObject({ stored: count, failed: count }),
  durations: z.strictObject({
    note: z.string().describe("how the percentiles are read"),
    bucketsPerDoubling: z.number().int(),
    days: z
      .array(
        z.strictObject({
          day: z.iso.date(),
          stored: count,
          p50Seconds: z.number().nullable(),
          p95Seconds: z.number().nullable(),
        }),
      )
      .describe("one entry per UTC day, oldest first: time from registration (createdAt) to stored, from log-scale histogram buckets; null on a day without stored tasks"),
  }),
  failures: z.array(z.strictObject({ code: z.string(), count })).describe("tasks that reached failed in the window, by error code, most frequent first"),
  announcements: z.strictObject({
    deliveredFirstAttempt: count,
    deliveredAfterRetries: count,
    failed: count,
  }),
}).meta({ id: "Charts" });


/** How a search matched a task. */
export const SEARCH_FIELDS = ["taskId", "audioId", "track", "musicTaskId"] as const;

/** What GET /api/search answers. */
export const SearchSchema = z.strictObject({
  query: z.string(),
  results: z
    .array(
      z.strictObject({
        task: TaskViewSchema,
        matched: z
          .array(z.enum(SEARCH_FIELDS))
          .min(1)
          .describe("how q matched: the task's id, the audioId it was registered with, a track of this music task, the music task it was registered for"),
      }),
    )
    .describe("newest first"),
  more: z.boolean().describe("more tasks match than `limit`"),
}).meta({ id: "SearchResults" });


/** A stored file in an announcement: its own signed link beside its other fields. */
const AnnouncedFileSchema = FileViewSchema.extend({
  downloadUrl: z.string().optional().meta({ description: "Signed link valid 7 days (stored files only)" }),
  downloadExpiresAt: Iso.optional(),
}).meta({ id: "AnnouncedFile" });

export const AnnouncementSchema = z
  .strictObject({
    type: z.string().regex(/^(wav|music|stems|video|cover|midi|lyrics)\.(stored|failed)$/).meta({ description: "<kind>.stored or <kind>.failed" }),
    timestamp: Iso.meta({ description: "When the task reached its state" }),
    data: TaskViewSchema.extend({
      files: z.array(AnnouncedFileSchema),
      downloadUrl: z.string().optional().meta({ description: "wav.stored only: the WAV's signed link" }),
      downloadExpiresAt: Iso.optional(),
    }),
  })
  .meta({
    id: "Announcement",
    description:
      "POSTed to NOTIFY_URL, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature headers; README, Notifications). Answer 2xx; anything else is retried.",
  });

// The schemas above must describe exactly what the handlers send: each side must be assignable to the other.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameTask: Same<z.output<typeof TaskViewSchema>, TaskView> = true;
const sameFile: Same<z.output<typeof FileViewSchema>, FileView> = true;
void [sameTask, sameFile];
