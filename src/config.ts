import { z } from "zod";
import { decodeBase64 } from "./lib/encoding";
import { issueText } from "./lib/issues";
import { MAX_UPLOAD_BYTES } from "./storage/layout";

// Every setting arrives as a string (wrangler [vars], secrets, .dev.vars); this module is the
// one place that turns them into typed values, so a typo fails loudly instead of silently.

/** An optional secret: unset and "" both mean "not configured". */
const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

const seconds = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? String(fallback) : v))
    .pipe(z.coerce.number<string>().int().positive());

/** A comma-separated `host[:port]` / `*.host[:port]` allowlist. */
const hostList = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const entries = (v ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== "");
    for (const entry of entries) {
      const why = hostEntryProblem(entry);
      if (why) ctx.addIssue({ code: "custom", message: `entry "${entry}" ${why}` });
    }
    return entries;
  });

/** Largest file accepted (MAX_WAV_BYTES, MAX_FILE_BYTES): at most what one multipart upload holds. */
const maxBytes = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? "2147483648" : v))
  .pipe(
    z.coerce
      .number<string>()
      .int()
      .positive()
      .max(MAX_UPLOAD_BYTES, `must be at most ${MAX_UPLOAD_BYTES} (what one multipart upload can hold)`),
  );

const ConfigSchema = z.object({
  SUNO_API_BASE: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? "https://api.sunoapi.org" : v.trim()))
    .pipe(z.url({ protocol: /^https?$/ }))
    .transform((v) => v.replace(/\/+$/, "")),
  SUNO_API_KEY: optionalSecret,
  WEBHOOK_HMAC_KEY: optionalSecret,
  CALLBACK_TOKEN: optionalSecret,
  API_TOKEN: optionalSecret,
  /** A second accepted API token, for rotating API_TOKEN without a gap (README, "Security"). */
  API_TOKEN_NEXT: optionalSecret,
  PUBLIC_URL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim().replace(/\/+$/, "")))
    .pipe(
      z
        .url({ protocol: /^https?$/ })
        .refine((u) => !/[?#]/.test(u), "must be an origin with an optional path, without ?query or #fragment")
        .optional(),
    ),
  WAV_SOURCE_HOSTS: hostList,
  /** The newer name of WAV_SOURCE_HOSTS (it applies to the files of every kind); both are read. */
  SOURCE_HOSTS: hostList,
  OVERDUE_AFTER_SECONDS: seconds(300),
  TASK_MAX_AGE_SECONDS: seconds(86_400),
  PROVIDER_RETENTION_SECONDS: seconds(1_123_200),
  // Known lengths above one R2 put's limit go through multipart (README, "Transfers"), so the
  // only hard bound is what a multipart upload of fixed-size parts can hold.
  MAX_WAV_BYTES: maxBytes,
  MAX_FILE_BYTES: maxBytes,
  NOTIFY_URL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()))
    .pipe(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional()),
  /**
   * Kept as the validated string `whsec_<base64>` (what Standard Webhooks libraries take), not
   * as decoded bytes; the value never appears in an error message.
   */
  NOTIFY_SECRET: optionalSecret.superRefine((v, ctx) => {
    const parsed = v === undefined ? null : parseNotifySecret(v);
    // The issue's path names the setting already.
    if (parsed && !parsed.ok) ctx.addIssue({ code: "custom", message: parsed.message.replace(/^NOTIFY_SECRET:?\s*/, "") });
  }),
  ALLOW_UNVERIFIED_CALLBACKS: z
    .string()
    .optional()
    .transform((v) => v?.trim().toLowerCase() === "true"),
  // Not in the provider contract: how long a source may send nothing before the attempt is
  // abandoned. Tests shorten it; production keeps the default.
  SOURCE_IDLE_TIMEOUT_SECONDS: seconds(30),
  // Whether a WAV's waveform is computed as it streams (README, "Waveforms").
  WAVEFORM_PEAKS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const t = (v ?? "").trim().toLowerCase();
      if (t === "" || t === "true") return true;
      if (t === "false") return false;
      ctx.addIssue({ code: "custom", message: 'must be "true" or "false"' });
      return true;
    }),
  // How long one invocation of a runner works before it goes on in a fresh one (README,
  // "Resumable transfers"): the platform allows 15 minutes per alarm.
  TRANSFER_SLICE_SECONDS: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? "600" : v))
    .pipe(z.coerce.number<string>().int("must be whole seconds").min(1, "must be at least 1").max(840, "must be at most 840 (an alarm may run 15 minutes)")),
})
  // Rules between settings; they run only once every setting parsed on its own.
  .transform(({ SOURCE_HOSTS, WAV_SOURCE_HOSTS, ...c }) => ({ ...c, WAV_SOURCE_HOSTS: [...new Set([...WAV_SOURCE_HOSTS, ...SOURCE_HOSTS])] }))
  .superRefine((c, ctx) => {
    if (c.TASK_MAX_AGE_SECONDS < c.OVERDUE_AFTER_SECONDS) {
      ctx.addIssue({
        code: "custom",
        path: ["TASK_MAX_AGE_SECONDS"],
        message: `must not be below OVERDUE_AFTER_SECONDS (${c.TASK_MAX_AGE_SECONDS} < ${c.OVERDUE_AFTER_SECONDS}): tasks would fail before they are ever polled`,
      });
    }
    if (c.NOTIFY_URL !== undefined && c.NOTIFY_SECRET === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["NOTIFY_SECRET"],
        message: "is required when NOTIFY_URL is set (wrangler secret put NOTIFY_SECRET, value whsec_<base64>)",
      });
    }
  });

