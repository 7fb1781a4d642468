// What each route of the JSON API, the callbacks and the downloads answers, for the OpenAPI
// document (README, "API description"). Each is a hono-openapi describeRoute middleware that the
// route itself carries, so a route and its description sit side by side; the request schemas come
// from the code that validates them (the route's validator middleware, or the body schema passed
// in here), the answers from ./schemas.ts.

import type { StandardSchemaV1 } from "@standard-schema/spec";
import { describeRoute, resolver } from "hono-openapi";
import type { OpenAPIV3_1 } from "openapi-types";
import type { Kind } from "../kinds/kind";
import {
  BulkRetrySchema,
  CallbackAckSchema,
  ChartsSchema,
  ErrorBody,
  EventsSchema,
  HealthSchema,
  LinkSchema,
  PeaksSchema,
  ProviderErrorBody,
  SearchSchema,
  StatsSchema,
  TaskListSchema,
  TaskViewSchema,
} from "./schemas";

type Responses = NonNullable<Parameters<typeof describeRoute>[0]["responses"]>;
type Headers = Record<string, OpenAPIV3_1.HeaderObject>;

/** An answer's schema describes what is sent: zod's output side. */
const json = (schema: StandardSchemaV1, description: string, headers?: Headers) => ({
  description,
  content: { "application/json": { schema: resolver(schema, { options: { io: "output" } }) } },
  ...(headers ? { headers } : {}),
});
const error = (description: string, headers?: Headers) => json(ErrorBody, description, headers);

const RETRY_AFTER: Headers = { "Retry-After": { description: "Seconds until the current window ends.", schema: { type: "integer", minimum: 1 } } };
const WWW_AUTHENTICATE: Headers = { "WWW-Authenticate": { description: "Bearer …", schema: { type: "string" } } };

/** Every route behind the bearer token answers these besides its own. */
const BEARER_ERRORS: Responses = {
  401: error("unauthorized: the Authorization header is missing, malformed or not an accepted token (API_TOKEN or API_TOKEN_NEXT).", WWW_AUTHENTICATE),
  429: error("rate_limited: too many requests without a valid token from this address; try again after Retry-After seconds (README, Security → Rate limits).", RETRY_AFTER),
  500: error("misconfigured (a setting is unusable; the message names it) or internal."),
  503: error("api_token_not_configured: the API is closed until API_TOKEN is set."),
};

const BAD_TASK_ID = error("invalid_task_id: a task id is 1–128 of A–Z a–z 0–9 _ -.");
const BAD_TASK_ID_OR_QUERY = error("invalid_task_id, or invalid_query naming the parameter.");
const UNKNOWN_TASK = error("not_found: no such task; deleted: the task was deleted (PUT registers it again).");

type Security = OpenAPIV3_1.SecurityRequirementObject[];
const BEARER: Security = [{ bearerAuth: [] }];
const BEARER_OR_LINK: Security = [{ bearerAuth: [] }, { signedLink: [] }];

function op(spec: {
  operationId: string | ((route: { method: string }) => string);
  summary: string;
  description?: string;
  tags: string[];
  security?: OpenAPIV3_1.SecurityRequirementObject[];
  responses: Responses;
  requestBody?: Parameters<typeof describeRoute>[0]["requestBody"];
  parameters?: OpenAPIV3_1.ParameterObject[];
}) {
  const security = spec.security ?? BEARER;
  const auth = security.length > 0 ? BEARER_ERRORS : {};
  return describeRoute({ ...spec, security, responses: { ...auth, ...spec.responses } });
}

const jsonBody = (schema: StandardSchemaV1, required: boolean, description: string) => ({
  required,
  description,
  content: { "application/json": { schema: resolver(schema) } },
});

/** A stored file's bytes: every download route answers the same way. */
function download(operationId: string, summary: string, description: string) {
  return op({
    // GET and HEAD share the route: each operation needs an id of its own.
    operationId: (route) => (route.method === "HEAD" ? `${operationId}Head` : operationId),
    summary,
    description: `${description} Bearer token, or a signed link's ?expires=&sig= (from the link routes or an announcement).`,
    tags: ["Downloads"],
    security: BEARER_OR_LINK,
    parameters: [
      { in: "query", name: "expires", required: false, schema: { type: "string" }, description: "A signed link's expiry (unix seconds)" },
      { in: "header", name: "Range", required: false, schema: { type: "string" }, description: "bytes=<start>-[<end>]: answered 206" },
    ],
    responses: {
      200: {
        description: "The file, with Content-Type, Content-Length, ETag, Accept-Ranges: bytes and Content-Disposition: attachment.",
        content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } },
      },
      206: { description: "The range asked for, with Content-Range.", content: { "application/octet-stream": { schema: { type: "string" } } } },
      304: { description: "If-None-Match matched the ETag." },
      400: BAD_TASK_ID,
      403: error("invalid_link: the signed link is expired or altered."),
      404: error("not_found: no such task or file; deleted; not_stored: the file is not stored (yet)."),
      412: { description: "If-Match did not match." },
      416: error("The Range starts past the end; Content-Range: bytes */<size>.", { "Content-Range": { schema: { type: "string" } } }),
    },
  });
}