/** Why a WAV_SOURCE_HOSTS entry is unusable, or null: `host[:port]` or `*.host[:port]` only. */
function hostEntryProblem(entry: string): string | null {
  if (/[/?#@\s]/.test(entry) || entry.includes("://")) {
    return "is not host[:port] or *.host[:port] (no scheme, path or spaces)";
  }
  const m = /^(\*\.)?(\[[0-9a-f:.]+\]|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?)(?::(\d{1,5}))?$/.exec(entry);
  if (!m) return "is not host[:port] or *.host[:port]";
  if (m[1] && m[2]!.startsWith("[")) return "puts a wildcard on an IP address";
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65_535)) return "has a port outside 1-65535";
  return null;
}

const NOTIFY_SECRET_PREFIX = "whsec_";
const NOTIFY_SECRET_MIN_BYTES = 24;
const NOTIFY_SECRET_MAX_BYTES = 64;

export type ParsedNotifySecret = { ok: true; key: Uint8Array } | { ok: false; message: string };

// Padded standard base64 only: that is what the Standard Webhooks libraries decode (no
// base64url, no whitespace inside), so a secret we accept is one the user's app accepts too.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The signing key inside a NOTIFY_SECRET ("whsec_" + base64 of 24–64 bytes), or why it is
 * unusable. The message names the setting, never its value; surrounding whitespace (a trailing
 * newline from `wrangler secret put`) is ignored.
 */
export function parseNotifySecret(secret: string): ParsedNotifySecret {
  const s = secret.trim();
  if (!s.startsWith(NOTIFY_SECRET_PREFIX)) {
    return { ok: false, message: `NOTIFY_SECRET must start with "${NOTIFY_SECRET_PREFIX}" (make one with: echo "whsec_$(openssl rand -base64 32)")` };
  }
  const b64 = s.slice(NOTIFY_SECRET_PREFIX.length);
  if (b64 === "" || !BASE64.test(b64)) {
    return { ok: false, message: `NOTIFY_SECRET: the part after "${NOTIFY_SECRET_PREFIX}" must be standard base64 (A–Z a–z 0–9 + /, padded with =)` };
  }
  const key = decodeBase64(b64);
  if (key.length < NOTIFY_SECRET_MIN_BYTES || key.length > NOTIFY_SECRET_MAX_BYTES) {
    return {
      ok: false,
      message: `NOTIFY_SECRET must decode to ${NOTIFY_SECRET_MIN_BYTES}–${NOTIFY_SECRET_MAX_BYTES} bytes, not ${key.length}`,
    };
  }
  return { ok: true, key };
}

export type Config = z.output<typeof ConfigSchema>;

/** Thrown when the deployment's settings are unusable; answered as a 500 naming the setting. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const cache = new WeakMap<object, Config>();

/** Parses (once per env object) and validates the Worker's settings. */
export function readConfig(env: object): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(issueText).join("; ");
    throw new ConfigError(`invalid configuration: ${issues}`);
  }
  cache.set(env, parsed.data);
  return parsed.data;
}

/**
 * An absolute URL for one of this worker's paths: under PUBLIC_URL, keeping any path it has
 * (`https://example.com/wav-edge` + `/callbacks/wav`), else under the request's own origin.
 */
export function publicUrl(config: Config, requestUrl: string, path: string): URL {
  const base = config.PUBLIC_URL ?? new URL(requestUrl).origin;
  return new URL(`${base}${path}`);
}