export const docs = {
  wav: download("downloadWav", "Download a wav task's WAV", "A stored `wav` task's WAV, as /files/<taskId>.wav serves it, with filename <taskId>.wav."),
  file: download("downloadFile", "Download one of a task's files", "One stored file of the task from R2; a stored file stays downloadable when a sibling failed."),

  bulkRetry: op({
    operationId: "retryFailedTasks",
    summary: "Another go for every failed task",
    description: "Bounded work per call: each of the 32 shards reopens at most 20 failed tasks. Call again while `more` is true.",
    tags: ["Tasks"],
    responses: { 202: json(BulkRetrySchema, "Retried this round."), 400: error("invalid_query: state must be failed.") },
  }),

  submit: (body: StandardSchemaV1) =>
    op({
      operationId: "submitWav",
      summary: "Submit a WAV conversion to the provider",
      description: "The worker passes its own callBackUrl. The same pair again answers 200 with the task made for it (unless it failed).",
      tags: ["Tasks"],
      requestBody: jsonBody(body, true, "The music task and track to convert."),
      responses: {
        200: json(TaskViewSchema, "Already submitted: the task made for this pair."),
        202: json(TaskViewSchema, "Submitted and registered."),
        400: error("malformed_json, or invalid_body naming the field."),
        409: error("kind_mismatch: the provider's task id is known as another kind."),
        413: error("payload_too_large: over 16 KiB."),
        415: error("unsupported_media_type: send Content-Type: application/json."),
        502: json(ProviderErrorBody, "provider_error: the provider refused or failed; nothing registered."),
      },
    }),

  register: (body: StandardSchemaV1) =>
    op({
      operationId: "registerTask",
      summary: "Register a task submitted elsewhere",
      description: "So the cron polls its kind's record-info if its callback is lost. The body is optional (default kind wav). Registers a deleted id anew.",
      tags: ["Tasks"],
      requestBody: jsonBody(body, false, "Optional: the kind, and the track it belongs to (musicTaskId and audioId together)."),
      responses: {
        200: json(TaskViewSchema, "Known already (unchanged)."),
        201: json(TaskViewSchema, "Registered."),
        400: error("invalid_task_id, malformed_json, or invalid_body naming the field."),
        409: error("kind_mismatch: known as a task of another kind."),
        413: error("payload_too_large: over 16 KiB."),
      },
    }),

  list: op({
    operationId: "listTasks",
    summary: "List tasks, newest first",
    tags: ["Tasks"],
    responses: { 200: json(TaskListSchema, "A page of tasks."), 400: error("invalid_query naming the parameter (a cursor this API did not return, say).") },
  }),

  get: op({
    operationId: "getTask",
    summary: "Read a task",
    tags: ["Tasks"],
    responses: { 200: json(TaskViewSchema, "The task."), 400: BAD_TASK_ID, 404: UNKNOWN_TASK },
  }),

  delete: op({
    operationId: "deleteTask",
    summary: "Delete a task, its history and its files",
    description: "204 as soon as the task is gone from the API; its files are removed from R2 in the background. The id is remembered as deleted.",
    tags: ["Tasks"],
    responses: { 204: { description: "Deleted." }, 400: BAD_TASK_ID, 404: UNKNOWN_TASK },
  }),

  wavLink: op({
    operationId: "linkWav",
    summary: "A signed download link for a wav task's WAV",
    tags: ["Downloads"],
    responses: {
      200: json(LinkSchema, "Valid for ttl seconds."),
      400: BAD_TASK_ID_OR_QUERY,
      404: error("not_found, deleted, or not_stored: no WAV stored (or a task of another kind)."),
    },
  }),

  peaks: op({
    operationId: "getPeaks",
    summary: "A stored WAV's waveform",
    description: "audiowaveform's JSON, kept beside the file (README, Waveforms).",
    tags: ["Downloads"],
    responses: {
      200: json(PeaksSchema, "The peaks."),
      400: BAD_TASK_ID,
      404: error("not_found, deleted, not_stored, or no_waveform (not a WAV, or why the WAV has none)."),
    },
  }),

  fileLink: op({
    operationId: "linkFile",
    summary: "A signed download link for one of a task's files",
    tags: ["Downloads"],
    responses: {
      200: json(LinkSchema, "Valid for ttl seconds."),
      400: BAD_TASK_ID_OR_QUERY,
      404: error("not_found (no such task or file), deleted, or not_stored."),
    },
  }),

  events: op({
    operationId: "getTaskEvents",
    summary: "A task's history, oldest first",
    tags: ["Tasks"],
    responses: { 200: json(EventsSchema, "The history."), 400: BAD_TASK_ID, 404: UNKNOWN_TASK },
  }),

  retry: op({
    operationId: "retryTask",
    summary: "Another go now for a task",
    tags: ["Tasks"],
    responses: {
      202: json(TaskViewSchema, "Retried: the task as it is now."),
      400: BAD_TASK_ID,
      404: UNKNOWN_TASK,
      409: error("already_stored: there is nothing to retry."),
    },
  }),

  notify: op({
    operationId: "redeliverAnnouncement",
    summary: "Send the latest announcement again",
    description: "Same webhook-id as before (README, Notifications).",
    tags: ["Tasks"],
    responses: {
      202: json(TaskViewSchema, "Queued: the task as it is now."),
      400: BAD_TASK_ID,
      404: UNKNOWN_TASK,
      409: error("notifications_off: NOTIFY_URL is not set; not_final: the task is not stored or failed yet."),
    },
  }),

  stats: op({
    operationId: "getStats",
    summary: "How many tasks are in each state",
    tags: ["Tasks"],
    responses: { 200: json(StatsSchema, "Counts over every shard.") },
  }),

  charts: op({
    operationId: "getCharts",
    summary: "The overview's charts: the last 7 days",
    description:
      "Tasks stored and failed per hour, time to stored per day (percentiles read from log-scale histogram buckets), failures by code and announcement delivery — from every shard's small counters, never from the tasks (README, Dashboard → Charts). No query: the window is fixed.",
    tags: ["Tasks"],
    responses: { 200: json(ChartsSchema, "The last 168 hours and 7 days, oldest first.") },
  }),

  search: op({
    operationId: "searchTasks",
    summary: "Find tasks by a task id, a track id or a music task id",
    description:
      "Matches a task's id, the audioId it was registered with, a track of a music task, or the music task id it was registered for; every shard answers from its indexes. Newest first.",
    tags: ["Tasks"],
    responses: { 200: json(SearchSchema, "The matching tasks."), 400: error("invalid_query, naming the parameter.") },
  }),

  healthz: op({
    operationId: "healthz",
    summary: "Health",
    tags: ["Service"],
    security: [],
    responses: {
      200: json(HealthSchema, "Up, with usable settings."),
      503: error("misconfigured: a setting cannot be used (the dashboard's settings page says which)."),
    },
  }),

  openapi: op({
    operationId: "openapi",
    summary: "This document",
    tags: ["Service"],
    security: [],
    responses: { 200: { description: "OpenAPI 3.1, JSON.", content: { "application/json": { schema: { type: "object" } } } } },
  }),

  callback: (kind: Kind, body: StandardSchemaV1) =>
    op({
      operationId: `callback${kind.name[0]!.toUpperCase()}${kind.name.slice(1)}`,
      summary: `The provider's ${kind.name} callback`,
      description:
        `Give the provider https://<worker>/callbacks/${kind.name} (with ?token=<CALLBACK_TOKEN> when one is set) as callBackUrl. ` +
        "Answered once the task's shard has recorded it; the files are fetched later. With WEBHOOK_HMAC_KEY, X-Webhook-Timestamp must be within 300 s " +
        "and X-Webhook-Signature = base64(HMAC-SHA256(key, `<task_id>.<timestamp>`)).",
      tags: ["Callbacks"],
      security: [{ webhookSignature: [], webhookTimestamp: [] }, { callbackToken: [] }, { webhookSignature: [], webhookTimestamp: [], callbackToken: [] }],
      requestBody: jsonBody(body, true, `A documented ${kind.name} callback of the provider (success or failure shape).`),
      responses: {
        200: json(CallbackAckSchema, "Recorded durably (also for a duplicate, or a deleted task's late callback)."),
        400: error("malformed_json, a missing task id, or not a documented callback of this kind (the message names the field)."),
        401: error("A bad or stale signature, or a wrong ?token=."),
        409: error("signature_reused: these signature headers already came with another result; kind_mismatch: the task is another kind."),
        413: error(`payload_too_large: over ${kind.maxCallbackBytes} bytes.`),
        415: error("unsupported_media_type: not JSON."),
        500: error("internal."),
        503: error("No verification is configured (neither WEBHOOK_HMAC_KEY nor CALLBACK_TOKEN, and unverified callbacks not allowed)."),
      },
    }),
};
